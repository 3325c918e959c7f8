"""List answers: gather the items of an enumeration across passages, in document order.

Speeches enumerate in three ways: a lead sentence that announces a count ("要重点做好五个方面工作:")
followed by numbered headings; inline markers ("一是…。二是…。", "一要…", "——…"), possibly one per
paragraph; or a paragraph of parallel sentences with no markers. Each item is quoted as its first sentence.
"""

from __future__ import annotations

import re

from .chunking import heading_level, heading_text, sections, split_sentences
from .text import normalize

_CN = "一二三四五六七八九十"
_LEAD = re.compile(rf"([{_CN}两\d]+|几)\s*(个方面|方面|项|条|大|点|个|件|类)|以下|如下")
_INLINE = re.compile(rf"(?:^|(?<=[。；;！!？?\n：:]))\s*([{_CN}]{{1,2}})(是|要|个是|方面)")
_DASH = re.compile(r"(?:^|(?<=\n))——")


def _first_sentence(text: str, start: int, limit: int) -> int:
    for s, e in split_sentences(text[start:limit], start):
        return e
    return limit


def _heading_items(comp, doc: str, after: int, count: int | None) -> list:
    """Headings after a lead sentence: the first level met, under the same parent, up to `count`."""
    text = comp.text(doc)
    level = None
    items = []
    for para in sections(text):
        if para.start < after:
            continue
        line = text[para.start:para.end]
        lv = heading_level(line)
        if lv is None:
            continue
        if level is None:
            level = lv
        if lv < level:
            break
        if lv == level:
            end = para.start + len(heading_text(line).rstrip("…"))
            end = min(_first_sentence(text, para.start, para.end), para.end) if end >= para.end else \
                _first_sentence(text, para.start, para.end)
            items.append(comp.quote(doc, para.start, end, " › ".join(para.section)))
            if count and len(items) >= count:
                break
    return items


def _inline_items(comp, doc: str, start: int, end_limit: int) -> list:
    """一是/二是 (or 一要/二要) items from `start`, across paragraphs of the same section."""
    text = comp.text(doc)
    paras = [p for p in sections(text) if p.end > start]
    if not paras:
        return []
    section = paras[0].section
    family = None
    expected = 1
    items = []
    for para in paras:
        if para.section != section and items:
            break
        seg_start = max(para.start, start)
        for m in _INLINE.finditer(text, seg_start, para.end):
            num = _CN.find(m.group(1)) + 1 if len(m.group(1)) == 1 else None
            fam = m.group(2)
            if num is None:
                continue
            if family is None:
                if num != 1:
                    continue
                family = fam
            if fam != family or num != expected:
                continue
            s = m.start(1)
            e = _first_sentence(text, s, para.end)
            items.append(comp.quote(doc, s, e, " › ".join(para.section)))
            expected += 1
        if para.end > end_limit and items and expected > 1 and para.section != section:
            break
    return items if len(items) >= 2 else []


def _overlap(terms: list[str], text: str) -> float:
    body = normalize(text)
    weight = sum(min(len(t), 4) for t in terms) or 1
    return sum(min(len(t), 4) for t in terms if t in body) / weight


def _siblings(comp, doc: str, start: int) -> tuple[list, str]:
    """The headings at the level of the heading at `start`, under the same parent; and the parent's lead."""
    text = comp.text(doc)
    paras = sections(text)
    idx = next((i for i, p in enumerate(paras) if p.start <= start < p.end + 1), None)
    if idx is None:
        return [], ""
    level = heading_level(text[paras[idx].start:paras[idx].end])
    if not level:
        return [], ""
    parent = paras[idx].section[:-1]
    group = [p for p in paras if p.section[:-1] == parent and heading_level(text[p.start:p.end]) == level
             and len(p.section) == len(paras[idx].section)]
    items = [comp.quote(doc, p.start, _first_sentence(text, p.start, p.end), " › ".join(p.section)) for p in group]
    first = group[0].start if group else start
    lead_start = max(0, text.rfind("\n", 0, max(0, first - 1)))
    return items, text[lead_start:first]


_FOCUS = re.compile(r"(?:哪几[条个项类大种家]|哪些|几[条个项类大种家]|哪?[两三四五六七八九十]+[大个条项类种家])"
                    r"([\u4e00-\u9fff]{2,6})")
_GENERIC_FOCUS = {"方面", "工作", "任务", "内容", "措施", "事情", "问题", "要点", "部分", "重点"}


def _focus(question: str) -> str:
    """The thing a list question enumerates ("哪几条产业链" -> "产业链"), or ""."""
    m = _FOCUS.search(question)
    if not m:
        return ""
    word = re.split(r"[的?？,，。]", m.group(1))[0]
    if not word or any(word.startswith(g) for g in _GENERIC_FOCUS):
        return ""
    return normalize(word[-3:] if len(word) > 3 else word)


def find_list(comp, hits):
    terms = comp.key_terms(comp.query)
    focus = _focus(comp.query)
    m = re.search(r"([两三四五六七八九十]+[大个条项类种])([\u4e00-\u9fff]{2,6}?)(?:是什么|分别|有哪些|包括|[?？的,，]|$)", comp.query)
    phrase = normalize(m.group(1) + m.group(2)) if m else ""
    candidates = []  # (score, items, lead quote or None)
    for rank, h in enumerate(hits[:4]):
        text = comp.text(h.doc)
        # inline families: 一是/二是, 一要/二要 …
        for m in _INLINE.finditer(text, max(0, h.start - 1), h.end):
            if m.group(1) != "一":
                continue
            items = _inline_items(comp, h.doc, m.start(1), h.end)
            if len(items) >= 2:
                context = text[max(0, m.start(1) - 100):m.start(1)]
                candidates.append((rank, items, context, None))
        # a lead sentence announcing a count or "以下", then headings right after it
        for s, e in split_sentences(h.text, h.start):
            sent = text[s:e]
            m = None
            for m in _LEAD.finditer(sent):
                pass  # the last count phrase: a lead announces its list at its end
            if not m or len(sent) > 120:
                continue
            if m.end() < len(sent.rstrip()) - 12 and not sent.rstrip().endswith((":", "：")):
                continue  # "重点引进“三类500强”企业、…" mentions a count; it does not announce a list
            raw = m.group(1) if m.lastindex else None
            count = None
            if raw and raw.isdigit():
                count = int(raw)
            elif raw and raw != "几":
                from .text import cn_to_int

                count = cn_to_int(raw.replace("两", "二"))
            if count is not None and not 2 <= count <= 12:
                continue
            heads = _heading_items(comp, h.doc, e, count)
            if len(heads) >= 2 and heads[0].start - e <= 40:
                candidates.append((rank, heads, sent, comp.quote(h.doc, s, e, h.section)))
        # the hit opens a numbered part: its sibling parts
        if int(h.meta.get("head", 0)) >= 2:
            items, lead = _siblings(comp, h.doc, h.start)
            if len(items) >= 2:
                candidates.append((rank + 0.5, items, lead, None))
        # parallel sentences without markers
        para_start = text.rfind("\n", 0, h.start) + 1
        para_end = text.find("\n", h.start)
        para_end = len(text) if para_end < 0 else para_end  # the whole paragraph, not just the passage
        spans = [(s, e) for s, e in split_sentences(text[para_start:para_end], para_start)
                 if len(text[s:e].strip()) > 4]
        if len(spans) >= 2 and rank <= 2:
            items = [comp.quote(h.doc, s, e, h.section) for s, e in spans[:10]]
            candidates.append((rank + 0.3, items, "", None))
        # "三大主导产业是什么": one sentence that enumerates them ("生物医药、高端制造、新材料三大主导产业")
        if phrase:
            for s, e in split_sentences(h.text, h.start):
                sent = text[s:e]
                # the items stand right before the phrase: "A、B、C三大主导产业"
                if phrase in normalize(sent) and re.search(r"(、[^,，。;；、:：]{1,14})+" + re.escape(phrase), normalize(sent)):
                    candidates.append((rank, [comp.quote(h.doc, s, e, h.section)], sent, "phrase"))
    if not candidates:
        return None

    def score(c):
        rank, items, context, _ = c
        item_rel = sum(1 for q in items if _overlap(terms, q.text) > 0) / len(items)
        # "哪几条产业链": the items are 产业链 — a list whose items name the asked thing is the answer
        focus_rel = sum(1 for q in items if focus and focus in normalize(q.text)) / len(items)
        if len(items) < 2 and c[3] != "phrase":
            return -1.0
        bonus = 0.6 if c[3] == "phrase" else 0.2 if c[3] is not None else 0.0
        return _overlap(terms, context) + item_rel + focus_rel - 0.15 * rank + bonus
    best = max(candidates, key=score)
    _, items, _, lead = best
    return items, (lead if lead != "phrase" else None), items[0].doc
