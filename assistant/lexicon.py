"""The Chinese word lists, read once from assistant/data/lexicon.toml (and places.txt, the gazetteer)."""

from __future__ import annotations

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
