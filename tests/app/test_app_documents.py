"""First start, upload and removal through AppTest, each on its own fresh store (never the shared corpus)."""

from __future__ import annotations

from apphelpers import NEW_DOC, assistant_messages, ask, quoted, sidebar_table, texts, unescape

NEW_Q = "青山高新区2023年营业收入是多少?"


def started(make_app, home):
    """The app's first run on an empty home: the bundled corpus is ingested with progress."""
    at = make_app(home).run()
    assert not at.exception, at.exception
    return at


def upload(at, files):
    at.sidebar.file_uploader[0].set_value(files).run()
    assert not at.exception, at.exception
    button = at.sidebar.button(key="ingest")
    assert button.label == f"导入 {len(files)} 个文件"
    button.click().run()
    assert not at.exception, at.exception
    return at


def test_first_start_ingests_the_bundled_corpus_with_progress(make_app, fresh_home):
    at = started(make_app, fresh_home)
    status = [s for s in at.status if "内置" in s.label]
    assert status and status[0].label == "已导入 5 篇内置文档" and status[0].state == "complete"
    assert at.status[0].get("progress")  # the progress bar it showed
    table = sidebar_table(at)
    assert len(table) == 5 and list(table.columns) == ["园区", "标题", "讲话人", "日期", "段落", "启用"]
    assert set(table["园区"]) >= {"长治高新区", "常德经开区", "长沙经开区"}
    assert "5 篇文档" in texts(at.sidebar)
    # a later start opens the existing store: no ingest, no progress
    again = make_app(fresh_home).run()
    assert not [s for s in again.status if "内置" in s.label]
    assert len(sidebar_table(again)) == 5


def test_upload_reports_each_file_and_the_new_document_is_answerable(make_app, fresh_home):
    at = started(make_app, fresh_home)
    ask(at, NEW_Q)
    assert at.session_state["messages"][-1]["answer"].kind == "not_found"  # not yet
    upload(at, [("../../青山 讲话.txt", NEW_DOC.encode("utf-8"), "text/plain"),
                ("empty.txt", b"", "text/plain"),
                ("english.txt", b"no Chinese text here at all", "text/plain")])
    report, = [s for s in at.sidebar.status if s.label.startswith("上次导入")]
    assert report.label == "上次导入：1 个成功，2 个失败" and report.state == "error"
    lines = texts(report)
    assert ":green[:material/check_circle:] 青山\\_讲话\\.txt — 已新增，" in lines  # the sanitised name
    assert lines.count(":material/error:") == 2 and "empty\\.txt" in lines and "english\\.txt" in lines
    table = sidebar_table(at)
    assert len(table) == 6 and "青山高新区" in set(table["园区"])
    assert "在青山高新区2024年工作会议上的讲话" in set(table["标题"])
    assert not (fresh_home.parent.parent / "青山 讲话.txt").exists()
    assert at.sidebar.file_uploader[0].key != "uploader_0"  # a fresh, empty uploader
    # now answerable, with the quote and its source
    ask(at, NEW_Q)
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "answer", answer.text
    assert answer.quotes[0].doc == "青山_讲话.txt" and "123.45" in answer.quotes[0].text
    reply = assistant_messages(at)[-1]
    assert quoted(answer, answer.lead[0]) in unescape(texts(reply))  # 「…123.45亿元…」 [1 · 青山高新区]
    assert "123.45" in answer.lead[0].text and answer.lead[0].zone == "青山高新区"
    sources = [e for e in reply.expander if e.label.startswith("来源")][0]
    assert "在青山高新区2024年工作会议上的讲话" in texts(sources) and "王某某" in texts(sources)
    # the same file again is unchanged
    upload(at, [("青山 讲话.txt", NEW_DOC.encode("utf-8"), "text/plain")])
    assert ":material/do_not_disturb_on:] 青山\\_讲话\\.txt — 未变化" in texts(at.sidebar)
    assert len(sidebar_table(at)) == 6


def test_document_markup_is_shown_as_text_never_as_html(make_app, fresh_home):
    at = started(make_app, fresh_home)
    upload(at, [("markup.txt", NEW_DOC.encode("utf-8"), "text/plain")])
    ask(at, NEW_Q)
    ask(at, "青山高新区新增了多少家高新技术企业?")
    answers = [m["answer"] for m in at.session_state["messages"] if m.get("answer")]
    quoted = " ".join(q.text for a in answers for q in a.quotes)
    assert "<script>" in quoted and "<img src=x onerror=alert(2)>" in quoted  # the library quotes it verbatim
    shown = [el.value for el in at.main.markdown] + [el.value for el in at.sidebar.markdown]
    for value in shown:
        assert "<script" not in value and "<img" not in value, value
        assert "![" not in value and "](http" not in value, value  # no image or link markup
        assert "http://" not in value and "http\\://" not in value, value  # no bare URL that GFM would link
    everything = "\n".join(shown)
    assert "&lt;script&gt;alert\\(1\\)&lt;/script&gt;" in everything  # escaped: shown as text
    assert "&lt;img src\\=x onerror\\=alert\\(2\\)&gt;" in everything
    assert not any(getattr(el.proto, "allow_html", False) for el in at.main.markdown)


def test_removal_asks_for_confirmation(make_app, fresh_home):
    at = started(make_app, fresh_home)
    name = "002_e3c827dfd055a908.txt"
    at.sidebar.selectbox(key="remove_target").set_value(name).run()
    at.sidebar.button(key="remove").click().run()
    warning = texts(at.sidebar)
    assert "确定删除《开启新征程 夺取新胜利" in warning and "个段落" in warning
    at.sidebar.button(key="remove_cancel").click().run()  # cancelled: nothing removed
    assert len(sidebar_table(at)) == 5
    assert not [w for w in at.sidebar.warning if "确定删除" in w.value]
    at.sidebar.selectbox(key="remove_target").set_value(name).run()
    at.sidebar.button(key="remove").click().run()
    at.sidebar.button(key="remove_confirm").click().run()
    assert not at.exception, at.exception
    table = sidebar_table(at)
    assert len(table) == 4 and "常德经开区" not in set(table["园区"])
    assert "已删除《开启新征程" in texts(at.sidebar)
    assert "常德经开区" not in at.sidebar.selectbox(key="f_zone").options
    ask(at, "常德经开区2020年地区生产总值是多少?")
    answer = at.session_state["messages"][-1]["answer"]
    assert answer.kind == "not_found"
    assert all(q.doc != name for q in answer.quotes + answer.nearest)
