"""Shared fixtures: isolated homes, one embedding cache per session, one ingested corpus per session.

Embedding the five bundled documents with e5 takes ~26 s on 2 cores, so it happens once: `corpus_home`
ingests them into a session store, and every other home shares `shared_cache` (vectors keyed by model and
text), which makes re-ingesting the same passages elsewhere nearly free.

Nothing here or in the tests may touch the user's real store (~/.local/share/zone-assistant): the session
starts by pointing ASSISTANT_HOME and XDG_DATA_HOME at temporary directories and clearing every other
ASSISTANT_* variable, so a developer's own configuration (a Chroma URL, another model) cannot leak in.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEV_EVAL = next((p for p in (Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl",
                 Path("/work/shared/eval/dev.jsonl")) if p.exists()), Path("/work/shared/eval/dev.jsonl"))


def _console_script(name: str) -> str:
    local = Path(sys.executable).parent / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        pytest.skip(f"console script {name!r} is not installed")
    return found


@pytest.fixture(scope="session")
def shared_cache(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("embedding-cache")


@pytest.fixture(scope="session", autouse=True)
def _isolated_environment(tmp_path_factory, shared_cache):
    """Session-wide env: a throwaway home and data dir, the shared embedding cache, offline hub."""
    mp = pytest.MonkeyPatch()
    for key in list(os.environ):
        if key.startswith("ASSISTANT_"):
            mp.delenv(key)
    mp.setenv("ASSISTANT_HOME", str(tmp_path_factory.mktemp("default-home")))
    mp.setenv("XDG_DATA_HOME", str(tmp_path_factory.mktemp("xdg-data")))
    mp.setenv("ASSISTANT_CACHE_DIR", str(shared_cache))
    mp.setenv("HF_HUB_OFFLINE", "1")
    mp.setenv("TRANSFORMERS_OFFLINE", "1")
    mp.setenv("TOKENIZERS_PARALLELISM", "false")
    yield
    mp.undo()


@pytest.fixture(scope="session")
def corpus_home(tmp_path_factory, shared_cache):
    """An Assistant over the bundled corpus, ingested once for the session. Treat it as read-only."""
    from assistant.bot import Assistant
    from assistant.config import Settings

    home = tmp_path_factory.mktemp("corpus-home")
    settings = Settings(home=home, cache_dir=shared_cache, auto_ingest=True)
    bot = Assistant(settings)
    assert len(bot.documents()) == 5, bot.documents()
    yield bot


@pytest.fixture
def settings_factory(tmp_path, shared_cache, monkeypatch):
    """Fresh, empty homes: `settings_factory(name="a", **overrides)`; no auto-ingest unless asked."""
    from assistant.config import Settings

    monkeypatch.setenv("ASSISTANT_AUTO_INGEST", "0")

    def make(name: str = "home", **overrides) -> Settings:
        values = dict(home=tmp_path / name, cache_dir=shared_cache, auto_ingest=False)
        values.update(overrides)
        return Settings(**values)

    return make


@pytest.fixture(scope="session")
def bundled():
    """name -> Path of the five bundled documents."""
    from assistant.loading import bundled_files

    files = {p.name: p for p in bundled_files()}
    assert len(files) == 5
    return files


@pytest.fixture(scope="session")
def clean_docs(bundled):
    """name -> LoadedDoc parsed without the manifest."""
    from assistant.loading import parse_text

    return {n: parse_text(p.read_text("utf-8"), n) for n, p in bundled.items()}


@pytest.fixture(scope="session")
def dev_eval_path() -> Path:
    if not DEV_EVAL.exists():
        pytest.skip(f"{DEV_EVAL} not found")
    return DEV_EVAL


@pytest.fixture(scope="session")
def dev_items(dev_eval_path):
    return [json.loads(line) for line in dev_eval_path.read_text("utf-8").splitlines() if line.strip()]


@pytest.fixture(scope="session")
def assistant_exe() -> str:
    return _console_script("assistant")


@pytest.fixture(scope="session")
def chroma_exe() -> str:
    return _console_script("chroma")

