"""Answer -> Markdown, for the CLI, exports and the chat history. The only module that writes Markdown.

Nothing parses what this produces: the app shows an Answer's parts with its own elements, and follow-ups
read the previous Answer's parts (or, from a history of plain turns, its text as a user would).
"""

from __future__ import annotations

# Annotations name assistant.answer's types (Answer, Quote, Cell, Table); render reads their parts and imports
# nothing of them, so that answer.py's `text` may call it without a circle.

NOT_FOUND = "文档中没有找到答案。"


def citation(q: Quote, n: int) -> str:
    """[n] 《title》（zone · speaker · date） › section ｜ file 第start–end字"""
    bits = [f"《{q.title}》" if q.title else q.doc]
    who = " · ".join(x for x in (q.zone, q.speaker, q.date) if x)
    if who:
        bits.append(f"（{who}）")
    if q.section:
        bits.append(f" › {q.section}")
    return f"[{n}] " + "".join(bits) + f" ｜ {q.doc} 第{q.start}–{q.end}字"


def sources(quotes: list[Quote], start_at: int = 1) -> str:
    lines = []
    for i, q in enumerate(quotes, start_at):
        body = q.text.replace("\n", " ")
        lines.append(f"> 「{body}」  \n> {citation(q, i)}")
    return "\n\n".join(lines)


def quoted(ans: Answer, q: Quote, in_table: bool = False) -> str:
    body = q.text.replace("\n", " ")
    if in_table:
        body = body.replace("|", "｜")
    n = ans.number(q)
    return f"「{body}」[{n}]" if n else f"「{body}」"


def _cell(ans: Answer, cell: Cell) -> str:
    if cell.quotes:
        return " ／ ".join(quoted(ans, q, in_table=True) for q in cell.quotes)
    return cell.value.replace("|", "｜")


def table(ans: Answer, t: Table) -> str:
    head = ([t.label] if t.label else []) + t.columns
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, cells in t.rows:
        row = ([name] if t.label else []) + [_cell(ans, c) for c in cells]
        lines.append("| " + " | ".join(row) + " |")
    out = "\n".join(lines)
    return f"**{t.title}**\n\n{out}" if t.title else out


def _not_found(ans: Answer) -> str:
    lines = [f"**{NOT_FOUND}** {ans.reason}。"]
    if ans.looked_for:
        lines += ["", f"查找的内容：{'、'.join(ans.looked_for)}"]
    for note in ans.notes:
        lines += ["", note.text]
    if ans.nearest:
        lines += ["", "**最接近的段落（并不回答这个问题）：**", "", sources(ans.nearest)]
    return "\n".join(lines)


def _notes(ans: Answer, kinds: tuple[str, ...]) -> list[str]:
    return [n.text for n in ans.notes if n.kind in kinds]


def markdown(ans: Answer) -> str:
    if ans.kind == "not_found":
        return _not_found(ans)
    blocks: list[str] = []
    if ans.kind == "summary":
        blocks.append(f"**{ans.title}**" + (f"（{ans.extras['who']}）" if ans.extras.get("who") else ""))
        if ans.items:
            blocks.append("**结构**：" + "；".join(quoted(ans, q) for q in ans.items))
        for sec in ans.sections:
            lines = [f"**{sec.heading}**"] if sec.heading else []
            if sec.points:
                lines.append("- 要点：" + "；".join(quoted(ans, q) for q in sec.points))
            lines += [f"- {quoted(ans, q)}" for q in sec.quotes]
            if lines:
                blocks.append("\n".join(lines))
        blocks += [table(ans, t) for t in ans.tables]
        if ans.prose:
            blocks.append(ans.prose)
        blocks += _notes(ans, ("note", "warning", "target", "llm"))
    elif ans.kind == "comparison":
        head = f"**对比**：{ans.title}"
        warnings = _notes(ans, ("warning",))
        blocks.append("\n\n".join([head] + warnings))
        blocks += [table(ans, t) for t in ans.tables]
        extra = []
        if ans.prose:
            extra.append(f"**说明（LLM 撰写，引文已核对）**：{ans.prose}")
        points = _notes(ans, ("point",))
        if points:
            extra.append("\n".join(f"- {p}" for p in points))
        extra += _notes(ans, ("note", "llm"))
        blocks += extra
    else:
        if ans.facts:
            lines = [f"- {f.label}：**{f.value}**（{f.source}）" for f in ans.facts]
            blocks.append("\n".join(lines))
        elif ans.title:
            blocks.append(f"**{ans.title}**：\n\n「{''.join(q.text for q in ans.lead)}」[{ans.number(ans.lead[0])}]"
                          if ans.lead else f"**{ans.title}**")
        elif ans.prose:
            blocks.append(f"**回答**：{ans.prose}")
        elif ans.items:
            lead = "".join(quoted(ans, q) for q in ans.lead)
            lines = [f"{i}. {quoted(ans, q)}" for i, q in enumerate(ans.items, 1)]
            blocks.append(f"**回答**：{lead}\n\n" + "\n".join(lines) if lead else "**回答**：\n\n" + "\n".join(lines))
        else:
            blocks.append("**回答**：" + "".join(quoted(ans, q) for q in ans.lead))
        blocks += _notes(ans, ("target", "note", "warning", "llm"))
    if ans.quotes:
        blocks.append("**出处**\n\n" + sources(ans.quotes))
    return "\n\n".join(b for b in blocks if b)


# ------------------------------------------------------------------------------------------ a streamed LLM answer
# The LLM composer streams the model's tokens as they arrive; what surrounds them comes from here.

STREAM_HEAD = "**回答**："


def stream_head() -> str:
    """What precedes the model's first streamed token."""
    return STREAM_HEAD


def stream_break() -> str:
    """Shown where a stream stopped being shown (the rest is replaced by the verified answer)."""
    return "……"


def numbered_sources(labelled: list[tuple[int, Quote]]) -> str:
    """The sources block numbered as given (a streamed reply cites them as the model numbered them)."""
    lines = []
    for n, q in labelled:
        body = q.text.replace("\n", " ")
        lines.append(f"> 「{body}」  \n> {citation(q, n)}")
    return "\n\n".join(lines)


def nearest_block(quotes: list[Quote]) -> str:
    """The passages found nearest, when the documents do not answer."""
    return "**最接近的段落（并不回答这个问题）：**\n\n" + sources(quotes) if quotes else ""


def stream_tail(ans: Answer, labelled: list[tuple[int, Quote]] | None = None, started: bool = True) -> str:
    """What follows the streamed tokens: the answer's notes and sources (numbered as the model cited them,
    `labelled`), or, when the verified answer is not the streamed one (a not-found reply, the extractive
    fallback), what the stream did not show. Nothing streamed yet: the whole answer."""
    if not started:
        return markdown(ans)
    if ans.kind == "not_found":
        blocks = [n.text for n in ans.notes] + [nearest_block(ans.nearest)]
    elif labelled:
        blocks = [n.text for n in ans.notes] + ["**出处**\n\n" + numbered_sources(labelled)]
    else:  # another answer replaces what was streamed: first why (the LLM notes), then that answer
        from dataclasses import replace

        why = [n for n in ans.notes if n.kind == "llm"]
        blocks = [n.text for n in why] + [markdown(replace(ans, notes=[n for n in ans.notes if n not in why]))]
    blocks = [b for b in blocks if b]
    return "\n\n" + "\n\n".join(blocks) if blocks else ""
