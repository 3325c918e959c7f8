"""LLM prose over extractive selections: summary map-reduce and comparison notes, quotes verified.

Against the real scripted OpenAI-compatible server in tests/llm_server.py.
"""

import re

import pytest

from assistant.bot import Assistant
from assistant.llm import SOURCES_BEGIN, SOURCES_END, llm_prose, reset_models, shift_citations
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from llm_server import ScriptedLLM  # noqa: E402

_SOURCE = re.compile(r"^\[(\d+)\] 标题：[^\n]*\n正文：\n(.*?)(?=\n---\n\[\d+\] 标题：|\n" + re.escape(SOURCES_END) + ")",
                     re.S | re.M)


def first_source(body: dict) -> str:
    human = next(m["content"] for m in body["messages"] if m["role"] == "user")
    sources = dict(_SOURCE.findall(human[human.index(SOURCES_BEGIN):]))
    return sources["1"].strip()


def quoting_first(body: dict) -> str:
    return f"这一部分强调：「{first_source(body)[:40]}」[1]。"


def assert_plain(prose: str) -> None:
    """LLM prose as stored in an Answer: plain text citing [n], no Markdown marks (render.py writes those)."""
    assert "**" not in prose and "`" not in prose
    assert not re.search(r"(?m)^\s*(#{1,6}\s|>|[-*+]\s)", prose), prose
    assert not re.search(r"\]\(|<[A-Za-z/]", prose), prose


def cited(ans) -> list[int]:
    """The citation numbers in an answer's prose, each of which must name one of its quotes."""
    numbers = [int(n) for n in re.findall(r"\[(\d+)\]", ans.prose)]
    assert all(1 <= n <= len(ans.quotes) for n in numbers), (numbers, len(ans.quotes))
    return numbers


@pytest.fixture(scope="module")
def server():
    with ScriptedLLM() as s:
        yield s


@pytest.fixture
def bot(settings_factory, server, monkeypatch, bundled):
    monkeypatch.setenv("OPENAI_BASE_URL", server.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-prose-test")
    reset_models()
    server.reset()
    a = Assistant(settings_factory("prose", auto_ingest=False, llm="openai:test-model", llm_timeout=3))
    names = ["002_e3c827dfd055a908.txt", "001_86a68042849f8c0b.txt"]
    from assistant.loading import bundled_manifest

    assert a.store.ingest([bundled[n] for n in names], overrides=bundled_manifest()).ok
    return a


def test_summary_map_reduce_with_verified_quotes(bot, server):
    for _ in range(12):
        server.push(reply=quoting_first)
    ans = bot.summarize("002_e3c827dfd055a908.txt", "medium")
    parts = len(ans.extras["outline"])
    assert len(server.requests) >= parts + 1  # one request per part (map) and one overview (reduce)
    assert ans.prose.startswith("总体（LLM 撰写，引文已核对）：")
    assert_plain(ans.prose)
    assert cited(ans) and min(cited(ans)) > len(ans.quotes) - len(set(cited(ans)))  # after the extractive quotes
    for q in ans.quotes:
        assert bot.store.document_text(q.doc)[q.start:q.end] == q.text
    assert "sk-prose-test" not in ans.text


def test_summary_fabricated_quote_removed(bot, server):
    server.push(reply="要点是「园区去年营业收入达到九千亿元」[1]。")
    for _ in range(12):
        server.push(reply=quoting_first)
    ans = bot.summarize("002_e3c827dfd055a908.txt", "medium")
    assert "九千亿元" not in ans.prose and "九千亿元" not in ans.text
    assert all("九千亿元" not in q.text for q in ans.quotes)
    assert "unverified_quote_removed" in ans.flags


def test_summary_falls_back_when_endpoint_fails(bot, server):
    for _ in range(12):
        server.push(status=500)
    ans = bot.summarize("002_e3c827dfd055a908.txt", "short")
    assert ans.kind == "summary" and "llm_error" in ans.flags
    assert ans.prose == "" and ans.quotes
    assert any("LLM 摘要不可用" in n.text for n in ans.notes if n.kind == "llm")


def test_comparison_prose_verified(bot, server):
    server.push(reply=lambda body: f"两者都重视产业：「{first_source(body)[:30]}」[1]；而「这是编造的引文内容」[2]。")
    ans = bot.ask("甘肃×高新区和常德经开区的三大主导产业分别是什么?")
    assert ans.kind == "comparison"
    assert ans.prose.startswith("两者都重视产业：「") and "〔已删除一处无法核对的引文〕" in ans.prose
    assert_plain(ans.prose)
    cited(ans)
    assert "LLM 撰写，引文已核对" in ans.text  # the renderer labels the prose
    assert "这是编造的引文内容" not in ans.prose and "这是编造的引文内容" not in ans.text
    assert "unverified_quote_removed" in ans.flags
    for q in ans.quotes:
        assert bot.store.document_text(q.doc)[q.start:q.end] == q.text


def test_comparison_falls_back_on_error(bot, server):
    server.push(status=500)
    ans = bot.ask("甘肃×高新区和常德经开区的三大主导产业分别是什么?")
    assert ans.kind == "comparison" and "llm_error" in ans.flags
    assert ans.prose == "" and ans.tables and ans.tables[0].label == "方面"
    assert any("LLM 说明不可用" in n.text for n in ans.notes if n.kind == "llm")


def test_llm_prose_is_plain_text_with_verified_quotes(bot, server):
    """llm_prose (summaries, comparisons): Markdown the model writes is stripped, its words and quotes kept."""
    from assistant.answering import Composer, _prepare

    comp = Composer(bot, _prepare(bot, "常德经开区的主导产业", []), {})
    hits = comp.retrieve(k=3)
    quotes = [comp.quote(h.doc, h.start, h.end, h.section) for h in hits]
    server.push(reply=lambda body: f"## 要点\n> **「{first_source(body)[:30]}」[1]**\n- 另见[链接](http://127.0.0.1:9/)")
    checked = llm_prose(comp, quotes, "概括")
    assert checked is not None and len(checked.quotes) == 1
    assert_plain(checked.text)
    assert checked.text.startswith("要点\n「") and checked.text.endswith("[1]\n另见链接")
    assert bot.store.document_text(checked.quotes[0].doc)[checked.quotes[0].start:checked.quotes[0].end] \
        == checked.quotes[0].text
    assert shift_citations(checked.text, 4).count("[5]") == 1
    server.push(status=500)
    assert llm_prose(comp, quotes, "概括") is None
