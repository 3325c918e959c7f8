"""Retrieval on the session corpus: the dev-set floor, loose document names, filters, the LangChain interface."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document

from assistant.errors import QueryError
from assistant.evaluate import score_retrieval
from assistant.retrieval import HybridRetriever, resolve_scope

D000 = "000_bd134bdf4e19f00a.txt"
D001 = "001_86a68042849f8c0b.txt"
D002 = "002_e3c827dfd055a908.txt"
D003 = "003_944198d32a153964.txt"
D004 = "004_8f875c1b6a79fb69.txt"


@pytest.fixture(scope="module")
def bot(corpus_home):
    return corpus_home


# ------------------------------------------------------------------------------------ the floor


def test_retrieval_floor_on_dev_set(bot, dev_items):
    result = score_retrieval(dev_items, lambda q: bot.retriever.search(q, k=10), bot.documents())
    summary = result["summary"]
    misses = [(r["id"], r["rank"], r["question"]) for r in result["items"] if not r["rank"] or r["rank"] > 5]
    assert summary["items"] >= 40
    assert summary["hit@5"] >= 0.95, (summary, misses)
    assert summary["mrr@10"] >= 0.80, (summary, misses)
    for row in result["items"]:
        assert all(len(p["text"]) <= 400 for p in row["passages"])


def test_all_passages_within_limit(bot):
    _, texts, metas = bot.store.active_passages()
    assert len(texts) >= 150
    assert max(len(t) for t in texts) <= 400
    assert {m["doc"] for m in metas} == {D000, D001, D002, D003, D004}


def test_hits_are_exact_slices_of_the_clean_text(bot):
    hits = bot.search("长治高新区2017年营业收入是多少?", k=5)
    assert hits and hits[0].doc == D000
    assert "营业收入358.26亿元" in hits[0].text
    for h in hits:
        assert bot.store.document_text(h.doc)[h.start:h.end] == h.text
    scores = [h.score for h in hits]
    assert scores == sorted(scores, reverse=True)


# ------------------------------------------------------------------------------------ loose names


@pytest.mark.parametrize("mention, doc", [
    ("长治", D000),
    ("常德那边", D002),
    ("甘肃那个高新区", D001),
    ("务虚会那篇", D004),
    ("张志刚那篇讲话", D000),
    ("长沙经济技术开发区", D003),
    ("李育智讲了什么", D002),
    ("×高新区", D001),
    ("x高新区", D001),
    ("XX区的短板", D004),
])
def test_resolve_scope_loose_names(bot, mention, doc):
    scope = resolve_scope(mention, bot.documents())
    assert scope.docs == [doc], scope
    assert not scope.unknown_zones


def test_resolve_scope_unknown_zone(bot):
    scope = resolve_scope("苏州工业园区", bot.documents())
    assert scope.docs == []
    assert scope.unknown_zones == ["苏州工业园区"]
    scope = resolve_scope("苏州工业园区2020年的GDP是多少?", bot.documents())
    assert scope.unknown_zones == ["苏州工业园区"]


def test_resolve_scope_comparison_keeps_order(bot):
    scope = resolve_scope("常德经开区和长治高新区的营业收入比一比", bot.documents())
    assert scope.docs == [D002, D000]
    assert scope.zones == ["常德经开区", "长治高新区"]


def test_resolve_scope_province_picks_both(bot):
    scope = resolve_scope("湖南的两个经开区", bot.documents())
    assert set(scope.docs) == {D002, D003}


def test_question_naming_a_zone_is_narrowed_to_it(bot):
    hits = bot.search("常德那边的主导产业是什么?", k=8)
    assert hits and {h.doc for h in hits} == {D002}


# ------------------------------------------------------------------------------------ filters


def test_zone_filter(bot):
    hits = bot.search("营业收入增长目标", k=8, zone="常德经开区")
    assert hits and {h.doc for h in hits} == {D002}
    hits = bot.search("营业收入增长目标", k=8, zone="长治")  # a loose name works as a filter too
    assert hits and {h.doc for h in hits} == {D000}


def test_zone_filter_wins_over_the_zone_named_in_the_question(bot):
    hits = bot.search("长治高新区的营业收入", k=5, zone="长沙经开区")
    assert hits and {h.doc for h in hits} == {D003}


def test_doc_filter(bot):
    hits = bot.search("招商引资", k=8, doc=D004)
    assert hits and {h.doc for h in hits} == {D004}


def test_year_filter(bot):
    hits = bot.search("高质量发展", k=10, year=2021)
    assert hits and {h.doc for h in hits} <= {D001, D002}
    hits = bot.search("高质量发展", k=10, year=2018)
    assert hits and {h.doc for h in hits} <= {D000, D004}
    assert bot.search("高质量发展", k=10, year=1999) == []


def test_filters_combine(bot):
    hits = bot.search("高质量发展", k=10, zone="常德经开区", year=2021)
    assert hits and {h.doc for h in hits} == {D002}
    assert bot.search("高质量发展", k=10, zone="常德经开区", year=2018) == []


def test_unknown_zone_filter(bot):
    with pytest.raises(QueryError, match="苏州"):
        bot.search("营业收入", zone="苏州")


def test_unknown_doc_filter(bot):
    with pytest.raises(QueryError, match="nope.txt"):
        bot.search("营业收入", doc="nope.txt")


# ------------------------------------------------------------------------------------ bad queries


@pytest.mark.parametrize("query", ["", "   ", "\n\t"])
def test_empty_query(bot, query):
    with pytest.raises(QueryError):
        bot.search(query)


def test_overlong_query(bot):
    with pytest.raises(QueryError, match="太长"):
        bot.search("园区" * 5000)


@pytest.mark.parametrize("k", [-3, -1])
def test_negative_k_is_refused(bot, k):
    """k < 1 makes no sense; today `hits[:k]` with k=-3 returns every candidate but three (~40 hits)."""
    with pytest.raises(QueryError):
        bot.search("营业收入", k=k)


def test_query_without_known_words_returns_list(bot):
    hits = bot.search("zzzz qqqq", k=3)
    assert isinstance(hits, list) and len(hits) <= 3


# ------------------------------------------------------------------------------------ LangChain


def test_langchain_retriever_invoke(bot):
    assert isinstance(bot.retriever, HybridRetriever)
    docs = bot.retriever.invoke("长沙经开区重点要做强哪几条产业链?")
    assert 0 < len(docs) <= bot.settings.top_k
    for d in docs:
        assert isinstance(d, Document)
        for key in ("doc", "section", "start", "end"):
            assert key in d.metadata, d.metadata
        text = bot.store.document_text(d.metadata["doc"])
        assert text[d.metadata["start"]:d.metadata["end"]] == d.page_content
    assert docs[0].metadata["doc"] == D003


def test_langchain_retriever_with_preset_filters(bot):
    retriever = HybridRetriever(store=bot.store, k=3, zone="长治高新区")
    docs = retriever.invoke("主导产业")
    assert docs and len(docs) <= 3
    assert {d.metadata["doc"] for d in docs} == {D000}


def test_langchain_retriever_batch(bot):
    out = bot.retriever.batch(["常德经开区2020年规模工业产值", "务虚会那篇讲的产业短板"])
    assert len(out) == 2
    assert out[0][0].metadata["doc"] == D002
    assert out[1][0].metadata["doc"] == D004
