"""List answers: one enumeration parser for every shape a document enumerates in, the count its lead
announces, and the choice of the enumeration the question names. Documents written for these tests: the
parser read on their text, `find_list` with a composer over them, and answers from a real store."""

from __future__ import annotations

import pytest

from assistant.answer import Quote
from assistant.lists import asks_for_list, enumerations, find_list, named_count
from assistant.retrieval import Hit
from assistant.text import query_terms
from library_kit import library_with


def _items(text: str, en) -> list[str]:
    return [text[s:e] for s, e in en.items]


def _lists(text: str, shape: str | None = None) -> list[list[str]]:
    return [_items(text, en) for en in enumerations(text) if shape is None or en.shape == shape]


def _lead(text: str, en) -> str:
    return text[en.lead[0]:en.lead[1]] if en.lead else ""


def _find(text: str, first: str, shape: str | None = None):
    """The enumeration whose first item starts with `first`."""
    for en in enumerations(text):
        if text[en.items[0][0]:].startswith(first) and (shape is None or en.shape == shape):
            return en
    raise AssertionError(f"no enumeration starts with {first!r}: {_lists(text)}")


# ------------------------------------------------------------------------------------------ shapes


def test_inline_ordinals_after_a_named_count():
    text = ("回顾全年，园区发展仍面临“三个不足”：一是龙头企业偏少，产值超百亿的只有1家；二是研发投入偏低，"
            "强度不到2%；三是用地指标偏紧，可供地块不足500亩。对此要高度重视。")
    en = _find(text, "一是龙头")
    assert en.shape == "ordinal" and en.count == 3
    assert _items(text, en) == ["一是龙头企业偏少，产值超百亿的只有1家；", "二是研发投入偏低，强度不到2%；",
                                "三是用地指标偏紧，可供地块不足500亩。"]
    assert "三个不足" in _lead(text, en)


def test_ordinals_one_per_paragraph_with_the_count_of_the_lead():
    text = ("今年要重点抓好四个方面工作。\n"
            "一是聚焦招商引资，全年引进亿元项目20个。力争签约额翻番。\n"
            "二是聚焦项目建设，新开工项目15个。\n"
            "三是聚焦科技创新，新增高企12家。\n"
            "四是聚焦作风建设，推行首问负责制。\n"
            "会议还对安全生产作了部署。")
    en = _find(text, "一是聚焦")
    assert en.count == 4 and en.name.startswith("四个方面")
    # an item is its first sentence, not its paragraph
    assert _items(text, en) == ["一是聚焦招商引资，全年引进亿元项目20个。", "二是聚焦项目建设，新开工项目15个。",
                                "三是聚焦科技创新，新增高企12家。", "四是聚焦作风建设，推行首问负责制。"]


def test_other_ordinal_families():
    text = ("下一步要做到三个坚持：第一，坚持规划先行，编制园区总体规划；第二，坚持项目为王，实行专班推进；"
            "第三，坚持服务至上，推行帮办代办。\n"
            "推进改革分三步走。首先，摸清底数，建立资产台账。其次，分类处置，盘活闲置厂房。最后，建章立制，防止新增低效用地。\n"
            "重点做好三件事：\n1）优化审批。压缩时限一半。\n2）降低成本。减免租金。\n3）畅通融资。设立风险补偿资金。")
    assert _items(text, _find(text, "第一")) == ["第一，坚持规划先行，编制园区总体规划；", "第二，坚持项目为王，实行专班推进；",
                                                "第三，坚持服务至上，推行帮办代办。"]
    assert _items(text, _find(text, "首先")) == ["首先，摸清底数，建立资产台账。", "其次，分类处置，盘活闲置厂房。",
                                                "最后，建章立制，防止新增低效用地。"]
    en = _find(text, "1）")
    assert _items(text, en) == ["1）优化审批。", "2）降低成本。", "3）畅通融资。"] and en.count == 3


def test_numbered_headings_under_one_parent_and_the_named_count_that_announces_them():
    text = ("二、实施三大提升行动\n"
            "（一）产业提升行动。培育百亿企业2家。\n"
            "（二）平台提升行动。新建孵化器3个。\n"
            "（三）服务提升行动。企业诉求24小时响应。\n"
            "三、保障措施\n"
            "1.加强领导。成立领导小组。\n"
            "2.强化考核。实行月通报。")
    en = _find(text, "（一）")
    assert en.shape == "heading" and en.count == 3 and "三大提升行动" in en.name
    assert _items(text, en) == ["（一）产业提升行动。", "（二）平台提升行动。", "（三）服务提升行动。"]
    assert _items(text, _find(text, "1.加强")) == ["1.加强领导。", "2.强化考核。"]
    assert ["二、实施三大提升行动", "三、保障措施"] in _lists(text, "heading")


def test_a_paragraphs_heading_sentence_is_never_its_first_item():
    text = ("2.壮大先进制造业。坚持龙头带动，做强链条。加快建设新能源电池产业园。推进半导体封测基地建设。\n"
            "3.发展现代服务业。")
    for items in _lists(text):
        assert not items[0].startswith("2.壮大先进制造业") or items == ["2.壮大先进制造业。", "3.发展现代服务业。"]


def test_parallel_sentences_and_clauses():
    text = ("做好明年工作，必须坚持“三个不放松”：坚持招商引资不放松、坚持项目建设不放松、坚持优化服务不放松，"
            "奋力冲刺千亿园区。\n"
            "聚焦主导产业，延伸产业链条。聚焦科技创新，壮大创新主体。聚焦改革开放，激发发展活力。")
    en = _find(text, "坚持招商", "parallel")
    assert _items(text, en) == ["坚持招商引资不放松", "坚持项目建设不放松", "坚持优化服务不放松"]
    en = _find(text, "聚焦主导", "parallel")
    assert _items(text, en) == ["聚焦主导产业，延伸产业链条。", "聚焦科技创新，壮大创新主体。", "聚焦改革开放，激发发展活力。"]


def test_bulleted_lines():
    text = ("今年主要预期目标是：\n——营业收入增长12%；\n——固定资产投资增长10%；\n——新增规上企业30家。\n"
            "围绕上述目标，做好以下工作。")
    en = _find(text, "——营业收入")
    assert en.shape == "bullet" and en.announced
    assert _items(text, en) == ["——营业收入增长12%；", "——固定资产投资增长10%；", "——新增规上企业30家。"]


def test_named_count_with_its_items_after_it():
    text = ("园区将构建“一核两翼”空间格局，即以科创中心为核、东区制造片区为东翼、西区物流片区为西翼。"
            "同时实施“千亩百企”工程，就是盘活低效用地1000亩、培育成长型企业100家。")
    en = _find(text, "以科创中心", "defined")
    assert _items(text, en) == ["以科创中心为核", "东区制造片区为东翼", "西区物流片区为西翼"]
    en = _find(text, "盘活低效", "defined")
    assert _items(text, en) == ["盘活低效用地1000亩", "培育成长型企业100家"]


def test_named_count_with_its_items_before_it():
    text = ("园区将聚焦高端装备、生物医药、电子信息“三大”主导产业，培育千亿级产业集群。"
            "今年先后引进宏远重工、华晟药业两个龙头项目。"
            "各责任人要按照抓进度、抓协调、抓服务、抓投产“四抓”要求推进。")
    en = _find(text, "高端装备", "series")
    assert _items(text, en) == ["高端装备", "生物医药", "电子信息"] and en.count == 3
    en = _find(text, "宏远重工", "series")
    assert _items(text, en) == ["宏远重工", "华晟药业"] and en.count == 2
    en = _find(text, "抓进度", "series")
    assert _items(text, en) == ["抓进度", "抓协调", "抓服务", "抓投产"] and en.count == 4


def test_items_run_together_in_a_sentence_lose_the_words_around_them():
    text = "要盘活存量土地、厂房、资金，并加强对青年人才、海外人才、技能人才的服务保障。"
    assert ["存量土地", "厂房", "资金"] in _lists(text, "series")  # not "要盘活存量土地"
    assert ["青年人才", "海外人才", "技能人才"] in _lists(text, "series")


def test_the_lead_announces_more_than_its_paragraph_holds():
    text = ("今年要实施五项重点工程。一是强链工程，引进配套企业10家。二是技改工程，完成技改投资8亿元。\n"
            "三是人才工程，引进博士20名。\n"
            "四是数字工程，建设数字车间5个。\n"
            "五是环境工程，建成污水处理厂。\n"
            "六是其他事项。")
    en = _find(text, "一是强链")
    assert en.count == 5  # read across the paragraphs that follow
    assert [t[:4] for t in _items(text, en)][:5] == ["一是强链", "二是技改", "三是人才", "四是数字", "五是环境"]
    docs = {"plan.txt": text}
    found = find_list(_Comp(docs, "今年要实施的五项重点工程是哪五项？"), _hits(docs)[:1])
    assert [q.text[:4] for q in found[0]] == ["一是强链", "二是技改", "三是人才", "四是数字", "五是环境"]
    assert found.count == 5 and not found.note


# ------------------------------------------------------------------------------------------ find_list


class _Comp:
    """What find_list reads of a composer: the question, the documents' text, their key terms, quotes."""

    def __init__(self, docs: dict[str, str], query: str) -> None:
        self.docs = docs
        self.query = query

    def text(self, doc: str) -> str:
        return self.docs[doc]

    def key_terms(self, query: str) -> list[str]:
        return list(query_terms(query))

    def quote(self, doc: str, start: int, end: int, section: str) -> Quote:
        text = self.docs[doc]
        while start < end and text[start] in " \n，；、":
            start += 1
        while end > start and text[end - 1] in " \n，；、：":
            end -= 1
        return Quote(text[start:end], doc, doc, "", section, start, end)


def _hits(docs: dict[str, str]) -> list[Hit]:
    """Every paragraph of the documents as a retrieved passage, in document order."""
    hits = []
    for doc, text in docs.items():
        pos = 0
        for line in text.split("\n"):
            if line.strip():
                hits.append(Hit(f"{doc}:{pos}", doc, line, 1.0, {"start": pos, "end": pos + len(line)}))
            pos += len(line) + 1
    return hits


REPORT = ("某经开区2024年工作安排\n"
          "全年主要目标是：营业收入增长10%，固定资产投资增长12%。\n"
          "一、重点工作\n"
          "今年要重点抓好五个方面工作。\n"
          "一是抓招商引资，全年签约亿元项目40个。\n"
          "二是抓项目建设，新开工项目25个。\n"
          "三是抓科技创新，新增高企15家。\n"
          "四是抓营商环境，推行拿地即开工。\n"
          "二、产业发展\n"
          "围绕主导产业，聚焦新能源、新材料、高端装备“三新”产业，打造三个百亿集群。"
          "同时开展“三大攻坚行动”：\n"
          "（一）招商攻坚行动。组建专业招商队伍。\n"
          "（二）项目攻坚行动。实行项目专班推进。\n"
          "（三）要素攻坚行动。保障用地3000亩。\n"
          "三、作风建设\n"
          "要坚决整治“庸、懒、散”，推动干部担当作为。")


def test_find_list_gives_the_enumeration_the_question_names():
    docs = {"report.txt": REPORT}
    found = find_list(_Comp(docs, "这个经开区的三大攻坚行动分别是什么？"), _hits(docs))
    items, lead, doc = found
    assert [q.text for q in items] == ["（一）招商攻坚行动。", "（二）项目攻坚行动。", "（三）要素攻坚行动。"]
    assert doc == "report.txt" and found.count == 3 and not found.note
    assert lead is not None and "三大攻坚行动" in lead.text


def test_find_list_named_count_with_items_before_it():
    docs = {"report.txt": REPORT}
    items, lead, _ = find_list(_Comp(docs, "“三新”产业是哪三个？"), _hits(docs))
    assert [q.text for q in items] == ["新能源", "新材料", "高端装备"]
    assert lead is not None and "“三新”" in lead.text


def test_find_list_says_when_fewer_items_than_announced_were_found():
    docs = {"report.txt": REPORT}
    found = find_list(_Comp(docs, "今年要重点抓好哪几个方面的工作？"), _hits(docs))
    items, lead, _ = found
    assert [q.text[:5] for q in items] == ["一是抓招商", "二是抓项目", "三是抓科技", "四是抓营商"]
    assert lead is not None and "五个方面" in lead.text
    assert found.count == 5 and "5" in found.note and "4" in found.note


def test_find_list_declines_a_list_about_something_else():
    docs = {"report.txt": REPORT}
    assert find_list(_Comp(docs, "园区有哪些人才公寓？"), _hits(docs)) is None


def test_list_questions_by_their_named_count():
    assert asks_for_list("青山经开区今年要抓的六个方面工作都是啥？")
    assert asks_for_list("园区存在哪“两个短板”？")
    assert asks_for_list("那个“双百双千”工程，百和千分别指什么？")
    assert named_count("“三个一批”指的是哪三个？") == "三个一批"
    assert not asks_for_list("第二个具体要达到什么要求？")  # an ordinal, not a count
    assert not asks_for_list("三大主导产业去年产值是多少？")  # a quantity
    assert not asks_for_list("园区今年的营业收入是多少？")


# ------------------------------------------------------------------------------------------ answers


FILES = {
    "青岚经开区2024年工作报告.txt":
        "青岚经开区2024年工作报告\n"
        "2023年，全区实现营业收入412亿元，增长11%。\n"
        "2024年要重点实施“四大工程”。\n"
        "（一）实施强链工程。引进链上企业30家。\n"
        "（二）实施技改工程。完成技改投资20亿元。\n"
        "（三）实施平台工程。新建研发平台6个。\n"
        "（四）实施安居工程。新建人才公寓800套。\n"
        "同时，聚焦光伏组件、储能电池、氢能装备“三新”产业，打造新能源产业集群。",
    "白沙高新区经济运行情况.txt":
        "白沙高新区上半年经济运行情况\n"
        "上半年，全区经济运行稳中有进，主要呈现以下三个特点：一是工业生产回升，规上工业增加值增长8.1%；"
        "二是投资持续发力，固定资产投资增长13.4%；三是外贸逆势增长，出口额增长6.2%。\n"
        "下半年，要坚持招商引资不松劲、坚持项目建设不停步、坚持企业服务不打烊。",
}


@pytest.fixture(scope="module")
def bot(tmp_path_factory, shared_cache):
    return library_with(tmp_path_factory, shared_cache, FILES, "lists")


def test_answer_items_of_a_named_count_followed_by_headings(bot):
    ans = bot.ask("青岚经开区2024年要实施的四大工程是哪四个？")
    assert ans.kind == "answer"
    assert [q.text for q in ans.items] == ["（一）实施强链工程。", "（二）实施技改工程。", "（三）实施平台工程。",
                                           "（四）实施安居工程。"]
    assert ans.lead and "四大工程" in ans.lead[0].text
    assert all(q in ans.quotes for q in ans.items)


def test_answer_items_named_before_their_count(bot):
    ans = bot.ask("青岚经开区的“三新”产业是哪几个？")
    assert [q.text for q in ans.items] == ["光伏组件", "储能电池", "氢能装备"]


def test_answer_items_of_inline_ordinals(bot):
    ans = bot.ask("白沙高新区上半年经济运行有哪几个特点？")
    assert [q.text[:6] for q in ans.items] == ["一是工业生产", "二是投资持续", "三是外贸逆势"]
    assert ans.lead and "三个特点" in ans.lead[0].text
