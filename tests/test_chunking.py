"""Chunking: passages within the size limit, exact offsets, full coverage, no cut sentences, section paths."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from assistant.chunking import MAX_CHARS, chunk, enumeration_count, heading_level, heading_text, sections, split_sentences

D000 = "000_bd134bdf4e19f00a.txt"


@pytest.fixture(scope="module")
def chunked(clean_docs):
    return {name: (doc.text, chunk(doc.text)) for name, doc in clean_docs.items()}


def _uncovered(text: str, passages) -> list[int]:
    covered = bytearray(len(text))
    for p in passages:
        covered[p.start:p.end] = b"\x01" * (p.end - p.start)
    return [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]


def _sentences(text: str):
    """Sentence spans of every paragraph, whitespace at their edges excluded."""
    pos = 0
    for line in text.split("\n"):
        for s, e in split_sentences(line, pos):
            seg = text[s:e]
            s2 = s + len(seg) - len(seg.lstrip())
            e2 = e - (len(seg) - len(seg.rstrip()))
            if e2 > s2:
                yield s2, e2
        pos += len(line) + 1


def _check_passages(text: str, passages) -> None:
    for i, p in enumerate(passages):
        assert 0 <= p.start < p.end <= len(text), p
        assert p.text == text[p.start:p.end]
        assert p.text == p.text.strip()
        assert p.index == i
    for a, b in zip(passages, passages[1:]):
        assert a.end <= b.start, (a, b)  # in order, no overlap


# ------------------------------------------------------------------------------------ bundled documents


def test_bundled_passage_count(chunked):
    total = sum(len(ps) for _, ps in chunked.values())
    assert 150 <= total <= 400, total


@pytest.mark.parametrize("name", sorted([
    "000_bd134bdf4e19f00a.txt", "001_86a68042849f8c0b.txt", "002_e3c827dfd055a908.txt",
    "003_944198d32a153964.txt", "004_8f875c1b6a79fb69.txt"]))
def test_bundled_passages(chunked, name):
    text, passages = chunked[name]
    assert passages
    assert max(len(p.text) for p in passages) <= MAX_CHARS
    _check_passages(text, passages)
    assert not _uncovered(text, passages)
    # no sentence is cut, unless it is longer than the limit itself
    bounds = {p.start for p in passages} | {p.end for p in passages}
    cut = [(s, e, text[s:e][:30]) for s, e in _sentences(text)
           if e - s <= MAX_CHARS and any(s < b < e for b in bounds)]
    assert not cut, cut
    # a passage never crosses a heading: a heading line only ever starts a passage
    for p in passages:
        for line in p.text.split("\n")[1:]:
            assert heading_level(line) is None or line.strip() in ("",), (name, line[:40])


def test_every_bundled_passage_has_its_section(chunked):
    for name, (text, passages) in chunked.items():
        if name.startswith("003"):
            # the first passages (title + guiding principle) come before the first heading
            assert passages[0].section == ""
        assert any(p.section for p in passages), name


def test_section_path_of_a_list_item(chunked):
    text, passages = chunked[D000]
    hit = [p for p in passages if "一要打造智能制造产业园" in p.text]
    assert len(hit) == 1
    section = hit[0].section
    assert "二、聚焦产业转型" in section
    assert "(二)坚持大平台承载" in section
    assert section.index("二、聚焦产业转型") < section.index("(二)坚持大平台承载")


# ------------------------------------------------------------------------------------ headings


@pytest.mark.parametrize("line, level", [
    ("一、总体要求", 1),
    ("十二、其他事项", 1),
    ("第一部分 总体思路", 0),  # a report's parts stand above 一、二、三
    ("第三章 保障措施", 0),
    ("第一，客观看待成绩，坚定加快发展的信心决心。", 1),  # a speech's 第一，… heading line
    ("第一，要清醒认识当前形势。我们面临的机遇前所未有，挑战也前所未有，必须保持战略定力，抓住窗口期。", None),
    ("01", 1),
    ("(一)坚持大平台承载", 2),
    ("（一）坚持大平台承载", 2),
    ("(十)加强党的建设", 2),
    ("1、我们面临较多发展利好", 3),
    ("1.创新招商引资方式。大力开展工业地产项目招商。", 3),
    ("12．强化要素保障", 3),
    ("(1)完善政策", 4),
    ("（2）强化支持", 4),
])
def test_heading_levels(line, level):
    assert heading_level(line) == level


@pytest.mark.parametrize("line", [
    "", "   ", "同志们:", "2017年是高新区历史上极不平凡的一年。", "1.5亿元用于基础设施建设。",
    "2020年,长沙经开区经济社会发展总的指导思想", "一是主要指标平稳增长。", "123", "一" * 500,
])
def test_not_headings(line):
    assert heading_level(line) is None


def test_heading_text_is_first_sentence():
    assert heading_text("1.创新招商引资方式。大力开展工业地产项目招商。") == "1.创新招商引资方式"
    assert heading_text("一、总体要求") == "一、总体要求"
    assert len(heading_text("(一)" + "很长的标题" * 30)) <= 61


def test_heading_hierarchy_in_sections():
    text = ("一、总体要求\n"
            "坚持稳中求进。\n"
            "(一)加快发展\n"
            "1、招商引资\n"
            "大力开展招商。\n"
            "（二）优化环境\n"
            "1.审批改革\n"
            "推进审批改革。\n"
            "二、保障措施\n"
            "加强组织领导。\n")
    paths = {text[p.start:p.end]: p.section for p in sections(text)}
    assert paths["坚持稳中求进。"] == ("一、总体要求",)
    assert paths["大力开展招商。"] == ("一、总体要求", "(一)加快发展", "1、招商引资")
    assert paths["推进审批改革。"] == ("一、总体要求", "（二）优化环境", "1.审批改革")
    assert paths["加强组织领导。"] == ("二、保障措施",)  # a level-1 heading closes everything below it
    passages = chunk(text)
    assert [p for p in passages if "推进审批改革" in p.text][0].section == "一、总体要求 › （二）优化环境 › 1.审批改革"


def test_parts_hold_their_numbered_headings():
    text = "第一部分 2023年工作回顾\n一、经济运行稳中向好\n全年实现营业收入312.6亿元。\n第二部分 2024年工作安排\n一、做强主导产业\n加快建设新材料产业园。\n"
    sections = [p.section for p in chunk(text) if "。" in p.text]
    assert sections == ["第一部分 2023年工作回顾 › 一、经济运行稳中向好", "第二部分 2024年工作安排 › 一、做强主导产业"]


def test_part_heading_is_top_level():
    text = "第一部分 总体思路\n坚持稳中求进。\n第二部分 重点任务\n加快转型发展。\n"
    passages = chunk(text)
    assert [(p.text, p.section) for p in passages] == [
        ("第一部分 总体思路\n坚持稳中求进。", "第一部分 总体思路"),
        ("第二部分 重点任务\n加快转型发展。", "第二部分 重点任务")]


def test_part_number_belongs_to_its_heading():
    text = "01\n坚持创新驱动\n创新是第一动力。我们要加大研发投入。\n02\n坚持开放合作\n开放带来进步。\n"
    passages = chunk(text)
    first = [p for p in passages if "创新是第一动力" in p.text][0]
    second = [p for p in passages if "开放带来进步" in p.text][0]
    assert first.section == "01 坚持创新驱动"
    assert second.section == "02 坚持开放合作"
    assert first.text.startswith("01\n坚持创新驱动")  # the number is not a passage on its own
    assert all(p.text.strip() not in ("01", "02") for p in passages)


def test_passages_do_not_cross_headings():
    text = "一、第一部分\n甲。\n二、第二部分\n乙。\n"
    passages = chunk(text)
    assert [p.text for p in passages] == ["一、第一部分\n甲。", "二、第二部分\n乙。"]


# ------------------------------------------------------------------------------------ shapes of text


def test_text_without_headings():
    text = "\n".join(f"这是第{i}段正文，讲的是园区发展的第{i}个方面。我们要抓好落实，确保取得实效。" for i in range(40))
    passages = chunk(text)
    assert len(passages) > 3
    assert all(p.section == "" for p in passages)
    assert all(len(p.text) <= MAX_CHARS for p in passages)
    _check_passages(text, passages)
    assert not _uncovered(text, passages)


def test_single_paragraph_long_text():
    text = "".join(f"第{i}句话讲园区建设要坚持高质量发展。" for i in range(100))
    passages = chunk(text)
    assert len(passages) > 1
    _check_passages(text, passages)
    assert not _uncovered(text, passages)
    for p in passages:
        assert len(p.text) <= MAX_CHARS
        assert p.text.endswith("。")  # cut only at sentence ends


def test_single_short_paragraph():
    passages = chunk("园区要坚持高质量发展。")
    assert [(p.text, p.start, p.end, p.section) for p in passages] == [("园区要坚持高质量发展。", 0, 11, "")]


def test_overlong_sentence_is_cut_at_commas():
    sentence = "，".join(f"推进第{i}项重点工程建设" for i in range(60)) + "。"
    assert len(sentence) > MAX_CHARS
    passages = chunk(sentence)
    assert len(passages) >= 2
    _check_passages(sentence, passages)
    assert not _uncovered(sentence, passages)
    assert all(len(p.text) <= MAX_CHARS for p in passages)
    assert all(p.text.endswith(("，", "。")) for p in passages)


def test_overlong_text_without_any_punctuation_is_hard_cut():
    text = "园" * 1000
    passages = chunk(text)
    assert all(len(p.text) <= MAX_CHARS for p in passages)
    assert "".join(p.text for p in passages) == text


def test_empty_and_blank():
    assert chunk("") == []
    assert chunk("   \n\n \u3000\n") == []


def test_enumeration_count():
    assert enumeration_count("一是主要指标平稳增长。二是项目建设提速。三是改革取得突破。") == 3
    assert enumeration_count("(一)坚持创新;(二)坚持开放") == 2
    assert enumeration_count("——营业收入增长10%;\n——税收增长8%;") == 2
    assert enumeration_count("园区发展良好。") == 0


# ------------------------------------------------------------------------------------ property


CHINESEISH = st.text(
    alphabet=st.sampled_from(list("园区发展高新一二三四五六七八九十()（）、。，,.：:；！？… \n\t\u3000\r0123456789第部分章是要——")),
    max_size=1500,
)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.text(max_size=1500), CHINESEISH))
def test_chunk_any_text(text):
    passages = chunk(text)
    _check_passages(text, passages)
    assert not _uncovered(text, passages)
    for p in passages:
        # only a run of text with no sentence end or comma within the limit can exceed it: never, it is hard cut
        assert len(p.text) <= MAX_CHARS
