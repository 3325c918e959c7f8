"""Crash safety of keyword-first ingest: SIGKILL between and inside its two phases.

Phase 1 (`Store.ingest(wait=False)`) commits passages without vectors, the registry record and the keyword
index; phase 2 (`Store.fill_vectors`) embeds and moves the passages in batches. A child process is killed at
each named step of both (assistant.config.fault_point); then a new process (a restart) checks:

- every document is registered and wholly v1 or wholly v2 (registry text, passages = that version's chunks);
- no passage is seen twice (a passage may sit in both collections after a kill inside a move);
- a keyword search finds the current version's marker and never the other's, with or without vectors;
- dense search returns only passages that have real vectors;
- `doctor()` completes what the kill left (orphans, keyword index, the missing vectors), after which
  `doctor(repair=False)` finds nothing, every document is marked ready and holds all its vectors.

The ingesting child has an empty embedding cache of its own, so that its passages really wait for vectors;
the filler and the checker use the session cache, where `versions` put every vector, so filling costs no
model time.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys

import pytest

from reliability_kit import child_env, no_traceback, record
from synthetic import MARK_V1, MARK_V2, NAMES

pytestmark = pytest.mark.slow

INGEST = r"""
import json, os, sys
import assistant.store
from assistant.config import Settings
from assistant.store import Store
assistant.store._DOCS_PER_COMMIT = int(os.environ.get("CRASH_DOCS_PER_COMMIT") or assistant.store._DOCS_PER_COMMIT)
store = Store(Settings.from_env())
report = store.ingest(json.loads(sys.argv[1]), wait=sys.argv[2] == "wait")
print("DONE", json.dumps([[r.name, r.status, r.reason] for r in report.results]), flush=True)
"""

FILL = r"""
import assistant.store
from assistant.config import Settings
from assistant.store import Store
assistant.store._FILL_BATCH = 4  # several batches, so that a kill lands between them
print("FILLED", Store(Settings.from_env()).fill_vectors(), flush=True)
"""

CHECK = r"""
import contextlib, io, json, sys
from assistant.chunking import chunk
from assistant.cli import main as cli_main
from assistant.config import Settings
from assistant.retrieval import HybridRetriever
from assistant.store import Store

marks = json.loads(sys.argv[1])  # name -> [v1 marker, v2 marker]
store = Store(Settings.from_env())
out = {"docs": {}, "search": {}}
docs = store.documents(max_age=0)
ids, texts, metas = store.active_passages(docs)
out["unique"] = len(ids) == len(set(ids))
out["pending_before"] = store.vector_progress(max_age=0)["pending"]
main_ids = set(store._passages.get(include=[])["ids"])
for name, meta in docs.items():
    text = store.document_text(name)
    mine = sorted((m["start"], m["end"], t) for t, m in zip(texts, metas) if m["doc"] == name)
    out["docs"][name] = {"text": text, "passages_are_the_chunks":
                         mine == sorted((p.start, p.end, p.text) for p in chunk(text))}
retriever = HybridRetriever(store=store, k=5)
for name, (m1, m2) in marks.items():
    hits = retriever.search(m1 + " " + m2, k=8)
    out["search"][name] = {"v1": any(h.doc == name and m1 in h.text for h in hits),
                           "v2": any(h.doc == name and m2 in h.text for h in hits),
                           "unique": len({h.id for h in hits}) == len(hits)}
    out["dense_only_real"] = all(pid in main_ids for pid, _ in store.dense_search(m1 + m2, 30, None))
index = store.keyword_index()
out["keyword_ok"] = index.fingerprint == store.fingerprint() and sorted(index.ids) == sorted(ids)
out["check_findings"] = store.doctor(repair=False)
out["repair_findings"] = store.doctor()
out["after_repair"] = store.doctor(repair=False)
docs = store.documents(max_age=0)
out["ready"] = all(m["vectors"] == "ready" for m in docs.values())
with_vectors = store._passages.get(include=["metadatas"])["metadatas"]
out["vectors_complete"] = all(
    sum(1 for m in with_vectors if m["doc"] == n and m["doc_hash"] == meta["doc_hash"]) == meta["n_passages"]
    for n, meta in docs.items())
out["pending_after"] = store.vector_progress(max_age=0)["pending"]
out["unembedded_left"] = store._unembedded.count()
with contextlib.redirect_stdout(io.StringIO()) as buf:
    out["cli_check_rc"] = cli_main(["doctor", "--check"])
print(json.dumps(out, ensure_ascii=False))
"""

# (phase, step, documents per commit): the n-th time a step is passed in that run
STEPS = [
    ("ingest", "passages_upserted:1", "1"),   # a version's passages written, not registered
    ("ingest", "registry_upserted:2", "1"),   # two documents switched, their keyword index not yet saved
    ("ingest", "old_deleted:3", "1"),         # the third replaced version's passages deleted
    ("ingest", "keyword_tmp_written", ""),    # everything committed; the keyword index written, not swapped in
    ("ingest", "keyword_swapped_out", ""),    # ... the old index moved aside, the new not yet in place
    ("fill", "vectors_embedded:2", ""),       # a batch embedded, nothing written
    ("fill", "vectors_upserted:1", ""),       # a batch's vectors written, the passages still in __pending too
    ("fill", "vectors_upserted:3", ""),
    ("fill", "vectors_moved:2", ""),          # two batches moved, their documents not yet marked ready
]


def _run(script: str, args: list[str], env: dict) -> tuple[int, str]:
    proc = subprocess.run([sys.executable, "-c", script, *args], env=env, capture_output=True, text=True,
                          timeout=300)
    no_traceback(proc.stderr)
    return proc.returncode, proc.stdout


def _texts(folder) -> dict[str, str]:
    from assistant.loading import load_document

    return {p.name: load_document(p).text for p in sorted(folder.iterdir())}


@pytest.mark.parametrize("phase,step,per_commit", STEPS, ids=[f"{p}-{s}" for p, s, _ in STEPS])
def test_sigkill_in_keyword_first_ingest(phase, step, per_commit, tmp_path, versions, shared_cache):
    v1, v2 = versions
    texts = {1: _texts(v1), 2: _texts(v2)}
    home = tmp_path / "kf-home"
    env = child_env(home, shared_cache)
    cold = {**env, "ASSISTANT_CACHE_DIR": str(tmp_path / "cold-cache")}  # the ingest child finds no vector
    # start: v1 of every document, with its vectors; then v2 of every document, keyword first
    rc, out = _run(INGEST, [json.dumps([str(v1 / n) for n in NAMES]), "wait"], env)
    assert rc == 0 and "DONE" in out, out
    paths = json.dumps([str(v2 / n) for n in NAMES])
    if phase == "ingest":
        rc, out = _run(INGEST, [paths, "nowait"], {**cold, "ASSISTANT_FAULT_AFTER": step,
                                                  "CRASH_DOCS_PER_COMMIT": per_commit})
    else:
        rc, out = _run(INGEST, [paths, "nowait"], cold)
        assert rc == 0 and "DONE" in out, out
        rc, out = _run(FILL, [], {**env, "ASSISTANT_FAULT_AFTER": step})
    assert rc == -signal.SIGKILL, (rc, out)
    record("keyword-first: processes killed with SIGKILL")

    marks = {n: [MARK_V1[i], MARK_V2[i]] for i, n in enumerate(NAMES)}
    rc, out = _run(CHECK, [json.dumps(marks, ensure_ascii=False)], env)
    assert rc == 0, out
    res = json.loads(out.strip().splitlines()[-1])
    assert res["unique"], res
    for name in NAMES:
        doc = res["docs"].get(name)
        assert doc is not None, f"{name} lost"
        version = next((v for v in (1, 2) if doc["text"] == texts[v][name]), None)
        assert version is not None and doc["passages_are_the_chunks"], (name, doc)
        found = res["search"][name]
        assert found[f"v{version}"] and not found[f"v{3 - version}"] and found["unique"], (name, found)
        if phase == "fill":
            assert version == 2  # the ingest had finished
    assert res["dense_only_real"] and res["keyword_ok"], res
    if res["pending_before"]:
        assert any("no vectors yet" in f for f in res["check_findings"]), res
    assert res["after_repair"] == [], res
    assert res["ready"] and res["vectors_complete"], res
    assert res["pending_after"] == 0 and res["unembedded_left"] == 0, res
    assert res["cli_check_rc"] == 0, res
    record("keyword-first: documents lost", 0)
