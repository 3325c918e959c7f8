"""Disk and store faults: a full disk, a read-only store, a corrupted keyword index, a Chroma server that goes
away and comes back. Each gives a clear error, a retry or a repair, and nothing that was stored is lost.

The full disk is a small tmpfs when this process may mount one (root in a container that allows it), and in
any case a child process with RLIMIT_FSIZE (writes past the limit fail with EFBIG, as on a full disk). The
read-only store is a tmpfs remounted read-only, which stops root too.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from chroma_server import ChromaServer
from reliability_kit import child_env, mounted_tmpfs, no_traceback, record
from synthetic import MARK_V1, MARK_V2, NAMES

from assistant.config import Settings
from assistant.errors import AssistantError, StoreError
from assistant.keyword import KeywordIndex
from assistant.retrieval import HybridRetriever
from assistant.store import Store


def snapshot(store: Store) -> dict:
    """name -> (hash, number of searchable passages): what must survive a fault."""
    docs = store.documents(max_age=0)
    ids, _, metas = store.active_passages(docs)
    counts: dict[str, int] = {}
    for m in metas:
        counts[m["doc"]] = counts.get(m["doc"], 0) + 1
    return {n: (m["doc_hash"], counts.get(n, 0), int(m["n_passages"])) for n, m in docs.items()}


def assert_intact(store: Store, before: dict) -> None:
    after = snapshot(store)
    for name, (doc_hash, count, n) in before.items():
        assert name in after, f"{name} lost"
        assert after[name] == (doc_hash, count, n) and count == n, (name, before[name], after[name])
    record("faults: documents lost", sum(1 for n in before if n not in after))


def marker_found(store: Store, i: int, version: int = 1) -> bool:
    mark = (MARK_V1 if version == 1 else MARK_V2)[i]
    return any(h.doc == NAMES[i] and mark in h.text for h in HybridRetriever(store=store, k=5).search(mark))


# ------------------------------------------------------------------------------------------ full disk


def fill(path: Path) -> None:
    """Fill the file system holding path to its last byte (unbuffered: nothing is left to flush)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for size in (1 << 16, 4096, 512, 1):
            try:
                while True:
                    os.write(fd, b"\0" * size)
            except OSError:
                pass
    finally:
        os.close(fd)


def test_full_disk_on_a_small_tmpfs(tmp_path, versions, shared_cache):
    v1, v2 = versions
    mount = tmp_path / "tmpfs"
    with mounted_tmpfs(mount, "12m") as ok:
        if not ok:
            pytest.skip("cannot mount a tmpfs here; test_full_disk_by_file_size_limit covers a full disk")
        store = Store(Settings(home=mount / "home", cache_dir=shared_cache, auto_ingest=False))
        assert store.ingest([v1 / NAMES[0], v1 / NAMES[1]]).ok
        before = snapshot(store)

        filler = mount / "filler"
        fill(filler)
        record("faults: full disk (tmpfs) writes attempted", 3)

        # a new document and a new version of a stored one: refused with the cause named, nothing changed
        report = store.ingest([v1 / NAMES[2], v2 / NAMES[0]])
        assert [r.status for r in report.results] == ["failed", "failed"], report
        assert all("磁盘空间已满" in r.reason for r in report.results), report
        assert "已保留原有内容" in report.results[0].reason, report
        with pytest.raises(StoreError, match="磁盘空间已满"):
            store.remove(NAMES[1])
        assert_intact(store, before)
        assert marker_found(store, 0) and marker_found(store, 1)  # reading still works on a full disk
        assert not marker_found(store, 0, version=2)

        # space again: the same ingest succeeds, and doctor finds nothing it cannot repair
        filler.unlink()
        report = store.ingest([v1 / NAMES[2], v2 / NAMES[0]])
        assert [r.status for r in report.results] == ["added", "replaced"], report
        store.doctor()
        assert store.doctor(repair=False) == []
        assert marker_found(store, 2) and marker_found(store, 0, version=2) and marker_found(store, 1)
        assert_intact(Store(store.settings), {n: v for n, v in snapshot(store).items()})


FSIZE_CHILD = r"""
import faulthandler, json, resource, signal, sys
faulthandler.dump_traceback_later(100, exit=True)  # a hang shows where, instead of a bare timeout
from pathlib import Path
from assistant.config import Settings
from assistant.errors import StoreError
from assistant.store import Store

store = Store(Settings.from_env())
# From here on no file may grow: every write past the current sizes fails with EFBIG, as on a full disk.
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
limit = max(p.stat().st_size for p in Path(sys.argv[1]).rglob("*") if p.is_file())
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
out = {}
report = store.ingest(json.loads(sys.argv[2]))
out["ingest"] = [[r.name, r.status, r.reason] for r in report.results]
try:
    store.remove(sys.argv[3])
    out["remove"] = "ok"
except StoreError as exc:
    out["remove"] = str(exc)
print(json.dumps(out, ensure_ascii=False))
"""


def test_full_disk_by_file_size_limit(tmp_path, versions, shared_cache, assistant_exe):
    """RLIMIT_FSIZE in a child: needs no privileges, so this runs everywhere."""
    v1, v2 = versions
    home = tmp_path / "fsize-home"
    settings = Settings(home=home, cache_dir=shared_cache, auto_ingest=False)
    store = Store(settings)
    assert store.ingest([v1 / n for n in NAMES[:2]]).ok
    before = snapshot(store)
    store = None
    env = child_env(home, shared_cache)
    big = tmp_path / "big"
    big.mkdir()
    (big / "big.txt").write_text((v2 / NAMES[3]).read_text("utf-8") * 30, "utf-8")
    paths = [str(big / "big.txt"), str(v2 / NAMES[0])]
    res = subprocess.run([sys.executable, "-c", FSIZE_CHILD, str(home), json.dumps(paths), NAMES[1]], env=env,
                         capture_output=True, text=True, timeout=180)
    no_traceback(res.stderr)
    assert res.returncode == 0, res.stderr
    out = json.loads(res.stdout.strip().splitlines()[-1])
    record("faults: full disk (RLIMIT_FSIZE) writes attempted", 3)
    statuses = {name: (status, reason) for name, status, reason in out["ingest"]}
    assert statuses["big.txt"][0] == "failed", out
    assert "磁盘" in statuses["big.txt"][1], out  # "disk full" or "disk I/O error": SQLite's word for EFBIG
    for status, reason in statuses.values():
        assert status in ("failed", "replaced") and (status != "failed" or reason), out
    assert out["remove"] == "ok" or "磁盘" in out["remove"], out

    store = Store(settings)
    docs = store.documents(max_age=0)
    assert "big.txt" not in docs
    # each document wholly in one state: the old or the new version, removed or present and complete
    version = 2 if statuses[NAMES[0]][0] == "replaced" else 1
    assert marker_found(store, 0, version) and not marker_found(store, 0, 3 - version)
    if out["remove"] == "ok":
        assert NAMES[1] not in docs
    else:
        assert_intact(store, {NAMES[1]: before[NAMES[1]]})
    if version == 1:
        assert_intact(store, {NAMES[0]: before[NAMES[0]]})
    store.doctor()
    assert store.doctor(repair=False) == []
    cli = subprocess.run([assistant_exe, "doctor", "--check"], env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stdout + cli.stderr


# ------------------------------------------------------------------------------------------ read-only store


RO_CHILD = r"""
import json, sys
from assistant.bot import Assistant
from assistant.config import Settings
from assistant.errors import AssistantError
out = {}
try:
    bot = Assistant(Settings.from_env())
    out["opened"] = sorted(bot.documents())
    out["search"] = [h.doc for h in bot.search(sys.argv[1])]
    report = bot.ingest([sys.argv[2]])
    out["ingest"] = [[r.status, r.reason] for r in report.results]
    try:
        bot.remove(out["opened"][0])
        out["remove"] = "ok"
    except AssistantError as exc:
        out["remove"] = str(exc)
except AssistantError as exc:
    out["error"] = str(exc)
print(json.dumps(out, ensure_ascii=False))
"""


def test_read_only_store(tmp_path, versions, shared_cache, assistant_exe):
    v1, _ = versions
    mount = tmp_path / "ro"
    with mounted_tmpfs(mount, "16m") as ok:
        if not ok:
            pytest.skip("cannot mount a tmpfs here (tests/test_store.py::test_read_only_store drops the DAC "
                        "capabilities instead)")
        home = mount / "home"
        env = child_env(home, shared_cache)
        # written by another process: this one must hold no file of the store open, or it cannot be remounted
        res = subprocess.run([assistant_exe, "ingest", str(v1 / NAMES[0])], env=env, capture_output=True,
                             text=True, timeout=180)
        assert res.returncode == 0, res.stdout + res.stderr
        res = subprocess.run(["mount", "-o", "remount,ro", str(mount)], capture_output=True, text=True)
        if res.returncode != 0:
            pytest.skip(f"cannot remount read-only: {res.stderr}")
        try:
            res = subprocess.run([sys.executable, "-c", RO_CHILD, MARK_V1[0], str(v1 / NAMES[1])], env=env,
                                 capture_output=True, text=True, timeout=180)
            no_traceback(res.stderr)
            out = json.loads(res.stdout.strip().splitlines()[-1])
            if "error" in out:  # Chroma cannot open a store it may not write: one clear sentence
                assert "只读" in out["error"] and str(home) in out["error"], out
            else:
                assert out["ingest"][0][0] == "failed" and "只读" in out["ingest"][0][1], out
                assert "只读" in out["remove"], out
            for args in (["docs"], ["search", MARK_V1[0]], ["ask", "青山高新区2020年营业收入是多少?"],
                         ["ingest", str(v1 / NAMES[1])], ["doctor"]):
                cli = subprocess.run([assistant_exe, *args], env=env, capture_output=True, text=True, timeout=120)
                record("faults: read-only store operations")
                no_traceback(cli.stdout, cli.stderr)
                if cli.returncode != 0:
                    assert cli.returncode in (1, 2) and len(cli.stderr.strip().splitlines()) == 1, (args, cli.stderr)
                    assert "只读" in cli.stderr, (args, cli.stderr)
        finally:
            subprocess.run(["mount", "-o", "remount,rw", str(mount)], capture_output=True)
        store = Store(Settings(home=home, cache_dir=shared_cache, auto_ingest=False))
        assert sorted(store.documents()) == [NAMES[0]]
        assert marker_found(store, 0) and store.doctor(repair=False) == []


# ------------------------------------------------------------------------------------------ keyword index


def _rows(index_dir: Path):
    import sqlite3

    from assistant.keyword import rows_path

    return sqlite3.connect(str(rows_path(index_dir)))


def _flip_text(index_dir: Path) -> None:
    """Change one passage's text in the passage rows (the row's CRC is left as it was)."""
    with contextlib.closing(_rows(index_dir)) as db:
        pid, text = db.execute("SELECT id, text FROM p ORDER BY id LIMIT 1").fetchone()
        db.execute("UPDATE p SET text = ? WHERE id = ?", ("被篡改的段落" + text[6:], pid))
        db.commit()


def _flip_offset(index_dir: Path) -> None:
    with contextlib.closing(_rows(index_dir)) as db:
        pid, meta = db.execute("SELECT id, meta FROM p ORDER BY id LIMIT 1").fetchone()
        meta = json.loads(meta)
        meta["start"] += 1
        db.execute("UPDATE p SET meta = ? WHERE id = ?", (json.dumps(meta, ensure_ascii=False), pid))
        db.commit()


def _rewrite(path: Path, data: bytes) -> None:
    """A damaged file written anew (a file truncated in place under a process that maps it would make that
    process fault, as with any memory-mapped index)."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _truncate_postings(index_dir: Path) -> None:
    for f in index_dir.glob("post_*.npy"):
        _rewrite(f, f.read_bytes()[: len(f.read_bytes()) // 2])


def _flip_posting(index_dir: Path) -> None:
    """One term frequency changed, same size: only the full check (doctor's) sees it."""
    import io

    import numpy as np

    f = index_dir / "post_tf.npy"
    tf = np.load(f)
    tf[-1] += 1.0
    buf = io.BytesIO()
    np.save(buf, tf)
    _rewrite(f, buf.getvalue())


def _drop_ids(index_dir: Path) -> None:
    path = index_dir / "ids.json"
    _rewrite(path, json.dumps(json.loads(path.read_bytes())[:-1]).encode("ascii"))


def _empty_rows(index_dir: Path) -> None:
    with contextlib.closing(_rows(index_dir)) as db:
        db.execute("DELETE FROM p")
        db.commit()


CORRUPTIONS = {
    "garbage header": lambda d: _rewrite(d / "header.json", b"\x00garbage{{{ not json"),
    "empty header": lambda d: _rewrite(d / "header.json", b""),
    "one passage's text changed": _flip_text,
    "one offset changed": _flip_offset,
    "postings truncated": _truncate_postings,
    "one posting changed": _flip_posting,
    "an id missing": _drop_ids,
    "checksum removed": lambda d: (d / "checksum").unlink(),
    "index directory removed": lambda d: shutil.rmtree(d),
    "header.json is a directory": lambda d: ((d / "header.json").unlink(), (d / "header.json").mkdir()),
    "postings removed": lambda d: (d / "post_doc.npy").unlink(),
    "passage rows emptied": _empty_rows,
}
# Damage that opening does not look for (it would have to read every row and hash the postings, the bulk of the
# index, in every process): a row is checked when it is read and a damaged one is read from Chroma instead;
# doctor's full check (load(verify=True)) finds all of it.
CHECKED_ON_READ = {"one passage's text changed", "one offset changed", "one posting changed"}


@pytest.mark.parametrize("how", list(CORRUPTIONS))
def test_corrupted_keyword_index_is_reported_and_rebuilt(how, tmp_path, versions, shared_cache):
    v1, _ = versions
    store = Store(Settings(home=tmp_path / "kw-home", cache_dir=shared_cache, auto_ingest=False))
    assert store.ingest([v1 / n for n in NAMES]).ok
    before = snapshot(store)
    good = KeywordIndex.load(store.settings.index_dir)
    assert good is not None and store.doctor(repair=False) == []
    good_records = dict(good.records.items())
    good.close()

    CORRUPTIONS[how](store.settings.index_dir)
    record("faults: keyword-index corruptions")
    assert KeywordIndex.load(store.settings.index_dir, verify=True) is None, "a damaged index must not be trusted"
    if how not in CHECKED_ON_READ:
        assert KeywordIndex.load(store.settings.index_dir) is None, "a damaged index must not be opened"
    findings = store.doctor(repair=False)
    assert any("keyword index" in f for f in findings), findings

    fresh = Store(store.settings)  # another process starting on the damaged index: rebuilds, serves no damage
    for i in range(len(NAMES)):
        assert marker_found(fresh, i)
    index = fresh.keyword_index()
    assert index.fingerprint == fresh.fingerprint() and sorted(index.ids) == sorted(good_records)
    assert dict(index.records.items()) == good_records
    assert not any("被篡改" in r["text"] for r in index.records.values())

    CORRUPTIONS[how](store.settings.index_dir)  # again, on the rebuilt index: doctor repairs it too
    assert any("rebuilt" in f for f in store.doctor())
    assert store.doctor(repair=False) == []
    assert_intact(store, before)


def test_leftovers_of_a_killed_index_save_are_swept(tmp_path, versions, shared_cache):
    v1, _ = versions
    store = Store(Settings(home=tmp_path / "kw-home", cache_dir=shared_cache, auto_ingest=False))
    assert store.ingest([v1 / n for n in NAMES[:2]]).ok
    index_dir = store.settings.index_dir
    (index_dir.parent / ".kw-abandoned").mkdir()
    (index_dir.parent / ".kw-abandoned" / "index.json").write_text("{}", "utf-8")
    shutil.copytree(index_dir, index_dir.with_name(index_dir.name + ".old"))
    findings = store.doctor(repair=False)
    assert any("leftovers" in f for f in findings), findings
    store.doctor()
    assert store.doctor(repair=False) == []
    assert sorted(p.name for p in index_dir.parent.iterdir() if p.is_dir()) == [index_dir.name]
    record("faults: keyword-index corruptions")


# ------------------------------------------------------------------------------------------ Chroma server


@pytest.fixture
def chroma_server(chroma_exe, tmp_path):
    with open(tmp_path / "chroma.log", "w") as log, ChromaServer(chroma_exe, tmp_path / "chroma-data", log) as server:
        yield server


def _restart(server) -> None:
    """Start `chroma run` again on the same port and data directory."""
    server.start()


@pytest.mark.slow  # ~25 s: every refused call first retries for 3 s
def test_chroma_server_goes_away_and_comes_back(chroma_server, tmp_path, versions, shared_cache, assistant_exe):
    from assistant.bot import Assistant

    v1, v2 = versions
    settings = Settings(chroma_url=chroma_server.url, home=tmp_path / "srv-home", cache_dir=shared_cache,
                        collection="away_and_back", auto_ingest=False)
    bot = Assistant(settings)
    assert bot.ingest([v1 / n for n in NAMES[:3]]).ok
    before = snapshot(bot.store)
    answer_before = bot.ask("青山高新区2020年营业收入是多少?").text

    chroma_server.stop()
    record("faults: Chroma server stops")
    time.sleep(1.1)  # past the registry cache
    t0 = time.monotonic()
    with pytest.raises(StoreError) as info:
        bot.search(MARK_V1[0])
    waited = time.monotonic() - t0
    message = str(info.value)
    assert chroma_server.url in message and "chroma run" in message and "重试" in message, message
    assert 2.5 < waited < 15, waited  # it retried before giving up, and did give up
    with pytest.raises(AssistantError):
        bot.ask("青山高新区2020年营业收入是多少?")
    report = bot.ingest([v1 / NAMES[3], v2 / NAMES[0]])
    assert [r.status for r in report.results] == ["failed", "failed"], report
    assert all("chroma run" in r.reason for r in report.results), report
    with pytest.raises(StoreError, match="chroma run"):
        bot.remove(NAMES[1])
    with pytest.raises(StoreError, match="chroma run"):
        bot.store.doctor()
    env = child_env(tmp_path / "cli-home", shared_cache, ASSISTANT_CHROMA_URL=chroma_server.url,
                    ASSISTANT_COLLECTION="away_and_back")
    for args in (["docs"], ["ask", "青山高新区2020年营业收入是多少?"], ["ingest", str(v1 / NAMES[3])]):
        cli = subprocess.run([assistant_exe, *args], env=env, capture_output=True, text=True, timeout=120)
        no_traceback(cli.stdout, cli.stderr)
        assert cli.returncode == 2, cli.stderr
        assert len(cli.stderr.strip().splitlines()) == 1 and "chroma run" in cli.stderr, cli.stderr

    _restart(chroma_server)
    record("faults: Chroma server restarts")
    # the same objects work again: nothing to reopen, nothing lost
    assert bot.ask("青山高新区2020年营业收入是多少?").text == answer_before
    assert_intact(bot.store, before)
    report = bot.ingest([v1 / NAMES[3], v2 / NAMES[0]])
    assert [r.status for r in report.results] == ["added", "replaced"], report
    assert marker_found(bot.store, 3) and marker_found(bot.store, 0, version=2)
    assert not marker_found(bot.store, 0, version=1)
    bot.store.doctor()
    assert bot.store.doctor(repair=False) == []
    cli = subprocess.run([assistant_exe, "docs", "--json"], env=env, capture_output=True, text=True, timeout=120)
    assert cli.returncode == 0, cli.stderr
    assert sorted(d["doc"] for d in json.loads(cli.stdout)) == sorted(NAMES[:4])


def test_a_chroma_restart_during_requests_is_bridged_by_the_retry(chroma_server, tmp_path, versions,
                                                                   shared_cache):
    from assistant.bot import Assistant

    v1, _ = versions
    settings = Settings(chroma_url=chroma_server.url, home=tmp_path / "srv-home", cache_dir=shared_cache,
                        collection="restart_retry", auto_ingest=False)
    bot = Assistant(settings)
    assert bot.ingest([v1 / n for n in NAMES[:2]]).ok
    expected = [h.to_dict() for h in bot.search(MARK_V1[1])]
    for _ in range(2):
        chroma_server.stop()
        record("faults: Chroma server stops")
        restarter = threading.Thread(target=_restart, args=(chroma_server,))
        restarter.start()  # back in about a second; the request below starts while it is down
        time.sleep(1.1)
        try:
            assert [h.to_dict() for h in bot.search(MARK_V1[1])] == expected
            assert bot.ingest([v1 / NAMES[2]]).results[0].status in ("added", "unchanged")
        finally:
            restarter.join()
        record("faults: Chroma server restarts")
        expected = [h.to_dict() for h in bot.search(MARK_V1[1])]  # a new document changes the BM25 weights
    assert marker_found(bot.store, 2)


def test_doctor_finds_a_well_formed_index_that_lists_other_passages(tmp_path, versions, shared_cache):
    """An index file with the right fingerprint and a valid checksum, but not the registered passages (as a
    buggy writer or a copied file could leave): readers trust the fingerprint, doctor compares the passages."""
    v1, _ = versions
    store = Store(Settings(home=tmp_path / "kw-home", cache_dir=shared_cache, auto_ingest=False))
    assert store.ingest([v1 / n for n in NAMES[:3]]).ok
    good = store.keyword_index()
    forged = KeywordIndex()
    keep = good.ids[:-2]
    forged.build(keep, [good.records[i]["text"] for i in keep], good.fingerprint,
                 [good.records[i]["meta"] for i in keep])
    forged.save(store.settings.index_dir)
    assert KeywordIndex.load(store.settings.index_dir) is not None  # well-formed: loads
    findings = store.doctor(repair=False)
    assert any("does not list the registered passages" in f for f in findings), findings
    store.doctor()
    assert store.doctor(repair=False) == []
    assert sorted(KeywordIndex.load(store.settings.index_dir).ids) == sorted(good.ids)
    record("faults: keyword-index corruptions")


SLOW_INGEST = r"""
import json, sys
from assistant.config import Settings
from assistant.store import Store
report = Store(Settings.from_env()).ingest([sys.argv[1]])
print(json.dumps([[r.status, r.reason] for r in report.results], ensure_ascii=False))
"""


def test_doctor_against_a_server_leaves_another_process_ingest_alone(chroma_server, tmp_path, versions,
                                                                     shared_cache):
    """Against a server no file lock keeps doctor and a writer in another process apart. A writer paused between
    writing a new version's passages and registering it: its passages look like orphans and the document looks
    short of passages; doctor must delete neither, or the version it then registers would be incomplete."""
    v1, v2 = versions
    settings = Settings(chroma_url=chroma_server.url, home=tmp_path / "doctor-home", cache_dir=shared_cache,
                        collection="doctor_race", auto_ingest=False)
    store = Store(settings)
    assert store.ingest([v1 / n for n in NAMES[:2]]).ok
    old_hash = store.documents(max_age=0)[NAMES[0]]["doc_hash"]
    env = child_env(tmp_path / "writer-home", shared_cache, ASSISTANT_CHROMA_URL=chroma_server.url,
                    ASSISTANT_COLLECTION="doctor_race", ASSISTANT_FAULT_DELAY="passages_upserted:3")
    proc = subprocess.Popen([sys.executable, "-c", SLOW_INGEST, str(v2 / NAMES[0])], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # until the new version's passages are in, unregistered
            got = store._passages.get(where={"doc": NAMES[0]}, include=["metadatas"])
            if {m["doc_hash"] for m in got["metadatas"]} - {old_hash}:
                break
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.05)
        findings = store.doctor()  # waits out its grace period while the writer registers its version
        record("faults: doctor runs racing a writer process")
    finally:
        out, err = proc.communicate(timeout=120)
    no_traceback(err)
    assert proc.returncode == 0 and json.loads(out.strip().splitlines()[-1])[0][0] == "replaced", (out, err)
    assert not any("removed" in f for f in findings), findings
    store._invalidate()
    docs = store.documents(max_age=0)
    ids, texts, metas = store.active_passages(docs)
    assert docs[NAMES[0]]["doc_hash"] != old_hash
    assert sum(1 for m in metas if m["doc"] == NAMES[0]) == docs[NAMES[0]]["n_passages"]
    assert marker_found(store, 0, version=2) and not marker_found(store, 0, version=1)
    assert store.doctor(repair=False) == []
    # and a document really short of passages is still found and removed, against the server too
    some = store._passages.get(where={"doc": NAMES[1]})["ids"][:2]
    store._passages.delete(ids=some)
    findings = store.doctor(grace=0)
    assert any(NAMES[1] in f and "registry says" in f for f in findings), findings
    assert NAMES[1] not in store.documents(max_age=0) and NAMES[0] in store.documents(max_age=0)
    assert store._passages.get(where={"doc": NAMES[1]})["ids"] == []
