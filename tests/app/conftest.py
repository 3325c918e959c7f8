"""Fixtures for the app tests: AppTest runs of app.py against a chosen store.

The app reads its settings from the environment (ASSISTANT_HOME …) and keeps one Assistant per store in
st.cache_resource, keyed by those settings, so each test gets the store it names:
- `read_home`: the session's ingested bundled corpus (conftest's corpus_home). Read-only: questions only.
- `fresh_home`: an empty directory per test; the app's first run ingests the bundled corpus into it (fast:
  the embeddings come from the session's shared cache). Tests that upload or remove use this.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from apphelpers import APP


@pytest.fixture
def read_home(corpus_home) -> Path:
    return Path(corpus_home.settings.home)


@pytest.fixture
def fresh_home(tmp_path, corpus_home) -> Path:
    """An empty home (corpus_home first, so the shared embedding cache already holds the corpus)."""
    home = tmp_path / "app-home"
    home.mkdir()
    return home


@pytest.fixture
def make_app(monkeypatch, shared_cache):
    """make_app(home, auto_ingest=True, **env) -> an AppTest of app.py on that store (not yet run)."""
    from streamlit.testing.v1 import AppTest

    def make(home: Path, auto_ingest: bool = True, **env) -> "AppTest":
        monkeypatch.setenv("ASSISTANT_HOME", str(home))
        monkeypatch.setenv("ASSISTANT_CACHE_DIR", str(shared_cache))
        monkeypatch.setenv("ASSISTANT_AUTO_INGEST", "1" if auto_ingest else "0")
        # the app sets OMP_NUM_THREADS if unset: set it here so that it is undone after the test
        monkeypatch.setenv("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "1"))
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        return AppTest.from_file(str(APP), default_timeout=90)

    return make
