"""The chat, driven through AppTest on the session's read-only bundled corpus."""

from __future__ import annotations

import re

from apphelpers import assistant_messages, ask, texts, unescape, user_messages

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
    body = texts(reply)
    assert ":green-badge[" in body and "处原文引用" in body and ":gray-badge[抽取式]" in body
    assert "358.26" in unescape(body)
    assert re.search(r"「[^」]*358\\\.26[^」]*」 :blue-badge\[1 · 长治高新区\]", body), body  # quote + chip
    assert "**出处**" not in body  # the sources are in the expander, not in the text
    sources, = [e for e in reply.expander if e.label.startswith("来源")]
    src = texts(sources)
    # title, zone, speaker, date, section path, file and offsets, the span highlighted in its context
    assert CHANGZHI_TITLE in src
    assert "长治高新区 · 张志刚 · 2018\\-04\\-23" in src
    assert "章节：一、客观总结成绩" in src and "000\\_bd134bdf4e19f00a\\.txt 第" in src
    highlight = re.search(r"(.)\:yellow-background\[\*\*(.+?)\*\*\](.)", src)
    assert highlight and "358\\.26" in highlight.group(2)
    assert highlight.group(1).strip() and highlight.group(3).strip()  # surrounding text on both sides
    # the Answer and the history
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "answer" and answer.quotes
    assert sources.label == f"来源（{len(answer.quotes)}）"


def test_follow_up_uses_the_conversation(make_app, read_home):
    at = make_app(read_home).run()
    ask(at, Q_FACT)
    ask(at, Q_FOLLOW)
    assert len(user_messages(at)) == 2 and len(assistant_messages(at)) == 2
    second = assistant_messages(at)[1]
    body = unescape(texts(second))
    assert "税收收入" in body and "26.45" in body
    answer = at.session_state["messages"][-1]["answer"]
    assert {q.zone for q in answer.quotes} == {"长治高新区"}
    # the first turn is still shown, rendered from the history
    assert "358.26" in unescape(texts(assistant_messages(at)[0]))


def test_not_found_answer_looks_different(make_app, read_home):
    at = ask(make_app(read_home).run(), Q_MISSING)
    reply, = assistant_messages(at)
    assert reply.avatar == ":material/search_off:"
    body = texts(reply)
    assert ":orange-badge[:material/search_off: 文档中没有找到答案]" in body
    assert ":green-badge[" not in body
    assert "文档中没有找到答案" in body and "进出口总额" in body
    labels = [e.label for e in reply.expander]
    assert labels and labels[0].startswith("最接近的段落") and "并不回答这个问题" in labels[0]
    assert not any(label.startswith("来源") for label in labels)
    assert at.session_state["messages"][-1]["answer"].kind == "not_found"


def test_unknown_zone_is_not_found(make_app, read_home):
    at = ask(make_app(read_home).run(), "苏州工业园区2020年营业收入是多少?")
    reply, = assistant_messages(at)
    assert reply.avatar == ":material/search_off:"
    assert "苏州工业园区" in unescape(texts(reply))


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
    assert "总结 · " in texts(reply) and CHANGZHI_TITLE in texts(reply)
    if answer.extras.get("figures"):
        assert reply.dataframe and "指标" in reply.dataframe[0].value.columns
    at.sidebar.multiselect(key="cmp_zones").set_value(["长治高新区", "常德经开区"]).run()
    at.sidebar.selectbox(key="cmp_aspect").set_value("主导产业").run()
    at.sidebar.button(key="compare").click().run()
    assert not at.exception
    assert unescape(user_messages(at)[-1].markdown[0].value) == "长治高新区和常德经开区的主导产业有什么不同?"
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "comparison"
    body = texts(assistant_messages(at)[-1])
    assert "| 方面 | 长治高新区 | 常德经开区 |" in body and ":blue-badge[" in body
    assert "&lt;br" not in body  # the library's <br> between two quotes of a cell is not shown as text


def test_list_answer_is_rendered_as_a_list(make_app, read_home):
    at = ask(make_app(read_home).run(), "长治高新区有哪些主导产业?")
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "answer" and len(answer.extras.get("items", [])) >= 2
    body = assistant_messages(at)[-1].markdown[1].value
    assert re.search(r"\n\n1\. 「.+」 :blue-badge\[\d+ · 长治高新区\]\n2\. 「", body), body


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
        assert server.requests and server.requests[-1]["body"].get("stream") is True
        answer = at.session_state["messages"][-1]["answer"]
        assert answer.kind == "answer" and answer.extras.get("model") == "openai:test-model", answer.text
        body = texts(assistant_messages(at)[-1])
        assert ":violet-badge[LLM · openai\\:test\\-model]" in body
        assert "358\\.26" in body and ":blue-badge[" in body
        sent = len(server.requests)
        at.sidebar.radio(key="mode").set_value("extractive").run()
        ask(at, Q_FACT)
        assert len(server.requests) == sent  # extractive: the model is not asked
        assert ":gray-badge[抽取式]" in texts(assistant_messages(at)[-1])
