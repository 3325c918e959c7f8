"""Comparisons: per-zone retrieval, quoted cells, honest gaps, follow-ups, unit normalisation."""

import json
import os
import subprocess

from assistant.evaluate import quote_faithful


def cells_quoted_per_zone(ans):
    return {q.doc for q in ans.quotes}


def test_two_zones_each_quoted(corpus_home):
    ans = corpus_home.ask("甘肃×高新区和常德经开区的三大主导产业分别是什么?")
    assert ans.kind == "comparison"
    assert cells_quoted_per_zone(ans) == {"001_86a68042849f8c0b.txt", "002_e3c827dfd055a908.txt"}
    assert "| 方面 | ×高新区 | 常德经开区 |" in ans.text
    assert "生物医药" in ans.text
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
    note = next(line for line in ans.text.splitlines() if "没有“主导产业”这个说法" in line)
    assert note.startswith("- 长治高新区")
    for word in ("首位产业", "支柱产业", "产业定位", "主攻方向"):  # the note names only words it quotes
        assert (f"“{word}”" in note) == any(word in t for t in mine), (word, note)
    # a zone whose document does name it gets no such note
    assert not any("常德经开区的文件没有" in line for line in ans.text.splitlines())


def test_all_five_documents_years(corpus_home):
    ans = corpus_home.ask("这五份材料分别是哪一年的讲话或文件?")
    assert ans.kind == "comparison"
    assert len(ans.extras["zones"]) == 5
    row = next(cells for name, cells in zip(ans.extras["table"]["aspects"], ans.extras["table"]["cells"]) if name == "年份")
    assert row == ["2018", "2021", "2021", "2020", "2018"]
    assert "年份和类型不同" in ans.text  # honest about different years and kinds


def test_unknown_zone_is_named(corpus_home):
    ans = corpus_home.ask("长治高新区和苏州工业园区的主导产业有什么不同?")
    assert "苏州工业园区" in ans.text and "没有" in ans.text
    assert all(q.doc == "000_bd134bdf4e19f00a.txt" for q in ans.quotes)


def test_unknown_zone_alone_is_not_found(corpus_home):
    ans = corpus_home.ask("苏州工业园区和深圳高新区有什么不同?")
    assert ans.kind == "not_found"


def test_aspect_one_zone_lacks(corpus_home):
    ans = corpus_home.compare(["长治", "XX区"], "瞪羚企业")
    cells = ans.extras["table"]["cells"][0]
    assert "未提及" in cells  # 瞪羚企业 appears in neither of these two documents
    assert all(c == "未提及" or "瞪羚" in c for c in cells)


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
    assert "数值对比" in ans.text and ans.text.index("常德经开区「") < ans.text.index("×高新区「", ans.text.index("数值对比"))


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
