"""Comparisons: per-zone retrieval, quoted cells, honest gaps, follow-ups, unit normalisation; figures compared
by the asked indicator (or its family), the question's judgement answered from the quotes; questions across
documents ("哪几份材料提到了X?"). The first tests run on the bundled corpus; the others on documents written for
these tests, ingested into a real store."""

import json
import os
import subprocess

import pytest

from assistant.evaluate import quote_faithful
from library_kit import library_with


def cells_quoted_per_zone(ans):
    return {q.doc for q in ans.quotes}


def test_two_zones_each_quoted(corpus_home):
    ans = corpus_home.ask("甘肃×高新区和常德经开区的三大主导产业分别是什么?")
    assert ans.kind == "comparison"
    assert cells_quoted_per_zone(ans) == {"001_86a68042849f8c0b.txt", "002_e3c827dfd055a908.txt"}
    assert ans.tables[0].columns == ["×高新区", "常德经开区"] and ans.tables[0].label == "方面"
    assert any("生物医药" in q.text for q in ans.tables[0].rows[0][1][0].quotes)
    for q in ans.quotes:
        assert quote_faithful(q.to_dict(), corpus_home.store.document_text(q.doc))


def test_a_zone_that_never_names_the_aspect_is_quoted_on_what_it_says_instead(corpus_home):
    """长治's speech never says 主导产业: its cell must not rest on a part of the term ("政府主导" is about
    management, not industry) but quote what it says of its industries (产业定位, 主攻方向), and say so."""
    changzhi = "000_bd134bdf4e19f00a.txt"
    assert "主导产业" not in corpus_home.store.document_text(changzhi)
    ans = corpus_home.ask("长治和常德的主导产业有什么不同?")
    assert ans.kind == "comparison"
    mine = [q.text for q in ans.quotes if q.doc == changzhi]
    assert mine and not any("政府主导" in t for t in mine), mine
    assert any("产业定位" in t or "主攻方向" in t for t in mine), mine
    note = next(n.text for n in ans.notes if "没有“主导产业”这个说法" in n.text)
    assert note.startswith("长治高新区")
    for word in ("首位产业", "支柱产业", "产业定位", "主攻方向"):  # the note names only words it quotes
        assert (f"“{word}”" in note) == any(word in t for t in mine), (word, note)
    # a zone whose document does name it gets no such note
    assert not any(n.text.startswith("常德经开区的文件没有") for n in ans.notes)


def test_all_documents_years(corpus_home):
    ans = corpus_home.ask("这五份材料分别是哪一年的讲话或文件?")
    assert ans.kind == "comparison"
    assert len(ans.extras["zones"]) == len(corpus_home.documents())
    row = next(cells for name, cells in zip(ans.extras["table"]["aspects"], ans.extras["table"]["cells"]) if name == "年份")
    assert row == ["2018", "2021", "2021", "2020", "2018"]
    assert any("年份和类型不同" in n.text for n in ans.notes)  # honest about different years and kinds


def test_unknown_zone_is_named(corpus_home):
    ans = corpus_home.ask("长治高新区和苏州工业园区的主导产业有什么不同?")
    assert "苏州工业园区" in ans.title and any("苏州工业园区" in n.text and n.kind == "warning" for n in ans.notes)
    assert all(q.doc == "000_bd134bdf4e19f00a.txt" for q in ans.quotes)


def test_unknown_zone_alone_is_not_found(corpus_home):
    ans = corpus_home.ask("苏州工业园区和深圳高新区有什么不同?")
    assert ans.kind == "not_found"


def test_aspect_no_zone_has_is_declined_with_each_reason(corpus_home):
    ans = corpus_home.compare(["长治", "XX区"], "瞪羚企业")
    # 瞪羚企业 appears in neither of these two documents: no table of gaps, a decline that says so for each
    assert ans.kind == "not_found"
    assert "长治高新区：未提及（" in ans.reason and "XX区：未提及（" in ans.reason and "瞪羚企业" in ans.reason


def test_aspect_one_zone_lacks(corpus_home):
    ans = corpus_home.compare(["长治", "长沙"], "瞪羚企业")
    changzhi, changsha = ans.tables[0].rows[0][1]
    assert not changzhi.quotes and changzhi.value.startswith("未提及（") and "瞪羚企业" in changzhi.value
    assert changsha.quotes and all("瞪羚" in q.text for q in changsha.quotes)


def test_followup_adds_zone(corpus_home):
    hist = [{"role": "user", "content": "长治和常德的主导产业有什么不同?"},
            {"role": "assistant", "content": "（对比表）"}]
    ans = corpus_home.ask("那长沙呢?", hist)
    assert ans.kind == "comparison"
    assert ans.extras["zones"] == ["长治高新区", "常德经开区", "长沙经开区"]


def test_figures_normalised_and_ranked(corpus_home):
    ans = corpus_home.ask("两份2021年的讲话里,×高新区和常德经开区给GDP定的增长目标分别是多少?谁更高?")
    chart = ans.extras["chart"]
    assert {c["zone"] for c in chart} == {"×高新区", "常德经开区"}
    assert {c["unit"] for c in chart} == {"%"}
    ranking = next(n.text for n in ans.notes if n.text.startswith("按引文中的增速"))
    assert ranking.index("常德经开区") < ranking.index("×高新区") and "9%" in ranking and "7.5%" in ranking


def test_unit_normalisation_wan_vs_yi(corpus_home):
    from assistant.answering import Quote
    from assistant.compare import chart_data

    class Comp:
        def meta(self, doc):
            return {}

    quotes = [Quote("进出口额9235万元", "a.txt", "", "甲区", "", 0, 9),
              Quote("进出口额1.2亿元", "b.txt", "", "乙区", "", 0, 8)]
    rows = chart_data(Comp(), quotes)
    assert [(r["zone"], round(r["value"], 4), r["unit"]) for r in rows] == [("甲区", 0.9235, "亿元"), ("乙区", 1.2, "亿元")]


def test_cli_compare_json(corpus_home, assistant_exe):
    out = subprocess.run([assistant_exe, "compare", "常德", "甘肃", "--aspect", "GDP增长目标", "--json"],
                         capture_output=True, text=True, timeout=120,
                         env={**os.environ, "ASSISTANT_HOME": str(corpus_home.settings.home)})
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["kind"] == "comparison" and data["table"]["zones"] == ["常德经开区", "×高新区"]
    assert len(data["chart"]) == 2


def test_dev_compare_floor(corpus_home, dev_items):
    from assistant.evaluate import score_answers

    items = [i for i in dev_items if i["type"] == "compare"]
    res = score_answers(items, corpus_home.ask, corpus_home.store.document_text)["summary"]["by_type"]["compare"]
    assert res["keywords"] >= 0.8
    assert res["all_zones_quoted"] >= 0.9


# ------------------------------------------------------------------------------------------ written for the test

FILES = {
    # a report early in 2023 on 2022: the zone's revenue, a part's revenue and a share of it, a tax, a target
    "江阴高新区2023年工作报告.txt":
        "江阴高新区2023年工作报告\n一、2022年工作回顾\n"
        "2022年，全区实现营业收入1260.5亿元，同比增长8.2%；实现税收收入58.3亿元，增长6.1%。新材料产业实现营业收入"
        "410.2亿元，增长21.5%，占园区营业收入的比重达到32.5%。工业用地亩均税收达到32.1万元。\n"
        "全面推行链长制，由管委会班子成员分别担任五条产业链链长。全面推行“首席服务官”制度，为120家重点企业配备首席服务官，"
        "帮助企业解决问题326个。\n二、2023年主要目标\n营业收入力争增长10%以上，税收收入增长8%。",
    # 技工贸总收入 instead of 营业收入; a neighbouring figure (建成区面积) in the same sentence; a table
    "常熟经开区2022年工作总结.txt":
        "常熟经开区2022年工作总结\n"
        "2022年，常熟经开区建成区面积达到38.6平方公里，全年实现技工贸总收入865.3亿元，同比增长15.6%；规上工业增加值"
        "增长9.4%。\n选派30名首席服务官进驻重点企业，推行“一企一策”精准服务。\n"
        "主要指标完成情况表\n指标\t2021年完成\t2022年完成\t增长\n高新技术企业数（家）\t41\t52\t26.8%\n"
        "规上工业企业数（家）\t120\t131\t9.2%",
    # speaks of 链长 without saying 链长制; new and total 高新技术企业
    "慈溪高新区2022年工作总结.txt":
        "慈溪高新区2022年工作总结\n"
        "2022年，全区实现营业收入512.8亿元，增长10.1%；新增高新技术企业15家，总数达到86家。\n"
        "由管委会主任担任智能家电产业链链长，每月召开一次链上企业座谈会。",
    # a half-year speech: its figures, a target for the year, another zone's figure beside its own
    "晋江经开区2022年上半年工作会议讲话.txt":
        "在晋江经开区2022年上半年工作会议上的讲话\n同志们：\n"
        "今年以来，全区上下稳住经济大盘。1-6月，全区实现营业收入236.7亿元，同比增长12.9%；实现税收收入9.8亿元，"
        "增长3.2%。\n对标先进，如皋经开区工业用地亩均税收达到45万元，而我区仅为28.6万元，差距明显。\n"
        "下半年，要紧盯全年目标，确保营业收入增长10%以上。",
}
JIANGYIN, CHANGSHU, CIXI, JINJIANG = FILES


@pytest.fixture(scope="module")
def bot(tmp_path_factory, shared_cache):
    return library_with(tmp_path_factory, shared_cache, FILES, "compare")


def _composer(bot, question):
    from assistant.answering import Composer
    from assistant.conversation import resolve_followup

    resolved = resolve_followup(question, [], bot.store.documents())
    return Composer(bot, resolved, {}), resolved


def _compare(bot, question):
    from assistant.compare import compare_request

    comp, resolved = _composer(bot, question)
    return compare_request(comp, resolved)


def _mentions(bot, question):
    from assistant.compare import mentions_request

    comp, resolved = _composer(bot, question)
    return mentions_request(comp, resolved)


def _cell(ans, zone, row=0):
    table = ans.tables[0]
    return table.rows[row][1][table.columns.index(zone)]


def _faithful(bot, ans):
    for q in ans.quotes:
        assert quote_faithful(q.to_dict(), bot.store.document_text(q.doc)), q


def test_which_documents_mention_it(bot):
    from assistant.compare import asks_mentions, mention_topic, route

    q = "哪几份材料提到了“首席服务官”？各自是怎么说的？"
    assert asks_mentions(q) and mention_topic(q) == "首席服务官"
    assert route(q, [], [], [], bot.store.documents()) == "mentions"
    ans = _mentions(bot, q)
    assert ans.kind == "comparison"
    assert ans.extras["mentions"]["docs"] == [CHANGSHU, JIANGYIN] or \
        set(ans.extras["mentions"]["docs"]) == {JIANGYIN, CHANGSHU}
    assert set(ans.extras["mentions"]["not_mentioned"]) == {CIXI, JINJIANG}
    assert set(ans.title.split("、")) == {"江阴高新区", "常熟经开区"}
    table = ans.tables[0]
    quoted = {label: cells[0] for label, cells in table.rows}
    for zone in ("江阴高新区", "常熟经开区"):
        assert quoted[zone].quotes and all("首席服务官" in x.text for x in quoted[zone].quotes)
    silent = table.rows[-1][1][0]
    assert not silent.quotes and silent.value.startswith("未提及") and "慈溪高新区" in silent.value \
        and "晋江经开区" in silent.value
    assert any("共查了4份" in n.text and "2份未提及" in n.text for n in ans.notes)
    _faithful(bot, ans)


def test_which_zones_mention_a_system_by_its_stem(bot):
    """"链长制": one document names it, another only says who is 链长 — quoted, and the answer says so."""
    ans = _mentions(bot, "哪些园区的材料提到了链长制？分别是怎么讲的？")
    assert set(ans.extras["mentions"]["docs"]) == {JIANGYIN, CIXI}
    cixi = next(cells[0] for label, cells in ans.tables[0].rows if label == "慈溪高新区")
    assert "链长" in cixi.quotes[0].text
    assert any(n.text.startswith("慈溪高新区的文件没有“链长制”这个说法") for n in ans.notes)
    assert not any(n.text.startswith("江阴高新区的文件没有") for n in ans.notes)


def test_no_document_mentions_it(bot):
    ans = _mentions(bot, "哪几份材料提到了飞地经济？")
    assert ans.kind == "not_found" and "飞地经济" in ans.reason


def test_revenue_scale_by_each_zones_own_indicator_and_the_threshold(bot):
    ans = _compare(bot, "江阴高新区和常熟经开区的收入规模对比一下，哪个算得上千亿园区？")
    assert ans.kind == "comparison"
    jy, cs = _cell(ans, "江阴高新区"), _cell(ans, "常熟经开区")
    assert "营业收入1260.5亿元" in jy.quotes[0].text and "新材料" not in jy.quotes[0].text
    assert "技工贸总收入865.3亿元" in cs.quotes[0].text and "建成区面积" not in cs.quotes[0].text
    warning = next(n.text for n in ans.notes if n.kind == "warning" and "指标不同" in n.text)
    assert "营业收入" in warning and "技工贸总收入" in warning
    verdict = next(n.text for n in ans.notes if "千亿" in n.text)
    assert "江阴高新区：营业收入「1260.5亿元」" in verdict and "，达到千亿" in verdict
    assert "常熟经开区：技工贸总收入「865.3亿元」" in verdict and "未达到千亿" in verdict
    assert verdict.endswith("按引文数字，江阴高新区达到千亿。")
    _faithful(bot, ans)


def test_growth_ranked_from_the_quoted_rates(bot):
    ans = _compare(bot, "江阴、慈溪、晋江这三个园区的营收增速谁最快？")
    assert ans.tables[0].columns == ["江阴高新区", "慈溪高新区", "晋江经开区"]
    jy, cx, jj = (_cell(ans, z).quotes[0].text for z in ("江阴高新区", "慈溪高新区", "晋江经开区"))
    # the zone's own figure, not a part's (新材料产业 21.5%) nor a target (确保…增长10%以上)
    assert "8.2%" in jy and "21.5%" not in jy
    assert "10.1%" in cx
    assert "12.9%" in jj and "确保" not in jj
    ranking = next(n.text for n in ans.notes if n.text.startswith("按引文中的增速从高到低"))
    assert ranking.index("晋江经开区（12.9%）") < ranking.index("慈溪高新区（10.1%）") < ranking.index("江阴高新区（8.2%）")
    assert ranking.endswith("晋江经开区最高。")
    numbers = [n for n in ans.notes if n.kind == "point"]
    quoted = "".join(q.text for q in ans.quotes)
    for note in numbers:  # every figure a note names is one the quotes state
        import re

        for figure in re.findall(r"\d+(?:\.\d+)?%", note.text):
            assert figure in quoted, (figure, note.text)


def test_another_zones_figure_is_not_this_zones(bot):
    """"如皋经开区…亩均税收达到45万元，而我区仅为28.6万元": 晋江's figure is 28.6万元."""
    ans = _compare(bot, "江阴高新区和晋江经开区的亩均税收谁更高？")
    assert "32.1万元" in _cell(ans, "江阴高新区").quotes[0].text
    assert "28.6万元" in _cell(ans, "晋江经开区").quotes[0].text
    ranking = next(n.text for n in ans.notes if n.text.startswith("按引文中的"))
    assert ranking.index("江阴高新区（32.1万元）") < ranking.index("晋江经开区（28.6万元）") and "45万元" not in ranking


def test_every_asked_zone_gets_a_cell(bot):
    ans = _compare(bot, "慈溪高新区和晋江经开区的税收收入各是多少？")
    cx, jj = _cell(ans, "慈溪高新区"), _cell(ans, "晋江经开区")
    assert not cx.quotes and cx.value.startswith("未提及（") and "税收收入" in cx.value
    assert "9.8亿元" in jj.quotes[0].text


def test_totals_from_text_and_from_a_table(bot):
    """"高企数量": the total (总数达到86家), not what was added (新增15家); a table row read in the column of the
    year asked, quoted with its header."""
    ans = _compare(bot, "常熟经开区和慈溪高新区2022年的高企数量各是多少？")
    cs, cx = _cell(ans, "常熟经开区"), _cell(ans, "慈溪高新区")
    assert [q.text for q in cs.quotes] == ["指标\t2021年完成\t2022年完成\t增长", "高新技术企业数（家）\t41\t52\t26.8%"]
    assert "总数达到86家" in cx.quotes[0].text
    figures = ans.tables[1]
    values = {zone: cells[1].value for zone, cells in figures.rows}
    assert values == {"常熟经开区": "52家", "慈溪高新区": "86家"}
    _faithful(bot, ans)


def test_comparison_routes(bot):
    from assistant.compare import names_all_documents, route

    meta = bot.store.documents()
    assert route("江阴高新区和慈溪高新区的营收各是多少?", [JIANGYIN, CIXI], ["江阴高新区", "慈溪高新区"],
                 ["江阴高新区", "慈溪高新区"], meta) == "compare"
    assert route("江阴高新区的营收是多少?", [JIANGYIN], ["江阴高新区"], ["江阴高新区"], meta) is None
    assert names_all_documents("这几份材料分别是哪年的?") and names_all_documents("这三个园区各有什么打算?")
    assert not names_all_documents("江阴高新区的营收是多少?")


YEARS = {
    "江阴高新区2021年工作总结.txt":
        "江阴高新区2021年工作总结\n2021年，全区实现营业收入1102.3亿元，同比增长9.5%；新签约亿元以上项目41个。",
    "江阴高新区2023年工作报告.txt": FILES[JIANGYIN],
    "慈溪高新区2022年工作总结.txt": FILES[CIXI],
}


@pytest.fixture(scope="module")
def years_bot(tmp_path_factory, shared_cache):
    return library_with(tmp_path_factory, shared_cache, YEARS, "compare-years")


def test_one_zone_two_years_each_from_its_document(years_bot):
    """"江阴高新区2021年和2022年的营业收入各是多少": one zone, two documents, each answering for its year; the
    columns say which document each is."""
    from assistant.compare import route

    q = "江阴高新区2021年和2022年的营业收入各是多少？"
    comp, resolved = _composer(years_bot, q)
    assert route(q, resolved.docs, resolved.zones, resolved.zones, years_bot.store.documents()) == "compare"
    ans = _compare(years_bot, q)
    assert ans.title == "江阴高新区"
    cells = dict(zip(ans.tables[0].columns, ans.tables[0].rows[0][1]))
    assert set(cells) == {"江阴高新区（2021年工作总结）", "江阴高新区（2023年工作报告）"}
    assert "1102.3亿元" in cells["江阴高新区（2021年工作总结）"].quotes[0].text
    assert "1260.5亿元" in cells["江阴高新区（2023年工作报告）"].quotes[0].text


def test_a_year_asked_of_one_zone_picks_its_document(years_bot):
    """"江阴高新区2021年…、慈溪高新区…": 江阴's 2021 figure, from the document of 2021 alone."""
    ans = _compare(years_bot, "江阴高新区2021年和慈溪高新区2022年的营业收入分别是多少？")
    assert ans.tables[0].columns == ["江阴高新区", "慈溪高新区"]
    jy, cx = ans.tables[0].rows[0][1]
    assert "1102.3亿元" in jy.quotes[0].text and "512.8亿元" in cx.quotes[0].text
