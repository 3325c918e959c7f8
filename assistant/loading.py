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
from .readers import DEFAULT_MAX_CHARS, SUPPORTED_SUFFIXES, read_raw

CJK = r"\u4e00-\u9fff"
_CJK_RE = re.compile(f"[{CJK}]")

# Whole lines that are page furniture. Each is short and has a shape no sentence of a speech has.
_CHROME_LINE = [
    r"^当前位置[:：\s].*",
    r"^(您|你)的位置[:：].*",
    r".*首页\s*>.*",
    r"^字体(大小)?[:：]?\s*【?.*",
    r"^字号[:：]?\s*【?.*",
    r"^【?大】?\s*【?中】?\s*【?小】?$",
    r"^(时间[:：]\s*[\d\-: ]+)?\s*大\s+中\s+小\s*$",
    r"^(保存为word|打印|关闭|打印本页|关闭窗口|【打印】|【关闭】|返回顶部|Top|TOP|top)(\s+(保存为word|打印|关闭|打印本页|关闭窗口))*$",
    r"^阅读(次数|量)[:：]?.*",
    r"^浏览(次数|量)[:：]?.*",
    r"^归档时间[:：]?.*",
    r"^已归档$",
    r"^推荐访问[:：].*",
    r"^扫一扫在手机(上)?打开当前页$",
    r"^分享到[:：]?.*",
    r"^(上一篇|下一篇)[:：].*",
    r"^相关(文章|阅读|推荐)[:：]?.*",
    r".*(范文网|文库|范文大全|范文之家)$",
    r"^下面是小编.*",
    r"^(以上|本文)是小编.*",
    r"^image\d*\.(png|jpe?g|gif|emf|wmf)$",
    r"^\[bookmark:[^\]]*\]$",
    r"^第?\s*\d{1,3}\s*页?$",  # a stray page number (a zero-padded part number is handled first)
    r"^-\s*\d{1,3}\s*-$",
    r"^共\s*\d+\s*页.*",
]
_CHROME_RE = [re.compile(p) for p in _CHROME_LINE]

# Metadata-table rows (索引号, 发文字号 …) and "date + source" lines: read for metadata, then removed.
_META_ROW = re.compile(
    r"^(索引号|发文字号|发文机关|主题词|标题|主题分类|发布日期|发文时间|成文日期|发布时间|发布机构|来源|时间|信息来源|文号|作者)"
    r"\s*[:：]?\s*(.*)$"
)
_DATE_SOURCE = re.compile(r"^\d{4}[-/年]\d{1,2}[-/月]\d{1,2}日?(\s+\d{1,2}:\d{2}(:\d{2})?)?\s*(来源[:：].*)?$")

# Watermarks that template sites splice into the middle of words. Removed wherever they occur: they are
# never Chinese prose. Extend with ASSISTANT_WATERMARKS (comma-separated) for new sites.
WATERMARKS = ["笔扫千军整理", "百事通范文网整理", "范文网整理", "本文来源于网络", "文章来源网络"]
_BOOKMARK = re.compile(r"\[bookmark:[^\]]*\]")

_TERMINAL = "。！？!?:：;；…”」』)）"
_HEAD_SCAN = 14  # lines at the top that may hold title, subtitle, speaker and date

PROVINCES = [
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃",
    "青海", "宁夏", "新疆", "香港", "澳门", "台湾",
]

# Zone suffixes, long forms first; each maps to the short form users type.
ZONE_SUFFIXES = [
    ("高新技术产业开发区", "高新区"),
    ("经济技术开发区", "经开区"),
    ("经济开发区", "经开区"),
    ("高新区", "高新区"),
    ("经开区", "经开区"),
    ("工业园区", "工业园区"),
    ("开发区", "开发区"),
    ("新区", "新区"),
]
_ZONE_RE = re.compile(
    f"(×+|X+|XX|[{CJK}]{{2,4}}?)(" + "|".join(s for s, _ in ZONE_SUFFIXES) + ")"
)
# Characters that precede a place name in running text but are not part of it ("在长治高新区").
_PLACE_STOP = set("在对把为是和与及全我本各该将由从到向以同其至即等了的地得于之市省县区园新赴驻原经称")
_NOT_PLACE = {"国家", "全国", "各类", "自主", "综合", "示范", "建设", "推进", "加快", "打造", "国际", "重点", "省级"}

KINDS = [
    ("工作要点", "工作要点"),
    ("发言提纲", "发言提纲"),
    ("讲话提纲", "发言提纲"),
    ("工作总结", "工作总结"),
    ("政府工作报告", "工作报告"),
    ("工作报告", "工作报告"),
    ("实施方案", "方案"),
    ("讲话", "讲话"),
    ("发言", "讲话"),
    ("报告", "工作报告"),
    ("意见", "意见"),
    ("通知", "通知"),
    ("规划", "规划"),
]


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
    paragraphs = _join_lines(lines)
    text = "\n".join(paragraphs)
    if len(_CJK_RE.findall(text)) < 10:
        raise LoadError(f"{name}: 去掉网页框架后没有正文 (no body text left after removing page chrome)。")
    meta = extract_metadata(text, header)
    meta.setdefault("source_file", name)
    return LoadedDoc(name=name, text=text, meta=meta)


# ---------------------------------------------------------------------------------------------- cleaning


def _remove_watermarks(line: str) -> str:
    for mark in WATERMARKS:
        if mark in line:
            line = line.replace(mark, "")
    return _BOOKMARK.sub("", line)


def _is_part_number(lines: list[str], i: int) -> bool:
    """'01' alone on a line, followed by a short heading: a part number, not a page number."""
    if not re.fullmatch(r"0\d|第[一二三四五六七八九十]+部分", lines[i]):
        return False
    for nxt in lines[i + 1:i + 3]:
        if nxt:
            return len(nxt) <= 60 and nxt[-1] not in "。！？"
    return False


def _strip_chrome(raw: str) -> tuple[list[str], dict]:
    """Drop chrome lines; return body lines (blank lines kept as '') and the header fields read."""
    header: dict = {}
    lines = [_remove_watermarks(line).strip() for line in raw.replace("\r", "\n").split("\n")]
    lines = [re.sub(r"[\u3000\xa0]+", lambda m: " " * len(m.group()), ln).strip() for ln in lines]
    template_titles = set()
    for ln in lines[:40]:
        m = re.match(r"^下面是小编为大家(整理|收集|精心整理)的(.+?)[,，]", ln)
        if m:
            template_titles.add(m.group(2).strip())
    out: list[str] = []
    seen_body = False  # header rows (dates, sources) only come before the first body paragraph
    for i, ln in enumerate(lines):
        if not ln:
            out.append("")
            continue
        if len(ln) > 60:
            seen_body = True
        if _is_part_number(lines, i):
            out.append(ln)
            continue
        if ln in template_titles:
            continue
        if len(ln) <= 80:
            m = _META_ROW.match(ln)
            if m and (i < 40 or i > len(lines) - 15) and _looks_like_meta_row(ln, m):
                key, value = m.group(1), m.group(2).strip()
                _read_meta_row(header, key, value)
                continue
            if _DATE_SOURCE.match(ln) and i < 40 and not seen_body:
                header.setdefault("published", _iso_date(ln))
                src = re.search(r"来源[:：]\s*(.+)$", ln)
                if src:
                    header.setdefault("source", src.group(1).strip())
                continue
            if any(r.match(ln) for r in _CHROME_RE):
                continue
        out.append(ln)
    while out and not out[0]:
        out.pop(0)
    while out and not out[-1]:
        out.pop()
    return out, header


def _looks_like_meta_row(line: str, m: re.Match) -> bool:
    """A table row, not a sentence that starts with the same word ('时间紧、任务重。')."""
    key, value = m.group(1), m.group(2)
    if key in ("标题",):
        return True
    if key in ("时间", "来源", "作者"):
        return bool(re.match(r"^\s*[:：]", line[len(key):])) and not re.search(r"[。！？]$", line)
    return not re.search(r"[。！？]$", line) and len(value) <= 60


def _read_meta_row(header: dict, key: str, value: str) -> None:
    # A table row may carry two fields on one line ("发文字号 发文时间2018-04-23").
    for sub_key, sub_val in re.findall(r"(发文时间|发布日期|发布时间|成文日期)\s*[:：]?\s*([\d\-/年月日: ]+)", key + value):
        header.setdefault("published", _iso_date(sub_val))
    if key == "标题" and value:
        header["page_title"] = value
    elif key in ("来源", "信息来源", "发布机构", "发文机关") and value and not re.search(r"\d{4}", value) \
            and not _META_ROW.match(value):
        header.setdefault("source", value)
    elif key in ("时间",) and value:
        header.setdefault("page_time", _iso_date(value))


def _iso_date(s: str) -> str:
    m = re.search(r"(\d{4})\s*[-/年.]\s*(\d{1,2})\s*[-/月.]\s*(\d{1,2})", s)
    if not m:
        return ""
    y, mo, d = (int(g) for g in m.groups())
    if not (1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31):
        return ""
    return f"{y:04d}-{mo:02d}-{d:02d}"


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
    paragraphs: list[str] = []
    current = ""
    prev_blank = True
    for ln in lines:
        if not ln:
            if current:
                paragraphs.append(current)
                current = ""
            prev_blank = True
            continue
        if current:
            soft = (
                not is_heading_line(ln)
                and not is_heading_line(current)
                and len(current) > 40
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
        prev_blank = False
    if current:
        paragraphs.append(current)
    return paragraphs


# ---------------------------------------------------------------------------------------------- metadata


def _place_before(window: str) -> str:
    """The place name that ends a window of text ('认真落实在长治' -> '长治'), cut by jieba."""
    import jieba

    jieba.setLogLevel(60)
    tokens = [t for t in jieba.lcut(window) if t.strip()]
    while tokens and all(ch in _PLACE_STOP for ch in tokens[-1]):
        return ""
    if not tokens:
        return ""
    place = tokens[-1]
    if len(place) == 1 and len(tokens) > 1 and tokens[-2] not in _PLACE_STOP and len(tokens[-2]) == 1:
        place = tokens[-2] + place
    return place if len(place) >= 2 and place not in _NOT_PLACE else ""


def _zone_candidates(text: str) -> Counter:
    counts: Counter = Counter()
    short = dict(ZONE_SUFFIXES)
    for m in _ZONE_RE.finditer(text):
        prefix, suffix = m.group(1), m.group(2)
        if prefix[0] not in "×X":
            prefix = _place_before(text[max(0, m.start(2) - 6):m.start(2)])
            if not prefix:
                continue
        counts[prefix + short[suffix]] += 1
    return counts


def normalize_zone(name: str) -> str:
    for long, short in ZONE_SUFFIXES:
        if name.endswith(long):
            return name[: -len(long)] + short
    return name


def detect_zone(text: str, title: str = "") -> str:
    """The zone a document is about: named in its title, else the one its text names most often."""
    in_title = _zone_candidates(title)
    if in_title:
        return in_title.most_common(1)[0][0]
    mask = re.search(r"(×+|XX)", title)
    if mask and re.search(r"(我区|全区)", text):
        return mask.group(1) + "区"
    counts = _zone_candidates(text[:30000])
    if counts:
        best, n = counts.most_common(1)[0]
        if n >= 2:
            return best
    return ""


def detect_province(text: str) -> str:
    counts = Counter({p: text.count(p) for p in PROVINCES})
    best, n = counts.most_common(1)[0]
    return best if n > 0 else ""


def extract_metadata(text: str, header: dict | None = None) -> dict:
    header = dict(header or {})
    paras = text.split("\n")
    head: list[str] = []
    for p in paras[:_HEAD_SCAN]:
        if len(p) > 60 or p.startswith(("同志们", "各位")) or is_heading_line(p):
            break
        head.append(p)
    subtitle = next((p for p in head if p.startswith("——")), "")
    title_lines = []
    for p in head:
        if p.startswith("——"):
            break
        if _iso_date(p) and len(p) < 20:
            continue
        if p.endswith(("。", "：", ":")):
            break
        if title_lines and re.fullmatch(f"[{CJK}]{{2,4}}", re.sub(r"\s+", "", p)):
            break  # a name line after the title: the speaker
        title_lines.append(p)
    if len(title_lines) > 2:
        title_lines = title_lines[-2:]
    title = " ".join(re.sub(r"\s+", " ", t) for t in title_lines).strip()
    if not title:
        title = header.get("page_title", "") or (paras[0][:40] if paras else "")
    speaker = ""
    for p in head:
        compact = re.sub(r"\s+", "", p)
        if p is not subtitle and re.fullmatch(f"[{CJK}]{{2,4}}", compact) and compact not in title:
            speaker = compact
            break
    page_title = header.get("page_title", "")
    if not speaker and page_title:
        m = re.match(f"^([{CJK}]{{2,4}}?)(同志)?在.+(讲话|发言)$", page_title)
        if m:
            speaker = m.group(1)
    date = ""
    for p in head + paras[-3:]:
        if len(p) <= 20 and _iso_date(p):
            date = _iso_date(p)
            break
    published = header.get("published", "")
    labels = " ".join([title, subtitle, page_title])
    kind = next((k for word, k in KINDS if word in labels), "文件")
    year_src = re.search(r"(19|20)\d{2}(?=年)", title + " " + subtitle + " " + page_title)
    year = int(date[:4]) if date else (int(year_src.group()) if year_src else None)
    if year is None:
        first = re.search(r"((?:19|20)\d{2})年", text[:400])
        year = int(first.group(1)) if first else None
    if year is None and published:
        year = int(published[:4])
    zone = detect_zone(text, " ".join([title, subtitle, page_title]))
    meta = {
        "title": title,
        "subtitle": subtitle.lstrip("—").strip(),
        "zone": zone,
        "province": detect_province(text),
        "speaker": speaker,
        "date": date,
        "year": year,
        "kind": kind,
        "published": published,
        "source": header.get("source", ""),
    }
    if page_title and page_title != title:
        meta["page_title"] = page_title
    return {k: v for k, v in meta.items() if v not in (None, "")}


# ---------------------------------------------------------------------------------------------- corpus


def bundled_corpus_dir() -> Path:
    return Path(__file__).parent / "corpus"


def bundled_manifest() -> dict:
    path = bundled_corpus_dir() / "manifest.json"
    return json.loads(path.read_text("utf-8")) if path.exists() else {}


def bundled_files() -> list[Path]:
    return sorted(p for p in bundled_corpus_dir().iterdir() if p.suffix in SUPPORTED_SUFFIXES and p.name[0].isdigit())
