"""Curator tools through AppTest: the document reader (from a citation, a source, a retrieval-test passage, the
documents table), the 命中测试 tab, metadata editing, enable / disable and the lexicon panel.

Reading and retrieval tests run on the session's read-only corpus; the ones that change the store on a fresh
home of their own."""

from __future__ import annotations

import html
import re

from apphelpers import NEW_DOC, assistant_messages, ask, captions, sidebar_table, texts, unescape

Q_FACT = "长治高新区2017年营业收入是多少?"
Q_FOLLOW = "那税收收入呢?"
NEW_Q = "青山高新区2023年营业收入是多少?"
NEW_NAME = "青山_讲话.txt"


# ------------------------------------------------------------------------------------------ helpers


def reader_html(at) -> str:
    """The reader's document (the st.html holding the <mark>), or "" when the reader is closed."""
    bodies = [h.proto.body for h in at.get("html") if 'class="zone-reader"' in h.proto.body]
    assert len(bodies) <= 1
    return bodies[0] if bodies else ""


def reader(at):
    """The reader dialog's block (a child of the page's root, beside main and sidebar)."""
    found = [b for b in at._tree.children.values()
             if b.type not in ("main", "sidebar") and any('class="zone-reader"' in h.proto.body for h in b.get("html"))]
    assert len(found) == 1, found
    return found[0]


def reader_scripts(at) -> list:
    return [h.proto for h in at.get("html") if h.proto.unsafe_allow_javascript]


def current_mark(page_html: str) -> str:
    found = re.search(r'<mark id="zone-reader-hit"[^>]*>(.*?)</mark>', page_html, re.S)
    return html.unescape(found.group(1)) if found else ""


def shown_text(page_html: str) -> str:
    """The document text the reader shows: its tags removed, its entities undone."""
    return html.unescape(re.sub(r"<[^>]+>", "", page_html))


def open_tab(at, name: str):
    """Switch the page's tabs (only the open tab is drawn)."""
    at.session_state["view"] = name
    at.run()
    assert not at.exception, at.exception
    return at


def click(at, key: str):
    at.button(key=key).click().run()
    assert not at.exception, at.exception
    return at


def submit(at, label: str):
    button, = [b for b in at.button if b.label == label]
    button.click().run()
    assert not at.exception, at.exception
    return at


def lexicon_table(at):
    frames = [d.value for d in at.dataframe if list(d.value.columns) == ["词", "类型", "同义词 / 别名"]]
    assert len(frames) == 1
    return frames[0]


def started(make_app, home):
    at = make_app(home).run()
    assert not at.exception, at.exception
    return at


def upload_new_doc(at):
    at.sidebar.file_uploader[0].set_value([("青山 讲话.txt", NEW_DOC.encode("utf-8"), "text/plain")]).run()
    at.sidebar.button(key="ingest").click().run()
    assert not at.exception, at.exception
    return at


# ------------------------------------------------------------------------------------------ the reader


def test_a_citation_opens_the_document_with_the_quote_highlighted(make_app, read_home, corpus_home):
    at = ask(make_app(read_home).run(), Q_FACT)
    answer = at.session_state["messages"][-1]["answer"]
    reply, = assistant_messages(at)
    chips = [b for b in reply.button if b.key and b.key.startswith("cite_1_")]
    assert [b.label for b in chips] == [f"{i} · {q.zone}".replace(".", "\\.") if q.zone else str(i)
                                        for i, q in enumerate(answer.quotes, 1)]
    assert reader_html(at) == ""  # closed until a citation is clicked
    click(at, "cite_1_0")
    q = answer.quotes[0]
    page = reader_html(at)
    assert current_mark(page) == q.text  # the quoted span, highlighted
    full = corpus_home.store.document_text(q.doc)
    assert shown_text(page) == full  # the whole document, nothing else
    assert page.count('id="zone-reader-hit"') == 1
    script, = reader_scripts(at)  # the one script: scroll the highlighted span into view
    assert "zone-reader-hit" in script.body and "scrollIntoView" in script.body and q.doc not in script.body
    shown = unescape(texts(reader(at)))
    assert q.title in shown and f"第{q.start}–{q.end}字" in shown and q.zone in shown
    # previous / next citation, when the answer cites more than one passage
    if len(answer.quotes) > 1:
        assert at.button(key="reader_prev").disabled and not at.button(key="reader_next").disabled
        assert f"第 1 / {len(answer.quotes)} 处" in unescape(texts(reader(at)))
        click(at, "reader_next")
        assert current_mark(reader_html(at)) == answer.quotes[1].text
        assert f"第 2 / {len(answer.quotes)} 处" in unescape(texts(reader(at)))
        click(at, "reader_prev")
        assert current_mark(reader_html(at)) == q.text
    # the 来源 entries open it too
    click(at, "src_1_0")
    assert current_mark(reader_html(at)) == q.text


def test_the_documents_table_opens_a_whole_document(make_app, read_home, corpus_home):
    at = make_app(read_home).run()
    table = at.sidebar.dataframe[0]
    names = sorted(corpus_home.documents())
    at.session_state[table.key] = {"selection": {"rows": [2], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, at.exception
    page = reader_html(at)
    assert shown_text(page) == corpus_home.store.document_text(names[2])
    assert "<mark" not in page and not reader_scripts(at)  # a whole document: nothing to highlight
    # and from the 文档管理 tab
    at2 = open_tab(make_app(read_home).run(), "文档管理")
    at2.selectbox(key="meta_doc").set_value(names[1]).run()
    click(at2, "read_doc")
    assert shown_text(reader_html(at2)) == corpus_home.store.document_text(names[1])


def test_the_reader_shows_document_markup_as_text(make_app, fresh_home):
    at = upload_new_doc(started(make_app, fresh_home))
    ask(at, NEW_Q)
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "answer" and answer.quotes[0].doc == NEW_NAME
    click(at, "cite_1_0")
    page = reader_html(at)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script" not in page
    assert "&lt;img src=x onerror=alert(2)&gt;" in page and "<img" not in page
    assert "123.45" in current_mark(page)


# ------------------------------------------------------------------------------------------ 命中测试


def test_hit_test_tab_shows_passages_with_three_scores_scope_and_tokens(make_app, read_home, corpus_home):
    at = make_app(read_home).run()
    assert [t.label for t in at.tabs] == ["对话", "命中测试", "文档管理"]
    assert not at.get("text_input") and not at.data_editor  # only the open tab (对话) is drawn
    open_tab(at, "命中测试")
    at.text_input(key="hit_query").set_value("长治高新区2017年营业收入")
    submit(at, "检索")
    result = at.session_state["hit_result"]
    assert result.hits and result.tokens
    tab = at.tabs[1]
    shown = unescape(texts(tab))
    scores = re.findall(r"(关键词|向量|融合) (\d\.\d\d|—)", shown)
    assert len(scores) == 3 * len(result.hits)
    assert all(0 <= float(v) <= 1 for _, v in scores if v != "—")
    assert "检索范围" in shown and "长治高新区" in shown
    assert "检索词" in shown and all(t in shown for t in result.tokens)
    first = result.hits[0]
    assert first.zone == "长治高新区" and f"#{first.rank}" in shown
    # a passage opens in the reader
    click(at, "hit_read_0")
    page = reader_html(at)
    assert current_mark(page) == first.text
    assert shown_text(page) == corpus_home.store.document_text(first.doc)
    # the tab keeps its query and results when the user goes to another tab and back
    open_tab(open_tab(at, "对话"), "命中测试")
    assert at.text_input(key="hit_query").value == "长治高新区2017年营业收入"
    assert f"#{first.rank}" in unescape(texts(at.tabs[1]))
    # filters: another zone
    at.selectbox(key="hit_zone").set_value("常德经开区")
    submit(at, "检索")
    assert {h.zone for h in at.session_state["hit_result"].hits} == {"常德经开区"}


def test_a_rewritten_follow_up_shows_the_query_searched_and_opens_it_in_the_hit_test(make_app, read_home):
    at = ask(ask(make_app(read_home).run(), Q_FACT), Q_FOLLOW)
    answer = at.session_state["messages"][-1]["answer"]
    reply = assistant_messages(at)[-1]
    searched = [c for c in captions(reply) if "检索" in c]
    assert searched and f"按「{answer.query}」检索" in unescape(searched[0])
    assert "税收收入" in answer.query and "长治" in answer.query
    click(at, "hit_from_3")
    assert at.session_state["view"] == "命中测试"
    assert at.session_state["hit_result"].query == answer.query
    assert at.text_input(key="hit_query").value == answer.query


# ------------------------------------------------------------------------------------------ 文档管理


def test_metadata_edit_shows_in_the_documents_list_and_is_kept(make_app, fresh_home):
    at = open_tab(upload_new_doc(started(make_app, fresh_home)), "文档管理")
    at.selectbox(key="meta_doc").set_value(NEW_NAME).run()
    rnd = at.session_state["meta_round"] if "meta_round" in at.session_state else 0
    at.text_input(key=f"meta_zone_{rnd}_{NEW_NAME}").set_value("翠湖高新区")
    at.text_input(key=f"meta_year_{rnd}_{NEW_NAME}").set_value("2023")
    submit(at, "保存修改")
    assert "已保存" in texts(at.main)
    table = sidebar_table(at)
    assert "翠湖高新区" in set(table["园区"]) and "青山高新区" not in set(table["园区"])
    assert "翠湖高新区" in at.selectbox(key="f_zone").options  # the sidebar filter reads it at once
    # a bad value is refused with the library's message, nothing changed
    rnd = at.session_state["meta_round"]
    at.text_input(key=f"meta_year_{rnd}_{NEW_NAME}").set_value("二〇二三")
    submit(at, "保存修改")
    assert "保存失败" in texts(at.main) and "年份" in texts(at.main)
    # a new process on the same store sees the correction
    again = started(make_app, fresh_home)
    assert "翠湖高新区" in set(sidebar_table(again)["园区"])


def test_disabling_a_document_stops_its_quotes_and_enabling_brings_them_back(make_app, fresh_home):
    at = upload_new_doc(started(make_app, fresh_home))
    ask(at, NEW_Q)
    assert at.session_state["messages"][-1]["answer"].quotes[0].doc == NEW_NAME
    open_tab(at, "文档管理")
    at.selectbox(key="meta_doc").set_value(NEW_NAME).run()
    rnd = at.session_state["meta_round"] if "meta_round" in at.session_state else 0
    toggle = at.toggle(key=f"enabled_{rnd}_{NEW_NAME}")
    assert toggle.value is True
    toggle.set_value(False).run()
    assert not at.exception, at.exception
    assert "已停用" in texts(at.main)
    table = sidebar_table(at)
    row = table[table["标题"] == "在青山高新区2024年工作会议上的讲话"]
    assert list(row["启用"]) == [False]
    assert "1 篇已停用" in texts(at.sidebar)
    rnd = at.session_state["meta_round"]
    assert at.toggle(key=f"enabled_{rnd}_{NEW_NAME}").value is False
    ask(open_tab(at, "对话"), NEW_Q)
    answer = at.session_state["messages"][-1]["answer"]
    assert all(q.doc != NEW_NAME for q in answer.quotes + answer.nearest), answer.text
    assert "123.45" not in texts(assistant_messages(at)[-1])
    # enabled again: quoted again (the tab keeps the document chosen)
    open_tab(at, "文档管理")
    assert at.selectbox(key="meta_doc").value == NEW_NAME
    at.toggle(key=f"enabled_{rnd}_{NEW_NAME}").set_value(True).run()
    ask(open_tab(at, "对话"), NEW_Q)
    assert at.session_state["messages"][-1]["answer"].quotes[0].doc == NEW_NAME


def test_the_documents_table_edits_toggle_and_metadata(make_app, fresh_home):
    at = open_tab(upload_new_doc(started(make_app, fresh_home)), "文档管理")
    editor, = at.data_editor
    frame = editor.value
    row = list(frame["文件"]).index(NEW_NAME)
    at.session_state[editor.key] = {"edited_rows": {row: {"启用": False, "讲话人": "李某某"}},
                                    "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, at.exception
    frame = at.data_editor[0].value
    assert list(frame.loc[frame["文件"] == NEW_NAME, "启用"]) == [False]
    assert list(frame.loc[frame["文件"] == NEW_NAME, "讲话人"]) == ["李某某"]
    assert "李某某" in set(sidebar_table(at)["讲话人"])


def test_lexicon_panel_adds_lists_and_removes_entries(make_app, fresh_home):
    at = open_tab(started(make_app, fresh_home), "文档管理")
    assert "用户词表是空的" in texts(at.main)
    at.text_input(key="lex_word").set_value("营收")
    at.text_input(key="lex_syns").set_value("营业收入、收入规模")
    submit(at, "添加")
    assert "已添加同义词" in texts(at.main)
    table = lexicon_table(at)
    assert list(table["词"]) == ["营收"] and list(table["同义词 / 别名"]) == ["营业收入、收入规模"]
    # a zone alias
    at.text_input(key="lex_word").set_value("老区")
    at.text_input(key="lex_syns").set_value("长治高新区")
    at.selectbox(key="lex_kind").set_value("zone")
    submit(at, "添加")
    table = lexicon_table(at)
    assert set(zip(table["词"], table["类型"])) == {("营收", "同义词"), ("老区", "园区别名")}
    # a bad entry: the library's message
    at.text_input(key="lex_word").set_value("产值")
    at.text_input(key="lex_syns").set_value("产值")
    submit(at, "添加")
    assert "添加失败" in texts(at.main)
    # removed
    at.selectbox(key="lex_remove").set_value("营收")
    click(at, "lex_remove_button")
    assert list(lexicon_table(at)["词"]) == ["老区"]
