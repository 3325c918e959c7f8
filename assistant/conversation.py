"""Follow-up questions resolved from the history, with explicit state and no LLM.

The history is a list of {"role", "content"} turns, as the app and the CLI keep it. The state is rebuilt
from it on every question by replaying the user turns, so that a chain ("长治…营业收入?" → "那税收呢?" →
"那常德呢?") resolves the same way whatever front end asked.

Rules, each tested:
- metric switch: "那它的税收收入呢?" keeps zone(s), document(s) and year, changes the metric;
- zone switch: "那甘肃×高新区呢?" keeps the question and changes the zone (after a comparison, adds it);
- item reference: "第一点具体是怎么说的?" refers to item N of the previous answer's list (the `items` a turn
  carries — `history_turn(answer)` — or, for a plain transcript, the items its text enumerates);
- inheritance: a question that names no zone stays in the zone(s) of the conversation.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .lexicon import alternation, section, words
from .text import cn_to_int

def _alt(key: str) -> str:
    return alternation(words("followups", key))


_LEAD = re.compile(f"^({_alt('lead')})")
_TAIL = re.compile(f"({_alt('tail')})[?？。!！\\s]*$")
_ORDINAL = re.compile(f"第([一二三四五六七八九十\\d]+)({_alt('item_units')})")
_NOUN_END = re.compile(_alt("item_noun_ends"))
_QWORDS = re.compile(f"({_alt('question_words')})")
# "这块", "这方面": the previous question's topic; "还有呢": more of the previous answer (lexicon: followups)
_DEICTIC = re.compile(_alt("topic_references"))
_MORE = re.compile(f"^({_alt('more')})[呢吗么嘛?？。!！\\s]*$")
_POINTER = re.compile(f"({_alt('pointers')})")
_CONDITION = re.compile(f"^({_alt('conditions')})")
# What is left of a follow-up once its facet words are taken out: nothing much means it names no topic.
_FACET = re.compile(alternation(words("followups", "facets") + words("followups", "question_words")
                                + words("intent", "question_words") + words("answers", "target_question")
                                + words("answers", "result_question") + words("answers", "target_markers")
                                + words("answers", "result_markers") + list(section("relative_years"))
                                + [w for forms in section("periods").values() for w in forms]))
_ITEM_MARK = re.compile(
    r"(?:^|[\s,，;；:：。「])(?:([一二三四五六七八九十]+)(?:是|要|、)|[(（]([一二三四五六七八九十\d]+)[)）]|(\d{1,2})[.．、](?!\d))"
)


@dataclass
class State:
    zones: list[str] = field(default_factory=list)
    docs: list[str] = field(default_factory=list)
    question: str = ""  # the last resolved question
    years: list[str] = field(default_factory=list)
    last_list: list[str] = field(default_factory=list)  # items of the previous answer
    compare: bool = False


@dataclass
class Resolved:
    query: str  # the question to answer, self-contained
    docs: list[str] = field(default_factory=list)  # documents to stay in ([] = decide from the query)
    zones: list[str] = field(default_factory=list)
    rule: str = "none"  # which rule applied
    item: str = ""  # for item references: the item's text
    state: State = field(default_factory=State)
    previous: str = ""  # "还有呢?": the previous answer's text ...
    previous_spans: list = field(default_factory=list)  # ... and the (doc, start, end) it quoted, when typed
    ordinal: int = 0  # item references: the item's number …
    counted: str = ""  # … and the named count it belongs to when the follow-up names it ("第三项工作" → "四项工作")


def list_items(answer_text: str) -> list[str]:
    """The enumerated items of an answer ("一是…,二是…", "(一)…", "1.…", "- …" lines), in order."""
    text = answer_text.strip()
    marks = list(_ITEM_MARK.finditer(text))
    items = []
    for i, m in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        item = text[m.end():end].strip(" ,，;；。:：「」\n")
        if item:
            items.append(item)
    if len(items) >= 2:
        return items
    bullets = [ln.lstrip("-*• ").strip() for ln in text.splitlines() if re.match(r"^\s*[-*•]\s+", ln)]
    if bullets:
        return bullets
    # a bare enumeration: "招商引资攻坚行动、项目建设攻坚行动、要素保障攻坚行动。"
    if len(text) <= 300 and "\n" not in text.strip():
        parts = [p.strip(" 。.，,「」") for p in re.split(r"[、；;]", text)]
        if 2 <= len(parts) <= 12 and all(0 < len(p) <= 30 for p in parts):
            return parts
    return []


def _strip(question: str) -> str:
    q = question.strip()
    prev = None
    while prev != q:  # "那它的…" = "那" + "它的"
        prev = q
        q = _LEAD.sub("", q).strip()
    q = _TAIL.sub("", q)
    return q.strip(" ,，?？")


def _ordinal(question: str) -> int | None:
    m = _ORDINAL.search(question)
    if not m:
        return None
    raw = m.group(1)
    return int(raw) if raw.isdigit() else cn_to_int(raw)


def _counted(question: str, last_answer: str) -> tuple[int, str, str] | None:
    """An ordinal with a noun ("第三项工作具体怎么说的?") that a named count of the previous answer announces
    ("…重点抓好四项工作。"): (n, the named count, the previous answer's sentence that holds it). The follow-up
    then asks for the n-th of those, not the n-th item the previous answer listed."""
    m = _ORDINAL.search(question)
    if not m or not last_answer:
        return None
    n = _ordinal(question)
    noun = _NOUN_END.split(question[m.end():], 1)[0]
    noun = re.match(r"[\u4e00-\u9fff]{0,4}", noun).group(0)
    if not n or not noun:
        return None
    for c in re.finditer(f"([一二三四五六七八九十两\\d]+)({re.escape(m.group(2))}){re.escape(noun)}", last_answer):
        count = int(c.group(1)) if c.group(1).isdigit() else cn_to_int(c.group(1).replace("两", "二"))
        if count and count >= n:
            start = max(last_answer.rfind(p, 0, c.start()) for p in "。；;！？\n") + 1
            ends = [i for i in (last_answer.find(p, c.end()) for p in "。；;！？\n") if i >= 0]
            return n, c.group(0), last_answer[start:min(ends) if ends else len(last_answer)].strip()
    return None


def _scope(question: str, docs_meta: dict[str, dict]):
    from .retrieval import resolve_scope

    return resolve_scope(question, docs_meta)


def resolve_followup(question: str, history: list[dict], docs_meta: dict[str, dict] | None = None) -> Resolved:
    docs_meta = docs_meta or {}
    state = State()
    last_answer = ""
    last_spans: list = []
    for turn in history or []:
        if turn.get("role") == "user":
            state = _step(turn.get("content", ""), state, last_answer, docs_meta).state
        elif turn.get("role") == "assistant":
            last_answer = turn.get("content", "")
            last_spans = [(q.doc, q.start, q.end) for q in getattr(turn.get("answer"), "quotes", []) or []]
            # a turn kept by the app or the CLI carries its Answer's items; a plain transcript is read as text
            typed = turn.get("answer")  # the app keeps each turn's Answer beside its text
            items = (list(turn.get("items") or []) or (history_turn(typed).get("items", []) if typed is not None else [])
                     or list_items(last_answer))
            if items:
                state.last_list = items
    resolved = _step(question, state, last_answer, docs_meta)
    if resolved.rule == "more":
        resolved.previous, resolved.previous_spans = last_answer, last_spans
    return resolved


def _step(question: str, state: State, last_answer: str, docs_meta: dict[str, dict]) -> Resolved:
    from .intent import is_compare_wording

    scope = _scope(question, docs_meta)
    years = re.findall(r"(?:19|20)\d{2}年?", question)
    core = _strip(question)
    for mention in scope.mentions:
        core = core.replace(mention, "")
    core = re.sub(f"^({_alt('fillers')})+", "", core.strip(" ,，的")).strip()
    new = State(zones=list(scope.zones), docs=list(scope.docs), question=question, years=years,
                compare=len(scope.docs) > 1 or is_compare_wording(question))
    n = _ordinal(question)
    counted = _counted(question, last_answer) if not scope.docs else None
    if counted:
        new.zones, new.docs, new.years = state.zones, state.docs, state.years
        new.question = _in_zone(f"{counted[2]} {question}", state.zones)
        return Resolved(new.question, new.docs, new.zones, "item", counted[2], new, ordinal=counted[0],
                        counted=counted[1])
    if n and state.last_list and not scope.docs and n <= len(state.last_list):
        item = state.last_list[n - 1]
        new.zones, new.docs, new.years = state.zones, state.docs, state.years
        new.question = _in_zone(f"{item} {question}", state.zones)
        return Resolved(new.question, new.docs, new.zones, "item", item, new)
    if not scope.docs and state.question and _MORE.match(question.strip()):
        # "还有呢?": the previous question again, in its documents (its answer goes on)
        new.zones, new.docs, new.years, new.compare = state.zones, state.docs, state.years, state.compare
        new.question = state.question
        return Resolved(new.question, new.docs, new.zones, "more", "", new)
    refers_back = bool(_DEICTIC.search(core))
    if scope.docs and state.question and (refers_back or (len(_QWORDS.sub("", core)) <= 1
                                                          and not _QWORDS.search(core))):
        # "那甘肃×高新区呢?": the previous question, about the new zone (added to a comparison)
        prev = state.question
        prev_scope = _scope(prev, docs_meta)
        for mention in sorted(prev_scope.mentions, key=len, reverse=True):
            prev = prev.replace(mention, "")
        if state.compare and state.docs:
            new.docs = state.docs + [d for d in scope.docs if d not in state.docs]
            new.zones = state.zones + [z for z in scope.zones if z not in state.zones]
            new.compare = True
        new.years = state.years
        new.question = "、".join(scope.mentions) + prev.strip(" ,，的")
        return Resolved(new.question, new.docs, new.zones, "zone", "", new)
    if not scope.docs and state.docs:
        new.zones, new.docs, new.compare = state.zones, state.docs, state.compare
        new.years = years or state.years
        bare = re.sub(r"(?:19|20)\d{2}年?", "", core)
        bare = re.sub(r"^(那会儿?|那时候?|当时|那一年|同期)", "", bare.strip(" ,，的")).strip(" ,，?？")
        if years and state.years and set(years) != set(state.years) and len(_QWORDS.sub("", bare)) <= 12 \
                and (_LEAD.match(question.strip()) or _TAIL.search(question)):
            # "那2019年那会儿呢?": the previous question in another year
            prev = state.question
            for y in state.years:
                prev = prev.replace(y if y.endswith("年") else y + "年", years[0] if years[0].endswith("年")
                                    else years[0] + "年")
            new.question = f"{prev} {bare}".strip()
            return Resolved(new.question, new.docs, new.zones, "year", "", new)
        facet = _facet_of(question, core, state.question, docs_meta)
        if facet is not None:
            new.years = years or ([] if _RELATIVE.search(question) else state.years)
            new.question = facet
            return Resolved(new.question, new.docs, new.zones, "facet", "", new)
        if _LEAD.match(question.strip()) or _TAIL.search(question):
            # "那它的税收收入呢?": same zone and year, the previous question's form, a new metric
            qword = _QWORDS.search(state.question)
            year = "" if years else "".join(y if y.endswith("年") else y + "年" for y in state.years[:1])
            new.question = f"{''.join(state.zones[:1]) or ''}{year}{core}{qword.group(0) if qword else ''}"
            return Resolved(new.question, new.docs, new.zones, "metric", "", new)
        new.question = _in_zone(question, state.zones)
        return Resolved(new.question, new.docs, new.zones, "inherit", "", new)
    return Resolved(question, new.docs, new.zones, "none", "", new)


_RELATIVE = re.compile(alternation(list(section("relative_years"))))
_CONDITION_ACT = re.compile(_alt("condition_acts"))
_SPEAKING = re.compile(_alt("speaking"))
_TOPIC_TAGS = ("n", "vn", "a", "l", "j", "eng")  # jieba's parts of speech that name what a question is about


def condition_words(question: str) -> list[str]:
    """The condition a question puts on a figure ("要是扣掉退税的影响呢?" → ["扣掉"]): the sentence that answers it
    must state that condition (or a lexicon paraphrase of it)."""
    if not _CONDITION.match(_LEAD.sub("", question.strip())):
        return []
    return list(dict.fromkeys(_CONDITION_ACT.findall(question)))
# The words that ask, not what is asked about: "提了哪几条产业链" is about 产业链.
_ASKING = re.compile(alternation(words("intent", "list_words") + words("intent", "question_words")
                                 + words("compare", "list_asks")))


def _topic(question: str, docs_meta: dict[str, dict]) -> str:
    """What a question is about, without its zone, year, period and question words: its indicator when it
    names one ("枣阳高新区2022年技工贸总收入多少?" → 技工贸总收入), else its remaining words."""
    from .indicators import metric_in

    metric = metric_in(question)
    if metric:
        return metric
    from jieba import posseg

    from .text import jieba_module

    core = _strip(question)
    for mention in _scope(question, docs_meta).mentions:
        core = core.replace(mention, "")
    core = re.sub(r"(?:19|20)\d{2}年?", "", _SPEAKING.sub("", core))
    core = re.sub(r"\s+", " ", _ASKING.sub(" ", _QWORDS.sub(" ", core))).strip(" ,，的")
    # what it is about are its nouns ("明年要打造哪几条产业链" → 产业链, "在营商环境上搞了哪些行动" → 营商环境 行动), not its
    # verbs, times and function words
    jieba_module()
    nouns = [w for w, f in posseg.cut(core) if f.startswith(_TOPIC_TAGS) and w.strip()]
    return " ".join(dict.fromkeys(nouns)) or core


def _facet_of(question: str, core: str, previous: str, docs_meta: dict[str, dict]) -> str | None:
    """A follow-up that asks about the previous question's topic without naming one: a facet of it (its target,
    its period, another year: "那今年定的目标是多少?"), a condition on it ("要是扣掉退税的影响呢?"), or a
    pointer at it ("这些行动落到实处有啥具体成效?"). The previous topic, and its period unless this one names one,
    go before the follow-up; None when the follow-up names a topic of its own ("那税收呢?")."""
    from .answerability import period_of
    from .indicators import metric_in

    if not previous or metric_in(core):
        return None
    asked = question.strip()
    pointer = _POINTER.search(core) or _DEICTIC.search(core)
    bare = _FACET.sub("", re.sub(r"(?:19|20)\d{2}年?", "", core)).strip(" ,，?？的")
    if not (pointer or _CONDITION.match(_LEAD.sub("", asked)) or len(bare) <= 1):
        return None  # a question with words of its own is about them ("那招商引资呢?": a two-character word is a topic)
    topic = _topic(previous, docs_meta)
    if not topic:
        return None
    period = period_of(previous)
    carried = period if period and not period_of(question) and period not in topic else ""
    years = "" if re.search(r"(?:19|20)\d{2}", question) or _RELATIVE.search(question) else "".join(
        y if y.endswith("年") else y + "年" for y in re.findall(r"(?:19|20)\d{2}年?", previous)[:1])
    zones = "、".join(_scope(previous, docs_meta).zones[:1])
    return f"{zones}{years}{carried}{topic} {_LEAD.sub('', asked)}".strip()


def _in_zone(question: str, zones: list[str]) -> str:
    """A follow-up made self-contained: the conversation's zone(s) before it, unless it names one."""
    if not zones or any(z in question for z in zones):
        return question
    return f"{'、'.join(zones)} {question}"


def history_turn(answer) -> dict:
    """The assistant turn to keep in a history: the answer's text, and its list items as typed parts, so that
    "第二条具体是什么意思?" needs no parsing of the text."""
    items = [q.text for q in getattr(answer, "items", [])] or [s.heading for s in getattr(answer, "sections", [])
                                                               if s.heading]
    turn = {"role": "assistant", "content": answer.text}
    if items:
        turn["items"] = items
    return turn

