"""A corpus of hostile files, built in a temporary directory: what users upload by mistake or on purpose.

Each entry: (file name, how to build its bytes, what must happen). `build(folder)` writes them all and returns
{name: Path}. Expected outcomes: "refused" (a failed FileResult whose reason names the file and the cause),
"added" (ingested; its text is the document's, not markup or code), or "either" (both are acceptable, with a
message when refused).
"""

from __future__ import annotations

import codecs
import io
import random
import zipfile
from pathlib import Path

from pdfkit import make_pdf  # tests/ is on sys.path (tests/reliability/conftest.py)

BODY = ("青山高新区2023年工作总结\n一、主要指标\n2023年，青山高新区实现营业收入123.45亿元，同比增长8.6%。"
        "全区新增高新技术企业36家，总数达到210家。\n二、下一步工作\n我们要加快建设新材料产业园，推进数字经济产业园建设，"
        "持续优化营商环境，深化“放管服”改革。\n")
SCRIPT_MARK = "恶意脚本暗号"  # text inside <script>/<style>/on* handlers: must never reach the store


def _pdf(pages: list[str]) -> bytes:
    """A minimal valid PDF with ASCII text (Helvetica has no CJK; the hostile cases are about structure)."""
    return make_pdf([[page] for page in pages])


def _pdf_flate_bomb() -> bytes:
    """A PDF whose one content stream inflates from ~200 KB to 200 MB."""
    import zlib

    raw = zlib.compress(b"0 " * (100 * 1024 * 1024), 9)
    objects = {1: b"<< /Type /Catalog /Pages 2 0 R >>", 2: b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
               3: b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(raw) + raw + b"\nendstream",
               4: b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 3 0 R >>"}
    out, offsets = bytearray(b"%PDF-1.4\n"), {}
    for n in sorted(objects):
        offsets[n] = len(out)
        out += b"%d 0 obj\n" % n + objects[n] + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 5\n0000000000 65535 f \n" + b"".join(b"%010d 00000 n \n" % offsets[n] for n in range(1, 5))
    out += b"trailer\n<< /Size 5 /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


def _docx(paragraphs: list[str]) -> bytes:
    import docx

    document = docx.Document()
    for p in paragraphs:
        document.add_paragraph(p)
    buf = io.BytesIO()
    document.save(buf)
    return buf.getvalue()


def _docx_replace(data: bytes, member: str, content: bytes, method=zipfile.ZIP_DEFLATED) -> bytes:
    src = zipfile.ZipFile(io.BytesIO(data))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", method) as out:
        for info in src.infolist():
            out.writestr(info.filename, content if info.filename == member else src.read(info.filename))
    return buf.getvalue()


def _docx_bomb() -> bytes:
    """A real .docx whose word/document.xml is padded to 300 MB of spaces: < 1 MB on disk."""
    base = _docx(BODY.splitlines())
    xml = zipfile.ZipFile(io.BytesIO(base)).read("word/document.xml")
    buf = io.BytesIO()
    src = zipfile.ZipFile(io.BytesIO(base))
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as out:
        for info in src.infolist():
            if info.filename == "word/document.xml":
                with out.open("word/document.xml", "w", force_zip64=True) as member:
                    member.write(xml[:-len(b"</w:document>")] if xml.endswith(b"</w:document>") else xml)
                    pad = b" " * (1024 * 1024)
                    for _ in range(300):
                        member.write(pad)
                    member.write(b"</w:document>")
            else:
                out.writestr(info.filename, src.read(info.filename))
    return buf.getvalue()


def _docx_billion_laughs() -> bytes:
    base = _docx(["占位"])
    lol = (b'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<!DOCTYPE w:document [\n'
           b'<!ENTITY a "\xe5\x93\x88\xe5\x93\x88\xe5\x93\x88\xe5\x93\x88\xe5\x93\x88\xe5\x93\x88">\n'
           + b"".join(b'<!ENTITY %s "%s">\n' % (chr(98 + i).encode(), (b"&%s;" % chr(97 + i).encode()) * 10)
                      for i in range(9))
           + b']>\n<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>'
           b'<w:p><w:r><w:t>&j;</w:t></w:r></w:p></w:body></w:document>')
    return _docx_replace(base, "word/document.xml", lol)


def _html_with_scripts() -> bytes:
    return f"""<!doctype html><html><head><title>青山高新区2023年工作总结</title>
<script>alert("{SCRIPT_MARK}1"); document.cookie</script>
<style>body {{ background: url("javascript:{SCRIPT_MARK}2") }}</style>
<meta http-equiv="refresh" content="0;url=javascript:alert(1)">
</head><body onload="alert('{SCRIPT_MARK}3')">
<noscript>{SCRIPT_MARK}4</noscript>
<p>一、主要指标</p>
<p>2023年，青山高新区实现营业收入123.45亿元，同比增长8.6%。<img src=x onerror="alert('{SCRIPT_MARK}5')"></p>
<p>全区新增高新技术企业36家，总数达到210家。<a href="javascript:alert(1)">点击</a></p>
<script src="http://evil.example/x.js" />{SCRIPT_MARK}6</script>
<template><p>{SCRIPT_MARK}7</p></template>
<p>二、下一步工作</p><p>我们要加快建设新材料产业园，&lt;script&gt;这几个字是正文&lt;/script&gt;，推进数字经济产业园建设。</p>
<iframe srcdoc="<script>{SCRIPT_MARK}8</script>"></iframe>
<svg><script>{SCRIPT_MARK}9</script></svg>
</body></html>""".encode("utf-8")


def _mixed_encodings() -> bytes:
    lines = BODY.splitlines()
    return b"\n".join(line.encode("utf-8") if i % 2 == 0 else line.encode("gbk") for i, line in enumerate(lines))


def one_line(path: Path, mb: int) -> None:
    """mb MB of one line of Chinese text (no line break), written in 1 MB blocks."""
    unit = "园区经济平稳发展，营业收入持续增长，".encode("utf-8")  # 54 bytes
    block = unit * (1024 * 1024 // len(unit) + 1)
    block = block[: len(block) - len(block) % 3][: 1024 * 1024 - (1024 * 1024) % 3]
    with open(path, "wb") as fh:
        for _ in range(mb):
            fh.write(block)


# name -> (builder, expected outcome, what the message must mention (any of), when refused)
CASES: dict[str, tuple] = {
    "empty.txt": (lambda: b"", "refused", ("空",)),
    "whitespace.txt": (lambda: b" \n\t\r\n\xe3\x80\x80\n" * 100, "refused", ("空白",)),
    "binary.txt": (lambda: random.Random(7).randbytes(64 * 1024), "refused", ("二进制", "编码")),
    "elf.txt": (lambda: b"\x7fELF\x02\x01\x01" + bytes(2000), "refused", ("二进制",)),
    "png-renamed.txt": (lambda: b"\x89PNG\r\n\x1a\n" + random.Random(3).randbytes(5000), "refused", ("二进制", "编码")),
    "zip-renamed.txt": (lambda: _docx(["园区"]), "refused", ("二进制", "编码")),
    "no-chinese.txt": (lambda: b"Just an English page.\n" * 50, "refused", ("中文",)),
    "only-chrome.html": (lambda: "<p>当前位置：首页 > 新闻</p><p>打印 关闭</p>".encode(), "refused", ("正文",)),
    "truncated.pdf": (lambda: _pdf(["Hello world", "page two"])[:180], "refused", ("PDF",)),
    "garbage.pdf": (lambda: b"%PDF-1.7\n" + random.Random(5).randbytes(4000), "refused", ("PDF",)),
    "html-as.pdf": (lambda: b"<html><body>\xe5\x9b\xad\xe5\x8c\xba</body></html>", "refused", ("PDF",)),
    "english.pdf": (lambda: _pdf(["Hello PDF world"]), "refused", ("中文",)),
    "flate-bomb.pdf": (_pdf_flate_bomb, "refused", ("PDF", "文字", "中文")),
    "not-a-zip.docx": (lambda: BODY.encode("utf-8"), "refused", ("docx",)),
    "truncated.docx": (lambda: _docx(BODY.splitlines())[:3000], "refused", ("docx", "Word")),
    "zip-bomb.docx": (_docx_bomb, "refused", ("zip bomb", "解压")),
    "billion-laughs.docx": (_docx_billion_laughs, "either", ("docx", "Word", "中文", "正文")),
    "old-word.docx": (lambda: b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(4000), "refused", (".doc",)),
    "scripts.html": (_html_with_scripts, "added", ()),
    "mixed-encodings.txt": (_mixed_encodings, "added", ()),
    "utf16-no-bom.txt": (lambda: BODY.encode("utf-16-le"), "added", ()),
    "gbk.txt": (lambda: BODY.encode("gbk"), "added", ()),
    "bom-utf8.md": (lambda: codecs.BOM_UTF8 + BODY.encode("utf-8"), "added", ()),
    "control-chars.txt": (lambda: BODY.replace("。", "。\x1b[31m\x07\u202e\u200b").encode("utf-8"), "added", ()),
    "million-lines.txt": (lambda: ("园区\n" * 1_000_000).encode("utf-8"), "either", ("正文", "太长", "字符")),
    "unsupported.exe": (lambda: b"MZ" + bytes(100), "refused", ("不支持",)),
    "legacy.doc": (lambda: b"\xd0\xcf\x11\xe0" + bytes(100), "refused", ("不支持",)),
    "no-suffix": (lambda: BODY.encode("utf-8"), "refused", ("不支持",)),
}
