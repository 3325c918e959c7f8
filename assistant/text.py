"""Chinese text helpers shared by the keyword index, retrieval and answering.

jieba is loaded lazily and once: its dictionary takes about a second, which the CLI should not pay for a
command that never tokenizes.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_JIEBA = None
_JIEBA_LOCK = threading.Lock()

def _stopwords() -> set[str]:
    from .lexicon import words

    return set(words("query", "stopwords")) | set(words("query", "fillers"))


# Words that carry no meaning for retrieval (lexicon: query.stopwords, query.fillers). Question words are here
# too: the passage never says "多少"; nor does it say "做到" or "那份".
STOPWORDS = _stopwords()
_PUNCT = re.compile(r"^[\W_]+$", re.UNICODE)

def _expansions() -> dict[str, list[str]]:
    from .lexicon import section

    return {k: list(v) for k, v in section("expansions").items()}


# Paraphrases users type for the documents' own terms (lexicon: [expansions]). Each key adds the terms listed.
SYNONYMS = _expansions()


def jieba_module():
    global _JIEBA
    if _JIEBA is None:
        with _JIEBA_LOCK:
            if _JIEBA is None:
                import jieba

                jieba.setLogLevel(60)
                jieba.load_userdict(str(Path(__file__).parent / "data" / "userdict.txt"))
                _JIEBA = jieba
    return _JIEBA


def add_words(words) -> None:
    """Zone names and other terms found at ingest, so that jieba keeps them whole."""
    jb = jieba_module()
    for w in words:
        if w and len(w) >= 2:
            jb.add_word(w, freq=2000)


_T2S: dict[int, str] | None = None
_WIDTH: dict[int, str] = {c: chr(c - 0xFEE0) for c in range(0xFF01, 0xFF5F)} | {0x3000: " "}
_NORM: dict[int, str] | None = None
_FOLD_LOCK = threading.Lock()


def _tables() -> tuple[dict[int, str], dict[int, str]]:
    """Traditional -> simplified, one character for one (so offsets hold), from OpenCC's t2s conversion.

    Built once per process by converting every CJK character on its own (3 ms). Characters that are also
    standard simplified characters in their own right are left alone (lexicon: text.fold_exclude), so a
    simplified text folds to itself. Without OpenCC installed the fold is the identity.
    """
    global _T2S, _NORM
    if _T2S is None:
        with _FOLD_LOCK:
            if _T2S is None:
                from .lexicon import words

                table: dict[int, str] = {}
                try:
                    import opencc
                except ImportError:  # the fold is an aid to matching
                    opencc = None
                if opencc is not None:
                    chars = [chr(c) for lo, hi in ((0x3400, 0x4DC0), (0x4E00, 0xA000), (0xF900, 0xFB00))
                             for c in range(lo, hi)]
                    out = opencc.OpenCC("t2s").convert("\n".join(chars)).split("\n")
                    keep = set("".join(words("text", "fold_exclude")))
                    if len(out) == len(chars):
                        table = {ord(a): b for a, b in zip(chars, out) if len(b) == 1 and b != a and a not in keep}
                _NORM = {**table, **_WIDTH}
                _T2S = table
    return _T2S, _NORM


def fold(text: str) -> str:
    """Traditional characters to simplified, character for character: the same length as the input, so an
    offset into the folded text is an offset into the original. Indexes, embeddings and metadata use the
    folded form; quotes stay verbatim in the original script."""
    return text.translate(_T2S if _T2S is not None else _tables()[0])


def normalize(text: str) -> str:
    """The form every comparison uses: folded, full-width ASCII to half-width (004 uses ，：（）, the others
    , : ( )), lower case. Same length as the input."""
    return text.translate(_NORM if _NORM is not None else _tables()[1]).lower()


def tokenize(text: str) -> list[str]:
    jb = jieba_module()
    tokens = []
    for tok in jb.lcut_for_search(normalize(text)):
        tok = tok.strip()
        if not tok or tok in STOPWORDS or _PUNCT.match(tok):
            continue
        tokens.append(tok)
    return tokens


@lru_cache(maxsize=8192)
def token_set(text: str) -> frozenset[str]:
    """set(tokenize(text)), cached per process (LRU, 8,192 texts; tokens interned). A summary or a comparison
    scores every sentence of its documents on every request; jieba is pure Python, so cutting them again was
    most of such a request's time, holding the GIL against every other request of the process. The cut of a
    text never changes (jieba's dictionary is loaded once), so the cache needs no invalidation."""
    import sys

    return frozenset(sys.intern(t) for t in tokenize(text))


@lru_cache(maxsize=2048)
@lru_cache(maxsize=1)
def _measure_phrases() -> tuple[str, ...]:
    """The phrases that ask a quantity ("占多大": a share), longest first (lexicon [answers] measure_*)."""
    from .lexicon import section

    phrases = {normalize(w) for key, ws in section("answers").items() if key.startswith("measure_") for w in ws}
    return tuple(sorted(phrases, key=len, reverse=True))


def query_terms(question: str) -> tuple[str, ...]:
    """Tokens of a question plus the document-side terms its paraphrases stand for. A paraphrase that stands
    inside a longer phrase asking a quantity is read as that phrase: "占多大" asks a share, not the "多大" of an
    area."""
    tokens = tokenize(question)
    extra: list[str] = []
    norm_q = normalize(question)
    for key, values in SYNONYMS.items():
        if synonym_in(norm_q, key):
            for v in values:
                extra.extend(tokenize(v))
    seen, out = set(), []
    for t in tokens + extra:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return tuple(out)


def synonym_in(norm_q: str, key: str) -> bool:
    """The lexicon paraphrase `key` is said by the (normalised) question, and not only inside a longer phrase that
    asks a quantity ("多大" of "占多大")."""
    k = normalize(key)
    if k not in norm_q:
        return False
    for phrase in _measure_phrases():
        if k in phrase and phrase != k:
            norm_q = norm_q.replace(phrase, "　")
    return k in norm_q


def squash(text: str) -> str:
    """Whitespace-free, width-normalised form used to compare a quote with its source."""
    return re.sub(r"\s+", "", normalize(text))


CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}


def cn_to_int(s: str) -> int | None:
    """'十二' -> 12, '二十' -> 20, '三' -> 3; None when it is not a simple Chinese numeral."""
    if not s or any(ch not in CN_DIGITS and ch not in "十百" for ch in s):
        return None
    total, current = 0, 0
    for ch in s:
        if ch == "百":
            total += (current or 1) * 100
            current = 0
        elif ch == "十":
            total += (current or 1) * 10
            current = 0
        else:
            current = CN_DIGITS[ch]
    return total + current


def is_table_row(line: str) -> bool:
    """A row of a table as readers give it: Markdown pipes, or cells separated by tabs (docx, pdf, html). A tab
    only at a line's edge is indentation, not a cell boundary."""
    s = line.strip()
    return (s.startswith("|") and s.endswith("|") and s.count("|") >= 3) or "\t" in s


def row_cells(line: str) -> list[str]:
    """The cells of a table row. Tab rows keep an empty first or last cell (a header's empty corner), so that a
    row and its header line up cell for cell."""
    if "\t" in line.strip():
        return [c.strip() for c in line.strip(" \u3000\n").split("\t")]
    return [c.strip() for c in line.strip().strip("|").split("|")]


@dataclass(frozen=True)
class TableBlock:
    """A table in a document's text, as spans of whole lines: its header row, its data rows and its caption (the
    short line just before the header: "表1 2024年主要经济指标目标", "主要指标安排如下：", a <caption>)."""

    header: tuple[int, int]
    rows: tuple[tuple[int, int], ...]
    caption: tuple[int, int] | None = None

    @property
    def end(self) -> int:
        return self.rows[-1][1]


CAPTION_MAX = 60


@lru_cache(maxsize=16)
def table_blocks(text: str) -> tuple[TableBlock, ...]:
    """Every table of a text: a run of two or more consecutive rows with the same number of cells, its first row
    the header. A run that follows a table of as many cells across one short line (a group label, "二、创新指标")
    continues that table: its rows are read against the first header."""
    lines, pos = [], 0
    for line in text.split("\n"):
        lines.append((pos, pos + len(line)))
        pos += len(line) + 1
    runs: list[tuple[int, int, int]] = []  # (first line, last line, cells)
    i = 0
    while i < len(lines):
        s, e = lines[i]
        if not is_table_row(text[s:e]):
            i += 1
            continue
        n = len(row_cells(text[s:e]))
        j = i
        while j + 1 < len(lines) and is_table_row(text[slice(*lines[j + 1])]) \
                and len(row_cells(text[slice(*lines[j + 1])])) == n:
            j += 1
        if j > i:
            runs.append((i, j, n))
        i = j + 1
    blocks: list[TableBlock] = []
    prev: tuple[int, int, int] | None = None
    for first, last, n in runs:
        spans = tuple(lines[first:last + 1])
        between = text[lines[first - 1][0]:lines[first - 1][1]].strip() if first else ""
        if prev and blocks and prev[2] == n and prev[1] == first - 2 and 0 < len(between) <= 30:
            blocks.append(TableBlock(blocks[-1].header, spans, blocks[-1].caption))
        else:
            blocks.append(TableBlock(spans[0], spans[1:], _caption(text, lines, first)))
        prev = (first, last, n)
    return tuple(blocks)


def _caption(text: str, lines: list[tuple[int, int]], first: int) -> tuple[int, int] | None:
    if first == 0:
        return None
    s, e = lines[first - 1]
    line = text[s:e]
    if not line.strip() or len(line.strip()) > CAPTION_MAX or is_table_row(line) or line.rstrip().endswith("。"):
        return None
    lead = len(line) - len(line.lstrip())
    return s + lead, s + len(line.rstrip())


def table_at(text: str, pos: int) -> TableBlock | None:
    """The table holding the row or header line at `pos`."""
    for block in table_blocks(text):
        if block.header[0] <= pos <= block.header[1] or any(s <= pos <= e for s, e in block.rows):
            return block
    return None


def sentence_opening(text: str, pos: int) -> int:
    """Where the full sentence holding text[pos] opens: after the last 。！？ or line break before it (a clause after
    "；" belongs to the sentence it continues)."""
    return max(text.rfind(c, 0, pos) + 1 for c in "。！？!?\n")
