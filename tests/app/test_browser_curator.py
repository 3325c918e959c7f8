"""Curator tools in a real browser (Debian's chromium via Playwright), one `streamlit run app.py` for the module
on a writable copy of the ingested bundled corpus: the reader (a citation opens the document, the quoted span
highlighted and scrolled into view), the 命中测试 tab, metadata editing, disable / enable and the lexicon panel.

Skipped (with the reason) when /usr/bin/chromium or Playwright is missing. Screenshots go to tests/artifacts/.
"""

from __future__ import annotations

import re
import shutil

import pytest
from playwright.sync_api import expect

from apphelpers import ARTIFACTS
from browserkit import CHAT_INPUT, CHROMIUM, MESSAGE, VIEWPORT, ask, chromium, open_app, streamlit_server, wait_idle

pytestmark = pytest.mark.browser

Q_FACT = "长治高新区2017年营业收入是多少?"
Q_SYNONYM = "长治高新区2017年进项是多少?"
CHANGZHI = "000_bd134bdf4e19f00a.txt"
MAIN = '[data-testid="stMainBlockContainer"]'
SIDEBAR = '[data-testid="stSidebar"]'


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the "
                    "browser tests")
    pytest.importorskip("playwright.sync_api", reason="playwright (python) is not installed: pip install -e '.[test]'")
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def url(corpus_home, shared_cache, tmp_path_factory):
    """One app server for the module, on a writable copy of the ingested bundled corpus."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    tmp = tmp_path_factory.mktemp("curator-browser")
    home = tmp / "home"
    shutil.copytree(corpus_home.settings.home, home)
    with streamlit_server(home, tmp / "streamlit.log", ASSISTANT_AUTO_INGEST="0",
                          ASSISTANT_CACHE_DIR=str(shared_cache)) as (address, _):
        yield address


@pytest.fixture
def page(browser, url):
    page, _ = open_app(browser, url)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    page.close()
    assert not errors, errors


# ------------------------------------------------------------------------------------------ helpers


def tab(page, name: str) -> None:
    """Switch tabs and wait for the run it starts: the chat input is shown in the 对话 tab only."""
    page.get_by_role("tab", name=name).click()
    page.locator(CHAT_INPUT).wait_for(state="visible" if name == "对话" else "detached")
    wait_idle(page)


def choose(page, key: str, text: str) -> None:
    """Pick the option holding `text` in the selectbox with this key."""
    page.locator(f".st-key-{key} [role='combobox']").locator("visible=true").first.click()
    page.get_by_role("option").filter(has_text=text).first.click()
    wait_idle(page)


def alert(page, text: str):
    found = page.locator(f'{MAIN} [data-testid="stAlert"]').filter(has_text=text)
    found.first.wait_for(state="visible", timeout=30_000)
    wait_idle(page)
    return found.first.inner_text()


def mark_geometry(page) -> dict:
    """The highlighted span and the reader's document box, as the browser lays them out now."""
    return page.evaluate("""() => {
        const m = document.getElementById('zone-reader-hit');
        const box = m.closest('.zone-reader');
        const r = m.getBoundingClientRect(), b = box.getBoundingClientRect();
        return {top: r.top, bottom: r.bottom, boxTop: b.top, boxBottom: b.bottom, scrolled: box.scrollTop,
                text: m.innerText, hits: document.querySelectorAll('#zone-reader-hit').length};
    }""")


def assert_highlight_in_view(page, text: str | None = None, scrolled: bool = False) -> dict:
    """The current highlighted span is visible: Playwright's is_visible, its box inside the viewport, and its
    top inside the reader's scrolled document box."""
    mark = page.get_by_role("dialog").locator("mark#zone-reader-hit")
    mark.wait_for(state="visible")
    if text is not None:
        page.wait_for_function("(t) => { const m = document.getElementById('zone-reader-hit'); "
                               "return m && m.innerText === t; }", arg=text)
    page.wait_for_function("""() => {  // the reader's scroll script has run on this document box
        const m = document.getElementById('zone-reader-hit');
        return m && m.closest('.zone-reader').getAttribute('data-scrolled') === 'true';
    }""", timeout=10_000)
    assert mark.is_visible()
    box = mark.bounding_box()
    assert box is not None
    assert 0 <= box["x"] and box["x"] < VIEWPORT["width"], box
    assert 0 <= box["y"] and box["y"] + min(box["height"], 60) <= VIEWPORT["height"], box
    geo = mark_geometry(page)
    assert geo["hits"] == 1 and geo["boxTop"] <= geo["top"] < geo["boxBottom"], geo
    if scrolled:
        assert geo["scrolled"] > 0, geo  # the document box really scrolled to reach the span
    return geo


def close_reader(page) -> None:
    page.get_by_role("dialog").get_by_role("button", name="Close").click()
    page.get_by_role("dialog").wait_for(state="detached")
    wait_idle(page)


# ------------------------------------------------------------------------------------------ tests


def test_a_citation_opens_the_document_with_the_span_highlighted_and_scrolled_into_view(page):
    ask(page, Q_FACT)
    wait_idle(page)
    answer = page.locator(MESSAGE).last
    cites = answer.locator("[class*='st-key-cite_'] button").locator("visible=true")
    labels = cites.all_inner_texts()
    assert labels[0] == "1 · 长治高新区" and len(labels) >= 2, labels
    cites.first.click()
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    geo = assert_highlight_in_view(page, scrolled=True)
    assert "358.26亿元" in geo["text"]
    shown = dialog.inner_text()
    assert "实施六大战略 加速二次创业" in shown and "长治高新区 · 张志刚 · 2018-04-23" in shown
    assert f"第 1 / {len(labels)} 处" in shown
    page.screenshot(path=str(ARTIFACTS / "browser-reader.png"))
    # the next citation: another span, highlighted and in view
    dialog.get_by_role("button", name="下一处").click()
    page.wait_for_function("() => document.getElementById('zone-reader-hit') && "
                           "document.getElementById('zone-reader-hit').innerText.includes('2954家')")
    assert_highlight_in_view(page)
    assert f"第 2 / {len(labels)} 处" in dialog.inner_text()
    dialog.get_by_role("button", name="上一处").click()
    page.wait_for_function("() => document.getElementById('zone-reader-hit').innerText === '营业收入358.26亿元'")
    close_reader(page)
    # a 来源 entry opens it too
    answer.get_by_text("来源（").click()
    answer.get_by_role("button", name="在原文中查看").first.click()
    assert "358.26" in assert_highlight_in_view(page)["text"]
    close_reader(page)


def test_hit_test_tab_shows_ranked_passages_with_three_scores(page):
    # from the chat: a rewritten follow-up shows the query searched, and opens it in the 命中测试 tab
    ask(page, Q_FACT)
    ask(page, "那税收收入呢?")
    wait_idle(page)
    reply = page.locator(MESSAGE).last
    assert "按「长治高新区2017年税收收入是多少」检索" in reply.inner_text()
    reply.get_by_role("button", name="命中测试").click()
    page.locator(CHAT_INPUT).wait_for(state="detached")  # the tab switched
    wait_idle(page)
    assert page.get_by_role("tab", name="命中测试").get_attribute("aria-selected") == "true"
    # the tab's input is filled by the rerun the button started: wait for it (bounded) rather than read it once
    expect(page.get_by_label("检索内容")).to_have_value("长治高新区2017年税收收入是多少", timeout=15_000)
    page.locator(f"{MAIN} [class*='st-key-hit_card_0']").locator("visible=true").wait_for()
    # a query of one's own
    page.get_by_label("检索内容").fill("长治高新区2017年营业收入")
    page.get_by_role("button", name="检索").click()
    page.wait_for_function("(sel) => document.querySelector(sel).innerText.includes('「长治高新区2017年营业收入」')",
                           arg=MAIN)
    wait_idle(page)
    cards = page.locator(f"{MAIN} [class*='st-key-hit_card_']").locator("visible=true")
    texts = cards.all_inner_texts()
    assert len(texts) == 8, len(texts)
    for i, text in enumerate(texts, 1):
        assert text.startswith(f"#{i} "), text[:40]
        scores = re.findall(r"(关键词|向量|融合) (\d\.\d\d|—)", text)
        assert [s for s, _ in scores] == ["关键词", "向量", "融合"], text[:300]
        assert all(0 <= float(v) <= 1 for _, v in scores if v != "—")
    panel = page.locator(MAIN).inner_text()
    assert "检索范围：园区 长治高新区" in panel and "检索词：" in panel
    assert "营业收入" in panel.split("检索词：", 1)[1][:80]
    page.set_viewport_size({"width": VIEWPORT["width"], "height": 1150})  # the tab, its scope and two passages
    page.get_by_role("tab", name="命中测试").evaluate("e => e.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / "browser-hit-test.png"))
    page.set_viewport_size(VIEWPORT)
    # the last passage in the reader, highlighted and in view
    last = cards.nth(len(texts) - 1)
    last.get_by_role("button", name="在原文中查看").click()
    page.get_by_role("dialog").wait_for()
    geo = assert_highlight_in_view(page)
    assert geo["text"].replace("\n", "")[:20] in texts[-1].replace("\n", "").replace(" ", "")
    assert f"第 {len(texts)} / {len(texts)} 处" in page.get_by_role("dialog").inner_text()
    close_reader(page)


def test_documents_tab_edits_metadata_disables_and_adds_a_synonym(page):
    sidebar = page.locator(SIDEBAR)
    ask(page, Q_SYNONYM)  # a word for 营业收入 the lexicons do not know yet
    assert "没有找到答案" in page.locator(MESSAGE).last.inner_text()
    tab(page, "文档管理")
    # metadata: the XX区 speech outline becomes 翠湖高新区
    choose(page, "meta_doc", "XX区")
    form = page.locator(f'{MAIN} [data-testid="stForm"]').filter(has_text="保存修改")
    zone = form.get_by_label("园区", exact=True)
    page.wait_for_function("() => [...document.querySelectorAll('[data-testid=stForm] input[data-testid=stTextInputField][aria-label=园区]')]"
                           ".map(e => e.value).join() === 'XX区'")  # the form of the document chosen, alone
    zone.fill("翠湖高新区")
    form.get_by_role("button", name="保存修改").click()
    assert "园区 → 翠湖高新区" in alert(page, "已保存")
    sidebar.locator(".st-key-f_zone [role='combobox']").click()  # the zone filter lists it at once
    assert page.get_by_role("option", name="翠湖高新区").count() == 1
    page.keyboard.press("Escape")
    # the sidebar's documents list: its row (the 5th by file name) opens the reader, which shows the new zone
    table = sidebar.locator('[data-testid="stDataFrame"]').first
    box = table.bounding_box()
    page.mouse.click(box["x"] + 16, box["y"] + 35 * 5 + 17)  # the row's selection cell
    dialog = page.get_by_role("dialog")
    dialog.wait_for()
    assert "《凝心聚力抓产业 推动XX在更高层次上实现更好发展》" in dialog.inner_text()
    assert "翠湖高新区" in dialog.inner_text() and "004_8f875c1b6a79fb69.txt" in dialog.inner_text()
    dialog.locator(".zone-reader").wait_for(state="visible")  # the whole document, nothing highlighted
    assert dialog.locator("mark").count() == 0
    close_reader(page)
    # disable the 长治 speech with its toggle: the question is no longer answered from it
    choose(page, "meta_doc", "长治高新区")
    page.locator(MAIN).get_by_text("启用（参与检索和引用）").click()
    alert(page, "已停用")
    assert "1 篇已停用" in sidebar.inner_text()
    page.screenshot(path=str(ARTIFACTS / "browser-documents.png"))
    tab(page, "对话")
    ask(page, Q_FACT)
    wait_idle(page)
    reply = page.locator(MESSAGE).last.inner_text()
    assert "358.26" not in reply and "1 · 长治高新区" not in reply, reply[:500]
    # enabled again from the documents table's 启用 checkbox (a click in the grid's first column)
    tab(page, "文档管理")
    grid = page.locator(f'{MAIN} [data-testid="stDataFrame"]').locator("visible=true").first
    grid.wait_for()
    box = grid.bounding_box()
    page.mouse.click(box["x"] + 37, box["y"] + 35 + 17)  # row 1 (sorted by file: the 长治 speech), 启用
    alert(page, "已启用")
    sidebar.get_by_text("1 篇已停用", exact=False).wait_for(state="detached")
    # the lexicon panel: add a synonym, it is listed
    page.get_by_label("词", exact=True).fill("进项")
    page.get_by_label("同义词 / 别名（用、或逗号分隔）").fill("营业收入")
    page.get_by_role("button", name="添加").click()
    assert "进项 → 营业收入" in alert(page, "已添加同义词")
    page.locator(MAIN).get_by_text("（用户词表是空的）").wait_for(state="detached")  # a table now
    page.locator(".st-key-lex_remove [role='combobox']").click()  # listed
    assert page.get_by_role("option", name="进项").count() == 1
    page.keyboard.press("Escape")
    # and the question declined before is answered now, nothing re-ingested
    tab(page, "对话")
    ask(page, Q_SYNONYM)
    assert "358.26" in page.locator(MESSAGE).last.inner_text()
