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
    chroma_url: str = ""  # http://host:port: use a Chroma server instead of the local store
    collection: str = "zone_docs"
    auto_ingest: bool = True  # an empty store ingests the bundled corpus on first use
    max_file_mb: int = 20
    max_question_chars: int = 500  # longer questions are cut, with a note, not refused
    top_k: int = 5
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
            chroma_url=env.get("ASSISTANT_CHROMA_URL", "").strip(),
            collection=env.get("ASSISTANT_COLLECTION", "").strip() or "zone_docs",
            auto_ingest=_env_bool("ASSISTANT_AUTO_INGEST", True),
            max_file_mb=_env_int("ASSISTANT_MAX_FILE_MB", 20),
            max_question_chars=_env_int("ASSISTANT_MAX_QUESTION_CHARS", 500),
            top_k=_env_int("ASSISTANT_TOP_K", 5),
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
