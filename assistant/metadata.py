"""A document's metadata (zone, title, year, date, kind, speaker) from every signal, in a stated order.

    manifest  >  file name  >  title block  >  body

The manifest (manifest.json beside the files, or a curator's edit) is applied by the caller and wins. Of the
rest, each field takes the first signal that gives it: a file name the user chose says "太仓高新区2018年半年度
工作会议" more reliably than a page whose first line is a wire line. `sources` in the result records which
signal gave each field.

A zone is a proper name: a place name of two or more characters before a zone suffix (高新区, 经开区, …; long
forms are normalised to short ones), or a masked name (×高新区, XX区). Place names are checked against the
gazetteer of administrative divisions (data/places.txt); a name outside it is accepted only where jieba reads
it as a proper noun. So "2016年高新区" gives no "年高新区" and "新时代开发区" no "时代开发区". Everything works on
the traditional-to-simplified fold of the text, so a repost in traditional characters gets simplified names.
"""

from __future__ import annotations

import re
from collections import Counter
from functools import lru_cache

from .lexicon import alternation, pairs, places, words
from .text import fold

CJK = r"\u4e00-\u9fff"
ZONE_SUFFIXES: list[tuple[str, str]] = pairs("zones", "suffixes")
_SHORT = dict(ZONE_SUFFIXES)
_MASKS = "".join(words("zones", "masks"))
_SUFFIX_RE = re.compile("|".join(re.escape(s) for s, _ in ZONE_SUFFIXES))
_MASKED_RE = re.compile(f"([{re.escape(_MASKS)}]+)$")
_NOT_PLACE = set(words("zones", "not_places"))
# A label's opening name and zone suffix: 2-4 characters, then the suffix, with nothing before the name.
_LABEL_ZONE = re.compile(f"^[《【\\[]?([{CJK}]{{2,4}}?)({_SUFFIX_RE.pattern})")
_OPENING = 600  # characters of the body that say what a document is about
_TERMINAL = "。！？!?；;"
_SITE = "|".join(words("chrome", "site_words"))

PROVINCES = words("zones", "provinces")


def normalize_zone(name: str) -> str:
    """长沙经济技术开发区 -> 长沙经开区; a short name is returned as it is."""
    for long, short in ZONE_SUFFIXES:
        if name.endswith(long):
            return name[: -len(long)] + short
    return name


@lru_cache(maxsize=4096)
def _proper_noun(word: str) -> bool:
    """jieba reads the word as one proper noun (place, organisation, other proper name)."""
    from jieba import posseg

    from .text import jieba_module

    jieba_module()
    toks = list(posseg.cut(word))
    return len(toks) == 1 and toks[0].flag in ("ns", "nz", "nt")


def place_before(window: str, strict: bool = False) -> str:
    """The place name that ends `window` ("国家级长治" -> "长治"; "2016年" -> ""), or "".

    The longest tail of the window (2-6 characters) that the gazetteer knows wins; a city or county word
    between place and suffix ("长治市高新区") is skipped. Failing the gazetteer, and unless `strict`, a 2-4
    character tail that jieba reads as a proper noun (and that is no common word of the lexicon)."""
    w = re.sub(f"[^{CJK}]+$", "", window) if re.search(f"[{CJK}]$", window) is None else window
    m = re.search(f"[{CJK}]+$", w)
    if not m:
        return ""
    run = m.group()
    if len(run) >= 3 and run[-1] in "市县" and run[:-1][-2:] in places():
        run = run[:-1]
    known = places()
    for n in range(min(6, len(run)), 1, -1):
        tail = run[-n:]
        if tail in known and tail not in _NOT_PLACE:
            return tail
    if strict:
        return ""
    for n in (4, 3, 2):
        tail = run[-n:]
        if len(tail) == n and tail not in _NOT_PLACE and not any(w in tail for w in _NOT_PLACE if len(w) >= 2) \
                and _proper_noun(tail):
            return tail
    return ""


def zone_mentions(text: str, strict: bool = False) -> list[tuple[str, int]]:
    """(short zone name, offset) for every zone named in `text` (folded to simplified first)."""
    text = fold(text)
    out = []
    for m in _SUFFIX_RE.finditer(text):
        before = text[max(0, m.start() - 8):m.start()]
        masked = _MASKED_RE.search(before)
        if masked:
            out.append((masked.group(1) + _SHORT[m.group()], m.start()))
            continue
        place = place_before(before, strict)
        if place:
            out.append((place + _SHORT[m.group()], m.start() - len(place)))
    return out


def zone_counts(text: str, strict: bool = False) -> Counter:
    return Counter(z for z, _ in zone_mentions(text, strict))


def _best_zone(text: str) -> str:
    """The zone a short label (file name, title) names first; a generic mention does not count. A label that
    opens with a name and a zone suffix ("青禾经开区2022年工作总结") names its zone, whether or not the name is
    in the gazetteer: the user or the issuer put it there."""
    found = zone_mentions(text)
    if found:
        return found[0][0]
    m = _LABEL_ZONE.match(fold(text).strip())
    if not m:
        return ""
    name, suffix = m.group(1), m.group(2)
    for longer in _SHORT:  # "在高新区": the suffix is 高新区, and 在 no name
        if len(longer) > len(suffix) and (name + suffix).endswith(longer):
            name, suffix = (name + suffix)[:-len(longer)], longer
    if len(name) < 2 or name in _NOT_PLACE or any(w in name for w in _NOT_PLACE if len(w) >= 2):
        return ""
    return name + _SHORT[suffix]


def body_zone(text: str) -> str:
    """The zone a body is about: the most mentions, those in the opening counting three times. A zone named
    once, outside the opening, is a zone the document mentions, not its own: unknown stays unknown."""
    text = fold(text)
    mentions = zone_mentions(text[:30000])
    if not mentions:
        return ""
    # the opening: the title and the first paragraph, at most _OPENING characters
    lines = [m.end() for m in re.finditer(r"[^\n]+", text[:_OPENING])]
    opening = lines[1] if len(lines) > 1 else _OPENING
    score: Counter = Counter()
    total: Counter = Counter()
    for z, pos in mentions:
        total[z] += 1
        score[z] += 3 if pos < opening else 1
    best, s = score.most_common(1)[0]
    if total[best] >= 2 or s >= 3:
        return best
    return ""


def masked_zone(labels: str, text: str) -> str:
    """×高新区 or XX区 from a masked title over a text that speaks of 我区 / 全区."""
    labels = fold(labels)
    m = re.search(f"([{re.escape(_MASKS)}]{{1,3}})(区|县|市)?", labels)
    if m and m.group(1) and re.search(r"(我区|全区)", text):
        return m.group(1) + "区"
    return ""


def detect_zone(text: str, title: str = "") -> str:
    """The zone of a document from its title and body (without a file name)."""
    return _best_zone(title) or body_zone(text)


def detect_province(text: str) -> str:
    text = fold(text)
    counts = Counter({p: text.count(p) for p in PROVINCES})
    best, n = counts.most_common(1)[0]
    return best if n > 0 else ""


# ---------------------------------------------------------------------------------------------- dates


_DATE_RES = [
    re.compile(r"(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日"),
    re.compile(r"(?<!\d)(\d{4})-(\d{1,2})-(\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})/(\d{1,2})/(\d{1,2})(?!\d)"),
    re.compile(r"(?<!\d)(\d{4})\.(\d{1,2})\.(\d{1,2})(?![\d.])"),
]
_CN_DATE = re.compile("([〇零一二三四五六七八九]{4})年([一二三四五六七八九十]{1,3})月([一二三四五六七八九十]{1,3})日")
_CN_DIGIT = {c: str(i) for i, c in enumerate("〇一二三四五六七八九")} | {"零": "0"}


def _cn_small(s: str) -> int:
    if s == "十":
        return 10
    if s.startswith("十"):
        return 10 + int(_CN_DIGIT[s[1]])
    if s.endswith("十"):
        return int(_CN_DIGIT[s[0]]) * 10
    if "十" in s:
        a, b = s.split("十")
        return int(_CN_DIGIT[a]) * 10 + int(_CN_DIGIT[b])
    return int(_CN_DIGIT[s])


def iso_date(s: str) -> str:
    """The first full date in `s` as YYYY-MM-DD ("2021年2月4日", "2023-02-09 10:32", "二〇二一年二月四日"), or "".
    A month range ("2021年1-9月") is no date."""
    for rx in _DATE_RES:
        m = rx.search(s)
        if m:
            y, mo, d = (int(g) for g in m.groups())
            if 1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
                return f"{y:04d}-{mo:02d}-{d:02d}"
    m = _CN_DATE.search(s)
    if m:
        try:
            y = int("".join(_CN_DIGIT[c] for c in m.group(1)))
            mo, d = _cn_small(m.group(2)), _cn_small(m.group(3))
        except (KeyError, ValueError):
            return ""
        if 1949 <= y <= 2100 and 1 <= mo <= 12 and 1 <= d <= 31:
            return f"{y:04d}-{mo:02d}-{d:02d}"
    return ""


def year_in(label: str) -> int | None:
    """The year a short label (file name, title) names: "2018年", "2018" standing alone, "二〇二一年". Of
    several, the first ("2020年工作总结和2021年工作打算" reports on 2020); of a range, its start."""
    label = re.sub(r"[〔\[]\d{4}[〕\]]\s*\d+\s*号", "", label)  # a document number's year
    rng = re.search(r"(?<!\d)((?:19|20)\d{2})\s*年?\s*[-—–~～至到]\s*(?:19|20)\d{2}", label)
    if rng:
        return int(rng.group(1))
    years = [int(y) for y in re.findall(r"(?<!\d)((?:19|20)\d{2})(?:年|(?!\d))", label)]
    if years:
        return years[0]
    m = re.search("([〇零一二三四五六七八九]{4})年", label)
    if m:
        try:
            return int("".join(_CN_DIGIT[c] for c in m.group(1)))
        except KeyError:
            return None
    return None


# ---------------------------------------------------------------------------------------------- title block


_DATELINE = re.compile(r"^.{0,20}?(本网讯|本报讯|日电|讯[(（]|[(（](记者|通讯员)|记者\s*[\u4e00-\u9fff]{2,4}\s*(报道|摄))")


def is_dateline(line: str) -> bool:
    """A news wire line ("大公网长春17日电(大公报记者赵文博)…", "本网讯（记者 王某）3月2日上午…")."""
    return bool(_DATELINE.search(fold(line)))


def file_stem(name: str) -> str:
    """The title a user gave a file: its name without the suffix, "(转载)", "_final", copy numbers."""
    stem = re.sub(r"\.[A-Za-z0-9]{1,5}$", "", name or "")
    stem = re.sub(r"[(（【\[](转载|转|副本|copy|final|终稿|定稿|\d{1,2})[)）】\]]", "", stem, flags=re.I)
    stem = re.sub(r"[_\-]+(副本|copy|final|v\d+)$", "", stem, flags=re.I)
    return stem.replace("_", " ").strip()


def _headline(page_title: str) -> str:
    """A page title's headline: the first part before the site's name ("青川高新区召开2023年工作会议_园区动态_
    青川高新技术产业开发区管理委员会" -> "青川高新区召开2023年工作会议")."""
    parts = [p.strip() for p in re.split(r"\s*(?:_|\||｜| - | – | — |--)\s*", page_title) if p.strip()]
    site = re.search(f"[-–—]\\s*[^-–—]*({_SITE})$", parts[0]) if parts else None
    if site:
        parts[0] = parts[0][: site.start()].strip()
    for p in parts:
        if len(re.findall(f"[{CJK}]", p)) >= 4:
            return p
    return page_title.strip()


def _title_like(line: str) -> bool:
    compact = re.sub(r"\s+", "", line)
    return (4 <= len(re.findall(f"[{CJK}]", compact)) and len(compact) <= 60 and compact[-1] not in _TERMINAL
            and not is_dateline(line) and not (iso_date(line) and len(compact) < 24))


def title_block(paras: list[str], header: dict) -> dict:
    """Title, subtitle and speaker from the lines before the body starts."""
    from .chunking import heading_level

    head: list[str] = []
    for p in paras[:14]:
        if len(p) > 60 or p.startswith(("同志们", "各位")) or heading_level(p) is not None:
            break
        head.append(p)
    page_title = header.get("page_title", "")
    headline = _headline(page_title) if page_title else ""
    subtitle = next((p for p in head if p.startswith("——")), "")
    title_lines: list[str] = []
    for p in head:
        if p.startswith("——"):
            break
        if is_dateline(p):
            if title_lines:
                break
            continue
        if (iso_date(p) and len(p) < 24) or re.search(r"[〔\[(（]\d{4}[〕\])）]\s*\d+\s*号$", p) \
                or re.search(r"\d{4}\s*年\s*\d{1,2}\s*月(\s*\d{1,2}\s*日)?\s*[)）]?$", p):
            continue  # a date line, an issuer and its month, a document number ("泗开党发〔2022〕5号")
        if re.search(f"[{_TERMINAL}:：]$", p):
            break
        if title_lines and (re.fullmatch(f"[{CJK}]{{2,4}}", re.sub(r"\s+", "", p)) or _speaker_line(p)):
            break  # a name line after the title: the speaker
        if not _title_like(p):
            if title_lines:
                break
            continue
        if headline and p != headline and _headline(p) == headline:
            continue  # the page's <title> line, repeated above the headline
        title_lines.append(_headline(p) if ("_" in p or "|" in p) else p)
        if len(title_lines) == 3:
            break
    if len(title_lines) > 2:
        title_lines = title_lines[-2:]
    if len(title_lines) == 2 and title_lines[0] == title_lines[1]:
        title_lines = title_lines[:1]
    title = " ".join(re.sub(r"\s+", " ", t) for t in title_lines).strip()
    speaker = ""
    for p in head:
        compact = re.sub(r"\s+", "", p)
        if p is not subtitle and re.fullmatch(f"[{CJK}]{{2,4}}", compact) and compact not in title:
            speaker = compact
            break
        s = _speaker_line(p)
        if s and s not in title:
            speaker = s
            break
    if not speaker and page_title:
        m = re.match(f"^([{CJK}]{{2,4}}?)(同志)?在.+(讲话|发言)$", page_title)
        if m:
            speaker = m.group(1)
    return {"title": title, "lines": title_lines, "headline": headline, "subtitle": subtitle, "speaker": speaker,
            "head": head}


_ROLES = alternation(words("speakers", "roles"))
_SPEAKER_LINE = re.compile(f"^[(（]?[{CJK}、]{{0,16}}({_ROLES})[\\s　]+([{CJK}]{{2,4}})[)）]?$")


def _speaker_line(line: str) -> str:
    """"党工委书记 周明轩" -> 周明轩 (a role, a space, a name, alone on a line)."""
    m = _SPEAKER_LINE.match(line.strip())
    return m.group(2) if m else ""


# ---------------------------------------------------------------------------------------------- kind


_KINDS = pairs("kinds", "words")
_NEWS_OPENINGS = words("kinds", "news_openings")
_NEWS_VERBS = words("kinds", "news_verbs")


def kind_in(label: str) -> str:
    label = fold(label)
    return next((k for word, k in _KINDS if word in label), "")


def body_kind(text: str) -> str:
    """新闻报道 when the opening reads as a report of a meeting (a dateline, or "会议指出 / 会议强调")."""
    opening = fold(text[:400])
    if any(w in opening for w in _NEWS_OPENINGS) or sum(1 for v in _NEWS_VERBS if v in fold(text[:3000])) >= 3:
        return "新闻报道"
    return ""


# ---------------------------------------------------------------------------------------------- all together


def extract_metadata(text: str, header: dict | None = None, name: str = "") -> dict:
    """Every field from the first signal that gives it: file name > title block > body."""
    header = dict(header or {})
    paras = text.split("\n")
    folded = fold(text)
    block = title_block(fold(text).split("\n"), {k: fold(v) if isinstance(v, str) else v for k, v in header.items()})
    stem = fold(file_stem(name))
    page_title = header.get("page_title", "")
    # The title as the document writes it (not folded): the same lines of the original.
    title = block["title"]
    if title:
        title = " ".join(_original(line, text) for line in block["lines"])
    elif block["headline"]:
        title = _original(block["headline"], page_title) or block["headline"]
    elif stem and re.search(f"[{CJK}]", stem):
        title = file_stem(name)
    else:
        title = paras[0][:40] if paras else ""
    labels = " ".join([block["title"], block["subtitle"], block["headline"]])
    sources: dict[str, str] = {}
    signals = ((stem, "file name"), (labels, "title"))  # in the order they count

    def by_signal(read):
        """The first signal's value for a field, and which signal gave it."""
        for label, where in signals:
            value = read(label)
            if value:
                return value, label, where
        return None, "", ""

    zone, _, src = by_signal(_best_zone)
    zone = zone or ""
    if not zone:
        zone = body_zone(folded)
        src = "body" if zone else ""
    if not zone:
        zone = masked_zone(labels + " " + stem, folded)
        src = "title" if zone else ""
    if zone:
        sources["zone"] = src

    date = ""
    for p in block["head"] + [x for x in paras[-4:] if len(x) <= 24]:
        if len(p) <= 24 and iso_date(p):
            date = iso_date(p)
            break
    published = header.get("published", "")

    year, label, src = by_signal(year_in)
    # "2020年工作总结及2021年工作计划" delivered on 2021-02-04: the date says which of the two
    if year and date and str(date[:4]) in re.findall(r"(?:19|20)\d{2}", label):
        year = int(date[:4])
    if year is None and date:
        year, src = int(date[:4]), "title"
    if year is None:
        first = re.search(r"((?:19|20)\d{2})年", folded[:400])
        if first:
            year, src = int(first.group(1)), "body"
    if year is None and published:
        year, src = int(published[:4]), "page"
    if year:
        sources["year"] = src

    kind, _, src = by_signal(kind_in)
    kind = kind or ""
    if not kind:
        first = paras[0] if paras else ""
        kind = (kind_in(first) if len(first) <= 40 else "") or body_kind(text)
        src = "body" if kind else ""
    if kind:
        sources["kind"] = src
    sources["title"] = ("title" if block["title"] or block["headline"] else
                        "file name" if title == file_stem(name) else "body")

    meta = {
        "title": title,
        "subtitle": block["subtitle"].lstrip("—").strip(),
        "zone": zone,
        "province": detect_province(text),
        "speaker": block["speaker"],
        "date": date,
        "year": year,
        "kind": kind or "文件",
        "published": published,
        "source": header.get("source", ""),
        "author": header.get("author", ""),
        "page_info": "\n".join(header.get("page_info", [])),  # the removed header lines that said so, verbatim
        "meta_sources": ",".join(f"{k}:{v}" for k, v in sources.items()),
        # every zone the text names, most named first: a question about one of them may be answered here
        "mentions": "|".join(z for z, _ in zone_counts(folded[:200000]).most_common(12)),
    }
    if page_title and page_title != title:
        meta["page_title"] = page_title
    return {k: v for k, v in meta.items() if v not in (None, "")}


def _original(folded_part: str, text: str) -> str:
    """The span of `text` whose fold is `folded_part` (the fold keeps offsets), else the part itself."""
    i = fold(text).find(folded_part)
    return text[i:i + len(folded_part)] if i >= 0 else folded_part
