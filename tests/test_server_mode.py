"""Server mode: the store against a real `chroma run` server (ASSISTANT_CHROMA_URL)."""

from __future__ import annotations

import subprocess
import time

import pytest

from chroma_server import ChromaServer, free_port

from assistant.config import Settings
from assistant.errors import StoreError
from assistant.retrieval import HybridRetriever
from assistant.store import Store

D002 = "002_e3c827dfd055a908.txt"
D003 = "003_944198d32a153964.txt"


@pytest.fixture(scope="module")
def server(chroma_exe, tmp_path_factory):
    root = tmp_path_factory.mktemp("chroma-server")
    with open(root / "server.log", "w") as log:
        srv = ChromaServer(chroma_exe, root / "data", log)
        try:
            yield srv
        finally:
            srv.stop()


@pytest.fixture
def server_settings(server, tmp_path, shared_cache, corpus_home):  # corpus_home: warm embedding cache
    def make(collection: str = "srv_test", home_name: str = "srv-home") -> Settings:
        return Settings(chroma_url=server.url, home=tmp_path / home_name, cache_dir=shared_cache,
                        collection=collection, auto_ingest=False)
    return make


def test_ingest_search_remove_on_a_server(server_settings, bundled):
    settings = server_settings()
    store = Store(settings)
    assert store.server_mode
    report = store.ingest([bundled[D002], bundled[D003]])
    assert [r.status for r in report.results] == ["added", "added"]
    assert not settings.chroma_dir.exists()  # nothing stored locally but the keyword index

    retriever = HybridRetriever(store=store, k=5)
    hits = retriever.search("规模工业总产值增长了多少", zone="常德经开区")
    assert hits and {h.doc for h in hits} == {D002}
    hits = retriever.search("长沙经开区产业链现代化攻坚战")
    assert hits[0].doc == D003
    assert store.document_text(D003)[hits[0].start:hits[0].end] == hits[0].text

    # another client (another process, another machine: its own home) sees the same documents
    other = Store(server_settings(home_name="other-home"))
    assert set(other.documents()) == {D002, D003}
    hits = HybridRetriever(store=other, k=3).search("常德经开区规模工业总产值")
    assert hits and hits[0].doc == D002
    assert other.ingest([bundled[D002]]).results[0].status == "unchanged"

    assert store.remove(D003) > 0
    assert store._passages.get(where={"doc": D003})["ids"] == []
    time.sleep(1.1)  # the other client's registry cache
    assert set(other.documents()) == {D002}
    hits = HybridRetriever(store=other, k=5).search("产业链现代化攻坚战")
    assert all(h.doc == D002 for h in hits)


def test_collections_are_separate_on_one_server(server_settings, bundled):
    a = Store(server_settings(collection="srv_a"))
    b = Store(server_settings(collection="srv_b"))
    a.ingest([bundled[D003]])
    assert set(a.documents()) == {D003}
    assert b.documents() == {}


def test_server_gone(chroma_exe, tmp_path, shared_cache):
    with open(tmp_path / "server.log", "w") as log:
        srv = ChromaServer(chroma_exe, tmp_path / "data", log)
        settings = Settings(chroma_url=srv.url, home=tmp_path / "home", cache_dir=shared_cache,
                            collection="srv_gone", auto_ingest=False)
        try:
            Store(settings)  # works while the server runs
        finally:
            srv.stop()
    with pytest.raises(StoreError) as info:
        Store(settings)
    message = str(info.value)
    assert srv.url in message
    assert "chroma run" in message and "ASSISTANT_CHROMA_URL" in message


def test_unreachable_url_is_a_store_error(tmp_path, shared_cache):
    settings = Settings(chroma_url=f"http://127.0.0.1:{free_port()}", home=tmp_path, cache_dir=shared_cache,
                        auto_ingest=False)
    with pytest.raises(StoreError, match="Chroma"):
        Store(settings)


def test_cli_with_server_gone(assistant_exe, tmp_path):
    import os

    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path), "ASSISTANT_CHROMA_URL": f"http://127.0.0.1:{free_port()}"}
    res = subprocess.run([assistant_exe, "docs"], env=env, capture_output=True, text=True, timeout=120)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert len(res.stderr.strip().splitlines()) == 1 and "chroma run" in res.stderr
