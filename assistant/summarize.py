"""Extractive summaries: the outline from the heading tree, then the most central sentences of each part.

Every sentence of a summary is a verbatim quote with its citation; the only other text is the document's
metadata and the headings' own words. Lengths are budgets in characters of quoted text.
"""

from __future__ import annotations

import re
from collections import Counter

from .answer import Answer, Cell, Note, Section, Table
from .chunking import heading_level, heading_text, sections, split_sentences
from .text import cn_to_int, normalize, tokenize

BUDGETS = {"short": 300, "medium": 800, "long": 2000}
_PART = re.compile(r"第([一二三四五六七八九十\d]+)(部分|点|个方面|方面|章)")
_SUMMARY_WORDS = re.compile(r"(总结|概括|归纳|梳理|讲了什么|说了什么|主要内容|要点|主要思路|内容|一下|帮我|简单|详细一点|详细|"
                            r"用[一二三四五六七八九十\d]+句话|那篇|这篇|讲话|发言|文件|材料|的|了|吗|呢|讲|说|什么|哪些|那块|那部分|方面)")


def length_of(query: str) -> str:
    if re.search(r"(详细|具体|展开|完整)", query):
        return "long"
    if re.search(r"(简单|简要|简短|一句话|两句话|三句话|用[一二三四五六七八九十\d]+句话|简述|概括一下)", query):
        return "short"
    return "medium"


def sentence_limit(query: str) -> int | None:
    m = re.search(r"用([一二三四五六七八九十\d]+)句话", query)
    if not m:
        return None
    raw = m.group(1)
    return int(raw) if raw.isdigit() else cn_to_int(raw)


def outline(text: str) -> list[tuple[int, int, int, str]]:
    """(level, start, end, heading) of every heading, in order."""
    out = []
    for para in sections(text):
        line = text[para.start:para.end]
        lv = heading_level(line)
        if lv is None and para.section and re.match(r"0\d ", para.section[-1]) \
                and line.strip() == para.section[-1][3:].strip():
            lv = 1  # the heading line after a part number ("01" / "坚持创新驱动")
        if lv is not None and re.fullmatch(r"0\d", line.strip()):
            continue  # "01": the heading is the line after it
        if lv is not None:
            h = heading_text(line).rstrip("…")
            out.append((lv, para.start, para.start + len(h), h))
    return out


def body_start(text: str) -> int:
    """Where the body begins: after the title block (title, subtitle, speaker, date, "同志们:")."""
    pos = 0
    for line in text.split("\n")[:12]:
        if len(line) > 60 or heading_level(line) is not None:
            break
        pos += len(line) + 1
        if line.startswith(("同志们", "各位")):
            break
    return min(pos, len(text))


def central_sentences(text: str, start: int, end: int, k: int, exclude: set[tuple[int, int]],
                      max_len: int = 220, ranked: bool = False) -> list[tuple[int, int]]:
    """The k sentences of text[start:end] whose words are most shared with the rest, with a lead bias."""
    spans = [(s, e) for s, e in split_sentences(text[start:end], start)
             if 12 <= len(text[s:e].strip()) <= max_len and heading_level(text[s:e].strip()) is None]
    if not spans and max_len < 220:
        spans = [(s, e) for s, e in split_sentences(text[start:end], start)
                 if 12 <= len(text[s:e].strip()) <= 220 and heading_level(text[s:e].strip()) is None]
    if not spans:
        spans = [(s, e) for s, e in split_sentences(text[start:end], start)
                 if len(text[s:e].strip()) >= 12 and heading_level(text[s:e].strip()) is None]
    if not spans:
        return []
    toks = [set(tokenize(text[s:e])) for s, e in spans]
    freq = Counter(t for ts in toks for t in ts if len(t) > 1)
    scored = []
    for i, ((s, e), ts) in enumerate(zip(spans, toks)):
        central = sum(freq[t] - 1 for t in ts if len(t) > 1) / (1 + len(ts)) ** 0.5
        position = 1.5 / (1 + i)
        numbers = 0.5 if re.search(r"\d+(\.\d+)?\s*(亿|万|%|家|个)", text[s:e]) else 0
        # named strategies and slogans (“三高四新”, “一极两区三基地”) are what a reader must not miss
        # …weighted by how often the document comes back to them: a recurring slogan is a theme
        quoted = set(re.findall(r"“[^”]{2,12}”", text[s:e]))
        slogans = 0.4 * min(3, len(quoted)) + 0.15 * min(6, sum(min(3, text.count(q) - 1) for q in quoted))
        topic = 0.7 if s == 0 or text[s - 1] == "\n" else 0  # a paragraph's first sentence states its point
        scored.append((central + position + numbers + slogans + topic, s, e))
    scored.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    seen: list[set] = []
    for _, s, e in scored:
        ts = set(tokenize(text[s:e]))
        if (s, e) in exclude or any(len(ts & o) > 0.6 * max(1, len(ts)) for o in seen):
            continue  # do not repeat a point
        chosen.append((s, e))
        seen.append(ts)
        if len(chosen) >= k:
            break
    return chosen if ranked else sorted(chosen)


def _llm_map_reduce(comp, quotes, title: str):
    """The extractive sentences of each part are the map step's sources; see llm.llm_summary."""
    from .llm import llm_summary

    parts: dict[str, list] = {}
    for q in quotes:
        if q.section != "关键数据":
            parts.setdefault(q.section, []).append(q)
    return llm_summary(comp, list(parts.items()), title)


def key_figures(text: str, n: int) -> list:
    """The n most telling figures, in document order: named indicators with amounts first."""
    from .indicators import METRICS
    from .figures import extract_figures

    figs = extract_figures(text)

    def priority(item):
        i, f = item
        named = any(f.indicator.endswith(m) for m in METRICS)
        amount = bool(f.value) and f.unit not in ("家", "个", "项", "人", "户", "名")
        return (not named, not amount, f.kind != "实绩", i)

    chosen = sorted(enumerate(figs), key=priority)[:n]
    return [f for _, f in sorted(chosen, key=lambda x: x[0])]


def pick_document(comp, query: str) -> str | None:
    if comp.resolved.docs:
        return comp.resolved.docs[0]
    chosen, scope = comp.bot.retriever.select_docs(query, comp.filters.get("zone"), comp.filters.get("doc"))
    if scope.docs:
        return scope.docs[0]
    if len(chosen) == 1:
        return next(iter(chosen))
    hits = comp.retrieve(k=3, query=query)
    return hits[0].doc if hits else None


def summarize_doc(comp, doc: str, query: str = "", length: str | None = None) -> Answer:
    text = comp.text(doc)
    meta = comp.meta(doc)
    length = length or length_of(query)
    budget = BUDGETS[length]
    max_sents = sentence_limit(query)
    heads = outline(text)
    top_level = min((lv for lv, *_ in heads), default=None)
    parts = [(s, e, h) for lv, s, e, h in heads if lv == top_level]
    # a request for one part: "第二部分", or a topic ("营商环境那块", "总的指导思想")
    section_span = None
    m = _PART.search(query)
    if m and parts:
        raw = m.group(1)
        n = int(raw) if raw.isdigit() else cn_to_int(raw)
        if n and 1 <= n <= len(parts):
            s = parts[n - 1][0]
            e = parts[n][0] if n < len(parts) else len(text)
            section_span = (s, e, parts[n - 1][2])
    topic = _SUMMARY_WORDS.sub("", query)
    for mention in comp.bot.retriever.select_docs(query)[1].mentions:
        topic = topic.replace(mention, "")
    topic = re.sub(r"[\s?？,，。!！、]+", "", topic)
    topic = re.sub(r"(19|20)\d{2}年?", "", topic)
    labels = " ".join(str(meta.get(k, "")) for k in ("title", "subtitle", "meeting", "kind", "speaker", "zone", "page_title"))
    topic_terms = [t for t in tokenize(topic) if t not in tokenize(labels) and t not in ("会", "会上", "工作会", "工作")]
    if section_span is None and topic_terms:
        hits = comp.retrieve(k=3, docs=[doc], query=topic)
        if hits:
            h = hits[0]
            # the smallest heading section holding the best passage, else the passage's paragraph
            enclosing = [(lv, s, e_, hd) for lv, s, e_, hd in heads if s <= h.start]
            if enclosing and h.section:
                lv, s, _, hd = enclosing[-1]
                nxt = next((s2 for lv2, s2, _, _ in heads if s2 > s and lv2 <= lv), len(text))
                section_span = (s, nxt, hd)
            else:  # the paragraph of the passage that matches the topic best
                best = None
                pos = h.start
                for para in h.text.split("\n"):
                    score = sum(1 for t in topic_terms if t in normalize(para))
                    if best is None or score > best[0]:
                        best = (score, pos, pos + len(para))
                    pos += len(para) + 1
                section_span = (best[1], best[2], "")
    title = meta.get("title", doc)
    who = " · ".join(str(x) for x in (meta.get("zone"), meta.get("speaker"), meta.get("date") or meta.get("year"),
                                      meta.get("kind")) if x)
    ans = Answer("summary", query=query, title=f"《{title}》")
    ans.extras["who"] = who
    used = 0
    if section_span:
        s, e, hd = section_span
        k = max_sents or {"short": 3, "medium": 6, "long": 12}[length]
        sents = central_sentences(text, s, e, k, set())
        sec = Section(heading=hd)
        for s2, e2 in sents:
            if used + (e2 - s2) > budget and ans.quotes:
                break
            sec.quotes.append(ans.cite(comp.quote(doc, s2, e2, hd)))
            used += e2 - s2
        ans.sections.append(sec)
    else:
        if parts:
            ans.items = [ans.cite(comp.quote(doc, s0, e0, h)) for s0, e0, h in parts]
        per_part = max_sents and max(1, max_sents // max(1, len(parts))) or {"short": 1, "medium": 4, "long": 8}[length]
        spans = []
        start0 = body_start(text)
        bounds = [(parts[i][0], parts[i + 1][0] if i + 1 < len(parts) else len(text), parts[i][2])
                  for i in range(len(parts))] or [(start0, len(text), "")]
        if parts and parts[0][0] - start0 > 200:
            bounds.insert(0, (start0, parts[0][0], "开场"))
        max_len = max(50, budget // (len(bounds) * per_part)) if length == "short" else 220
        share = budget / max(1, len(bounds))  # each part gets its share of the budget
        for s, e, hd in bounds:
            spans.append((hd, central_sentences(text, s, e, per_part, set(), max_len, ranked=True)))
        subs: dict[str, list] = {}
        for lv, s0, e0, h in heads:
            if top_level is not None and lv > top_level and length != "short":
                part = max((p for p in parts if p[0] <= s0), default=None, key=lambda p: p[0])
                if part:
                    subs.setdefault(part[2], []).append((lv, s0, e0, h))
        for key, found in subs.items():  # the first level below the part's own
            child = min(lv for lv, *_ in found)
            subs[key] = [(s0, e0, h) for lv, s0, e0, h in found if lv == child]
        n_body = 0
        if max_sents:  # "用三句话": the parts' best sentences, first parts first
            spans = [(hd, sents) for hd, sents in spans if hd != "开场"] or spans
        for hd, sents in spans:
            if max_sents and n_body >= max_sents:
                break  # the sentences asked for are given: no empty part headings after them
            sec = Section(heading=hd)
            for s0, e0, h in subs.get(hd, [])[:8]:
                if used + (e0 - s0) > budget:
                    break
                sec.points.append(ans.cite(comp.quote(doc, s0, e0, hd)))
                used += len(sec.points[-1].text)  # the key points count towards the budget
            picked, part_used = [], 0
            for s2, e2 in sents:  # best first, within the part's share and the whole budget
                size = e2 - s2
                if max_sents and n_body >= max_sents:
                    break
                if used + size > budget and n_body:
                    continue
                if picked and part_used + size > share:
                    continue
                picked.append((s2, e2))
                part_used += size
                used += size
                n_body += 1
            sec.quotes = [ans.cite(comp.quote(doc, s2, e2, hd)) for s2, e2 in sorted(picked)]
            ans.sections.append(sec)
    figs = key_figures(text, {"short": 5, "medium": 8, "long": 15}[length])
    if figs:
        rows = []
        for f in figs:
            q = ans.cite(comp.quote(doc, f.start, f.end, "关键数据"))
            value = f"{f.value}{f.unit}" if f.value else ""
            rows.append((f.indicator, [Cell(value=value), Cell(value=f.growth), Cell(value=str(f.year or "")),
                                       Cell(value=f.kind), Cell([q])]))
        ans.tables.append(Table("关键数据", ["数值", "增长", "年份", "性质", "原文"], rows, label="指标"))
    if comp.bot.settings.llm and not section_span:
        llm_part = _llm_map_reduce(comp, list(ans.quotes), title)
        if llm_part is None:
            ans.flags.append("llm_error")
            ans.notes.append(Note("（LLM 摘要不可用，以上为抽取式摘要。）", "llm"))
        else:
            from .llm import shift_citations

            prose, llm_quotes, llm_flags = llm_part
            ans.prose = shift_citations(prose, len(ans.quotes))
            for q in llm_quotes:
                ans.quotes.append(q)
            ans.flags += llm_flags
    if comp.bot.settings.llm:
        ans.extras["model"] = comp.bot.settings.llm
    ans.extras["figures"] = [f.to_dict() for f in figs]
    ans.extras["outline"] = [h for _, _, h in parts]
    ans.extras["doc"] = doc
    return ans


def summarize_request(comp, query: str) -> Answer:
    doc = pick_document(comp, query)
    if doc is None:
        return comp.not_found(query, "没有找到要总结的文档", [])
    return summarize_doc(comp, doc, query)
