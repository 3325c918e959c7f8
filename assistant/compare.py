"""Comparisons across zones and documents: retrieve per document, so that no zone crowds out another.

Three kinds of question end here:
- a comparison of named zones ("长治和常德的主导产业有什么不同?"): a table with aspects as rows and documents as
  columns; each cell is a short verbatim quote with its citation, or "未提及" with the reason;
- a comparison of figures ("收入规模", "营收增速谁最快", "哪个算得上千亿园区"): each cell quotes the clause that
  states the asked indicator's own figure for the whole zone (not a part's, not a neighbouring indicator's, not
  another year's); a family of indicators ([compare.families]) lets one zone answer with 营业收入 and another
  with 技工贸总收入, and the answer says which is which; the question's judgement (a ranking, a threshold) is
  answered in notes that cite those quotes and use no other number;
- a question across documents ("哪几份材料提到了X?各自怎么说的?"): every document is searched, whatever their
  number; each answers with the sentence that names X (or its paraphrase), or 未提及.

What follows a table is derived from the quotes only. The word lists are the lexicon's [compare].
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .answer import Answer, Cell, Note, Quote, Table
from .answerability import Needs, conflicts, context_of, needs_of
from .chunking import heading_level, sections, split_sentences
from .indicators import NUM as _NUM, metric_forms, metric_in, states_value
from .intent import asks, is_compare_wording
from .lexicon import alternation, section, words
from .text import SYNONYMS, normalize, tokenize

_LEX = section("compare")


def _w(key: str) -> list[str]:
    return list(_LEX.get(key, []))


def _alt(items) -> str:
    return alternation(items, normalize)


def _rx(key: str) -> re.Pattern:
    return re.compile(_alt(_w(key)))


ASPECTS: dict[str, str] = dict(_LEX.get("aspects", {}))
# Concepts a document may discuss without naming them: the table says so when it quotes the other words.
CONCEPTS: dict[str, list[str]] = {k: list(v) for k, v in _LEX.get("concepts", {}).items()}
# What documents say for an aspect when they do not use its name: a cell may quote these as the aspect itself.
ASPECT_WORDS = {**SYNONYMS, **CONCEPTS}
FAMILIES: dict[str, list[str]] = {k: list(v) for k, v in _LEX.get("families", {}).items()}
PERIODS: dict[str, list[str]] = {k: list(v) for k, v in _LEX.get("periods", {}).items()}
THRESHOLDS: dict[str, dict] = dict(_LEX.get("thresholds", {}))
_OVERVIEW = _w("overview")
GENERIC = set(_w("generic"))
_META_ASPECT = _rx("meta_asks")
_ECONOMY = _rx("economy_words")
_CONNECT = re.compile("(" + _alt(_w("connectors")) + ")+")
_ASK_WORDS = _rx("ask_words")
_SLOGAN_ASK = _rx("slogan_asks")
_SLOGAN_MARKS = tuple(_w("slogan_marks"))
_LIST_ASK = _rx("list_asks")
_LISTING = _rx("listing_asks")
_WHICH = _rx("mention_which")
_SOURCES = _rx("mention_sources")
_MENTION_VERB = _rx("mention_verbs")
_MENTION_LEAD = _w("mention_lead")
_MENTION_TAIL = sorted(_w("mention_tail"), key=len, reverse=True)
_SUFFIXES = sorted(_w("system_suffixes"), key=len, reverse=True)
_WHOLE = [normalize(w) for w in _w("whole_subjects")]
_PART = [normalize(w) for w in _w("part_subjects")]
_SHARE_OF = [normalize(w) for w in _w("share_of")]
_CONTINUES = tuple(normalize(w) for w in _w("continues") + words("figures", "goes_on"))
_RANK_HIGH, _RANK_LOW, _RANK_RATE = _rx("rank_high"), _rx("rank_low"), _rx("rank_rate")
_MODIFIERS = sorted((normalize(m) for m in words("figures", "indicator_modifiers")), key=len, reverse=True)
_RATE_WORDS = re.compile(_alt(words("answers", "measure_rate")))
_MONEY_UNITS = words("answers", "units_money")
_MONEY_WORDS = words("answers", "measure_money")  # an indicator named with one is a sum: asking of it asks its figure
_COUNT_UNITS = words("answers", "units_count")
_WHICH_COUNT = re.compile("(" + _alt(_w("which_words")) + ")(" + _alt(_w("classifiers")) + ")?")
_COUNTED = re.compile("(" + _alt(_w("numerals") + _w("demonstratives")) + r"|\d)+(" + _alt(_w("classifiers")) + ")")
_AND = re.compile(_alt(_w("connectors")))
_QUOTED = re.compile(r"[“\"「『]([^”\"」』]{2,30})[”\"」』]")
_YEAR_RX = re.compile(r"((?:19|20)\d{2})\s*年?")
_BOUNDARY = "，,；;：:。！？!?\n"
_AMOUNT = re.compile(r"(\d+(?:\.\d+)?)\s*(" + _alt(_MONEY_UNITS + _COUNT_UNITS + [u for u in words("figures", "value_units")
                                                                          if u != "%"]) + ")")
_RATE_DOWN = _w("rate_down")
_RATE = re.compile("(" + _alt(_w("rate_up") + _RATE_DOWN) + r")[^\d，,；;。]{0,8}?(\d+(?:\.\d+)?)\s*%")
_TIME_LEAD = _rx("time_leads")
_FULL_YEAR = _LEX.get("full_year", "")


def aspect_of(query: str) -> tuple[str, str]:
    """(label, retrieval query) of the aspect asked; ("", "") means an overview."""
    q = normalize(query)
    for label in ASPECTS:
        if normalize(label) in q and not _ASK_WORDS.fullmatch(normalize(label)):
            return label, query
    for label in ASPECTS:  # an aspect that is also an ask word ("目标") only when nothing else is named
        if normalize(label) in q:
            return label, query
    if _ECONOMY.search(q):
        return "经济指标", query
    return "", query


def _strip_zones(query: str, mentions: list[str]) -> str:
    for m in sorted(mentions, key=len, reverse=True):
        query = query.replace(m, "")
    query = _CONNECT.sub(" ", query)
    return query.strip()


def _asked_aspects(query: str) -> list[str]:
    """The aspects with paraphrases (ASPECT_WORDS) that a question names, not its ask words ("目标" of
    "口号或目标": what is asked of the topic)."""
    q = normalize(query)
    return [k for k in ASPECT_WORDS if normalize(k) in q and not _ASK_WORDS.fullmatch(normalize(k))]


def _unnamed(comp, doc: str, asked: list[str]) -> list[str]:
    """Those of the asked aspects this document never names (all or none: "主导产业" in 长治's)."""
    text = normalize(comp.text(doc))
    return [] if any(normalize(k) in text for k in asked) else asked


# ------------------------------------------------------------------------------------------ the question


@dataclass
class _Ask:
    """What a comparison asks, read once from the question."""

    query: str
    base: str  # the question without the zones and what qualifies them
    terms: list[str] = field(default_factory=list)  # the key terms
    rest_terms: list[str] = field(default_factory=list)  # the key terms besides the indicator's name
    topic: list[str] = field(default_factory=list)  # the terms of the topic (not ask words, not generic)
    indicators: list[str] = field(default_factory=list)  # asked indicators, in order of preference
    family: str = ""  # the word for a family of indicators ("收入规模")
    measures: list[str] = field(default_factory=list)  # "amount" and/or "rate"
    unit: str = ""  # the unit a count asks for ("多少个")
    wants: str | None = None
    periods: list[str] = field(default_factory=list)  # the period keys asked ("上半年")
    years: list[int] = field(default_factory=list)  # years not tied to one zone
    doc_years: dict[str, list[int]] = field(default_factory=dict)
    doc_periods: dict[str, list[str]] = field(default_factory=dict)
    slogan: bool = False
    list_ask: bool = False
    listing: bool = False
    rank: str = ""  # "high" | "low" | ""
    rank_word: str = ""
    rank_rate: bool = False
    threshold: tuple[float, str, str] | None = None  # (value in 亿元, unit, the question's word)

    @property
    def figures(self) -> bool:
        return bool(self.indicators) or (bool(self.measures) and bool(self.topic))


def _periods_in(text: str) -> list[str]:
    t = normalize(text)
    return [k for k, forms in PERIODS.items() if any(normalize(f) in t for f in forms)]


def _doc_aliases(comp, doc: str) -> list[str]:
    from .retrieval import doc_aliases

    return [normalize(a) for a in doc_aliases(doc, comp.meta(doc)) if len(a) >= 2]


_WHEN_LEAD = re.compile(r"(?:\s|(?:19|20)\d{2}\s*年?(?:" + _alt(_w("year_marks")) + ")?|" +
                        _alt([f for forms in PERIODS.values() for f in forms]) + ")+")


def _qualifiers(comp, query: str, docs: list[str]) -> tuple[dict[str, str], str]:
    """What the question says of each document's zone right after naming it ("宁安高新区2021年前三季度"), and
    the question without the zones and those qualifiers."""
    q = normalize(query)
    marks: list[tuple[int, int, str]] = []
    for d in docs:
        for a in _doc_aliases(comp, d):
            for m in re.finditer(re.escape(a), q):
                marks.append((m.start(), m.end(), d))
    # the longest mention at a place wins ("长治高新区" over "长治")
    marks = [m for m in marks if not any(o[0] <= m[0] and m[1] <= o[1] and (o[1] - o[0]) > (m[1] - m[0])
                                         for o in marks)]
    marks.sort()
    qual: dict[str, str] = {}
    cut: list[tuple[int, int]] = []
    stops = re.compile(r"[,，;；?？。!！]|" + _alt(_w("connectors")))
    for i, (s, e, d) in enumerate(marks):
        nxt = min([o[0] for o in marks if o[0] >= e] + [len(q)])
        m = stops.search(q, e, nxt)
        end = m.start() if m else nxt
        lead = _WHEN_LEAD.match(q, e, end)  # "2021年前三季度", "2022年底": what dates this zone's figure
        cut.append((s, e))
        if lead and lead.end() > e:
            qual[d] = qual.get(d, "") + q[e:lead.end()]
            cut.append((e, lead.end()))
    # "常熟经开区和慈溪高新区2022年的…": a date after the last zone alone is everyone's
    dated = {d for d in qual}
    if marks and dated and dated == {d for s, e, d in marks if s == max(o[0] for o in marks)}:
        return {}, _CONNECT.sub(" ", "".join(ch for i, ch in enumerate(q) if not any(
            a <= i < b for a, b in cut if (a, b) in {(s, e) for s, e, _ in marks}))).strip()
    rest = "".join(ch for i, ch in enumerate(q) if not any(a <= i < b for a, b in cut))
    return qual, _CONNECT.sub(" ", rest).strip()


def _measures(query: str, indicators: list[str], family: str) -> tuple[list[str], str]:
    """The quantities asked: "amount" (a sum, a count) and/or "rate"; and the unit a count asks for."""
    q = normalize(query)
    names = sorted({normalize(n) for ind in indicators for n in [ind] + metric_forms(ind)} |
                   {normalize(a) for a, ind in _aliases().items() if ind in indicators} |
                   ({normalize(family)} if family else set()), key=len, reverse=True)
    rate = bool(_RATE_WORDS.search(q))
    amount = False
    for n in names:
        for m in re.finditer(re.escape(n), q):
            after = re.split(r"[,，;；?？。!！]", q[m.end():m.end() + 8])[0]
            rate_after = _RATE_WORDS.search(after)
            if not rate_after or _AND.search(after[:rate_after.start()]):
                amount = True  # "营收和增速": the amount too; "营收增速", "GDP定的增长目标": the rate only
    needs = needs_of(query, True)
    if needs.measure in ("money", "count"):
        amount = True
    if needs.measure == "rate":
        rate = True
    unit = ""
    m = re.search("(" + _alt(_w("how_many")) + ")(" + _alt(_COUNT_UNITS) + ")", _WHICH_COUNT.sub(" ", q))
    if m:
        unit, amount = m.group(2), True
    out = (["amount"] if amount else []) + (["rate"] if rate else [])
    if not out and indicators:
        out = ["amount"]
    return out, unit


def _aliases() -> dict[str, str]:
    from .indicators import METRIC_ALIASES

    return METRIC_ALIASES


def _read_ask(comp, query: str, docs: list[str], mentions: list[str]) -> _Ask:
    qual, rest = _qualifiers(comp, query, docs)
    base = _strip_zones(query, mentions)
    ask = _Ask(query=query, base=base)
    q = normalize(query)
    ask.family = next((f for f in sorted(FAMILIES, key=len, reverse=True) if normalize(f) in q), "")
    if ask.family:
        ask.indicators = list(FAMILIES[ask.family])
    else:
        metric = metric_in(base, comp.lexicon.metric_aliases())
        ask.indicators = [metric] if metric else []
    plain = _WHICH_COUNT.sub("", base)  # "哪几条", "哪几个方面" ask which, not how many
    judged = _RANK_HIGH.search(q) or _RANK_LOW.search(q) or any(normalize(w) in q for w in THRESHOLDS)
    if ask.indicators and not (ask.family or judged or "number" in asks(plain) or _RATE_WORDS.search(normalize(plain))
                               or any(w in ind for ind in ask.indicators for w in _MONEY_WORDS)):
        ask.indicators = []  # "瞪羚企业有什么不同": what the documents say of them, not a count
    number = "number" in asks(plain) or bool(ask.indicators)
    needs = needs_of(plain, number)
    if number:
        ask.measures, ask.unit = _measures(plain, ask.indicators, ask.family)
        if not ask.indicators and not needs.measure and not ask.unit:
            ask.measures = []  # "口号或目标是什么": no quantity asked
    ask.wants = needs.wants
    ask.terms = comp.key_terms(base)
    named = [normalize(n) for ind in ask.indicators for n in [ind] + metric_forms(ind)]
    named += [normalize(a) for a, ind in _aliases().items() if ind in ask.indicators]
    named += [normalize(ask.family)] if ask.family else []
    unnamed = normalize(base)
    for n in sorted(set(named), key=len, reverse=True):
        unnamed = unnamed.replace(n, " ")
    ask.rest_terms = [t for t in comp.key_terms(unnamed) if not _COUNTED.fullmatch(t)] if named else list(ask.terms)
    topic = [t for t in ask.terms if len(t) >= 2 and t not in GENERIC and not _ASK_WORDS.fullmatch(t)
             and not _COUNTED.fullmatch(t)
             and not any(t in normalize(f) for f in _w("ask_words") if len(f) > len(t))]
    asked_words = [k for k in SYNONYMS if normalize(k) in q and _ASK_WORDS.fullmatch(normalize(k))]
    of_ask = {t for k in asked_words for v in SYNONYMS[k] for t in tokenize(v)}  # "目标": 预期, 力争
    ask.topic = [t for t in topic if t not in of_ask] or topic
    ask.slogan = bool(_SLOGAN_ASK.search(q))
    ask.list_ask = bool(_LIST_ASK.search(q))
    ask.listing = bool(_LISTING.search(q))
    hi, lo = _RANK_HIGH.search(q), _RANK_LOW.search(q)
    if hi or lo:
        m = hi or lo
        ask.rank, ask.rank_word = ("high" if hi else "low"), m.group(0)
        around = q[max(0, m.start() - 4):m.end() + 2]
        ask.rank_rate = "rate" in ask.measures and (bool(_RANK_RATE.search(m.group(0))) or bool(_RATE_WORDS.search(around))
                                                    or "amount" not in ask.measures)
    for word, spec in THRESHOLDS.items():
        if normalize(word) in q:
            ask.threshold = (float(spec["value"]), spec["unit"], word)
            if not ask.indicators:
                ask.indicators = list(FAMILIES.get(next((f for f in FAMILIES if word in f), ""), []))
            if "amount" not in ask.measures:
                ask.measures = ["amount"] + ask.measures
            break
    ask.periods = _periods_in(rest)
    qual_years = {d: [int(y) for y in _YEAR_RX.findall(t)] for d, t in qual.items()}
    ask.years = [int(y) for y in _YEAR_RX.findall(rest)]
    by_zone: dict[str, list[str]] = {}
    for d in docs:
        by_zone.setdefault(comp.meta(d).get("zone") or d, []).append(d)
    for zone, zdocs in by_zone.items():
        for d in zdocs:
            years = list(dict.fromkeys((qual_years.get(d) or []) + ask.years))
            if len(zdocs) > 1 and len(years) > 1:  # "青川2019年和2022年的…": each document its year
                years = [y for y in years if _fits(comp.meta(d), y)] or years
            ask.doc_years[d] = years
            ask.doc_periods[d] = _periods_in(qual.get(d, "")) or ask.periods
    return ask


def _fits(meta: dict, year: int) -> bool:
    """A document can speak of the year's figures: its own year's, or (written early in the next) the last's."""
    y = int(meta.get("year") or 0)
    return y in (year, year + 1)


def _select_docs(comp, ask: _Ask, docs: list[str]) -> list[str]:
    """A zone with several documents keeps those that can speak of the year asked of it."""
    by_zone: dict[str, list[str]] = {}
    for d in docs:
        by_zone.setdefault(comp.meta(d).get("zone") or d, []).append(d)
    out = []
    for d in docs:
        zdocs = by_zone[comp.meta(d).get("zone") or d]
        years = ask.doc_years.get(d) or []
        if len(zdocs) > 1 and years and not any(_fits(comp.meta(d), y) for y in years):
            if any(any(_fits(comp.meta(o), y) for y in ask.doc_years.get(o) or []) for o in zdocs):
                continue
        out.append(d)
    return out


def _labels(comp, docs: list[str]) -> list[str]:
    """A column's name: the zone; "zone（year kind）" when the zone has several documents here."""
    zones = [comp.meta(d).get("zone") or d for d in docs]
    out = []
    for d, z in zip(docs, zones):
        if zones.count(z) > 1:
            m = comp.meta(d)
            tag = f"{m.get('year') or ''}{'年' if m.get('year') else ''}{m.get('kind') or ''}" or d
            label = f"{z}（{tag}）"
            if label in out:
                label = f"{z}（{m.get('title') or d}）"
            out.append(label)
        else:
            out.append(z)
    return out


# ------------------------------------------------------------------------------------------ figures


@dataclass
class _Stmt:
    doc: str
    start: int
    end: int
    section: str
    indicator: str
    score: float
    bad: list[str] = field(default_factory=list)
    amount: tuple[float, str, str] | None = None  # value in a common unit, that unit, the figure as written
    rate: tuple[float, str] | None = None  # the rate, as written
    header: tuple[int, int] | None = None  # a table's header line, quoted before its row


def _bare_at(body: str, pos: int) -> bool:
    return not any(body[max(0, pos - len(m)):pos] == m for m in _MODIFIERS)


def _sentences(text: str):
    """(paragraph start, sentence start, sentence end, section) of every sentence of a document."""
    for para in sections(text):
        sec = " › ".join(para.section)
        for s, e in split_sentences(text[para.start:para.end], para.start):
            if text[s:e].strip():
                yield para.start, s, e, sec


def _span(norm: str, s: int, e: int, pos: int, flen: int, terms: list[str]) -> tuple[int, int]:
    """The statement of the figure named at `pos`: its clause, a short lead clause ("1-6月，"), and the clauses
    after it that continue it ("同比增长…", "总数达到…") or hold an asked term it lacks."""
    body = norm[s:e]
    rel = pos - s
    cs = max((i + 1 for i, ch in enumerate(body[:rel]) if ch in _BOUNDARY), default=0)
    if cs > 0:
        prev = max((i + 1 for i, ch in enumerate(body[:cs - 1]) if ch in _BOUNDARY), default=0)
        lead = body[prev:cs - 1]
        if len(lead) <= 10 and (_periods_in(lead) or _TIME_LEAD.search(lead)):
            cs = prev
    ce = next((i for i in range(rel + flen, len(body)) if body[i] in _BOUNDARY), len(body))
    for _ in range(3):
        if ce >= len(body) or body[ce] in "。！？!?\n":
            break
        nxt_end = next((i for i in range(ce + 1, len(body)) if body[i] in _BOUNDARY), len(body))
        nxt = body[ce + 1:nxt_end].strip()
        held = body[cs:ce]
        if nxt and (nxt.startswith(_CONTINUES) or any(t in nxt and t not in held for t in terms if len(t) >= 2)) \
                and _NUM.search(nxt):
            ce = nxt_end
        else:
            break
    return s + cs, s + ce


_SELF = [normalize(w) for w in words("zones", "self_words")]


def _foreign(subject: str, aliases: list[str]) -> bool:
    """The clause's subject is another zone ("昆山高新区…"), not the document's own."""
    from .metadata import zone_mentions

    named = [normalize(z) for z, _ in zone_mentions(subject)]
    return any(not any(z in al or al in z for al in aliases) for z in named)


def _own_clause(norm: str, start: int, end: int) -> tuple[int, int] | None:
    """After a clause about another zone, the clause of the same sentence that gives this zone's figure
    ("而我区仅为26.4万元"): (its end, its start)."""
    pos = start
    while pos < end:
        nxt = next((i for i in range(pos + 1, end) if norm[i] in _BOUNDARY), end)
        clause = norm[pos:nxt]
        if any(w in clause for w in _SELF) and _AMOUNT.search(clause):
            return nxt, pos
        pos = nxt
    return None


_FLOW = _rx("flow_words")


def _parse_amount(stmt: str, question: str = "", skip: int = 0) -> tuple[float, str, str] | None:
    """The statement's amount: its first, unless that is a flow ("新增…9家") the question does not ask for and a
    later clause gives a stock of the same unit ("总数达到41家")."""
    from .figures import to_value

    found = []
    for m in _AMOUNT.finditer(stmt, skip):
        if stmt[m.end():m.end() + 1] == "%":
            continue
        if m.group(2) in _MONEY_UNITS and re.match(r"[\u4e00-\u9fff]", stmt[m.end():m.end() + 1]) and \
                not any(stmt[m.start(2):].startswith(u) for u in _MONEY_UNITS if len(u) > len(m.group(2))):
            continue  # "18万平方米": 万 of another unit, no sum of money
        value, unit = to_value(m.group(1), m.group(2))
        if value is not None:
            clause_start = max((i + 1 for i, ch in enumerate(stmt[:m.start()]) if ch in _BOUNDARY), default=0)
            found.append(((value, unit, m.group(0)), stmt[clause_start:m.start()], m.group(2)))
    if not found:
        return None
    first, lead, unit = found[0]
    if _FLOW.search(lead) and not _FLOW.search(normalize(question)):
        later = [f for f, ld, u in found[1:] if u == unit and not _FLOW.search(ld)]
        if later:
            return later[0]
    return first


def _parse_rate(stmt: str) -> tuple[float, str] | None:
    m = _RATE.search(stmt)
    if not m:
        return None
    v = float(m.group(2))
    if m.group(1) in _RATE_DOWN:
        v = -v
    return v, m.group(2) + "%"


def _statements(comp, doc: str, ask: _Ask, needs: Needs, periods: list[str]) -> list[_Stmt]:
    """Every clause of the document that states a figure of an asked indicator (or, with none asked, a figure
    of the asked quantity beside the topic's words), scored."""
    text = comp.text(doc)
    norm = normalize(text)
    meta = comp.meta(doc)
    aliases = _doc_aliases(comp, doc)
    other_periods = [k for k in PERIODS if k not in periods]
    out: list[_Stmt] = []
    indicators = ask.indicators or [""]
    for rank, indicator in enumerate(indicators):
        forms = sorted({normalize(f) for f in metric_forms(indicator)}, key=len, reverse=True) if indicator else []
        if indicator:
            terms = [t for t in ask.rest_terms if not any(t in f for f in forms) and t not in GENERIC]
        else:
            terms = ask.topic
        for pstart, s, e, sec in _sentences(text):
            body = norm[s:e]
            if "\t" in body:
                continue  # a table's row: read by its columns (_table_statements)
            anchors: list[tuple[int, int]] = []
            if forms:
                for f in forms:
                    for m in re.finditer(re.escape(f), body):
                        if _bare_at(body, m.start()) and not any(a <= m.start() < a + ln for a, ln in anchors):
                            anchors.append((m.start(), len(f)))
            else:
                # without an indicator, the sentence (or its paragraph's lead) must hold most of the topic
                lead_ = norm[pstart:s][-80:]
                weight = sum(min(len(t), 4) for t in terms) or 1
                if sum(min(len(t), 4) for t in terms if t in body or t in lead_) < 0.5 * weight:
                    continue
                anchors = [(m.start(), m.end() - m.start()) for m in _NUM.finditer(body)]
            for rel, flen in anchors:
                a, b = _span(norm, s, e, s + rel, flen, terms)
                stmt = norm[a:b]
                if forms and not (states_value(stmt, forms) or re.search(
                        "(" + _alt(forms) + r")[^，,；;。]{0,12}?\d", stmt)):
                    continue
                subject = norm[a:s + rel]
                if any(w in subject for w in _SHARE_OF) and needs.measure != "share":
                    continue  # "占园区营业收入的比重": the share, not the indicator's value
                value_from = s + rel if forms else a
                if forms and _foreign(subject, aliases):
                    # "昆山高新区…亩均税收已超过60万元，而我区仅为26.4万元": another zone's figure; this zone's is
                    # the clause that turns to it, if the sentence has one
                    own = _own_clause(norm, b, e)
                    if own is None:
                        continue
                    b, value_from = own
                    stmt = norm[a:b]
                amount = _parse_amount(norm[a:b], ask.base, value_from - a)
                rate = _parse_rate(norm[value_from:b] if forms else stmt)
                score = 1.0 - 0.2 * rank
                for want in ask.measures:
                    have = amount is not None if want == "amount" else rate is not None
                    if have and want == "amount" and needs.measure in ("money", "count"):
                        have = amount[1] in (_MONEY_UNITS if needs.measure == "money" else _COUNT_UNITS)
                    score += 0.5 if have else -0.5
                if ask.unit and amount:
                    score += 0.2 if amount[1] == ask.unit else -0.3 if amount[1] in _COUNT_UNITS else 0.0
                if forms:
                    whole = any(w in subject for w in _WHOLE) or any(al in subject for al in aliases)
                    part = any(w in subject for w in _PART)
                    score += 0.3 if whole else -0.8 if part else 0.0
                lead = norm[pstart:s][-80:]
                ctx_text = body + lead
                if terms:
                    weight = sum(min(len(t), 4) for t in terms)
                    got = sum(min(len(t), 4) * (1.0 if t in stmt else 0.6 if t in body else 0.3 if t in lead else 0)
                              for t in terms)
                    score += 0.6 * got / weight
                if not forms and ask.terms:  # the question's other words, generic ones too ("产业项目")
                    score += 0.3 * sum(min(len(t), 4) for t in ask.terms if t in body) / sum(min(len(t), 4) for t in ask.terms)
                if periods:
                    if any(normalize(f) in ctx_text for k in periods for f in PERIODS[k]):
                        score += 0.4
                    elif any(normalize(f) in body for k in other_periods for f in PERIODS[k]):
                        score -= 0.4
                elif any(normalize(f) in body for k in PERIODS if k != _FULL_YEAR for f in PERIODS[k]):
                    score -= 0.2  # a part of the year, when the question asks none
                focus = (s + rel) if forms else a
                ctx = context_of(text, s, e, sec, meta, focus=focus)
                bad = [x for x in conflicts(needs, ctx, text[a:b]) if x != "measure"]
                if "year" in bad:
                    score -= 2.0
                if "target_for_result" in bad or "result_for_target" in bad:
                    score -= 0.6
                if needs.wants is None and ctx.plan is True:
                    score -= 0.3
                elif needs.wants == "target" and ctx.plan is True:
                    score += 0.2
                out.append(_Stmt(doc, a, b, sec, indicator or "", score - 1e-6 * a, bad, amount, rate))
    out += _table_statements(comp, doc, ask, needs)
    out.sort(key=lambda x: -x.score)
    seen, unique = set(), []
    for x in out:
        if (x.start, x.end) not in seen:
            seen.add((x.start, x.end))
            unique.append(x)
    return unique


_UNIT_IN_LABEL = re.compile(r"[(（]([^()（）]{1,4})[)）]\s*$")
_CELL_NUM = re.compile(r"^-?\d+(?:\.\d+)?%?$")


def _table_statements(comp, doc: str, ask: _Ask, needs: Needs) -> list[_Stmt]:
    """Rows of a table of indicators ("高新技术企业数（家）\t58\t70\t20.7%" under "指标\t2021年完成\t2022年目标\t增长"):
    the row whose label names the asked indicator, read in the column whose header fits the question's year
    and result-or-target. The header line is quoted with the row."""
    from .figures import to_value

    if not ask.indicators or "\t" not in comp.text(doc):
        return []
    text = comp.text(doc)
    out = []
    header: tuple[int, int, list[str]] | None = None
    pos = 0
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        cells = [c.strip() for c in line.split("\t")]
        if len(cells) < 3:
            header = None if not line.strip() or "\t" not in line else header
            continue
        numeric = [bool(_CELL_NUM.match(c.replace(",", ""))) for c in cells[1:]]
        if not any(numeric):
            header = (start, end, [normalize(c) for c in cells])
            continue
        if header is None or len(header[2]) != len(cells):
            continue
        label = normalize(cells[0])
        for rank, indicator in enumerate(ask.indicators):
            forms = [normalize(f) for f in metric_forms(indicator)]
            if not any(f in label and _bare_at(label, label.find(f)) for f in forms):
                continue
            unit_m = _UNIT_IN_LABEL.search(cells[0])
            unit = unit_m.group(1) if unit_m else ""
            best = None
            for j in range(1, len(cells)):
                head, value = header[2][j], cells[j].replace(",", "")
                if not _CELL_NUM.match(value):
                    continue
                is_rate = value.endswith("%")
                years = [int(y) for y in _YEAR_RX.findall(head)]
                plan = True if re.search(_TARGET_HEAD, head) else False if re.search(_RESULT_HEAD, head) else None
                score = 1.0 - 0.2 * rank
                for want in ask.measures:
                    score += 0.5 if (want == "rate") == is_rate else -0.5
                bad = []
                if needs.years and years and not set(years) & set(needs.years):
                    bad.append("year")
                    score -= 2.0
                elif needs.years and years:
                    score += 0.4
                if (needs.wants == "result" and plan is True) or (needs.wants == "target" and plan is False):
                    score -= 0.6
                if needs.wants is None and plan is True:
                    score -= 0.3
                amount = rate = None
                if is_rate:
                    rate = (float(value[:-1]), value)
                else:
                    v, u = to_value(value, unit) if unit else (float(value), "")
                    amount = (v, u, value + unit) if v is not None else None
                if best is None or score > best.score:
                    best = _Stmt(doc, start, end, "", indicator, score - 1e-6 * start, bad, amount, rate,
                                 header=(header[0], header[1]))
            if best is not None:
                out.append(best)
            break
    return out


_TARGET_HEAD = _alt(words("answers", "target_markers") + words("answers", "target_sections"))
_RESULT_HEAD = _alt(words("answers", "result_markers"))


def _figure_cell(comp, doc: str, ask: _Ask) -> tuple[_Stmt | None, str]:
    """The best statement of the asked figure in one document, or (None, why not)."""
    years = ask.doc_years.get(doc, ask.years)
    needs = Needs(years=years, wants=ask.wants, measure=needs_of(ask.base, True).measure)
    stmts = _statements(comp, doc, ask, needs, ask.doc_periods.get(doc, ask.periods))
    what = "／".join(ask.indicators) or "、".join(ask.topic[:2]) or "所问数字"
    if not stmts:
        return None, f"文中没有给出「{what}」的数字"
    best = stmts[0]
    if "year" in best.bad:
        asked = "、".join(f"{y}年" for y in years)
        return None, f"文中没有{asked}的「{what}」数字"
    if best.score < 0.5:
        return None, f"文中没有给出「{what}」的数字"
    return best, ""


# ------------------------------------------------------------------------------------------ text cells


def _on_topic_sections(text: str, norm: str, words_: list[str]) -> set[str]:
    """Sections whose heading, or the opening sentence of their first paragraph, names one of the words."""
    out = set()
    seen: dict[str, int] = {}
    for para in sections(text):
        sec = " › ".join(para.section)
        n = seen[sec] = seen.get(sec, 0) + 1
        if n > 2:
            continue
        spans = split_sentences(text[para.start:para.end], para.start)
        first = norm[spans[0][0]:spans[0][1]] if spans else ""
        if any(w in normalize(sec) or w in first for w in words_):
            out.add(sec)
    return out


def _text_cell(comp, doc: str, ask: _Ask, query: str, asked: list[str], unnamed: list[str]) -> list[Quote]:
    """The quotes that answer the aspect for one document: up to three sentences that name the topic (or a
    paraphrase the document uses), best first by the question's words, shown in document order.
    `asked`: the question's aspects with paraphrases; `unnamed`: those this document never names."""
    text = comp.text(doc)
    norm = normalize(text)
    said = [normalize(v) for k in unnamed for v in ASPECT_WORDS[k] if v not in unnamed]
    terms = [t for t in (ask.terms or comp.key_terms(query))]
    own_words = set(tokenize(query))
    specific = [t for t in ask.topic if t in own_words or any(t in normalize(v) for k in asked for v in ASPECT_WORDS[k])] \
        or ask.topic or [t for t in terms if len(t) >= 2 and t not in GENERIC] or terms
    whole = [t for t in specific if not any(t != u and t in u for u in specific)]
    whole += [normalize(v) for k in asked for v in ASPECT_WORDS[k]]
    whole += said
    if not whole:
        return []
    hits = comp.retrieve(k=6, docs=[doc], query=query)
    if said:
        hits += [h for h in comp.retrieve(k=5, docs=[doc], query=" ".join(said)) if h.id not in {x.id for x in hits}]
    cands: dict[tuple[int, int], dict] = {}
    for sent in comp.sentences(hits):
        cands[(sent.start, sent.end)] = {"section": sent.section, "hit": sent.hit_score, "rank": sent.rank}
    topical_secs = _on_topic_sections(text, norm, whole)
    for pstart, s, e, sec in _sentences(text):
        body = norm[s:e]
        if (s, e) not in cands and (any(t in body for t in whole) or sec in topical_secs):
            cands[(s, e)] = {"section": sec, "hit": 0.0, "rank": 8}
    if not cands:
        return []
    meta = comp.meta(doc)
    weight = sum(min(len(t), 4) for t in terms) or 1
    whole_core = [t for t in whole if not any(t != u and t in u for u in whole)]
    first_of: dict[int, str] = {}
    for pstart, s, e, sec in _sentences(text):
        first_of.setdefault(pstart, norm[s:e])
    scored = []
    for (s, e), c in cands.items():
        body = norm[s:e]
        named = any(t in body for t in whole)
        by_section = c["section"] in topical_secs
        if not named and not by_section:
            continue
        para_start = text.rfind("\n", 0, s) + 1
        lead = norm[para_start:s][-120:]
        got = sum(min(len(t), 4) * (1.0 if t in body else 0.4 if t in lead else 0.0) for t in terms)
        score = got / weight + 0.15 * c["hit"] - 0.01 * c["rank"]
        score += 0.15 * sum(1 for t in whole if t in body)
        score += 0.1 * min(2, max(0, sum(body.count(t) for t in whole_core) - 1))  # the sentence is about it
        if any(t in first_of.get(para_start, "") for t in whole_core):
            score += 0.15  # its paragraph opens on the topic
        if not named:
            score -= 0.3
        if ask.listing:
            score += 0.05 * min(6, body.count("、"))
        if ask.slogan and any(m in text[s:e] for m in _SLOGAN_MARKS):
            score += 0.5
        if ask.wants in ("target", "result"):
            ctx = context_of(text, s, e, c["section"], meta)
            if (ask.wants == "target" and ctx.plan is False) or (ask.wants == "result" and ctx.plan is True):
                score -= 0.5
            elif (ask.wants == "target" and ctx.plan is True) or (ask.wants == "result" and ctx.plan is False):
                score += 0.2  # "有什么打算": a sentence that states a plan
        if len(body.strip()) < 16:
            score -= 0.2
        line_end = text.find("\n", s)
        if heading_level(text[s:e].strip()) is not None and (line_end < 0 or line_end <= e) \
                and text.rfind("\n", 0, s) + 1 == s:
            score -= 0.2  # a heading line: the sentences under it say more
        scored.append((score, s, e, c["section"]))
    if not scored:
        return []
    scored.sort(key=lambda x: -x[0])
    best = scored[0]
    chosen = [best]
    budget = 420 - (best[2] - best[1])
    for o in scored[1:8]:
        if len(chosen) >= 3:
            break
        if any(o[1] < c[2] and c[1] < o[2] for c in chosen):
            continue
        if o[0] >= best[0] - 0.3 * abs(best[0]) and o[2] - o[1] <= 220 and o[2] - o[1] <= budget:
            chosen.append(o)
            budget -= o[2] - o[1]
    out = []
    for _, st, en, sec in sorted(chosen, key=lambda x: x[1]):
        if en - st > 220:
            st, en = comp.best_window(doc, st, en, whole + terms, False, None)
        out.append(comp.quote(doc, st, en, sec))
    return out


class _DocView:
    """The composer seen with another query: what lists.find_list reads."""

    def __init__(self, comp, query: str) -> None:
        self._comp = comp
        self.query = query

    def __getattr__(self, name):
        return getattr(self._comp, name)


def _list_cell(comp, doc: str, ask: _Ask, query: str) -> list[Quote]:
    """"分别强调了哪几条": the items of the enumeration about the topic in this document, if it has one."""
    from .lists import find_list

    hits = comp.retrieve(k=6, docs=[doc], query=query)
    if not hits:
        return []
    found = find_list(_DocView(comp, query), hits)
    if not found:
        return []
    items = found[0]
    if len(items) < 2 or any(q.doc != doc for q in items):
        return []
    text = comp.text(doc)
    around = normalize(text[max(0, items[0].start - 150):items[0].start] + " ".join(q.section for q in items)
                       + "".join(q.text for q in items))
    topic = ask.topic + [normalize(v) for k in _asked_aspects(query) for v in ASPECT_WORDS[k]]
    if not any(t in around for t in topic):
        return []
    return items[:8]


def _meta_cell(comp, doc: str) -> Quote:
    text = comp.text(doc)
    first = text.find("\n")
    end = first if 0 < first < 120 else min(len(text), 60)
    return comp.quote(doc, 0, end, "标题")


# ------------------------------------------------------------------------------------------ comparisons


def compare_request(comp, resolved, missing: list[str] | None = None) -> Answer | None:
    docs = list(resolved.docs)
    all_docs = comp.docs_meta
    if len(docs) < 2 and not missing:
        docs = sorted(all_docs)
    if len(docs) < 2 and not (docs and missing):
        return None
    docs, bounded = _bounded(comp, resolved.query, docs)
    scope = comp.bot.retriever.select_docs(resolved.query)[1]
    ask = _read_ask(comp, resolved.query, docs, scope.mentions)
    base = ask.base
    if ask.figures and not _META_ASPECT.search(base):
        docs = _select_docs(comp, ask, docs)
    ans = Answer("comparison", query=resolved.query)
    if bounded:
        ans.notes.append(Note(bounded, "warning"))
    rows: list[tuple[str, list[Cell]]] = []
    unnamed_notes: list[str] = []
    stmts: dict[str, _Stmt] = {}

    def add(found, why: str = "") -> Cell:
        found = [found] if isinstance(found, Quote) else (found or [])
        if found:
            return Cell([ans.cite(q) for q in found])
        return Cell(value=f"未提及（{why}）" if why else "未提及")

    if _META_ASPECT.search(base):
        rows.append(("年份", [Cell(value=str(all_docs[d].get("year", "")) or "未写明") for d in docs]))
        rows.append(("类型", [Cell(value=all_docs[d].get("kind", "")) for d in docs]))
        rows.append(("讲话人/发文机关", [Cell(value=all_docs[d].get("speaker", "") or "未写明") for d in docs]))
        rows.append(("标题（原文）", [add(_meta_cell(comp, d)) for d in docs]))
    elif ask.figures:
        found = {d: _figure_cell(comp, d, ask) for d in docs}
        by_zone: dict[str, list[str]] = {}
        for d in docs:
            by_zone.setdefault(comp.meta(d).get("zone") or d, []).append(d)
        # a zone with several documents: those that state nothing are left out when another of them does
        docs = [d for d in docs if found[d][0] is not None or not any(found[o][0] for o in by_zone[comp.meta(d).get("zone") or d])]
        label = ask.family or "／".join(ask.indicators) or "、".join(ask.topic[:2]) or aspect_of(base)[0] or "相关数字"
        cells = []
        for d in docs:
            st, why = found[d]
            if st is not None:
                stmts[d] = st
                head = [comp.quote(d, st.header[0], st.header[1], st.section)] if st.header else []
                cells.append(add(head + [comp.quote(d, st.start, st.end, st.section)]))
            else:
                cells.append(add(None, why))
        rows.append((label, cells))
    else:
        label, _ = aspect_of(base)
        if label or len(tokenize(base)) >= 2:
            name = label if label and normalize(label) in normalize(base) and not _ASK_WORDS.fullmatch(label) else \
                ("、".join(ask.topic[:2]) if ask.topic else (label or "相关内容"))
            aspects = [(name, base)]
        else:
            aspects = [(a, ASPECTS[a]) for a in _OVERVIEW]
        for name, aspect_query in aspects:
            asked = _asked_aspects(aspect_query)
            sub = ask if aspect_query == base else _read_ask(comp, aspect_query, [], [])
            cells = []
            for d in docs:
                unnamed = _unnamed(comp, d, asked)
                found = _list_cell(comp, d, sub, aspect_query) if sub.list_ask else []
                found = found or _text_cell(comp, d, sub, aspect_query, asked, unnamed)
                topic = "、".join(sub.topic[:2]) or name
                cells.append(add(found, f"文中没有讲到「{topic}」"))
                words_ = [w for w in unnamed if w in CONCEPTS]
                quoted = normalize("".join(q.text for q in found))
                said = [v for k in words_ for v in ASPECT_WORDS[k] if v not in words_ and normalize(v) in quoted]
                if said:  # name only the words the table really quotes
                    unnamed_notes.append(f"{all_docs[d].get('zone') or d}的文件没有“{'、'.join(words_)}”"
                                         f"这个说法，表中引用的是它讲{'、'.join(f'“{v}”' for v in said)}的句子。")
            rows.append((name, cells))
    if not missing and rows and not any(c.quotes for _, cells in rows for c in cells):
        # no document says anything of it: a decline that says why for each, not a table of gaps
        why = "；".join(f"{z}：{c.value}" for z, c in zip(_labels(comp, docs), rows[0][1]))
        hits = comp.retrieve(k=3, docs=docs, query=base)
        return comp.not_found(resolved.query, f"所比较的文件都没有讲到（{why}）", hits)
    zones = _labels(comp, docs)
    missing = missing or []
    columns = zones + missing
    rows = [(name, cells + [Cell(value="语料中没有该园区") for _ in missing]) for name, cells in rows]
    distinct = list(dict.fromkeys(all_docs[d].get("zone") or d for d in docs))
    ans.title = "、".join(distinct + missing)
    if missing:
        ans.notes.append(Note(f"注意：语料中没有关于「{'、'.join(missing)}」的文档，无法比较该园区。", "warning"))
    ans.tables.append(Table("", columns, rows, label="方面"))
    quotes = list(ans.quotes)
    chart: list[dict] = []
    if stmts:
        chart = _figure_table(comp, ans, ask, docs, zones, stmts)
        for note in _judgements(comp, ans, ask, docs, zones, stmts):
            ans.notes.append(note)
        for point in _observations(comp, docs, [], base):
            ans.notes.append(Note(point, "point"))
    else:
        chart = chart_data(comp, quotes, prefer_growth=bool(_RATE_WORDS.search(normalize(base))))
        if chart:  # the figures of the quotes above, in one unit (their clause as the original wording)
            crow = [(c["zone"], [Cell(value=c["indicator"]), Cell(value=f"{c['value']:g}{c['unit']}"),
                                 Cell(value=f"「{c['text']}」")]) for c in chart]
            ans.tables.append(Table("数值（单位已统一）", ["指标", "数值（统一单位）", "原文"], crow, label="园区"))
        for point in _observations(comp, docs, quotes, base):
            ans.notes.append(Note(point, "point"))
    for note in unnamed_notes:
        ans.notes.append(Note(note, "point"))
    if comp.bot.settings.llm and quotes:
        from .llm import llm_prose, shift_citations

        checked = llm_prose(comp, list(quotes), f"根据引文比较{'、'.join(zones)}在「{base}」上的异同，"
                                                 "指出共同点和不同点，注意各文件年份和类型不同。")
        if checked is None or not checked.quotes:
            ans.flags += ["llm_error"] if checked is None else checked.flags + ["llm_no_verified_quotes"]
            ans.notes.append(Note("（LLM 说明不可用或无法核对，以上为抽取式对比。）", "llm"))
        else:
            ans.prose = shift_citations(checked.text, len(ans.quotes))
            ans.quotes.extend(checked.quotes)
            ans.flags += checked.flags
    if comp.bot.settings.llm:
        ans.extras["model"] = comp.bot.settings.llm
    ans.extras["zones"] = zones
    ans.extras["missing_zones"] = missing
    ans.extras["table"] = {"aspects": [r[0] for r in rows], "zones": columns,
                           "cells": [[render_cell(ans, c) for c in cells] for _, cells in rows]}
    if chart:
        ans.extras["chart"] = chart
    return ans


def _stmt_quote(ans: Answer, st: _Stmt) -> Quote | None:
    return next((q for q in ans.quotes if (q.doc, q.start, q.end) == (st.doc, st.start, st.end)), None) or \
        next((q for q in ans.quotes if q.doc == st.doc and q.start >= st.start and q.end <= st.end), None)


def _figure_table(comp, ans: Answer, ask: _Ask, docs: list[str], zones: list[str], stmts: dict[str, _Stmt]) -> list[dict]:
    """The figures quoted, which indicator each is, in one unit; the chart of the judged quantity."""
    rows, chart = [], []
    use_rate = ask.rank_rate or ("rate" in ask.measures and "amount" not in ask.measures)
    written = {re.sub(r"[\d.\s]", "", st.amount[2]) for st in stmts.values() if st.amount}
    same_unit = len(written) == 1  # all in 万元: shown as written; else in one unit
    rates = any(st.rate for st in stmts.values())
    for d, zone in zip(docs, zones):
        st = stmts.get(d)
        if st is None:
            continue
        q = _stmt_quote(ans, st)
        n = ans.number(q) if q else 0
        amount = (st.amount[2] if same_unit else f"{st.amount[0]:g}{st.amount[1]}") if st.amount else "—"
        rate = st.rate[1] if st.rate else "—"
        rows.append((zone, [Cell(value=st.indicator or "—"), Cell(value=amount)] + ([Cell(value=rate)] if rates else [])
                     + [Cell(value=f"见[{n}]" if n else "")]))
        if use_rate and st.rate:
            chart.append({"zone": zone, "doc": d, "indicator": st.indicator, "value": st.rate[0], "unit": "%",
                          "text": q.text if q else ""})
        elif not use_rate and st.amount:
            chart.append({"zone": zone, "doc": d, "indicator": st.indicator, "value": st.amount[0],
                          "unit": st.amount[1], "text": q.text if q else ""})
    if len(rows) >= 2:
        ans.tables.append(Table("数值（引文中的数字）" if same_unit else "数值（单位已统一）",
                               ["指标", "数值" if same_unit else "数值（统一单位）"] + (["增速"] if rates else []) + ["引文"],
                               rows, label="园区"))
    units = {c["unit"] for c in chart}
    return chart if len({c["zone"] for c in chart}) >= 2 and len(units) == 1 else []


def _judgements(comp, ans: Answer, ask: _Ask, docs: list[str], zones: list[str], stmts: dict[str, _Stmt]) -> list[Note]:
    """The question's judgement, from the quoted figures only: which indicator each zone's figure is, a ranking,
    a threshold. Every number named is one a cited quote states."""
    notes: list[Note] = []
    entries = []
    for d, zone in zip(docs, zones):
        st = stmts.get(d)
        if st is None:
            continue
        q = _stmt_quote(ans, st)
        entries.append((zone, st, ans.number(q) if q else 0))
    used = {st.indicator for _, st, _ in entries if st.indicator}
    if len(used) > 1:
        notes.append(Note("注意：各园区引用的指标不同（" + "；".join(f"{z}：{st.indicator}[{n}]" for z, st, n in entries)
                          + "），口径不同，比较时请留意。", "warning"))
    elif len(ask.indicators) > 1 and used:
        notes.append(Note(f"所引指标均为「{next(iter(used))}」。", "point"))
    if ask.threshold:
        value, unit, word = ask.threshold
        lines, reach = [], []
        for zone, st, n in entries:
            if not st.amount or st.amount[1] != unit:
                lines.append(f"{zone}：引文[{n}]没有以{unit}计的{st.indicator or '数字'}，无法判断")
                continue
            ok = st.amount[0] >= value
            if ok:
                reach.append(zone)
            lines.append(f"{zone}：{st.indicator}「{st.amount[2]}」[{n}]，{'达到' if ok else '未达到'}{word}（{value:g}{unit}）")
        verdict = (f"按引文数字，{'、'.join(reach)}达到{word}。" if reach else f"按引文数字，没有一个达到{word}。")
        notes.append(Note("；".join(lines) + "。" + verdict, "point"))
    measure_rate = ask.rank_rate or ("rate" in ask.measures and "amount" not in ask.measures)
    vals = []
    for zone, st, n in entries:
        if measure_rate and st.rate:
            vals.append((st.rate[0], zone, st.rate[1], n))
        elif not measure_rate and st.amount:
            vals.append((st.amount[0], zone, st.amount[2], n, st.amount[1]))
    if not measure_rate and len({v[4] for v in vals}) > 1:
        vals = []  # figures in different units do not rank
    if len(vals) >= 2 and ask.rank:
        low = ask.rank == "low"
        ranked = sorted(vals, key=lambda v: v[0], reverse=not low)
        what = "增速" if measure_rate else (ask.family or "／".join(sorted(used)) or "数字")
        order = "从低到高" if low else "从高到低"
        line = f"按引文中的{what}{order}：" + " ＞ ".join(f"{v[1]}（{v[2]}）[{v[3]}]" for v in ranked) \
            if not low else f"按引文中的{what}{order}：" + " ＜ ".join(f"{v[1]}（{v[2]}）[{v[3]}]" for v in ranked)
        if ranked[0][0] != ranked[1][0]:
            line += f"；{ranked[0][1]}{'最低' if low else '最高'}"
        notes.append(Note(line + "。", "point"))
    return notes


def render_cell(ans: Answer, cell: Cell) -> str:
    """A cell as plain text: its quotes 「…」[n], or its value."""
    if cell.quotes:
        return " ／ ".join(f"「{q.text}」[{ans.number(q)}]" for q in cell.quotes)
    return cell.value


def chart_data(comp, quotes: list[Quote], prefer_growth: bool = False) -> list[dict]:
    """Figures of the same kind from two or more zones, in one unit: what the app draws as a chart."""
    from .figures import extract_figures, to_value

    rows = []
    for q in quotes:
        for f in extract_figures(q.text):
            value, unit = to_value(f.value, f.unit) if f.value and not prefer_growth else (None, "")
            if value is None and f.growth and f.growth[0].isdigit():
                value, unit = float(re.sub(r"[^\d.]", "", f.growth.split("%")[0]) or 0), "%"
            elif value is None and f.value:
                value, unit = to_value(f.value, f.unit)
            if value is not None:
                rows.append({"zone": q.zone or comp.meta(q.doc).get("zone", q.doc), "doc": q.doc,
                             "indicator": f.indicator, "value": value, "unit": unit, "text": f.text})
                break
    by_unit: dict[str, list[dict]] = {}
    for r in rows:
        by_unit.setdefault(r["unit"], []).append(r)
    best = max(by_unit.values(), key=lambda rs: len({r["zone"] for r in rs}), default=[])
    return best if len({r["zone"] for r in best}) >= 2 else []


def _observations(comp, docs: list[str], quotes: list[Quote], query: str) -> list[str]:
    """Plain sentences about the quotes: words they share, figures ranked in one unit, differing years."""
    lines = []
    by_doc: dict[str, list[Quote]] = {}
    for q in quotes:
        by_doc.setdefault(q.doc, []).append(q)
    token_sets = [set(t for q in by_doc.get(d, []) for t in tokenize(q.text) if len(t) >= 2) for d in docs]
    present = [s for s in token_sets if s]
    if len(present) >= 2:
        shared = sorted(set.intersection(*present), key=len, reverse=True)[:6]
        if shared:
            lines.append("共同点（各方引文都出现的词）：" + "、".join(shared))
    chart = chart_data(comp, quotes, prefer_growth=bool(_RATE_WORDS.search(normalize(query))))
    if chart and len({c["value"] for c in chart}) > 1:
        ranked = sorted(chart, key=lambda c: -c["value"])
        lines.append("数值对比（单位统一为" + ranked[0]["unit"] + "）：" +
                     " ＞ ".join(f"{c['zone']}「{c['text']}」" for c in ranked))
    years = {d: (comp.meta(d).get("year"), comp.meta(d).get("kind")) for d in docs}
    if len({y for y, _ in years.values()}) > 1 or len({k for _, k in years.values()}) > 1:
        lines.append("注意：各文件年份和类型不同（" + "；".join(
            f"{comp.meta(d).get('zone', d)}：{y or '年份未写明'}年{k or ''}" for d, (y, k) in years.items()) + "），对比时请考虑时间差异。")
    return lines


# ------------------------------------------------------------------------------------------ across documents


def asks_mentions(query: str) -> bool:
    """"哪几份材料提到了X?", "哪些园区的材料提到要…", "X在哪几份材料里提到了?": which documents speak of X."""
    q = normalize(query)
    which = re.search("(" + _WHICH.pattern + r")[\u4e00-\u9fff]{0,4}?(" + _SOURCES.pattern + ")", q)
    return bool(which) and bool(_MENTION_VERB.search(q)) and bool(mention_topic(query))


def mention_topic(query: str) -> str:
    """X of "哪几份材料提到了X": a quoted phrase, else what follows the verb (or, with nothing after it, what
    stands before the which-word)."""
    quoted = _QUOTED.findall(query)
    if quoted:
        return quoted[0].strip()
    q = normalize(query)
    verb = _MENTION_VERB.search(q)
    if not verb:
        return ""
    topic = re.split(r"[?？,，。;；!！]", q[verb.end():])[0]
    if not topic.strip():
        which = _WHICH.search(q)
        topic = re.split(r"[?？,，。;；!！]", q[:which.start()] if which else "")[-1]
        topic = re.sub("(" + _alt(_w("mention_before")) + ")+$", "", topic)
    topic = topic.strip()
    changed = True
    while changed and topic:
        changed = False
        for w in _MENTION_TAIL:
            if topic.endswith(w):
                topic, changed = topic[: -len(w)].strip(), True
        for w in _MENTION_LEAD:
            if topic.startswith(w) and len(topic) > len(w) + 1:
                topic, changed = topic[len(w):].strip(), True
    return topic if len(topic) >= 2 else ""


def _mention_forms(comp, topic: str, docs: list[str]) -> tuple[list[str], list[str]]:
    """(the forms that name X, its weaker forms: the stem of a system "…制", the specific words of a phrase)."""
    t = normalize(topic)
    forms = [t] + [normalize(v) for k, vs in ASPECT_WORDS.items() if normalize(k) == t for v in vs]
    weak = []
    for suf in _SUFFIXES:
        if t.endswith(suf) and len(t) - len(suf) >= 2:
            weak.append(t[: -len(suf)])
            break
    if not any(any(f in normalize(comp.text(d)) for f in forms) for d in docs) or len(t) > 6:
        # a phrase no document writes as such ("培育瞪羚企业"): its words that tell documents apart
        texts = [normalize(comp.text(d)) for d in docs]
        toks = [x for x in tokenize(topic) if len(x) >= 2 and x not in GENERIC]
        toks = [x for x in toks if not any(x != y and x in y for y in toks)]
        # every word of it must be there; a word every document has does not tell them apart (a word none has
        # means none mentions it)
        telling = [x for x in toks if sum(1 for tx in texts if x in tx) < len(texts)]
        if telling:
            weak.append("+".join(telling))
    return forms, weak


def _names(body: str, form: str) -> bool:
    return all(p in body for p in form.split("+"))


def mentions_request(comp, resolved) -> Answer | None:
    """Which documents speak of X, and what each says: every document is searched, whatever their number; each
    answers with the sentence that names X (or a paraphrase), or 未提及."""
    query = resolved.query
    topic = mention_topic(query)
    if not topic:
        return None
    filters = getattr(comp, "filters", {}) or {}
    # every document (within the user's hard filters), or those the question itself names: not the zones a
    # conversation was about ("哪几份材料…" asks across all of them)
    chosen, _ = comp.bot.retriever.select_docs(query, filters.get("zone"), filters.get("doc"), filters.get("year"))
    docs = [d for d in comp.docs_meta if d in chosen]
    if not docs:
        return None
    searched = len(docs)
    if len(docs) > _READ_ALL:
        # a large library: read the documents the search finds for X, not every one
        hits = comp.retrieve(k=_READ_ALL * 4, docs=docs, query=topic)
        near = {h.doc for h in hits}
        docs = [d for d in docs if d in near]
    forms, weak = _mention_forms(comp, topic, docs)
    terms = [t for t in comp.key_terms(query) if len(t) >= 2 and t not in GENERIC]
    found: dict[str, list[Quote]] = {}
    via_weak: dict[str, str] = {}
    for d in docs:
        text = comp.text(d)
        norm = normalize(text)
        cands = []
        for pstart, s, e, sec in _sentences(text):
            body = norm[s:e]
            strong = [f for f in forms if f in body]
            soft = [f for f in weak if _names(body, f)] if not strong else []
            if not strong and not soft:
                continue
            score = 2.0 * len(strong) + 1.0 * bool(soft) + 0.2 * sum(1 for t in terms if t in body)
            score -= 0.002 * max(0, e - s - 120)
            cands.append((score, s, e, sec, bool(strong), soft[0] if soft else ""))
        if not cands:
            continue
        cands.sort(key=lambda c: -c[0])
        if any(c[4] for c in cands):
            cands = [c for c in cands if c[4]]
        else:
            via_weak[d] = cands[0][5]
        picked = [cands[0]] + [c for c in cands[1:3] if c[0] >= 0.8 * cands[0][0]
                               and abs(c[1] - cands[0][1]) > 200][:1]
        quotes = []
        for _, s, e, sec, _, _ in sorted(picked, key=lambda c: c[1]):
            if e - s > 220:
                s, e = comp.best_window(d, s, e, forms + [p for f in weak for p in f.split("+")] + terms, False, None)
            quotes.append(comp.quote(d, s, e, sec))
        found[d] = quotes
    labels = dict(zip(docs, _labels(comp, docs)))
    if not found:
        hits = comp.retrieve(k=3, query=topic)
        return comp.not_found(query, f"没有一份材料提到「{topic}」（共查了{len(docs)}份）", hits)
    ans = Answer("comparison", query=query)
    rows = [(labels[d], [Cell([ans.cite(q) for q in found[d]])]) for d in docs if d in found]
    silent = [labels[d] for d in docs if d not in found]
    if silent:  # one row for the documents that do not mention it, however many they are
        rows.append((f"其余{len(silent)}份" if len(silent) > 1 else silent[0],
                     [Cell(value="未提及" + (f"：{'、'.join(silent)}" if len(silent) > 1 else ""))]))
    mentioning = list(dict.fromkeys(comp.meta(d).get("zone") or d for d in docs if d in found))
    ans.title = "、".join(mentioning)
    ans.tables.append(Table(f"提到「{topic}」的材料", ["原文"], rows, label="园区（文件）"))
    said = [labels[d] for d in docs if d in found]
    not_said = [labels[d] for d in docs if d not in found]
    line = f"共查了{len(docs)}份材料：{len(said)}份提到「{topic}」（{'、'.join(said)}）"
    line += f"，{len(not_said)}份未提及。" if not_said else "。"
    if searched > len(docs):
        line += f"文档库共{searched}份，其余{searched - len(docs)}份检索不到「{topic}」，没有逐份列出。"
    ans.notes.append(Note(line, "point"))
    for d, form in via_weak.items():
        shown = "、".join(f"“{p}”" for p in form.split("+"))
        ans.notes.append(Note(f"{labels[d]}的文件没有“{topic}”这个说法，表中引用的是它讲{shown}的句子。", "point"))
    ans.extras["zones"] = mentioning
    ans.extras["mentions"] = {"topic": topic, "docs": [d for d in docs if d in found],
                              "not_mentioned": [d for d in docs if d not in found]}
    ans.extras["table"] = {"aspects": [topic], "zones": [labels[d] for d in docs],
                           "cells": [[render_cell(ans, Cell([q for q in found[d]])) if d in found else "未提及"
                                      for d in docs]]}
    return ans


_READ_ALL = 40  # a "which documents mention X" over more documents reads only those the search finds for X


def _bounded(comp, query: str, docs: list[str]) -> tuple[list[str], str]:
    """At most Settings.max_compare documents in a comparison: over more (a question about "all the zones" of a
    large library), the most relevant to the question, in the order of their best passage, and a note that says
    so and how to narrow."""
    limit = comp.bot.settings.max_compare
    if len(docs) <= limit:
        return docs, ""
    hits = comp.retrieve(k=limit * 4, docs=docs, query=query)
    ranked = list(dict.fromkeys(h.doc for h in hits))[:limit]
    kept = ranked + [d for d in docs if d not in ranked][:limit - len(ranked)]
    return [d for d in docs if d in kept], (
        f"这个问题涉及{len(docs)}份文档，一次最多对比{limit}份：下表只对比与问题最相关的{len(kept)}份。"
        "要对比其他园区，请在问题里写明园区名称（或在侧栏按园区、年份筛选）。")


# ------------------------------------------------------------------------------------------ routing


_ALL_DOCS = re.compile(_alt(words("intent", "all_documents")) + "|(" + _alt(_w("demonstratives")) + ")?("
                       + _alt(_w("numerals")) + r"|\d)+(" + _alt(_w("doc_classifiers")) + ")")


def names_all_documents(query: str) -> bool:
    """"这几份材料", "各园区", "这三个园区": the question is about every document."""
    return bool(_ALL_DOCS.search(normalize(query)))


def route(query: str, docs: list[str], zones: list[str], scope_zones: list[str], docs_meta: dict[str, dict]) -> str | None:
    """How a question is answered when it is about several documents: "mentions" (which documents speak of X),
    "compare" (a table of zones or documents), or None. `docs`/`zones`: the documents and zones the question
    (or the conversation) named; `scope_zones`: the zones the question itself names."""
    if asks_mentions(query):
        return "mentions"
    wording = is_compare_wording(query)
    # zones that are one zone's documents ("宁安高新区北药产业园": a park inside the zone) are no comparison
    doc_zones = {docs_meta.get(d, {}).get("zone") or d for d in docs}
    several = len(set(zones)) > 1 and (len(doc_zones) > 1 or not docs)
    if several or (wording and (len(set(scope_zones)) > 1 and len(doc_zones) != 1 or names_all_documents(query))):
        return "compare"
    # one zone, several of its documents, years that different documents speak of: "青川高新区2019年和2022年的
    # 技工贸总收入各是多少?" is answered document by document
    years = {int(y) for y in _YEAR_RX.findall(normalize(query))}
    if len(docs) >= 2 and len(years) >= 2:
        speaking = {frozenset(d for d in docs if _fits(docs_meta.get(d, {}), y)) for y in years}
        if len({s for s in speaking if s}) >= 2:
            return "compare"
    return None
