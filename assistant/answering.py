"""Grounded answers: every statement is a verbatim quote of a document, or the document's metadata.

The extractive composer (default) ranks the sentences of the retrieved passages by the question's terms,
the asked quantity and numbers with units, and puts the smallest span that holds the answer first. It
declines — `kind == "not_found"` — when the documents do not support an answer: the asked indicator is
absent (a neighbouring one such as 工业总产值 for 地区生产总值 is not offered as the answer), the figure is
masked as X, the zone is not in the corpus, or the metadata field (a speaker) is not stated.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field

from .chunking import heading_level, sections, split_sentences
from .conversation import Resolved, resolve_followup
from .errors import QueryError
from .intent import asks, asks_page_info, is_compare_wording, kind_of
from .retrieval import Hit, check_query
from .text import normalize, query_terms, squash, tokenize

# Indicators users ask for by name. When the question names one, the answer must name the same one.
METRICS = [
    "地区生产总值", "营业收入", "税收收入", "一般公共预算收入", "财政总收入", "地方财政预算收入", "一般预算收入",
    "进出口总额", "进出口额", "固定资产投资", "规模工业总产值", "规模以上工业总产值", "工业总产值", "工业增加值",
    "规模工业增加值", "技工贸收入", "技工贸总收入", "社会消费品零售总额", "实际利用外资", "实际利用省外直接投资",
    "研究与试验发展经费", "招商引资到位额", "高新技术企业", "瞪羚企业", "科技型中小企业", "上市企业", "市场主体",
    "规划面积", "综合排名", "市场份额", "投资强度", "入区企业",
]
METRIC_ALIASES = {
    "GDP": "地区生产总值", "gdp": "地区生产总值", "生产总值": "地区生产总值", "营收": "营业收入",
    "研发经费": "研究与试验发展经费", "研发投入": "研究与试验发展经费", "高企": "高新技术企业",
    "进出口": "进出口额", "固投": "固定资产投资", "规模工业产值": "规模工业总产值", "规上工业产值": "规模以上工业总产值",
    "税收": "税收收入", "面积": "规划面积", "排名": "综合排名", "份额": "市场份额", "财政收入": "财政总收入",
}
# Which document forms count as the same indicator (an answer may use any of them).
METRIC_FORMS = {
    "进出口总额": ["进出口总额", "进出口额"],
    "进出口额": ["进出口额", "进出口总额"],
    "规模工业总产值": ["规模工业总产值", "规模以上工业总产值"],
    "规模以上工业总产值": ["规模以上工业总产值", "规模工业总产值"],
    "技工贸收入": ["技工贸收入", "技工贸总收入"],
    "财政总收入": ["财政总收入", "一般公共预算收入", "财政收入"],
    "综合排名": ["综合排名", "排名", "排第"],
    "市场份额": ["市场份额", "份额"],
    "规划面积": ["规划面积", "平方公里"],
    "高新技术企业": ["高新技术企业", "高企"],
}
_NUM = re.compile(r"(\d+(?:\.\d+)?|[一二三四五六七八九十百千万两]+)\s*(亿元|万元|亿|万|元|%|个百分点|平方公里|家|个|项|名|位|人|亩|倍|条|户|分之)"
                  r"|(?<![\d.])(\d{1,2}|[一二三四五六七八九十两半]+)\s*年(?!\d)")  # "用时一年", not "2014年"
_ANY_NUM = re.compile(r"\d")
_MASKED = re.compile(r"(?<![A-Za-z])(X+|×+)\s*(亿元|万元|亿|万|%|个|家|位|名|项|倍)|第X")
_CLAUSE = re.compile(r"[^,，;；:：、]+[,，;；:：、]?")
_SENT_SPLIT_LIMIT = 160


@dataclass
class Quote:
    text: str
    doc: str
    title: str
    zone: str
    section: str
    start: int
    end: int
    speaker: str = ""
    date: str = ""

    def to_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if k in
                ("text", "doc", "title", "zone", "section", "start", "end")}


@dataclass
class Answer:
    kind: str  # answer | summary | comparison | not_found
    text: str
    quotes: list[Quote] = field(default_factory=list)
    query: str = ""
    flags: list[str] = field(default_factory=list)
    nearest: list[Quote] = field(default_factory=list)  # for not_found: what was found nearest
    extras: dict = field(default_factory=dict)  # figures tables, chart data, model used

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "answer": self.text, "quotes": [q.to_dict() for q in self.quotes]}
        if self.flags:
            out["flags"] = self.flags
        if self.nearest:
            out["nearest"] = [q.to_dict() for q in self.nearest]
        return out


# ------------------------------------------------------------------------------------------ helpers


def quote_from(doc_meta: dict, doc: str, text: str, start: int, end: int, section: str) -> Quote:
    return Quote(text=text[start:end], doc=doc, title=doc_meta.get("title", ""), zone=doc_meta.get("zone", ""),
                 section=section, start=start, end=end, speaker=doc_meta.get("speaker", ""),
                 date=doc_meta.get("date", "") or str(doc_meta.get("year", "") or ""))


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink a span to drop surrounding whitespace and trailing clause punctuation."""
    while start < end and text[start] in " \n\t,，;；、":
        start += 1
    while end > start and text[end - 1] in " \n\t,，;；、:：":
        end -= 1
    return start, end


def citation(q: Quote, n: int) -> str:
    bits = [f"《{q.title}》" if q.title else q.doc]
    who = " · ".join(x for x in (q.zone, q.speaker, q.date) if x)
    if who:
        bits.append(f"（{who}）")
    if q.section:
        bits.append(f" › {q.section}")
    return f"[{n}] " + "".join(bits) + f" ｜ {q.doc} 第{q.start}–{q.end}字"


def render_sources(quotes: list[Quote], start_at: int = 1) -> str:
    lines = []
    for i, q in enumerate(quotes, start_at):
        body = q.text.replace("\n", " ")
        lines.append(f"> 「{body}」  \n> {citation(q, i)}")
    return "\n\n".join(lines)


def metric_in(question: str) -> str | None:
    q = normalize(question)
    found = [m for m in METRICS if normalize(m) in q]
    if found:
        return max(found, key=len)
    for alias, metric in sorted(METRIC_ALIASES.items(), key=lambda kv: -len(kv[0])):
        if normalize(alias) in q:
            return metric
    return None


def metric_forms(metric: str) -> list[str]:
    return METRIC_FORMS.get(metric, [metric])


_VALUE_AFTER = re.compile(r"[^\dXx×。；;，,]{0,10}?(?:\d[\d.]*|[Xx]+|×+)\s*(?:万亿|亿|万|千)?\s*(?:元|美元|平方公里|家|个|项|%|人|户|吨|亩)?"
                          r"\s*(?:以上|左右|多|余)?")
_VALUE_BEFORE = re.compile(r"(?:\d[\d.]*|[Xx]+|×+)\s*(?:万亿|亿|万|千)?\s*(?:元|美元|平方公里|家|个|项|%|人|户|吨|亩)?\s*$")
_GOES_ON = ("同比", "增长", "比上年", "较上年", "较", "比", "年均")


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


@dataclass
class _Sent:
    doc: str
    start: int
    end: int
    section: str
    rank: int
    hit_score: float
    score: float = 0.0


class Composer:
    """The extractive composer for one question."""

    def __init__(self, bot, resolved: Resolved, filters: dict) -> None:
        self.bot = bot
        self.resolved = resolved
        self.query = resolved.query
        self.filters = filters
        self.docs_meta = bot.store.documents()
        self.versions: dict[str, str] = {}  # document -> the hash of the version its retrieved passages are of

    def text(self, doc: str) -> str:
        # the version the retrieved passages were cut from (a writer may have replaced it since)
        return self.bot.store.document_text(doc, self.versions.get(doc))

    def meta(self, doc: str) -> dict:
        return self.docs_meta.get(doc, {})

    def quote(self, doc: str, start: int, end: int, section: str) -> Quote:
        text = self.text(doc)
        start, end = trim_span(text, start, end)
        return quote_from(self.meta(doc), doc, text, start, end, section)

    # ---------------------------------------------------------------------- retrieval

    def retrieve(self, k: int = 8, docs: list[str] | None = None, query: str | None = None) -> list[Hit]:
        retriever = self.bot.retriever
        query = query or self.query
        chosen, scope = retriever.select_docs(query, self.filters.get("zone"), self.filters.get("doc"),
                                              self.filters.get("year"), docs or self.resolved.docs or None)
        hits = retriever.rank(query, chosen, k, scope=scope)
        for h in hits:
            self.versions.setdefault(h.doc, h.meta.get("doc_hash", ""))
        return hits

    def key_terms(self, query: str) -> list[str]:
        scope = self.bot.retriever.select_docs(query)[1]
        named = set()
        for m in scope.mentions:
            named.update(tokenize(m))
        terms = [t for t in query_terms(query) if t not in named and not re.fullmatch(r"(19|20)\d{2}年?", t)]
        return terms

    def sentences(self, hits: list[Hit]) -> list[_Sent]:
        out = []
        for rank, h in enumerate(hits):
            for s, e in split_sentences(h.text, h.start):
                if squash(self.text(h.doc)[s:e]):
                    out.append(_Sent(h.doc, s, e, h.section, rank, h.score))
        return out

    def score_sentence(self, sent: _Sent, terms: list[str], want_number: bool, years: list[str]) -> float:
        text = self.text(sent.doc)
        body = normalize(text[sent.start:sent.end])
        # the paragraph's opening sentence is context ("主要预期目标是: …; 固定资产投资额238亿元,增长10%;"),
        # and for a "——…" list line, the paragraph that announced the list ("主要目标是:")
        para_start = text.rfind("\n", 0, sent.start) + 1
        lead = normalize(text[para_start:min(sent.start, para_start + 120)])
        if text.startswith("——", para_start):
            pos = para_start
            for _ in range(12):
                prev_start = text.rfind("\n", 0, max(0, pos - 1)) + 1
                prev = text[prev_start:pos].strip()
                if not prev.startswith("——"):
                    lead += normalize(prev[-120:])
                    break
                pos = prev_start
        weight = sum(min(len(t), 4) for t in terms) or 1
        got = sum(min(len(t), 4) * (1.0 if t in body else 0.5 if t in lead else 0.0) for t in terms)
        score = got / weight
        if want_number and _NUM.search(body):
            score += 0.25
            q = self.query
            asks_rate = bool(re.search(r"(增长|增速|增幅|百分|比例|占比|份额|%)", q))
            asks_target = bool(re.search(r"(目标|计划|打算|力争|预期)", q))
            if not asks_rate and re.search(r"\d\s*(亿|万|元|平方公里|家)", body):
                score += 0.1  # "是多少" of an amount: the amount, not its growth rate
            is_plan = bool(re.search(r"(目标|预期|力争)", body + lead))
            if not asks_target and is_plan:
                score -= 0.15  # a plan is not a result
            elif asks_target and is_plan:
                score += 0.15  # and a result is not a plan
        for y in years:
            if y in body:
                score += 0.1
        score += 0.15 * sent.hit_score - 0.02 * sent.rank
        return score

    # ---------------------------------------------------------------------- composing

    def compose(self) -> Answer:
        query = self.query
        kind = kind_of(query)
        if kind == "summary" and self.resolved.rule != "item":
            from .summarize import summarize_request

            return summarize_request(self, query)
        if self.resolved.rule == "item":
            return self.compose_item()
        if ("who" in asks(query) or "when" in asks(query) or asks_page_info(query)
                or re.search(r"(什么会|哪个会|哪次会|会议上)", query)):
            ans = self.compose_document_fact(query)
            if ans is not None:
                return ans
        hits = self.retrieve()
        if not hits:
            return self.not_found(query, "没有检索到相关段落", [])
        if kind == "list":
            ans = self.compose_list(hits)
            if ans is not None:
                return ans
        return self.compose_fact(hits)

    def compose_document_fact(self, query: str) -> Answer | None:
        """Who spoke, when, at which meeting: answered from the document's title block and metadata."""
        chosen, scope = self.bot.retriever.select_docs(query, self.filters.get("zone"), self.filters.get("doc"),
                                                       None, self.resolved.docs or None)
        if not scope.docs and not self.resolved.docs:
            return None
        doc = (self.resolved.docs or scope.docs)[0]
        meta = self.meta(doc)
        text = self.text(doc)
        head_end = 0
        for para in sections(text)[:8]:
            line = text[para.start:para.end]
            if len(line) > 80 or heading_level(line) or line.startswith(("同志们", "各位")):
                break
            head_end = para.end
        quotes = []
        if head_end:
            quotes.append(self.quote(doc, 0, head_end, "标题"))
        parts = []
        asked = asks(query)
        if asks_page_info(query) and (meta.get("published") or meta.get("source")):
            # the page's own header line (发布时间 / 来源 / 作者), read into the metadata at ingest
            if meta.get("published"):
                parts.append(f"网页发布时间：**{_date_cn(meta['published'])}**（网页信息栏）")
            if meta.get("source"):
                parts.append(f"来源：**{meta['source']}**（网页信息栏）")
            if meta.get("author"):
                parts.append(f"作者：**{meta['author']}**（网页信息栏）")
            asked = asked - {"who"} - ({"when"} if meta.get("published") else set())
        if "who" in asked:
            if not meta.get("speaker"):
                return self.not_found(query, "文档没有写明讲话人或发文机关", quotes, masked=False,
                                      note=f"《{meta.get('title', doc)}》的标题和正文都没有写明是谁讲的。")
            parts.append(f"讲话人/发文机关：**{meta['speaker']}**（文档元数据）")
        if "when" in asked or re.search(r"(哪一?年)", query):
            when = meta.get("date") or (f"{meta['year']}年" if meta.get("year") else "")
            if when:
                date_cn = _date_cn(when)
                parts.append(f"时间：**{date_cn}**（文档元数据）")
        if meta.get("meeting") or meta.get("subtitle"):
            parts.append(f"会议：**{meta.get('meeting') or meta.get('subtitle')}**（文档元数据）")
        parts.append(f"文件：《{meta.get('title', doc)}》，类型：{meta.get('kind', '')}")
        body = "\n".join(f"- {p}" for p in parts)
        text_md = f"{body}\n\n**出处**\n\n{render_sources(quotes)}"
        return Answer("answer", text_md, quotes, query)

    def best_window(self, doc: str, start: int, end: int, terms: list[str], want_number: bool,
                    metric: str | None) -> tuple[int, int]:
        """The smallest run of clauses of a sentence that holds the asked terms (and a number)."""
        text = self.text(doc)
        sent = text[start:end]
        clauses = [(start + m.start(), start + m.end()) for m in _CLAUSE.finditer(sent)]
        if len(sent) <= 40 or len(clauses) <= 1:
            return start, end
        weights = {t: min(len(t), 4) for t in terms}
        must = metric_forms(metric) if metric else []
        best = (start, end)
        best_key = None
        for i in range(len(clauses)):
            for j in range(i, min(i + 4, len(clauses))):
                s, e = clauses[i][0], clauses[j][1]
                body = normalize(text[s:e])
                covered = sum(w for t, w in weights.items() if t in body)
                has_num = bool(_NUM.search(body)) or not want_number
                has_metric = not must or any(normalize(f) in body for f in must)
                key = (has_metric, has_num, covered, -(e - s))
                if best_key is None or key > best_key:
                    best_key, best = key, (s, e)
        return best

    def compose_fact(self, hits: list[Hit]) -> Answer:
        query = self.query
        terms = self.key_terms(query)
        want_number = "number" in asks(query)
        years = re.findall(r"(?:19|20)\d{2}", query)
        metric = metric_in(query)
        sents = self.sentences(hits)
        for s in sents:
            s.score = self.score_sentence(s, terms, want_number, years)
            if metric:
                body = normalize(self.text(s.doc)[s.start:s.end])
                forms = [normalize(f) for f in metric_forms(metric)]
                if not any(f in body for f in forms):
                    s.score -= 1.0
                elif want_number and not states_value(body, forms):
                    s.score -= 0.5  # the indicator is named, but no figure of it is given
        sents.sort(key=lambda s: -s.score)
        if not sents:
            return self.not_found(query, "没有检索到相关段落", hits)
        best = sents[0]
        nearest = [self.quote(s.doc, s.start, s.end, s.section) for s in sents[:3]]
        body = normalize(self.text(best.doc)[best.start:best.end])
        if metric and not any(normalize(f) in body for f in metric_forms(metric)):
            return self.not_found(query, f"文档中没有提到「{metric}」", hits, nearest=nearest)
        coverage = best.score - (0.25 if want_number and _NUM.search(body) else 0) - 0.15 * best.hit_score
        if coverage < 0.34:
            return self.not_found(query, "检索到的段落不包含问题所问的内容", hits, nearest=nearest)
        s, e = self.best_window(best.doc, best.start, best.end, terms, want_number, metric)
        span = self.text(best.doc)[s:e]
        if want_number and _MASKED.search(span) and not _NUM.search(_MASKED.sub("", span)):
            return self.not_found(query, "该数字在文档中被隐去（以 X 代替）", hits, nearest=[self.quote(best.doc, s, e, best.section)],
                                  masked=True)
        if want_number and not _NUM.search(span) and not _ANY_NUM.search(span):
            return self.not_found(query, "文档中没有找到对应的数字", hits, nearest=nearest)
        if want_number and metric and _ANY_NUM.search(span) and not states_value(
                normalize(self.text(best.doc)[best.start:best.end]), [normalize(f) for f in metric_forms(metric)]):
            return self.not_found(query, f"文档中没有给出「{metric}」的数字", hits, nearest=nearest)
        head = self.quote(best.doc, s, e, best.section)
        support = [self.quote(best.doc, best.start, best.end, best.section)]
        # a second sentence when the question asks two things ("增长了多少?比全省高多少?")
        for other in sents[1:4]:
            if other.score > 0.5 * best.score and other.doc == best.doc and (other.start, other.end) != (best.start, best.end):
                extra_body = normalize(self.text(other.doc)[other.start:other.end])
                new_terms = [t for t in terms if t in extra_body and t not in body]
                if new_terms:
                    support.append(self.quote(other.doc, other.start, other.end, other.section))
                    break
        quotes = [head] + [q for q in support if (q.start, q.end) != (head.start, head.end)]
        note = ""
        plan_word = re.search(r"(力争|预期|目标|计划)", normalize(head.text))
        if want_number and plan_word and not re.search(r"(目标|计划|打算|力争|预期|准备|要|将)", query):
            # "有多少家…?" answered by "力争新增…15家": the only figure is a target; say so, in its own word
            note = f"\n\n注意：这是目标，不是已实现的数字（原文“{plan_word.group(1)}”）。"
        text_md = (f"**回答**：「{head.text}」[1]{note}\n\n**出处**\n\n" + render_sources(quotes))
        return Answer("answer", text_md, quotes, query)

    def compose_list(self, hits: list[Hit]) -> Answer | None:
        from .lists import find_list

        found = find_list(self, hits)
        if not found:
            return None
        items, lead, doc = found
        quotes = ([lead] if lead else []) + items
        lines = [f"{i}. 「{q.text}」[{i + (1 if lead else 0)}]" for i, q in enumerate(items, 1)]
        intro = f"「{lead.text}」[1]\n\n" if lead else "\n\n"
        text_md = f"**回答**：{intro}" + "\n".join(lines) + "\n\n**出处**\n\n" + render_sources(quotes)
        ans = Answer("answer", text_md, quotes, self.query)
        ans.extras["items"] = [q.text for q in items]
        return ans

    def compose_item(self) -> Answer:
        """'第一点具体是怎么说的?': the paragraph that develops the item of the previous answer."""
        item = self.resolved.item
        hits = self.retrieve(k=5, query=item)
        if not hits:
            return self.not_found(self.query, f"没有找到「{item}」的原文", [])
        h = hits[0]
        text = self.text(h.doc)
        # the whole paragraph holding the best passage, cut to a readable length at sentence ends
        para_start = text.rfind("\n", 0, h.start) + 1
        para_end = text.find("\n", h.end)
        para_end = len(text) if para_end < 0 else para_end
        spans = [(s, e) for s, e in split_sentences(text[para_start:para_end], para_start)]
        terms = [t for t in tokenize(item)]
        scored = sorted(spans, key=lambda se: -sum(1 for t in terms if t in normalize(text[se[0]:se[1]])))
        anchor = scored[0] if scored else (h.start, h.end)
        idx = spans.index(anchor) if anchor in spans else 0
        chosen = spans[idx: idx + 4]
        quotes = [self.quote(h.doc, s, e, h.section) for s, e in chosen]
        body = "".join(q.text for q in quotes)
        text_md = f"**关于「{item}」，原文是这样说的**：\n\n「{body}」[1]\n\n**出处**\n\n" + render_sources(quotes)
        return Answer("answer", text_md, quotes, self.query)

    def not_found(self, query: str, reason: str, hits: list[Hit], nearest: list[Quote] | None = None,
                  masked: bool = False, note: str = "") -> Answer:
        if nearest is None:
            nearest = [self.quote(h.doc, h.start, h.end, h.section) for h in hits[:3]]
        nearest = nearest[:3]
        looked = "、".join(self.key_terms(query)[:6]) or query
        lines = [f"**文档中没有找到答案。** {reason}。", "", f"查找的内容：{looked}"]
        if note:
            lines += ["", note]
        if nearest:
            lines += ["", "**最接近的段落（并不回答这个问题）：**", "", render_sources(nearest)]
        return Answer("not_found", "\n".join(lines), [], query, nearest=nearest)


def _date_cn(value: str) -> str:
    m = re.match(r"(\d{4})-(\d{2})-(\d{2})", value)
    if m:
        return f"{int(m.group(1))}年{int(m.group(2))}月{int(m.group(3))}日"
    return value


# ------------------------------------------------------------------------------------------ entry points


def _prepare(bot, question: str, history: list[dict]) -> Resolved:
    question = check_query(question, limit=bot.settings.max_question_chars)
    return resolve_followup(question, history, bot.store.documents())


def _route(composer: "Composer", resolved: Resolved) -> Answer | None:
    """The answers decided before composing: an unknown zone, or a comparison of several zones."""
    bot = composer.bot
    scope = bot.retriever.select_docs(resolved.query)[1]
    if scope.unknown_zones and resolved.docs and is_compare_wording(resolved.query):
        from .compare import compare_request

        return compare_request(composer, resolved, missing=scope.unknown_zones)
    if scope.unknown_zones and not resolved.docs:
        # Scope is soft: no document is about the zone or names it, so the search ran over everything. The
        # answer says which zone it could not find and shows what it found nearest, never as an answer.
        known = "、".join(sorted({m.get("zone", "") for m in composer.docs_meta.values() if m.get("zone")}))
        hits = composer.retrieve(k=3)  # over everything; quoted from the versions they were cut from
        return composer.not_found(resolved.query, f"语料中没有关于「{'、'.join(scope.unknown_zones)}」的文档", hits,
                                  note=f"现有园区：{known}。可以在侧栏上传该园区的文档后再问。")
    several_zones = len(set(resolved.zones)) > 1
    if several_zones or (is_compare_wording(resolved.query) and (len(set(scope.zones)) > 1 or _all_docs(resolved.query))):
        from .compare import compare_request

        return compare_request(composer, resolved)
    return None


def answer(bot, question: str, history: list[dict], **filters) -> Answer:
    resolved = _prepare(bot, question, history)
    composer = Composer(bot, resolved, filters)
    routed = _route(composer, resolved)
    if routed is not None:
        return routed
    if bot.settings.llm:
        from .llm import llm_answer

        return llm_answer(composer)
    return composer.compose()


def _all_docs(query: str) -> bool:
    return bool(re.search(r"(这几个园区|这些园区|这五份|这几份|各园区|所有园区|五个园区|这些材料|这几篇|五份材料|各份)", query))


def stream_answer(bot, question: str, history: list[dict], **filters):
    """Yields the answer's Markdown in pieces; the LLM composer yields tokens as they arrive."""
    if bot.settings.llm:
        from .llm import llm_stream

        resolved = _prepare(bot, question, history)
        composer = Composer(bot, resolved, filters)
        routed = _route(composer, resolved)
        if routed is None:
            yield from llm_stream(composer)
            return
        ans = routed
    else:
        ans = answer(bot, question, history, **filters)
    for piece in re.split(r"(?<=\n)", ans.text):
        yield piece
