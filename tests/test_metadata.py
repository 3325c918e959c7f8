"""Metadata from every signal, in the stated order (manifest > file name > title block > body), on sentences
written for these tests: zone names as proper names, no fragments; year, kind, title and date."""

from __future__ import annotations

import pytest

from assistant.loading import load_document, parse_text
from assistant.metadata import (body_zone, file_stem, iso_date, is_dateline, normalize_zone, place_before,
                                year_in, zone_mentions)

BODY = ("2023年，全区上下围绕年度目标，全年实现营业收入215.6亿元，同比增长11.2%；新增高新技术企业23家。"
        "我们将继续抓项目、优环境、强创新，推动园区高质量发展。")


@pytest.mark.parametrize("text, zone", [
    ("国家级丰城高新区今年实现营业收入", "丰城高新区"),
    ("山西长治高新技术产业开发区管委会", "长治高新区"),
    ("宜兴经济技术开发区党工委", "宜兴经开区"),
    ("太和经济开发区招商局", "太和经开区"),
    ("长治市高新区管委会", "长治高新区"),
    ("苏州工业园区", "苏州工业园区"),
    ("×高新区", "×高新区"),
    ("XX开发区", "XX开发区"),
    ("某经开区", "某经开区"),
])
def test_zone_names_are_proper_names(text, zone):
    assert zone_mentions(text)[0][0] == zone


@pytest.mark.parametrize("text", [
    "2016年高新区实现营业收入12亿元",  # a year before 高新区: no "年高新区"
    "新时代开发区要有新作为",  # no "时代开发区"
    "全国高新区综合排名",
    "省级开发区扩区调区",
    "各类园区和开发区",
])
def test_no_fragment_is_a_zone(text):
    assert zone_mentions(text) == []


def test_long_forms_normalise_to_short_ones():
    assert normalize_zone("宜兴经济技术开发区") == "宜兴经开区"
    assert normalize_zone("丰城高新技术产业开发区") == "丰城高新区"
    assert normalize_zone("丰城高新区") == "丰城高新区"


def test_place_before_uses_the_gazetteer_and_skips_city_words():
    assert place_before("国家级长治") == "长治"
    assert place_before("2016年") == ""
    assert place_before("新时代") == ""


def test_file_name_beats_title_and_body():
    text = "关于推进产业发展的讲话\n" + BODY + "与昆山高新区、常熟高新区相比，我们差距明显。"
    doc = parse_text(text, "泗洪经开区2023年半年工作会议讲话.txt")
    assert doc.meta["zone"] == "泗洪经开区"
    assert doc.meta["year"] == 2023
    assert doc.meta["kind"] == "讲话"
    assert "zone:file name" in doc.meta["meta_sources"]


def test_title_beats_body_when_the_file_name_says_nothing():
    text = "丰城高新区2022年工作要点\n" + BODY + "学习借鉴宜春经开区的经验。学习借鉴宜春经开区的做法。"
    doc = parse_text(text, "download (3).txt")
    assert doc.meta["zone"] == "丰城高新区"
    assert doc.meta["kind"] == "工作要点"
    assert doc.meta["year"] == 2022
    assert doc.meta["title"] == "丰城高新区2022年工作要点"


def test_body_zone_is_the_one_the_opening_is_about_not_one_it_compares_with():
    text = ("在全区经济工作会议上的讲话\n同志们：\n过去一年，太和经开区经受住了考验，太和经开区营业收入增长12%。"
            + BODY * 3 + "对标芜湖经开区、合肥高新区、芜湖经开区，我们差距不小。")
    assert parse_text(text, "讲话.txt").meta["zone"] == "太和经开区"


def test_unknown_stays_unknown_and_docs_shows_the_file_name():
    text = "关于做好今年工作的几点意见\n" + BODY
    doc = parse_text(text, "会议材料.txt")
    assert "zone" not in doc.meta
    # a zone named once, deep in the body, is one the document mentions, not its own
    assert body_zone(BODY * 8 + "学习丰城高新区的经验。") == ""


def test_masked_zone_from_a_masked_title():
    doc = parse_text("在×高新区2021年工作会议上的讲话\n同志们：\n" + BODY.replace("全区", "我区"), "speech.txt")
    assert doc.meta["zone"] == "×高新区"


def test_manifest_overrides_everything(tmp_path):
    path = tmp_path / "泗洪经开区2023年工作报告.txt"
    path.write_text("丰城高新区2022年工作要点\n" + BODY, "utf-8")
    doc = load_document(path, {"zone": "宿迁经开区", "year": 2020, "kind": "讲话"})
    assert (doc.meta["zone"], doc.meta["year"], doc.meta["kind"]) == ("宿迁经开区", 2020, "讲话")


def test_news_headline_is_the_title_not_the_wire_line_or_the_breadcrumb():
    text = ("首页 > 新闻中心 > 园区动态\n"
            "丰城高新区召开2023年工作会议\n"
            "本网讯（记者 王晓丽）2月10日上午，丰城高新区2023年工作会议召开。会议总结2022年工作，部署2023年任务。"
            "会议指出，过去一年全区实现营业收入215.6亿元，同比增长11.2%。会议强调，要抓项目、优环境。")
    doc = parse_text(text, "news.txt")
    assert doc.meta["title"] == "丰城高新区召开2023年工作会议"
    assert doc.meta["kind"] == "新闻报道"
    assert doc.meta["zone"] == "丰城高新区"
    assert "首页" not in doc.text


def test_wire_line_first_is_no_title():
    text = ("大公网丰城17日电（大公报记者赵文博）丰城高新区17日召开2019年工作会议，会议总结了过去一年的工作。"
            "会议指出，全区实现营业收入88.2亿元，增长9.1%。会议强调，要坚持项目为王。")
    assert is_dateline(text)
    doc = parse_text(text, "丰城高新区2019年工作会议新闻.txt")
    assert doc.meta["title"] == "丰城高新区2019年工作会议新闻"
    assert doc.meta["kind"] == "新闻报道"


def test_html_page_title_gives_the_headline():
    text = ("丰城高新区召开2023年工作会议_园区动态_丰城高新技术产业开发区管理委员会\n"
            "首页\n走进高新\n新闻中心\n政务公开\n"
            "丰城高新区召开2023年工作会议\n" + BODY)
    doc = parse_text(text, "page.html")
    assert doc.meta["title"] == "丰城高新区召开2023年工作会议"
    assert "走进高新" not in doc.text and "_园区动态_" not in doc.text


def test_dates_and_years():
    assert iso_date("2021年2月4日") == "2021-02-04"
    assert iso_date("发布时间：2023-02-09 10:32") == "2023-02-09"
    assert iso_date("二〇二一年二月十四日") == "2021-02-14"
    assert iso_date("2021年1-9月经济运行情况") == ""  # a month range is no date
    assert year_in("2020年工作总结及2021年工作计划") == 2020
    assert year_in("“十四五”规划（2021-2025年）") == 2021
    assert year_in("泗开党发〔2022〕5号") is None


def test_speaker_after_a_role_line():
    text = "在丰城高新区2021年务虚会上的讲话\n党工委书记 周明轩\n（2021年12月17日）\n同志们：\n" + BODY
    doc = parse_text(text, "speech.txt")
    assert doc.meta["speaker"] == "周明轩"
    assert doc.meta["date"] == "2021-12-17"
    assert doc.meta["kind"] == "讲话"


def test_file_stem():
    assert file_stem("青川高新区2019年工作总结(转载).txt") == "青川高新区2019年工作总结"
    assert file_stem("太仓高新区2018年半年度工作会议.txt") == "太仓高新区2018年半年度工作会议"


def test_one_sentence_document_is_kept():
    doc = parse_text("某经开区2019年工作总结。", "one.txt")
    assert doc.text == "某经开区2019年工作总结。"
    assert doc.meta["zone"] == "某经开区" and doc.meta["year"] == 2019


def test_traditional_characters_give_simplified_metadata_and_keep_the_text():
    text = "丰城高新區2019年工作總結\n" + "2019年，丰城高新區全年實現營業收入88.2億元，同比增長9.1%；新增高新技術企業12家。" * 2
    doc = parse_text(text, "repost.txt")
    assert doc.meta["zone"] == "丰城高新区"
    assert doc.meta["kind"] == "工作总结"
    assert "營業收入" in doc.text  # quotes stay verbatim in the original script
    assert doc.meta["title"] == "丰城高新區2019年工作總結"
