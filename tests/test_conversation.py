"""Each follow-up rule, on the state it keeps (no store needed: the bundled manifest names the documents)."""

from assistant.conversation import list_items, resolve_followup

DOCS = {
    "000.txt": {"zone": "长治高新区", "province": "山西", "city": "长治", "speaker": "张志刚", "title": "实施六大战略"},
    "001.txt": {"zone": "×高新区", "province": "甘肃", "title": "在高新区2021年工作会议上的讲话"},
    "002.txt": {"zone": "常德经开区", "province": "湖南", "city": "常德", "speaker": "李育智"},
    "003.txt": {"zone": "长沙经开区", "province": "湖南", "city": "长沙", "kind": "工作要点"},
    "004.txt": {"zone": "XX区", "meeting": "全区工作务虚会", "kind": "发言提纲"},
}


def turn(q, a="…"):
    return [{"role": "user", "content": q}, {"role": "assistant", "content": a}]


def test_metric_switch_keeps_zone_and_year():
    r = resolve_followup("那它的税收收入呢?", turn("长治高新区2017年营业收入是多少?"), DOCS)
    assert r.rule == "metric"
    assert r.docs == ["000.txt"]
    assert "税收收入" in r.query and "2017" in r.query and "长治高新区" in r.query
    assert "营业收入" not in r.query and "它" not in r.query


def test_zone_switch_keeps_question():
    r = resolve_followup("那甘肃×高新区呢?", turn("常德经开区2021年固定资产投资的增长目标是多少?"), DOCS)
    assert r.rule == "zone"
    assert r.docs == ["001.txt"]
    assert "固定资产投资" in r.query and "常德" not in r.query


def test_zone_after_comparison_adds_zone():
    r = resolve_followup("那长沙呢?", turn("长治和常德的主导产业有什么不同?"), DOCS)
    assert r.rule == "zone"
    assert r.docs == ["000.txt", "002.txt", "003.txt"]


def test_item_reference_uses_previous_list():
    hist = turn("务虚会发言里说重点工程的资金怎么保障?", "讲了四点:一是限购政策放开,二是融资,三是税源结构越来越好,四是发展势头迅猛。")
    r = resolve_followup("第一点具体是怎么说的?", hist, DOCS)
    assert r.rule == "item" and r.item == "限购政策放开"
    assert r.docs == ["004.txt"]
    r3 = resolve_followup("第三点呢?", hist, DOCS)
    assert r3.item == "税源结构越来越好"


def test_question_without_zone_inherits_zone():
    r = resolve_followup("工业互联网那块主要依托哪个平台?", turn("长沙经开区在智能制造方面有什么安排?"), DOCS)
    assert r.rule == "inherit" and r.docs == ["003.txt"]


def test_new_zone_question_is_not_rewritten():
    r = resolve_followup("常德经开区2020年规模工业产值多少?", turn("长治高新区2017年营业收入是多少?"), DOCS)
    assert r.rule == "none" and r.docs == ["002.txt"]


def test_chain_of_followups():
    hist = turn("长治高新区2017年营业收入是多少?") + turn("那税收收入呢?")
    r = resolve_followup("那常德经开区呢?", hist, DOCS)
    assert r.docs == ["002.txt"] and "税收收入" in r.query


def test_list_items_parsing():
    assert list_items("一是A。二是B。三是C。") == ["A", "B", "C"]
    assert list_items("1. 「甲」[1]\n2. 「乙」[2]") == ["甲」[1]", "乙」[2]"] or len(list_items("1. 甲\n2. 乙")) == 2
    assert list_items("没有列表") == []


def test_item_reference_reads_the_typed_items_of_the_previous_answer():
    from assistant.answer import Answer, Quote
    from assistant.conversation import history_turn

    ans = Answer("answer", query="丰城高新区的三大行动是什么?")
    for text in ("实施项目攻坚行动", "实施招商引资行动", "实施营商环境提升行动"):
        ans.items.append(ans.cite(Quote(text, "d.txt", "t", "丰城高新区", "", 0, len(text))))
    hist = [{"role": "user", "content": "丰城高新区的三大行动是什么?"}, history_turn(ans)]
    assert hist[1]["items"] == ["实施项目攻坚行动", "实施招商引资行动", "实施营商环境提升行动"]
    r = resolve_followup("第二个具体是什么意思?", hist, DOCS)
    assert r.rule == "item" and r.item == "实施招商引资行动"
