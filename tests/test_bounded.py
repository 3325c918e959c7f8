"""A question over "all the zones" of a large library is bounded: a comparison compares at most
Settings.max_compare documents (the most relevant) and says so; "which documents mention X" reads the documents
the search finds for X. Documents written for the test, a real store."""

from __future__ import annotations

import pytest

from assistant.bot import Assistant
from library_kit import library_with

ZONES = ["青禾经开区", "梧桐高新区", "石门经开区", "松溪高新区", "白沙经开区"]
INDUSTRIES = ["新材料和高端装备", "电子信息和生物医药", "绿色食品和新能源", "现代纺织和智能家居", "光伏和储能"]


@pytest.fixture(scope="module")
def bot(tmp_path_factory, shared_cache):
    files = {}
    for i, (zone, industry) in enumerate(zip(ZONES, INDUSTRIES)):
        talent = "今年要建设人才公寓500套。" if i in (1, 3) else "今年要办好企业服务中心。"
        files[f"{zone}2023年工作要点.txt"] = (
            f"{zone}2023年工作要点\n一、产业发展\n{zone}的主导产业是{industry}，全年新引进项目{10 + i}个。\n"
            f"二、民生保障\n{talent}")
    small = library_with(tmp_path_factory, shared_cache, files, "bounded")
    return Assistant(small.settings.with_(max_compare=3))


def test_comparison_over_more_documents_than_the_bound_says_so(bot):
    ans = bot.ask("这些园区的主导产业分别是什么，有什么不同？")
    assert ans.kind == "comparison"
    compared = {q.doc for q in ans.quotes}
    assert 0 < len(compared) <= 3
    assert any(n.kind == "warning" and "最多对比3份" in n.text for n in ans.notes)


def test_comparison_within_the_bound_has_no_note(bot):
    ans = bot.ask("青禾经开区和梧桐高新区的主导产业有什么不同？")
    assert ans.kind == "comparison"
    assert not any("最多对比" in n.text for n in ans.notes)


def test_mentions_answer_every_document_that_says_it(bot):
    ans = bot.ask("哪几个园区的材料提到要建人才公寓？")
    assert {q.doc for q in ans.quotes} == {f"{ZONES[1]}2023年工作要点.txt", f"{ZONES[3]}2023年工作要点.txt"}


def test_mentions_in_a_large_library_read_what_the_search_finds(bot, monkeypatch):
    import assistant.compare as compare

    monkeypatch.setattr(compare, "_READ_ALL", 2)  # as if the library were large: search first, then read
    ans = bot.ask("哪几个园区的材料提到要建人才公寓？")
    assert {q.doc for q in ans.quotes} == {f"{ZONES[1]}2023年工作要点.txt", f"{ZONES[3]}2023年工作要点.txt"}
    searched = ans.extras["mentions"]["docs"] + ans.extras["mentions"]["not_mentioned"]
    assert len(searched) <= 5 and all(f"{ZONES[i]}2023年工作要点.txt" in searched for i in (1, 3))
