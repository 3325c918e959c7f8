"""What kind of answer a question asks for, read from its wording (no model needed)."""

from __future__ import annotations

import re

from .lexicon import alternation, words


def _words(key: str) -> str:
    return alternation(words("intent", key))


_NUMERAL = "[两二三四五六七八九十]"
_SUMMARY = re.compile(_words("summary"))
# a count of named items ("哪三大", "五大工程是什么") is a list whatever the words (lexicon: intent.list_words)
_LIST = re.compile(f"哪{_NUMERAL}+[大个条项类种]|{_NUMERAL}+大[\u4e00-\u9fff]{{2,4}}是什么|"
                   + _words("list_words") + "|" + _words("list_topics"))
_COMPARE = re.compile(_words("compare") + r"|谁的.*更")
_QUANTITY = re.compile(_words("quantity"))
_WHO = re.compile(_words("who"))
_WHEN = re.compile(_words("when"))
_DATE_ASK = re.compile(r"几(号|月份?|日)|[用以]?[几一二两三四五六七八九十]+句话")  # a date or a length, no quantity
_PUBLISHED = re.compile(_words("published"))
_MEETING_Q = re.compile(_words("meeting_question"))


_ASKING = re.compile(_words("question_words"))
_PART_END = re.compile(r"(?<=[？?；;])")


def question_parts(question: str) -> list[str]:
    """The questions a question asks, each ending at its question mark ("…叫什么？他说…是什么？" → two);
    [question] when it asks one thing, or when a piece asks nothing by itself ("关于营收？多少？" is one). At most
    three."""
    pieces = [p.strip() for p in _PART_END.split(question.strip()) if p.strip(" ？?；;，,。")]
    if len(pieces) < 2 or len(pieces) > 3 or not all(_ASKING.search(p) for p in pieces):
        return [question]
    return pieces


def asks_meeting(question: str) -> bool:
    """The question asks at which meeting a document was given ("在什么会上讲的")."""
    return bool(_MEETING_Q.search(question))


def asks_page_info(question: str) -> bool:
    """The question asks where or when the page was published (网页上的来源, 哪天发布), not what it says."""
    return bool(_PUBLISHED.search(question))


def kind_of(question: str) -> str:
    """'summary' | 'list' | 'fact'. Comparisons are decided with the zones named (see compare)."""
    if _SUMMARY.search(question) and not _QUANTITY.search(_DATE_ASK.sub("", question)):
        return "summary"
    from .lists import asks_for_list  # a named count and a what-word: "六个方面工作都是啥"

    if _LIST.search(question) or asks_for_list(question):
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
