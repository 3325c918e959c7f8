"""What kind of answer a question asks for, read from its wording (no model needed)."""

from __future__ import annotations

import re

_SUMMARY = re.compile(r"(总结|概括|归纳|梳理|讲了什么|说了什么|讲了哪些内容|主要内容|要点|主要思路|核心思想|总的指导思想|指导思想|大意|提纲挈领|简述|综述|讲些什么)")
_LIST = re.compile(r"(哪[两三四五六七八九十]+[大个条项类种]|[两三四五六七八九十]+大[\u4e00-\u9fff]{2,4}是什么|哪些|哪几|几个方面|几项|几条|几大|哪方面|分别是什么|有什么安排|有哪些|列举|包括什么|包括哪些|主导产业|短板|措施)")
_COMPARE = re.compile(r"(比较|对比|相比|区别|异同|不同|共同点|相同|谁更|哪个更|谁的.*更|分别|各有|各自|这几个园区|这几份|这五份|这些园区|几份材料)")
_QUANTITY = re.compile(r"(多少|几|多大|多高|多快|比例|占比|份额|排名|第几|增长了|增速|目标是|金额|规模)")
_WHO = re.compile(r"(谁|哪位|什么人|讲话人|发言人|哪个机构|哪个部门|谁发)")
_WHEN = re.compile(r"(何时|什么时候|哪天|哪一天|哪年|哪一年|日期|发布时间|讲话时间|几号|几月|几日|哪月)")
_DATE_ASK = re.compile(r"几(号|月份?|日)")  # "几号开的" asks a date, not a quantity


def _words_re(section: str, key: str) -> re.Pattern:
    from .lexicon import words

    return re.compile("|".join(map(re.escape, words(section, key))) or "$^")


_PUBLISHED = _words_re("intent", "published")


def asks_page_info(question: str) -> bool:
    """The question asks where or when the page was published (网页上的来源, 哪天发布), not what it says."""
    return bool(_PUBLISHED.search(question))


def kind_of(question: str) -> str:
    """'summary' | 'list' | 'fact'. Comparisons are decided with the zones named (see compare)."""
    if _SUMMARY.search(question) and not _QUANTITY.search(question):
        return "summary"
    if _LIST.search(question):
        return "list"
    return "fact"


def is_compare_wording(question: str) -> bool:
    return bool(_COMPARE.search(question))


def asks(question: str) -> set[str]:
    """The asked quantities: number, who, when."""
    out = set()
    if _QUANTITY.search(_DATE_ASK.sub("", question)):
        out.add("number")
    if _WHO.search(question):
        out.add("who")
    if _WHEN.search(question):
        out.add("when")
    return out


def years_in(question: str) -> list[int]:
    return [int(y) for y in re.findall(r"((?:19|20)\d{2})\s*年?", question)]
