"""Helpers shared by the reliability tests (a module of its own: `conftest` is a name several folders use)."""

from __future__ import annotations

import contextlib
import os
import subprocess
from pathlib import Path

FIGURES: dict[str, int] = {}


def record(key: str, n: int = 1) -> None:
    """Count what the tests did (faults injected, bad inputs tried, operations run, documents lost …)."""
    FIGURES[key] = FIGURES.get(key, 0) + n


def seconds(name: str, default: float) -> float:
    """Durations of the long tests, shortened for a quick local run (RELIABILITY_SECONDS=10)."""
    try:
        return float(os.environ.get(name, "") or default)
    except ValueError:
        return default


def child_env(home: Path, shared_cache: Path, **extra) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(ASSISTANT_HOME=str(home), ASSISTANT_CACHE_DIR=str(shared_cache), ASSISTANT_AUTO_INGEST="0",
               OMP_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    env.update({k: str(v) for k, v in extra.items()})
    return env


@contextlib.contextmanager
def mounted_tmpfs(path: Path, size: str):
    """A tmpfs of `size` at path (needs root and mount rights); yields False when it cannot be mounted."""
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        yield False
        return
    res = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(path)],
                         capture_output=True, text=True)
    if res.returncode != 0:
        yield False
        return
    try:
        yield True
    finally:
        subprocess.run(["umount", "-l", str(path)], capture_output=True)


def no_traceback(*outputs: str) -> None:
    """What a user would see (a CLI's stdout and stderr, a failure reason) holds no Python traceback."""
    record("outputs a user sees, checked for a traceback")
    for text in outputs:
        assert "Traceback (most recent call last)" not in (text or ""), text
