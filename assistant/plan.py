"""(question, history, options) -> a typed `Request`: what kind of answer, over which documents, about what.

The planner reads the question once: it resolves a follow-up from the history into a self-contained query
(conversation.py), finds the documents and zones it names (retrieval.resolve_scope: metadata first, then the
documents' text, never a wall), and reads what is asked — the kind of answer, the indicator, the years, a result
or a target, the quantity. The Assistant dispatches on Request.kind; the extractive fact composer still reads the
query's intent words where it scores sentences (a second reading this change did not remove).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .answerability import needs_of
from .compare import route as compare_route
from .conversation import State, condition_words, resolve_followup
from .indicators import metric_in
from .intent import asks, asks_meeting, asks_page_info, is_compare_wording, kind_of, question_parts, years_in
from .retrieval import check_query, resolve_scope

MODES = ("extractive", "llm")


@dataclass
class Request:
    question: str  # as the user typed it
    query: str  # self-contained: a follow-up rewritten with what it refers to
    kind: str  # fact | list | summary | compare | mentions | document | item | not_in_corpus
    docs: list[str] = field(default_factory=list)  # documents to stay in ([] = decide from the query)
    zones: list[str] = field(default_factory=list)
    unknown_zones: list[str] = field(default_factory=list)  # named, but no document is about them or names them
    rule: str = "none"  # how a follow-up was resolved (metric, zone, year, item, more, inherit, none)
    item: str = ""  # for an item reference ("第二条具体是什么?"): the item's text
    ordinal: int = 0  # … its number, and the named count it belongs to ("第三项工作" after "…四项工作" → "四项工作")
    counted: str = ""
    indicator: str | None = None  # the indicator asked for (lexicon name)
    years: list[int] = field(default_factory=list)
    wants: str | None = None  # "result" | "target" | None
    measure: str | None = None  # the first quantity asked: money | count | rate | share | None
    page_info: bool = False  # asks when/where the page was published
    mode: str = "extractive"  # or "llm"
    filters: dict = field(default_factory=dict)  # hard filters the user set: zone, doc, year
    state: State = field(default_factory=State)  # the conversation state after this question
    parts: list[str] = field(default_factory=list)  # a question that asks several things: each, to answer in turn
    previous: str = ""  # "还有呢?": the previous answer's text and the (doc, start, end) spans it quoted
    previous_spans: list = field(default_factory=list)
    condition: list[str] = field(default_factory=list)  # "要是扣掉退税的影响呢?": the condition a sentence must state

    @property
    def in_parts(self) -> bool:
        """Answered part by part: several questions of different sorts, which no one composer answers whole.
        Several quantities ("多少？增长多少？") are one fact; who, when and which meeting, one document fact."""
        if len(self.parts) < 2 or self.mode != "extractive" or self.kind not in ("fact", "document"):
            return False
        sorts = [_sort_of(p) for p in self.parts]
        if all(s == "document" for s in sorts):
            return False
        # several quantities of one thing in one year are one fact; a year asked by one part only is not
        # ("GDP占全市多大比重?2020年大概多少亿?": the share is 2019's, the amount 2020's)
        first = set(years_in(self.parts[0]))
        return not all(s == "number" for s in sorts) or any(set(years_in(p)) - first for p in self.parts[1:])


def _sort_of(part: str) -> str:
    asked = asks(part)
    if asked & {"who", "when"} or asks_meeting(part):
        return "document"
    return "number" if "number" in asked else "other"


def plan(question: str, history: list[dict], docs_meta: dict[str, dict], *, mode: str = "extractive",
         filters: dict | None = None, max_chars: int = 2000, lexicon=None) -> Request:
    """`lexicon`: the curator's (userlex.UserLexicon), whose words may name an indicator."""
    question = check_query(question, limit=max_chars)
    aliases = lexicon.metric_aliases() if lexicon else None
    resolved = resolve_followup(question, history, docs_meta)
    query = resolved.query
    scope = resolve_scope(query, docs_meta)
    want_number = "number" in asks(query)
    needs = needs_of(query, want_number)
    req = Request(question=question, query=query, kind=kind_of(query), docs=list(resolved.docs),
                  zones=list(resolved.zones), unknown_zones=list(scope.unknown_zones), rule=resolved.rule,
                  item=resolved.item, ordinal=resolved.ordinal, counted=resolved.counted, indicator=metric_in(query, aliases), years=needs.years, wants=needs.wants,
                  measure=needs.measure, page_info=asks_page_info(query), mode=mode, filters=dict(filters or {}),
                  state=resolved.state, parts=question_parts(question), previous=resolved.previous,
                  previous_spans=list(resolved.previous_spans))
    req.condition = condition_words(question)
    compare_wording = is_compare_wording(query)
    if scope.unknown_zones and not resolved.docs:
        req.kind = "not_in_corpus"
    elif scope.unknown_zones and resolved.docs and compare_wording:
        req.kind = "compare"
    elif routed := compare_route(query, list(resolved.docs), list(resolved.zones), scope.zones, docs_meta):
        req.kind = routed  # "mentions" (which documents speak of X) | "compare"
    elif req.page_info:
        req.kind = "document"
    elif resolved.rule == "item":
        req.kind = "item"
    return req
