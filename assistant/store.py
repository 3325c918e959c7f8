"""Chroma store (local or server), the document registry, the keyword index; ingest and delete.

Two Chroma collections: `<name>` holds the passages with their vectors; `<name>__docs` holds one record per
document (its clean text, metadata and content hash). A document's registry record is the commit point
of an ingest: new passages are written first under new content-derived IDs, then the record is switched,
then the old passages are deleted. Queries only see passages whose hash is the registered one, so a crash
at any point leaves each document wholly old or wholly new; `doctor` sweeps the orphans.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import urlparse

import numpy as np
from langchain_core.embeddings import Embeddings

from .chunking import chunk, enumeration_count, heading_level
from .config import Settings
from .embeddings import get_embeddings, model_id
from .errors import AssistantError, LoadError, ModelMismatchError, StoreError
from .keyword import KeywordIndex
from .loading import LoadedDoc, bundled_files, bundled_manifest, load_document, safe_name

SCHEMA = 1
Progress = Callable[[str, int, int], None]  # (message, done, total)


@dataclass
class FileResult:
    name: str
    status: str  # added | unchanged | replaced | failed
    passages: int = 0
    reason: str = ""


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

    def __init__(self, spec: str, prompt: str) -> None:
        self.spec, self.prompt = spec, prompt

    def embed_documents(self, texts):
        return get_embeddings(self.spec, self.prompt).embed_documents(texts)

    def embed_query(self, text):
        return get_embeddings(self.spec, self.prompt).embed_query(text)


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
    return f"{head}\n{text}" if head else text


def keyword_text(section: str, text: str) -> str:
    return f"{section}\n{text}" if section else text


def _flat(meta: dict) -> dict:
    """Chroma metadata values must be scalars."""
    out = {}
    for k, v in meta.items():
        if isinstance(v, (str, int, float, bool)):
            out[k] = v
        elif v is not None:
            out[k] = str(v)
    return out


def _manifest_for(path: Path) -> dict:
    """A manifest.json beside a file may override its metadata ({"file.txt": {"zone": …}})."""
    import json

    manifest = path.parent / "manifest.json"
    try:
        data = json.loads(manifest.read_text("utf-8")) if manifest.is_file() else {}
        return data if isinstance(data, dict) else {}
    except (OSError, ValueError):
        return {}


class Store:
    def __init__(self, settings: Settings | None = None, embeddings: Embeddings | None = None) -> None:
        self.settings = settings or Settings.from_env()
        self.model_id = getattr(embeddings, "model_id", None) or model_id(self.settings.embedding)
        self.embeddings = embeddings or _LazyEmbeddings(self.settings.embedding, self.settings.st_query_prompt)
        self._lock = threading.RLock()
        self._registry: dict[str, dict] | None = None
        self._registry_at = 0.0
        self._keyword: KeywordIndex | None = None
        self._texts: dict[tuple[str, str], str] = {}
        self._client = self._connect()
        self._open_collections()
        self._cache = EmbeddingCache(self.settings.embedding_cache)

    # ------------------------------------------------------------------------------------ opening

    @property
    def server_mode(self) -> bool:
        return bool(self.settings.chroma_url)

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
            raise StoreError(
                f"无法打开存储 {path} ({type(exc).__name__}: {str(exc)[:200]})。"
                "目录可能只读或已损坏: 运行 `assistant doctor`，或换一个 ASSISTANT_HOME。") from exc

    def _open_collections(self) -> None:
        from langchain_chroma import Chroma

        name = self.settings.collection
        try:
            self._passages = self._client.get_or_create_collection(
                name, metadata={"embedding_model": self.model_id, "schema": SCHEMA, "hnsw:space": "cosine"})
            self._docs = self._client.get_or_create_collection(name + "__docs", metadata={"schema": SCHEMA})
        except Exception as exc:
            raise StoreError(
                f"无法打开集合 {name!r} ({type(exc).__name__}: {str(exc)[:200]})。"
                "存储可能只读或写了一半: 运行 `assistant doctor`。") from exc
        stored = (self._passages.metadata or {}).get("embedding_model")
        if stored and stored != self.model_id:
            raise ModelMismatchError(
                f"存储 {name!r} 是用嵌入模型 {stored!r} 建立的，当前配置为 {self.model_id!r}。"
                f"请设置 ASSISTANT_EMBEDDING={stored}，或用新的 ASSISTANT_COLLECTION（或 ASSISTANT_HOME）"
                "以新模型重建。")
        self.vectorstore = Chroma(client=self._client, collection_name=name, embedding_function=self.embeddings)

    # ------------------------------------------------------------------------------------ registry

    def documents(self, max_age: float = 1.0) -> dict[str, dict]:
        """name -> metadata (with doc_hash, n_passages) of every registered document."""
        with self._lock:
            if self._registry is None or time.monotonic() - self._registry_at > max_age:
                try:
                    got = self._docs.get(include=["metadatas"])
                except Exception as exc:
                    raise StoreError(f"无法读取文档列表: {type(exc).__name__}: {str(exc)[:200]}") from exc
                self._registry = {i: dict(m or {}) for i, m in zip(got["ids"], got["metadatas"])}
                self._registry_at = time.monotonic()
            return dict(self._registry)

    def _invalidate(self) -> None:
        self._registry = None

    def document_text(self, name: str) -> str:
        meta = self.documents().get(name)
        if meta is None:
            raise AssistantError(f"没有名为 {name!r} 的文档。用 `assistant docs` 查看已有文档。")
        key = (name, meta.get("doc_hash", ""))
        if key not in self._texts:
            got = self._docs.get(ids=[name], include=["documents"])
            self._texts[key] = (got["documents"] or [""])[0] or ""
        return self._texts[key]

    def fingerprint(self, docs: dict[str, dict] | None = None) -> str:
        docs = self.documents() if docs is None else docs
        payload = "|".join(f"{n}:{m.get('doc_hash', '')}" for n, m in sorted(docs.items()))
        return hashlib.sha1(f"{self.model_id}|{payload}".encode("utf-8")).hexdigest()

    # ------------------------------------------------------------------------------------ keyword index

    def keyword_index(self) -> KeywordIndex:
        """The BM25 index matching Chroma now: loaded from disk when its fingerprint agrees, else rebuilt."""
        with self._lock:
            fp = self.fingerprint()
            if self._keyword is not None and self._keyword.fingerprint == fp:
                return self._keyword
            index = KeywordIndex.load(self.settings.index_dir)
            if index is None or index.fingerprint != fp:
                index = self._rebuild_keyword(fp)
            self._keyword = index
            return index

    def _rebuild_keyword(self, fp: str) -> KeywordIndex:
        docs = self.documents(max_age=0)
        ids, texts, metas = self.active_passages(docs)
        index = KeywordIndex()
        index.build(ids, texts, fp, metas, [keyword_text(m.get("section", ""), t) for t, m in zip(texts, metas)])
        with contextlib.suppress(OSError):
            index.save(self.settings.index_dir)
        return index

    def active_passages(self, docs: dict[str, dict] | None = None):
        docs = self.documents(max_age=0) if docs is None else docs
        hashes = [m["doc_hash"] for m in docs.values() if m.get("doc_hash")]
        if not hashes:
            return [], [], []
        got = self._passages.get(where={"doc_hash": {"$in": hashes}}, include=["documents", "metadatas"])
        rows = sorted(zip(got["ids"], got["documents"], got["metadatas"]),
                      key=lambda r: (r[2].get("doc", ""), r[2].get("start", 0)))
        return [r[0] for r in rows], [r[1] for r in rows], [dict(r[2]) for r in rows]

    # ------------------------------------------------------------------------------------ dense search

    def dense_search(self, query: str, k: int, hashes: list[str]) -> list[tuple[str, float]]:
        if not hashes:
            return []
        vec = self.embeddings.embed_query(query)
        where = {"doc_hash": {"$in": hashes}} if len(hashes) > 1 else {"doc_hash": hashes[0]}
        try:
            res = self._passages.query(query_embeddings=[vec], n_results=k, where=where, include=["distances"])
        except Exception as exc:
            raise StoreError(f"向量检索失败: {type(exc).__name__}: {str(exc)[:200]}") from exc
        return [(pid, 1.0 - float(d)) for pid, d in zip(res["ids"][0], res["distances"][0])]

    # ------------------------------------------------------------------------------------ writing

    @contextlib.contextmanager
    def _write_guard(self):
        """One writer at a time: a thread lock in-process, a file lock between processes on one disk."""
        with self._lock:
            if self.server_mode:
                yield
                return
            lock_path = self.settings.home / ".write.lock"
            try:
                fh = open(lock_path, "a")
            except OSError as exc:
                raise StoreError(f"存储目录不可写 ({self.settings.home}): {exc.strerror}。") from exc
            with fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh, fcntl.LOCK_UN)

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

    def add_document(self, doc: LoadedDoc, progress: Progress | None = None) -> FileResult:
        """Add or replace one loaded document. All or nothing, as seen by readers."""
        doc_hash = doc.content_hash
        with self._write_guard():
            old = self.documents(max_age=0).get(doc.name)
            if old and old.get("doc_hash") == doc_hash:
                return FileResult(doc.name, "unchanged", int(old.get("n_passages", 0)))
            passages = chunk(doc.text)
            if not passages:
                return FileResult(doc.name, "failed", 0, "没有可检索的正文 (no passages)")
            meta = _flat(doc.meta)
            ids = [passage_id(doc.name, doc_hash, p.start, p.end) for p in passages]
            metas = [
                {**{k: meta[k] for k in ("zone", "title", "speaker", "date", "year", "kind", "province") if k in meta},
                 "doc": doc.name, "doc_hash": doc_hash, "section": p.section, "start": p.start, "end": p.end,
                 "idx": p.index, "head": heading_level(p.text.split("\n", 1)[0]) or 0,
                 "enum": enumeration_count(p.text)}
                for p in passages
            ]
            try:
                vectors = []
                step = 64
                for i in range(0, len(passages), step):
                    part = passages[i:i + step]
                    vectors += self._embed([embed_text(meta, p.section, p.text) for p in part])
                    if progress:
                        progress(f"嵌入 {doc.name}", min(i + step, len(passages)), len(passages))
                for i in range(0, len(ids), 1000):
                    self._passages.upsert(ids=ids[i:i + 1000], embeddings=vectors[i:i + 1000],
                                          documents=[p.text for p in passages[i:i + 1000]],
                                          metadatas=metas[i:i + 1000])
                record = {**meta, "doc_hash": doc_hash, "n_passages": len(passages), "chars": len(doc.text),
                          "ingested_at": time.strftime("%Y-%m-%dT%H:%M:%S")}
                self._docs.upsert(ids=[doc.name], documents=[doc.text], metadatas=[record],
                                  embeddings=[[1.0]])  # the commit point
            except Exception as exc:
                with contextlib.suppress(Exception):
                    self._passages.delete(ids=ids)
                self._invalidate()
                raise StoreError(f"{doc.name}: 写入存储失败，已保留原有内容 ({type(exc).__name__}: "
                                 f"{str(exc)[:200]})") from exc
            self._invalidate()
            if old:
                with contextlib.suppress(Exception):
                    self._passages.delete(where={"$and": [{"doc": doc.name}, {"doc_hash": {"$ne": doc_hash}}]})
            self._keyword = None
            return FileResult(doc.name, "replaced" if old else "added", len(passages))

    def ingest(self, paths: Iterable[Path | str], progress: Progress | None = None,
               overrides: dict[str, dict] | None = None) -> IngestReport:
        """Ingest files one by one; a failed file is reported and does not stop the others."""
        report = IngestReport()
        paths = list(paths)
        seen: dict[str, Path] = {}
        for n, path in enumerate(paths, 1):
            path = Path(path)
            name = safe_name(path.name)
            if progress:
                progress(f"读取 {name}", n - 1, len(paths))
            if name in seen:  # 2022/讲话.txt and 2023/讲话.txt: one would silently replace the other
                report.results.append(FileResult(name, "failed", reason=(
                    f"同一批次中已有同名文件 {name} ({seen[name]})；请改名后再导入。")))
                continue
            seen[name] = path
            try:
                override = (overrides or {}).get(path.name) or _manifest_for(path).get(path.name)
                doc = load_document(path, override, max_mb=self.settings.max_file_mb)
                report.results.append(self.add_document(doc, progress))
            except LoadError as exc:
                report.results.append(FileResult(name, "failed", reason=str(exc)))
            except StoreError as exc:
                report.results.append(FileResult(name, "failed", reason=str(exc)))
        if progress:
            progress("完成", len(paths), len(paths))
        with contextlib.suppress(AssistantError):
            self.keyword_index()
        return report

    def ingest_bundled(self, progress: Progress | None = None) -> IngestReport:
        return self.ingest(bundled_files(), progress, bundled_manifest())

    def remove(self, name: str) -> int:
        """Remove a document and all its passages; returns the number of passages removed."""
        with self._write_guard():
            docs = self.documents(max_age=0)
            if name not in docs:
                raise AssistantError(f"没有名为 {name!r} 的文档。用 `assistant docs` 查看已有文档。")
            n = int(docs[name].get("n_passages", 0))
            try:
                self._docs.delete(ids=[name])  # the commit point: the passages are invisible from here on
                self._invalidate()
                self._passages.delete(where={"doc": name})
            except Exception as exc:
                raise StoreError(f"删除 {name} 失败: {type(exc).__name__}: {str(exc)[:200]}") from exc
            self._keyword = None
            return n

    def is_empty(self) -> bool:
        return not self.documents(max_age=0)

    # ------------------------------------------------------------------------------------ doctor

    def doctor(self, repair: bool = True) -> list[str]:
        """Check registry, passages and keyword index agree; sweep orphans and rebuild the index."""
        findings = []
        with self._write_guard():
            docs = self.documents(max_age=0)
            got = self._passages.get(include=["metadatas"])
            active = {(n, m.get("doc_hash")) for n, m in docs.items()}
            orphans = [pid for pid, m in zip(got["ids"], got["metadatas"])
                       if (m.get("doc"), m.get("doc_hash")) not in active]
            counts: dict[str, int] = {}
            for m in got["metadatas"]:
                if (m.get("doc"), m.get("doc_hash")) in active:
                    counts[m["doc"]] = counts.get(m["doc"], 0) + 1
            for name, meta in docs.items():
                if counts.get(name, 0) != int(meta.get("n_passages", -1)):
                    findings.append(f"{name}: {counts.get(name, 0)} passages, registry says {meta.get('n_passages')}")
                    if repair:
                        self._docs.delete(ids=[name])
                        self._passages.delete(where={"doc": name})
                        findings.append(f"{name}: removed (incomplete); ingest it again")
            if orphans:
                findings.append(f"{len(orphans)} orphan passages (from interrupted ingests)")
                if repair:
                    for i in range(0, len(orphans), 1000):
                        self._passages.delete(ids=orphans[i:i + 1000])
            self._invalidate()
            fp = self.fingerprint()
            index = KeywordIndex.load(self.settings.index_dir)
            if index is None or index.fingerprint != fp:
                findings.append("keyword index missing, unreadable or out of date")
                if repair:
                    self._keyword = self._rebuild_keyword(fp)
                    findings.append("keyword index rebuilt from Chroma")
        return findings
