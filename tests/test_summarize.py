"""Summaries: outline, central sentences, lengths as budgets, scopes (part, topic, period), structure, key figures."""

import pytest

from assistant.evaluate import quote_faithful
from assistant.figures import extract_figures, to_value
from assistant.loading import parse_text

BUDGETS = {"short": 300, "medium": 800, "long": 2000}


def sentence_chars(ans):
    """Characters of quoted sentences: the budget covers them, not the headings (the structure) or the figures."""
    shown = set(ans.extras.get("outline", [])) | set(ans.extras.get("structure", []))
    return sum(len(q.text) for q in ans.quotes if q.section not in ("关键数据",) and q.text not in shown)


@pytest.mark.parametrize("length", ["short", "medium", "long"])
def test_lengths_are_budgets(corpus_home, length):
    ans = corpus_home.summarize("001_86a68042849f8c0b.txt", length)
    assert ans.kind == "summary"
    assert sentence_chars(ans) <= BUDGETS[length]
    for q in ans.quotes:
        assert quote_faithful(q.to_dict(), corpus_home.store.document_text(q.doc))


def test_outline_and_document_order(corpus_home):
    ans = corpus_home.summarize("常德")  # named loosely
    assert ans.extras["doc"] == "002_e3c827dfd055a908.txt"
    assert ans.extras["outline"][:2] == ["一、总结回顾,准确把握新征程面临的新形势", "二、坚定目标,主动担当新时代赋予的新使命"]
    starts = [q.start for q in ans.quotes if q.section != "关键数据"]
    parts = [q.start for q in ans.quotes if q.text in ans.extras["outline"]]
    assert parts == sorted(parts)
    assert len({q.text for q in ans.quotes}) == len(ans.quotes)  # no point repeated
    assert starts


def test_summary_in_chat_names_document_loosely(corpus_home):
    ans = corpus_home.ask("概括一下XX区务虚会那篇发言的主要思路")
    assert ans.kind == "summary" and ans.extras["doc"].startswith("004_")
    assert "一、要凝心聚力" in ans.text


def test_part_request(corpus_home):
    ans = corpus_home.ask("常德经开区那篇讲话第三部分讲了什么")
    assert ans.kind == "summary"
    assert "三、突出重点" in ans.text
    assert all(q.start >= corpus_home.store.document_text(q.doc).find("三、突出重点") for q in ans.quotes
               if q.section != "关键数据")


def test_topic_request(corpus_home):
    ans = corpus_home.ask("简单概括一下长沙经开区2020年总的指导思想")
    assert ans.kind == "summary"
    assert "两个率先" in ans.text or "强园富县" in ans.text


@pytest.mark.parametrize("question", ["用三句话总结一下长治高新区那篇讲话",
                                      "用三句话总结长沙经开区2020年工作要点"])  # 3 parts; 5 parts
def test_sentence_count_request(corpus_home, question):
    ans = corpus_home.ask(question)
    body = [q for q in ans.quotes if q.section != "关键数据" and q.text not in ans.extras["outline"]]
    assert 1 <= len(body) <= 3
    # no part heading left standing without a sentence under it
    shown = ans.text.split("**出处**")[0].split("**关键数据**")[0]
    blocks = [b for b in shown.split("\n**")[1:] if not b.startswith("结构")]
    assert blocks and all("「" in b.split("**", 1)[-1] for b in blocks), blocks


def test_document_without_headings(settings_factory, tmp_path):
    from assistant.bot import Assistant

    bot = Assistant(settings_factory("nohead", auto_ingest=False))
    paras = [
        "同志们：今年以来，示范区坚持项目为王，全年完成营业收入120.5亿元，同比增长15.2%。",
        "我们引进了一批大项目，新增高新技术企业12家，研发投入持续加大。",
        "明年要继续抓好招商引资，力争营业收入增长10%以上，确保安全生产形势稳定。",
        "同时要优化营商环境，深化放管服改革，提升服务效能。",
    ]
    f = tmp_path / "示范区讲话.txt"
    f.write_text("\n".join(paras), "utf-8")
    assert bot.ingest([f]).ok
    ans = bot.summarize("示范区讲话.txt", "short")
    assert ans.kind == "summary" and ans.quotes
    assert any("120.5" in row["value"] for row in ans.extras["figures"])


def test_single_paragraph_document(settings_factory, tmp_path):
    from assistant.bot import Assistant

    bot = Assistant(settings_factory("onepara", auto_ingest=False))
    f = tmp_path / "一段.txt"
    f.write_text("高新区今年要突出创新驱动，加快建设科技创新平台，培育高新技术企业，推动产业转型升级，"
                 "全面优化营商环境，确保完成全年目标任务。", "utf-8")
    assert bot.ingest([f]).ok
    for length in ("short", "medium", "long"):
        ans = bot.summarize("一段.txt", length)
        assert ans.kind == "summary" and len(ans.quotes) >= 1


def test_unknown_document_is_a_clear_error(corpus_home):
    from assistant.errors import QueryError

    with pytest.raises(QueryError):
        corpus_home.summarize("x.txt", "huge")


# ------------------------------------------------------------------------------------------ figures
# Each expected row was read from the document by hand: (indicator, value, unit, growth, year, kind).

EXPECTED = {
    "000_bd134bdf4e19f00a.txt": [
        ("营业收入", "358.26", "亿元", "", "2017", "实绩"),
        ("研究与试验发展经费", "4.32", "亿元", "", "2017", "实绩"),
        ("税收收入", "26.45", "亿元", "", "2017", "实绩"),
        ("进出口额", "9235", "万元", "", "2017", "实绩"),
        ("营业收入", "315", "亿元", "43.18%", "", "实绩"),
        ("营业收入", "", "", "10%", "2018", "目标"),
    ],
    "001_86a68042849f8c0b.txt": [
        ("地区生产总值", "", "", "6.5%", "2020", "实绩"),
        ("地区生产总值", "313.9", "亿元", "7.5%", "", "目标"),
        ("固定资产投资额", "238", "亿元", "10%", "", "目标"),
    ],
    "002_e3c827dfd055a908.txt": [
        ("地区生产总值", "143", "亿元", "5.2%", "", "实绩"),
        ("规模工业总产值", "445", "亿元", "2.5%", "", "实绩"),
        ("一般公共预算收入", "18.82", "亿元", "", "", "实绩"),
        ("地区生产总值", "", "", "9%以上", "2021", "目标"),
    ],
    "004_8f875c1b6a79fb69.txt": [
        ("一般公共预算收入", "X", "亿元", "", "", "实绩"),  # masked in the document
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_figures_table(bundled, name, clean_docs):
    text = clean_docs[name].text if hasattr(clean_docs[name], "text") else clean_docs[name]
    rows = {(f.indicator, f.value, f.unit, f.growth, f.year, f.kind) for f in extract_figures(text)}
    for expected in EXPECTED[name]:
        ind = expected[0]
        match = [r for r in rows if r[0].endswith(ind) and r[1:] == expected[1:]]
        assert match, f"{name}: {expected} not in {sorted(r for r in rows if ind in r[0])}"
    for f in extract_figures(text):
        assert text[f.start:f.end] == f.text


def test_figures_of_003_has_no_invented_rows(clean_docs):
    doc = clean_docs["003_944198d32a153964.txt"]
    text = doc.text if hasattr(doc, "text") else doc
    assert all(f.text in text for f in extract_figures(text))


def test_unit_normalisation():
    assert to_value("9235", "万元") == (0.9235, "亿元")
    assert to_value("1", "万亿元") == (10000.0, "亿元")
    assert to_value("7.5", "%") == (7.5, "%")
    assert to_value("X", "亿元")[0] is None


def test_figures_on_generic_text():
    text = parse_text("同志们：\n2019年，全区完成工业总产值88.8亿元，同比增长6.1%；税收收入5.2亿元，下降3.5%。\n"
                      "今年的主要目标是:\n——营业收入增长12%;\n——固定资产投资增长15%。", "g.txt").text
    rows = {(f.indicator, f.value, f.unit, f.growth, f.year, f.kind) for f in extract_figures(text)}
    assert ("工业总产值", "88.8", "亿元", "6.1%", "2019", "实绩") in rows
    assert ("税收收入", "5.2", "亿元", "-3.5%", "2019", "实绩") in rows
    assert ("营业收入", "", "", "12%", "", "目标") in rows


def test_a_target_marker_between_the_indicator_and_its_figure():
    text = "明年的主要目标是：技工贸总收入力争突破420亿元，增长11%；固定资产投资确保达到60亿元。"
    rows = {(f.indicator, f.value, f.unit, f.kind) for f in extract_figures(text)}
    assert ("技工贸总收入", "420", "亿元", "目标") in rows
    assert ("固定资产投资", "60", "亿元", "目标") in rows


# ------------------------------------------------------------------------------------------ scopes and structure
# Three documents written for these tests (no sentence of the corpus): a work report in two parts with 一、二、
# headings, a speech with "第一，…" headings and "一要…" items, and a bulletin of "一是…五是…" paragraphs.

REPORT = """云梦高新区管委会2024年工作报告
——在云梦高新区2024年工作会议上
管委会主任 韩立新
同志们：
现在，我代表管委会向大会报告工作，请予审议。
第一部分 2023年工作回顾
2023年，面对复杂严峻的外部环境，全区上下坚定信心、真抓实干，较好完成了全年目标任务。
一、经济指标稳中有升
全年实现营业收入208.6亿元，同比增长9.4%；完成固定资产投资41.2亿元，增长12.5%；实现税收收入6.35亿元，增长7.1%。
二、招商引资取得突破
全年新签约亿元以上项目28个，协议投资额165亿元，其中10亿元以上项目4个，光电子产业链招商成效明显。
三、科技创新步伐加快
新增高新技术企业17家，总数达到76家；新建省级研发平台4个，与武汉高校共建联合实验室2家。
四、营商环境持续优化
推行“拿地即开工”审批模式，企业开办时间压缩至1个工作日；全年兑现惠企资金0.9亿元。
在肯定成绩的同时，我们也清醒地看到存在的问题和不足：一是主导产业规模偏小，龙头企业不多；二是创新投入不足，研发强度低于全省平均；三是要素保障趋紧，工业用地供应紧张。
第二部分 2024年工作安排
2024年全区主要预期目标是：营业收入增长10%以上，固定资产投资增长12%。
一、聚力产业强链，壮大主导产业
（一）做强光电子产业
围绕光纤预制棒、光模块两条产业链，全年引进配套企业10家以上。
（二）做优食品加工产业
推动盐化食品企业技术改造，全年新增规上企业5家。
二、聚力项目攻坚，扩大有效投资
全年实施重点项目60个，完成投资50亿元以上；新开工亿元以上项目20个。
三、聚力改革创新，打造一流营商环境
深化“一网通办”改革，政务服务事项网上可办率达到95%；建立企业诉求“直通车”机制，问题办结率达到98%以上。
四、聚力党建引领，锻造过硬队伍
坚持把党的政治建设摆在首位，扎实开展“园区党建提质年”活动，持续整治形式主义、官僚主义。
同志们，新的一年，让我们真抓实干，奋力开创高新区高质量发展新局面！
"""

SPEECH = """在建德经开区2023年经济工作会议上的讲话
党工委书记 沈宏达
同志们：
今天召开全区经济工作会议，主要任务是总结去年工作，部署今年任务。下面，我讲三点意见。
第一，客观看待发展成绩，坚定发展信心
过去一年，我们顶住多重压力，主要指标保持平稳增长，全年实现营业收入152.3亿元，增长8.6%。
第二，聚焦重点任务，推动高质量发展
一要做强先进制造业。聚焦新材料、智能装备两大主导产业，全年引进亿元以上项目25个，推动产业链上下游协同发展。
二要在金融服务上实现新突破。建立政银企常态化对接机制，全年帮助企业新增贷款20亿元。推动两家企业在新三板挂牌，切实防范化解金融风险。
三要持续优化营商环境。全面推行“一件事一次办”，工业项目审批时限压缩到20个工作日以内。
第三，狠抓作风建设，确保任务落地
各级干部要树牢“马上就办”的工作作风，对重点工作实行清单化管理、项目化推进。
同志们，让我们以只争朝夕的精神，奋力完成全年目标任务！
"""

BULLETIN = """江山高新区2023年上半年经济运行简报
今年以来，全区经济运行总体平稳、稳中有进，主要呈现以下五个特点：
一是工业生产较快增长。1-6月，全区完成规上工业总产值96.4亿元、固定资产投资23.7亿元、一般公共预算收入2.86亿元、税收收入2.31亿元。
二是项目建设提速推进。新开工亿元以上项目12个，竣工投产7个，在建项目完成投资18.5亿元。
三是创新主体加快壮大。新增高新技术企业申报23家，新建市级研发平台5个。
四是外贸出口逆势上扬。外贸进出口总额18.2亿元，增长6.3%，增速高于全市平均水平。
五是市场主体持续增加。新增市场主体820户，其中企业265户。
但也要看到，经济运行中仍存在一些不容忽视的问题：一是部分企业订单不足；二是工业投资后劲不强；三是用工缺口较大。
下一步，全区将紧盯全年目标：一是抓好重点企业调度，对产值前20位企业实行专人服务；二是加快在建项目进度，力争三季度再竣工项目5个；三是提前谋划明年重点项目，抓紧办理前期手续。
"""

NAMES = {"report": "云梦高新区管委会2024年工作报告.txt", "speech": "建德经开区2023年经济工作会议讲话.txt",
         "bulletin": "江山高新区2023年上半年经济运行简报.txt"}


@pytest.fixture(scope="module")
def made(tmp_path_factory, shared_cache):
    """An assistant over the three documents written for these tests."""
    from assistant.bot import Assistant
    from assistant.config import Settings

    folder = tmp_path_factory.mktemp("summary-docs")
    for key, text in (("report", REPORT), ("speech", SPEECH), ("bulletin", BULLETIN)):
        (folder / NAMES[key]).write_text(text, "utf-8")
    bot = Assistant(Settings(home=tmp_path_factory.mktemp("summary-home"), cache_dir=shared_cache, auto_ingest=False))
    assert bot.ingest(sorted(folder.iterdir())).ok
    return bot


def labels(quotes):
    return [q.text.rstrip("。；") for q in quotes]


def faithful(bot, ans):
    for q in ans.quotes:
        assert bot.store.document_text(q.doc)[q.start:q.end] == q.text


def test_part_scope_lists_the_parts_headings(made):
    ans = made.summarize(NAMES["report"], "medium", "概括一下这份报告第二部分讲了什么")
    assert ans.kind == "summary" and ans.extras["scope"]["kind"] == "part"
    assert labels(ans.items) == ["一、聚力产业强链，壮大主导产业", "二、聚力项目攻坚，扩大有效投资",
                                 "三、聚力改革创新，打造一流营商环境", "四、聚力党建引领，锻造过硬队伍"]
    part2 = REPORT.index("第二部分")
    assert all(q.start >= part2 for q in ans.quotes)  # figures too: the scope's own
    first = next(s for s in ans.sections if s.heading.startswith("一、聚力产业强链"))
    assert labels(first.points) == ["（一）做强光电子产业", "（二）做优食品加工产业"]
    second = next(s for s in ans.sections if s.heading.startswith("二、聚力项目攻坚"))
    assert second.quotes and second.quotes[0].text.startswith("全年实施重点项目60个")  # its lead sentence
    faithful(made, ans)


def test_part_scope_in_chat(made):
    ans = made.ask("概括一下云梦高新区工作报告第二部分讲了什么")
    assert ans.kind == "summary" and ans.extras["doc"] == NAMES["report"]
    assert "三、聚力改革创新，打造一流营商环境" in labels(ans.items)


def test_period_scope_is_the_review_of_that_year(made):
    ans = made.summarize(NAMES["report"], "medium", "帮我总结一下报告里2023年都干成了哪些事")
    assert ans.extras["scope"]["kind"] == "period"
    assert labels(ans.items) == ["一、经济指标稳中有升", "二、招商引资取得突破", "三、科技创新步伐加快",
                                 "四、营商环境持续优化"]
    shown = " ".join(q.text for q in ans.quotes)
    assert "主导产业规模偏小" not in shown  # the problems listed after the results are no result
    assert all(q.start < REPORT.index("第二部分") for q in ans.quotes)


def test_period_scope_is_the_plan(made):
    ans = made.summarize(NAMES["report"], "medium", "明年的安排是什么？概括一下")
    assert ans.extras["scope"]["kind"] == "period"
    assert "二、聚力项目攻坚，扩大有效投资" in labels(ans.items)
    assert all(q.start >= REPORT.index("第二部分") for q in ans.quotes)


def test_topic_scope_spread_over_parts(made):
    ans = made.summarize(NAMES["report"], "medium", "营商环境那块讲了什么")
    assert ans.extras["scope"]["kind"] == "topic"
    assert labels(ans.items) == ["四、营商环境持续优化", "三、聚力改革创新，打造一流营商环境"]
    shown = " ".join(q.text for s in ans.sections for q in s.quotes)
    assert "拿地即开工" in shown and "一网通办" in shown


def test_topic_scope_with_a_period(made):
    ans = made.summarize(NAMES["report"], "medium", "2024年在营商环境方面有哪些安排")
    assert [s.heading for s in ans.sections][0] == "三、聚力改革创新，打造一流营商环境"
    assert all(q.start >= REPORT.index("第二部分") for q in ans.quotes)


def test_topic_scope_is_an_enumerated_item(made):
    ans = made.summarize(NAMES["speech"], "medium", "沈宏达那篇讲话在金融这方面都讲了些啥")
    assert ans.extras["scope"]["kind"] == "topic"
    assert [s.heading for s in ans.sections] == ["二要在金融服务上实现新突破"]
    texts = [q.text for q in ans.sections[0].quotes]
    assert any("政银企" in t for t in texts) and any("金融风险" in t for t in texts)


def test_topic_not_in_the_document_says_so(made):
    ans = made.summarize(NAMES["speech"], "medium", "那篇讲话里乡村振兴这块讲了什么")
    assert ans.extras["scope"]["kind"] == "document"
    assert any("乡村振兴" in n.text for n in ans.notes)


def test_speech_structure(made):
    ans = made.summarize(NAMES["speech"], "short", "")
    assert labels(ans.items) == ["第一，客观看待发展成绩，坚定发展信心", "第二，聚焦重点任务，推动高质量发展",
                                 "第三，狠抓作风建设，确保任务落地"]
    second = next(s for s in ans.sections if s.heading.startswith("第二"))
    assert labels(second.points) == ["一要做强先进制造业", "二要在金融服务上实现新突破", "三要持续优化营商环境"]
    part = made.summarize(NAMES["speech"], "medium", "第二点讲了什么")
    assert labels(part.items) == ["一要做强先进制造业", "二要在金融服务上实现新突破", "三要持续优化营商环境"]
    leads = [s.quotes[0].text for s in part.sections if s.heading.startswith(("一要", "二要", "三要"))]
    assert leads[0].startswith("聚焦新材料") and leads[1].startswith("建立政银企")


def test_bulletin_items_with_lead_sentences(made):
    ans = made.summarize(NAMES["bulletin"], "medium", "上半年取得了哪些成绩？")
    assert labels(ans.items) == ["一是工业生产较快增长", "二是项目建设提速推进", "三是创新主体加快壮大",
                                 "四是外贸出口逆势上扬", "五是市场主体持续增加"]
    by_head = {s.heading: s for s in ans.sections}
    assert by_head["二是项目建设提速推进"].quotes[0].text.startswith("新开工亿元以上项目12个")
    assert "部分企业订单不足" not in " ".join(q.text for q in ans.quotes)
    plan = made.summarize(NAMES["bulletin"], "medium", "下一步有什么打算")
    assert labels(plan.items)[0].startswith("一是抓好重点企业调度")
    whole = made.summarize(NAMES["bulletin"], "medium", "")
    assert labels(whole.sections[0].points)[:2] == ["一是工业生产较快增长", "二是项目建设提速推进"]


def test_figure_rows_quote_their_own_clause(made):
    ans = made.summarize(NAMES["bulletin"], "long", "")
    table = next(t for t in ans.tables if t.title == "关键数据")
    quotes = {name: cells[-1].quotes[0].text for name, cells in table.rows}
    values = {name: cells[0].value for name, cells in table.rows}
    listed = ["规上工业总产值", "固定资产投资", "一般公共预算收入", "税收收入"]
    for name in listed:
        assert name in quotes, sorted(quotes)
        assert values[name] in quotes[name]
        others = [values[o] for o in listed if o != name]
        assert not any(v in quotes[name] for v in others), quotes[name]
    assert len({quotes[n] for n in listed}) == len(listed)
    faithful(made, ans)


def test_sentence_count_with_structure(made):
    ans = made.summarize(NAMES["report"], "medium", "用三句话总结一下这份报告")
    body = [q for q in ans.quotes if q.section != "关键数据" and q.text not in ans.extras["outline"]]
    assert 1 <= len(body) <= 3
    part = made.summarize(NAMES["report"], "medium", "用两句话概括第二部分")
    assert 1 <= sum(len(s.quotes) for s in part.sections) <= 2


def test_tree_items_and_runs():
    from assistant.summarize import build_tree

    text = ("标题\n一、总体情况\n今年以来，运行平稳，主要有三个特点：\n一是增长较快。营收增长9%。\n二是结构优化。新兴产业占比提高。\n"
            "三是后劲增强。新开工项目12个。\n同时也存在一些问题：一是订单不足；二是用工偏紧。\n"
            "二、发展成效\n综合实力增强。全年营收突破百亿元，比上年多出十亿元。\n创新能力提升。新增高新技术企业十家，总数超过六十家。\n")
    root = build_tree(text)
    first, second = [c for c in root.children if c.kind == "heading"]
    items = [c for c in first.children if c.kind == "item"]
    assert [c.label for c in items] == ["一是增长较快", "二是结构优化", "三是后劲增强", "一是订单不足", "二是用工偏紧"]
    assert items[0].run != items[3].run and items[3].cls == "problem" and items[0].cls == ""
    assert [c.label for c in second.children] == ["综合实力增强", "创新能力提升"]  # paragraphs led by a label


def test_figures_in_traditional_script():
    from assistant.summarize import key_figures

    text = "全年實現營業收入352.8億元，同比增長12.1%；完成固定資產投資51.6億元。"
    figs = key_figures(text, 5)
    rows = {(f.indicator, f.value, f.unit) for f in figs}
    assert ("营业收入", "352.8", "亿元") in rows
    assert all(text[f.start:f.end] == f.text for f in figs)  # quotes stay in the document's own script


def test_sentence_tokens_are_cut_once_per_process():
    """central_sentences scores every sentence of a document on every summary: the cut is cached (text.token_set)."""
    from assistant.summarize import central_sentences
    from assistant.text import token_set, tokenize

    text = ("全年营业收入增长百分之十，税收收入稳步提高。新开工项目十二个，总投资超过八十亿元。"
            "营业收入和税收收入都创历史新高，主导产业集群加快形成。")
    sentence = "全年营业收入增长百分之十，税收收入稳步提高。"
    assert token_set(sentence) == set(tokenize(sentence))
    first = central_sentences(text, 0, len(text), 2, set())
    hits = token_set.cache_info().hits
    assert central_sentences(text, 0, len(text), 2, set()) == first
    assert token_set.cache_info().hits > hits
