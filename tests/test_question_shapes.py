"""Shapes of question that users bring and the mechanisms that answer them, on documents written for these tests:
a question that asks several things; who spoke, who chaired and on which day, from a news report's text; a year
said relatively ("去年") against each document's own year; a review of the year it names; a forecast that uses a
result verb; a figure's change clause; a share asked "在Y里占多大比重"; a heading that opens the answering
paragraph; follow-ups that ask a facet of the previous topic ("那今年定的目标是多少?")."""

from __future__ import annotations

import pytest

from assistant.answerability import context_of, needs_of, relative_year
from assistant.conversation import resolve_followup
from assistant.intent import question_parts
from library_kit import library_with

NEWS = ("梧桐高新区召开2024年工作会议\n"
        "本网讯（记者 李青）3月6日上午，梧桐高新区2024年工作会议在管委会三楼会议室召开。区党工委书记赵明远出席会议并讲话，"
        "党工委副书记、管委会主任钱立新主持会议。\n"
        "会议指出，2023年全区工业用地亩均税收达到31.5万元，较上年提高2.8万元；全区营业收入完成520亿元，增长11.2%。\n"
        "会议强调，2024年要力争营业收入突破580亿元，增长12%以上。")
REVIEW = ("石门经开区2023年经济运行综述\n发布时间：2024-01-18\n"
          "2023年，石门经开区经济运行稳中有进。\n"
          "全年实现规上工业总产值265.3亿元，同比增长9.6%。\n"
          "从全年看，预计一般公共预算收入完成8.2亿元，增长6%左右；固定资产投资完成41亿元，增长15%左右。\n"
          "税收收入7.1亿元，税收占一般公共预算收入的比重为86.6%。\n"
          "明年要集中力量打造康养、文旅、数字三条产业链。全面推行链长制，由书记担任数字产业链链长，其他班子成员分别担任"
          "康养、文旅产业链链长。康养产业链要抓好温泉疗养、森林康养等项目的招引和康复器械、养老服务的配套。")
REPORT = ("青禾经开区2022年工作总结\n"
          "发展的有利条件很多。从外部看，省里把我区列为重点培育的开发区，给予用地指标倾斜。"
          "从内部看，北站枢纽建成通车，打通了对外的大通道。我们实施老旧厂房改造，腾出了发展空间。"
          "我们规划建设科创走廊，集聚了一批研发机构。\n"
          "一、营商环境“三项行动”成效明显\n"
          "企业开办实现“半日办结”，工业项目审批时限压缩至25个工作日以内，全年兑现惠企资金4800万元。\n"
          "二、主要指标\n"
          "全年实现营业收入188亿元，增长9%。受留抵退税政策影响，上半年实现税收收入3.6亿元，同比下降4.1%；"
          "扣除留抵退税因素后，同口径增长5.2%。\n"
          "三、2023年目标\n"
          "2023年，营业收入力争突破210亿元，增长12%以上。")

SPEECH = ("在澄湖高新区2023年经济工作会议上的讲话\n同志们：\n"
          "今年全区经济工作的主要预期目标是：技工贸总收入力争达到150亿元，增长12%；规上工业增加值增长9%；"
          "实际利用外资1.2亿美元。围绕这些目标，着力抓好三项工作。\n"
          "一要抓招商引资。组建光电、医药两个招商小分队，全年签约亿元以上项目20个。\n"
          "二要抓园区配套。建成人才公寓600套，开通园区公交线路2条。\n"
          "三要抓企业培育。实施科技型中小企业“苗圃”计划，全年新增科技型中小企业60家，规上企业研发机构覆盖率达到45%。\n"
          "光电产业是我区的立区之本，去年产值占全区规上工业的五分之二左右，但龙头企业偏少。\n")


@pytest.fixture(scope="module")
def bot(tmp_path_factory, shared_cache):
    return library_with(tmp_path_factory, shared_cache, {
        "梧桐高新区2024年工作会议报道.txt": NEWS, "石门经开区2023年经济运行综述.txt": REVIEW,
        "青禾经开区2022年工作总结.txt": REPORT,
        "澄湖高新区2023年经济工作会议讲话.txt": SPEECH}, "shapes")


def lead_text(ans) -> str:
    return " ".join(q.text for q in ans.lead)


def test_question_parts_split_at_question_marks_only_when_each_asks():
    assert question_parts("那位主任叫什么？他说最大的变化是什么？") == ["那位主任叫什么？", "他说最大的变化是什么？"]
    assert question_parts("营业收入多少？") == ["营业收入多少？"]
    assert question_parts("关于营收？请说明。") == ["关于营收？请说明。"]  # the second piece asks nothing


def test_news_report_says_who_spoke_who_chaired_and_the_day(bot):
    ans = bot.ask("梧桐高新区这次工作会议是几号开的？谁讲话，谁主持的？")
    assert ans.kind == "answer"
    said = lead_text(ans)
    assert "3月6日" in said and "赵明远" in said and "钱立新" in said
    for q in ans.quotes:
        assert bot.store.document_text(q.doc)[q.start:q.end] == q.text


def test_who_chaired_is_asked_of_the_text_not_the_speaker_metadata(bot):
    ans = bot.ask("梧桐高新区的工作会议是谁主持的？")
    assert "钱立新" in lead_text(ans) and "赵明远" not in lead_text(ans)


def test_relative_year_is_each_documents_own_year():
    assert relative_year("亩均税收去年到了多少？") == -1
    assert relative_year("比上年增长多少？") is None  # a comparison base, no year asked
    assert relative_year("今年的营收") is None  # said loosely of the document's year
    assert needs_of("亩均税收去年到了多少？", True).relative == -1


def test_last_year_figure_and_its_change_clause(bot):
    ans = bot.ask("梧桐高新区工业用地亩均税收去年到了多少？比上一年多了多少？")
    assert ans.kind == "answer"
    assert "31.5万元" in lead_text(ans) and "2.8万元" in lead_text(ans)  # the change travels with the figure


def test_review_of_a_year_reports_that_year_not_the_last():
    text = REVIEW
    start = text.index("全年实现规上")
    meta = {"year": 2023, "kind": "新闻报道", "title": "石门经开区2023年经济运行综述", "date": "2024-01-18"}
    ctx = context_of(text, start, text.index("。", start) + 1, "", meta, focus=text.index("265.3"))
    assert ctx.year == 2023


def test_review_year_asked_by_number_is_answered(bot):
    ans = bot.ask("石门经开区2023年规上工业总产值多少？")
    assert ans.kind == "answer" and "265.3亿元" in lead_text(ans)


def test_forecast_with_a_result_verb_is_a_target(bot):
    text = REVIEW
    start = text.index("固定资产投资完成41亿元")
    ctx = context_of(text, start, text.index("；", start) + 1 if "；" in text[start:] else len(text), "",
                     {"year": 2023}, focus=text.index("41亿元"))
    assert ctx.plan is True
    ans = bot.ask("石门经开区固定资产投资全年预计能完成多少？")
    assert ans.kind == "answer" and "41亿元" in lead_text(ans)


def test_share_asked_of_a_denominator(bot):
    ans = bot.ask("石门经开区税收在一般预算收入里占多大比重？")
    assert ans.kind == "answer" and "86.6%" in lead_text(ans)


def test_heading_that_opens_the_answering_paragraph(bot):
    hist = [{"role": "user", "content": "青禾经开区在营商环境上搞了哪些行动？"},
            {"role": "assistant", "content": "营商环境“三项行动”。"}]
    ans = bot.ask("这些行动落到实处有啥具体成效？", hist)
    assert ans.kind == "answer"
    assert "半日办结" in lead_text(ans)


def test_facet_followups_carry_the_previous_topic(bot):
    docs = bot.documents()
    hist = [{"role": "user", "content": "青禾经开区2022年营业收入多少？"},
            {"role": "assistant", "content": "全年实现营业收入188亿元，增长9%。"}]
    r = resolve_followup("那明年定的目标是多少？", hist, docs)
    assert r.rule == "facet" and "营业收入" in r.query and "2022" not in r.query
    assert resolve_followup("那税收呢？", hist, docs).rule == "metric"  # a topic of its own
    ans = bot.ask("那明年定的目标是多少？", hist)
    assert ans.kind == "answer" and "210亿元" in lead_text(ans)
    hist = [{"role": "user", "content": "青禾经开区上半年税收情况怎么样？"},
            {"role": "assistant", "content": "上半年实现税收收入3.6亿元，同比下降4.1%。"}]
    r = resolve_followup("要是扣掉退税的影响呢？", hist, docs)
    assert r.rule == "facet" and "税收" in r.query and "上半年" in r.query


def test_more_continues_after_what_the_previous_answer_said(bot):
    hist = [{"role": "user", "content": "青禾经开区有哪些有利条件？"},
            {"role": "assistant", "content": "省里把我区列为重点培育的开发区，北站枢纽建成通车。"}]
    ans = bot.ask("还有呢？", hist)  # a plain transcript: the sentences it retold mark where it stopped
    said = lead_text(ans)
    assert "老旧厂房改造" in said and "科创走廊" in said
    assert "北站枢纽" not in said
    first = bot.ask("青禾经开区有哪些有利条件？")
    typed = [{"role": "user", "content": "青禾经开区有哪些有利条件？"},
             {"role": "assistant", "content": first.text, "answer": first}]
    more = bot.ask("还有呢？", typed)  # the app's history: the quotes themselves mark it
    assert more.kind == "answer" and more.lead
    assert not any(q.start < p.end and p.start < q.end for q in more.lead for p in first.quotes)


def test_a_condition_followup_is_answered_by_the_sentence_that_states_the_condition(bot):
    hist = [{"role": "user", "content": "青禾经开区上半年税收情况怎么样？"},
            {"role": "assistant", "content": "上半年实现税收收入3.6亿元，同比下降4.1%。"}]
    ans = bot.ask("要是扣掉退税的影响呢？", hist)
    assert ans.kind == "answer" and "5.2%" in lead_text(ans)


def test_a_followup_quotes_the_sentence_that_says_its_words_together_and_whole(bot):
    hist = [{"role": "user", "content": "石门经开区明年要打造哪几条产业链？"},
            {"role": "assistant", "content": "康养、文旅、数字三条产业链。"}]
    ans = bot.ask("那康养这条链具体打算怎么做？", hist)
    said = lead_text(ans)
    assert "温泉疗养" in said and "养老服务" in said  # the enumeration is not cut at its first "、"


def test_an_ordinal_with_a_noun_counts_in_the_named_count_the_previous_answer_announced(bot):
    """"第三项工作" after an answer that listed targets and announced "三项工作": the third of those works, not the
    third target the answer listed."""
    hist = [{"role": "user", "content": "澄湖高新区今年经济工作的主要目标是什么？"},
            {"role": "assistant", "content": "技工贸总收入力争达到150亿元，增长12%；规上工业增加值增长9%；"
                                             "实际利用外资1.2亿美元。围绕这些目标，着力抓好三项工作。"}]
    r = resolve_followup("第三项工作具体怎么说的？", hist, bot.store.enabled_documents())
    assert r.rule == "item" and r.ordinal == 3 and r.counted == "三项工作"
    ans = bot.ask("第三项工作具体怎么说的？", hist)
    said = lead_text(ans)
    assert "60家" in said and "45%" in said and "1.2亿美元" not in said
    assert all(q.doc == "澄湖高新区2023年经济工作会议讲话.txt" and q.text.strip() for q in ans.lead)
    # without a noun the ordinal still counts the items the previous answer listed
    plain = resolve_followup("第三点具体是怎么说的？", hist, bot.store.enabled_documents())
    assert plain.counted == "" and "实际利用外资" in plain.item


def test_a_pages_header_line_is_found_by_questions_about_the_page_and_by_no_other(bot):
    """"发布时间：2024-01-18" is no line of the text (page chrome), but the page's own passage: a question about when
    or where the page was published finds it; a question about the economy never sees it."""
    text = bot.store.document_text("石门经开区2023年经济运行综述.txt")
    assert "发布时间" not in text
    about_page = bot.search("石门经开区那篇经济运行综述是哪天在网上发布的？", k=5)
    header = [h for h in about_page if h.meta.get("passage") == "page_info"]
    assert header and header[0].text == "发布时间：2024-01-18" and header[0].section == "网页信息栏"
    for question in ("石门经开区2023年规上工业总产值是多少？", "石门经开区2024年发布了哪些产业链？"):
        assert not [h for h in bot.search(question, k=10) if h.meta.get("passage") == "page_info"]
    ans = bot.ask("石门经开区那篇经济运行综述是哪天在网上发布的？")
    assert ans.kind == "answer" and any("2024" in f.value for f in ans.facts)
    assert all(q.text and text[q.start:q.end] == q.text for q in ans.quotes)  # never a quote of the header line


def test_a_word_that_only_asks_a_share_is_said_by_a_share_and_is_no_area(bot):
    """"占多大分量" asks a share: "多大" inside it is not the 多大 of an area (no 平方公里 searched), and a sentence that
    states a share ("占…的五分之二左右") says what "占多大" asks."""
    from assistant.text import query_terms

    assert "平方公里" not in query_terms("光电产业在全区工业里占多大分量？")
    assert "平方公里" in query_terms("澄湖高新区规划面积有多大？")
    ans = bot.ask("澄湖高新区的光电产业在全区工业里占多大分量？")
    assert ans.kind == "answer" and "五分之二" in lead_text(ans)
