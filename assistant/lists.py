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
_INLINE = re.compile(rf"(?:^|(?<=[。；;！!？?\n]))\s*([{_CN}]{{1,2}})(是|要|个是|方面)")
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


def find_list(comp, hits):
    terms = comp.key_terms(comp.query)
    # A. a lead sentence announcing the list, then its items
    for h in hits[:3]:
        text = comp.text(h.doc)
        for s, e in split_sentences(h.text, h.start):
            sent = text[s:e]
            m = _LEAD.search(sent)
            if not m or not any(t in normalize(sent) for t in terms):
                continue
            if heading_level(sent) is not None and not sent.rstrip().endswith((":", "：")):
                continue
            raw = m.group(1) if m.lastindex else None
            count = None
            if raw and raw.isdigit():
                count = int(raw)
            elif raw and raw != "几":
                from .text import cn_to_int

                count = cn_to_int(raw.replace("两", "二"))
            inline = _inline_items(comp, h.doc, e, e + 4000)
            heads = _heading_items(comp, h.doc, e, count)
            items = heads if len(heads) >= 2 and (not inline or heads[0].start < inline[0].start) else inline
            if len(items) >= 2:
                lead = comp.quote(h.doc, s, e, h.section)
                return items, lead, h.doc
    # B. inline markers in the best passages
    for h in hits[:2]:
        text = comp.text(h.doc)
        m = next((m for m in _INLINE.finditer(text, h.start, h.end) if m.group(1) == "一"), None)
        if m:
            items = _inline_items(comp, h.doc, m.start(1), h.end)
            if len(items) >= 2:
                return items, None, h.doc
    # C. a paragraph of parallel sentences: the best passage's sentences, in order
    h = hits[0]
    text = comp.text(h.doc)
    spans = [(s, e) for s, e in split_sentences(h.text, h.start) if len(text[s:e].strip()) > 4]
    if len(spans) < 2:
        return None
    items = [comp.quote(h.doc, s, e, h.section) for s, e in spans[:8]]
    return items, None, h.doc
