"""园区助手 — Streamlit UI only. Everything it shows comes from `assistant` (the library)."""

from __future__ import annotations

import html
import tempfile
from pathlib import Path

import streamlit as st

from assistant import Assistant
from assistant.errors import AssistantError
from assistant.loading import safe_name

st.set_page_config(page_title="园区助手", page_icon="🏭", layout="wide")


@st.cache_resource(show_spinner=False)
def get_assistant() -> Assistant:
    """One Assistant per process, shared by every browser session (its store is thread-safe)."""
    bar = st.progress(0.0, text="首次使用：正在导入内置语料…")

    def progress(message: str, done: int, total: int) -> None:
        bar.progress(min(1.0, done / total) if total else 1.0, text=f"首次使用：{message}")

    bot = Assistant(progress=progress)
    bar.empty()
    return bot


def escape(text: str) -> str:
    """Document text is data: shown as text, never as HTML or Markdown markup."""
    return html.escape(text).replace("\n", " ").replace("*", "\\*").replace("_", "\\_").replace("`", "\\`")


def render_quotes(quotes, docs) -> None:
    if not quotes:
        return
    with st.expander(f"来源（{len(quotes)}）"):
        for i, q in enumerate(quotes, 1):
            meta = docs.get(q.doc, {})
            st.markdown(f"**[{i}] 《{escape(q.title or q.doc)}》** · {escape(q.zone)} · "
                        f"{escape(meta.get('speaker', ''))} · {escape(str(meta.get('date') or meta.get('year', '')))}")
            st.caption(f"{escape(q.section)}  ｜  {escape(q.doc)} 第{q.start}–{q.end}字")
            try:
                full = bot.store.document_text(q.doc)
            except AssistantError:
                full = q.text
            before = full[max(0, q.start - 80):q.start]
            after = full[q.end:q.end + 80]
            st.markdown(f"…{escape(before)}<mark>{escape(q.text)}</mark>{escape(after)}…", unsafe_allow_html=True)


def export_markdown(messages) -> str:
    lines = ["# 园区助手 对话记录", ""]
    for m in messages:
        lines.append(f"## {'问' if m['role'] == 'user' else '答'}")
        lines.append(m["content"])
        lines.append("")
    return "\n".join(lines)


try:
    bot = get_assistant()
except AssistantError as exc:
    st.error(f"无法打开文档库：{exc}")
    st.stop()

docs = bot.documents()
if "messages" not in st.session_state:
    st.session_state.messages = []

# ------------------------------------------------------------------------------------------ sidebar
with st.sidebar:
    st.header("文档库")
    rows = [{"园区": m.get("zone", ""), "标题": m.get("title", ""), "讲话人": m.get("speaker", ""),
             "日期": str(m.get("date") or m.get("year", "")), "段落": m.get("n_passages", 0), "文件": n}
            for n, m in sorted(docs.items())]
    st.dataframe(rows, hide_index=True, use_container_width=True)
    uploads = st.file_uploader("上传文档（.txt .md .html .docx .pdf）", accept_multiple_files=True,
                               type=["txt", "md", "html", "htm", "docx", "pdf"])
    if uploads and st.button("导入上传的文档"):
        with st.status("正在导入…", expanded=True) as status:
            with tempfile.TemporaryDirectory() as tmp:
                paths = []
                for f in uploads:
                    path = Path(tmp) / safe_name(f.name)
                    path.write_bytes(f.getvalue())
                    paths.append(path)
                report = bot.ingest(paths)
            for r in report.results:
                icon = "✅" if r.status != "failed" else "❌"
                st.write(f"{icon} {escape(r.name)}：{r.status} {escape(r.reason)}")
            status.update(label="导入完成", state="complete")
        docs = bot.documents()
    if docs:
        target = st.selectbox("删除文档", [""] + sorted(docs))
        if target:
            confirm = st.checkbox(f"确认删除 {target}")
            if confirm and st.button("删除"):
                bot.remove(target)
                st.success(f"已删除 {target}")
                st.rerun()
    zones = sorted({m.get("zone", "") for m in docs.values() if m.get("zone")})
    zone = st.selectbox("限定园区", ["全部"] + zones)
    st.caption(f"回答模式：{'LLM · ' + bot.settings.llm if bot.settings.llm else '抽取式（仅引用原文）'}")
    if st.button("新对话"):
        st.session_state.messages = []
        st.rerun()
    st.download_button("导出对话（Markdown）", export_markdown(st.session_state.messages),
                       file_name="zone-assistant-chat.md")

# ------------------------------------------------------------------------------------------ chat
st.title("园区助手")
if not st.session_state.messages:
    st.markdown("针对开发区工作会议讲话、工作要点等文档提问。每个回答都由原文引用组成，并注明出处。")
    zone_names = zones or ["长治高新区"]
    starters = [f"{zone_names[0]}的主导产业有哪些?", f"总结一下{zone_names[-1]}那篇文档",
                f"{zone_names[0]}和{zone_names[-1]}的重点任务有什么不同?"]
    st.markdown("可以试试：" + " ｜ ".join(f"`{s}`" for s in starters))

for m in st.session_state.messages:
    with st.chat_message(m["role"]):
        st.markdown(m["content"])
        if m.get("quotes"):
            render_quotes(m["quotes"], docs)

question = st.chat_input("输入问题，例如：长治高新区2017年营业收入是多少?")
if question:
    history = [{"role": m["role"], "content": m["content"]} for m in st.session_state.messages]
    st.session_state.messages.append({"role": "user", "content": question})
    with st.chat_message("user"):
        st.markdown(escape(question))
    with st.chat_message("assistant"):
        filters = {"zone": zone} if zone != "全部" else {}
        try:
            ans = bot.ask(question, history, **filters)
        except AssistantError as exc:
            st.warning(str(exc))
        else:
            if ans.kind == "not_found":
                st.warning("文档中没有找到答案")
            st.write_stream(iter([ans.text]))
            render_quotes(ans.quotes or ans.nearest, docs)
            st.session_state.messages.append({"role": "assistant", "content": ans.text, "quotes": ans.quotes,
                                              "kind": ans.kind})
