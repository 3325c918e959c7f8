"""The chat, driven through AppTest on the session's read-only bundled corpus."""

from __future__ import annotations

import re

from apphelpers import assistant_messages, ask, captions, one_line, quoted, texts, unescape, user_messages

Q_FACT = "长治高新区2017年营业收入是多少?"
Q_FOLLOW = "那税收收入呢?"
Q_MISSING = "常德经开区2020年的进出口总额是多少?"
CHANGZHI_TITLE = "实施六大战略 加速二次创业 奋力开创新时代高新区高质量发展新局面"


def test_empty_state_has_welcome_and_three_starters_from_the_corpus(make_app, read_home, corpus_home):
    at = make_app(read_home).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "园区助手"
    assert "原文引用" in texts(at.main)
    starters = [b for b in at.button if b.key and b.key.startswith("starter_")]
    assert [b.label.split("：")[0] for b in starters] == ["问答", "总结", "对比"]
    zones = {m["zone"] for m in corpus_home.documents().values()}
    questions = [b.label.split("：", 1)[1] for b in starters]
    for q in questions:
        assert any(z in q for z in zones), q
    # each starter is answered by the loaded corpus, in its own way
    kinds = [corpus_home.ask(q).kind for q in questions]
    assert kinds == ["answer", "summary", "comparison"], list(zip(questions, kinds))
    # clicking one asks it
    starters[0].click().run()
    assert not at.exception
    assert [m.markdown[0].value for m in user_messages(at)] == [unescape_md(questions[0])]
    assert "处原文引用" in texts(assistant_messages(at)[0])
    assert not [b for b in at.button if b.key and b.key.startswith("starter_")]  # the welcome is gone


def unescape_md(text: str) -> str:
    return re.sub(r"([\\`*_{}\[\]()#+\-.!|~$:^=])", r"\\\1", text)


def test_question_is_answered_with_quotes_chips_and_sources(make_app, read_home):
    at = ask(make_app(read_home).run(), Q_FACT)
    user, = user_messages(at)
    assert unescape(user.markdown[0].value) == Q_FACT
    reply, = assistant_messages(at)
    assert reply.avatar == ":material/factory:"
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "answer" and answer.lead and answer.quotes
    body = texts(reply)
    assert f":green-badge[:material/check_circle: 回答 · {len(answer.quotes)} 处原文引用]" in body
    assert ":gray-badge[抽取式]" in body
    # the lead quotes, each with its citation chip [n · zone], built from the Answer's parts
    shown = unescape(body)
    for q in answer.lead:
        assert quoted(answer, q) in shown, (quoted(answer, q), shown)
    assert "358.26" in answer.lead[0].text and answer.number(answer.lead[0]) == 1
    assert "**出处**" not in body and "**回答**" not in body  # nothing of the Markdown rendering
    assert not [c for c in captions(reply) if "检索" in c]  # the question was searched as asked
    sources, = [e for e in reply.expander if e.label.startswith("来源")]
    assert sources.label == f"来源（{len(answer.quotes)}）"
    entries = [m.value for m in sources.markdown]
    assert len(entries) == len(answer.quotes)
    for n, (q, entry) in enumerate(zip(answer.quotes, entries), 1):
        assert entry.startswith(f":blue-badge[{n}] **《")  # numbered as the chips cite it
        assert q.title in unescape(entry) and f"{q.doc} 第{q.start}–{q.end}字" in unescape(entry)
        # the quoted span highlighted inside its surrounding text (the document still holds it there)
        highlight = re.search(r"(.)\:yellow-background\[\*\*(.+?)\*\*\](.)", entry)
        assert highlight and unescape(highlight.group(2)) == one_line(q.text)
        assert highlight.group(1).strip() and highlight.group(3).strip()  # surrounding text on both sides
    src = texts(sources)
    # title, zone, speaker, date, section path, file and offsets
    assert CHANGZHI_TITLE in src
    assert "长治高新区 · 张志刚 · 2018\\-04\\-23" in src
    assert "章节：一、客观总结成绩" in src and "000\\_bd134bdf4e19f00a\\.txt 第" in src


def test_follow_up_uses_the_conversation_and_shows_the_query_searched(make_app, read_home):
    at = make_app(read_home).run()
    ask(at, Q_FACT)
    ask(at, Q_FOLLOW)
    assert len(user_messages(at)) == 2 and len(assistant_messages(at)) == 2
    first, second = assistant_messages(at)
    answer = at.session_state["messages"][-1]["answer"]
    assert {q.zone for q in answer.quotes} == {"长治高新区"}
    assert "长治高新区" in answer.query and "税收收入" in answer.query and answer.query != Q_FOLLOW
    body = unescape(texts(second))
    assert "税收收入" in body and "26.45" in body
    assert quoted(answer, answer.lead[0]) in body
    # under the answer: the query actually searched, the follow-up rewritten
    searched = [unescape(c) for c in captions(second) if "检索" in c]
    assert searched == [f":material/manage_search: 按「{answer.query}」检索"], captions(second)
    # the first turn is still shown, rendered from the history, without such a line (searched as asked)
    assert "358.26" in unescape(texts(first))
    assert not [c for c in captions(first) if "检索" in c]


def test_not_found_answer_shows_its_reason_and_nearest_passages_as_not_answering(make_app, read_home):
    at = ask(make_app(read_home).run(), Q_MISSING)
    reply, = assistant_messages(at)
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "not_found" and answer.reason and answer.nearest and not answer.quotes
    assert reply.avatar == ":material/search_off:"
    body = texts(reply)
    assert ":orange-badge[:material/search_off: 文档中没有找到答案]" in body
    assert ":green-badge[" not in body and ":blue-badge[" not in body  # nothing is cited as an answer
    # the reason, in a warning of its own
    warning, = reply.warning
    assert unescape(warning.value) == f"**文档中没有找到答案**：{answer.reason}"
    # what was searched
    assert "查找的内容：" + "、".join(f"「{t}」" for t in answer.looked_for) in unescape(body)
    # the nearest passages, labelled as not answering the question, never as its sources
    labels = [e.label for e in reply.expander]
    assert labels == [f"最接近的段落（{len(answer.nearest)}，并不回答这个问题）"]
    nearest, = reply.expander
    assert "不是" in nearest.caption[0].value and "答案" in nearest.caption[0].value
    entries = [m.value for m in nearest.markdown]
    assert len(entries) == len(answer.nearest)
    for n, (q, entry) in enumerate(zip(answer.nearest, entries), 1):
        assert entry.startswith(f":gray-badge[{n}] **《")  # not a citation chip
        assert f":gray-background[**{one_line(q.text)}**]" in unescape(entry)
        assert ":yellow-background[" not in entry


def test_unknown_zone_is_not_found(make_app, read_home):
    at = ask(make_app(read_home).run(), "苏州工业园区2020年营业收入是多少?")
    reply, = assistant_messages(at)
    assert reply.avatar == ":material/search_off:"
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "not_found" and "苏州工业园区" in answer.reason
    shown = unescape(texts(reply))
    assert answer.reason in shown
    for note in answer.notes:  # "现有园区：…": shown as the assistant's note
        assert one_line(note.text) in shown


def test_filters_limit_the_answer_to_a_zone_and_year(make_app, read_home, corpus_home):
    at = make_app(read_home).run()
    zone = at.sidebar.selectbox(key="f_zone")
    assert "常德经开区" in zone.options and "长治高新区" in zone.options
    zone.set_value("常德经开区").run()
    assert "问答范围：1 / 5 篇文档" in texts(at.sidebar)
    ask(at, "地区生产总值是多少?")
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "answer" and {q.zone for q in answer.quotes} == {"常德经开区"}
    assert ":material/filter_alt: 常德经开区" in texts(assistant_messages(at)[-1])
    # a year with no document of that zone: nothing to answer from
    at.sidebar.selectbox(key="f_zone").set_value("全部园区").run()
    year = at.sidebar.selectbox(key="f_year")
    assert "2018年" in year.options
    year.set_value(2018).run()
    n_2018 = sum(1 for m in corpus_home.documents().values() if int(m.get("year") or 0) == 2018)
    assert f"问答范围：{n_2018} / 5 篇文档" in texts(at.sidebar)
    ask(at, "营业收入是多少?")
    answer = at.session_state["messages"][-1]["answer"]
    docs = corpus_home.documents()
    assert all(int(docs[q.doc]["year"]) == 2018 for q in answer.quotes + answer.nearest)


def test_new_conversation_clears_the_history(make_app, read_home):
    at = ask(make_app(read_home).run(), Q_FACT)
    assert len(at.chat_message) == 2
    at.sidebar.button(key="new_chat").click().run()
    assert not at.exception
    assert len(at.chat_message) == 0
    assert at.session_state["messages"] == []
    assert [b for b in at.button if b.key and b.key.startswith("starter_")]  # the welcome is back
    ask(at, Q_MISSING)  # the next question starts a new history
    assert len(at.session_state["messages"]) == 2 and len(at.chat_message) == 2


def test_export_is_the_conversation_as_markdown(make_app, read_home):
    at = make_app(read_home).run()
    assert at.sidebar.get("download_button")[0].proto.disabled  # nothing to export yet
    ask(at, Q_FACT)
    ask(at, Q_MISSING)
    button = at.sidebar.get("download_button")[0]
    assert not button.proto.disabled
    assert button.proto.label == "导出"
    exported = at.session_state["export_md"]
    assert exported.startswith("# 园区助手 · 对话记录")
    assert "## 问 1\n\n" + Q_FACT in exported and "## 问 2\n\n" + Q_MISSING in exported
    assert "### 答 1" in exported and "### 答 2（文档中没有找到答案）" in exported
    assert "358.26" in exported and "**出处**" in exported
    assert "000_bd134bdf4e19f00a.txt 第" in exported  # citations with file and offsets


def test_summary_and_comparison_actions(make_app, read_home):
    at = make_app(read_home).run()
    doc = at.sidebar.selectbox(key="sum_doc")
    doc.set_value("000_bd134bdf4e19f00a.txt").run()
    at.sidebar.button(key="summarize").click().run()
    assert not at.exception
    assert unescape(user_messages(at)[-1].markdown[0].value) == "总结一下长治高新区那篇讲话"
    reply = assistant_messages(at)[-1]
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "summary" and answer.extras.get("doc") == "000_bd134bdf4e19f00a.txt"
    body = texts(reply)
    shown = unescape(body)
    assert f"总结 · {len(answer.quotes)} 处原文引用" in body and CHANGZHI_TITLE in shown
    # the structure numbered, each part's heading, key points and sentences, with their chips (one document:
    # no zone in the chips)
    assert answer.items and answer.sections
    for i, q in enumerate(answer.items, 1):
        assert f"{i}. {quoted(answer, q, zone=False)}" in shown
    for sec in answer.sections:
        if sec.heading:
            assert f"**{one_line(sec.heading)}**" in shown
        for q in sec.points + sec.quotes:
            assert quoted(answer, q, zone=False) in shown
    # the key figures table: sortable (st.dataframe), quotes as text with their [n]
    assert answer.tables
    frames = [d.value for d in reply.dataframe]
    for table in answer.tables:
        frame = next(f for f in frames if list(f.columns) == [table.label] + table.columns)
        assert list(frame[table.label]) == [name for name, _ in table.rows]
        for (name, cells), (_, row) in zip(table.rows, frame.iterrows()):
            for column, cell in zip(table.columns, cells):
                if cell.quotes:
                    assert row[column] == " ／ ".join(f"「{q.text}」[{answer.number(q)}]" for q in cell.quotes)
                else:
                    assert row[column] == cell.value
    assert f"来源（{len(answer.quotes)}）" in [e.label for e in reply.expander]

    at.sidebar.multiselect(key="cmp_zones").set_value(["长治高新区", "常德经开区"]).run()
    at.sidebar.selectbox(key="cmp_aspect").set_value("主导产业").run()
    at.sidebar.button(key="compare").click().run()
    assert not at.exception
    assert unescape(user_messages(at)[-1].markdown[0].value) == "长治高新区和常德经开区的主导产业有什么不同?"
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "comparison", answer.text
    reply = assistant_messages(at)[-1]
    assert f"对比 · {len(answer.quotes)} 处原文引用" in texts(reply)
    # the comparison table: a table element, one column per zone, each cell its quotes with their chips
    table, = [t for t in answer.tables if t.label == "方面"]
    element = reply.table[0].value
    assert list(element.columns) == ["方面", "长治高新区", "常德经开区"]
    for (name, cells), (_, row) in zip(table.rows, element.iterrows()):
        assert unescape(row["方面"]) == name
        for zone, cell in zip(table.columns, cells):
            for q in cell.quotes:
                assert quoted(answer, q, zone=False) in unescape(row[zone])
            if not cell.quotes:
                assert unescape(row[zone]) == cell.value
    assert any(c.quotes for _, cells in table.rows for c in cells)
    assert f"来源（{len(answer.quotes)}）" in [e.label for e in reply.expander]


def test_comparison_answer_renders_its_table_notes_and_sources(make_app, read_home, corpus_home):
    """A comparison Answer, built here from its parts, shown from them: the table element (cells of quotes with
    their chips, or plain values, document text escaped), the warning, the observations and the sources."""
    from assistant.answer import Answer, Cell, Note, Quote, Table

    docs = corpus_home.documents()

    def quote(doc: str, needle: str) -> Quote:
        start = corpus_home.store.document_text(doc).index(needle)
        m = docs[doc]
        return Quote(needle, doc, m["title"], m["zone"], "", start, start + len(needle), m.get("speaker", ""),
                     str(m.get("date", "")))

    question = "长治高新区和常德经开区的经济指标有什么不同?"
    ans = Answer("comparison", query=question, title="长治高新区、常德经开区")
    a = ans.cite(quote("000_bd134bdf4e19f00a.txt", "营业收入358.26亿元"))
    b = ans.cite(quote("002_e3c827dfd055a908.txt", "全年完成地区生产总值143亿元"))
    ans.tables.append(Table("", ["长治高新区", "常德经开区"], label="方面", rows=[
        ("经济指标", [Cell([a]), Cell([b])]),
        ("年份", [Cell(value="2018"), Cell(value="<img src=x onerror=alert(1)>")]),
    ]))
    ans.notes += [Note("注意：各文件年份和类型不同，对比时请考虑时间差异。", "warning"),
                  Note("共同点（各方引文都出现的词）：亿元", "point")]
    at = make_app(read_home)
    at.session_state["messages"] = [
        {"role": "user", "content": question},
        {"role": "assistant", "content": ans.text, "answer": ans, "filters": {}, "question": question}]
    at.run()
    assert not at.exception, at.exception
    reply, = assistant_messages(at)
    assert ":green-badge[:material/check_circle: 对比 · 2 处原文引用]" in texts(reply)
    assert "**对比**：长治高新区、常德经开区" in texts(reply)
    element, = reply.table
    frame = element.value
    assert list(frame.columns) == ["方面", "长治高新区", "常德经开区"]
    assert list(frame["方面"]) == ["经济指标", "年份"]
    assert unescape(frame["长治高新区"][0]) == "「营业收入358.26亿元」 :blue-badge[1]"
    assert unescape(frame["常德经开区"][0]) == "「全年完成地区生产总值143亿元」 :blue-badge[2]"
    assert frame["长治高新区"][1] == "2018"
    assert frame["常德经开区"][1] == "&lt;img src\\=x onerror\\=alert\\(1\\)&gt;"  # text, never HTML
    info, = reply.info
    assert "各文件年份和类型不同" in unescape(info.value)
    assert "- 共同点（各方引文都出现的词）：亿元" in unescape(texts(reply))
    sources, = reply.expander
    assert sources.label == "来源（2）"
    assert [unescape(m.value).split("**")[0] for m in sources.markdown] == [":blue-badge[1] ", ":blue-badge[2] "]
    assert not [c for c in captions(reply) if "检索" in c]


def test_list_answer_is_rendered_as_a_list(make_app, read_home):
    at = ask(make_app(read_home).run(), "长治高新区有哪些主导产业?")
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "answer" and len(answer.items) >= 2
    body = unescape(texts(assistant_messages(at)[-1]))
    numbered = "\n".join(f"{i}. {quoted(answer, q)}" for i, q in enumerate(answer.items, 1))
    assert numbered in body, body
    assert all(q.zone == "长治高新区" for q in answer.items)


def test_answer_mode_shows_no_llm_when_none_is_configured(make_app, read_home):
    at = make_app(read_home).run()
    mode = at.sidebar.radio(key="mode")
    assert mode.options == ["抽取式（只引用原文）"]
    assert "未配置 LLM" in texts(at.sidebar)


def test_llm_mode_streams_a_verified_answer_and_names_the_model(make_app, read_home):
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from llm_server import ScriptedLLM

    from assistant.llm import SOURCES_BEGIN

    def reply(body: dict) -> str:
        human = next(m["content"] for m in body["messages"] if m["role"] == "user")
        block = human[human.index(SOURCES_BEGIN):]
        heads = [(int(m.group(1)), m.start()) for m in re.finditer(r"^\[(\d+)\] 标题：", block, re.M)]
        for (n, start), (_, end) in zip(heads, heads[1:] + [(0, len(block))]):
            if "营业收入358.26亿元" in block[start:end]:
                return f"2017年,「全区入区企业达到2954家、营业收入358.26亿元」[{n}]。"
        return "文档中没有找到答案。"

    with ScriptedLLM() as server:
        at = make_app(read_home, ASSISTANT_LLM="openai:test-model", OPENAI_BASE_URL=server.base_url,
                      OPENAI_API_KEY="sk-test-app").run()
        mode = at.sidebar.radio(key="mode")
        assert mode.options == ["抽取式（只引用原文）", "LLM · openai:test-model"]
        assert mode.value == "llm"  # configured: the default
        server.push(reply=reply)
        ask(at, Q_FACT)
        # one streamed request: the verified Answer comes from the same stream, the model is not asked twice
        assert [r["body"].get("stream") for r in server.requests] == [True]
        answer = at.session_state["messages"][-1]["answer"]
        assert answer.kind == "answer" and answer.extras.get("model") == "openai:test-model", answer.text
        assert answer.prose and answer.quotes
        reply = assistant_messages(at)[-1]
        body = texts(reply)
        assert ":violet-badge[LLM · openai\\:test\\-model]" in body
        # the model's verified wording, its [n] as the quotes' chips; the streamed text is gone
        shown = unescape(body)
        assert "358.26" in shown and "**回答**" not in body
        assert not re.search(r"(?<!badge)\[\d+\]", shown)  # every [n] is a chip
        first = answer.quotes[0]
        assert f" :blue-badge[1 · {first.zone}]" in shown and one_line(first.text) in shown
        assert [e.label for e in reply.expander] == [f"来源（{len(answer.quotes)}）"]
        sent = len(server.requests)
        at.sidebar.radio(key="mode").set_value("extractive").run()
        ask(at, Q_FACT)
        assert len(server.requests) == sent  # extractive: the model is not asked
        assert ":gray-badge[抽取式]" in texts(assistant_messages(at)[-1])
