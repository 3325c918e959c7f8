"""The Chinese word lists, read once from assistant/data/lexicon.toml (and places.txt, the gazetteer)."""

from __future__ import annotations

import re
import tomllib
from functools import lru_cache
from pathlib import Path

DATA = Path(__file__).parent / "data"


@lru_cache(maxsize=1)
def lexicon() -> dict:
    with open(DATA / "lexicon.toml", "rb") as fh:
        return tomllib.load(fh)


def section(name: str) -> dict:
    return lexicon().get(name, {})


def pairs(section_name: str, key: str) -> list[tuple[str, str]]:
    return [(a, b) for a, b in section(section_name).get(key, [])]


def words(section_name: str, key: str) -> list[str]:
    return list(section(section_name).get(key, []))


@lru_cache(maxsize=1)
def places() -> frozenset[str]:
    """Place names: administrative divisions (full and short forms) and the lexicon's extra zone places."""
    names = {ln.strip() for ln in (DATA / "places.txt").read_text("utf-8").splitlines()
             if ln.strip() and not ln.startswith("#")}
    names.update(words("zones", "extra_places"))
    names.difference_update(words("zones", "not_places"))
    return frozenset(names)


def alternation(items, transform=None) -> str:
    """A regex alternation of words: escaped, longest first (so "工作会议" wins over "会议"), each once; one that
    never matches when there are none. `transform` (e.g. text.normalize) is applied to each word first."""
    forms = [transform(w) if transform else w for w in items if w]
    return "|".join(re.escape(w) for w in sorted(dict.fromkeys(forms), key=len, reverse=True)) or "(?!)"


def pattern(section_name: str, key: str, transform=None) -> re.Pattern:
    """The compiled alternation of a lexicon list."""
    return re.compile(alternation(words(section_name, key), transform))
