"""Fixtures for the reliability tests: synthetic documents in two versions, and the figures they report.

Child processes (the crash test's ingests, the server-mode writers) get ASSISTANT_HOME, the session's shared
embedding cache and no auto-ingest (reliability_kit.child_env); nothing they do touches the user's real store.
At the end of a run the figures (faults injected, bad inputs tried, operations, documents lost) are printed,
and written as JSON to $ASSISTANT_RELIABILITY_REPORT when that is set.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from reliability_kit import FIGURES  # noqa: E402
from synthetic import write_versions  # noqa: E402


@pytest.fixture(scope="session")
def versions(tmp_path_factory, shared_cache):
    """Folders v1/ and v2/ holding the five synthetic documents under the same names, embedded once into the
    shared cache (so that every later ingest of either version costs no model time)."""
    from assistant.config import Settings
    from assistant.store import Store

    root = tmp_path_factory.mktemp("versions")
    v1, v2 = write_versions(root)
    warm = Store(Settings(home=root / "warm-home", cache_dir=shared_cache, auto_ingest=False))
    for folder in (v1, v2):
        report = warm.ingest(sorted(folder.iterdir()))
        assert report.ok, report
    return v1, v2


def pytest_terminal_summary(terminalreporter):
    if not FIGURES:
        return
    terminalreporter.section("reliability figures")
    for key in sorted(FIGURES):
        terminalreporter.write_line(f"{key:<64} {FIGURES[key]}")
    out = os.environ.get("ASSISTANT_RELIABILITY_REPORT")
    if out:
        Path(out).write_text(json.dumps(FIGURES, ensure_ascii=False, indent=2, sort_keys=True), "utf-8")
