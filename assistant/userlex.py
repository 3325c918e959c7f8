"""The curator's own lexicon, beside the built-in one (assistant/data/lexicon.toml): synonyms and indicator
paraphrases ("营收" is "营业收入" here), and zone aliases ("长治高新" is 长治高新区).

It lives in ASSISTANT_HOME as `user_lexicon.toml`, one table per kind, which a curator may also edit by hand:

    [synonyms]
    "总营收" = ["技工贸总收入"]
    [zones]
    "长治高新" = ["长治高新区"]

Nothing is re-embedded or re-indexed when it changes; it is applied when a question is read:
- keyword search: a question naming any word of a synonym group also searches the others (query expansion);
- answerability: a sentence that says any word of a group says them all (UserLexicon.widen), and a user word
  whose group holds an indicator of the built-in lexicon names that indicator (UserLexicon.metric_aliases);
- scope: a zone alias names the documents of its zone (Store.documents() lists them under `user_aliases`).

The file is re-read when it changes (its inode, size and mtime; `load` is safe across threads), and written
whole to a temporary file that replaces it under a lock file (processes see the old or the new lexicon).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import tempfile
import threading
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

from .errors import EditError
from .text import normalize, tokenize

FILE_NAME = "user_lexicon.toml"
KINDS = {"synonym": "synonyms", "zone": "zones"}  # kind -> the file's table
MAX_WORD = 40


@dataclass(frozen=True)
class Entry:
    word: str
    synonyms: tuple[str, ...]
    kind: str = "synonym"  # "synonym" | "zone"

    def to_dict(self) -> dict:
        return {"word": self.word, "synonyms": list(self.synonyms), "kind": self.kind}


@dataclass(frozen=True)
class UserLexicon:
    entries: tuple[Entry, ...] = ()
    version: str = ""  # changes whenever the file does: part of cache keys
    problems: tuple[str, ...] = ()  # what `doctor` reports (a file that cannot be parsed is read as empty)
    _groups: tuple = field(default=(), repr=False, compare=False)

    def __post_init__(self) -> None:
        groups = []
        for e in self.entries:
            if e.kind == "synonym":
                members = tuple(dict.fromkeys(w for w in (e.word, *e.synonyms) if w.strip()))
                groups.append((members, tuple(normalize(m) for m in members)))
        object.__setattr__(self, "_groups", tuple(groups))

    def __bool__(self) -> bool:
        return bool(self.entries)

    def synonyms(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "synonym"]

    def zones(self) -> list[Entry]:
        return [e for e in self.entries if e.kind == "zone"]

    def expansion(self, question: str) -> list[str]:
        """Keyword tokens a question gains: for every synonym group it names a word of, the tokens of the
        group's other words ("总营收" also searches 技工贸总收入)."""
        if not self._groups:
            return []
        q = normalize(question)
        out: list[str] = []
        for members, norms in self._groups:
            named = [n for n in norms if n and n in q]
            if not named:
                continue
            for word, norm in zip(members, norms):
                if norm not in named:
                    out.extend(t for t in tokenize(word) if t not in out)
        return out

    def widen(self, body: str) -> str:
        """A normalised sentence with, appended, every word of the synonym groups it says one word of: matched
        against the question's terms, a sentence stating 营业收入 states what the curator calls 营收."""
        extra = [n for _, norms in self._groups if any(x and x in body for x in norms) for n in norms]
        return body + ("\n" + " ".join(extra) if extra else "")

    def metric_aliases(self) -> dict[str, str]:
        """user word -> indicator (built-in lexicon name), for the synonym groups that hold an indicator's name
        or alias: a question using the word asks for that indicator."""
        from .indicators import METRIC_ALIASES, METRICS

        known = {normalize(m): m for m in METRICS} | {normalize(a): m for a, m in METRIC_ALIASES.items()}
        out: dict[str, str] = {}
        for members, norms in self._groups:
            metrics = [known[n] for n in norms if n in known]
            if metrics:
                for word, norm in zip(members, norms):
                    if norm not in known:
                        out[word] = metrics[0]
        return out

    def zone_aliases(self) -> dict[str, list[str]]:
        """normalised zone -> the aliases the curator gave it."""
        out: dict[str, list[str]] = {}
        for e in self.zones():
            for zone in e.synonyms:
                out.setdefault(normalize(zone), []).append(e.word)
        return out


# ------------------------------------------------------------------------------------ reading

_CACHE: dict[str, tuple[tuple, UserLexicon]] = {}
_CACHE_LOCK = threading.Lock()
EMPTY = UserLexicon()


def path_in(home: Path) -> Path:
    return Path(home) / FILE_NAME


def load(path: Path) -> UserLexicon:
    """The lexicon in `path` (empty when there is none), read again only when the file has changed."""
    path = Path(path)
    try:
        fh = open(path, "rb")
    except FileNotFoundError:
        return EMPTY
    except OSError as exc:
        return UserLexicon(problems=(f"{path}: 无法读取 ({exc.strerror})",))
    with fh:
        st = os.fstat(fh.fileno())  # the stamp of the very file read (a writer may replace it meanwhile)
        stamp = (st.st_ino, st.st_size, st.st_mtime_ns)
        with _CACHE_LOCK:
            cached = _CACHE.get(str(path))
        if cached is not None and cached[0] == stamp:
            return cached[1]
        raw = fh.read()
    lex = parse(raw, version=f"{stamp[0]}:{stamp[1]}:{stamp[2]}", where=str(path))
    with _CACHE_LOCK:
        if len(_CACHE) > 64:
            _CACHE.clear()
        _CACHE[str(path)] = (stamp, lex)
    return lex


def parse(raw: bytes, version: str = "", where: str = FILE_NAME) -> UserLexicon:
    """Entries and problems of a lexicon file's bytes. Bad entries are skipped and reported, not fatal."""
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        return UserLexicon(version=version, problems=(f"{where}: 无法解析 ({exc})；用户词表暂不生效",))
    entries: list[Entry] = []
    problems: list[str] = []
    for table, value in data.items():
        kind = next((k for k, t in KINDS.items() if t == table), None)
        if kind is None or not isinstance(value, dict):
            problems.append(f"{where}: 未知的表 [{table}]（可用: {', '.join(f'[{t}]' for t in KINDS.values())}）")
            continue
        for word, syns in value.items():
            if isinstance(syns, str):
                syns = [syns]
            if not isinstance(syns, list) or not all(isinstance(s, str) for s in syns):
                problems.append(f"{where}: [{table}] {word!r} 的同义词应是字符串列表")
                continue
            word = word.strip()
            clean = [s.strip() for s in syns]
            if not word:
                problems.append(f"{where}: [{table}] 有一个空词条")
                continue
            if any(not s for s in clean) or not clean:
                problems.append(f"{where}: [{table}] {word!r} 有空的同义词")
            if any(normalize(s) == normalize(word) for s in clean):
                problems.append(f"{where}: [{table}] {word!r} 是它自己的同义词")
            clean = [s for s in dict.fromkeys(clean) if s and normalize(s) != normalize(word)]
            if clean:
                entries.append(Entry(word, tuple(clean), kind))
    return UserLexicon(tuple(entries), version, tuple(problems))


# ------------------------------------------------------------------------------------ writing


@contextlib.contextmanager
def _locked(path: Path):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name("." + path.name + ".lock"), "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _read_for_update(path: Path) -> UserLexicon:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return EMPTY
    lex = parse(raw, where=str(path))
    if any("无法解析" in p for p in lex.problems):
        raise EditError(f"用户词表 {path} 无法解析，请先修正或删除它（`assistant doctor` 会指出问题）。")
    return lex


def _write(path: Path, entries: list[Entry]) -> None:
    lines = []  # [synonyms]: a word and the words documents use for it; [zones]: an alias and its zone(s)
    for kind, table in KINDS.items():
        lines.append(f"[{table}]")
        for e in entries:
            if e.kind == kind:  # a JSON string is a TOML basic string
                lines.append(f"{json.dumps(e.word, ensure_ascii=False)} = "
                             f"[{', '.join(json.dumps(s, ensure_ascii=False) for s in e.synonyms)}]")
        lines.append("")
    fd, tmp = tempfile.mkstemp(prefix=".user_lexicon-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write("\n".join(lines))
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise EditError(f"无法写入用户词表 {path} ({exc.strerror})。请确认 ASSISTANT_HOME 可写。") from exc


def _check_word(word: str, what: str) -> str:
    word = (word or "").strip()
    if not word:
        raise EditError(f"{what}不能为空。")
    if len(word) > MAX_WORD or re.search(r"[\x00-\x1f]", word):
        raise EditError(f"{what} {word[:MAX_WORD]!r}… 太长或含控制字符（上限 {MAX_WORD} 字）。")
    return word


def add(path: Path, word: str, synonyms: list[str], kind: str = "synonym") -> Entry:
    """Add a word with its synonyms (or a zone alias with its zone); a word already there gains the synonyms."""
    if kind not in KINDS:
        raise EditError(f"未知的词条类型 {kind!r}；可用: {', '.join(KINDS)}。")
    word = _check_word(word, "词")
    syns = [_check_word(s, "同义词" if kind == "synonym" else "园区名") for s in synonyms or []]
    if not syns:
        raise EditError(f"请给出「{word}」的同义词（或 --zone 时它所指的园区）。")
    if any(normalize(s) == normalize(word) for s in syns):
        raise EditError(f"「{word}」不能是它自己的同义词。")
    path = Path(path)
    with _locked(path):
        entries = list(_read_for_update(path).entries)
        old = next((e for e in entries if normalize(e.word) == normalize(word) and e.kind == kind), None)
        merged = Entry(old.word if old else word, tuple(dict.fromkeys([*(old.synonyms if old else ()), *syns])), kind)
        entries = [merged if e is old else e for e in entries] if old else entries + [merged]
        _write(path, entries)
    return merged


def remove(path: Path, word: str) -> list[Entry]:
    """Remove a word (of either kind); returns the entries removed."""
    word = _check_word(word, "词")
    path = Path(path)
    with _locked(path):
        entries = list(_read_for_update(path).entries)
        gone = [e for e in entries if normalize(e.word) == normalize(word)]
        if not gone:
            raise EditError(f"用户词表中没有「{word}」。用 `assistant lexicon list` 查看已有词条。")
        _write(path, [e for e in entries if e not in gone])
    return gone


def check(path: Path, zones: set[str] | None = None) -> list[str]:
    """What is wrong with the lexicon file: parse errors, empty words, a word that is its own synonym, and
    (given the corpus's zones) a zone alias for a zone no document is about."""
    lex = load(path)
    problems = list(lex.problems)
    if zones is not None:
        known = {normalize(z) for z in zones if z}
        for e in lex.zones():
            for z in e.synonyms:
                if normalize(z) not in known:
                    problems.append(f"{path}: 园区别名「{e.word}」指向的「{z}」不是任何文档的园区")
    return problems
