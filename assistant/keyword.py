"""The keyword side of hybrid retrieval: BM25 over jieba tokens, in files that every process maps, not loads.

The index is derived data: Chroma is the source of truth. It is saved next to the store with a fingerprint
of the documents it covers; when the fingerprint disagrees with Chroma (a crash between the two writes, a
damaged file, another process's ingest), it is rebuilt from Chroma rather than trusted.

Files (settings.index_dir = <home>/keyword/<collection>):

    <collection>/                   one version of the index, swapped in whole (os.replace of the directory)
        header.json                 fingerprint, tokenizer, counts, and every file's size and SHA-256
        checksum                    SHA-256 of header.json
        ids.json, docs.json         passage ids by position; document names
        doc_of.npy                  each position's document (int32 code into docs.json)
        terms.json, indptr.npy      the vocabulary; each term's slice of the postings (int64)
        post_doc.npy, post_tf.npy   postings grouped by term: positions (int32), term frequencies (float32)
        doclen.npy                  tokens per passage (float32)
    <collection>.passages.sqlite    passage rows by id: text, metadata, tokens, a CRC per row. Ids are derived
                                    from the content, so one table serves every version of the index; a reader
                                    fetches the rows of its hits only. Rows an index no longer lists are marked
                                    and deleted ten minutes later (a reader may still hold the previous index).

Opening is cheap and shares memory: the postings and lengths are memory-mapped (one copy in the page cache for
all processes); ids, document codes and the vocabulary are read; no passage text is loaded. Checks on open:
the header's SHA-256, every file's size, and the SHA-256 of every file except the two postings arrays (the
bulk: at 3,000 documents ~56 MB, re-hashed on every open by every process would cost more than the open). A
row's CRC is checked whenever the row is read, so a damaged passage is never served (the Store reads it from
Chroma instead and rebuilds). `load(verify=True)` (doctor) hashes everything and checks every row.

Scoring is bm25s's "lucene" BM25 (k1 1.5, b 0.75: idf = ln(1 + (N - df + 0.5) / (df + 0.5)), tf part
tf / (tf + k1 (1 - b + b dl / avgdl))), computed at query time from the postings rather than stored per
(term, passage): so an ingest or a removal merges postings (`updated`, numpy over arrays, ~1 s at 75k passages)
instead of rescoring the corpus (bm25s.index: ~14 s at 75k passages on this machine).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import time
import uuid
import zlib
from collections import OrderedDict
from collections.abc import Mapping
from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .config import fault_point
from .text import tokenize


def _tokenizer_version() -> str:
    """The tokenizer and the word lists it reads: an index cut with other words is rebuilt, not trusted."""
    data = Path(__file__).parent / "data"
    h = hashlib.sha256()
    for name in ("userdict.txt", "lexicon.toml"):
        path = data / name
        h.update(path.read_bytes() if path.exists() else b"")
    return f"jieba-search-v2-t2s-{h.hexdigest()[:12]}"


TOKENIZER_VERSION = _tokenizer_version()
FORMAT = 2
_TMP_PREFIX = ".kw-"
K1, B = 1.5, 0.75
_EMPTY = "∅"  # the one token of a passage with none (as before), so that every passage has a length
_BIG = ("post_doc.npy", "post_tf.npy")  # checked by size on open, by hash in verify
_DROP_AFTER = 600.0  # seconds a row outlives the last index that listed it
_TOKEN_SEP = "\x1f"


@contextlib.contextmanager
def _save_lock(directory: Path, shared: bool = False):
    """A lock on `<parent>/.save.lock` (all collections of a home share it; saves are short). Loads take it
    shared, so that they never read half of one version and half of the next."""
    path = Path(directory).parent / ".save.lock"
    try:
        fh = open(path, "a")
    except OSError:
        if not shared:
            raise
        yield  # a read-only home: nobody can be saving
        return
    with fh:
        fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def rows_path(directory: Path) -> Path:
    directory = Path(directory)
    return directory.with_name(directory.name + ".passages.sqlite")


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _crc(pid: str, text: str, meta: str, tokens: str, tok_ver: str) -> int:
    return zlib.crc32("\x00".join((pid, text, meta, tokens or "", tok_ver or "")).encode("utf-8"))


class PassageRows:
    """The passages of every index version, by id, in SQLite: written by ingests, read per hit.

    One connection per object, behind a lock (point reads take ~20 µs). Rows are written with INSERT OR REPLACE,
    so writing a row again (a re-ingest, a rebuild) also repairs it."""

    def __init__(self, path: Path, writable: bool = False) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._db = None
        self._writable = writable

    def _conn(self) -> sqlite3.Connection:
        if self._db is None:
            if self._writable:
                db = sqlite3.connect(str(self.path), timeout=60, check_same_thread=False)
                db.execute("CREATE TABLE IF NOT EXISTS p (id TEXT PRIMARY KEY, text TEXT NOT NULL, meta TEXT NOT "
                           "NULL, tokens TEXT, tok_ver TEXT, crc INTEGER NOT NULL, dropped REAL)")
                db.execute("CREATE INDEX IF NOT EXISTS p_dropped ON p(dropped) WHERE dropped IS NOT NULL")
                db.commit()
            else:
                if not self.path.is_file():
                    raise FileNotFoundError(self.path)
                uri = "file:" + str(self.path.resolve()).replace("?", "%3f").replace("#", "%23") + "?mode=ro"
                db = sqlite3.connect(uri, uri=True, timeout=60, check_same_thread=False)
            self._db = db
        return self._db

    def close(self) -> None:
        with self._lock:
            if self._db is not None:
                with contextlib.suppress(sqlite3.Error):
                    self._db.close()
                self._db = None

    # ------------------------------------------------------------------------------ reading

    @staticmethod
    def _decode(row) -> tuple[dict, list[str] | None] | None:
        pid, text, meta, tokens, tok_ver, crc = row
        if _crc(pid, text, meta, tokens, tok_ver) != crc:
            return None
        try:
            rec = {"text": text, "meta": json.loads(meta)}
        except ValueError:
            return None
        toks = tokens.split(_TOKEN_SEP) if tokens and tok_ver == TOKENIZER_VERSION else None
        return rec, toks

    def get(self, pid: str) -> dict | None:
        """The passage's {"text", "meta"}; None when the row is missing or fails its CRC."""
        with self._lock:
            row = self._conn().execute("SELECT id, text, meta, tokens, tok_ver, crc FROM p WHERE id = ?",
                                       (pid,)).fetchone()
        got = self._decode(row) if row else None
        return got[0] if got else None

    def many(self, pids: list[str]) -> dict[str, tuple[dict, list[str] | None]]:
        """id -> (record, tokens or None) for the rows that exist and pass their CRC."""
        out = {}
        with self._lock:
            db = self._conn()
            for i in range(0, len(pids), 500):
                part = pids[i:i + 500]
                rows = db.execute("SELECT id, text, meta, tokens, tok_ver, crc FROM p WHERE id IN "
                                  f"({','.join('?' * len(part))})", part).fetchall()
                for row in rows:
                    got = self._decode(row)
                    if got is not None:
                        out[row[0]] = got
        return out

    def count(self) -> int:
        with self._lock:
            return int(self._conn().execute("SELECT COUNT(*) FROM p").fetchone()[0])

    # ------------------------------------------------------------------------------ writing

    def put(self, rows: Iterable[tuple[str, str, dict, list[str] | None]]) -> None:
        """Write (id, text, meta, tokens) rows, each listed again (not dropped)."""
        data = []
        for pid, text, meta, tokens in rows:
            m = json.dumps(meta, ensure_ascii=False, sort_keys=True)
            t = _TOKEN_SEP.join(tokens) if tokens is not None else None
            v = TOKENIZER_VERSION if tokens is not None else None
            data.append((pid, text, m, t, v, _crc(pid, text, m, t, v)))
        with self._lock:
            db = self._conn()
            try:
                for i in range(0, len(data), 2000):
                    db.executemany("INSERT OR REPLACE INTO p (id, text, meta, tokens, tok_ver, crc, dropped) "
                                   "VALUES (?, ?, ?, ?, ?, ?, NULL)", data[i:i + 2000])
                db.commit()
            except BaseException:
                db.rollback()
                raise

    def drop(self, pids: Iterable[str], keep: Iterable[str] = ()) -> None:
        """Mark rows no index lists any more (deleted by `collect` after _DROP_AFTER seconds)."""
        pids = list(set(pids) - set(keep))
        if not pids:
            return
        now = time.time()
        with self._lock:
            db = self._conn()
            for i in range(0, len(pids), 500):
                part = pids[i:i + 500]
                db.execute(f"UPDATE p SET dropped = ? WHERE dropped IS NULL AND id IN ({','.join('?' * len(part))})",
                           [now, *part])
            db.commit()

    def drop_all_but(self, keep: list[str]) -> None:
        """After a full rebuild: every row the new index does not list is marked (orphans of killed ingests)."""
        now = time.time()
        with self._lock:
            db = self._conn()
            db.execute("CREATE TEMP TABLE IF NOT EXISTS keep (id TEXT PRIMARY KEY)")
            db.execute("DELETE FROM keep")
            db.executemany("INSERT OR IGNORE INTO keep VALUES (?)", [(i,) for i in keep])
            db.execute("UPDATE p SET dropped = ? WHERE dropped IS NULL AND id NOT IN (SELECT id FROM keep)", (now,))
            db.execute("DELETE FROM keep")
            db.commit()

    def collect(self, older_than: float = _DROP_AFTER) -> int:
        """Delete the rows marked more than `older_than` seconds ago; returns how many."""
        with self._lock:
            db = self._conn()
            n = db.execute("DELETE FROM p WHERE dropped IS NOT NULL AND dropped < ?",
                           (time.time() - older_than,)).rowcount
            db.commit()
            return int(n or 0)


class Records(Mapping):
    """id -> {"text", "meta"} over an index's passages, read from the rows file per access (a small LRU keeps
    the ones read lately). `pid in records` needs no read."""

    _CACHE = 4096

    def __init__(self, index: "KeywordIndex") -> None:
        self._index = index
        self._cache: OrderedDict[str, dict] = OrderedDict()
        self._lock = threading.Lock()

    def __contains__(self, pid) -> bool:
        return pid in self._index._pos

    def __len__(self) -> int:
        return len(self._index.ids)

    def __iter__(self):
        return iter(self._index.ids)

    def __getitem__(self, pid: str) -> dict:
        index = self._index
        if index._mem is not None and pid in index._mem:
            return index._mem[pid]
        if pid not in index._pos:
            raise KeyError(pid)
        with self._lock:
            rec = self._cache.get(pid)
            if rec is not None:
                self._cache.move_to_end(pid)
                return rec
        rec = index.rows.get(pid) if index.rows is not None else None
        if rec is None:
            index.damaged = True  # the Store rebuilds at its next keyword_index(); meanwhile Chroma answers
            rec = index.fallback(pid) if index.fallback is not None else None
            if rec is None:
                raise KeyError(pid)
            return rec
        with self._lock:
            self._cache[pid] = rec
            while len(self._cache) > self._CACHE:
                self._cache.popitem(last=False)
        return rec

    def values(self):  # one batched read instead of one per passage
        index = self._index
        mem = index._mem or {}
        rest = [pid for pid in index.ids if pid not in mem]
        got = index.rows.many(rest) if index.rows is not None and rest else {}
        return [mem[pid] if pid in mem else got[pid][0] if pid in got else self[pid] for pid in index.ids]

    def items(self):
        return list(zip(self._index.ids, self.values()))


def _postings(token_lists: list[list[str]], terms: dict[str, int], base: int = 0):
    """(term ids, positions, term frequencies, lengths) of passages; new terms are added to `terms`."""
    tids: list[int] = []
    docs: list[int] = []
    tfs: list[int] = []
    lengths = np.zeros(len(token_lists), dtype=np.float32)
    for j, toks in enumerate(token_lists):
        toks = toks or [_EMPTY]
        lengths[j] = len(toks)
        counts: dict[str, int] = {}
        for t in toks:
            counts[t] = counts.get(t, 0) + 1
        for t, c in counts.items():
            tid = terms.get(t)
            if tid is None:
                tid = terms[t] = len(terms)
            tids.append(tid)
            docs.append(base + j)
            tfs.append(c)
    return (np.asarray(tids, dtype=np.int64), np.asarray(docs, dtype=np.int32),
            np.asarray(tfs, dtype=np.float32), lengths)


def _grouped(tids: np.ndarray, docs: np.ndarray, tfs: np.ndarray, n_terms: int):
    """Postings sorted by term (stable: positions stay ascending within a term) and the per-term offsets."""
    order = np.argsort(tids, kind="stable")
    indptr = np.zeros(n_terms + 1, dtype=np.int64)
    np.cumsum(np.bincount(tids, minlength=n_terms), out=indptr[1:])
    return indptr, np.ascontiguousarray(docs[order]), np.ascontiguousarray(tfs[order])


class KeywordIndex:
    def __init__(self) -> None:
        self.ids: list[str] = []
        self.fingerprint = ""
        self.build_id = ""
        self._pos: dict[str, int] = {}
        self._terms: dict[str, int] = {}
        self._indptr = np.zeros(1, dtype=np.int64)
        self._pdoc = np.zeros(0, dtype=np.int32)
        self._ptf = np.zeros(0, dtype=np.float32)
        self._dl = np.zeros(0, dtype=np.float32)
        self._dnorm = np.zeros(0, dtype=np.float32)
        self._doc_names: list[str] = []
        self._doc_codes: dict[str, int] = {}  # document name -> its code in _doc_of
        self._doc_of = np.zeros(0, dtype=np.int32)  # per position: the code of the passage's document
        self._mem: dict[str, dict] | None = {}  # records held in memory (a built index, until saved and reopened)
        self._new_rows: list[tuple[str, str, dict, list[str] | None]] = []  # rows a save must write
        self._dropped: list[str] = []  # ids the previous version listed and this one does not
        self._full = True  # built from all passages (a save marks rows it does not list)
        self.rows: PassageRows | None = None
        self.records = Records(self)
        self.damaged = False  # a row was missing or failed its CRC: the Store rebuilds
        self.fallback: Callable[[str], dict | None] | None = None  # where a damaged row is read from (Chroma)

    # ---------------------------------------------------------------------------------------- building

    def build(self, ids: list[str], texts: list[str], fingerprint: str, metas: list[dict] | None = None,
              index_texts: list[str] | None = None, tokenized: list[list[str]] | None = None) -> None:
        """Index the passages; `tokenized` (the tokens of index_texts, already cut) saves the jieba time."""
        metas = metas or [{} for _ in ids]
        index_texts = index_texts or texts
        if tokenized is None:
            tokenized = [tokenize(t) for t in index_texts]
        self.ids = list(ids)
        self._pos = {pid: i for i, pid in enumerate(self.ids)}
        self.fingerprint = fingerprint
        self._mem = {pid: {"text": t, "meta": m} for pid, t, m in zip(ids, texts, metas)}
        self._new_rows = [(pid, t, m, toks) for pid, t, m, toks in zip(ids, texts, metas, tokenized)]
        self._dropped, self._full = [], True
        self._terms = {}
        tids, docs, tfs, self._dl = _postings(tokenized, self._terms)
        self._indptr, self._pdoc, self._ptf = _grouped(tids, docs, tfs, len(self._terms))
        self._index_docs([str(m.get("doc", "")) for m in metas])
        self._norms()

    def updated(self, remove_docs: Iterable[str], ids: list[str], texts: list[str], metas: list[dict],
                tokenized: list[list[str]], fingerprint: str) -> "KeywordIndex":
        """A new index: this one without the passages of `remove_docs` (names), plus the given passages (at the
        end), labelled `fingerprint`. Postings are merged with numpy; nothing else is re-read or re-cut."""
        codes = [self._doc_codes[d] for d in set(remove_docs) if d in self._doc_codes]
        keep = ~np.isin(self._doc_of, np.asarray(codes, dtype=np.int32)) if codes else np.ones(len(self.ids), bool)
        kept = np.flatnonzero(keep)
        new_pos = np.cumsum(keep, dtype=np.int64) - 1
        terms = dict(self._terms)
        n_terms_old = len(terms)
        old_tids = np.repeat(np.arange(n_terms_old, dtype=np.int64), np.diff(self._indptr))
        live = keep[self._pdoc] if len(self._pdoc) else np.zeros(0, bool)
        add_tids, add_docs, add_tfs, add_dl = _postings(tokenized, terms, base=len(kept))
        tids = np.concatenate([old_tids[live], add_tids])
        docs = np.concatenate([new_pos[self._pdoc[live]].astype(np.int32), add_docs])
        tfs = np.concatenate([np.asarray(self._ptf[live], dtype=np.float32), add_tfs])
        out = KeywordIndex()
        out.fingerprint = fingerprint
        old_ids = self.ids
        out.ids = [old_ids[i] for i in kept.tolist()] + list(ids)
        out._pos = {pid: i for i, pid in enumerate(out.ids)}
        out._terms = terms
        out._indptr, out._pdoc, out._ptf = _grouped(tids, docs, tfs, len(terms))
        out._dl = np.concatenate([np.asarray(self._dl, dtype=np.float32)[kept], add_dl])
        names = [self._doc_names[c] for c in np.asarray(self._doc_of)[kept].tolist()]
        out._index_docs(names + [str(m.get("doc", "")) for m in metas])
        out._norms()
        out.rows = self.rows
        # records in memory: what this one held in memory and still lists, and the new passages (until reopened)
        out._mem = {pid: rec for pid, rec in (self._mem or {}).items() if pid in out._pos}
        out._mem.update({pid: {"text": t, "meta": m} for pid, t, m in zip(ids, texts, metas)})
        out._new_rows = [(pid, t, m, toks) for pid, t, m, toks in zip(ids, texts, metas, tokenized)]
        drop = set(old_ids[i] for i in np.flatnonzero(~keep).tolist()) - set(ids)
        out._dropped, out._full = sorted(drop), False
        return out

    def _index_docs(self, names: list[str]) -> None:
        """Per-position document codes, so that a filter by document is one numpy comparison
        instead of a set of passage ids built per query (0.9 ms → 0.02 ms at 7,379 passages)."""
        self._doc_names = sorted(set(names))
        self._doc_codes = {n: i for i, n in enumerate(self._doc_names)}
        self._doc_of = np.fromiter((self._doc_codes[n] for n in names), dtype=np.int32, count=len(names))

    def _norms(self) -> None:
        dl = np.asarray(self._dl, dtype=np.float32)
        avg = float(dl.mean()) if len(dl) else 1.0
        self._dnorm = (K1 * ((1 - B) + B * dl / (avg or 1.0))).astype(np.float32)

    # ---------------------------------------------------------------------------------------- searching

    def doc_mask(self, docs) -> np.ndarray | None:
        """A boolean array over positions: the passages of `docs`. None when that is every passage."""
        codes = [self._doc_codes[d] for d in docs if d in self._doc_codes]
        if len(codes) == len(self._doc_codes):
            return None
        return np.isin(self._doc_of, np.asarray(codes, dtype=np.int32))

    def scores(self, terms: list[str]) -> np.ndarray:
        """BM25 of every passage for the terms (a term given twice counts twice, as in bm25s)."""
        n = len(self.ids)
        out = np.zeros(n, dtype=np.float32)
        if not n or not terms:
            return out
        for term in terms:
            tid = self._terms.get(term)
            if tid is None:
                continue
            s, e = int(self._indptr[tid]), int(self._indptr[tid + 1])
            if e <= s:
                continue
            docs = np.asarray(self._pdoc[s:e])
            tf = np.asarray(self._ptf[s:e])
            df = e - s
            idf = np.float32(np.log(1.0 + (n - df + 0.5) / (df + 0.5)))
            out[docs] += idf * (tf / (tf + self._dnorm[docs]))  # positions are unique within a term
        return out

    def search(self, terms: list[str], k: int, docs=None) -> list[tuple[str, float]]:
        """The k best passages for the terms; only those of `docs` (names) when given."""
        scores = self.scores(terms)
        mask = None if docs is None else self.doc_mask(docs)
        if mask is not None:
            scores = np.where(mask, scores, 0.0)
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        order = hits[np.lexsort((hits, -scores[hits]))]
        return [(self.ids[i], float(scores[i])) for i in order.tolist()]

    # ---------------------------------------------------------------------------------------- files

    def save(self, directory: Path) -> None:
        """Write the passage rows it adds, then the arrays to a temporary directory, then swap that in: a crash
        leaves the old index or the new one (and at worst rows nobody lists, marked and deleted later).

        Saves take a file lock beside the index, so that the leftovers of a save that was killed (a `.kw-*`
        temporary directory, `<name>.old`) can be told from a save in progress and are swept by the next one.
        """
        directory = Path(directory)
        directory.parent.mkdir(parents=True, exist_ok=True)
        rows = PassageRows(rows_path(directory), writable=True)
        try:
            if self._new_rows:
                rows.put(self._new_rows)
            with _save_lock(directory):
                self.sweep(directory, locked=True)
                tmp = Path(tempfile.mkdtemp(prefix=_TMP_PREFIX, dir=directory.parent))
                try:
                    self._write(tmp)
                    fault_point("keyword_tmp_written")
                    old = directory.with_name(directory.name + ".old")
                    if directory.exists():
                        if old.exists():
                            shutil.rmtree(old, ignore_errors=True)
                        os.replace(directory, old)
                    fault_point("keyword_swapped_out")
                    os.replace(tmp, directory)
                    shutil.rmtree(old, ignore_errors=True)
                finally:
                    if tmp.exists():
                        shutil.rmtree(tmp, ignore_errors=True)
            with contextlib.suppress(sqlite3.Error):  # bookkeeping: a failure leaves rows for a later save
                if self._full:
                    rows.drop_all_but(self.ids)
                elif self._dropped:
                    rows.drop(self._dropped, keep=self.ids)
                rows.collect()
        finally:
            rows.close()
        self._new_rows, self._dropped = [], []

    def _write(self, tmp: Path) -> None:
        self.build_id = uuid.uuid4().hex
        files = {
            "ids.json": json.dumps(self.ids).encode("ascii"),
            "docs.json": json.dumps(self._doc_names, ensure_ascii=False).encode("utf-8"),
            "terms.json": json.dumps(sorted(self._terms, key=self._terms.__getitem__),
                                     ensure_ascii=False).encode("utf-8"),
        }
        for name, data in files.items():
            (tmp / name).write_bytes(data)
        arrays = {"doc_of.npy": np.asarray(self._doc_of, dtype=np.int32),
                  "indptr.npy": np.asarray(self._indptr, dtype=np.int64),
                  "post_doc.npy": np.asarray(self._pdoc, dtype=np.int32),
                  "post_tf.npy": np.asarray(self._ptf, dtype=np.float32),
                  "doclen.npy": np.asarray(self._dl, dtype=np.float32)}
        for name, arr in arrays.items():
            np.save(tmp / name, arr, allow_pickle=False)
        listing = {}
        for name in [*files, *arrays]:
            path = tmp / name
            listing[name] = [path.stat().st_size, _sha256(path)]
        header = json.dumps({"format": FORMAT, "fingerprint": self.fingerprint, "tokenizer": TOKENIZER_VERSION,
                             "build": self.build_id, "passages": len(self.ids), "terms": len(self._terms),
                             "postings": int(len(self._pdoc)), "files": listing}, ensure_ascii=False, indent=1)
        (tmp / "header.json").write_text(header, "utf-8")
        (tmp / "checksum").write_text(hashlib.sha256(header.encode("utf-8")).hexdigest(), "ascii")

    @staticmethod
    def sweep(directory: Path, locked: bool = False) -> list[str]:
        """Remove what killed saves left beside the index; returns the names removed."""
        directory = Path(directory)
        if not directory.parent.is_dir():
            return []
        with contextlib.nullcontext() if locked else _save_lock(directory):
            stale = [p for p in directory.parent.iterdir()
                     if p.is_dir() and (p.name.startswith(_TMP_PREFIX) or p.name == directory.name + ".old")]
            for p in stale:
                shutil.rmtree(p, ignore_errors=True)
        return sorted(p.name for p in stale)

    @classmethod
    def load(cls, directory: Path, verify: bool = False) -> "KeywordIndex | None":
        """The saved index, or None when it is missing, of another format or tokenizer, or fails a check (see
        the module docstring). `verify`: also hash the postings and read every passage row (doctor)."""
        directory = Path(directory)
        try:
            with _save_lock(directory, shared=True):
                return cls._load(directory, verify)
        except Exception:  # damaged or half-written: the caller rebuilds from Chroma
            return None

    @classmethod
    def _load(cls, directory: Path, verify: bool) -> "KeywordIndex | None":
        raw = (directory / "header.json").read_bytes()
        if (directory / "checksum").read_text("ascii").strip() != hashlib.sha256(raw).hexdigest():
            return None
        info = json.loads(raw.decode("utf-8"))
        if info.get("format") != FORMAT or info.get("tokenizer") != TOKENIZER_VERSION:
            return None
        files = info["files"]
        for name, (size, digest) in files.items():
            path = directory / name
            if path.stat().st_size != size:
                return None
            if (verify or name not in _BIG) and _sha256(path) != digest:
                return None
        index = cls()
        index._mem = None
        index.fingerprint = info["fingerprint"]
        index.build_id = info.get("build", "")
        index.ids = json.loads((directory / "ids.json").read_bytes())
        index._pos = {pid: i for i, pid in enumerate(index.ids)}
        index._doc_names = json.loads((directory / "docs.json").read_bytes())
        index._doc_codes = {n: i for i, n in enumerate(index._doc_names)}
        index._terms = {t: i for i, t in enumerate(json.loads((directory / "terms.json").read_bytes()))}
        index._doc_of = np.load(directory / "doc_of.npy", allow_pickle=False)
        index._indptr = np.load(directory / "indptr.npy", allow_pickle=False)
        index._pdoc = np.load(directory / "post_doc.npy", mmap_mode="r", allow_pickle=False)
        index._ptf = np.load(directory / "post_tf.npy", mmap_mode="r", allow_pickle=False)
        index._dl = np.load(directory / "doclen.npy", mmap_mode="r", allow_pickle=False)
        n = len(index.ids)
        if not (n == info["passages"] == len(index._doc_of) == len(index._dl) == len(index._pos)
                and len(index._indptr) == len(index._terms) + 1 == info["terms"] + 1
                and int(index._indptr[-1]) == len(index._pdoc) == len(index._ptf) == info["postings"]):
            return None
        if n and (int(index._doc_of.max()) >= len(index._doc_names) or int(index._doc_of.min()) < 0):
            return None
        index._norms()
        if n:
            index.rows = PassageRows(rows_path(directory))
            if index.rows.count() < n:  # rows file replaced or emptied: not this index's
                return None
            if verify:
                got = index.rows.many(index.ids)
                if len(got) != n:
                    return None
        return index

    def close(self) -> None:
        if self.rows is not None:
            self.rows.close()
