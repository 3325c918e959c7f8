"""Chinese text helpers shared by the keyword index, retrieval and answering.

jieba is loaded lazily and once: its dictionary takes about a second, which the CLI should not pay for a
command that never tokenizes.
"""

from __future__ import annotations

import re
import threading
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


@lru_cache(maxsize=2048)
def query_terms(question: str) -> tuple[str, ...]:
    """Tokens of a question plus the document-side terms its paraphrases stand for."""
    tokens = tokenize(question)
    extra: list[str] = []
    norm_q = normalize(question)
    for key, values in SYNONYMS.items():
        if normalize(key) in norm_q:
            for v in values:
                extra.extend(tokenize(v))
    seen, out = set(), []
    for t in tokens + extra:
        if t not in seen:
            seen.add(t)
            out.append(t)
    return tuple(out)


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
    """A row of a table as readers give it: Markdown pipes, or cells separated by tabs (docx, pdf)."""
    s = line.strip()
    return (s.startswith("|") and s.endswith("|") and s.count("|") >= 3) or s.count("\t") >= 2

