"""Files -> clean text + metadata.

Documents arrive as saved web pages: breadcrumbs, font-size widgets, metadata tables, template-site
banners, watermarks spliced into words, stray page numbers. The cleaner removes those by *line shape*
(short lines that match a chrome pattern), never by editing a sentence of the body, so that every quote the
assistant shows is a verbatim span of the clean text and, apart from joined line breaks, of the file.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from .errors import LoadError
from .lexicon import words
from .metadata import extract_metadata, iso_date
from .readers import DEFAULT_MAX_CHARS, SUPPORTED_SUFFIXES, read_raw
from .text import fold, is_table_row

CJK = r"\u4e00-\u9fff"
_CJK_RE = re.compile(f"[{CJK}]")

# Whole lines that are page furniture. Each is short and has a shape no sentence of a speech has. Matched on
# the traditional-to-simplified fold of the line, so a repost's 來源 / 編輯 lines go the same way.
_CHROME_LINE = [
    r"^当前位置[:：\s].*",
    r"^(您|你)的位置[:：].*",
    r".*首页\s*(>|》|»|›|/|→).*",
    r"^字体(大小)?[:：]?\s*【?.*",
    r"^字号[:：]?\s*【?.*",
    r"^【?大】?\s*【?中】?\s*【?小】?$",
    r"^(时间[:：]\s*[\d\-: ]+)?\s*大\s+中\s+小\s*$",
    r"^(保存为word|打印|关闭|打印本页|关闭窗口|【打印】|【关闭】|返回顶部|返回目录|Top|TOP|top)"
    r"(\s+(保存为word|打印|关闭|打印本页|关闭窗口))*$",
    r"^阅读(次数|量)?[:：]?.*",
    r"^浏览(次数|量)?[:：]?.*",
    r"^(点击|访问)(数|量|次数)?[:：].*",
    r"^归档时间[:：]?.*",
    r"^已归档$",
    r"^推荐访问[:：].*",
    r"^扫一扫在手机(上)?打开当前页$",
    r"^分享到[:：]?.*",
    r"^(上一篇|下一篇|上一条|下一条|上一版|下一版)[:：]?.*",
    r"^相关(文章|阅读|推荐|链接|新闻|文件)[:：]?$",
    r".*(范文网|文库|范文大全|范文之家)$",
    r"^下面是小编.*",
    r"^(以上|本文)是小编.*",
    r"^image\d*\.(png|jpe?g|gif|emf|wmf)$",
    r"^\[bookmark:[^\]]*\]$",
    r"^第?\s*\d{1,3}\s*页?$",  # a stray page number (a zero-padded part number is handled first)
    r"^-\s*\d{1,3}\s*-$",
    r"^共\s*\d+\s*页.*",
    r"^第?[A-Z]?\d{1,2}版[:：]?.{0,12}$",  # an e-paper's page label ("第A03版：要闻")
    r"^[|｜\-—=*·•\s]+$",  # e-paper table leftovers ("| ||||"), rules
    r"^(责任编辑|编辑|审核|校对|审校|初审|复审|终审|撰稿|供稿|摄影|编审)[:：].{0,30}$",
    r"^[(（【\[]?(责任编辑|编辑)[:：].{0,20}[)）】\]]?$",
]
_CHROME_RE = [re.compile(p) for p in _CHROME_LINE]
_FOOTER_WORDS = words("chrome", "footer_words")
_WIDGETS = set(words("chrome", "widgets"))

# Metadata-table rows (索引号, 发文字号 …) and "date + source" lines: read for metadata, then removed.
_META_LABELS = sorted(words("chrome", "meta_labels"), key=len, reverse=True)
_META_ROW = re.compile(r"^(" + "|".join(_META_LABELS) + r")\s*[:：]?\s*(.*)$")
_META_PAIR = re.compile(r"(" + "|".join(_META_LABELS + ["浏览次数", "阅读次数", "点击量", "字号"]) + r")\s*[:：]\s*")
_DATE_SOURCE = re.compile(r"^\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(\s+\d{1,2}:\d{2}(:\d{2})?)?\s*(来源[:：].*)?$")

# Watermarks that template sites splice into the middle of words. Removed wherever they occur: they are
# never Chinese prose. Extend with ASSISTANT_WATERMARKS (comma-separated) for new sites.
WATERMARKS = ["笔扫千军整理", "百事通范文网整理", "范文网整理", "本文来源于网络", "文章来源网络"]
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")
_MD_IMAGE = re.compile(r"!\[\]\([^)\n]*\)")  # an e-paper's image leftover has no alt text: ![](…)
# Pinyin that a repost site puts after a character: 區(qū), 園（yuán）. Tone marks make it pinyin, not an acronym.
_TONED = "āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜńňǹḿ"
_PINYIN = re.compile(f"(?<=[{CJK}])[(（]\\s*[a-zü{_TONED}]*[{_TONED}][a-zü{_TONED}]*\\s*[)）]")

_TERMINAL = "。！？!?:：;；…”」』)）"
_HEAD_SCAN = 14  # lines at the top that may hold title, subtitle, speaker and date

@dataclass
class LoadedDoc:
    name: str  # file name, the document's id
    text: str  # clean text: every quote and offset refers to it
    meta: dict = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        from .chunking import VERSION

        payload = f"{VERSION}\x00{self.text}\x00" + json.dumps(self.meta, ensure_ascii=False, sort_keys=True)
        return hashlib.sha256(payload.encode("utf-8")).hexdigest()[:16]


def safe_name(name: str) -> str:
    """A file name that cannot escape the store: no directories, no control characters."""
    base = re.split(r"[\\/]", name)[-1]
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip().lstrip(".")
    base = re.sub(r"\s+", "_", base)
    return base[:150] or "document.txt"


def load_document(path: Path | str, overrides: dict | None = None, *, max_mb: int = 20,
                  name: str | None = None, max_chars: int = DEFAULT_MAX_CHARS) -> LoadedDoc:
    path = Path(path)
    raw = read_raw(path, max_bytes=max_mb * 1024 * 1024, max_chars=max_chars)
    doc = parse_text(raw, name=safe_name(name or path.name))
    if overrides:
        doc.meta.update({k: v for k, v in overrides.items() if v not in (None, "")})
    return doc


def parse_text(raw: str, name: str = "document.txt") -> LoadedDoc:
    if not _CJK_RE.search(raw):
        raise LoadError(f"{name}: 文件中没有中文正文 (no Chinese text found); 本助手只处理中文文档。")
    lines, header = _strip_chrome(raw)
    text = "\n".join(_join_lines(lines))
    if len(_CJK_RE.findall(text)) < 4:  # a one-sentence document ("某经开区2019年工作总结。") keeps its body
        raise LoadError(f"{name}: 去掉网页框架后没有正文 (no body text left after removing page chrome)。")
    meta = extract_metadata(text, header, name)
    meta.setdefault("source_file", name)
    return LoadedDoc(name=name, text=text, meta=meta)


# ---------------------------------------------------------------------------------------------- cleaning


def _remove_watermarks(line: str) -> str:
    for mark in WATERMARKS:
        if mark in line:
            line = line.replace(mark, "")
    line = _MD_IMAGE.sub("", _BOOKMARK.sub("", line))
    return _PINYIN.sub("", line)


_MD_HEADING = re.compile(r"^\s{0,3}(#{1,6}|>+)\s+")
_MD_EMPHASIS = re.compile(r"(\*\*)(?=\S)(.+?)(?<=\S)\1")  # not __: "__init__" is no emphasis


def _unmark(line: str) -> str:
    """Markdown's own marks (# headings, > quotes, **bold**) are no text of the document."""
    line = _MD_HEADING.sub("", line)
    return _MD_EMPHASIS.sub(r"\2", line) if "**" in line else line


def _edge_strip(line: str) -> str:
    """A line without the whitespace at its edges; a table row keeps its edge tabs, which are its empty first or
    last cells (a header's empty corner), so that it lines up with the rows under it."""
    stripped = line.strip()
    return line.strip(" \n\r\f\v") if "\t" in stripped else stripped


def _raw_lines(raw: str) -> list[str]:
    lines = [_edge_strip(_unmark(_remove_watermarks(line))) for line in raw.replace("\r", "\n").split("\n")]
    lines = [_edge_strip(re.sub(r"[\u3000\xa0]+", lambda m: " " * len(m.group()), ln)) for ln in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _is_part_number(lines: list[str], i: int) -> bool:
    """'01' alone on a line, followed by a short heading: a part number, not a page number."""
    if not re.fullmatch(r"0\d|第[一二三四五六七八九十]+部分", lines[i]):
        return False
    for nxt in lines[i + 1:i + 3]:
        if nxt:
            return len(nxt) <= 60 and nxt[-1] not in "。！？"
    return False


def _is_body(line: str) -> bool:
    """A line of running text: long, with sentence punctuation."""
    return len(_CJK_RE.findall(line)) >= 30 and bool(re.search(r"[。；，,;！？]", line))


def _is_widget_line(f: str) -> bool:
    """Share buttons, font-size and print widgets, nav bars: every word a widget, or short parts between pipes."""
    if is_table_row(f) and re.search(r"\d", f):
        return False  # a table's row of figures
    parts = [p for p in re.split(r"[\s|｜/]+", re.sub(r"[:：【】\[\]]", " ", f)) if p]
    if parts and all(p in _WIDGETS for p in parts):
        return True
    segments = [seg.strip() for seg in re.split(r"[|｜]", f)]
    return len(segments) >= 3 and all(len(seg) <= 12 and not re.search(r"[。，；]", seg) for seg in segments)


def _is_footer(f: str, outside_body: bool) -> bool:
    if not any(w in f for w in _FOOTER_WORDS):
        return False
    if re.search(r"(版权归|如有侵权|侵权请|转载自|转载请注明|责任编辑|ICP备|公网安备|网站标识码)", f):
        return len(f) <= 150  # never prose: a repost note or a footer, wherever it stands
    return outside_body and len(f) <= 120 and not is_heading_line(f)


def _nav_runs(lines: list[str], first_body: int, last_body: int) -> set[int]:
    """Runs of 3+ short bare lines (menu items: 首页 / 走进高新 / 新闻中心 …) before or after the body."""
    def bare(i: int) -> bool:
        ln = lines[i]
        return (0 < len(ln) <= 8 and not re.search(r"[\d。，,：:；;、（）()《》“”\"!?！？\t]", ln)
                and not is_heading_line(ln))

    out: set[int] = set()
    i = 0
    while i < len(lines):
        if (i < first_body or i > last_body) and bare(i):
            j, run = i, []
            while j < len(lines) and (i < first_body or j > last_body) and (not lines[j] or bare(j)):
                if lines[j]:
                    run.append(j)
                j += 1
                if j == first_body:
                    break
            if len(run) >= 3:
                out.update(run)
            i = max(j, i + 1)
        else:
            i += 1
    return out


_LINK_ITEM = re.compile(r"^.{4,60}?\s*[\[(（]?\d{4}[-/.]\d{1,2}[-/.]\d{1,2}[\])）]?$")
_LINK_GROUP = re.compile(r"^(--|—{2}|==|<<|【).{1,30}(--|—{2}|==|>>|】)")


def _is_trailer(f: str) -> bool:
    """After the body: a related-article link ("…召开一季度推进会2023-02-16"), a link group ("-- 政府网站 --")."""
    return bool(_LINK_ITEM.match(f) and not re.search(r"[。；！？]", f)) or bool(_LINK_GROUP.match(f))


_SITE = "|".join(words("chrome", "site_words"))


def _page_title(line: str) -> bool:
    """An HTML <title> line: the headline, then the column and the site's name after "_", "|" or "-"."""
    return bool(re.search(r"(_|｜|\||\s-\s)", line) or re.search(f"[-–—]\\s*[^-–—]*({_SITE})$", line)) \
        and len(line) <= 120 and not re.search(r"[。！？]$", line) and len(re.findall(f"[{CJK}]", line)) >= 6 \
        and not _DATE_SOURCE.match(line)  # "2024-05-06 09:12 来源：园区融媒体中心" is the page's date line


def _strip_chrome(raw: str) -> tuple[list[str], dict]:
    """Drop chrome lines; return body lines (blank lines kept as '') and the header fields read."""
    header: dict = {}
    lines = _raw_lines(raw)
    folded = [fold(ln) for ln in lines]
    template_titles = set()
    for ln in lines[:40]:
        m = re.match(r"^下面是小编为大家(整理|收集|精心整理)的(.+?)[,，]", ln)
        if m:
            template_titles.add(m.group(2).strip())
    body_lines = [i for i, ln in enumerate(lines) if _is_body(ln)]
    first_body = body_lines[0] if body_lines else len(lines)
    last_body = body_lines[-1] if body_lines else -1
    nav = _nav_runs(lines, first_body, last_body)
    out: list[str] = []
    seen_body = False  # header rows (dates, sources) only come before the first body paragraph
    for i, ln in enumerate(lines):
        f = folded[i]
        if not ln:
            out.append("")
            continue
        if len(ln) > 60:
            seen_body = True
        if _is_part_number(lines, i):
            out.append(ln)
            continue
        if ln in template_titles or i in nav:
            continue
        informed = _informed(header)
        if len(ln) <= 160 and i < first_body and _read_meta_line(header, f):
            _keep_page_info(header, informed, ln[:header.pop("_info_end", len(ln))])
            continue
        if i == 0 and i < first_body and _page_title(f):
            header["page_title"] = ln
            continue
        outside = i < first_body or i > last_body
        if _is_footer(f, outside) or (i > last_body and _is_trailer(f)):
            continue
        if len(ln) <= 80:
            m = _META_ROW.match(f)
            if m and (i < 40 or i > len(lines) - 15) and _looks_like_meta_row(f, m):
                key, value = m.group(1), m.group(2).strip()
                _read_meta_row(header, key, value)
                _keep_page_info(header, informed, ln)
                continue
            if _DATE_SOURCE.match(f) and i < 40 and not seen_body:
                header.setdefault("published", iso_date(f))
                src = re.search(r"来源[:：]\s*(.+)$", f)
                if src:
                    header.setdefault("source", src.group(1).strip())
                _keep_page_info(header, informed, ln)
                continue
            if any(r.match(f) for r in _CHROME_RE) or _is_widget_line(f):
                continue
        out.append(ln)
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out, header


_PAGE_INFO = ("published", "source", "author")


def _informed(header: dict) -> tuple:
    return tuple(header.get(k) for k in _PAGE_INFO)


def _keep_page_info(header: dict, before: tuple, line: str) -> None:
    """A removed header line that told when, by whom or from where the page was published is kept, verbatim,
    as the page's information (metadata `page_info`): out of the body, searchable as its own passage."""
    line = line.strip(" |｜")
    if line and _informed(header) != before:
        header.setdefault("page_info", []).append(line)


def _read_meta_line(header: dict, f: str) -> bool:
    """A page-info line of two or more "label：value" pairs ("发布时间：2023-02-09 10:32 来源：党政办公室 浏览次数：
    1826 字号：大 中 小"): read its fields; True when the whole line is such pairs."""
    pairs = list(_META_PAIR.finditer(f))
    if len(pairs) < 2 or pairs[0].start() > 2 or re.search(r"[。！？]$", f):
        return False
    for m, nxt in zip(pairs, pairs[1:] + [None]):
        key = m.group(1)
        end = nxt.start() if nxt else len(f)
        value = f[m.end(): end].strip(" |｜")
        if key in ("发布时间", "发布日期", "发文时间", "成文日期", "日期", "时间"):
            if iso_date(value):
                header.setdefault("published", iso_date(value))
        elif key in ("来源", "信息来源", "发布机构", "发布单位") and value:
            header.setdefault("source", value.split()[0])
        elif key in ("作者", "编辑", "责任编辑") and value:
            header.setdefault("author", value.split()[0])
        else:
            continue
        header["_info_end"] = len(f[:end].rstrip(" |｜"))  # where the line's last field of page information ends
    return True


def _looks_like_meta_row(line: str, m: re.Match) -> bool:
    """A table row, not a sentence that starts with the same word ('时间紧、任务重。')."""
    key, value = m.group(1), m.group(2)
    if key in ("标题",):
        return True
    if key in ("时间", "来源", "作者", "编辑", "日期", "阅读", "浏览", "点击", "审核", "校对"):
        return bool(re.match(r"^\s*[:：]", line[len(key):])) and not re.search(r"[。！？]$", line) \
            and len(value) <= 40
    return not re.search(r"[。！？]$", line) and len(value) <= 60


def _read_meta_row(header: dict, key: str, value: str) -> None:
    # A table row may carry two fields on one line ("发文字号 发文时间2018-04-23").
    for sub_key, sub_val in re.findall(r"(发文时间|发布日期|发布时间|成文日期)\s*[:：]?\s*([\d\-/年月日: ]+)", key + value):
        header.setdefault("published", iso_date(sub_val))
    if key == "标题" and value:
        header["page_title"] = value
    elif key in ("来源", "信息来源", "发布机构", "发文机关", "发布单位") and value and not re.search(r"\d{4}", value) \
            and not _META_ROW.match(value):
        header.setdefault("source", value)
    elif key in ("时间",) and value:
        header.setdefault("page_time", iso_date(value))


def is_heading_line(line: str) -> bool:
    from .chunking import heading_level

    return heading_level(line) is not None


def _join_lines(lines: list[str]) -> list[str]:
    """Join lines broken mid-paragraph.

    When a document separates paragraphs by blank lines, a single line break inside a block is soft. When it
    does not, a line break is soft only where the line stops without closing punctuation and the next line
    is not a heading. Lines are joined with nothing: Chinese needs no space, and quotes stay verbatim.
    """
    nonblank = [i for i, ln in enumerate(lines) if ln]
    breaks = sum(1 for a, b in zip(nonblank, nonblank[1:]) if b == a + 1)
    blank_separated = breaks < 0.5 * max(1, len(nonblank) - 1)
    # Hard-wrapped text (PDF, e-mail): most lines have one width. A line close to it is a wrapped line even
    # when it is the (indented, so a little shorter) first line of its paragraph.
    widths = Counter(len(ln) for ln in lines if len(ln) >= 20)
    wrap = 46
    if widths:
        width, _ = widths.most_common(1)[0]
        near = sum(n for w, n in widths.items() if abs(w - width) <= 2)
        if near >= 0.25 * len(nonblank) and near >= 5:
            wrap = min(wrap, width)
    min_soft = wrap - 6
    paragraphs: list[str] = []
    current = last = ""
    for ln in lines:
        if not ln:
            if current:
                paragraphs.append(current)
                current = ""
            continue
        if current:
            soft = (
                not is_heading_line(ln)
                and not is_heading_line(current)
                and not is_table_row(ln) and not is_table_row(last)
                and len(current) > min_soft
                and (blank_separated or current[-1] not in _TERMINAL)
                and not ln.startswith("——")
            )
            if soft:
                current += ln
            else:
                paragraphs.append(current)
                current = ln
        else:
            current = ln
        last = ln
    if current:
        paragraphs.append(current)
    return paragraphs


# ---------------------------------------------------------------------------------------------- corpus


def bundled_corpus_dir() -> Path:
    return Path(__file__).parent / "corpus"


def bundled_manifest() -> dict:
    path = bundled_corpus_dir() / "manifest.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def bundled_files() -> list[Path]:
    return sorted(p for p in bundled_corpus_dir().iterdir() if p.suffix in SUPPORTED_SUFFIXES and p.name[0].isdigit())
