"""The app in a real browser: `streamlit run app.py` on a free local port, Debian's chromium via Playwright.

Skipped (with the reason) when /usr/bin/chromium or Playwright is missing. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import pytest

from browserkit import CHAT_INPUT, CHROMIUM, MESSAGE, ask, chromium, open_app, streamlit_server, wait_idle
from apphelpers import ARTIFACTS, NEW_DOC

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the "
                    "browser tests")
    pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed: pip install -e '.[test]'")
    with chromium() as b:
        yield b


def test_question_in_the_browser_shows_quote_and_source(browser, corpus_home, tmp_path):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    home = corpus_home.settings.home  # already ingested; the app only reads it
    with streamlit_server(home, tmp_path / "streamlit.log", ASSISTANT_AUTO_INGEST="0") as (url, _):
        page, _ = open_app(browser, url)
        errors = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.get_by_text("可以从这些问题开始").wait_for()  # the welcome and its starter questions
        page.locator("button", has_text="问答：").wait_for()
        ask(page, "长治高新区2017年营业收入是多少?")
        wait_idle(page)
        answer = page.locator(MESSAGE).last
        text = answer.inner_text()
        assert "「营业收入358.26亿元」" in text or "358.26亿元" in text, text
        assert "1 · 长治高新区" in text  # the citation chip
        assert "处原文引用" in text
        answer.get_by_text("来源（").click()  # open the sources
        source = answer.locator('[data-testid="stExpander"]').first
        source.get_by_text("实施六大战略 加速二次创业").first.wait_for(state="visible")
        shown = source.inner_text()
        assert "长治高新区 · 张志刚 · 2018-04-23" in shown
        assert "章节：一、客观总结成绩" in shown and "000_bd134bdf4e19f00a.txt 第" in shown
        assert source.locator("strong", has_text="358.26").first.is_visible()  # the highlighted span
        page.screenshot(path=str(ARTIFACTS / "browser-answer.png"))
        # a second browser session on the same server, asking at the same time as the first one's follow-up
        other, _ = open_app(browser, url)
        other.get_by_text("可以从这些问题开始").wait_for()
        page.locator(CHAT_INPUT).fill("那税收收入呢?")
        other.locator(CHAT_INPUT).fill("常德经开区2020年地区生产总值是多少?")
        page.locator(CHAT_INPUT).press("Enter")
        other.locator(CHAT_INPUT).press("Enter")
        for p, n in ((page, 4), (other, 2)):
            p.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n && "
                                "document.querySelectorAll(sel)[n - 1].innerText.includes('来源（')",
                                arg=[MESSAGE, n], timeout=30_000)
            wait_idle(p)
        follow_up = page.locator(MESSAGE).last.inner_text()
        assert "26.45" in follow_up  # the follow-up used this session's history
        assert "按「长治高新区2017年税收收入是多少" in follow_up and "」检索" in follow_up  # the query searched
        assert "143亿元" in other.locator(MESSAGE).last.inner_text()
        assert page.locator(MESSAGE).count() == 4 and other.locator(MESSAGE).count() == 2  # separate histories
        assert page.locator(CHAT_INPUT).is_enabled()
        # a comparison from the sidebar shortcut: a real table, one column per zone, quotes with their chips
        sidebar = page.locator('[data-testid="stSidebar"]')
        sidebar.get_by_text("快捷操作：总结 / 对比").click()
        sidebar.locator(".st-key-compare button").click()
        page.wait_for_function("([sel, n]) => document.querySelectorAll(sel).length >= n && "
                               "document.querySelectorAll(sel)[n - 1].innerText.includes('来源（')",
                               arg=[MESSAGE, 6], timeout=60_000)
        wait_idle(page)
        reply = page.locator(MESSAGE).last
        table = reply.locator('table[data-testid="stTableStyledTable"]')
        table.locator("thead th").first.wait_for(state="visible")
        assert table.count() == 1, reply.inner_html()[:3000]
        headers = [h.strip() for h in table.locator("thead th").all_inner_texts()]
        zones = sorted({m["zone"] for m in corpus_home.documents().values() if m.get("zone")})
        assert headers == ["方面"] + zones[:2], headers  # the shortcut's default: the first two zones
        assert table.locator("td .stMarkdownBadge").count() >= 1  # the citation chips, rendered as badges
        assert "「" in table.inner_text()
        page.screenshot(path=str(ARTIFACTS / "browser-comparison.png"), full_page=True)
        assert not errors, errors


def test_upload_in_the_browser_and_markup_stays_text(browser, tmp_path, corpus_home):
    """A fresh, empty store: upload a document through the real file input, then ask about it. Its <script>
    and <img onerror> are shown as text: no dialog, no img element, no request to the image's URL."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    doc = tmp_path / "青山 讲话.txt"
    doc.write_text(NEW_DOC, "utf-8")
    with streamlit_server(tmp_path / "home", tmp_path / "streamlit.log", ASSISTANT_AUTO_INGEST="0") as (url, _):
        page, _ = open_app(browser, url)
        dialogs, requests = [], []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        page.on("request", lambda r: requests.append(r.url))
        page.get_by_text("文档库是空的").wait_for()
        page.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(doc))
        page.get_by_role("button", name="导入 1 个文件").click()
        page.get_by_text("上次导入：1 个成功").wait_for(timeout=60_000)
        wait_idle(page)
        assert "青山_讲话.txt" in page.locator('[data-testid="stSidebar"]').inner_text()
        ask(page, "青山高新区新增了多少家高新技术企业?")
        ask(page, "青山高新区2023年营业收入是多少?")
        wait_idle(page)
        for message in page.locator(MESSAGE).all()[1::2]:
            message.get_by_text("来源（").click()
        page.wait_for_timeout(300)
        chat = page.locator('[data-testid="stMainBlockContainer"]').inner_text().replace("\u200b", "")
        assert "<img src=x onerror=alert(2)>" in chat
        assert "<script>alert(1)</script>" in chat
        assert "![追踪](http://127.0.0.1:9/p.png)" in chat
        main = "[data-testid='stMainBlockContainer']"
        assert page.locator(f"{main} img[onerror], {main} img[src='x']").count() == 0
        assert page.locator(f"{main} script").count() == 0
        assert page.locator(f"{main} a[href*='127.0.0.1']").count() == 0  # no link
        assert not dialogs and not [u for u in requests if "127.0.0.1:9" in u]
        page.screenshot(path=str(ARTIFACTS / "browser-upload.png"))


def test_three_tabs_one_uploading_while_two_ask(browser, tmp_path, corpus_home, shared_cache):
    """Several sessions on one app process (one shared Assistant): while one tab imports a document, two others
    ask about the bundled corpus. Every tab gets its own answer, none shows an error, and the new document is
    answerable from a tab that did not upload it."""
    import shutil

    home = tmp_path / "home"
    shutil.copytree(corpus_home.settings.home, home)  # a writable copy of the ingested bundled corpus
    doc = tmp_path / "青山 讲话.txt"
    doc.write_text(NEW_DOC, "utf-8")
    with streamlit_server(home, tmp_path / "streamlit.log", ASSISTANT_AUTO_INGEST="0",
                          ASSISTANT_CACHE_DIR=str(shared_cache)) as (url, _):
        tabs = [open_app(browser, url)[0] for _ in range(3)]
        errors = []
        for tab in tabs:
            tab.on("pageerror", lambda exc: errors.append(str(exc)))
        uploader, first, second = tabs
        uploader.locator('[data-testid="stSidebar"]').get_by_text("上传文档").click()  # folded when documents exist
        uploader.locator('[data-testid="stFileUploaderDropzoneInput"]').set_input_files(str(doc))
        first.locator(CHAT_INPUT).fill("长治高新区2017年营业收入是多少?")
        second.locator(CHAT_INPUT).fill("常德经开区2020年地区生产总值是多少?")
        uploader.get_by_role("button", name="导入 1 个文件").click()
        first.locator(CHAT_INPUT).press("Enter")
        second.locator(CHAT_INPUT).press("Enter")
        for tab in (first, second):
            tab.wait_for_function("([sel]) => document.querySelectorAll(sel).length >= 2 && "
                                  "document.querySelectorAll(sel)[1].innerText.includes('来源（')",
                                  arg=[MESSAGE], timeout=60_000)
        uploader.get_by_text("上次导入：1 个成功").wait_for(timeout=120_000)
        assert "358.26" in first.locator(MESSAGE).last.inner_text()
        assert "143亿元" in second.locator(MESSAGE).last.inner_text()
        ask(second, "青山高新区新增了多少家高新技术企业?", timeout_ms=60_000)
        assert "36家" in second.locator(MESSAGE).last.inner_text()
        for tab in tabs:
            wait_idle(tab)
            text = tab.locator('[data-testid="stMainBlockContainer"]').inner_text()
            assert "Traceback" not in text and "Error" not in text, text[:500]
            assert tab.locator('[data-testid="stException"]').count() == 0
        assert not errors, errors
