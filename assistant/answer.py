"""The typed seam between composing an answer and showing it: `Quote` and `Answer`.

An answer is made of parts, never of Markdown: the quotes that answer (`lead`), the items of a list, the
sections of a summary, tables (a comparison, key figures), facts read from a document's metadata, notes the
assistant adds (plain sentences: "这是目标，不是已实现的数字"), and, when the documents do not hold the answer,
the reason and the passages found nearest. `quotes` lists every quote cited, in citation order: quote n is
cited as [n]. Rendering (assistant/render.py for Markdown; the app's Streamlit elements) reads these parts;
nothing parses a rendered answer back.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class Quote:
    """A verbatim span of a document's clean text, with what a citation shows."""

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
class Note:
    """A sentence the assistant adds about an answer (not a claim of any document)."""

    text: str
    kind: str = "note"  # note | target | warning | llm

    def to_dict(self) -> dict:
        return {"text": self.text, "kind": self.kind}


@dataclass
class MetaFact:
    """A fact read from a document's metadata or its page header, not from its body."""

    label: str  # 讲话人/发文机关, 时间, 会议, 网页发布时间, 来源 …
    value: str
    source: str = "文档元数据"  # or 网页信息栏

    def to_dict(self) -> dict:
        return {"label": self.label, "value": self.value, "source": self.source}


@dataclass
class Section:
    """A part of a summary: its heading as the document writes it, its key points and its central sentences."""

    heading: str = ""
    points: list[Quote] = field(default_factory=list)  # the part's own sub-headings
    quotes: list[Quote] = field(default_factory=list)

    def to_dict(self, number) -> dict:
        return {"heading": self.heading, "points": [number(q) for q in self.points],
                "quotes": [number(q) for q in self.quotes]}


@dataclass
class Cell:
    """A table cell: quotes, or a plain value (a year, "未提及") when no quote stands there."""

    quotes: list[Quote] = field(default_factory=list)
    value: str = ""

    def to_dict(self, number) -> dict:
        return {"quotes": [number(q) for q in self.quotes], "value": self.value}


@dataclass
class Table:
    title: str
    columns: list[str]  # the header of the value columns (zones, or 指标 / 数值 / …)
    rows: list[tuple[str, list[Cell]]]  # (row label, cells)
    label: str = ""  # the header of the label column ("方面"); "" when rows need none

    def to_dict(self, number) -> dict:
        return {"title": self.title, "label": self.label, "columns": self.columns,
                "rows": [{"label": name, "cells": [c.to_dict(number) for c in cells]} for name, cells in self.rows]}


@dataclass
class Answer:
    kind: str  # answer | summary | comparison | not_found
    query: str = ""  # the query actually searched (a follow-up, rewritten)
    title: str = ""  # what the answer is about: a document's title line, the zones compared
    lead: list[Quote] = field(default_factory=list)  # the quotes that answer
    items: list[Quote] = field(default_factory=list)  # a list's items, in order
    sections: list[Section] = field(default_factory=list)  # a summary's parts
    facts: list[MetaFact] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    prose: str = ""  # an LLM's wording, citing quotes as [n]
    reason: str = ""  # not_found: why
    looked_for: list[str] = field(default_factory=list)  # not_found: the terms searched
    nearest: list[Quote] = field(default_factory=list)  # not_found: what was found nearest
    quotes: list[Quote] = field(default_factory=list)  # every quote cited, in citation order
    flags: list[str] = field(default_factory=list)
    extras: dict = field(default_factory=dict)  # chart data, figures, outline, the model used

    def cite(self, quote: Quote) -> Quote:
        """Add a quote to the citations (once) and return it, so that parts can hold it."""
        if not any(q is quote for q in self.quotes):
            self.quotes.append(quote)
        return quote

    def number(self, quote: Quote) -> int:
        """The citation number of a quote ([n]), 0 when it is not cited."""
        for i, q in enumerate(self.quotes, 1):
            if q is quote:
                return i
        for i, q in enumerate(self.quotes, 1):
            if (q.doc, q.start, q.end) == (quote.doc, quote.start, quote.end):
                return i
        return 0

    @property
    def text(self) -> str:
        """The answer as Markdown (CLI, export, chat history)."""
        from .render import markdown

        return markdown(self)

    def to_dict(self) -> dict:
        out = {"kind": self.kind, "answer": self.text, "query": self.query,
               "quotes": [q.to_dict() for q in self.quotes]}
        parts = {
            "title": self.title,
            "lead": [self.number(q) for q in self.lead],
            "items": [self.number(q) for q in self.items],
            "sections": [s.to_dict(self.number) for s in self.sections],
            "facts": [f.to_dict() for f in self.facts],
            "tables": [t.to_dict(self.number) for t in self.tables],
            "notes": [n.to_dict() for n in self.notes],
            "prose": self.prose,
            "reason": self.reason,
            "looked_for": self.looked_for,
        }
        out.update({k: v for k, v in parts.items() if v})
        if self.flags:
            out["flags"] = self.flags
        if self.nearest:
            out["nearest"] = [q.to_dict() for q in self.nearest]
        return out


def combine(parts: list[tuple[str, Answer]]) -> Answer:
    """One answer to a question that asked several things, from the answer to each (question, Answer) in turn:
    their quotes, facts, tables and notes in order; a part the documents do not answer is said so in a note
    (with its reason), and its nearest passages are kept. Not found only when no part is found."""
    found = [(q, a) for q, a in parts if a.kind != "not_found"]
    if not found:
        first = parts[0][1]
        out = Answer("not_found", query="；".join(a.query for _, a in parts),
                     reason="；".join(f"「{q}」{a.reason}" for q, a in parts if a.reason),
                     looked_for=[t for _, a in parts for t in a.looked_for])
        out.nearest = [n for _, a in parts for n in a.nearest][:3]
        out.notes = [n for _, a in parts for n in a.notes]
        return out if out.reason else first
    out = Answer(found[0][1].kind if len(found) == 1 else "answer", query="；".join(a.query for _, a in parts),
                 title=found[0][1].title if len(found) == 1 else "")
    seen: dict[tuple, Quote] = {}

    def keep(q: Quote) -> Quote:
        return seen.setdefault((q.doc, q.start, q.end), q)

    for question, a in parts:
        if a.kind == "not_found":
            out.notes.append(Note(f"「{question}」：文档中没有找到答案（{a.reason}）。", "warning"))
            out.nearest.extend(a.nearest)
            continue
        for q in a.quotes:
            out.cite(keep(q))
        for q in map(keep, a.lead):
            if any(x.doc == q.doc and x.start <= q.start and q.end <= x.end for x in out.lead):
                continue  # a span already quoted whole
            out.lead = [x for x in out.lead if not (x.doc == q.doc and q.start <= x.start and x.end <= q.end)]
            out.lead.append(q)
        out.items.extend(map(keep, a.items))
        out.sections.extend(a.sections)
        out.facts.extend(f for f in a.facts if f not in out.facts)
        out.tables.extend(a.tables)
        out.notes.extend(n for n in a.notes if n not in out.notes)
        out.flags.extend(f for f in a.flags if f not in out.flags)
    out.nearest = out.nearest[:3]
    return out
