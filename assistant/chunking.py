"""Structure-aware splitting of Chinese documents into passages.

A passage never crosses a heading and never cuts a sentence (a run-on sentence longer than the limit is cut
at clause commas, the only place left). Each passage keeps its section path and its offsets into the clean
text, so that a quote can be checked and highlighted in the document it came from.

A table (text.table_blocks: tab-separated rows as the readers give them, or Markdown pipes) becomes table
passages: its header row one passage, each data row another, the row's text verbatim at its offsets. The header
row and the caption travel in the row passage's metadata and in what search sees (search_text), so that
"2024年目标 规上工业增加值" finds the row, and a figure is never quoted apart from its header.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .text import table_blocks

MAX_CHARS = 400
VERSION = 4  # part of every document hash: a new chunker re-chunks on the next ingest
TARGET_CHARS = 300

_CN_NUM = "一二三四五六七八九十"
_HEADING_PATTERNS = [
    (re.compile(f"^第[{_CN_NUM}]+(部分|章|篇)"), 0),  # above 一、: a report's parts hold 一、二、三
    (re.compile(f"^第[{_CN_NUM}]{{1,3}}[，,、：:](?=.{{2,40}}$)"), 1),  # "第一，客观看待成绩…" on a line of its own
    (re.compile(f"^[{_CN_NUM}]{{1,3}}、"), 1),
    (re.compile(r"^0\d$"), 1),
    (re.compile(f"^[(（][{_CN_NUM}]{{1,3}}[)）]"), 2),
    (re.compile(r"^\d{1,2}[、.．](?![\d.．])"), 3),
    (re.compile(r"^[(（]\d{1,2}[)）]"), 4),
]
# Sentence ends: Chinese and ASCII forms, with closing quotes or brackets that follow them.
_SENT_END = re.compile(r"[。！？!?；;…]+[”’」』)）\]]*|\n+")
_CLAUSE_END = re.compile(r"[,，、:：]")


def heading_level(line: str) -> int | None:
    line = line.strip()
    if not line:
        return None
    for pattern, level in _HEADING_PATTERNS:
        if pattern.match(line):
            return level
    return None


def heading_text(line: str) -> str:
    """The heading proper: a numbered paragraph's first sentence ('1.创新招商引资方式。大力开展…')."""
    m = _SENT_END.search(line)
    head = line[: m.end()] if m and m.end() < len(line) else line
    head = head.rstrip("。；;")
    return head if len(head) <= 60 else head[:60] + "…"


PAGE_INFO = "page_info"
PAGE_INFO_SECTION = "网页信息栏"


@dataclass
class Passage:
    text: str
    start: int
    end: int
    section: str  # "一、… › (三)…"
    index: int = 0
    kind: str = "text"  # text | table_header | table_row | page_info (the page's header line, not in the text)
    table_header: str = ""  # a table passage: its table's header row (tab-separated cells) ...
    table_caption: str = ""  # ... and caption ("表1 2024年主要经济指标目标"), "" when it has none
    header_start: int = 0  # the header row's offsets in the clean text
    header_end: int = 0

    @property
    def meta(self) -> dict:
        """What a table passage adds to its stored metadata ({} for text). ("passage", not "kind": a passage's
        metadata has its document's kind, 工作要点 …)"""
        if self.kind == "text":
            return {}
        if self.kind == PAGE_INFO:
            return {"passage": PAGE_INFO}
        return {"passage": self.kind, "table_header": self.table_header, "table_caption": self.table_caption,
                "table_header_start": self.header_start, "table_header_end": self.header_end}


def page_info_passage(page_info: str, index: int) -> Passage:
    """The page's header lines (发布时间 / 来源 / 作者), which loading removes from the text and keeps in the metadata:
    a passage of their own, at no offset of the text, searched for questions about the page."""
    return Passage(page_info, 0, 0, PAGE_INFO_SECTION, index=index, kind=PAGE_INFO)


def search_text(text: str, meta: dict) -> str:
    """What keyword and dense search see of a passage: a table row with its caption and header row before it
    (the row alone says "135", not "2024年目标"); any other passage as it is."""
    head = [meta.get("table_caption", "")]
    if meta.get("passage") == "table_row":
        head.append(meta.get("table_header", ""))
    head = [h for h in head if h]
    return "\n".join(head + [text]) if head else text


@dataclass
class _Para:
    start: int
    end: int
    section: tuple[str, ...]


def split_sentences(text: str, offset: int = 0) -> list[tuple[int, int]]:
    """Sentence spans (start, end) of `text`, shifted by offset. Spans cover the text without gaps."""
    spans = []
    pos = 0
    for m in _SENT_END.finditer(text):
        if m.end() > pos:
            spans.append((offset + pos, offset + m.end()))
            pos = m.end()
    if pos < len(text):
        spans.append((offset + pos, offset + len(text)))
    return spans


def _cut_long(text: str, start: int, end: int, limit: int) -> list[tuple[int, int]]:
    """A sentence longer than the limit: cut at the last clause comma before it, else hard."""
    pieces = []
    while end - start > limit:
        window = text[start:start + limit]
        cuts = [m.end() for m in _CLAUSE_END.finditer(window)]
        cut = cuts[-1] if cuts and cuts[-1] > limit // 3 else limit
        pieces.append((start, start + cut))
        start += cut
    pieces.append((start, end))
    return pieces


def sections(text: str) -> list[_Para]:
    """Paragraphs with the heading path that governs each."""
    paras: list[_Para] = []
    stack: list[tuple[int, str]] = []
    pending_part: str | None = None
    pos = 0
    rows = _table_lines(text)
    for line in text.split("\n"):
        start, end = pos, pos + len(line)
        pos = end + 1
        if not line.strip():
            continue
        level = None if start in rows else heading_level(line)  # "一、工业\t…" is a row, not a heading
        if pending_part is not None and level is None and len(line) <= 60:
            level, label = 1, f"{pending_part} {line.strip()}"
            pending_part = None
        elif re.fullmatch(r"0\d", line.strip()):
            pending_part = line.strip()
            stack = [(1, line.strip())]
            paras.append(_Para(start, end, tuple(h for _, h in stack)))
            continue
        else:
            label = heading_text(line) if level is not None else ""
        if level is not None:
            stack = [(lv, h) for lv, h in stack if lv < level]
            stack.append((level, label))
        paras.append(_Para(start, end, tuple(h for _, h in stack)))
    for i, para in enumerate(paras[:-1]):  # a part number belongs to the heading after it
        if re.fullmatch(r"0\d", text[para.start:para.end].strip()):
            para.section = paras[i + 1].section
    return paras


def _table_lines(text: str) -> dict[int, tuple]:
    """line start -> (kind, its table) for every header and row line of the text's tables."""
    out: dict[int, tuple] = {}
    for block in table_blocks(text):
        out.setdefault(block.header[0], ("table_header", block))
        for s, _ in block.rows:
            out[s] = ("table_row", block)
    return out


def chunk(text: str, max_chars: int = MAX_CHARS, target: int = TARGET_CHARS) -> list[Passage]:
    passages: list[Passage] = []
    cur_start = cur_end = None
    cur_section: tuple[str, ...] = ()
    table_lines = _table_lines(text)

    def flush():
        nonlocal cur_start, cur_end
        if cur_start is not None and text[cur_start:cur_end].strip():
            passages.append(Passage(text[cur_start:cur_end], cur_start, cur_end, " › ".join(cur_section)))
        cur_start = cur_end = None

    for para in sections(text):
        line = text[para.start:para.end]
        role = table_lines.get(para.start)
        if role and line.strip() and len(line.strip()) <= max_chars:  # a table's row: a passage of its own
            flush()
            cur_section = para.section
            kind, block = role
            hs, he = block.header
            cap = text[block.caption[0]:block.caption[1]] if block.caption else ""
            passages.append(Passage(line, para.start, para.end, " › ".join(para.section), kind=kind,
                                    table_header=text[hs:he].strip(" \u3000"), table_caption=cap,
                                    header_start=hs, header_end=he))
            continue
        is_heading = heading_level(line) is not None and not (
            cur_start is not None and re.fullmatch(r"0\d", text[cur_start:cur_end].strip()))
        if para.section != cur_section or is_heading:
            flush()
            cur_section = para.section
        for s, e in split_sentences(text[para.start:para.end], para.start):
            for s2, e2 in _cut_long(text, s, e, max_chars) if e - s > max_chars else [(s, e)]:
                if cur_start is None:
                    cur_start, cur_end = s2, e2
                elif e2 - cur_start <= target or (e2 - cur_start <= max_chars and e2 - s2 < 60):
                    cur_end = e2
                else:
                    flush()
                    cur_start, cur_end = s2, e2
    flush()
    for i, p in enumerate(passages):
        p.index = i
        # Trim surrounding whitespace, keeping offsets exact.
        lead = len(p.text) - len(p.text.lstrip())
        trail = len(p.text) - len(p.text.rstrip())
        p.start += lead
        p.end -= trail
        p.text = text[p.start:p.end]
    return passages


_ENUM = re.compile(
    r"(?:^|[。；;：:\n])\s*(?:[一二三四五六七八九十]+(?:是|要|、)|[(（][一二三四五六七八九十\d]+[)）]|\d{1,2}[、.．](?!\d)|——|第[一二三四五六七八九十]+[,，、])"
)


def enumeration_count(text: str) -> int:
    """How many list items start in a passage ("一是…", "(二)…", "3.…", "——…"): list answers live there."""
    return len(_ENUM.findall(text))
