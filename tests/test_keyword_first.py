"""Keyword-first ingest: a new document is answerable by keyword as soon as ingest returns, its vectors are
filled behind it, and queries meanwhile stay correct.

Every test writes documents no embedding cache holds (a marker of its own, a cache directory of its own), so
their vectors really are missing when the ingest returns; the filler then embeds a handful of passages.
Removal and replacement while a filler works, and a filler killed half way, run in real child processes
(tests/reliability/test_keyword_first_crash.py kills ingests and fillers at every step).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid

import pytest

from assistant.bot import Assistant
from assistant.retrieval import HybridRetriever
from assistant.store import Store

DOC = ("{zone}{year}年工作要点\n"
       "一、总体目标\n"
       "{year}年，{zone}力争营业收入突破{income}亿元，{mark}全面启动，新增高新技术企业{firms}家。\n"
       "二、重点任务\n"
       "加快建设{mark}配套产业园，引进重大项目{projects}个，打造区域创新高地。\n"
       "三、保障措施\n"
       "强化要素保障，优化营商环境，确保各项目标任务按期完成。\n")


def write_doc(folder, name: str, zone: str, mark: str, year: int = 2024, income: int = 321) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(DOC.format(zone=zone, year=year, income=income, mark=mark, firms=37, projects=12), "utf-8")
    return str(path)


def marker() -> str:
    """A phrase no cache has seen (so its passages are embedded for real)."""
    syllables = "青赤玄素丹翠紫金银云霞松竹梅兰菊荷"
    n = uuid.uuid4().int
    return "".join(syllables[(n >> (4 * i)) % len(syllables)] for i in range(4)) + "计划"


@pytest.fixture
def cold(settings_factory, tmp_path):
    """Settings of an empty home whose embedding cache is empty too."""
    return settings_factory("cold-home", cache_dir=tmp_path / "cold-cache")


def ids_in(col, doc: str) -> set[str]:
    return set(col.get(where={"doc": doc}, include=[])["ids"])


def test_answerable_by_keyword_before_vectors_then_filled(cold, tmp_path):
    bot = Assistant(cold)
    mark = marker()
    path = write_doc(tmp_path / "in", "kf.txt", "青岚高新区", mark)
    t = time.perf_counter()
    report = bot.store.ingest([path], wait=False)  # the keyword phase only (bot.ingest also starts a filler)
    took = time.perf_counter() - t
    assert [r.status for r in report.results] == ["added"]
    n = report.results[0].passages
    store = bot.store
    assert ids_in(store._passages, "kf.txt") == set()  # not one vector yet
    assert len(ids_in(store._unembedded, "kf.txt")) == n
    assert bot.documents()["kf.txt"]["vectors"] == "pending"
    progress = bot.vector_progress()
    assert progress["pending"] == n and progress["documents"] == {"kf.txt": n}

    ans = bot.ask("青岚高新区2024年营业收入目标是多少?")  # asked right after ingest returned
    assert any("321亿元" in q.text and q.doc == "kf.txt" for q in ans.quotes), ans.text
    hits = bot.search(f"{mark}配套产业园", k=3)
    assert hits and hits[0].doc == "kf.txt" and mark in hits[0].text
    # dense search sees only real vectors: none of this document's yet
    assert not {pid for pid, _ in store.dense_search(mark, 50, None)} & ids_in(store._unembedded, "kf.txt")
    print(f"\nkeyword phase of one new document: {took:.2f} s")

    assert bot.start_filling()
    assert store.wait_for_vectors(timeout=300)
    assert bot.vector_progress()["pending"] == 0 and not store.vector_progress(max_age=0)["filling"]
    assert bot.documents()["kf.txt"]["vectors"] == "ready"
    assert len(ids_in(store._passages, "kf.txt")) == n and ids_in(store._unembedded, "kf.txt") == set()
    dense = dict(store.dense_search(f"{mark}配套产业园", 5, None))
    assert dense and set(dense) <= ids_in(store._passages, "kf.txt")
    assert bot.search(f"{mark}配套产业园", k=3)[0].doc == "kf.txt"
    assert store.doctor(repair=False) == []
    # a later process sees the same, and `wait=True` (today's ingest) leaves nothing pending
    again = Store(cold)
    assert again.documents()["kf.txt"]["vectors"] == "ready"
    other = write_doc(tmp_path / "in", "kf2.txt", "赤霞经开区", marker())
    assert again.ingest([other]).ok and again.documents(max_age=0)["kf2.txt"]["vectors"] == "ready"
    assert again.vector_progress(max_age=0)["pending"] == 0


def test_cached_vectors_are_used_at_once(settings_factory, tmp_path):
    """Keyword first embeds nothing itself: vectors the cache already has are written with the passages."""
    mark = marker()
    path = write_doc(tmp_path / "in", "cached.txt", "素云高新区", mark)
    first = Store(settings_factory("first", cache_dir=tmp_path / "cache"))
    assert first.ingest([path]).ok  # wait=True: embeds, and fills the cache
    second = Store(settings_factory("second", cache_dir=tmp_path / "cache"))
    assert second.ingest([path], wait=False).ok
    assert second.documents()["cached.txt"]["vectors"] == "ready"
    assert second.vector_progress(max_age=0)["pending"] == 0


def test_a_passage_in_both_collections_is_seen_once(cold, tmp_path):
    """A filler killed between writing a passage's vector and taking it out of `__pending` leaves it in both:
    readers see it once, doctor completes the move."""
    store = Store(cold)
    mark = marker()
    assert store.ingest([write_doc(tmp_path / "in", "twice.txt", "玄松经开区", mark)], wait=False).ok
    got = store._unembedded.get(where={"doc": "twice.txt"}, include=["documents", "metadatas"])
    store._passages.upsert(ids=got["ids"][:2], documents=got["documents"][:2], metadatas=got["metadatas"][:2],
                           embeddings=store.embeddings.embed_documents(got["documents"][:2]))
    ids, _, _ = store.active_passages()
    assert len(ids) == len(set(ids)) == store.documents()["twice.txt"]["n_passages"]
    for query in (mark, f"{mark}配套产业园", "玄松经开区营业收入"):
        hits = HybridRetriever(store=store, k=10).search(query)
        assert len({h.id for h in hits}) == len(hits) and hits
    findings = store.doctor()
    assert any("vectors filled" in f for f in findings), findings
    assert store.doctor(repair=False) == []
    assert ids_in(store._unembedded, "twice.txt") == set()


FILLER = r"""
import sys
from assistant.config import Settings
from assistant.store import Store
store = Store(Settings.from_env())
print("READY", flush=True)
print("MOVED", store.fill_vectors(), flush=True)
"""


def _filler(cold, delay: float) -> subprocess.Popen:
    """`fill_vectors` in a child process that pauses `delay` s after embedding its first batch (before the
    write), so that the parent can remove or replace the document meanwhile."""
    env = {"ASSISTANT_HOME": str(cold.home), "ASSISTANT_CACHE_DIR": str(cold.cache_dir),
           "ASSISTANT_AUTO_INGEST": "0", "ASSISTANT_FAULT_DELAY": f"vectors_embedded:{delay}",
           "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([sys.executable, "-c", FILLER], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    assert proc.stdout.readline().startswith("READY")
    return proc


def _wait_until_embedded(store: Store, proc: subprocess.Popen, seconds: float = 120) -> None:
    """Until the child has its batch embedded (its vectors reach the shared cache)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()
        got = store._unembedded.get(include=["documents", "metadatas"])
        texts = [store._cache.key(store.model_id, t) for t in _embed_texts(got)]
        if texts and len(store._cache.get_many(texts)) == len(texts):
            return
        time.sleep(0.2)
    raise AssertionError("the filler never embedded its batch")


def _embed_texts(got) -> list[str]:
    from assistant.chunking import search_text
    from assistant.store import embed_text

    return [embed_text(m, m.get("section", ""), search_text(t, m)) for t, m in zip(got["documents"], got["metadatas"])]


@pytest.mark.parametrize("how", ["remove", "replace"])
def test_remove_or_replace_while_filling(cold, tmp_path, how):
    """The filler must not bring back a passage of a version that was removed or replaced while it embedded."""
    store = Store(cold)
    old_mark, new_mark = marker(), marker()
    assert store.ingest([write_doc(tmp_path / "v1", "moving.txt", "丹枫高新区", old_mark)], wait=False).ok
    old_ids = ids_in(store._unembedded, "moving.txt")
    assert old_ids
    proc = _filler(cold, delay=4.0)
    try:
        _wait_until_embedded(store, proc)
        if how == "remove":
            assert store.remove("moving.txt") > 0
        else:
            path = write_doc(tmp_path / "v2", "moving.txt", "丹枫高新区", new_mark, income=654)
            assert store.ingest([path]).results[0].status == "replaced"  # wait=True: all vectors at once
        out, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "MOVED 0" in out, out  # its batch belonged to a version no longer registered
    every = store._passages.get(include=["metadatas"])
    assert not old_ids & set(every["ids"]), "a passage of the old version was resurrected"
    assert not old_ids & set(store._unembedded.get(include=[])["ids"])
    hits = HybridRetriever(store=store, k=10).search(old_mark)
    assert not any(old_mark in h.text for h in hits)
    if how == "replace":
        meta = store.documents(max_age=0)["moving.txt"]
        assert meta["vectors"] == "ready" and len(ids_in(store._passages, "moving.txt")) == meta["n_passages"]
        assert HybridRetriever(store=store, k=3).search(new_mark)[0].doc == "moving.txt"
    else:
        assert "moving.txt" not in store.documents(max_age=0)
    assert store.doctor(repair=False) == []


def test_cli_ingest_returns_before_vectors_and_fills_behind(assistant_exe, tmp_path):
    home, cache = tmp_path / "cli-home", tmp_path / "cli-cache"
    env = {"ASSISTANT_HOME": str(home), "ASSISTANT_CACHE_DIR": str(cache), "ASSISTANT_AUTO_INGEST": "0",
           "PATH": "/usr/bin:/bin", "OMP_NUM_THREADS": "1", "HF_HUB_OFFLINE": "1"}
    mark = marker()
    path = write_doc(tmp_path / "in", "cli.txt", "金霞经开区", mark)
    res = subprocess.run([assistant_exe, "ingest", path], env=env, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    assert "added" in res.stdout and "vectors:" in res.stdout, res.stdout
    ask = subprocess.run([assistant_exe, "ask", "金霞经开区2024年营业收入目标是多少?", "--json"], env=env,
                         capture_output=True, text=True, timeout=300)
    assert ask.returncode == 0, ask.stderr
    assert any("321亿元" in q["text"] for q in json.loads(ask.stdout)["quotes"]), ask.stdout
    deadline = time.monotonic() + 300
    while True:  # the detached filler finishes
        res = subprocess.run([assistant_exe, "vectors", "--json"], env=env, capture_output=True, text=True,
                             timeout=120)
        state = json.loads(res.stdout)
        if state["pending"] == 0 and not state["filling"]:
            break
        assert time.monotonic() < deadline, state
        time.sleep(1)
    docs = subprocess.run([assistant_exe, "docs", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert json.loads(docs.stdout)[0]["vectors"] == "ready"
    check = subprocess.run([assistant_exe, "doctor", "--check"], env=env, capture_output=True, text=True,
                           timeout=120)
    assert check.returncode == 0 and "store OK" in check.stdout, check.stdout
    waited = subprocess.run([assistant_exe, "ingest", "--wait", write_doc(tmp_path / "in", "w.txt", "银松高新区",
                                                                          marker())],
                            env=env, capture_output=True, text=True, timeout=300)
    assert waited.returncode == 0 and "vectors:" not in waited.stdout, waited.stdout
