"""Chroma store (local or server), the document registry, the keyword index; ingest and delete.

Three Chroma collections: `<name>` holds the passages with their vectors; `<name>__pending` holds passages
that have no vector yet (with a one-number placeholder, never searched by vector); `<name>__docs` holds one
record per document (its clean text, metadata, content hash and vector state). A document's registry record
is the commit point of an ingest: new passages are written first under new content-derived IDs, then the
record is switched, then the old passages are deleted. Queries only see passages whose hash is the registered
one, so a crash at any point leaves each document wholly old or wholly new; `doctor` sweeps the orphans.

Keyword first (`ingest(wait=False)`, the app's upload and `assistant ingest`): a document is committed with
the vectors the embedding cache already has; its other passages go to `__pending`, the record says
`vectors: "pending"`, the keyword index is updated (postings merged, see keyword.py) and the ingest returns:
the document is answerable by keyword. `fill_vectors` (a thread of this process, `assistant vectors --fill`,
or `doctor`) then embeds the pending passages in batches, and for each batch, under the write lock and only if
the document's registered version is still the one they belong to, moves them to `<name>` with their vectors;
a document whose pending passages are all moved gets `vectors_hash` = its hash (ready). A passage is in
`__pending`, in `<name>`, or (after a kill between the two writes) briefly in both: readers merge by id.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import sqlite3
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlparse

import numpy as np
from langchain_core.embeddings import Embeddings

from .chunking import PAGE_INFO, chunk, enumeration_count, heading_level, page_info_passage, search_text
from .config import Settings, fault_point
from .embeddings import get_embeddings, model_id
from .errors import AssistantError, EditError, LoadError, ModelMismatchError, StoreError
from .keyword import KeywordIndex, PassageRows, rows_path
from .loading import LoadedDoc, bundled_files, bundled_manifest, load_document, safe_name
from .text import fold, normalize, tokenize
from .userlex import UserLexicon, load as load_user_lexicon, path_in as user_lexicon_path

SCHEMA = 1
Progress = Callable[[str, int, int], None]  # (message, done, total)


@dataclass
class FileResult:
    name: str
    status: str  # added | unchanged | replaced | failed
    passages: int = 0
    reason: str = ""


@dataclass
class _Pending:
    """A document chunked (and embedded, or partly: None where a vector is still missing), not yet written."""
    name: str
    doc_hash: str
    text: str
    ids: list[str]
    texts: list[str]
    metas: list[dict]
    vectors: list[list[float] | None]
    record: dict
    old: dict | None
    tokens: list[list[str]] = field(default_factory=list)  # keyword tokens per passage


_UPSERT_BATCH = 1000  # passages per Chroma write call, and how many an ingest gathers before it writes
_DOCS_PER_COMMIT = 50  # documents per registry write (each record carries its document's text)
_FILL_BATCH = 64  # passages a filler embeds and moves per write
_INDEX_EVERY = 20.0  # seconds: during a long ingest, the keyword index takes in what was committed this often
_PAGE = 5000  # records per Chroma get when reading many
_EXACT_UP_TO = 5000  # vector_progress counts per document up to this many waiting passages (unless asked)
_PLACEHOLDER = [1.0]  # the vector of a passage in `__pending` (that collection is never searched by vector)


def vector_state(meta: dict) -> str:
    """"ready" (every passage of the registered version has its vector) or "pending"."""
    if meta.get("vectors") == "pending" and meta.get("vectors_hash") != meta.get("doc_hash"):
        return "pending"
    return "ready"


@dataclass
class IngestReport:
    results: list[FileResult] = field(default_factory=list)

    def count(self, status: str) -> int:
        return sum(1 for r in self.results if r.status == status)

    @property
    def ok(self) -> bool:
        return not any(r.status == "failed" for r in self.results)


class _LazyEmbeddings(Embeddings):
    """Defers loading the model until a vector is needed: `docs` and `remove` should not pay for it."""

    def __init__(self, spec: str, prompt: str, engine: str | None = None) -> None:
        self.spec, self.prompt, self.engine = spec, prompt, engine

    def embed_documents(self, texts):
        return get_embeddings(self.spec, self.prompt, self.engine).embed_documents(texts)

    def embed_query(self, text):
        return get_embeddings(self.spec, self.prompt, self.engine).embed_query(text)


class EmbeddingCache:
    """Vectors by (model, text) hash in SQLite, so that re-ingesting known content costs no model time."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
            self._db.execute("CREATE TABLE IF NOT EXISTS vec (key TEXT PRIMARY KEY, v BLOB)")
            self._db.commit()
        except (sqlite3.Error, OSError):
            self._db = None  # a cache is optional: a read-only or odd path just means no caching

    @staticmethod
    def key(model: str, text: str) -> str:
        return hashlib.sha1(f"{model}\x00{text}".encode("utf-8")).hexdigest()

    def get_many(self, keys: list[str]) -> dict[str, list[float]]:
        if self._db is None or not keys:
            return {}
        out = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                part = keys[i:i + 500]
                rows = self._db.execute(
                    f"SELECT key, v FROM vec WHERE key IN ({','.join('?' * len(part))})", part).fetchall()
                out.update({k: np.frombuffer(v, dtype=np.float32).tolist() for k, v in rows})
        return out

    def put_many(self, items: dict[str, list[float]]) -> None:
        if self._db is None or not items:
            return
        with self._lock:
            try:
                self._db.executemany("INSERT OR REPLACE INTO vec VALUES (?, ?)",
                                     [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()])
                self._db.commit()
            except sqlite3.Error:
                self._db.rollback()


def passage_id(name: str, doc_hash: str, start: int, end: int) -> str:
    return hashlib.sha1(f"{name}|{doc_hash}|{start}|{end}".encode("utf-8")).hexdigest()[:24]


def embed_text(meta: dict, section: str, text: str) -> str:
    """What the dense model sees: the zone and section path give a passage the context its text omits."""
    head = " ".join(x for x in (meta.get("zone", ""), section) if x)
    return fold(f"{head}\n{text}" if head else text)  # a traditional-character repost reads as simplified


def _head(text: str) -> int:
    """A passage's heading level for ranking: 0 when it opens with no heading; a report's parts (第一部分, level
    0) count as top level (1) like 一、."""
    level = heading_level(text.split("\n", 1)[0])
    return 0 if level is None else max(1, level)


def keyword_text(section: str, text: str) -> str:
    return f"{section}\n{text}" if section else text


# What a curator may correct (assistant meta), and the kinds a document may be of (lexicon [kinds] and "文件").
EDITABLE = ("zone", "title", "year", "date", "speaker", "kind")
_LIMITS = {"zone": 40, "title": 200, "speaker": 30, "date": 10, "kind": 20}


def document_kinds() -> list[str]:
    from .lexicon import pairs

    return list(dict.fromkeys([k for _, k in pairs("kinds", "words")] + ["文件"]))


def check_edits(fields: dict) -> dict:
    """The curator's values, checked and normalised (year an int, date YYYY-MM-DD); None values dropped.
    A date without a year sets the year too. Bad values raise EditError."""
    unknown = [k for k in fields if k not in EDITABLE]
    if unknown:
        raise EditError(f"不能修改的字段: {', '.join(unknown)}；可改: {', '.join(EDITABLE)}。")
    out: dict = {}
    for key, value in fields.items():
        if value is None:
            continue
        if key == "year":
            text = str(value).strip().rstrip("年")
            if text == "":
                out["year"] = ""
                continue
            if not text.isdigit() or not 1949 <= int(text) <= 2100:
                raise EditError(f"年份 {value!r} 无效：应是 1949-2100 之间的四位数字，例如 2021。")
            out["year"] = int(text)
            continue
        text = str(value).strip()
        if re.search(r"[\x00-\x1f]", text):
            raise EditError(f"{key} 的值不能含换行或控制字符。")
        if len(text) > _LIMITS[key]:
            raise EditError(f"{key} 的值太长（{len(text)} 字，上限 {_LIMITS[key]} 字）。")
        if key == "date" and text:
            from .metadata import iso_date

            iso = iso_date(text) if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else text
            if not iso or not (1 <= int(iso[5:7]) <= 12 and 1 <= int(iso[8:10]) <= 31):
                raise EditError(f"日期 {value!r} 无效：应写作 2021-02-04 或 2021年2月4日。")
            text = iso
            if fields.get("year") is None:
                out["year"] = int(iso[:4])
        if key == "kind" and text and text not in document_kinds():
            raise EditError(f"未知的文档类型 {value!r}；可用: {'、'.join(document_kinds())}。")
        if key == "kind" and not text:
            raise EditError("文档类型不能为空。")
        out[key] = text
    return out


def _user_meta(raw) -> dict:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {k: v for k, v in data.items() if k in EDITABLE} if isinstance(data, dict) else {}


def _sources_with(sources: str, fields) -> str:
    """meta_sources ("zone:title,year:body") with each of `fields` said to come from the curator."""
    pairs_ = [p.split(":", 1) for p in str(sources or "").split(",") if ":" in p]
    out = {k: v for k, v in pairs_}
    out.update({k: "curator" for k in fields})
    return ",".join(f"{k}:{v}" for k, v in out.items())


def apply_edits(meta: dict, user_meta) -> dict:
    """A loader's metadata with a curator's edits (the record's `user_meta` JSON) over it."""
    edits = _user_meta(user_meta)
    if not edits:
        return meta
    out = {**meta, **{k: v for k, v in edits.items() if v != ""}}
    if edits.get("year") == "":
        out.pop("year", None)  # a cleared year is no year (strings are cleared to "")
    out["user_meta"] = user_meta if isinstance(user_meta, str) else json.dumps(edits, ensure_ascii=False)
    out["meta_sources"] = _sources_with(meta.get("meta_sources", ""), edits)
    return out


def _flat(meta: dict) -> dict:
    """Chroma metadata values must be scalars."""
    out = {}
    for k, v in meta.items():
        if isinstance(v, (str, int, float, bool)):
            out[k] = v
        elif v is not None:
            out[k] = str(v)
    return out


_TRANSIENT = {"ConnectError", "ConnectTimeout", "ReadError", "ReadTimeout", "WriteError", "WriteTimeout",
              "PoolTimeout", "RemoteProtocolError", "ConnectionError", "TimeoutError"}


def _chain(exc: BaseException) -> list[BaseException]:
    out: list[BaseException] = []
    cur: BaseException | None = exc
    while cur is not None and len(out) < 10:
        out.append(cur)
        cur = cur.__cause__ or cur.__context__
    return out


def _is_transient(exc: BaseException) -> bool:
    """A network error talking to a Chroma server (refused, reset, timed out): worth a retry."""
    return any({c.__name__ for c in type(e).__mro__} & _TRANSIENT for e in _chain(exc))


def _cause(exc: BaseException) -> str:
    """What went wrong, for a user: disk full and read-only stores named as such."""
    text = " ".join(f"{type(e).__name__}: {e}" for e in _chain(exc)).lower()
    errnos = {getattr(e, "errno", None) for e in _chain(exc)}
    if errnos & {28, 27} or "disk is full" in text or "no space left" in text or "file too large" in text:
        return "磁盘空间已满或超出文件大小限制 (disk full)，请释放存储所在磁盘的空间后重试"
    if errnos & {5} or "disk i/o error" in text:  # SQLite's word for a failed write (EFBIG, EIO)
        return "磁盘读写错误 (disk I/O error)：磁盘可能已满或出错，请检查存储所在磁盘后重试"
    if 30 in errnos or "readonly" in text or "read-only" in text:
        return "存储是只读的 (read-only store)，请设置可写的 ASSISTANT_HOME"
    return f"{type(exc).__name__}: {str(exc)[:200]}"


_GENERATIONS: dict[str, int] = {}  # local store path -> how often its Chroma engine was discarded


def _forget_local_engine(ident: str, system=None) -> bool:
    """Drop chromadb's process-wide engine for a local path (only `system`, when given), so that the next
    PersistentClient on it starts a new one. True when one was dropped."""
    try:
        from chromadb.api.shared_system_client import SharedSystemClient as shared

        with shared._refcount_lock:
            cached = shared._identifier_to_system.get(ident)
            if cached is None or (system is not None and cached is not system):
                return False
            shared._identifier_to_system.pop(ident, None)
            shared._identifier_to_refcount.pop(ident, None)
            return True
    except Exception:  # a chromadb without these internals: nothing to drop
        return False


# The registry and `__pending` are compacted every 50 writes instead of Chroma's default 1,000: each registry
# record carries its document's text, and Chroma's local engine reads every record written since the last
# compaction on every read or write of the collection: at 300 documents a registry write took 0.2-3.5 s (growing
# with the records since the last compaction), with this 0.01 s. The passages collection keeps the default
# (compacting rebuilds its HNSW index).
_SHORT_LOG = {"hnsw:sync_threshold": 50, "hnsw:batch_size": 50}


def _shorten_log(col) -> None:
    """A collection created before _SHORT_LOG gets it (Chroma applies it from the next opening on)."""
    with contextlib.suppress(Exception):  # read-only store, a server that refuses: writes are just slower
        hnsw = (col.configuration or {}).get("hnsw") or {}
        if int(hnsw.get("sync_threshold") or 0) > _SHORT_LOG["hnsw:sync_threshold"]:
            col.modify(configuration={"hnsw": {"sync_threshold": _SHORT_LOG["hnsw:sync_threshold"],
                                               "batch_size": _SHORT_LOG["hnsw:batch_size"]}})


def _manifest_for(path: Path) -> dict:
    """A manifest.json beside a file may override its metadata ({"file.txt": {"zone": …}})."""
    import json

    manifest = path.parent / "manifest.json"
    try:
        data = json.loads(manifest.read_text("utf-8")) if manifest.is_file() else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


_FEW_DOCS = 16  # a dense search over at most this many documents is an exact cosine over their kept vectors


class _DocVectors:
    """The passage vectors of recently searched document versions, at most `limit` rows in all (≈ 30 MB), least
    recently used dropped first. A version's passages never change: a new version has a new hash."""

    def __init__(self, limit: int = 20_000) -> None:
        self._items: OrderedDict[str, tuple[list[str], np.ndarray]] = OrderedDict()
        self._rows = 0
        self._limit = limit
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
            return item

    def put(self, key: str, item: tuple[list[str], np.ndarray]) -> None:
        with self._lock:
            if key in self._items or len(item[0]) > self._limit:
                return
            self._items[key] = item
            self._rows += len(item[0])
            while self._rows > self._limit:
                _, (ids, _m) = self._items.popitem(last=False)
                self._rows -= len(ids)


class Store:
    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.model_id = getattr(embeddings, "model_id", None) or model_id(self.settings.embedding)
        self.embeddings = embeddings or _LazyEmbeddings(self.settings.embedding, self.settings.st_query_prompt,
                                                        self.settings.e5_engine)
        self._lock = threading.RLock()  # the cached registry and keyword index
        self._write_lock = threading.RLock()  # one writer at a time in this process (readers never wait for it)
        self._doc_vectors = _DocVectors()  # the vectors of recently searched documents, by version (dense_search)
        self._registry: dict[str, dict] | None = None
        self._registry_at = 0.0
        self._curated_cache: tuple | None = None  # (key, registry, curated registry): see _curated
        self._keyword: KeywordIndex | None = None
        self._rebuild_lock = threading.Lock()  # one keyword-index rebuild at a time; readers do not wait for it
        self._guard_depth = threading.local()  # _write_guard is re-entrant per thread
        self._fill_lock = threading.Lock()  # the background filler's state
        self._filler: threading.Thread | None = None
        self._fill_again = False
        self._fill_stop = threading.Event()
        self._fill_error = ""
        self._progress_cache: tuple[float, dict] | None = None
        self._texts: dict[tuple[str, str], str] = {}  # (name, hash) -> clean text, most recently used last
        self._texts_lock = threading.Lock()
        self._qvecs: OrderedDict[str, list[float]] = OrderedDict()
        self._qvec_lock = threading.Lock()
        self._client = self._connect()
        self._generation = _GENERATIONS.get(str(self.settings.chroma_dir), 0)
        self._open_collections()
        self._cache = EmbeddingCache(self.settings.embedding_cache)

    # ------------------------------------------------------------------------------------ opening

    @property
    def server_mode(self) -> bool:
        return bool(self.settings.chroma_url)

    def _discard_local_engine(self) -> None:
        """After a failed write to the local store, the next write opens a fresh Chroma engine for the path.

        chromadb 1.5's local engine can hang for ever, holding the GIL, on the write after a delete that failed
        on a full disk; a new engine on the same files does not. The old one keeps serving reads until then;
        every Store of this process on the path switches at its next write (the generation count)."""
        if self.server_mode:
            return
        with contextlib.suppress(Exception):
            if _forget_local_engine(self._client._identifier, self._client._system):
                key = str(self.settings.chroma_dir)
                _GENERATIONS[key] = _GENERATIONS.get(key, 0) + 1

    def _reopen_if_discarded(self) -> None:
        if not self.server_mode and _GENERATIONS.get(str(self.settings.chroma_dir), 0) != self._generation:
            generation = _GENERATIONS.get(str(self.settings.chroma_dir), 0)
            self._client = self._connect()
            self._open_collections()
            self._generation = generation
            self._invalidate()

    def _chroma(self, what: str, fn, *args, **kwargs):
        """One Chroma call; errors become a StoreError that says what failed and why. Against a server, a
        network error is retried (a restart, a dropped keep-alive connection) before it is reported."""
        attempts = 4 if self.server_mode else 1  # waits 0.5 + 1 + 1.5 s: a `chroma run` restart takes ~1 s
        for attempt in range(attempts):
            try:
                return fn(*args, **kwargs)
            except Exception as exc:
                transient = self.server_mode and _is_transient(exc)
                if transient and attempt + 1 < attempts:
                    time.sleep(0.5 * (attempt + 1))
                    continue
                if getattr(fn, "__name__", "") in ("upsert", "delete", "add", "update"):
                    self._discard_local_engine()
                if transient:
                    raise StoreError(
                        f"{what}失败：Chroma 服务器 {self.settings.chroma_url} 无法访问 ({type(exc).__name__})。"
                        "请确认 `chroma run` 正在运行；服务恢复后重试即可，已存入的文档不受影响。") from exc
                raise StoreError(f"{what}失败：{_cause(exc)}。") from exc

    def _get_all(self, what: str, col, include: list[str], where: dict | None = None) -> dict:
        """col.get of every matching record, page by page: one get of more than ~32k records fails in Chroma's
        local engine ("too many SQL variables")."""
        out: dict = {"ids": [], "documents": [], "metadatas": []}
        offset = 0
        while True:
            got = self._chroma(what, col.get, where=where, include=include, limit=_PAGE, offset=offset)
            out["ids"] += got["ids"]
            for key in ("documents", "metadatas"):
                if key in include:
                    out[key] += got[key] or []
            if len(got["ids"]) < _PAGE:
                return out
            offset += _PAGE

    @staticmethod
    def _where_hashes(hashes: list[str]) -> dict | None:
        """A filter on these document hashes, or None (read all and filter here) when they are many: a `$in`
        over thousands of values costs Chroma more than the records it spares."""
        if len(hashes) > 200:
            return None
        return {"doc_hash": {"$in": hashes}} if len(hashes) > 1 else {"doc_hash": hashes[0]}

    def _connect(self):
        import chromadb
        from chromadb.config import Settings as ChromaSettings

        chroma_settings = ChromaSettings(anonymized_telemetry=False)
        if self.server_mode:
            url = urlparse(self.settings.chroma_url)
            try:
                client = chromadb.HttpClient(host=url.hostname or "localhost", port=url.port or 8000,
                                             ssl=url.scheme == "https", settings=chroma_settings)
                client.heartbeat()
                return client
            except Exception as exc:
                raise StoreError(
                    f"无法连接 Chroma 服务器 {self.settings.chroma_url} ({type(exc).__name__})。"
                    "请确认 `chroma run` 正在运行，或取消 ASSISTANT_CHROMA_URL 以使用本地存储。") from exc
        path = self.settings.chroma_dir
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(f"无法创建存储目录 {path}: {exc.strerror}。请设置可写的 ASSISTANT_HOME。") from exc
        try:
            return chromadb.PersistentClient(path=str(path), settings=chroma_settings)
        except Exception as exc:
            _forget_local_engine(str(path))  # a half-started engine must not be reused by the next attempt
            why = _cause(exc)
            hint = ("" if why.startswith(("磁盘", "存储是只读")) else
                    "目录可能只读或已损坏: 运行 `assistant doctor`，或换一个 ASSISTANT_HOME。")
            raise StoreError(f"无法打开存储 {path} ({why})。{hint}") from exc

    def _open_collections(self) -> None:
        from langchain_chroma import Chroma

        name = self.settings.collection
        try:
            self._passages = self._client.get_or_create_collection(
                name, metadata={"embedding_model": self.model_id, "schema": SCHEMA, "hnsw:space": "cosine"})
            self._docs = self._client.get_or_create_collection(name + "__docs", metadata={"schema": SCHEMA, **_SHORT_LOG})
            self._unembedded = self._client.get_or_create_collection(name + "__pending",
                                                                     metadata={"schema": SCHEMA, **_SHORT_LOG})
        except Exception as exc:
            raise StoreError(
                f"无法打开集合 {name!r} ({type(exc).__name__}: {str(exc)[:200]})。"
                "存储可能只读或写了一半: 运行 `assistant doctor`。") from exc
        for col in (self._docs, self._unembedded):
            _shorten_log(col)
        stored = (self._passages.metadata or {}).get("embedding_model")
        if stored and stored != self.model_id:
            raise ModelMismatchError(
                f"存储 {name!r} 是用嵌入模型 {stored!r} 建立的，当前配置为 {self.model_id!r}。"
                f"请设置 ASSISTANT_EMBEDDING={stored}，或用新的 ASSISTANT_COLLECTION（或 ASSISTANT_HOME）"
                "以新模型重建。")
        self.vectorstore = Chroma(client=self._client, collection_name=name, embedding_function=self.embeddings)

    # ------------------------------------------------------------------------------------ registry

    def documents(self, max_age: float = 1.0) -> dict[str, dict]:
        """name -> metadata (with doc_hash, n_passages) of every registered document, disabled ones included.

        Each carries `enabled` (True unless a curator disabled it), `vectors` ("ready", or "pending" while the
        filler has not embedded all its passages: see vector_progress) and, when the user lexicon gives its
        zone aliases, `user_aliases` (derived, never written back)."""
        with self._lock:
            if self._registry is None or time.monotonic() - self._registry_at > max_age:
                got = self._get_all("读取文档列表", self._docs, ["metadatas"])
                self._registry = {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])}
                self._registry_at = time.monotonic()
            registry = self._registry
        return dict(self._curated(registry))

    def enabled_documents(self, max_age: float = 1.0) -> dict[str, dict]:
        """The documents questions may use: every registered one a curator has not disabled."""
        return {n: m for n, m in self.documents(max_age).items() if m.get("enabled", True)}

    def user_lexicon(self) -> UserLexicon:
        """The curator's lexicon in ASSISTANT_HOME (assistant.userlex), re-read when its file changes."""
        return load_user_lexicon(user_lexicon_path(self.settings.home))

    def _curated(self, registry: dict[str, dict]) -> dict[str, dict]:
        """The registry as questions see it: `enabled` filled in, the user lexicon's zone aliases attached.
        Built once per registry read and lexicon version."""
        lex = self.user_lexicon()
        key = (id(registry), lex.version)
        cached = self._curated_cache
        if cached is not None and cached[0] == key and cached[1] is registry:
            return cached[2]
        aliases = lex.zone_aliases()
        out = {}
        for name, meta in registry.items():
            meta = {**meta, "enabled": bool(meta.get("enabled", True)), "vectors": vector_state(meta)}
            extra = aliases.get(normalize(str(meta.get("zone", "")))) if aliases and meta.get("zone") else None
            if extra:
                meta["user_aliases"] = list(extra)
            out[name] = meta
        self._curated_cache = (key, registry, out)
        return out

    def _invalidate(self) -> None:
        self._registry = None

    def document_text(self, name: str, doc_hash: str | None = None) -> str:
        """The clean text of a registered document. A document removed while a reader was answering from it
        (another thread or session) still gives the text that reader saw, if this process read it before.

        With `doc_hash`, the text of that version: passages carry the offsets of the version they were cut
        from, and a reader whose passages predate a replacement needs the old text (kept by _keep_text before
        every replacement in this process), not the new one."""
        if doc_hash:
            with self._texts_lock:
                text = self._texts.get((name, doc_hash))
            if text is not None:
                return text
            text = self.document_text(name)
            with self._texts_lock:
                if (name, doc_hash) in self._texts:
                    return self._texts[(name, doc_hash)]
            raise AssistantError(f"文档 {name!r} 刚刚被替换为新版本，请重新提问。")
        for attempt in range(3):
            meta = self.documents(max_age=1.0 if attempt == 0 else 0).get(name)
            if meta is None:
                with self._texts_lock:
                    seen = [text for (n, _), text in reversed(self._texts.items()) if n == name]
                if seen:
                    return seen[0]
                raise AssistantError(f"没有名为 {name!r} 的文档。用 `assistant docs` 查看已有文档。")
            key = (name, meta.get("doc_hash", ""))
            with self._texts_lock:
                text = self._texts.get(key)
            if text is None:
                got = self._chroma("读取文档", self._docs.get, ids=[name], include=["documents", "metadatas"])
                if not got["ids"]:
                    continue  # removed since the registry was read: look again
                text = (got["documents"] or [""])[0] or ""
                # Keyed by the hash stored with this text: another writer may have replaced it since `meta`.
                key = (name, (got["metadatas"][0] or {}).get("doc_hash", ""))
            with self._texts_lock:
                self._texts.pop(key, None)
                self._texts[key] = text  # most recently used last
                while len(self._texts) > 256:
                    self._texts.pop(next(iter(self._texts)), None)
            return text
        raise AssistantError(f"文档 {name!r} 正在被删除或替换，请稍后再试。")

    def _keep_text(self, name: str) -> None:
        """Before a document is replaced or removed: its text into the cache, for readers of this process
        that are answering from the old version right now (see document_text)."""
        with contextlib.suppress(AssistantError):
            self.document_text(name)

    def fingerprint(self, docs: dict[str, dict] | None = None) -> str:
        docs = self.documents() if docs is None else docs
        payload = "|".join(f"{n}:{m.get('doc_hash', '')}" for n, m in sorted(docs.items()))
        return hashlib.sha1(f"{self.model_id}|{payload}".encode("utf-8")).hexdigest()

    # ------------------------------------------------------------------------------------ keyword index

    def keyword_index(self, wait: bool = False, docs: dict[str, dict] | None = None) -> KeywordIndex:
        """The BM25 index matching Chroma now: opened from disk when its fingerprint agrees, else rebuilt.

        One thread rebuilds; the others meanwhile keep using the index they had (a consistent snapshot of the
        store a moment ago) instead of queueing behind the rebuild. A thread with no index waits, and so does
        one that asks to (`wait`: a writer bringing the index, and its file, up to date with its own write).
        An index that found a damaged passage row is replaced (reopened if the file on disk is another
        version, else rebuilt from Chroma). `docs`: the registry as just read (default: as cached)."""
        fp = self.fingerprint(docs)
        current = self._keyword
        if current is not None and current.fingerprint == fp and not current.damaged:
            return current
        if not self._rebuild_lock.acquire(blocking=wait or current is None):
            return current
        try:
            fp = self.fingerprint(docs)
            current = self._keyword
            if current is not None and current.fingerprint == fp and not current.damaged:
                return current
            index = KeywordIndex.load(self.settings.index_dir)
            if index is None or index.fingerprint != fp or (
                    current is not None and current.damaged and index.build_id == current.build_id):
                index = self._rebuild_keyword()
            self._use(index)
            return index
        finally:
            self._rebuild_lock.release()

    def _use(self, index: KeywordIndex) -> None:
        index.fallback = self._passage_record
        old, self._keyword = self._keyword, index
        if old is not None and old is not index and old.rows is not index.rows:
            old.close()

    def _passage_record(self, pid: str) -> dict | None:
        """A passage read from Chroma, for an index whose row of it is missing or damaged."""
        for col in (self._passages, self._unembedded):
            with contextlib.suppress(StoreError):
                got = self._chroma("读取段落", col.get, ids=[pid], include=["documents", "metadatas"])
                if got["ids"]:
                    return {"text": got["documents"][0], "meta": dict(got["metadatas"][0] or {})}
        return None

    def _rebuild_keyword(self) -> KeywordIndex:
        """The index of the registered passages, labelled with the fingerprint of the registry it was built
        from. A writer may commit between reading the registry and reading the passages (and delete the
        old ones): the per-document counts tell, and the read is repeated. An index that never came out
        complete is used once but not saved, and carries no fingerprint, so it is rebuilt on the next use.
        Tokens come from the passage rows of earlier indexes where they are there (cutting 75k passages with
        jieba takes minutes); a saved index is reopened from its files, so this process keeps no copy."""
        for _attempt in range(5):
            docs = self.documents(max_age=0)
            ids, texts, metas = self.active_passages(docs)
            counts: dict[str, int] = {}
            for m in metas:
                counts[m.get("doc", "")] = counts.get(m.get("doc", ""), 0) + 1
            complete = all(counts.get(n, 0) == int(m.get("n_passages", -1)) for n, m in docs.items())
            if complete:
                break
            time.sleep(0.05)
        index_texts = [keyword_text(m.get("section", ""), search_text(t, m)) for t, m in zip(texts, metas)]
        known: dict = {}
        with contextlib.suppress(Exception):  # rows are a cache of tokens here: missing or unreadable, cut again
            rows = PassageRows(rows_path(self.settings.index_dir))
            try:
                known = rows.many(ids)
            finally:
                rows.close()
        tokenized = []
        for pid, t, text, meta in zip(ids, index_texts, texts, metas):
            rec, toks = known.get(pid, (None, None))
            same = rec is not None and rec["text"] == text and rec["meta"] == meta
            tokenized.append(toks if same and toks is not None else tokenize(t))
        index = KeywordIndex()
        index.build(ids, texts, self.fingerprint(docs) if complete else "", metas, index_texts, tokenized)
        if complete:
            try:
                index.save(self.settings.index_dir)
            except (OSError, sqlite3.Error):
                return index
            reopened = KeywordIndex.load(self.settings.index_dir)
            if reopened is not None and reopened.fingerprint == index.fingerprint:
                return reopened
        return index

    def _index_update(self, state: dict[str, str], base: KeywordIndex | None, removed: set[str],
                      added: list["_Pending"]) -> KeywordIndex | None:
        """The keyword index after a write: `base` (the index of the registry before it) without the passages
        of the `removed` names, with those of `added`, labelled with the fingerprint of `state` (name -> hash:
        the registry after the write, as this writer made it). Postings are merged (keyword.py), nothing is
        re-read from Chroma; the result is saved and used. None when `base` is not the registry's before the
        write (a failed read, another writer): then the next keyword_index() rebuilds."""
        if base is None or not base.fingerprint:
            return None
        ids = [pid for p in added for pid in p.ids]
        texts = [t for p in added for t in p.texts]
        metas = [m for p in added for m in p.metas]
        tokens = [t for p in added for t in p.tokens]
        with self._rebuild_lock:
            try:
                index = base.updated(removed | {p.name for p in added}, ids, texts, metas, tokens,
                                     self.fingerprint({n: {"doc_hash": h} for n, h in state.items()}))
                index.save(self.settings.index_dir)
            except (OSError, sqlite3.Error, ValueError):
                return None
            self._use(index)
            return index

    def _index_before_write(self) -> tuple[dict[str, str], KeywordIndex | None]:
        """Under the write guard: the registry (name -> hash) and the keyword index that matches it."""
        docs = self.documents(max_age=0)
        index = None
        with contextlib.suppress(AssistantError):
            index = self.keyword_index(wait=True, docs=docs)
        if index is not None and (index.fingerprint != self.fingerprint(docs) or index.damaged):
            index = None
        return {n: m.get("doc_hash", "") for n, m in docs.items()}, index

    def active_passages(self, docs: dict[str, dict] | None = None):
        """(ids, texts, metas) of the registered passages, with or without their vectors, each once."""
        docs = self.documents(max_age=0) if docs is None else docs
        hashes = [m["doc_hash"] for m in docs.values() if m.get("doc_hash")]
        if not hashes:
            return [], [], []
        registered = {(n, m.get("doc_hash")) for n, m in docs.items()}
        where = self._where_hashes(hashes)
        rows: dict[str, tuple] = {}
        for col in (self._unembedded, self._passages):  # a passage in both (a killed move): one row
            got = self._get_all("读取段落", col, ["documents", "metadatas"], where)
            for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                if (meta.get("doc"), meta.get("doc_hash")) in registered:
                    rows[pid] = (pid, text, meta)
        ordered = sorted(rows.values(), key=lambda r: (r[2].get("doc", ""), r[2].get("start", 0)))
        return [r[0] for r in ordered], [r[1] for r in ordered], [dict(r[2]) for r in ordered]

    # ------------------------------------------------------------------------------------ dense search

    def query_vector(self, query: str) -> list[float]:
        """The query's embedding, from a small LRU: one ask embeds the same text several times (scope,
        retrieval, the list and summary passes), and users repeat questions (12-25 ms each on e5)."""
        with self._qvec_lock:
            vec = self._qvecs.get(query)
            if vec is not None:
                self._qvecs.move_to_end(query)
                return vec
        vec = self.embeddings.embed_query(fold(query))
        with self._qvec_lock:
            self._qvecs[query] = vec
            while len(self._qvecs) > 512:
                self._qvecs.popitem(last=False)
        return vec

    def dense_search(self, query: str, k: int, hashes: list[str] | None,
                     settled: set[str] | frozenset = frozenset()) -> list[tuple[str, float]]:
        """The k nearest passages among the documents with these hashes; None: the whole collection.

        A few documents (a question about one zone, a comparison): their passages' vectors are read once per
        document version and kept (`settled`: the versions whose vectors are all in place, which cannot change),
        and the search is an exact cosine over them: Chroma's filtered query costs ≈ 50 ms at 70,000 passages
        whatever the filter, reading one document's vectors ≈ 10 ms, and a kept one nothing."""
        if hashes is not None and not hashes:
            return []
        vec = self.query_vector(query)
        if hashes is not None and len(hashes) <= _FEW_DOCS:
            ids, mat = self._vectors_of(hashes, settled)
            if not ids:
                return []
            q = np.asarray(vec, dtype=np.float32)
            sims = mat @ (q / (np.linalg.norm(q) or 1.0))
            top = np.argsort(-sims, kind="stable")[:k]
            return [(ids[i], float(sims[i])) for i in top]
        where = (None if hashes is None else
                 {"doc_hash": {"$in": hashes}} if len(hashes) > 1 else {"doc_hash": hashes[0]})
        res = self._chroma("向量检索", self._passages.query, query_embeddings=[vec], n_results=k, where=where,
                           include=["distances"])
        return [(pid, 1.0 - float(d)) for pid, d in zip(res["ids"][0], res["distances"][0])]

    def _vectors_of(self, hashes: list[str], settled) -> tuple[list[str], np.ndarray]:
        """The passage ids and unit vectors of these document versions (kept ones from memory, the others from
        Chroma in one read; a version is kept only when it is settled)."""
        got = {h: self._doc_vectors.get(h) for h in hashes}
        missing = [h for h, v in got.items() if v is None]
        if missing:
            where = {"doc_hash": {"$in": missing}} if len(missing) > 1 else {"doc_hash": missing[0]}
            res = self._chroma("向量检索", self._passages.get, where=where, include=["embeddings", "metadatas"])
            rows: dict[str, tuple[list, list]] = {h: ([], []) for h in missing}
            for pid, emb, meta in zip(res["ids"], res["embeddings"] if res["embeddings"] is not None else [],
                                      res["metadatas"] or []):
                h = (meta or {}).get("doc_hash")
                if h in rows:
                    rows[h][0].append(pid)
                    rows[h][1].append(emb)
            for h, (ids, embs) in rows.items():
                mat = np.asarray(embs, dtype=np.float32).reshape(len(ids), -1) if ids else np.zeros((0, 1), np.float32)
                if len(ids):
                    mat /= np.maximum(np.linalg.norm(mat, axis=1, keepdims=True), 1e-12)
                got[h] = (ids, mat)
                if h in settled:
                    self._doc_vectors.put(h, got[h])
        parts = [got[h] for h in hashes if got[h] and got[h][0]]
        if not parts:
            return [], np.zeros((0, 1), np.float32)
        return [pid for ids, _ in parts for pid in ids], np.vstack([m for _, m in parts])

    # ------------------------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _write_guard(self):
        """One writer at a time: a thread lock in-process, a file lock between processes on one disk. (Against
        a server there is no shared disk: concurrent writers stay safe because each deletes only the passages
        of the version it replaced, see add_document.) Re-entrant within a thread."""
        depth = getattr(self._guard_depth, "n", 0)
        if depth:
            self._guard_depth.n = depth + 1
            try:
                yield
            finally:
                self._guard_depth.n = depth
            return
        with self._write_lock:
            self._guard_depth.n = 1
            try:
                if self.server_mode:
                    yield
                    return
                lock_path = self.settings.home / ".write.lock"
                try:
                    fh = open(lock_path, "a")
                except OSError as exc:
                    raise StoreError(f"存储目录不可写 ({self.settings.home}): {_cause(exc)}。") from exc
                with fh:
                    fcntl.flock(fh, fcntl.LOCK_EX)
                    try:
                        self._reopen_if_discarded()
                        yield
                    finally:
                        fcntl.flock(fh, fcntl.LOCK_UN)
            finally:
                self._guard_depth.n = 0

    def _embed(self, texts: list[str]) -> list[list[float]]:
        keys = [EmbeddingCache.key(self.model_id, t) for t in texts]
        cached = self._cache.get_many(keys)
        missing = [i for i, k in enumerate(keys) if k not in cached]
        if missing:
            vecs = self.embeddings.embed_documents([texts[i] for i in missing])
            fresh = {keys[i]: v for i, v in zip(missing, vecs)}
            self._cache.put_many(fresh)
            cached.update(fresh)
        return [cached[k] for k in keys]

    def _cached(self, texts: list[str]) -> list[list[float] | None]:
        """The vectors the embedding cache has for these texts (None where it has none); no model time."""
        keys = [EmbeddingCache.key(self.model_id, t) for t in texts]
        cached = self._cache.get_many(keys)
        return [cached.get(k) for k in keys]

    def add_document(self, doc: LoadedDoc, progress: Progress | None = None, wait: bool = True) -> FileResult:
        """Add or replace one loaded document. All or nothing, as seen by readers. `wait`: as in ingest."""
        with self._write_guard():
            state, base = self._index_before_write()
            prepared = self._prepare(doc, progress, wait=wait, old=self._record(doc.name))
            if isinstance(prepared, FileResult):
                return prepared
            result = self._commit([prepared])[0]
            if result.status == "failed":
                raise StoreError(result.reason)
            state[prepared.name] = prepared.doc_hash
            self._index_update(state, base, set(), [prepared])
        return result

    def _record(self, name: str) -> dict | None:
        """The registry record of one document, read now (one Chroma call, whatever the size of the registry)."""
        got = self._chroma("读取文档登记", self._docs.get, ids=[name], include=["metadatas"])
        if not got["ids"]:
            return None
        meta = dict(got["metadatas"][0] or {})
        return {**meta, "enabled": bool(meta.get("enabled", True)), "vectors": vector_state(meta)}

    def _prepare(self, doc: LoadedDoc, progress: Progress | None = None, wait: bool = True,
                 old: dict | None = None) -> "FileResult | _Pending":
        """Chunk, cut keyword tokens and embed a document (the slow part), writing nothing. Called under the
        write guard. `wait=False`: only the vectors the embedding cache has; the others are left None (the
        passage will wait in `__pending` for the filler). `old`: the document's current record."""
        doc_hash = doc.content_hash
        if old and old.get("doc_hash") == doc_hash:
            return FileResult(doc.name, "unchanged", int(old.get("n_passages", 0)))
        passages = chunk(doc.text)
        if not passages:
            return FileResult(doc.name, "failed", 0, "没有可检索的正文 (no passages)")
        if doc.meta.get("page_info"):
            passages.append(page_info_passage(doc.meta["page_info"], len(passages)))
        if old:
            self._keep_text(doc.name)
        # a curator's edits (assistant meta) and disabling outlive a new version of the file
        meta = apply_edits(_flat(doc.meta), (old or {}).get("user_meta", ""))
        if old and not old.get("enabled", True):
            meta["enabled"] = False
        ids = [passage_id(doc.name, doc_hash, p.start, p.end) for p in passages]
        metas = [
            {**{k: meta[k] for k in ("zone", "title", "speaker", "date", "year", "kind", "province") if k in meta},
             "doc": doc.name, "doc_hash": doc_hash, "section": p.section, "start": p.start, "end": p.end,
             "idx": p.index, "head": _head(p.text),
             "enum": enumeration_count(p.text), **p.meta}
            for p in passages
        ]
        tokens = [tokenize(keyword_text(p.section, search_text(p.text, p.meta))) for p in passages]
        texts = [embed_text(meta, p.section, search_text(p.text, p.meta)) for p in passages]
        try:
            if wait:
                vectors: list = []
                step = 64
                for i in range(0, len(passages), step):
                    vectors += self._embed(texts[i:i + step])
                    if progress:
                        progress(f"嵌入 {doc.name}", min(i + step, len(passages)), len(passages))
            else:
                vectors = self._cached(texts)
        except Exception as exc:
            raise StoreError(f"{doc.name}: 嵌入失败，已保留原有内容 ({_cause(exc)})") from exc
        fault_point("embedded")
        record = {**meta, "doc_hash": doc_hash, "n_passages": len(passages), "chars": len(doc.text),
                  "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
                  "vectors": "ready" if all(v is not None for v in vectors) else "pending"}
        return _Pending(doc.name, doc_hash, doc.text, ids, [p.text for p in passages], metas, vectors, record,
                        old, tokens)

    def _commit(self, batch: list["_Pending"]) -> list[FileResult]:
        """Write prepared documents: all their passages first (those with a vector to the passages collection,
        the others to `__pending`), then their registry records in one call (the commit point of each), then
        the passages of the versions they replaced.

        Batching matters: Chroma costs ≈ 0.1 s per write call whatever its size, so 300 documents written one
        by one took 151 s with every vector cached, and 16 s in batches. A document is still wholly old or
        wholly new at every moment: its record is written only after all of its passages."""
        rows = [(pid, t, m, v) for p in batch for pid, t, m, v in zip(p.ids, p.texts, p.metas, p.vectors)]
        ready = [r for r in rows if r[3] is not None]
        waiting = [r for r in rows if r[3] is None]
        try:
            for i in range(0, len(ready), _UPSERT_BATCH):
                part = ready[i:i + _UPSERT_BATCH]
                self._chroma("写入段落", self._passages.upsert, ids=[r[0] for r in part],
                             embeddings=[r[3] for r in part], documents=[r[1] for r in part],
                             metadatas=[r[2] for r in part])
            for i in range(0, len(waiting), _UPSERT_BATCH):
                part = waiting[i:i + _UPSERT_BATCH]
                self._chroma("写入段落", self._unembedded.upsert, ids=[r[0] for r in part],
                             embeddings=[_PLACEHOLDER] * len(part), documents=[r[1] for r in part],
                             metadatas=[r[2] for r in part])
            fault_point("passages_upserted")
            self._chroma("写入文档登记", self._docs.upsert, ids=[p.name for p in batch],
                         documents=[p.text for p in batch], metadatas=[p.record for p in batch],
                         embeddings=[[1.0]] * len(batch))  # the commit point
            fault_point("registry_upserted")
        except Exception as exc:
            self._invalidate()
            for p in batch:
                self._undo_uncommitted(p.name, p.doc_hash, p.ids)
            if isinstance(exc, StoreError) and self.server_mode and _is_transient(exc):
                why = str(exc)  # names the server and the fix
            else:  # a StoreError from _chroma carries the Chroma exception as its cause
                why = _cause(exc.__cause__ if isinstance(exc, StoreError) and exc.__cause__ else exc)
            return [FileResult(p.name, "failed", 0, f"{p.name}: 写入存储失败，已保留原有内容 ({why})") for p in batch]
        self._invalidate()
        self._progress_cache = None
        for p in batch:
            if p.old:
                # Locally (under the file lock) every older version goes, orphans of killed ingests too.
                # Against a server, writers in other processes are not locked out: delete only the version
                # this ingest replaced, never one another writer may have registered meanwhile.
                stale = ({"doc_hash": p.old.get("doc_hash", "")} if self.server_mode
                         else {"doc_hash": {"$ne": p.doc_hash}})
                for col in (self._passages, self._unembedded):
                    with contextlib.suppress(StoreError):  # left over, they are invisible orphans doctor sweeps
                        self._chroma("删除旧版本段落", col.delete, where={"$and": [{"doc": p.name}, stale]})
                fault_point("old_deleted")
            p.vectors = []  # written: the keyword index still needs the texts, metas and tokens
        return [FileResult(p.name, "replaced" if p.old else "added", len(p.ids)) for p in batch]

    def _undo_uncommitted(self, name: str, doc_hash: str, ids: list[str]) -> None:
        """After a failed write: delete the new passages, unless the registry did switch to them (a server
        that committed and then lost the connection). When the registry cannot be read, leave them: they are
        invisible orphans that `doctor` sweeps, while deleting them might empty a committed document."""
        try:
            self._reopen_if_discarded()  # never another write on an engine a write just failed on (it can hang)
            got = self._chroma("读取文档登记", self._docs.get, ids=[name], include=["metadatas"])
        except StoreError:
            return
        current = (got["metadatas"] or [None])[0] or {} if got["ids"] else {}
        if current.get("doc_hash") != doc_hash:
            for col in (self._passages, self._unembedded):
                with contextlib.suppress(StoreError):
                    self._chroma("删除未登记的段落", col.delete, ids=ids)

    def ingest(self, paths: Iterable[Path | str], progress: Progress | None = None,
               overrides: dict[str, dict] | None = None, wait: bool = True) -> IngestReport:
        """Ingest files; a failed file is reported and does not stop the others.

        Files are read and embedded one by one and written in batches (see _commit); the results keep the
        order of `paths`. The keyword index takes in what was committed as it goes (every _INDEX_EVERY
        seconds) and at the end. `wait=False` (keyword first): passages whose vectors are not in the embedding
        cache are committed without them and the call returns once the keyword index has them, so they are
        answerable by keyword; `fill_vectors` / `start_filling` embed them afterwards."""
        paths = list(paths)
        results: list[FileResult | None] = [None] * len(paths)
        try:
            self._ingest_all(paths, progress, overrides, results, wait)
        except StoreError as exc:  # the store cannot be written at all (read-only, no space for the lock file)
            for n, path in enumerate(paths):
                if results[n] is None:
                    results[n] = FileResult(safe_name(Path(path).name), "failed", reason=str(exc))
        if progress:
            progress("完成", len(paths), len(paths))
        with contextlib.suppress(AssistantError):
            self.keyword_index(wait=True, docs=self.documents(max_age=0))
        return IngestReport([r for r in results if r is not None])

    def _ingest_all(self, paths: list, progress: Progress | None, overrides: dict[str, dict] | None,
                    results: list, wait: bool = True) -> None:
        seen: dict[str, Path] = {}
        batch: list[tuple[int, _Pending]] = []
        committed: list[_Pending] = []  # committed, not yet in the keyword index
        clock = {"indexed": time.monotonic()}

        def flush() -> None:
            if batch:
                for (slot, p), result in zip(batch, self._commit([p for _, p in batch])):
                    results[slot] = result
                    if result.status != "failed":
                        committed.append(p)
                        state[p.name] = p.doc_hash
                batch.clear()

        def index_committed() -> None:
            nonlocal base
            if committed:
                base = self._index_update(state, base, set(), committed)
                committed.clear()
            clock["indexed"] = time.monotonic()

        with self._write_guard():
            state, base = self._index_before_write()
            for n, path in enumerate(paths):
                path = Path(path)
                name = safe_name(path.name)
                if progress:
                    progress(f"读取 {name}", n, len(paths))
                if name in seen:  # 2022/讲话.txt and 2023/讲话.txt: one would silently replace the other
                    results[n] = FileResult(name, "failed", reason=(
                        f"同一批次中已有同名文件 {name} ({seen[name]})；请改名后再导入。"))
                    continue
                seen[name] = path
                try:
                    override = (overrides or {}).get(path.name) or _manifest_for(path).get(path.name)
                    doc = load_document(path, override, max_mb=self.settings.max_file_mb,
                                        max_chars=self.settings.max_doc_chars)
                    prepared = self._prepare(doc, progress, wait=wait, old=self._record(doc.name))
                except (LoadError, StoreError) as exc:
                    results[n] = FileResult(name, "failed", reason=str(exc))
                    continue
                if isinstance(prepared, FileResult):
                    results[n] = prepared
                    continue
                batch.append((n, prepared))
                if sum(len(p.ids) for _, p in batch) >= _UPSERT_BATCH or len(batch) >= _DOCS_PER_COMMIT:
                    flush()
                    if time.monotonic() - clock["indexed"] > _INDEX_EVERY:
                        index_committed()
            flush()
            index_committed()

    def ingest_bundled(self, progress: Progress | None = None) -> IngestReport:
        return self.ingest(bundled_files(), progress, bundled_manifest())

    def remove(self, name: str) -> int:
        """Remove a document and all its passages; returns the number of passages removed."""
        with self._write_guard():
            state, base = self._index_before_write()
            docs = self.documents(max_age=0)
            if name not in docs:
                raise AssistantError(f"没有名为 {name!r} 的文档。用 `assistant docs` 查看已有文档。")
            n = int(docs[name].get("n_passages", 0))
            self._keep_text(name)
            self._chroma(f"删除 {name} ", self._docs.delete, ids=[name])  # the commit point
            self._invalidate()
            self._progress_cache = None
            fault_point("registry_deleted")
            # The passages are invisible from here on; if deleting them fails, `doctor` sweeps them. Against a
            # server only this version's: another process may be writing a new one of the same name.
            where = ({"$and": [{"doc": name}, {"doc_hash": docs[name].get("doc_hash", "")}]} if self.server_mode
                     else {"doc": name})
            for col in (self._passages, self._unembedded):
                with contextlib.suppress(StoreError):  # removed all the same; the rest are orphans
                    self._chroma(f"删除 {name} 的段落", col.delete, where=where)
            state.pop(name, None)
            self._index_update(state, base, {name}, [])
            return n

    # ------------------------------------------------------------------------------------ vectors

    def _unembedded_count(self) -> int:
        with contextlib.suppress(Exception):
            return int(self._unembedded.count())
        return 0

    @contextlib.contextmanager
    def _filling_lock(self, blocking: bool = False):
        """One filler per home and collection at a time (a file lock: threads and processes alike). Yields
        whether this caller holds it."""
        path = self.settings.home / f".fill-{self.settings.collection}.lock"
        try:
            self.settings.home.mkdir(parents=True, exist_ok=True)
            fh = open(path, "a")
        except OSError:
            yield True  # a read-only home: nothing can be written anyway, the writes will say so
            return
        with fh:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except OSError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def filling(self) -> bool:
        """Whether a filler (a thread of this process or another process) is embedding passages now."""
        if self._filler is not None and self._filler.is_alive():
            return True
        with self._filling_lock() as mine:
            return not mine

    def fill_vectors(self, progress: Progress | None = None, stop: threading.Event | None = None) -> int:
        """Embed the passages that wait for vectors and move them to the passages collection, in batches of
        _FILL_BATCH; returns how many were moved, or -1 when another filler holds the lock.

        Embedding happens outside the write lock (readers and writers go on); each batch is written under it,
        and only the passages whose document is still registered with their hash are moved: a document removed
        or replaced meanwhile loses nothing and gains nothing (its passages stay where the remover or the
        replacing writer deletes them). A document whose passages have all moved is marked ready
        (`vectors_hash`). Killed at any point, the next filler (or doctor) goes on from what is left."""
        with self._filling_lock() as mine:
            if not mine:
                return -1
            moved, skip = 0, set()
            total = None
            while not (stop is not None and stop.is_set()):
                docs = self.documents(max_age=0)
                registered = {(n, m.get("doc_hash")) for n, m in docs.items()}
                hashes = sorted({m["doc_hash"] for m in docs.values() if m.get("doc_hash")})
                if not hashes:
                    break
                where = self._where_hashes(hashes)
                if total is None:
                    total = self.vector_progress(max_age=0)["pending"]  # for the progress bar: may be approximate
                got = self._chroma("读取待嵌入段落", self._unembedded.get, where=where,
                                   limit=2 * _FILL_BATCH + len(skip), include=["documents", "metadatas"])
                rows = []
                for pid, text, meta in zip(got["ids"], got["documents"], got["metadatas"]):
                    meta = dict(meta or {})
                    if pid in skip:
                        continue
                    if (meta.get("doc"), meta.get("doc_hash")) not in registered:
                        skip.add(pid)  # another name's version with the same text, left by a killed ingest
                    elif len(rows) < _FILL_BATCH:
                        rows.append((pid, text, meta))
                if not rows:
                    break
                try:
                    vectors = self._embed([embed_text(m, m.get("section", ""), search_text(t, m))
                                           for _, t, m in rows])
                except Exception as exc:
                    raise StoreError(f"嵌入失败，段落仍可按关键词检索，稍后用 `assistant doctor` 补齐向量 ({_cause(exc)})") from exc
                fault_point("vectors_embedded")
                done = self._move(rows, vectors)
                skip.update(pid for pid, _, _ in rows if pid not in done)
                moved += len(done)
                self._progress_cache = None
                if progress:
                    progress("补齐向量", min(moved, total or moved), max(total or 0, moved))
            self._mark_ready()
            return moved

    def _move(self, rows: list[tuple[str, str, dict]], vectors: list[list[float]]) -> set[str]:
        """One filler batch under the write lock: the rows whose version is still registered go to the
        passages collection with their vectors, then leave `__pending`. Returns the ids moved."""
        with self._write_guard():
            names = sorted({m["doc"] for _, _, m in rows})
            current = self._chroma("读取文档登记", self._docs.get, ids=names, include=["metadatas"])
            live = {(n, (m or {}).get("doc_hash")) for n, m in zip(current["ids"], current["metadatas"])}
            keep = [(r, v) for r, v in zip(rows, vectors) if (r[2]["doc"], r[2]["doc_hash"]) in live]
            if not keep:
                return set()
            ids = [r[0] for r, _ in keep]
            self._chroma("写入向量", self._passages.upsert, ids=ids, embeddings=[v for _, v in keep],
                         documents=[r[1] for r, _ in keep], metadatas=[r[2] for r, _ in keep])
            fault_point("vectors_upserted")
            if self.server_mode:  # no lock keeps a remover in another process out: look again
                again = self._chroma("读取文档登记", self._docs.get, ids=names, include=["metadatas"])
                now = {(n, (m or {}).get("doc_hash")) for n, m in zip(again["ids"], again["metadatas"])}
                gone = [r[0] for r, _ in keep if (r[2]["doc"], r[2]["doc_hash"]) not in now]
                if gone:
                    with contextlib.suppress(StoreError):
                        self._chroma("删除已移除文档的段落", self._passages.delete, ids=gone)
            self._chroma("移出待嵌入段落", self._unembedded.delete, ids=ids)
            fault_point("vectors_moved")
            return set(ids)

    def _mark_ready(self) -> None:
        """Mark ready (vectors_hash = doc_hash) every pending document none of whose passages still wait."""
        docs = self.documents(max_age=0)
        for name, meta in docs.items():
            if meta.get("vectors") != "pending":
                continue
            this = {"$and": [{"doc": name}, {"doc_hash": meta.get("doc_hash", "")}]}
            left = self._chroma("读取待嵌入段落", self._unembedded.get, where=this, limit=1, include=[])
            if not left["ids"]:
                with self._write_guard():
                    with contextlib.suppress(StoreError):
                        self._chroma("标记向量完成", self._docs.update, ids=[name],
                                     metadatas=[{"vectors_hash": meta.get("doc_hash", "")}])
        self._invalidate()
        self._progress_cache = None

    def start_filling(self) -> None:
        """Fill the vectors in a background thread of this process (one at a time; a call while it runs makes
        it look again when it is done, so that passages committed meanwhile are not left behind)."""
        with self._fill_lock:
            self._fill_again = True
            if self._filler is not None and self._filler.is_alive():
                return
            self._fill_stop.clear()
            self._filler = threading.Thread(target=self._fill_loop, name="vector-filler", daemon=True)
            self._filler.start()

    def stop_filling(self, timeout: float = 30.0) -> None:
        """Stop the background filler after its current batch (what is left waits for the next one)."""
        self._fill_stop.set()
        thread = self._filler
        if thread is not None:
            thread.join(timeout)

    def wait_for_vectors(self, timeout: float | None = None) -> bool:
        """Block until the background filler is done; True when no passage of a registered document waits."""
        thread = self._filler
        if thread is not None:
            thread.join(timeout)
        return self.vector_progress(max_age=0)["pending"] == 0

    def _fill_loop(self) -> None:
        with contextlib.suppress(Exception):  # Linux: this thread yields the CPU to the askers of this process
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)
        while True:
            with self._fill_lock:
                self._fill_again = False
            try:
                got = self.fill_vectors(stop=self._fill_stop)
                self._fill_error = ""
            except AssistantError as exc:
                self._fill_error, got = str(exc), 0
            except Exception as exc:  # a thread must not die with a traceback on the user's console
                self._fill_error, got = f"{type(exc).__name__}: {str(exc)[:200]}", 0
            if got == -1 and not self._fill_stop.is_set():  # another process fills: look again later
                self._fill_stop.wait(5.0)
                with self._fill_lock:
                    self._fill_again = self._fill_again or self._unembedded_count() > 0
            with self._fill_lock:
                if self._fill_stop.is_set() or not self._fill_again or self._fill_error:
                    self._filler = None if threading.current_thread() is self._filler else self._filler
                    return

    def vector_progress(self, max_age: float = 2.0, exact: bool = False) -> dict:
        """How far the vectors are: {"pending": passages of registered documents still without a vector,
        "passages": passages of all registered documents, "documents": {name: its pending passages} (only
        documents with some), "filling": whether a filler runs (this process or another), "error": why this
        process's filler stopped, if it failed, "exact": whether the counts are exact}. Cached for `max_age`
        seconds (the app polls it). With more than _EXACT_UP_TO passages waiting and not `exact`, "pending" is
        the size of `__pending` (it may include passages of killed ingests until doctor sweeps them) and
        "documents" is empty: counting per document reads every waiting passage (~1 s per 25k)."""
        cached = self._progress_cache
        if cached is not None and time.monotonic() - cached[0] <= max_age and (cached[1]["exact"] or not exact):
            return dict(cached[1])
        docs = self.documents(max_age=min(max_age, 1.0))
        per_doc: dict[str, int] = {}
        waiting = {m.get("doc_hash"): n for n, m in docs.items() if m.get("vectors") == "pending"}
        size = self._unembedded_count()
        counted = exact or size <= _EXACT_UP_TO
        if size and waiting and counted:
            got = self._get_all("读取待嵌入段落", self._unembedded, ["metadatas"],
                                self._where_hashes(sorted(h for h in waiting if h)))
            registered = {(n, m.get("doc_hash")) for n, m in docs.items()}
            for m in got["metadatas"]:
                key = ((m or {}).get("doc"), (m or {}).get("doc_hash"))
                if key in registered:
                    per_doc[key[0]] = per_doc.get(key[0], 0) + 1
        out = {"pending": sum(per_doc.values()) if counted else size,
               "passages": sum(int(m.get("n_passages", 0)) for m in docs.values()),
               "documents": per_doc, "filling": self.filling(), "error": self._fill_error, "exact": counted}
        self._progress_cache = (time.monotonic(), out)
        return dict(out)

    # ------------------------------------------------------------------------------------ curating

    def set_meta(self, name: str, **fields) -> dict:
        """A curator's correction of a document's zone, title, year, date, speaker or kind (None: unchanged,
        "": cleared). One write of the registry record (the commit point): readers see the old record or the
        new one. The edits are also kept in the record's `user_meta`, so that a new version of the file
        (re-ingest) gets them again; `meta_sources` says the field came from the curator. Passages are not
        rewritten: retrieval reads zone, title and year from the registry (HybridRetriever.rank), and the
        keyword index does not hold them (its fingerprint stays valid)."""
        edits = check_edits(fields)
        with self._write_guard():
            docs = self.documents(max_age=0)
            if name not in docs:
                raise EditError(f"没有名为 {name!r} 的文档，无法修改。用 `assistant docs` 查看已有文档。")
            if not edits:
                return docs[name]
            current = docs[name]
            kept = _user_meta(current.get("user_meta", ""))
            kept.update(edits)
            changes = {k: (None if v in ("", None) and k == "year" else v) for k, v in edits.items()}
            changes["user_meta"] = json.dumps(kept, ensure_ascii=False, sort_keys=True)
            changes["meta_sources"] = _sources_with(current.get("meta_sources", ""), edits)
            changes["edited_at"] = time.strftime("%Y-%m-%dT%H:%M:%S")
            self._update_record(name, changes, "修改文档信息")
            return self.documents(max_age=0)[name]

    def set_enabled(self, name: str, enabled: bool) -> dict:
        """Disable a document (kept, never retrieved, quoted, summarised or compared) or enable it again; kept
        in its registry record, so it outlives restarts and re-ingest."""
        with self._write_guard():
            docs = self.documents(max_age=0)
            if name not in docs:
                raise EditError(f"没有名为 {name!r} 的文档，无法{'启用' if enabled else '停用'}。"
                                "用 `assistant docs` 查看已有文档。")
            if bool(docs[name].get("enabled", True)) != bool(enabled):
                self._update_record(name, {"enabled": bool(enabled)}, "启用文档" if enabled else "停用文档")
            return self.documents(max_age=0)[name]

    def _update_record(self, name: str, changes: dict, what: str) -> None:
        """One metadata update of a registry record (Chroma merges it into the record; None drops a key)."""
        try:
            self._chroma(what, self._docs.update, ids=[name], metadatas=[changes])
        finally:
            self._invalidate()
        if name not in self.documents(max_age=0):  # against a server, another process may have removed it
            raise EditError(f"文档 {name!r} 刚刚被删除，修改没有生效。")

    def is_empty(self) -> bool:
        return not self.documents(max_age=0)

    # ------------------------------------------------------------------------------------ doctor

    def _incomplete(self, name: str, meta: dict) -> bool:
        """Whether the registered version of `name` still lacks passages, read again by itself (a writer in
        another process may have replaced or removed it since the whole store was read)."""
        got = self._chroma("读取文档登记", self._docs.get, ids=[name], include=["metadatas"])
        if not got["ids"] or (got["metadatas"][0] or {}).get("doc_hash") != meta.get("doc_hash"):
            return False
        this = {"$and": [{"doc": name}, {"doc_hash": meta.get("doc_hash", "")}]}
        have = set()
        for col in (self._passages, self._unembedded):
            have.update(self._chroma("读取段落", col.get, where=this, include=[])["ids"])
        return len(have) != int(meta.get("n_passages", -1))

    def doctor(self, repair: bool = True, grace: float | None = None, progress: Progress | None = None) -> list[str]:
        """Check registry, passages, vectors and keyword index agree; sweep orphans, fill missing vectors and
        rebuild the index.

        Returns the findings (empty: all is well). Locally it holds the write lock, so it never races an
        ingest. Against a server, other processes may be writing meanwhile, so nothing is removed on one
        reading: passages are read before the registry (an ingest writes them before its record, so a
        committed document is never seen short of passages), a document that looks incomplete is read again
        by itself, and an apparent orphan must still be unregistered after `grace` seconds (default 5 against
        a server: an ingest writes its record right after its passages). Passages that wait for vectors are
        no fault while a filler runs; when none does, `doctor` fills them (`progress` shows it) and the check
        reports them."""
        findings: list[str] = []
        grace = (5.0 if self.server_mode else 0.0) if grace is None else grace
        with self._write_guard():
            sides = {col.name: (col, self._get_all("读取段落", col, ["metadatas"]))
                     for col in (self._passages, self._unembedded)}
            docs = self.documents(max_age=0)
            active = {(n, m.get("doc_hash")) for n, m in docs.items()}
            orphans = {name: [pid for pid, m in zip(got["ids"], got["metadatas"])
                              if (m.get("doc"), m.get("doc_hash")) not in active]
                       for name, (_, got) in sides.items()}
            seen: dict[str, set[str]] = {}
            for _, got in sides.values():
                for pid, m in zip(got["ids"], got["metadatas"]):
                    if (m.get("doc"), m.get("doc_hash")) in active:
                        seen.setdefault(m["doc"], set()).add(pid)
            for name, meta in docs.items():
                if len(seen.get(name, ())) != int(meta.get("n_passages", -1)) and self._incomplete(name, meta):
                    findings.append(f"{name}: {len(seen.get(name, ()))} passages, registry says "
                                    f"{meta.get('n_passages')}")
                    if repair:
                        this = {"$and": [{"doc": name}, {"doc_hash": meta.get("doc_hash", "")}]}
                        self._chroma("删除不完整的文档", self._docs.delete, ids=[name])
                        for col, _ in sides.values():
                            self._chroma("删除不完整的文档", col.delete,
                                         where=this if self.server_mode else {"doc": name})
                        findings.append(f"{name}: removed (incomplete); ingest it again")
            if any(orphans.values()) and grace > 0:
                time.sleep(grace)
                again = {(n, m.get("doc_hash")) for n, m in self.documents(max_age=0).items()}
                for name, (_, got) in sides.items():
                    meta_of = dict(zip(got["ids"], got["metadatas"]))
                    orphans[name] = [pid for pid in orphans[name]
                                     if (meta_of[pid].get("doc"), meta_of[pid].get("doc_hash")) not in again]
            n_orphans = sum(len(v) for v in orphans.values())
            if n_orphans:
                findings.append(f"{n_orphans} orphan passages (from interrupted ingests)")
                if repair:
                    for name, ids in orphans.items():
                        col = sides[name][0]
                        for i in range(0, len(ids), 1000):
                            self._chroma("删除孤立段落", col.delete, ids=ids[i:i + 1000])
            self._invalidate()
            with self._rebuild_lock:  # not under self._lock: keyword_index() takes the two the other way round
                docs = self.documents(max_age=0)
                fp = self.fingerprint(docs)
                index_dir = self.settings.index_dir
                leftovers = [p.name for p in index_dir.parent.glob(".kw-*")] + (
                    [index_dir.name + ".old"] if index_dir.with_name(index_dir.name + ".old").exists() else [])
                if leftovers:
                    findings.append(f"leftovers of an interrupted keyword-index save: {', '.join(sorted(leftovers))}")
                    if repair:
                        with contextlib.suppress(OSError):
                            KeywordIndex.sweep(index_dir)
                index = KeywordIndex.load(index_dir, verify=True)
                missing_ok = index is None and not docs and not index_dir.exists()  # a new, empty store
                if index is not None and index.fingerprint == fp:
                    active_ids, _, _ = self.active_passages(docs)
                    if sorted(index.ids) != sorted(active_ids):
                        findings.append("keyword index does not list the registered passages")
                        index = None
                if index is not None:
                    index.close()
                if not missing_ok and (index is None or index.fingerprint != fp):
                    findings.append("keyword index missing, unreadable or out of date")
                    if repair:
                        self._use(self._rebuild_keyword())
                        findings.append("keyword index rebuilt from Chroma")
        findings += self._doctor_vectors(repair, progress)
        return findings

    def _doctor_vectors(self, repair: bool, progress: Progress | None) -> list[str]:
        """Passages that wait for vectors with no filler at work: filled (repair) or reported."""
        if self.filling():
            return []
        state = self.vector_progress(max_age=0, exact=True)
        stale = [n for n, m in self.documents(max_age=0).items()
                 if m.get("vectors") == "pending" and n not in state["documents"]]
        if not state["pending"] and not stale:
            return []
        what = (f"{state['pending']} passages of {len(state['documents'])} documents have no vectors yet "
                "(searchable by keyword only)" if state["pending"] else
                f"{len(stale)} documents not marked as having all their vectors")
        if not repair:
            return [what]
        moved = self.fill_vectors(progress)
        if moved == -1:  # a filler started meanwhile: it takes them
            return []
        left = self.vector_progress(max_age=0, exact=True)
        if left["pending"]:
            return [what, f"{left['pending']} passages still without vectors; run `assistant doctor` again"]
        return [what, f"vectors filled ({moved} passages)"]
