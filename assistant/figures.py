"""Key figures: indicator, value, unit, growth and year, read from a document's sentences by rule.

The rules know how these documents state a figure ("营业收入358.26亿元,同比增长43.18%", "地区生产总值逆势增长6.5%",
"——营业收入增长10%;") and nothing about any one document. Each row keeps the clause it came from, so that
the table is as checkable as a quote.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass

from .chunking import split_sentences
from .lexicon import words

# An indicator name ends with one of these: what is measured, not how it moved.
_NAME_END = ("收入", "产值", "总值", "投资", "投资额", "总额", "增加值", "经费", "面积", "企业", "税收", "到位额", "出口额",
             "进出口额", "零售总额", "强度", "主体", "项目", "人才", "资金", "贡献率", "份额", "比重", "利润", "产量", "规模")
_CJK = "\u4e00-\u9fff"
_UNIT = r"万亿元|万亿|亿元|万元|亿美元|万美元|万元/亩|平方公里|个百分点|亿|万|元|%|家|个|户|项|人|亩|名"
# "营业收入力争突破350亿元": a target's marker may stand between the indicator and its verb
_MODAL = "|".join(sorted(words("answers", "target_markers"), key=len, reverse=True))
_VALUE = re.compile(
    rf"(?P<name>[{_CJK}“”]{{2,16}}?)(?:{_MODAL})?(?:达到|完成|实现|为|达|突破|超过|共计|累计|分别为|完成了|实现了)?"
    rf"(?P<value>\d+(?:\.\d+)?|X+)\s*(?P<unit>{_UNIT})"
    rf"(?:[,，]?\s*(?:同比|比上年|较上年)?(?P<dir>增长|下降|提高|减少)(?P<growth>\d+(?:\.\d+)?)\s*%)?"
)
_GROWTH = re.compile(
    rf"(?P<name>[{_CJK}]{{2,16}}?)(?:逆势|同比|年均|分别)?(?P<dir>增长|下降|提高)(?P<growth>\d+(?:\.\d+)?)\s*%(?P<more>以上|左右)?"
)
_LEAD_NOISE = re.compile(r"^(其中|全区|全年|我区|全市|累计|新增|实现|完成|力争|确保|推动|全面|同比|主要|预期|目标是|年|以上|左右|的|和|及|、)+")
_TARGET = re.compile(r"(目标是|目标为|预期目标|主要目标|力争|确保|计划|争取|到\d{4}年|“十四五”期间|十四五”末)")
_YEAR = re.compile(r"((?:19|20)\d{2})年")


@dataclass
class Figure:
    indicator: str
    value: str  # as written ("358.26"), empty for a growth-only statement
    unit: str
    growth: str  # "43.18%" or ""
    year: str  # "2017" or ""
    kind: str  # 实绩 | 目标
    start: int  # the clause, in the clean text
    end: int
    text: str

    def to_dict(self) -> dict:
        return asdict(self)


_CUT_WORDS = {"完成", "实现", "达到", "共", "占", "年内", "年度", "其中", "的", "在", "为", "和", "与", "及", "”",
              "内", "度", "引进", "新认定", "认定", "先后", "特别", "是", "特别是", "超过"}


def _clean_name(name: str) -> str:
    """The indicator proper: the words after the last verb or preposition ("潞安环能共完成营业收入" -> "营业收入")."""
    from .text import jieba_module

    tokens = jieba_module().lcut(name)
    for i in range(len(tokens) - 1, -1, -1):
        if tokens[i] in _CUT_WORDS:
            tokens = tokens[i + 1:]
            break
    name = "".join(tokens).strip("“”,，、;；:： ")
    prev = None
    while prev != name:
        prev = name
        name = _LEAD_NOISE.sub("", name)
        name = re.sub(r"^\d{4}年", "", name)
    return name


def _is_indicator(name: str) -> bool:
    return len(name) >= 2 and name.endswith(_NAME_END)


def _clause_bounds(text: str, start: int, end: int, lo: int, hi: int) -> tuple[int, int]:
    s = start
    while s > lo and text[s - 1] not in ",，;；:：、。\n":
        s -= 1
    e = end
    while e < hi and text[e] not in ",，;；。\n":
        e += 1
    return s, e


def extract_figures(text: str, limit: int | None = None) -> list[Figure]:
    figures: list[Figure] = []
    seen: set[tuple[str, str, str]] = set()
    para_start = 0
    list_lead = ""  # "主要目标是:" governs the "——…" lines after it
    for para in text.split("\n"):
        para_end = para_start + len(para)
        if para.startswith("——"):
            lead = list_lead + para[:80]
        else:
            lead = para[:80]
            list_lead = para if para.rstrip().endswith((":", "：")) else ""
        para_year = _YEAR.search(para[:30]) or (_YEAR.search(list_lead) if para.startswith("——") else None)
        for s, e in split_sentences(para, para_start):
            sent = text[s:e]
            sent_year = _YEAR.search(sent)
            year = (sent_year or para_year)
            kind = "目标" if _TARGET.search(sent) or _TARGET.search(lead) else "实绩"
            taken: list[tuple[int, int]] = []
            for m in _VALUE.finditer(sent):
                name = _clean_name(m.group("name"))
                if not _is_indicator(name):
                    continue
                growth = (m.group("growth") + "%") if m.group("growth") else ""
                if m.group("dir") in ("下降", "减少") and growth:
                    growth = "-" + growth
                key = (name, m.group("value"), m.group("unit"))
                if key in seen:
                    continue
                seen.add(key)
                cs, ce = _clause_bounds(text, s + m.start("name"), s + m.end(), s, e)
                figures.append(Figure(name, m.group("value"), m.group("unit"), growth,
                                      year.group(1) if year else "", kind, cs, ce, text[cs:ce]))
                taken.append((m.start(), m.end()))
            for m in _GROWTH.finditer(sent):
                if any(a <= m.start("dir") < b for a, b in taken):
                    continue
                name = _clean_name(m.group("name"))
                if not _is_indicator(name):
                    continue
                growth = m.group("growth") + "%" + (m.group("more") or "")
                if m.group("dir") == "下降":
                    growth = "-" + growth
                key = (name, "", growth)
                if key in seen:
                    continue
                seen.add(key)
                cs, ce = _clause_bounds(text, s + m.start("name"), s + m.end(), s, e)
                figures.append(Figure(name, "", "", growth, year.group(1) if year else "", kind, cs, ce, text[cs:ce]))
        para_start = para_end + 1
    return figures[:limit] if limit else figures


def to_value(value: str, unit: str) -> tuple[float | None, str]:
    """A figure in a common unit: 亿元 for money, % for rates; (None, unit) when it does not convert."""
    if not value or not value[0].isdigit():
        return None, unit
    v = float(value)
    if unit in ("万亿元", "万亿"):
        return v * 10000, "亿元"
    if unit in ("亿元", "亿"):
        return v, "亿元"
    if unit in ("万元", "万"):
        return v / 10000, "亿元"
    if unit == "元":
        return v / 1e8, "亿元"
    return v, unit


