"""A file on disk -> its raw text.

Everything a user can upload ends here first, so every way a file can be wrong (missing, binary, too big,
a zip bomb, a scanned PDF, an unknown encoding) becomes one LoadError whose message names the file, the
reason and, where there is one, the fix. No other exception type leaves this module for bad input: a parser
that trips over a broken file is a broken file, not a crash.

The text is "raw": page chrome is still there (loading.py removes it by line shape), but line endings,
control characters and the markup of HTML/DOCX/PDF are gone.
"""

from __future__ import annotations

import codecs
import io
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

from .errors import LoadError

SUPPORTED_SUFFIXES = (".txt", ".md", ".html", ".htm", ".docx", ".pdf")

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
# A text longer than this is refused: a million characters are ~2,500 passages, minutes of embedding; a 50 MB
# line would be hours. Raised with ASSISTANT_MAX_DOC_CHARS.
DEFAULT_MAX_CHARS = 1_000_000
_PLAIN_SUFFIXES = (".txt", ".md")
# A .docx is a zip: its size on disk says nothing about what python-docx will inflate into memory.
DOCX_MAX_UNZIPPED = 50 * 1024 * 1024
DOCX_MAX_RATIO = 100  # real Word XML deflates 5-20x; zeros deflate ~1000x
_RATIO_MIN_MEMBER = 1024 * 1024  # tiny members may compress absurdly well and harm nobody

# More than this share of control / replacement characters means we decoded something that is not text.
_MAX_CONTROL_SHARE = 0.10

_BOMS = (  # UTF-32 before UTF-16: the UTF-32 LE BOM starts with the UTF-16 LE one
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# Every line-break convention becomes "\n"; downstream code splits on "\n" only.
_LINE_BREAKS = re.compile(r"\r\n?|[\v\f\x1c-\x1e\x85\u2028\u2029]")
_CONTROL_CODES = [c for c in range(0x20) if c not in (0x09, 0x0A)] + [0x7F] + list(range(0x80, 0xA0))
# Bidirectional overrides and isolates too: they can make a quote display as other text than it is.
_BIDI_CONTROLS = list(range(0x202A, 0x202F)) + list(range(0x2066, 0x206A))
_DROP_CONTROLS = dict.fromkeys(_CONTROL_CODES + _BIDI_CONTROLS)
# For the binary test: line-break style controls are normal in text, U+FFFD means bytes were lost.
_NOT_TEXT = dict.fromkeys([c for c in _CONTROL_CODES if c not in (0x0B, 0x0C, 0x0D, 0x85)] + [0xFFFD])

_CJK = "\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uffef\U00020000-\U0003ffff"
_HAS_CJK = re.compile(f"[{_CJK}]")
# A CJK character touching ASCII other than a line break: Latin words, spaced-out words, "© 2024" ...
_CJK_NEXT_TO_ASCII = re.compile(f"[{_CJK}][\x21-\x7e \t]|[\x21-\x7e \t][{_CJK}]")
_NON_ASCII_NON_CJK = re.compile(f"[^\x00-\x7f{_CJK}]")


def read_raw(path: Path | str, *, max_bytes: int = DEFAULT_MAX_BYTES,
             max_chars: int | None = DEFAULT_MAX_CHARS) -> str:
    """The text of one document, or LoadError with a message fit to show the user."""
    path = Path(path)
    name = path.name or str(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise LoadError(f"{path}: 文件不存在 (file not found)；请检查路径是否正确。") from None
    except PermissionError:
        raise LoadError(f"{name}: 没有读取权限 (permission denied)；请检查文件权限。") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
        raise LoadError(f"{name}: 无法访问文件 (cannot access file: {exc})。") from None
    if stat.S_ISDIR(st.st_mode):
        raise LoadError(f"{name}: 这是一个文件夹，不是文件 (is a directory)；请选择其中的文档文件。")
    if not stat.S_ISREG(st.st_mode):  # a FIFO or device would block or never end
        raise LoadError(f"{name}: 不是普通文件 (not a regular file)。")
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        shown = suffix or "（无扩展名）"
        hint = "请用 Word/WPS 另存为 .docx 后再上传。" if suffix in (".doc", ".wps", ".rtf") else ""
        raise LoadError(
            f"{name}: 不支持的文件类型 {shown} (unsupported file type)；"
            f"支持的类型：{' '.join(SUPPORTED_SUFFIXES)}。{hint}"
        )
    if st.st_size > max_bytes:
        raise LoadError(_too_large(name, st.st_size, max_bytes))
    if st.st_size == 0:
        raise LoadError(f"{name}: 文件是空的 (file is empty, 0 bytes)。")
    # No encoding spends more than 4 bytes on a character: a plain-text file this big is too long to decode.
    if max_chars and suffix in _PLAIN_SUFFIXES and st.st_size > 4 * max_chars:
        raise LoadError(_too_long(name, st.st_size // 4, max_chars, at_least=True))
    try:
        with open(path, "rb") as fh:
            data = fh.read(max_bytes + 1)  # the file may have grown since stat
    except OSError as exc:
        raise LoadError(f"{name}: 读取文件失败 (read error: {exc.strerror or exc})。") from None
    if len(data) > max_bytes:
        raise LoadError(_too_large(name, len(data), max_bytes))

    try:
        text = _READERS[suffix](data)
    except LoadError as exc:
        raise LoadError(f"{name}: {exc}") from exc
    except Exception as exc:  # noqa: BLE001 - any parser failure on user input is a bad file
        raise LoadError(
            f"{name}: 文件已损坏或格式异常，无法解析 (cannot parse: {type(exc).__name__}: {exc})；"
            "请用原软件重新导出或另存后再试。"
        ) from exc
    text = _clean(text)
    if not text.strip():
        raise LoadError(f"{name}: 文件只有空白，没有文字内容 (file contains only whitespace)。")
    if max_chars and len(text) > max_chars:
        raise LoadError(_too_long(name, len(text), max_chars))
    return text


def decode_bytes(data: bytes) -> str:
    """Bytes of a text file -> str, trying encodings from the most to the least certain.

    Order: BOM; UTF-16 without BOM (its NUL bytes, which otherwise mean binary); UTF-8; GB18030 (a superset
    of GBK and GB2312); charset-normalizer. UTF-16 must come before UTF-8 because ASCII in UTF-16 is valid
    UTF-8 full of NULs. GB18030 comes before charset-normalizer because the latter guesses Korean or
    Japanese for short GBK text. Raises LoadError (without a file name: the caller adds it) for binary data
    and undecodable text.
    """
    text = _decode(data)
    if _looks_binary(text):
        raise LoadError(_BINARY)
    return text.removeprefix("\ufeff")


def _looks_binary(text: str) -> bool:
    return len(text) - len(text.translate(_NOT_TEXT)) > _MAX_CONTROL_SHARE * len(text)


_BINARY = "看起来是二进制文件，不是文本 (binary data, not text)；请上传文字版文档。"


def _decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data[len(bom):].decode(encoding)
            except UnicodeDecodeError:
                break  # a BOM-like start of something else; look at the whole thing below
    utf16 = _utf16_without_bom(data)
    if utf16:
        try:
            return data.decode(utf16)
        except UnicodeDecodeError:
            pass
    if b"\x00" in data:  # no text encoding but UTF-16/32 puts NUL bytes in a file
        mostly_cjk = _utf16_mostly_cjk(data)
        if mostly_cjk is not None:
            return mostly_cjk
        raise LoadError(_BINARY)
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
        mixed = _mixed_lines(data)
        if mixed is not None:
            return mixed
    if text is not None and (text.isascii() or _HAS_CJK.search(text)):
        return text
    try:
        gb = data.decode("gb18030")
    except UnicodeDecodeError:
        gb = None
    if text is not None:
        return gb if gb is not None and _is_chinese_misread_as_utf8(gb) else text
    if gb is not None:
        return gb
    from charset_normalizer import from_bytes  # slow to import; rarely needed

    best = from_bytes(data).best()
    if best is None:
        raise LoadError("无法识别文本编码 (unknown text encoding)；请另存为 UTF-8 编码后再上传。")
    return str(best)


def _utf16_without_bom(data: bytes) -> str | None:
    """UTF-16 without a BOM shows itself by NUL high bytes of ASCII characters, all at one parity."""
    half = len(data) // 2
    if half < 2 or len(data) % 2:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    if odd > 0.3 * half and even < 0.05 * half:
        return "utf-16-le"
    if even > 0.3 * half and odd < 0.05 * half:
        return "utf-16-be"
    return None


def _utf16_mostly_cjk(data: bytes) -> str | None:
    """UTF-16 without a BOM whose text is mostly Chinese: too few ASCII characters (the NUL high bytes) for
    _utf16_without_bom, but nearly every NUL at one parity and the decoded text mostly CJK, which random binary
    data decoded as UTF-16 never is (CJK is a third of the code space, and stray surrogates fail)."""
    if len(data) % 2 or len(data) < 8:
        return None
    even, odd = data[0::2].count(0), data[1::2].count(0)
    # ("一" is U+4E00: a CJK character may put a NUL on the other side too, rarely)
    encoding = "utf-16-le" if odd > 4 * even else "utf-16-be" if even > 4 * odd else None
    if encoding is None:
        return None
    try:
        text = data.decode(encoding)
    except UnicodeDecodeError:
        return None
    visible = [c for c in text if not c.isspace()]
    cjk = sum(1 for c in visible if _HAS_CJK.match(c))
    if not visible or _looks_binary(text) or cjk < 0.6 * len(visible):
        return None
    return text


def _mixed_lines(data: bytes) -> str | None:
    """A file that is not UTF-8 as a whole but line by line is UTF-8 or GB18030 (two files pasted together,
    a UTF-8 file edited in a GBK editor): each line in its own encoding. Lines that are valid UTF-8 with
    Chinese in them are UTF-8 (GBK bytes almost never are); None unless both kinds occur."""
    out, utf8, gb = [], 0, 0
    for line in data.split(b"\n"):
        try:
            text = line.decode("utf-8")
        except UnicodeDecodeError:
            text = None
        if text is not None and (text.isascii() or len(_HAS_CJK.findall(text)) >= 2):
            utf8 += not text.isascii()
            out.append(text)
            continue
        try:
            out.append(line.decode("gb18030"))
        except UnicodeDecodeError:
            return None
        gb += 1
    return "\n".join(out) if utf8 and gb else None


def _is_chinese_misread_as_utf8(gb: str) -> bool:
    """Whether bytes that are valid UTF-8 *and* valid GB18030 are really Chinese in GBK.

    Some GBK Chinese is valid UTF-8: "一" is D2 BB, which UTF-8 reads as Cyrillic "һ". Accented Latin or
    Cyrillic written in UTF-8 is just as often valid GB18030 ("café" -> "caf茅"). Only the reading is left to
    tell them apart: the UTF-8 one has no CJK (checked by the caller), the GB18030 one is all CJK apart from
    line breaks, and its CJK never touches ASCII letters, digits, punctuation or spaces, as the hanzi of a
    misread "é" or of spaced-out Russian words do. A lone Cyrillic word on its own line stays ambiguous.
    """
    return (
        not _NON_ASCII_NON_CJK.search(gb)
        and len(_HAS_CJK.findall(gb)) >= 2
        and not _CJK_NEXT_TO_ASCII.search(gb)
    )


def _clean(text: str) -> str:
    return _LINE_BREAKS.sub("\n", text.removeprefix("\ufeff")).translate(_DROP_CONTROLS)


def _too_large(name: str, size: int, limit: int) -> str:
    return (
        f"{name}: 文件太大 (file too large)：{_mb(size)}，上限 {_mb(limit)}；"
        "请拆分文件，或设置环境变量 ASSISTANT_MAX_FILE_MB 提高上限。"
    )


def _too_long(name: str, chars: int, limit: int, at_least: bool = False) -> str:
    return (
        f"{name}: 文本太长 (document too long)：{'至少' if at_least else ''}{chars:,} 字，上限 {limit:,} 字；"
        "请拆分文件，或设置环境变量 ASSISTANT_MAX_DOC_CHARS 提高上限。"
    )


def _mb(n: int) -> str:
    mb = n / (1024 * 1024)
    return f"{round(mb, 1 if mb >= 1 else 3):g} MB"


# ---------------------------------------------------------------------------------------------- formats


_META_CHARSET = re.compile(rb"<meta\b[^>]*?charset\s*=\s*[\"']?\s*([A-Za-z0-9_.:-]+)", re.IGNORECASE)
# Labels whose WHATWG meaning differs from Python's codec of the same name.
_HTML_LABELS = {"gb2312": "gb18030", "gbk": "gb18030", "x-gbk": "gb18030", "iso-8859-1": "cp1252",
                "latin1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252"}


def _read_html(data: bytes) -> str:
    return _html_to_text(_decode_html(data))


def _decode_html(data: bytes) -> str:
    """A page's own <meta charset> beats guessing; a BOM beats both, as in browsers."""
    match = _META_CHARSET.search(data[:4096])
    if match and not any(data.startswith(bom) for bom, _ in _BOMS):
        label = match.group(1).decode("ascii").lower()
        try:
            encoding = codecs.lookup(_HTML_LABELS.get(label, label)).name
        except LookupError:
            encoding = None
        # A page cannot declare UTF-16/32 in an ASCII meta tag it could then not be read in.
        if encoding and not encoding.startswith(("utf-16", "utf-32")) and b"\x00" not in data:
            try:
                text = data.decode(encoding)
            except UnicodeDecodeError:
                pass  # the declaration lies (a template copied from another site); guess instead
            else:
                if not _looks_binary(text):
                    return text
    return decode_bytes(data)


# <head> needs no rule of its own: all it can hold is <title>, taken apart, these, and tagged metadata.
# (Skipping <head> itself would lose the whole body of a page that never closes it, which is legal HTML.)
_SKIP_TAGS = {"script", "style", "noscript", "template"}
_BLOCK_TAGS = {
    "p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "table", "ul", "ol",
    "header", "footer", "blockquote", "pre", "dl", "dt", "dd", "hr", "nav", "aside", "main", "form",
    "figure", "figcaption", "caption", "thead", "tbody", "tfoot", "address", "body",
}
_CELL_TAGS = {"td", "th"}
_SPACES = re.compile(r"[ \t\n\r\f\v\u00a0]+")  # not \u3000: Chinese paragraphs are indented with it
_LINE_SPACES = re.compile(r"[ \r\f\v\u00a0]+")
# Source line breaks between two CJK characters vanish in a browser; a space there would split a word.
_CJK_SOFT_BREAK = re.compile(f"(?<=[{_CJK}])[ \t\r\f\v]*\n[ \t\n\r\f\v]*(?=[{_CJK}])")


_SPAN_MAX = 50  # a colspan/rowspan beyond this is a broken page, not a table


@dataclass
class _Table:
    """A <table> being read: its rows of cells (text, colspan, rowspan, is <th>) and its <caption>."""

    start: int  # len(parser.parts) at <table>: a data table replaces what its markup added after this
    rows: list = field(default_factory=list)
    row: list | None = None
    cell: list | None = None  # the open cell's text parts
    span: tuple = (1, 1, False)  # the open cell's colspan, rowspan and whether it is a <th>
    caption: list | None = None
    in_caption: bool = False
    nested: bool = False  # holds a table: a layout table, read as blocks

    def close_cell(self) -> None:
        if self.cell is not None:
            if self.row is None:
                self.row = []
            self.row.append((_cell_text(self.cell), *self.span))
            self.cell = None

    def close_row(self) -> None:
        self.close_cell()
        if self.row:
            self.rows.append(self.row)
        self.row = None


def _cell_text(parts: list[str]) -> str:
    text = _CJK_SOFT_BREAK.sub("", "".join(parts))
    return _SPACES.sub(" ", text).strip()


def _span(attrs, name: str) -> int:
    value = dict(attrs).get(name) or "1"
    m = re.match(r"\s*(\d+)", value)
    return min(max(int(m.group(1)), 1), _SPAN_MAX) if m else 1


def _grid(rows: list[list[tuple]]) -> list[list[str] | str]:
    """Rows of cells with colspan and rowspan laid on a grid, a spanned value repeated in every grid cell it
    covers; a row that is one cell across the whole table (a group label, a title row) stays one string."""
    laid: list[list[str]] = []
    whole: list[bool] = []
    pending: dict[int, list] = {}  # column -> [text, rows still to fill]
    for row in rows:
        out: list[str] = []
        col = 0

        def fill_pending():
            nonlocal col
            while col in pending:
                out.append(pending[col][0])
                pending[col][1] -= 1
                if pending[col][1] <= 0:
                    del pending[col]
                col += 1

        for text, colspan, rowspan, *_ in row:
            fill_pending()
            for _ in range(colspan):
                out.append(text)
                if rowspan > 1:
                    pending[col] = [text, rowspan - 1]
                col += 1
        fill_pending()
        laid.append(out)
        whole.append(len(row) == 1 and row[0][1] > 1)
    width = max((len(r) for r, w in zip(laid, whole) if not w), default=0)
    out_rows: list[list[str] | str] = []
    for r, w in zip(laid, whole):
        if w and len(r) >= width:
            out_rows.append(r[0])
        else:
            out_rows.append(r + [""] * (width - len(r)))
    return out_rows


def _render_table(t: _Table) -> list[str] | None:
    """A data table's lines: its caption, then one line per row, cells separated by tabs, the header row first.
    None for a layout table (one that holds a table, or has fewer than two rows or two columns)."""
    if t.nested or len(t.rows) < 2:
        return None
    grid = _grid(t.rows)
    cells = [r for r in grid if isinstance(r, list)]
    if len(cells) < 2 or len(cells[0]) < 2:
        return None
    # A two-level header ("2023年" over "完成 | 目标"): the first row's spanned cells read with the row below.
    first = t.rows[0]
    if isinstance(grid[0], list) and isinstance(grid[1], list) and any(1 < c[1] for c in first) \
            and all(c[3] for c in t.rows[1]):
        merged = [a if a == b else a + b for a, b in zip(grid[0], grid[1])]
        grid = [merged] + grid[2:]
    lines = []
    caption = _cell_text(t.caption) if t.caption else ""
    if caption:
        lines.append(caption)
    for r in grid:
        if isinstance(r, str):
            lines.append(r)
        elif any(r):
            lines.append("\t".join(r))
    return lines


class _HTMLText(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.title: list[str] = []
        self.skip = 0  # depth inside script/style/...; their text must never reach the output
        self.in_title = False
        self.title_done = False  # later <title>s (an SVG tooltip) are not the page's
        self.pre = 0  # inside <pre> line breaks are the author's
        self.at_break = True  # nothing but whitespace since the last line break
        self.tables: list[_Table] = []  # open <table>s, innermost last

    def handle_starttag(self, tag, attrs):
        if tag in _SKIP_TAGS:
            self.skip += 1
        elif tag == "title":
            self.in_title = True
        elif tag == "pre":
            self.pre += 1
        self._boundary(tag)
        if self.skip:
            return
        if tag == "table":
            if self.tables:
                self.tables[-1].nested = True
            self.tables.append(_Table(len(self.parts)))
        elif self.tables:
            t = self.tables[-1]
            if tag == "tr":
                t.close_row()
                t.row = []
            elif tag in _CELL_TAGS:
                t.close_cell()
                t.cell, t.span = [], (_span(attrs, "colspan"), _span(attrs, "rowspan"), tag == "th")
            elif tag == "caption":
                t.in_caption, t.caption = True, []
            elif tag in _BLOCK_TAGS and t.cell is not None:
                t.cell.append("\n")

    def handle_startendtag(self, tag, attrs):
        # A browser ignores the "/" of <script src=x />: what follows up to </script> is still script.
        self.handle_starttag(tag, attrs)
        if tag not in _SKIP_TAGS:
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag in _SKIP_TAGS:
            self.skip = max(0, self.skip - 1)
        elif tag == "title":
            self.in_title = False
            self.title_done = True
        elif tag == "pre":
            self.pre = max(0, self.pre - 1)
        if self.tables and not self.skip:
            t = self.tables[-1]
            if tag == "table":
                self._end_table()
                return
            if tag in _CELL_TAGS:
                t.close_cell()
            elif tag == "tr":
                t.close_row()
            elif tag == "caption":
                t.in_caption = False
        self._boundary(tag)

    def _end_table(self) -> None:
        t = self.tables.pop()
        t.close_row()
        lines = _render_table(t)
        if lines is None:
            self._boundary("table")
            return
        del self.parts[t.start:]
        if not self.at_break_before(t.start):
            self.parts.append("\n")
        self.parts.append("\n".join(lines))
        self.parts.append("\n")
        self.at_break = True

    def at_break_before(self, index: int) -> bool:
        for part in reversed(self.parts[:index]):
            if part == "\n":
                return True
            if part.strip(" \t\n\r\f\v\u00a0"):
                return False
        return True

    def _boundary(self, tag):
        # Nested or adjacent blocks (</p><p>, <li><p>) make one line break, as in docx and pdf text;
        # only <br> stacks, because authors space paragraphs out with <br><br>.
        if tag == "br" or (tag in _BLOCK_TAGS and not self.at_break):
            self.parts.append("\n")
            self.at_break = True
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

    def handle_data(self, data):
        if self.skip:
            return
        if self.in_title:
            if not self.title_done:
                self.title.append(data)
            return
        # (a tab is a cell boundary in the text this returns: the author's tabs in <pre> become spaces)
        self.parts.append(data.replace("\t", " ") if self.pre else _SPACES.sub(" ", _CJK_SOFT_BREAK.sub("", data)))
        if data.strip(" \t\n\r\f\v\u00a0"):
            self.at_break = False
        if self.tables:
            t = self.tables[-1]
            if t.in_caption and t.caption is not None:
                t.caption.append(data)
            elif t.cell is not None:
                t.cell.append(data)


def _html_to_text(markup: str) -> str:
    parser = _HTMLText()
    parser.feed(markup)
    parser.close()
    while parser.tables:  # a table the page never closes ends with the page
        parser._end_table()
    # (not _SPACES: tabs here separate the cells of a data table's row)
    lines = [_LINE_SPACES.sub(" ", line).strip(" ") for line in "".join(parser.parts).split("\n")]
    body = re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip("\n")
    title = _SPACES.sub(" ", "".join(parser.title)).strip()
    if title and title not in body:
        body = f"{title}\n{body}"
    if not body.strip():
        raise LoadError("网页中没有可提取的文字 (no text in the HTML page)。")
    return body


def _read_docx(data: bytes) -> str:
    _check_docx_zip(data)
    import docx  # python-docx; imported late so that reading .txt does not pay for lxml
    from docx.table import Table

    try:  # python-docx finds the main part through the package relationships, not by its name
        document = docx.Document(io.BytesIO(data))
    except Exception:  # noqa: BLE001 - KeyError, ValueError, PackageNotFoundError, lxml errors ...
        raise LoadError("不是有效的 Word 文档：结构损坏或缺少正文 word/document.xml (not a valid .docx)；"
                        "请用 Word/WPS 重新另存为 .docx。") from None
    lines: list[str] = []
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            lines.extend(_table_rows(block))
        else:
            lines.append(block.text)
    text = "\n".join(lines)
    if not text.strip():
        raise LoadError("Word 文档中没有文字 (no text in the document; images only?)。")
    return text


def _table_rows(table) -> list[str]:
    """A Word table as the text's tables are: one line per row, cells separated by tabs. A merged cell is
    listed once per grid column it covers and python-docx repeats a vertically merged one in each row, so both
    repeat its value (a row keeps as many cells as its header); a row that is one cell across the whole table
    (a title or a group label) is that cell alone. Empty rows are dropped."""
    rows = []
    for row in table.rows:
        grid = list(row.cells)
        # a cell's paragraphs: joined as a browser joins soft breaks (nothing between Chinese characters)
        texts = [_SPACES.sub(" ", _CJK_SOFT_BREAK.sub("", cell.text)).strip() for cell in grid]
        if len(grid) > 1 and len({cell._tc for cell in grid}) == 1:
            texts = texts[:1]
        if any(texts):
            rows.append("\t".join(texts))
    return rows


def _check_docx_zip(data: bytes) -> None:
    """Refuse what is not a .docx, and a zip that would inflate past the limits, before python-docx reads it."""
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        raise LoadError("这是旧版 Word (.doc) 格式，不是 .docx (old .doc format)；请用 Word/WPS 另存为 .docx 后再上传。")
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError):
        raise LoadError("不是有效的 .docx 文件（不是 zip 格式）(not a valid .docx: not a zip archive)；"
                        "请用 Word/WPS 重新另存为 .docx。") from None
    total = sum(i.file_size for i in infos)
    if total > DOCX_MAX_UNZIPPED:
        raise LoadError(
            f"解压后大小 {_mb(total)} 超过上限 {_mb(DOCX_MAX_UNZIPPED)} (uncompressed size too large; "
            "possible zip bomb)；请删减文档中的图片或拆分文档。"
        )
    for info in infos:
        if info.file_size > _RATIO_MIN_MEMBER and info.file_size > DOCX_MAX_RATIO * max(info.compress_size, 1):
            raise LoadError(
                f"压缩比异常：{info.filename} 解压后 {_mb(info.file_size)}，压缩后仅 {_mb(info.compress_size)} "
                "(suspicious compression ratio; possible zip bomb)；文件不会被读取。"
            )


_PDF_ENCRYPTED = "PDF 已加密，需要密码才能打开 (PDF is encrypted)；请先去除密码后再上传。"


def _read_pdf(data: bytes) -> str:
    from pypdf import PasswordType, PdfReader
    from pypdf.errors import DependencyError, FileNotDecryptedError

    if b"%PDF" not in data[:1024]:
        raise LoadError("不是有效的 PDF 文件 (not a PDF: header missing)；请确认文件类型。")
    try:
        reader = PdfReader(io.BytesIO(data), strict=False)
        # Many PDFs are "encrypted" only to restrict printing: their open password is empty.
        if reader.is_encrypted and reader.decrypt("") == PasswordType.NOT_DECRYPTED:
            raise LoadError(_PDF_ENCRYPTED)
        pages = list(reader.pages)
    except LoadError:
        raise
    except FileNotDecryptedError:
        raise LoadError(_PDF_ENCRYPTED) from None
    except DependencyError:
        raise LoadError("PDF 使用 AES 加密，需要安装 cryptography 库才能读取 (AES-encrypted PDF needs "
                        "the cryptography package)；或先去除加密后再上传。") from None
    except Exception as exc:  # noqa: BLE001 - pypdf raises many types for a broken file
        raise LoadError(f"PDF 文件损坏或不完整 (damaged or truncated PDF: {exc})；请重新下载或导出。") from exc
    if not pages:
        raise LoadError("PDF 文件损坏或不完整，没有页面 (damaged PDF: no pages)；请重新下载或导出。")
    texts, failed = [], 0
    for page in pages:
        try:
            texts.append(_page_text(page))
        except Exception:  # noqa: BLE001 - one broken page should not lose the others
            failed += 1
    text = "\n".join(texts)
    if not text.strip():
        if failed:
            raise LoadError("PDF 文件损坏，无法提取文字 (damaged PDF: text extraction failed)；请重新下载或导出。")
        raise LoadError("PDF 中没有可提取的文字，可能是扫描件或图片 (no extractable text; scanned PDF?)；"
                        "暂不支持 OCR，请先用 OCR 软件转成文字版 PDF 或 .txt。")
    return text


def _page_text(page) -> str:
    """A PDF page's text (pypdf's reading order), its table rows with tab-separated cells (_tabulate)."""
    text = page.extract_text() or ""
    if sum(1 for line in text.split("\n") if " " in line.strip()) < 2:
        return text  # no two lines with a gap in them: no table
    try:
        layout = page.extract_text(extraction_mode="layout")
    except Exception:  # noqa: BLE001 - the layout reading is an aid; the plain text stands without it
        return text
    return _tabulate(text, layout) if layout else text


_GAP = re.compile(r" {2,}")
_ANY_SPACE = re.compile(r"\s+")


def _layout_cells(line: str) -> list[tuple[int, int, str]]:
    """The runs of a layout line that two or more spaces apart: (first column, end column, text)."""
    cells, pos = [], 0
    for m in _GAP.finditer(line + "  "):
        piece = line[pos:m.start()]
        if piece.strip():
            lead = len(piece) - len(piece.lstrip())
            cells.append((pos + lead, m.start(), piece.strip()))
        pos = m.end()
    return cells


def _layout_rows(layout: str) -> list[tuple[str, list[str]]]:
    """Table rows of a page in pypdf's layout mode (text placed on a fixed-width grid, so the gap between two
    cells is a run of spaces): (the row's text without spaces, its cells). A table is two or more lines in a
    row (one blank line apart at most) that each have two or more runs, as many columns as its widest row; a
    row with fewer runs has empty cells (_columns_of), kept as empty cells."""
    lines = layout.split("\n")
    blocks: list[list[list[tuple[int, int, str]]]] = []
    current: list[list[tuple[int, int, str]]] = []
    blank = 0
    for line in lines:
        if not line.strip():
            blank += 1
            if blank > 1 and current:
                blocks.append(current)
                current = []
            continue
        cells = _layout_cells(line)
        if len(cells) >= 2 and (blank <= 1 or not current):
            current.append(cells)
        else:
            if current:
                blocks.append(current)
            current = [cells] if len(cells) >= 2 else []
        blank = 0
    if current:
        blocks.append(current)
    out = []
    for block in blocks:
        if len(block) < 2:
            continue
        width = max(len(cells) for cells in block)
        full = [cells for cells in block if len(cells) == width]
        columns = [(min(c[i][0] for c in full), max(c[i][1] for c in full)) for i in range(width)]
        for cells in block:
            row = [""] * width
            for (_, _, text), col in zip(cells, _columns_of(cells, columns)):
                row[col] = text
            out.append(("".join(t for _, _, t in cells).replace(" ", ""), row))
    return out


def _columns_of(cells: list[tuple[int, int, str]], columns: list[tuple[int, int]]) -> list[int]:
    """The columns of a row's runs, in order, when the row has fewer runs than the table has columns (empty
    cells): the order-keeping placement that puts each run nearest its column (a number right-aligned under a
    left-aligned header still falls in its column, as no other placement is nearer)."""
    k, n = len(cells), len(columns)
    if k == n:
        return list(range(n))

    def cost(i: int, j: int) -> float:
        (s, e, _), (cs, ce) = cells[i], columns[j]
        return max(0, cs - e, s - ce) + 0.01 * abs((s + e) - (cs + ce)) / 2

    inf = float("inf")
    best = [[inf] * (n + 1) for _ in range(k + 1)]
    best[0] = [0.0] * (n + 1)
    for i in range(1, k + 1):
        for j in range(i, n + 1):
            best[i][j] = min(best[i][j - 1], best[i - 1][j - 1] + cost(i - 1, j - 1))
    out, i, j = [], k, n
    while i > 0:
        if best[i][j] == best[i][j - 1] and j > i:
            j -= 1
        else:
            out.append(j - 1)
            i, j = i - 1, j - 1
    return out[::-1]


def _tabulate(text: str, layout: str) -> str:
    """pypdf's plain text with its table rows' cells separated by tabs. The cells come from the layout reading
    (_layout_rows); a plain line takes them only when it holds exactly the same characters as the layout row,
    so a two-column page, whose layout lines join lines of both columns, is left as it is."""
    rows = _layout_rows(layout)
    if not rows:
        return text
    out, nxt = [], 0
    for line in text.split("\n"):
        key = _ANY_SPACE.sub("", line)
        for j in range(nxt, min(nxt + 8, len(rows))):
            if key and rows[j][0] == key:
                line = "\t".join(rows[j][1])
                nxt = j + 1
                break
        out.append(line)
    return "\n".join(out)


_READERS = {
    ".txt": decode_bytes,
    ".md": decode_bytes,
    ".html": _read_html,
    ".htm": _read_html,
    ".docx": _read_docx,
    ".pdf": _read_pdf,
}
