"""Answerability: does a candidate sentence answer the question? One decision over its features.

Features of a question: the years it asks about, whether it asks for a result or a target, and what quantity
(an amount, a count, a rate, a share). Features of a sentence: its year (said in the sentence, else its
paragraph's lead, else its section's heading, else the document's reporting year for its kind of figure),
whether its figure is a result or a target (its clause's words, else its paragraph's lead or section heading),
and the units of its figures. A sentence that contradicts the question on any of these does not answer it, however
well its words match: "2019年GDP" is not answered by 2020's, "实际完成" not by a 力争, "总投资多少" not by "30GW".
The word lists are the lexicon's [answers].
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexicon import alternation, pattern, section, words
from .text import fold, normalize, sentence_opening


def _rx(key: str) -> re.Pattern:
    return pattern("answers", key, normalize)


_TARGET_Q, _RESULT_Q = _rx("target_question"), _rx("result_question")
_TARGET_M, _RESULT_M = _rx("target_markers"), _rx("result_markers")
_TARGET_S, _RESULT_S = _rx("target_sections"), _rx("result_sections")
_MEASURES = [(m, _rx(f"measure_{m}")) for m in ("rate", "share", "count", "money")]
_UNITS = {m: alternation(words("answers", f"units_{m}")) for m in ("rate", "share", "count", "money")}
_NOT_MONEY = alternation(words("answers", "units_after_magnitude"))
# "亿/万" before another unit is a magnitude of that unit ("18万平方米", "3万人"), no amount of money
_FIGURE = {m: re.compile(r"(?:(?:\d+(?:\.\d+)?|[Xx×]+)\s*(?:" + u + ")|[一二三四五六七八九十百千两半]+\s*(?:"
                         + (r"亿|万" if m == "money" else u) + "))" + (f"(?!{_NOT_MONEY})" if m == "money" else ""))
           for m, u in _UNITS.items()}  # not "三元" of 三元电池
_FRACTION = re.compile("[一二三四五六七八九十]+分之[一二三四五六七八九十]+")
_YEAR = re.compile(r"((?:19|20)\d{2})\s*年(?![\d月]*月份?以来)")
_CLAUSE_END = re.compile(r"[,，;；。！？]")
_EARLY_KINDS = set(words("answers", "early_kinds"))
_PERIODS: dict[str, list[str]] = {k: list(v) for k, v in section("periods").items()}
_RELATIVE: dict[str, int] = dict(section("relative_years"))


def masked_measure(span: str, measures: list[str]) -> bool:
    """Every figure of an asked quantity is masked ("营业收入XXX亿元，同比增长12.6%" asked for the amount)."""
    s = normalize(fold(span))
    for m in measures:
        figures = [f.group() for f in _FIGURE[m].finditer(s)]
        if figures and all(re.match(r"[xx×]", f) for f in figures):
            return True
    return False
_MIDYEAR = _rx("midyear_titles")
_REVIEW = _rx("review_titles")
_FORECAST = _rx("forecast_markers")
_COMPARED_WITH = tuple(words("answers", "compared_with"))
_PART = _rx("part_subjects")
_DENOMINATOR = tuple(words("figures", "denominator_marks"))


def part_figure(clause: str, indicator_forms: list[str], question: str) -> bool:
    """Every clause that names the indicator states a part's figure ("三大主导产业…营业收入"), none the zone's."""
    q = normalize(fold(question))
    parts = whole = 0
    for c in re.split(r"[，,；;、。：:]", normalize(fold(clause))):
        for f in indicator_forms:
            pos = c.find(f)
            if pos >= 0:
                if c[:pos].endswith(_DENOMINATOR):
                    break  # "占园区营业收入的77.6%": a share of the indicator, no figure of it
                m = _PART.search(c[:pos])
                if m and m.group() not in q:
                    parts += 1
                else:
                    whole += 1
                break
    return parts > 0 and whole == 0


def target_word(text: str) -> str:
    """The first target word of a text ("力争"), or ""."""
    m = _TARGET_M.search(normalize(fold(text)))
    return m.group() if m else ""


@dataclass
class Needs:
    """What a question asks for."""

    years: list[int] = field(default_factory=list)
    wants: str | None = None  # "result" | "target" | None (either)
    measure: str | None = None  # the first quantity asked: "rate" | "share" | "count" | "money" | None
    measures: list[str] = field(default_factory=list)  # every quantity asked ("多少亿？增长多少？": money, rate)
    period: str | None = None  # a period within the year ("上半年", "一季度", "前三季度")
    relative: int | None = None  # a year said relative to each document's own ("去年": -1, "明年": +1), no year named


def relative_year(text: str) -> int | None:
    """The offset of a year said relative to a document's own year ("去年" -1, "明年" +1; lexicon
    [relative_years]); None when there is none, or only "今年" (said loosely of the document's year)."""
    t = normalize(fold(text))
    found = sorted((m.start(), -len(w), d) for w, d in _RELATIVE.items()
                   for m in re.finditer(re.escape(normalize(w)), t)
                   if not t[:m.start()].endswith(_COMPARED_WITH))  # "比上年增长多少" compares, asks no year
    return found[0][2] if found and found[0][2] != 0 else None


def needs_of(question: str, want_number: bool) -> Needs:
    q = normalize(question)
    years = [int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年?", q)]
    wants = "target" if _TARGET_Q.search(q) else "result" if _RESULT_Q.search(q) else None
    measures = [m for m, rx in _MEASURES if rx.search(q)] if want_number else []
    return Needs(years, wants, measures[0] if measures else None, measures, period_of(q),
                 None if years else relative_year(q))


def period_of(text: str, last: bool = False) -> str | None:
    """The period within a year a text names (lexicon [periods]), or None: the first it names, or with `last` the
    one named last (the context just before a sentence: "全年…。受…影响，上半年…；扣除…后" is 上半年)."""
    t = normalize(fold(text))
    if last:
        found = [(t.rfind(normalize(w)), name) for name, forms in _PERIODS.items() for w in forms if normalize(w) in t]
        return max(found)[1] if found else None
    found = [(t.find(normalize(w)), name) for name, forms in _PERIODS.items() for w in forms if normalize(w) in t]
    return min(found)[1] if found else None


@dataclass
class Context:
    """What a sentence says about its figure: the year and whether it is a target or a result."""

    year: int | None = None
    year_from: str = ""  # sentence | paragraph | section | document
    plan: bool | None = None  # True: a target; False: a result; None: cannot tell
    plan_from: str = ""  # clause (the figure's own clause says it) | context (sentence, paragraph, heading)
    period: str | None = None  # the period within the year (sentence, paragraph, else the document's title)
    doc_year: int | None = None  # the document's own year (its metadata), for a year the question says relatively


def list_announcement(text: str, para_start: int) -> str:
    """For a "——" line of a list, the end (120 characters) of the paragraph that announced the list ("主要目标是:");
    "" for any other paragraph."""
    pos = para_start
    if not text.startswith("——", pos):
        return ""
    for _ in range(12):
        prev_start = text.rfind("\n", 0, max(0, pos - 1)) + 1
        prev = text[prev_start:pos].strip()
        if not prev.startswith("——"):
            return prev[-120:]
        pos = prev_start
    return ""


def _clause_around(text: str, pos: int) -> str:
    start = max((m.end() for m in _CLAUSE_END.finditer(text, 0, pos)), default=0)
    m = _CLAUSE_END.search(text, pos)
    return text[start:m.end() if m else len(text)]


def context_of(text: str, start: int, end: int, section: str, meta: dict, focus: int | None = None) -> Context:
    """The year and the result/target of the sentence text[start:end]; `focus` is the offset of its figure."""
    sent = normalize(fold(text[start:end]))
    para_start = text.rfind("\n", 0, start) + 1
    lead = normalize(fold(list_announcement(text, para_start) + text[para_start:start]))
    sec = normalize(fold(section))
    ctx = Context(doc_year=int(meta["year"]) if str(meta.get("year") or "").isdigit() else None)
    years = [int(y) for y in _YEAR.findall(sent)]
    if focus is not None and len(years) > 1:
        # several years in the sentence: the one of the figure's clause, else the last one said before it
        # ("2019年，GDP占全市的9.7%，按照2020年292亿计算": 292亿 is 2020's)
        own = [int(y) for y in _YEAR.findall(normalize(fold(_clause_around(text[start:end], focus - start))))]
        before = [int(y) for y in _YEAR.findall(normalize(fold(text[start:focus])))]
        years = own[-1:] or before[-1:] or years
    if years:
        ctx.year, ctx.year_from = years[0], "sentence"
    else:
        lead_years = [int(y) for y in _YEAR.findall(lead)]
        sec_years = [int(y) for y in _YEAR.findall(sec)]
        if lead_years:
            ctx.year, ctx.year_from = lead_years[-1], "paragraph"
        elif sec_years:
            ctx.year, ctx.year_from = sec_years[-1], "section"
        elif meta.get("year"):
            # "明年思路目标", "今年以来": a year said relative to the document's own
            rel = [(d, w) for w, d in _RELATIVE.items() if normalize(w) in sec + lead[-60:] + sent]
            if rel:
                ctx.year, ctx.year_from = int(meta["year"]) + max(rel)[0], "relative"
    clause = normalize(fold(_clause_around(text[start:end], (focus or start) - start))) if focus else sent
    # the whole sentence before the figure, across "；" ("预计规上工业总产值完成185亿元…；固定资产投资完成57亿元")
    before = normalize(fold(text[sentence_opening(text, start):focus])) if focus else ""
    if _TARGET_M.search(clause):
        ctx.plan, ctx.plan_from = True, "clause"
    elif _RESULT_M.search(clause) and _FORECAST.search(before):
        ctx.plan, ctx.plan_from = True, "context"  # "预计…，固定资产投资完成57亿元": a forecast of what is done
    elif _RESULT_M.search(clause):
        ctx.plan, ctx.plan_from = False, "clause"
    elif _TARGET_M.search(sent) and not _RESULT_M.search(sent):
        ctx.plan, ctx.plan_from = True, "context"
    elif _TARGET_S.search(lead[:80] + lead[-80:]) or (not _RESULT_S.search(sec) and _TARGET_S.search(sec)):
        ctx.plan, ctx.plan_from = True, "context"
    elif _RESULT_S.search(sec) or _RESULT_M.search(sent):
        ctx.plan, ctx.plan_from = False, "context"
    ctx.period = period_of(sent) or period_of(lead[-80:], last=True) or period_of(str(meta.get("title", "")))
    if ctx.year is None and meta.get("year") and ctx.plan is not None:
        # a document reports on its year's plan and, in a speech or report early in the year, on the last year
        y = int(meta["year"])
        date = str(meta.get("date") or "")
        title = normalize(fold(str(meta.get("title", ""))))
        dated = int(date[:4]) if date[:4].isdigit() else None
        # Early in its year, a speech or report gives the last year's results; not a mid-year one, not a review
        # of the year it names ("2021年经济发展综述"), not one written after that year (dated 2022-01).
        early = (meta.get("kind") in _EARLY_KINDS and not _MIDYEAR.search(title) and not _REVIEW.search(title)
                 and not (dated and dated > y) and not (len(date) >= 7 and int(date[5:7]) > 4))
        ctx.year = y if ctx.plan or not early else y - 1
        ctx.year_from = "document"
    return ctx


_ASKING_PHRASE = {normalize(w): m for m in ("rate", "share", "count", "money") for w in words("answers", f"measure_{m}")
                  if any(mark in w for mark in words("answers", "asking_marks"))}


def asks_measure(term: str) -> str | None:
    """The quantity a question's word asks for when the word only asks ("占多大": a share, "几家": a count), not
    what it is about ("收入"): a sentence that states a figure of that quantity says it."""
    return _ASKING_PHRASE.get(normalize(term))


def has_measure(span: str, measure: str | None) -> bool:
    if measure is None:
        return True
    s = normalize(fold(span))
    if measure == "share" and _FRACTION.search(s):
        return True
    return bool(_FIGURE[measure].search(s))


def conflicts(needs: Needs, ctx: Context, span: str) -> list[str]:
    """Why the sentence does not answer the question (empty when nothing contradicts it)."""
    out = []
    if needs.years and ctx.year is not None and ctx.year not in needs.years:
        if ctx.year_from != "document" or len(needs.years) == 1:
            out.append("year")
    elif needs.years and ctx.year is None and ctx.doc_year is not None \
            and all(abs(y - ctx.doc_year) > 1 for y in needs.years):
        out.append("year")  # an undated sentence of a 2023 document does not tell 2019's figure
    elif needs.relative is not None and ctx.year is not None and ctx.doc_year is not None:
        if ctx.year != ctx.doc_year + needs.relative:
            out.append("year")  # "去年" of this document is its year - 1
    if needs.wants == "result" and ctx.plan is True:
        out.append("target_for_result")
    elif needs.wants == "target" and ctx.plan is False:
        out.append("result_for_target")
    if needs.measures and not any(has_measure(span, m) for m in needs.measures):
        out.append("measure")
    if needs.period and ctx.period and ctx.period != needs.period:
        out.append("period")
    return out
