"""Crash safety: an ingest killed with SIGKILL, 20 times, at random moments and at every named step.

One home holds the five synthetic documents. Each round a child process ingests, for every document, the
version it is not in now (v1 <-> v2) and is killed: either by the parent after a random delay spread over the
measured length of an ingest (seeded), or by itself at a named step (ASSISTANT_FAULT_AFTER, see
assistant.config.fault_point). After each kill a new process (a restart) opens the store and checks:

- every document is registered and is wholly v1 or wholly v2: its searchable passages all carry the
  registry's hash, are exactly the chunks of that version's text, and the registry's text is that text;
- a search finds the current version's marker and never the other version's;
- the keyword index agrees with Chroma (fingerprint and passage ids) after keyword_index();
- `doctor(repair=False)` reports orphan passages and a stale or missing keyword index when there are some,
  `doctor()` repairs, and then `assistant doctor --check` exits 0.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time

import pytest

from reliability_kit import child_env, no_traceback, record
from synthetic import MARK_V1, MARK_V2, NAMES

pytestmark = pytest.mark.slow

INGEST = r"""
import json, os, sys, time
import assistant.store
from assistant.config import Settings
from assistant.store import Store
# documents per commit: an ingest writes in batches (store._commit); small batches make a kill land between them
assistant.store._DOCS_PER_COMMIT = int(os.environ.get("CRASH_DOCS_PER_COMMIT") or assistant.store._DOCS_PER_COMMIT)
store = Store(Settings.from_env())
print("READY", flush=True)
t = time.monotonic()
report = store.ingest(json.loads(sys.argv[1]))
print("DONE", round(time.monotonic() - t, 3), json.dumps([[r.name, r.status, r.reason] for r in report.results]),
      flush=True)
"""

CHECK = r"""
import contextlib, io, json, sys
from assistant.chunking import chunk
from assistant.cli import main as cli_main
from assistant.config import Settings
from assistant.keyword import KeywordIndex
from assistant.retrieval import HybridRetriever
from assistant.store import Store

marks = json.loads(sys.argv[1])  # name -> [v1 marker, v2 marker]
store = Store(Settings.from_env())
out = {}
docs = store.documents(max_age=0)
raw = store._passages.get(include=["metadatas", "documents"])
registered = {(n, m["doc_hash"]) for n, m in docs.items()}
out["orphans"] = sum(1 for m in raw["metadatas"] if (m["doc"], m["doc_hash"]) not in registered)
on_disk = KeywordIndex.load(store.settings.index_dir)
out["index_on_disk_ok"] = on_disk is not None and on_disk.fingerprint == store.fingerprint(docs)
out["leftovers"] = sorted(p.name for p in store.settings.index_dir.parent.iterdir()
                          if p.name.startswith(".kw-") or p.name.endswith(".old"))
out["check_findings"] = store.doctor(repair=False)

out["docs"] = {}
for name, meta in docs.items():
    text = store.document_text(name)
    mine = sorted((m["start"], m["end"], t) for m, t in zip(raw["metadatas"], raw["documents"])
                  if m["doc"] == name and m["doc_hash"] == meta["doc_hash"])
    want = sorted((p.start, p.end, p.text) for p in chunk(text))
    out["docs"][name] = {"text": text, "n_passages": meta["n_passages"], "active": len(mine),
                         "passages_are_the_chunks": mine == want}

index = store.keyword_index()
ids, _, _ = store.active_passages()
out["keyword_fp_ok"] = index.fingerprint == store.fingerprint()
out["keyword_ids_ok"] = sorted(index.ids) == sorted(ids)
retriever = HybridRetriever(store=store, k=5)
out["search"] = {}
for name, (m1, m2) in marks.items():
    hits = retriever.search(m1 + " " + m2, k=8)
    out["search"][name] = {"v1": any(h.doc == name and m1 in h.text for h in hits),
                           "v2": any(h.doc == name and m2 in h.text for h in hits),
                           "v1_in_index": any(m1 in r["text"] for r in index.records.values()),
                           "v2_in_index": any(m2 in r["text"] for r in index.records.values())}
out["repair_findings"] = store.doctor()
out["after_repair"] = store.doctor(repair=False)
with contextlib.redirect_stdout(io.StringIO()) as buf:
    out["cli_check_rc"] = cli_main(["doctor", "--check"])
out["cli_check_out"] = buf.getvalue()
print(json.dumps(out, ensure_ascii=False))
"""

# Deterministic kills at named steps (step:n = the n-th time the step is passed in that ingest). Most ingests
# here commit one document at a time (CRASH_DOCS_PER_COMMIT=1), so that the n-th commit is the n-th document
# and a random kill can land between two documents; the steps marked "batch" use the default batches (the
# five documents in one commit: a kill after their passages, and one after their registry records).
STEPS = ["embedded:1", "passages_upserted:2", "registry_upserted:3", "old_deleted:1", "keyword_tmp_written",
         "keyword_swapped_out", "passages_upserted:5", "registry_upserted:1", "passages_upserted:1 batch",
         "registry_upserted:1 batch"]
KILLS = 20


def _texts(folder) -> dict[str, str]:
    from assistant.loading import load_document

    return {p.name: load_document(p).text for p in sorted(folder.iterdir())}


def _ingest_child(paths: list[str], env: dict, delay: float | None) -> tuple[int, str]:
    """Run an ingest; kill it `delay` s after it is ready (None: it kills itself or finishes)."""
    proc = subprocess.Popen([sys.executable, "-c", INGEST, json.dumps(paths)], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        ready = proc.stdout.readline()
        assert ready.startswith("READY") or proc.poll() is not None, ready
        if delay is not None and ready.startswith("READY"):
            time.sleep(delay)
            proc.send_signal(signal.SIGKILL)
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    no_traceback(err)
    return proc.returncode, ready + out


def _check(env: dict) -> dict:
    marks = {n: [MARK_V1[i], MARK_V2[i]] for i, n in enumerate(NAMES)}
    res = subprocess.run([sys.executable, "-c", CHECK, json.dumps(marks, ensure_ascii=False)], env=env,
                         capture_output=True, text=True, timeout=180)
    assert res.returncode == 0, res.stderr
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_sigkill_during_ingest_20_times(tmp_path, versions, shared_cache, assistant_exe):
    v1, v2 = versions
    texts = {1: _texts(v1), 2: _texts(v2)}
    home = tmp_path / "crash-home"
    env = child_env(home, shared_cache)
    rng = random.Random(20240601)

    # the starting state, and the length of an ingest of five documents (the window for the random kills)
    rc, out = _ingest_child([str(p) for p in sorted(v1.iterdir())], {**env, "CRASH_DOCS_PER_COMMIT": "1"}, None)
    assert rc == 0 and "DONE" in out, out
    window = float(out.split("DONE", 1)[1].split()[0])
    # an ingest that replaces every document (what the kills interrupt) does more than the first one: its
    # length is the window, so that the random kills can land on its commits
    rc, out = _ingest_child([str(v2 / n) for n in NAMES], {**env, "CRASH_DOCS_PER_COMMIT": "1"}, None)
    assert rc == 0 and "DONE" in out, out
    window = max(window, float(out.split("DONE", 1)[1].split()[0]))
    state = {n: 2 for n in NAMES}

    plan = [("step", s) for s in STEPS] + [("random", None)] * (KILLS - len(STEPS))
    rng.shuffle(plan)
    landed, rounds, cli_runs, extra = 0, 0, 0, 0
    log = []

    def partial_landed() -> bool:  # a random kill left some documents old and some new
        return any(e[0] == "random" and e[3] == -signal.SIGKILL and 0 < e[4] < len(NAMES) for e in log)

    # after the planned kills, a few more random ones until one lands between two documents (a loaded machine
    # can stretch an ingest past the window measured at the start, so that the planned ones all land early)
    while landed < KILLS or (not partial_landed() and extra < 10):
        rounds += 1
        assert rounds <= KILLS + 25, f"too many ingests finished before the kill: {log}"
        extra += landed >= KILLS
        kind, step = plan[landed] if landed < KILLS else ("random", None)
        target = {n: 3 - v for n, v in state.items()}  # every document to its other version
        paths = [str((v1 if target[n] == 1 else v2) / n) for n in NAMES]
        if kind == "step":
            point, _, batch = step.partition(" ")
            rc, out = _ingest_child(paths, {**env, "ASSISTANT_FAULT_AFTER": point,
                                            "CRASH_DOCS_PER_COMMIT": "" if batch else "1"}, None)
            delay = None
        else:
            delay = rng.uniform(0.0, window)
            rc, out = _ingest_child(paths, {**env, "CRASH_DOCS_PER_COMMIT": "1"}, delay)
        killed = rc == -signal.SIGKILL
        landed += killed
        record("crash: ingests killed with SIGKILL", killed)

        res = _check(env)
        switched = sum(1 for n in NAMES if n in res["docs"] and res["docs"][n]["text"] == texts[target[n]][n])
        log.append((kind, step, None if delay is None else round(delay, 3), rc, switched))
        for name in NAMES:
            doc = res["docs"].get(name)
            assert doc is not None, f"{name} lost after {log[-1]}"
            version = next((v for v in (1, 2) if doc["text"] == texts[v][name]), None)
            assert version is not None, f"{name}: registry text is neither v1 nor v2 after {log[-1]}"
            if not killed:
                assert version == target[name], (name, log[-1], out)
            assert doc["active"] == doc["n_passages"] and doc["passages_are_the_chunks"], (name, doc, log[-1])
            found = res["search"][name]
            assert found[f"v{version}"] and found[f"v{version}_in_index"], (name, found, log[-1])
            assert not found[f"v{3 - version}"] and not found[f"v{3 - version}_in_index"], (name, found, log[-1])
            state[name] = version
        assert res["keyword_fp_ok"] and res["keyword_ids_ok"], (res, log[-1])
        findings = " ".join(res["check_findings"])
        if res["orphans"]:
            assert f"{res['orphans']} orphan" in findings, (res, log[-1])
            record("crash: orphan passages swept by doctor", res["orphans"])
        if not res["index_on_disk_ok"]:
            assert "keyword index" in findings, (res, log[-1])
        if res["leftovers"]:
            assert "leftovers" in findings, (res, log[-1])
        assert res["after_repair"] == [], (res, log[-1])
        assert res["cli_check_rc"] == 0, res
        if rounds % 5 == 0:  # the console script itself, as a user runs it
            cli = subprocess.run([assistant_exe, "doctor", "--check"], env=env, capture_output=True, text=True,
                                 timeout=120)
            no_traceback(cli.stdout, cli.stderr)
            assert cli.returncode == 0 and "store OK" in cli.stdout, (cli.stdout, cli.stderr)
            cli_runs += 1
        record("crash: documents lost", sum(1 for n in NAMES if n not in res["docs"]))

    cli = subprocess.run([assistant_exe, "doctor", "--check"], env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0 and "store OK" in cli.stdout, (cli.stdout, cli.stderr)
    # both kinds of kill happened, and the random ones landed all over the ingest: before any document
    # switched, between documents, and after the last one (in the keyword-index save)
    assert sum(1 for k, *_ in log if k == "step") == len(STEPS)
    partial = [entry for entry in log if entry[0] == "random" and entry[3] == -signal.SIGKILL
               and 0 < entry[4] < len(NAMES)]
    assert partial, log
    record("crash: random kills that left some documents old and some new", len(partial))
    print(f"\n{landed} kills in {rounds} ingests (window {window:.2f} s): {log}")
