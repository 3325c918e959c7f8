"""Concurrency: 16 threads asking and 2 threads ingesting through one Assistant for 60 s; several processes
writing to one Chroma server.

The askers' questions are about the bundled documents; the ingesters meanwhile replace and remove two
synthetic documents (X toggles v1 <-> v2; Y goes v1 -> v2 -> removed -> v1 …). Every answer must equal the
single-threaded answer in one of the states the ingesters can leave the store in (a new document shifts the
BM25 weights of every other one, so each state has its own expected answers, computed beforehand one question
at a time). Writes must never overlap: the write guard is instrumented.

RELIABILITY_SECONDS shortens the 60 s for a quick local run; CI uses the default.
Several browser sessions of the app are covered with the app tests (tests/app), not here.
"""

from __future__ import annotations

import contextlib
import json
import random
import subprocess
import sys
import threading
import time
import traceback

import pytest

from reliability_kit import child_env, no_traceback, record, seconds
from synthetic import MARK_V1, MARK_V2, NAMES

from assistant.bot import Assistant
from assistant.config import Settings

QUESTIONS = [
    "长治高新区2017年营业收入是多少?",
    "长治2017年研发经费投了多少钱?",
    "长治高新区准备打造哪几个园中园产业园?",
    "×高新区今年打算新培育多少家高企和瞪羚企业?",
    "常德经开区2020年规模工业产值多少?增长了多少?",
    "常德经开区那篇经济工作会议讲话是谁讲的?哪天讲的?",
    "长沙经开区2020年要重点做好哪几个方面的工作?",
    "长沙经开区重点要做强哪几条产业链?",
    "XX区给高端人才出台了什么政策?",
    "务虚会发言认为XX区产业发展有哪些短板?",
    "常德经开区2020年的进出口总额是多少?",
    "帮我总结一下张志刚在长治高新区工作会上那篇讲话的主要内容",
]
SEARCHES = ["产业链现代化攻坚战", "研究与试验发展经费", "招商引资", "高端人才"]
# about the documents being re-ingested: must not fail, may be either version
MOVING = [f"{NAMES[0].split('.')[0]} 青山高新区2020年营业收入是多少?", "白水经开区2021年新增多少家高新技术企业?",
          MARK_V1[0], MARK_V2[1]]


def canonical(ans) -> tuple:
    return (ans.kind, ans.text, tuple((q.doc, q.start, q.end, q.text) for q in ans.quotes))


def hits(bot, query: str) -> tuple:
    return tuple((h.doc, h.id) for h in bot.search(query, k=5))


@pytest.fixture
def shared_bot(tmp_path, versions, shared_cache, corpus_home):  # corpus_home: the bundled passages are cached
    v1, v2 = versions
    bot = Assistant(Settings(home=tmp_path / "concurrent-home", cache_dir=shared_cache, auto_ingest=True))
    assert len(bot.documents()) == 5
    assert bot.ingest([v1 / NAMES[0], v1 / NAMES[1]]).ok
    return bot


@pytest.mark.slow
def test_16_askers_and_2_ingesters_for_60_seconds(shared_bot, versions):
    bot = shared_bot
    v1, v2 = versions
    x, y = NAMES[0], NAMES[1]

    # the states the ingesters pass through, and the single-threaded answers in each
    def set_state(xv: int, yv: int | None) -> None:
        bot.ingest([(v1 if xv == 1 else v2) / x])
        if yv is None:
            if y in bot.documents():
                bot.remove(y)
        else:
            bot.ingest([(v1 if yv == 1 else v2) / y])
        bot.store.keyword_index()

    expected_answers: dict[str, set] = {q: set() for q in QUESTIONS}
    expected_hits: dict[str, set] = {q: set() for q in SEARCHES}
    for xv in (1, 2):
        for yv in (1, 2, None):
            set_state(xv, yv)
            for q in QUESTIONS:
                expected_answers[q].add(canonical(bot.ask(q)))
            for q in SEARCHES:
                expected_hits[q].add(hits(bot, q))
    set_state(1, 1)
    record("concurrency: single-threaded reference answers", 6 * (len(QUESTIONS) + len(SEARCHES)))

    # instrument the write guard: writers inside it at once
    inside, peak, guard_lock = [0], [0], threading.Lock()
    original_guard = bot.store._write_guard

    @contextlib.contextmanager
    def counted_guard():
        with original_guard():
            with guard_lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            try:
                yield
            finally:
                with guard_lock:
                    inside[0] -= 1

    bot.store._write_guard = counted_guard

    duration = seconds("RELIABILITY_SECONDS", 60)
    deadline = time.monotonic() + duration
    errors: list[str] = []
    mismatches: list[tuple] = []
    counts = {"ask": 0, "search": 0, "moving": 0, "ingest": 0, "remove": 0}
    count_lock = threading.Lock()

    def count(kind: str) -> None:
        with count_lock:
            counts[kind] += 1

    def asker(seed: int) -> None:
        rng = random.Random(seed)
        try:
            while time.monotonic() < deadline:
                roll = rng.random()
                if roll < 0.6:
                    q = rng.choice(QUESTIONS)
                    got = canonical(bot.ask(q))
                    if got not in expected_answers[q]:
                        mismatches.append(("ask", q, got))
                    count("ask")
                elif roll < 0.85:
                    q = rng.choice(SEARCHES)
                    got = hits(bot, q)
                    if got not in expected_hits[q]:
                        mismatches.append(("search", q, got))
                    count("search")
                else:
                    q = rng.choice(MOVING)
                    bot.ask(q) if rng.random() < 0.5 else bot.search(q)
                    count("moving")
        except Exception:
            errors.append(traceback.format_exc())

    def ingester_x() -> None:
        version = 1
        try:
            while time.monotonic() < deadline:
                version = 3 - version
                report = bot.ingest([(v1 if version == 1 else v2) / x])
                if report.results[0].status != "replaced":
                    errors.append(f"X: {report}")
                count("ingest")
        except Exception:
            errors.append(traceback.format_exc())

    def ingester_y() -> None:
        cycle = [1, 2, None]
        i = 0
        try:
            while time.monotonic() < deadline:
                i += 1
                step = cycle[i % 3]
                if step is None:
                    bot.remove(y)
                    count("remove")
                else:
                    report = bot.ingest([(v1 if step == 1 else v2) / y])
                    if report.results[0].status not in ("added", "replaced"):
                        errors.append(f"Y: {report}")
                    count("ingest")
        except Exception:
            errors.append(traceback.format_exc())

    threads = [threading.Thread(target=asker, args=(i,), name=f"asker-{i}") for i in range(16)]
    threads += [threading.Thread(target=ingester_x, name="ingest-x"), threading.Thread(target=ingester_y,
                                                                                      name="ingest-y")]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=duration + 300)
    elapsed = time.monotonic() - started
    assert not any(t.is_alive() for t in threads), "a thread hung"
    total = sum(counts.values())
    record("concurrency: operations (asks, searches, ingests, removals)", total)
    record("concurrency: errors", len(errors))
    record("concurrency: answers differing from single-threaded", len(mismatches))
    print(f"\n{elapsed:.0f} s, 18 threads: {counts}, peak writers inside the guard: {peak[0]}")

    assert errors == [], "\n".join(errors[:3])
    assert mismatches == [], mismatches[:3]
    assert peak[0] == 1, "two writes overlapped"
    # (chromadb's engine holds the GIL while it writes: continuous ingests slow the askers, they must not stop them)
    assert counts["ingest"] >= 4 and counts["remove"] >= 1 and counts["ask"] >= 2 * duration, counts

    # afterwards: consistent, nothing lost, the same answers one at a time
    bot.store._write_guard = original_guard
    bot.store.keyword_index()  # as the next question would: the index (and its file) catch up with the last write
    assert bot.store.doctor(repair=False) == []
    docs = bot.documents()
    assert len(docs) >= 6 and x in docs
    record("concurrency: documents lost", 5 - sum(1 for n in docs if not n.startswith("syn_")))
    for q in QUESTIONS:
        assert canonical(bot.ask(q)) in expected_answers[q]


# ------------------------------------------------------------------------------------------ several processes


WRITER = r"""
import json, os, sys, time
from pathlib import Path
from assistant.config import Settings
from assistant.store import Store
v1, out_dir, names, seconds = Path(sys.argv[1]), Path(sys.argv[2]), json.loads(sys.argv[3]), float(sys.argv[4])
store = Store(Settings.from_env())
deadline = time.monotonic() + seconds
n, failed = 0, []
out_dir.mkdir(parents=True, exist_ok=True)
while time.monotonic() < deadline:
    paths = []
    for name in names:  # a new version every time: a revision note names this process and the round
        path = out_dir / name
        path.write_text((v1 / name).read_text("utf-8") + f"修订说明：第{n}轮由进程{os.getpid()}修订，内容以本版为准。\n",
                        "utf-8")
        paths.append(path)
    report = store.ingest(paths)
    failed += [r.reason for r in report.results if r.status == "failed"]
    n += 1
print(json.dumps({"ingests": n * len(names), "failed": failed}, ensure_ascii=False))
"""


@pytest.mark.slow
def test_several_processes_writing_to_one_chroma_server(chroma_exe, tmp_path, versions, shared_cache):
    """Two processes replace the same documents over and over, each with a new version every time, against one
    `chroma run` server (no shared disk, so no file lock): each document always ends wholly in one version,
    and no writer deletes the passages of a version the other has just registered."""
    from chroma_server import ChromaServer

    from assistant.retrieval import HybridRetriever
    from assistant.store import Store

    v1, v2 = versions
    log = open(tmp_path / "chroma.log", "w")
    server = ChromaServer(chroma_exe, tmp_path / "chroma-data", log)
    try:
        settings = Settings(chroma_url=server.url, home=tmp_path / "reader-home", cache_dir=shared_cache,
                            collection="multi_writer", auto_ingest=False)
        reader = Store(settings)
        assert reader.ingest([v1 / n for n in NAMES[:3]]).ok
        duration = min(20.0, seconds("RELIABILITY_SECONDS", 20))
        procs = []
        for i in range(2):
            # a pause between writing a version's passages and registering it widens the window in which the
            # other process commits and cleans up (without it, a lost race shows up only now and then)
            env = child_env(tmp_path / f"writer-{i}", shared_cache, ASSISTANT_CHROMA_URL=server.url,
                            ASSISTANT_COLLECTION="multi_writer", ASSISTANT_FAULT_DELAY="passages_upserted:0.05")
            procs.append(subprocess.Popen(
                [sys.executable, "-c", WRITER, str(v1), str(tmp_path / f"writer-{i}" / "docs"), json.dumps(NAMES[:3]),
                 str(duration)],
                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
        reads, problems = 0, []
        retriever = HybridRetriever(store=reader, k=5)
        deadline = time.monotonic() + duration
        while time.monotonic() < deadline:
            for i in range(3):
                found = retriever.search(f"{MARK_V1[i]} {MARK_V2[i]}", k=8)
                if not any(h.doc == NAMES[i] for h in found):
                    problems.append((NAMES[i], [h.doc for h in found]))
                reads += 1
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            no_traceback(err)
            assert p.returncode == 0, err
            outs.append(json.loads(out.strip().splitlines()[-1]))
        writes = sum(o["ingests"] for o in outs)
        record("concurrency: server-mode operations (2 writer processes + 1 reader)", writes + reads)
        assert all(not o["failed"] for o in outs), outs
        assert problems == [], problems[:3]

        # every document wholly in one version, its passages complete; only orphans of lost races remain
        final = Store(settings)
        docs = final.documents(max_age=0)
        assert sorted(docs) == sorted(NAMES[:3])
        ids, texts, metas = final.active_passages(docs)
        for name, meta in docs.items():
            mine = [t for t, m in zip(texts, metas) if m["doc"] == name]
            assert len(mine) == meta["n_passages"], (name, len(mine), meta["n_passages"])
            assert "修订说明" in final.document_text(name)
        findings = final.doctor(repair=False)
        assert not any("registry says" in f for f in findings), findings
        final.doctor()
        assert final.doctor(repair=False) == []
        record("concurrency: documents lost", 3 - len(docs))
        print(f"\n{writes} ingests by 2 processes and {reads} searches in {duration:.0f} s: {findings}")
    finally:
        server.stop()
        log.close()
