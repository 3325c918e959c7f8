"""Summaries: outline, central sentences, lengths as budgets, part and topic requests, key figures."""

import pytest

from assistant.evaluate import quote_faithful
from assistant.figures import extract_figures, to_value
from assistant.loading import parse_text

BUDGETS = {"short": 300, "medium": 800, "long": 2000}


def sentence_chars(ans):
    """Characters of quoted sentences: the budget covers them, not the headings or the figures table."""
    return sum(len(q.text) for q in ans.quotes if q.section not in ("关键数据",) and q.text not in ans.extras.get("outline", []))


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
