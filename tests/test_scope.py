"""Scope is a soft signal, never a wall: a zone named in a question narrows to the documents whose metadata,
file name or title names it; failing that, to those whose text names it; failing that, the search runs over
everything and the answer says which zone it could not find. Explicit filters stay hard. Documents written
for these tests, ingested into a real Chroma store."""

from __future__ import annotations

import pytest

from assistant.errors import QueryError
from library_kit import library_with

FILES = {
    # the zone only in the file name: the text says 我区 / 全区 / 开发区
    "宜兴经开区2021年半年工作会议讲话.txt":
        "在半年工作会议上的讲话\n同志们：\n今年上半年，全区实现营业收入126.4亿元，同比增长15.2%；我区新引进亿元以上项目"
        "18个。下半年，开发区要坚持项目为王，抓好招商引资和企业服务，确保完成全年目标。\n"
        "一、抓项目。全年新开工亿元以上项目30个。\n二、优服务。企业开办时间压缩至1个工作日。",
    # no zone of its own anywhere; its text names 樟树经开区 once, deep inside
    "会议材料.txt":
        "关于产业链招商的几点体会\n"
        "一、坚持链式招商。围绕主导产业的上下游，绘制产业链图谱，梳理缺失环节，开展精准招商，全年引进配套企业12家。\n"
        "二、坚持以商招商。发挥龙头企业作用，通过龙头企业引进上下游合作伙伴，形成集聚效应。\n"
        "三、学习先进经验。樟树经开区推行“链长制”，全年新签约中医药项目26个，值得我们学习借鉴。",
    "丰城高新区2022年工作要点.txt":
        "丰城高新区2022年工作要点\n2022年，丰城高新区力争实现营业收入300亿元，增长12%以上。\n"
        "一、做强主导产业。聚焦新能源、新材料两大主导产业，全年新引进亿元以上项目25个。\n"
        "二、优化营商环境。深化“放管服”改革，推行“拿地即开工”。",
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory, shared_cache):
    return library_with(tmp_path_factory, shared_cache, FILES, "scope")


def test_zone_only_in_the_file_name(bot):
    meta = bot.documents()["宜兴经开区2021年半年工作会议讲话.txt"]
    assert meta["zone"] == "宜兴经开区"
    _, scope = bot.retriever.select_docs("宜兴经开区上半年营业收入是多少?")
    assert scope.docs == ["宜兴经开区2021年半年工作会议讲话.txt"] and scope.via == "metadata"
    hits = bot.search("宜兴经开区上半年营业收入是多少?", k=3)
    assert hits and all(h.doc == "宜兴经开区2021年半年工作会议讲话.txt" for h in hits)
    ans = bot.ask("宜兴经开区上半年营业收入是多少?")
    assert "126.4亿元" in ans.text


def test_zone_only_in_a_documents_text(bot):
    assert "zone" not in bot.documents()["会议材料.txt"]  # empty metadata: the document is never dropped for it
    _, scope = bot.retriever.select_docs("樟树经开区新签约了多少个中医药项目?")
    assert scope.docs == ["会议材料.txt"] and scope.via == "text"
    assert scope.unknown_zones == []
    hits = bot.search("樟树经开区新签约了多少个中医药项目?", k=3)
    assert hits[0].doc == "会议材料.txt" and "26个" in hits[0].text


def test_zone_nowhere_searches_everything_and_says_which_zone(bot):
    _, scope = bot.retriever.select_docs("天津高新区2016年一共新签约落地了多少个项目?")
    assert scope.docs == [] and scope.unknown_zones == ["天津高新区"]
    assert len(bot.search("天津高新区2016年一共新签约落地了多少个项目?", k=10)) > 3  # over every document
    ans = bot.ask("天津高新区2016年一共新签约落地了多少个项目?")
    assert ans.kind == "not_found"
    assert "天津高新区" in ans.text
    assert ans.nearest  # what it found nearest, shown as such


def test_loose_place_name_and_traditional_question(bot):
    _, scope = bot.retriever.select_docs("丰城那个高新区今年营收目标多少?")
    assert scope.docs == ["丰城高新区2022年工作要点.txt"]
    hits = bot.search("豐城高新區2022年營業收入目標", k=3)  # a question typed in traditional characters
    assert hits[0].doc == "丰城高新区2022年工作要点.txt" and "300亿元" in hits[0].text


def test_explicit_zone_filter_stays_hard(bot):
    with pytest.raises(QueryError):
        bot.search("营业收入", zone="天津高新区")
    hits = bot.search("营业收入", zone="丰城高新区", k=5)
    assert hits and {h.doc for h in hits} == {"丰城高新区2022年工作要点.txt"}
