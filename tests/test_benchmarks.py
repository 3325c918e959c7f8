"""Smoke tests of the benchmark tools (fast: no embedding model run, no store): the corpus generator and the
reproduced peer set-ups."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

BENCH = Path(__file__).resolve().parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

import gen_corpus  # noqa: E402
import peers  # noqa: E402

REAL_ZONES = {"长治高新区", "×高新区", "常德经开区", "长沙经开区", "XX区"}


@pytest.fixture(scope="module")
def docs():
    return peers.clean_docs()


def test_generator_makes_n_documents_with_unique_evidence(tmp_path, dev_eval_path, dev_items):
    info = gen_corpus.generate(tmp_path, n=9, seed=3, dev=dev_eval_path)
    files = sorted(tmp_path.glob("*.txt"))
    assert len(files) == 9 and info["files"] == 9
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    assert set(manifest) == {p.name for p in files}
    generated = [p for p in files if p.name[:3] >= "100"]
    assert len(generated) == 4
    guard = gen_corpus.EvidenceGuard(dev_items)
    questions = " ".join(it["question"] for it in dev_items)
    for p in generated:
        text = p.read_text("utf-8")
        meta = manifest[p.name]
        assert meta["zone"] not in REAL_ZONES and meta["city"] not in questions
        assert "×" not in text and "XX" not in text  # masked names are never reused
        for place in ("长治", "常德", "长沙"):
            assert place not in text
        assert not any(guard.hits(line) for line in text.split("\n") if line)
        assert len(text) > 1000
    # the same inputs give the same texts (the embedding cache relies on it)
    again = tmp_path / "again"
    gen_corpus.generate(again, n=9, seed=3, dev=dev_eval_path)
    assert all((again / p.name).read_text("utf-8") == p.read_text("utf-8") for p in generated)


def test_generated_documents_load_with_their_manifest(tmp_path, dev_eval_path):
    from assistant.loading import load_document

    gen_corpus.generate(tmp_path, n=7, dev=dev_eval_path)
    manifest = json.loads((tmp_path / "manifest.json").read_text("utf-8"))
    for name, meta in manifest.items():
        if name[:3] >= "100":
            doc = load_document(tmp_path / name, meta)
            assert doc.meta["zone"] == meta["zone"] and len(doc.text) > 500


def test_evidence_guard_matches_the_eval_rule(dev_items):
    guard = gen_corpus.EvidenceGuard(dev_items)
    ev = next(e for it in dev_items for e in it.get("evidence") or [] if len(e) > 20)
    assert guard.hits("前文。" + ev + "后文。")
    assert guard.hits(ev[: int(len(ev) * 0.7)])  # 70% of it as one run: a hit by the 60% rule
    assert not guard.hits("完全无关的一句话，说的是别的事情。")


def test_peer_chunkers_respect_their_sizes(docs):
    text = max(docs, key=lambda d: len(d.text)).text
    cc = peers.chatchat_split(text)
    assert cc and max(len(c) for c in cc) <= 750 and len(cc) >= len(text) // 750
    ow = peers.openwebui_split(text)
    assert ow and max(len(c) for c in ow) <= 1000
    rf = peers.ragflow_split(text, 100, count=len)
    for c in rf[:-1]:  # RAGFlow closes a chunk once it has passed the budget: at most one sentence over
        sentences = [s for s in peers._RAGFLOW_DELIMS.split(c)]
        assert len(c) > 100 and len(c) - max(len(s) for s in sentences) <= 100 + 2
    tokens = [peers.e5_token_count(c) for c in peers.ragflow_split(text)]
    assert len(tokens) > 1 and all(t > 450 for t in tokens[:-1])  # closed once past 512 (counted by sentence)


class _StubVectors:
    """Deterministic unit vectors by text: the ranking code without the model."""

    model_id = "stub"

    def _vec(self, text: str) -> np.ndarray:
        rng = np.random.default_rng(abs(hash(text)) % (2 ** 32))
        v = rng.standard_normal(16).astype(np.float32)
        return v / np.linalg.norm(v)

    def passages(self, texts):
        return np.stack([self._vec(t) for t in texts])

    def query(self, text):
        return self._vec(text)


@pytest.mark.parametrize("cls", peers.PEERS, ids=lambda c: c.name)
def test_peers_rank_ten_passages_of_the_corpus(cls, docs):
    peer = cls(docs, _StubVectors())
    hits = peer.search("长治高新区2017年营业收入是多少?", 10)
    assert len(hits) == 10 and len({h.text for h in hits}) == 10
    assert {h.doc for h in hits} <= {d.name for d in docs}
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))
    if cls is peers.RagflowPeer:  # the keyword side finds the figure
        assert any("358.26" in h.text for h in hits[:3])


def test_e5_arithmetic():
    import speed

    p = speed.e5_params()
    assert 21.0e6 < p["non_embedding"] < 21.5e6
    assert speed.flops_per_token(0) == 2 * p["non_embedding"]


# ------------------------------------------------------------------------------------------ quality.py

_DOC_A = """青禾经开区2023年工作总结

2023年，青禾经开区坚持项目为王，经济运行稳中有进。
一、主要经济指标
全年实现地区生产总值212.4亿元，同比增长7.8%。规模以上工业增加值增长9.1%。
新签约亿元以上项目23个，总投资186亿元。
二、科技创新
新增高新技术企业17家，总数达到64家。建成省级研发平台5个。
三、2024年工作打算
重点推进新材料产业园二期建设，力争全年固定资产投资增长10%以上。
"""

_DOC_B = """白川高新区党工委书记在2022年务虚会上的讲话

同志们：
第一，稳住工业基本盘。去年全区规上工业产值突破300亿元，电子信息产业占比达到41%。
第二，抓好招商引资。全年引进亿元以上项目15个，其中外资项目3个。
第三，优化营商环境。企业开办时间压缩至0.5个工作日，审批事项全部实现网上办理。
"""


def test_quality_runs_on_any_folder_and_eval_file(tmp_path, shared_cache, monkeypatch, capsys):
    """quality.py on a two-document folder of its own: the project and the three peers are scored, and an
    item naming a document that is not in the folder is counted and skipped."""
    import quality

    monkeypatch.setattr(peers, "BENCH_CACHE", shared_cache)  # the session's embedding cache, not ~/.cache
    corpus = tmp_path / "docs"
    corpus.mkdir()
    (corpus / "青禾经开区2023年工作总结.txt").write_text(_DOC_A, "utf-8")
    (corpus / "白川高新区务虚会讲话.md").write_text(_DOC_B, "utf-8")
    (corpus / "manifest.json").write_text(json.dumps({"白川高新区务虚会讲话.md": {"zone": "白川高新区"}},
                                                     ensure_ascii=False), "utf-8")
    (corpus / "notes.xyz").write_text("不支持的类型", "utf-8")  # left out, like `assistant ingest DIR` would
    items = [
        {"id": "t-1", "type": "fact", "question": "青禾经开区2023年地区生产总值是多少？",
         "doc": "青禾经开区2023年工作总结.txt", "evidence": ["全年实现地区生产总值212.4亿元，同比增长7.8%"],
         "answer_keywords": ["212.4亿元"], "history": []},
        {"id": "t-2", "type": "fact", "question": "白川高新区企业开办时间压缩到多少？",
         "doc": "白川高新区务虚会讲话.md", "evidence": ["企业开办时间压缩至0.5个工作日"],
         "answer_keywords": ["0.5个工作日"], "history": []},
        {"id": "t-3", "type": "fact", "question": "绿洲开发区有多少家高新技术企业？",
         "doc": "不在语料里的文件.txt", "evidence": ["新增高新技术企业9家"], "answer_keywords": ["9家"], "history": []},
    ]
    eval_file = tmp_path / "mini.jsonl"
    eval_file.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in items), "utf-8")
    out = tmp_path / "quality.json"

    rc = quality.main(["--corpus", str(corpus), "--eval", str(eval_file), "--quick", "--json", str(out)])
    assert rc == 0  # with --corpus the verdict never fails the run
    printed = capsys.readouterr().out
    assert "Corpus: 2 documents" in printed and "1 skipped (document not in the corpus)" in printed
    assert "**this project**" in printed and all(cls.label in printed for cls in peers.PEERS)
    assert "verdict mini.jsonl: project at or above the best peer on hit@5 and MRR@10:" in printed

    res = json.loads(out.read_text("utf-8"))
    assert sorted(res["corpus"]["documents"]) == sorted(["青禾经开区2023年工作总结.txt", "白川高新区务虚会讲话.md"])
    ev = res["evals"]["mini.jsonl"]
    assert ev["n_items"] == 3 and ev["kept"] == 2
    assert ev["skipped"] == [{"id": "t-3", "missing": ["不在语料里的文件.txt"]}]
    assert set(ev["setups"]) == {"project", "chatchat", "ragflow", "openwebui"}
    for name, setup in ev["setups"].items():
        s = setup["retrieval"]["summary"]
        assert s["items"] == 2, name
        assert all(0.0 <= s[k] <= 1.0 for k in quality.KEYS), (name, s)
        assert {r["id"] for r in setup["retrieval"]["items"]} == {"t-1", "t-2"}
    assert ev["setups"]["project"]["retrieval"]["summary"]["hit@5"] == 1.0  # two documents: both found
    assert "answers" not in ev["setups"]["project"]  # --quick
