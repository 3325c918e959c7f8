"""Loading: metadata extracted from the bundled pages (without the manifest), chrome removed, body intact."""

from __future__ import annotations

import pytest

from assistant.errors import LoadError
from assistant.loading import extract_metadata, load_document, parse_text, safe_name

D000 = "000_bd134bdf4e19f00a.txt"
D001 = "001_86a68042849f8c0b.txt"
D002 = "002_e3c827dfd055a908.txt"
D003 = "003_944198d32a153964.txt"
D004 = "004_8f875c1b6a79fb69.txt"

# ------------------------------------------------------------------------------------ bundled metadata

EXPECTED = {
    D000: {"zone": "长治高新区", "speaker": "张志刚", "kind": "讲话", "province": "山西"},
    D001: {"zone": "×高新区", "kind": "讲话", "province": "甘肃"},
    D002: {"zone": "常德经开区", "speaker": "李育智", "province": "湖南", "date": "2021-02-04"},
    D003: {"zone": "长沙经开区", "kind": "工作要点", "province": "湖南"},
    D004: {"zone": "XX区", "kind": "发言提纲"},
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_metadata_without_manifest(clean_docs, name):
    meta = clean_docs[name].meta
    for key, value in EXPECTED[name].items():
        assert meta.get(key) == value, (key, meta)


def test_documents_without_a_named_speaker_get_none(clean_docs):
    # 001 (masked, no speaker) and 003 (a party committee's work plan) name no person.
    assert "speaker" not in clean_docs[D001].meta
    assert "speaker" not in clean_docs[D003].meta
    assert "speaker" not in clean_docs[D004].meta


def test_years(clean_docs):
    assert clean_docs[D000].meta["year"] == 2018
    assert clean_docs[D001].meta["year"] == 2021  # the speech's year, not the repost date (2022)
    assert clean_docs[D002].meta["year"] == 2021
    assert clean_docs[D003].meta["year"] == 2020
    assert clean_docs[D004].meta["year"] == 2018


def test_metadata_rows_are_read_before_removal(clean_docs):
    m0, m3 = clean_docs[D000].meta, clean_docs[D003].meta
    assert m0["published"] == "2018-04-23"
    assert m0["page_title"] == "张志刚在长治高新区2018年工作会议暨转型项目建设年动员会上的讲话"
    assert m3["published"] == "2020-03-04"
    assert m3["source"] == "经济研究室"


# ------------------------------------------------------------------------------------ chrome removed

CHROME = ["当前位置", "字体大小", "保存为word", "索引号", "阅读次数", "字号:【", "归档时间", "推荐访问",
          "扫一扫在手机打开当前页", "百事通范文网", "下面是小编", "笔扫千军", "image1.png", "[bookmark",
          "2022年在高新区工作会议上讲话"]


@pytest.mark.parametrize("name", [D000, D001, D002, D003, D004])
def test_chrome_removed(clean_docs, name):
    text = clean_docs[name].text
    left = [c for c in CHROME if c in text]
    assert not left, left


def test_watermark_removed_from_inside_a_word(bundled, clean_docs):
    assert "服笔扫千军整理务质效" in bundled[D001].read_text("utf-8")
    assert "切实提高服务质效" in clean_docs[D001].text


def test_trailing_page_number_and_image_dropped(clean_docs):
    assert clean_docs[D004].text.endswith("更大规模的发展。")


def test_closing_signature_date_is_body_not_header(clean_docs):
    """003 ends with its signature date "2020年3月4日" (dev-022's answer keyword). It is the last line of the
    document, not a "date + source" header line, and must stay in the text (and give the document's date)."""
    doc = clean_docs[D003]
    assert doc.text.endswith("2020年3月4日"), doc.text[-40:]
    assert doc.meta.get("date") == "2020-03-04"


# ------------------------------------------------------------------------------------ body intact

# Evidence strings of dev.jsonl that come from page header / metadata-table lines, which the cleaner removes
# on purpose (their content goes to the metadata instead), so they are not in the clean text:
#   "张志刚在长治高新区2018年工作会议暨转型项目建设年动员会上的讲话" (dev-002, dev-040): the 标题 row of 000's
#       metadata table ("标题张志刚在…的讲话") -> meta["page_title"]; the body keeps the subtitle
#       "——在长治高新区2018年工作会议暨转型项目建设年动员会上的讲话" and the line "张志刚".
#   "发布时间 : 2020-03-04" (dev-022): the publication row of 003 -> meta["published"]; the body keeps the
#       closing date line "2020年3月4日".
METADATA_LINE_EVIDENCE = {
    "张志刚在长治高新区2018年工作会议暨转型项目建设年动员会上的讲话": (D000, "page_title"),
    "发布时间 : 2020-03-04": (D003, "published"),
}


def test_every_body_evidence_string_is_verbatim_in_clean_text(dev_items, clean_docs, bundled):
    checked, missing = 0, []
    for item in dev_items:
        docs = item["doc"] if isinstance(item["doc"], list) else [item["doc"]]
        for ev in item["evidence"]:
            if ev in METADATA_LINE_EVIDENCE:
                continue
            checked += 1
            if not any(ev in clean_docs[d].text for d in docs):
                missing.append((item["id"], ev))
    assert not missing, missing
    assert checked >= 90


def test_skipped_evidence_really_is_header_metadata(clean_docs, bundled):
    for ev, (name, key) in METADATA_LINE_EVIDENCE.items():
        raw_lines = [ln.strip() for ln in bundled[name].read_text("utf-8").splitlines()]
        assert ev in raw_lines or "标题" + ev in raw_lines, ev  # a whole line of the header table
        assert ev not in clean_docs[name].text
        assert clean_docs[name].meta[key] in (ev, "2020-03-04")
    assert "——在长治高新区2018年工作会议暨转型项目建设年动员会上的讲话" in clean_docs[D000].text


def test_clean_text_is_made_of_file_lines(bundled, clean_docs):
    """Every paragraph of the clean text is the concatenation of (stripped) lines of the file."""
    for name, doc in clean_docs.items():
        raw = bundled[name].read_text("utf-8").replace("笔扫千军整理", "")
        squashed_raw = "".join(raw.split())
        for para in doc.text.split("\n"):
            assert "".join(para.split()) in squashed_raw, (name, para[:40])


# ------------------------------------------------------------------------------------ the cleaner on synthetic pages

PAGE = """当前位置：首页 > 新闻中心 > 领导讲话
您的位置：首页 > 政务公开
字体大小：【大】【中】【小】
索引号：11140400MB0000000X/2019-00012
发文字号：长高管发〔2019〕3号
发布日期：2019-03-15
来源：高新区管委会
阅读次数：1024

在长治高新区2019年工作会议上的讲话

同志们：
时间紧、任务重，我们要抓紧。今年是全面建成小康社会的关键之年，我们要以更加奋发有为的精神状态，推动各项
工作取得新成效，确保完成全年目标任务。

12

01
坚持创新驱动

一、加快产业转型升级
长治高新区要坚持项目为王，持续优化营商环境，推动园区高质量发展。

- 3 -

第 4 页
打印 关闭
扫一扫在手机打开当前页
"""


@pytest.fixture(scope="module")
def page():
    return parse_text(PAGE, "page.txt")


def test_breadcrumbs_and_widgets_removed(page):
    for chrome in ("当前位置", "您的位置", "首页", "字体大小", "阅读次数", "打印", "扫一扫"):
        assert chrome not in page.text, chrome


def test_metadata_table_removed_and_read(page):
    for chrome in ("索引号", "发文字号", "发布日期", "来源", "11140400MB"):
        assert chrome not in page.text, chrome
    assert page.meta["published"] == "2019-03-15"
    assert page.meta["source"] == "高新区管委会"
    assert page.meta["zone"] == "长治高新区"
    assert page.meta["year"] == 2019
    assert page.meta["kind"] == "讲话"


def test_sentence_starting_with_shijian_survives(page):
    assert "时间紧、任务重，我们要抓紧。" in page.text


def test_time_row_is_removed_but_time_sentence_kept():
    doc = parse_text("时间：2020-05-06\n标题：测试\n\n时间紧、任务重，我们要抓紧。园区建设的各项工作都要加快推进，不能拖延。\n", "t.txt")
    assert "2020-05-06" not in doc.text
    assert doc.text.startswith("时间紧、任务重，我们要抓紧。")


def test_page_numbers_removed_part_number_kept(page):
    lines = page.text.split("\n")
    for stray in ("12", "- 3 -", "第 4 页", "3", "4"):
        assert stray not in lines, stray
    i = lines.index("01")
    assert lines[i + 1] == "坚持创新驱动"
    assert "一、加快产业转型升级" in lines


def test_mid_paragraph_line_break_joined(page):
    assert "推动各项工作取得新成效，确保完成全年目标任务。" in page.text
    assert "各项\n工作" not in page.text


def test_line_breaks_not_joined_across_headings_and_sentence_ends():
    raw = ("一、总体要求\n"
           "坚持稳中求进工作总基调，全面贯彻新发展理念，推动高质量发展取得新的更大成效。\n"
           "二、重点任务\n"
           "加快建设现代产业体系，推动产业链供应链优化升级，培育壮大战略性新兴产业集群。\n")
    text = parse_text(raw, "x.txt").text
    assert text.split("\n") == [ln for ln in raw.split("\n") if ln]


def test_template_site_banner_and_title_removed():
    raw = ("某某范文网\n当前位置 首页 >专题范文 > 讲话\n"
           "2022年在开发区大会上讲话\n"
           "下面是小编为大家整理的2022年在开发区大会上讲话，供大家参考。\n"
           "2022年在开发区大会上讲话\n"
           "同志们：今年我们要全力以赴抓项目、促投资、稳增长，推动开发区高质量发展迈上新台阶。\n")
    text = parse_text(raw, "t.txt").text
    assert "范文网" not in text and "小编" not in text and "2022年在开发区大会上讲话" not in text
    assert text.startswith("同志们：今年我们要全力以赴")


def test_title_without_subtitle_then_speaker_line():
    """A title line followed by the speaker's name (no '——' subtitle between them)."""
    raw = "在高新区2019年工作会议上的讲话\n\n王小明\n\n同志们：\n今年我们要全力以赴抓项目、促投资、稳增长，推动高新区高质量发展。\n"
    meta = parse_text(raw, "t.txt").meta
    assert meta["title"] == "在高新区2019年工作会议上的讲话"
    assert meta.get("speaker") == "王小明"


def test_extract_metadata_direct():
    meta = extract_metadata("常德经开区工作报告\n(2021年3月1日)\n同志们:\n常德经开区今年要加快发展。常德经开区要抓项目。")
    assert meta["date"] == "2021-03-01"
    assert meta["zone"] == "常德经开区"
    assert "province" not in meta  # none named: the key is left out, not guessed


def test_text_without_chinese_is_refused():
    with pytest.raises(LoadError, match="中文"):
        parse_text("Only English here, no Chinese at all.\n" * 5, "en.txt")


def test_only_chrome_is_refused():
    with pytest.raises(LoadError):
        parse_text("当前位置：首页 > 新闻\n字体大小：【大】【中】【小】\n打印 关闭\n", "chrome.txt")


def test_safe_name():
    assert safe_name("../../etc/passwd") == "passwd"
    assert safe_name("..\\..\\x.txt") == "x.txt"
    assert safe_name("my report 2020.txt") == "my_report_2020.txt"
    assert safe_name("长治 讲话.txt") == "长治_讲话.txt"
    assert safe_name(".hidden.txt") == "hidden.txt"
    assert safe_name("a\x00b\nc.txt") == "abc.txt"
    assert safe_name("../") == "document.txt"
    assert len(safe_name("长" * 400 + ".txt")) <= 150


# ------------------------------------------------------------------------------------ load_document (readers)


def test_gbk_file_through_load_document(tmp_path):
    pytest.importorskip("assistant.readers")
    body = "长治高新区要坚持项目为王，持续优化营商环境，推动园区高质量发展。\n二是加快产业转型，培育新兴产业集群。\n"
    path = tmp_path / "gbk.txt"
    path.write_bytes(("当前位置：首页 > 新闻\n\n" + body).encode("gbk"))
    doc = load_document(path)
    assert doc.name == "gbk.txt"
    assert "长治高新区要坚持项目为王" in doc.text
    assert "当前位置" not in doc.text


def test_load_document_name_override_and_manifest_overrides(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("长治高新区要坚持项目为王，持续优化营商环境，推动园区高质量发展。", "utf-8")
    doc = load_document(path, {"zone": "测试区", "speaker": ""}, name="../../escape 文件.txt")
    assert doc.name == "escape_文件.txt"
    assert doc.meta["zone"] == "测试区"


def test_load_document_errors_are_load_errors(tmp_path):
    pytest.importorskip("assistant.readers")
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    binary = tmp_path / "bin.txt"
    binary.write_bytes(bytes(range(256)) * 40)
    for path in (empty, binary, tmp_path / "missing.txt"):
        with pytest.raises(LoadError):
            load_document(path)


def test_content_hash_changes_with_text_and_meta(clean_docs):
    from assistant.loading import LoadedDoc

    doc = clean_docs[D003]
    same = LoadedDoc(doc.name, doc.text, dict(doc.meta))
    assert same.content_hash == doc.content_hash
    assert LoadedDoc(doc.name, doc.text + "。", dict(doc.meta)).content_hash != doc.content_hash
    assert LoadedDoc(doc.name, doc.text, {**doc.meta, "zone": "x"}).content_hash != doc.content_hash
