"""Tests for assistant.readers: every fixture is built here, in tmp_path, so nothing binary lives in git."""

from __future__ import annotations

import random
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from assistant.errors import LoadError
from assistant.readers import SUPPORTED_SUFFIXES, decode_bytes, read_raw
from pdfkit import make_pdf

ZH = "园区管委会发布《关于支持企业发展的若干政策》，第一条：鼓励研发投入。"


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return path


def load_error(path: Path, **kw) -> str:
    with pytest.raises(LoadError) as info:
        read_raw(path, **kw)
    return str(info.value)


# ------------------------------------------------------------------------------------------------ encodings


GB18030_ONLY = "园区𠀀规划" + ZH  # 𠀀 (U+20000) is outside GBK: a 4-byte GB18030 sequence


@pytest.mark.parametrize(
    "text, data",
    [
        (ZH, ZH.encode("utf-8")),
        (ZH, ZH.encode("utf-8-sig")),
        (ZH, ZH.encode("gbk")),
        ("园区发展规划纲要", "园区发展规划纲要".encode("gb2312")),
        (GB18030_ONLY, GB18030_ONLY.encode("gb18030")),
        (ZH, b"\xff\xfe" + ZH.encode("utf-16-le")),
        (ZH, b"\xfe\xff" + ZH.encode("utf-16-be")),
        (ZH, b"\xff\xfe\x00\x00" + ZH.encode("utf-32-le")),
        (ZH, b"\x00\x00\xfe\xff" + ZH.encode("utf-32-be")),
    ],
    ids=["utf-8", "utf-8-bom", "gbk", "gb2312", "gb18030", "utf-16-le-bom", "utf-16-be-bom", "utf-32-le-bom",
         "utf-32-be-bom"],
)
def test_txt_encodings_round_trip(tmp_path, text, data):
    assert decode_bytes(data) == text
    assert read_raw(write(tmp_path, "doc.txt", data)) == text


def test_utf8_bom_is_stripped(tmp_path):
    text = read_raw(write(tmp_path, "bom.md", "\ufeff# 标题\n正文"))
    assert text == "# 标题\n正文"


def test_utf16_without_bom_is_detected():
    text = "Zone report 2024: 园区 revenue grew.\n" * 3
    assert decode_bytes(text.encode("utf-16-le")) == text
    assert decode_bytes(text.encode("utf-16-be")) == text


def test_gbk_that_is_also_valid_utf8_stays_chinese():
    # D2 BB ("一" in GBK) is also valid UTF-8 (Cyrillic "һ").
    assert "一一一一一".encode("gbk").decode("utf-8") == "һһһһһ"
    assert decode_bytes("一一一一一".encode("gbk")) == "一一一一一"


@pytest.mark.parametrize(
    "text",
    ["naïve café, résumé", "Привет, как дела? Всё хорошо.", "Ελληνικά κείμενα εδώ", "Copyright © 2024",
     "中文测试文本", "涓枃"],
)
def test_valid_utf8_decodes_as_utf8(text):
    # Each of these is also valid GB18030 (e.g. "café" would read "caf茅").
    assert decode_bytes(text.encode("utf-8")) == text


def test_latin1_text_falls_back_to_a_guess():
    data = "Le café est très bon. Ça va très bien, merci beaucoup à vous.\n".encode("cp1252") * 5
    assert "café" in decode_bytes(data)


def test_line_endings_and_control_characters(tmp_path):
    text = read_raw(write(tmp_path, "crlf.txt", "第一行\r\n第二行\r第三行\n\t缩进\x07\x1b行\x0c下一页"))
    assert text == "第一行\n第二行\n第三行\n\t缩进行\n下一页"


def test_text_without_chinese_is_not_an_error_here(tmp_path):
    assert read_raw(write(tmp_path, "en.txt", "Plain English only.\n")) == "Plain English only.\n"


# ------------------------------------------------------------------------------------------------ refusals


def test_missing_file(tmp_path):
    message = load_error(tmp_path / "nope.txt")
    assert "nope.txt" in message and "不存在" in message


def test_directory(tmp_path):
    (tmp_path / "folder.txt").mkdir()
    message = load_error(tmp_path / "folder.txt")
    assert "folder.txt" in message and "文件夹" in message


def test_unsupported_suffix_lists_supported(tmp_path):
    message = load_error(write(tmp_path, "sheet.xlsx", b"PK\x03\x04"))
    assert "sheet.xlsx" in message and ".xlsx" in message
    assert all(s in message for s in SUPPORTED_SUFFIXES)


def test_old_doc_suffix_names_the_fix(tmp_path):
    assert "另存为 .docx" in load_error(write(tmp_path, "old.doc", b"\xd0\xcf\x11\xe0"))


def test_suffix_is_case_insensitive(tmp_path):
    assert read_raw(write(tmp_path, "UPPER.TXT", ZH)) == ZH


def test_empty_file(tmp_path):
    message = load_error(write(tmp_path, "empty.txt", b""))
    assert "empty.txt" in message and "空" in message


def test_whitespace_only_file(tmp_path):
    message = load_error(write(tmp_path, "blank.md", " \n\t\r\n\u3000 \n"))
    assert "blank.md" in message and "空白" in message


def test_too_large_file(tmp_path):
    message = load_error(write(tmp_path, "big.txt", "园" * 700), max_bytes=1000)  # 2100 bytes
    assert "big.txt" in message and "MB" in message and "ASSISTANT_MAX_FILE_MB" in message


def test_size_exactly_at_limit_is_fine(tmp_path):
    assert read_raw(write(tmp_path, "edge.txt", "a" * 1000), max_bytes=1000) == "a" * 1000


def test_random_bytes_are_binary(tmp_path):
    message = load_error(write(tmp_path, "noise.txt", random.Random(0).randbytes(4096)))
    assert "noise.txt" in message and "二进制" in message


def test_png_renamed_txt_is_binary(tmp_path):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes.fromhex("00000010000000100806000000") + bytes(200)
    message = load_error(write(tmp_path, "photo.txt", png))
    assert "photo.txt" in message and "二进制" in message


def test_control_characters_without_nul_are_binary(tmp_path):
    message = load_error(write(tmp_path, "ctl.txt", bytes(range(1, 32)) * 50))
    assert "二进制" in message


def test_undecodable_bytes(tmp_path):
    # Not UTF-8, not GB18030 (0x80 / 0xFF are never valid there), no NUL, and too short to guess.
    with pytest.raises(LoadError):
        read_raw(write(tmp_path, "odd.txt", b"\xff\x80\xff\x80\xfe"))


# ------------------------------------------------------------------------------------------------ HTML


def test_html_drops_script_style_head_and_comments(tmp_path):
    page = """<!DOCTYPE html><html><head><meta charset="utf-8"><title>政策解读</title>
    <style>body { color: red }</style><script>var secret = 1;</script></head>
    <body><!-- hidden comment --><h1>政策解读</h1><p>第一段   内容&nbsp;&amp;&lt;说明&gt;&#20013;&copy;</p>
    <script>alert(1)</script><noscript>请启用脚本</noscript><template><p>模板</p></template>
    <div>第二段</div><ul><li>一</li><li>二</li></ul><table><tr><td>名称</td><td>数值</td></tr></table></body></html>"""
    text = read_raw(write(tmp_path, "page.html", page))
    assert "alert" not in text and "secret" not in text and "color" not in text
    assert "hidden comment" not in text and "请启用脚本" not in text and "模板" not in text
    assert "第一段 内容 &<说明>中©" in text
    assert text.count("政策解读") == 1  # the title is already the <h1>
    assert text.splitlines() == ["政策解读", "第一段 内容 &<说明>中©", "第二段", "一", "二", "名称 数值"]


def test_html_title_added_when_missing_from_body(tmp_path):
    text = read_raw(write(tmp_path, "t.htm", "<html><head><title>园区简介</title></head><body><p>正文内容</p>"))
    assert text == "园区简介\n正文内容"


def test_html_head_without_closing_tag(tmp_path):
    text = read_raw(write(tmp_path, "t.html", "<html><head><title>标题</title><meta x=1><p>正文</p>"))
    assert text == "标题\n正文"


def test_html_svg_title_is_not_body_text(tmp_path):
    page = "<title>页面标题</title><p>正文</p><svg><title>图标提示</title></svg><p>结尾</p>"
    assert read_raw(write(tmp_path, "svg.html", page)) == "页面标题\n正文\n结尾"


def test_html_meta_charset_gbk(tmp_path):
    meta = '<meta http-equiv="Content-Type" content="text/html; charset=gb2312">'
    page = f"<html><head>{meta}</head><body><p>{ZH}</p>"
    assert read_raw(write(tmp_path, "gbk.html", page.encode("gbk"))) == ZH
    page5 = f'<html><head><meta charset="GBK"></head><body><p>{ZH}</p></body></html>'
    assert read_raw(write(tmp_path, "gbk5.html", page5.encode("gbk"))) == ZH


def test_html_meta_charset_that_lies_falls_back_to_detection(tmp_path):
    page = f'<html><head><meta charset="utf-8"></head><body><p>{ZH}</p></body></html>'
    assert read_raw(write(tmp_path, "lie.html", page.encode("gbk"))) == ZH


def test_html_unknown_meta_charset_is_ignored(tmp_path):
    page = f'<meta charset="no-such-codec"><p>{ZH}</p>'
    assert read_raw(write(tmp_path, "unk.html", page)) == ZH


@pytest.mark.parametrize(
    "page",
    [
        "<p>前</p><script src=x.js />alert(1)</script><p>后</p>",  # a browser ignores the "/" on <script>
        "<p>前</p><script>if (a < b) { document.write('</p>alert(1)'); }</script><p>后</p>",
        "<p>前</p><SCRIPT type='text/javascript'>alert(1)</SCRIPT><p>后</p>",
        "<p>前</p><p>后</p><script>alert(1)",  # never closed
    ],
)
def test_html_script_text_never_appears(tmp_path, page):
    text = read_raw(write(tmp_path, "s.html", page))
    assert "alert" not in text
    assert text.startswith("前") and "后" in text


def test_html_chinese_soft_line_breaks_and_spaces(tmp_path):
    page = "<p>我们的园区\n    位于城市东部，  Hello   world\n  园区。\u3000\u3000缩进保留</p><br><br><br><br><p>末段</p>"
    text = read_raw(write(tmp_path, "w.html", page))
    assert text == "我们的园区位于城市东部， Hello world 园区。\u3000\u3000缩进保留\n\n末段"


def test_html_pre_keeps_line_breaks(tmp_path):
    text = read_raw(write(tmp_path, "pre.html", "<pre>第一行\n第二行</pre>"))
    assert text == "第一行\n第二行"


def test_html_without_text(tmp_path):
    page = "<html><head><script>x()</script></head><body> </body>"
    message = load_error(write(tmp_path, "none.html", page))
    assert "none.html" in message


def test_md_is_plain_text(tmp_path):
    md = "# 标题\n\n<p>保留原样</p> **粗体**\n"
    assert read_raw(write(tmp_path, "a.md", md)) == md


# ------------------------------------------------------------------------------------------------ DOCX


def make_docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("园区发展报告", level=1)
    document.add_paragraph("第一段：总体情况。")
    table = document.add_table(rows=2, cols=2)
    for r, row in enumerate([["指标", "数值"], ["营业收入", "100亿元"]]):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    document.add_paragraph("第二段：下一步计划。")
    document.save(path)
    return path


def test_docx_paragraphs_and_table_in_order(tmp_path):
    text = read_raw(make_docx(tmp_path / "report.docx"))
    assert text.splitlines() == ["园区发展报告", "第一段：总体情况。", "指标\t数值", "营业收入\t100亿元", "第二段：下一步计划。"]


def test_docx_merged_cells_repeated_per_column(tmp_path):
    """A merged cell's value stands in every column it covers, so the row lines up with its header."""
    import docx

    document = docx.Document()
    table = document.add_table(rows=1, cols=3)
    merged = table.cell(0, 0).merge(table.cell(0, 1))
    merged.text = "合并单元格"
    table.cell(0, 2).text = "右侧"
    document.save(tmp_path / "m.docx")
    assert read_raw(tmp_path / "m.docx") == "合并单元格\t合并单元格\t右侧"


def test_docx_not_a_zip(tmp_path):
    message = load_error(write(tmp_path, "fake.docx", ZH))
    assert "fake.docx" in message and "docx" in message


def test_old_doc_renamed_docx(tmp_path):
    message = load_error(write(tmp_path, "old.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600)))
    assert ".doc" in message and "另存为" in message


def test_docx_without_document_xml(tmp_path):
    with zipfile.ZipFile(tmp_path / "hollow.docx", "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("word/other.xml", "<x/>")
    message = load_error(tmp_path / "hollow.docx")
    assert "hollow.docx" in message and "word/document.xml" in message


def test_docx_zip_bomb_is_refused_before_reading(tmp_path):
    path = tmp_path / "bomb.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        with zf.open("word/document.xml", "w", force_zip64=True) as member:
            chunk = bytes(1024 * 1024)
            for _ in range(200):
                member.write(chunk)
    assert path.stat().st_size < 1024 * 1024
    message = load_error(path)
    assert "bomb.docx" in message and "200 MB" in message and "50 MB" in message


def test_docx_compression_ratio_is_capped(tmp_path):
    path = make_docx(tmp_path / "ratio.docx")
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("word/media/padding.bin", bytes(10 * 1024 * 1024))  # 10 MB, under the total cap
    message = load_error(path)
    assert "压缩比" in message and "padding.bin" in message


def test_docx_empty_document(tmp_path):
    import docx

    docx.Document().save(tmp_path / "blank.docx")
    assert "blank.docx" in load_error(tmp_path / "blank.docx")


# ------------------------------------------------------------------------------------------------ PDF


PDF_PAGES = [["Hello PDF world", "Second line"], ["Page two"]]


def test_pdf_text_from_all_pages(tmp_path):
    text = read_raw(write(tmp_path, "doc.pdf", make_pdf(PDF_PAGES)))
    assert [line for line in text.splitlines() if line] == ["Hello PDF world", "Second line", "Page two"]


def test_pdf_truncated(tmp_path):
    message = load_error(write(tmp_path, "cut.pdf", make_pdf(PDF_PAGES)[:100]))
    assert "cut.pdf" in message and "PDF" in message


def test_pdf_garbage(tmp_path):
    assert "junk.pdf" in load_error(write(tmp_path, "junk.pdf", random.Random(1).randbytes(3000)))
    noise = b"%PDF-1.7\n" + random.Random(2).randbytes(3000)
    assert "hdr.pdf" in load_error(write(tmp_path, "hdr.pdf", noise))


def test_pdf_without_text_mentions_ocr(tmp_path):
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(612, 792)
    writer.write(tmp_path / "scan.pdf")
    message = load_error(tmp_path / "scan.pdf")
    assert "scan.pdf" in message and "OCR" in message


def encrypted_pdf(tmp_path: Path, user_password: str) -> Path:
    from pypdf import PdfReader, PdfWriter

    source = write(tmp_path, "plain.pdf", make_pdf(PDF_PAGES))
    writer = PdfWriter(clone_from=PdfReader(source))
    writer.encrypt(user_password=user_password, owner_password="owner", algorithm="RC4-128")
    path = tmp_path / f"locked-{len(user_password)}.pdf"
    writer.write(path)
    return path


def test_pdf_with_password(tmp_path):
    message = load_error(encrypted_pdf(tmp_path, "secret"))
    assert "加密" in message and "locked-6.pdf" in message


def test_pdf_encrypted_with_empty_password_is_read(tmp_path):
    assert "Hello PDF world" in read_raw(encrypted_pdf(tmp_path, ""))


# ------------------------------------------------------------------------------------------------ properties


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text())
def test_any_utf8_text_reads_or_raises_load_error(tmp_path, text):
    path = tmp_path / "prop.txt"
    path.write_bytes(text.encode("utf-8"))
    try:
        result = read_raw(path)
    except LoadError:
        return
    assert isinstance(result, str)
    assert "\r" not in result and "\x00" not in result


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=5))
def test_chinese_gb18030_round_trips(text):
    data = text.encode("gb18030")
    try:
        misread = data.decode("utf-8")
    except UnicodeDecodeError:
        misread = ""
    # Inherently ambiguous: GBK bytes that UTF-8 reads as other CJK ("涓枃" -> "中文"); UTF-8 wins there.
    assume(not any("\u2e80" <= c <= "\u9fff" for c in misread))
    assert decode_bytes(data) == text


_ANY = st.text(st.characters(blacklist_categories=("Cc", "Cs")))
_HANZI = st.text(st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1)


@settings(max_examples=150, deadline=None)
@given(parts=st.tuples(_ANY, _HANZI, _ANY))
def test_utf8_with_chinese_round_trips(parts):
    text = "".join(parts)
    assert decode_bytes(text.encode("utf-8")) == text.removeprefix("\ufeff")
