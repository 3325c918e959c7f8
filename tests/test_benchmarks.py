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
