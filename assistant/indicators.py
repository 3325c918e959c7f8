"""Indicators and figures: which indicator a question names, the forms documents write it in, and whether a
sentence states its value. The word lists are the lexicon's ([indicators], [figures])."""

from __future__ import annotations

import re

from .lexicon import section, words
from .text import normalize

_TABLE: dict[str, dict] = section("indicators")
METRICS: list[str] = list(_TABLE)
METRIC_ALIASES: dict[str, str] = {a: name for name, e in _TABLE.items() for a in e.get("aliases", [])}
METRIC_FORMS: dict[str, list[str]] = {name: list(e.get("forms", [name])) for name, e in _TABLE.items()}

_alt = "|".join
NUM = re.compile(r"(\d+(?:\.\d+)?|[一二三四五六七八九十百千万两]+)\s*(" + _alt(map(re.escape, words("figures", "units"))) + ")"
                 r"|(?<![\d.])(\d{1,2}|[一二三四五六七八九十两半]+)\s*年(?!\d)")  # "用时一年", not "2014年"
ANY_NUM = re.compile(r"\d")
MASKED = re.compile(r"(?<![A-Za-z])(X+|×+)\s*(" + _alt(map(re.escape, words("figures", "masked_units"))) + ")|第X")
_VUNITS = _alt(map(re.escape, words("figures", "value_units")))
_VALUE_AFTER = re.compile(r"[^\dXx×。；;，,]{0,10}?(?:\d[\d.]*|[Xx]+|×+)\s*(?:万亿|亿|万|千)?\s*(?:" + _VUNITS + r")?"
                          r"\s*(?:以上|左右|多|余)?")
_VALUE_BEFORE = re.compile(r"(?:\d[\d.]*|[Xx]+|×+)\s*(?:万亿|亿|万|千)?\s*(?:" + _VUNITS + r")?\s*$")
_GOES_ON = tuple(words("figures", "goes_on"))


_MODIFIERS = sorted(words("figures", "indicator_modifiers"), key=len, reverse=True)


_DENOMINATOR = words("figures", "denominator_marks")
_DENOMINATOR_AFTER = tuple(words("figures", "denominator_after"))  # "税收在一般预算收入里占多少"


def _bare(text: str, name: str) -> bool:
    """`name` occurs in `text` without a modifier before it ("营业收入", not only "亩均营业收入") and not as the
    denominator of a share ("占营业收入的比重")."""
    pos = text.find(name)
    while pos >= 0:
        if not any(text[max(0, pos - len(m)):pos] == m for m in _MODIFIERS + _DENOMINATOR) \
                and not text.startswith(_DENOMINATOR_AFTER, pos + len(name)):
            return True
        pos = text.find(name, pos + 1)
    return False


def metric_in(question: str, extra: dict[str, str] | None = None) -> str | None:
    """The indicator a question names, by its name or by what users call it ("营收" -> 营业收入; `extra`: the
    curator's words, userlex.UserLexicon.metric_aliases); the longest name wins, and a name under a modifier
    ("亩均税收") is not the bare indicator ("税收收入")."""
    q = normalize(question)
    names = [(normalize(m), m) for m in METRICS] + [(normalize(a), m) for a, m in METRIC_ALIASES.items()]
    names += [(normalize(a), m) for a, m in (extra or {}).items() if m in _TABLE]
    found = [(len(n), m) for n, m in names if n in q and _bare(q, n)]
    return max(found)[1] if found else None


def names_indicator(body: str, forms: list[str], question: str = "") -> bool:
    """The sentence names the indicator itself, not a modified one ("亩均营业收入") the question did not ask."""
    q = normalize(question)
    return any(_bare(body, f) or (f in q and not _bare(q, f)) for f in forms if f in body)


def metric_forms(metric: str) -> list[str]:
    return METRIC_FORMS.get(metric, [metric])


def states_value(body: str, forms: list[str]) -> bool:
    """Whether a figure in `body` is the value of the indicator rather than part of a category named with it:
    "营业收入358.26亿元、…" states it; "营业收入超30亿元高新技术企业数" names a kind of enterprise."""
    for form in forms:
        pos = body.find(form)
        while pos >= 0:
            if _VALUE_BEFORE.search(body[max(0, pos - 16):pos]):  # "50家高新技术企业", "143平方公里"
                return True
            after = body[pos + len(form):pos + len(form) + 40]
            m = _VALUE_AFTER.match(after)
            if m:
                rest = after[m.end():]
                if not rest or not re.match(r"[\u4e00-\u9fff]", rest) or rest.startswith(_GOES_ON):
                    return True
            pos = body.find(form, pos + 1)
    return False
