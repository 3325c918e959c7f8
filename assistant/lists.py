"""List answers, from one enumeration parser that works on any document.

`enumerations(text)` reads every enumeration of a document's clean text, whatever its shape:
- ordinals: 一是…二是… (inline, or one per paragraph), 一要…, 第一，…第二，…, 首先…其次…最后, ①②③, an inline
  (1)(2) or 1. 2.;
- numbered headings (一、 (一) 1. 1、 (1)) under one parent, numbered in order;
- bulleted lines ("——…");
- parallel sentences or clauses (坚持…坚持…; 聚焦…聚焦…; any three that open alike);
- items run together in one sentence ("聚焦新材料、新能源、智能装备“三新”主导产业"), the items a named count is
  defined by ("“十百千”工程，即…、…、…"), and sentences ended by semicolons.
Each enumeration has its items (spans of the text: an item's heading or first sentence, never the heading of
the paragraph it stands in), its lead (the sentence that announces it) and the count the lead announces
("重点抓好六个方面工作"). Every cue word is in the lexicon's [lists] section.

`find_list(comp, hits)` picks the enumeration the question asks for: the one whose lead, name or items name the
asked thing (the question's named count "三大攻坚行动" or “三个一批”, the thing it enumerates "哪几条产业链", its
terms), preferring those the retrieved passages hold. It gives every item in document order, exactly as many as
the lead announced (read from the whole document, across paragraphs), and says so when fewer were found.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from functools import lru_cache

from .chunking import heading_level, sections, split_sentences
from .lexicon import alternation, section as _lexicon_section
from .text import cn_to_int, normalize


def _w(key: str) -> list:
    value = _lexicon_section("lists").get(key, [])
    return [value] if isinstance(value, str) else list(value)


def _alt(items) -> str:
    return alternation(items, normalize)


_NUMS = "".join(_w("numerals"))  # 一…十: ordinals and counts
_CNUMS = _NUMS + "".join(_w("count_numerals"))  # and 两: counts only
_NUMERAL_CHARS = set(_CNUMS) | set("".join(_w("large_numerals"))) | set("0123456789")
_ORDINAL_PREFIX = normalize("".join(_w("ordinal_prefix")))
_SEQS = [[normalize(w) for w in seq] for seq in _w("sequences")]
_CIRCLED = "".join(_w("circled"))
_BULLETS = tuple(_w("bullets"))
_CUES = sorted((normalize(c) for c in _w("parallel_cues")), key=len, reverse=True)
_CLS = _alt(_w("count_classifiers"))
_OPENERS = sorted((normalize(c) for c in _w("series_openers")), key=len, reverse=True)
_CLOSERS = [normalize(c) for c in _w("series_closers")]
_INSTANCE_LINKS = [normalize(c) for c in _w("instance_links")]
_CONNECTORS = [normalize(c) for c in _w("series_connectors")]
_MODIFIER_ENDS = [normalize(c) for c in _w("modifier_ends")]
_PAIR_MAX = 12  # "省十强产业、市十大千亿级振兴产业": two names; longer halves are clauses, not items
_GENERIC = {normalize(g) for g in _w("generic_focus")}

# Markers, matched on normalize(text) (same length as the text; ，：；（） read as , : ; ( )).
_ORD = re.compile(rf"([{_NUMS}]{{1,2}})({_alt(_w('ordinal_suffixes'))})")
_DI = re.compile(rf"{re.escape(_ORDINAL_PREFIX)}([{_NUMS}]{{1,3}})"
                 rf"[{re.escape(''.join(normalize(s) for s in _w('ordinal_separators')))}]")
_SEQ = re.compile(_alt(w for seq in _SEQS for w in seq))
_CIRC = re.compile(f"[{_CIRCLED}]") if _CIRCLED else re.compile("(?!)")
_PAREN = re.compile(rf"\(([{_NUMS}]{{1,3}}|\d{{1,2}})\)")
_ARABIC = re.compile(r"(?<![(\d])(\d{1,2})[.、)](?![\d.])")
_BOUNDARY = set("。;!?:,\n“”…") | {"、"}
_SENT_BOUNDARY = set("。;!?:\n")
_SENT_END = set("。;!?")
# a count a lead announces ("六个方面工作", "五大工程"), and what counts as one in a question
_COUNT = re.compile(rf"([{_CNUMS}]{{1,3}}|\d{{1,2}})[”\"]?({_CLS})")
_ANNOUNCE = re.compile(_alt(_w("announce_words")))
_DEFINE = re.compile(_alt(_w("definition_cues")))
_QUOTED = re.compile(r"[“\"‘「『]([^”\"’」』]{1,12})[”\"’」』]")
_HEAD_NUM = re.compile(rf"^\s*(?:第([{_NUMS}]+)|([{_NUMS}]{{1,3}})、|\(([{_NUMS}]{{1,3}})\)|(\d{{1,2}})[、.]|"
                       rf"\((\d{{1,2}})\)|0(\d)$)")


def _num(raw: str) -> int | None:
    if not raw:
        return None
    if raw.isdigit():
        return int(raw)
    for c in _w("count_numerals"):  # 两 counts two
        raw = raw.replace(c, _NUMS[1])
    return cn_to_int(raw)


def _numeral_forms(n: int) -> str:
    """The ways a count is written: 3, 三; 2, 二, 两; 10, 十."""
    forms = {str(n)}
    if 1 <= n <= 10:
        forms.add(_NUMS[n - 1] if len(_NUMS) >= 10 else str(n))
    elif 11 <= n <= 19 and len(_NUMS) >= 10:
        forms.add(_NUMS[9] + _NUMS[n - 11])
    if n == 2:
        forms.update(_w("count_numerals"))
    return "|".join(sorted(forms, key=len, reverse=True))


# ------------------------------------------------------------------------------------------ the parser


@dataclass
class Enum:
    """One enumeration of a document: item spans in document order, the lead and the count it announces."""

    shape: str  # ordinal | heading | bullet | parallel | series | defined | semicolon | sentences
    items: list[tuple[int, int]]
    lead: tuple[int, int] | None = None
    count: int | None = None  # the count the lead (or a named count next to the items) announces
    name: str = ""  # the named count ("六个方面工作", "“三新”")
    announced: bool = False  # the lead announces a list ("以下", "如下", a count, a colon)
    para: int = 0  # the paragraph of the first item
    context: tuple[int, int] | None = None  # the text around that names what is enumerated
    sentence: tuple[int, int] | None = None  # items run together in a sentence: the sentence
    tail: tuple[int, int] | None = None  # … and the words after the last item ("…等产业具备了一定条件")

    @property
    def start(self) -> int:
        return self.lead[0] if self.lead else self.items[0][0]

    @property
    def end(self) -> int:
        return self.items[-1][1]


@dataclass
class _Marker:
    family: tuple
    num: int
    start: int
    end: int  # end of the marker itself
    para: int
    initial: bool  # opens its paragraph


@dataclass
class _Doc:
    text: str
    norm: str
    paras: list
    starts: list[int] = field(default_factory=list)
    df: dict[str, int] = field(default_factory=dict)  # term -> how many paragraphs hold it
    body_sents: dict[int, list] = field(default_factory=dict)  # paragraph -> its body's sentences (_body_sentences)

    def para_of(self, pos: int) -> int:
        return max(0, bisect.bisect_right(self.starts, pos) - 1)

    def line(self, i: int) -> str:
        p = self.paras[i]
        return self.text[p.start:p.end]


def _first_sentence_end(doc: _Doc, start: int, limit: int) -> int:
    for s, e in split_sentences(doc.text[start:limit], start):
        if doc.text[s:e].strip():
            return e
    return limit


def _is_heading_para(doc: _Doc, i: int) -> bool:
    return heading_level(doc.line(i)) is not None


def _body_start(doc: _Doc, i: int) -> int:
    """Where a paragraph's body starts: after its heading sentence when it opens with a numbered heading."""
    p = doc.paras[i]
    if not _is_heading_para(doc, i):
        return p.start
    return _first_sentence_end(doc, p.start, p.end)


def _body_sentences(doc: _Doc, i: int) -> list[tuple[int, int]]:
    """The sentences of a paragraph's body (after its heading sentence), trimmed; read once per paragraph."""
    if i not in doc.body_sents:
        body = _body_start(doc, i)
        doc.body_sents[i] = _strip_units(doc, split_sentences(doc.text[body:doc.paras[i].end], body))
    return doc.body_sents[i]


def _markers(doc: _Doc) -> list[_Marker]:
    norm = doc.norm
    found: list[_Marker] = []

    def add(family, num, s, e, need_boundary=True, sentence_only=False):
        if num is None:
            return
        i = doc.para_of(s)
        p = doc.paras[i]
        k = s - 1
        while k >= p.start and norm[k] in " \t\u3000":
            k -= 1
        initial = k < p.start
        if initial and heading_level(doc.line(i)) is not None:
            return  # a numbered heading: the heading parser reads it
        if not initial and need_boundary:
            allowed = _SENT_BOUNDARY if sentence_only else _BOUNDARY
            if norm[k] not in allowed:
                return
        found.append(_Marker(family, num, s, e, i, initial))

    for m in _ORD.finditer(norm):
        add(("ord", m.group(2)), _num(m.group(1)), m.start(), m.end())
    for m in _DI.finditer(norm):
        add(("di",), _num(m.group(1)), m.start(), m.end())
    for m in _SEQ.finditer(norm):
        for si, seq in enumerate(_SEQS):
            if m.group(0) in seq:
                add(("seq", si), seq.index(m.group(0)) + 1, m.start(), m.end())
                break
    for m in _CIRC.finditer(norm):
        add(("circ",), _CIRCLED.index(m.group(0)) + 1, m.start(), m.end(), need_boundary=False)
    for m in _PAREN.finditer(norm):
        fam = ("paren", m.group(1).isdigit())
        add(fam, _num(m.group(1)), m.start(), m.end())
    for m in _ARABIC.finditer(norm):
        add(("arabic",), _num(m.group(1)), m.start(), m.end(), sentence_only=True)
    found.sort(key=lambda x: x.start)
    return found


def _ordinal_enums(doc: _Doc, markers: list[_Marker]) -> list[Enum]:
    out = []
    for i, first in enumerate(markers):
        if first.num != 1:
            continue
        seq = _SEQS[first.family[1]] if first.family[0] == "seq" else None
        run = [first]
        section = doc.paras[first.para].section
        for m in markers[i + 1:]:
            if m.family != first.family:
                continue
            if doc.paras[m.para].section != section:
                break
            initial_run = first.initial or any(r.initial for r in run[1:])
            if initial_run and not m.initial:
                continue  # an inline list inside an item of a list of paragraphs
            if not initial_run and not m.initial and m.para != run[-1].para:
                break
            if m.num == 1 and not seq:
                break  # the next list of the same kind
            ok = m.num > run[-1].num if seq else m.num == run[-1].num + 1
            if not ok:
                continue
            run.append(m)
            if seq and m.num == len(seq):
                break  # 最后
        if len(run) < 2:
            continue
        items = []
        for j, m in enumerate(run):
            p = doc.paras[m.para]
            limit = p.end
            if j + 1 < len(run) and run[j + 1].para == m.para:
                limit = run[j + 1].start
            items.append((m.start, min(_first_sentence_end(doc, m.start, p.end), limit)))
        out.append(Enum("ordinal", items, para=first.para))
    return out


def _heading_num(line: str) -> int | None:
    m = _HEAD_NUM.match(normalize(line))
    if not m:
        return None
    return _num(next(g for g in m.groups() if g))


def _heading_enums(doc: _Doc) -> list[Enum]:
    runs: dict[tuple, list[tuple[int, int]]] = {}
    done: list[list[tuple[int, int]]] = []
    for i, p in enumerate(doc.paras):
        level = heading_level(doc.line(i))
        if level is None:
            continue
        num = _heading_num(doc.line(i))
        key = (p.section[:-1], level)
        run = runs.get(key)
        if run and num is not None and num == run[-1][1] + 1:
            run.append((i, num))
            continue
        if run and len(run) >= 2:
            done.append(run)
        runs[key] = [(i, num)]
    done += [r for r in runs.values() if len(r) >= 2]
    out = []
    for run in sorted(done, key=lambda r: r[0][0]):
        items = []
        for i, _ in run:
            p = doc.paras[i]
            if re.fullmatch(r"\s*0\d\s*", doc.line(i)) and i + 1 < len(doc.paras):
                p = doc.paras[i + 1]  # a part number ("01") is titled on the next line
                items.append((doc.paras[i].start, _first_sentence_end(doc, p.start, p.end)))
            else:
                items.append((p.start, _first_sentence_end(doc, p.start, p.end)))
        out.append(Enum("heading", items, para=run[0][0]))
    return out


def _bullet_enums(doc: _Doc) -> list[Enum]:
    out, run = [], []
    for i, p in enumerate(doc.paras + [None]):
        is_bullet = p is not None and doc.line(i).lstrip().startswith(_BULLETS)
        if is_bullet and (not run or run[-1] == i - 1):
            run.append(i)
            continue
        if len(run) >= 2:
            items = []
            for j in run:
                q = doc.paras[j]
                s = q.start + len(doc.line(j)) - len(doc.line(j).lstrip())
                items.append((s, _first_sentence_end(doc, s, q.end)))
            out.append(Enum("bullet", items, para=run[0]))
        run = [i] if is_bullet else []
    return out


def _cue(norm: str, s: int, e: int) -> str:
    unit = norm[s:e]
    for c in _CUES:
        if unit.startswith(c):
            return c
    return ""


def _parallel_runs(doc: _Doc, units: list[tuple[int, int]], min_cue: int, min_prefix: int) -> list[list]:
    """Runs of consecutive units that open with the same cue word (or the same two characters)."""
    runs, i = [], 0
    norm = doc.norm
    while i < len(units):
        s, e = units[i]
        cue = _cue(norm, s, e)
        prefix = norm[s:s + 2]
        j = i + 1
        if cue:
            while j < len(units) and _cue(norm, *units[j]) == cue:
                j += 1
            if j - i >= min_cue:
                runs.append(units[i:j])
                i = j
                continue
        j = i + 1
        if re.fullmatch(r"[\u4e00-\u9fff]{2}", prefix):
            while j < len(units) and norm[units[j][0]:units[j][0] + 2] == prefix:
                j += 1
            if j - i >= min_prefix:
                runs.append(units[i:j])
                i = j
                continue
        i += 1
    return runs


def _strip_units(doc: _Doc, spans) -> list[tuple[int, int]]:
    out = []
    for s, e in spans:
        while s < e and doc.text[s] in " \t\u3000\n":
            s += 1
        if e - s >= 2:
            out.append((s, e))
    return out


def _parallel_enums(doc: _Doc) -> list[Enum]:
    out = []
    for i in range(len(doc.paras)):
        sents = _body_sentences(doc, i)
        for run in _parallel_runs(doc, sents, 2, 3):
            out.append(Enum("parallel", run, para=i))
        for s, e in sents:  # clauses of one sentence: "坚持A不动摇、坚持B不动摇、坚持C不动摇"
            clauses = _strip_units(doc, [(s + m.start(), s + m.end()) for m in re.finditer(r"[^,、:]+", doc.norm[s:e])])
            for run in _parallel_runs(doc, clauses, 3, 3):
                out.append(Enum("parallel", run, para=i, lead=(s, run[0][0]) if run[0][0] > s else None,
                                context=(s, e)))
    return out


def _count_at(norm: str, start: int, end: int, value: int) -> int | None:
    """Where a count of `value` stands in norm[start:end] (not at its start): "…三大整车项目", "…“四包”"."""
    forms = _numeral_forms(value)
    for m in re.finditer(rf"(?:{forms})[”\"]?(?:{_CLS})?[\u4e00-\u9fff]", norm[start:end]):
        pos = start + m.start()
        if pos > start and norm[pos - 1] not in _NUMERAL_CHARS:
            while pos - 1 > start and norm[pos - 1] in "“\"‘「":
                pos -= 1
            return pos
    return None


def _common_suffix(texts: list[str]) -> str:
    if not texts:
        return ""
    suf = texts[0]
    for t in texts[1:]:
        while suf and not t.endswith(suf):
            suf = suf[1:]
    return suf


def _series_items(doc: _Doc, segs: list[tuple[int, int]]) -> tuple[list[tuple[int, int]], tuple[int, int] | None]:
    """Items run together with 、 in one clause: cut the words before the first and after the last. Returns
    the items and the named count that follows them ("…商用车三大整车项目", "…包建成投产“四包”"), if any."""
    norm = doc.norm
    segs = list(segs)
    s, e = segs[-1]
    if _count_at(norm, s, e, len(segs)) is None:
        # "A、B以及C": the last item joined by a word, not by 、 ("…及其他" closes the run instead)
        for w in _CONNECTORS:
            k = norm.find(w, s + 2, e - 2)
            if k >= 0 and not any(w in norm[a:b] for a, b in segs[:-1]) \
                    and not any(norm.startswith(c, k) for c in _CLOSERS):
                segs[-1:] = [(s, k), (k + len(w), e)]
                break
    inner = [norm[s:e] for s, e in segs[1:-1]]
    named = None
    # items quoted together: “产业强区、创新兴区、开放活区”
    s0, e0 = segs[0]
    s1, e1 = segs[-1]
    q_open, q_close = norm.rfind("“", s0, e0), norm.find("”", s1, e1)
    if q_open >= 0 and q_close >= 0 and not any("“" in t or "”" in t for t in inner):
        segs[0], segs[-1] = (q_open + 1, e0), (s1, q_close)
    else:
        # after the last: a count of as many items, the inner items' common ending ("…投产一批为抓手"), or a
        # word no inner item has ("…新媒体人士的思想引领")
        s, e = segs[-1]
        cut = _count_at(norm, s, e, len(segs))
        if cut is not None:
            named = (cut, e)
        if cut is None and inner:
            suf = _common_suffix(inner)
            if suf and not re.fullmatch(r"[”\"’」』]", suf):
                k = norm.find(suf, s, e)
                if k >= 0 and k + len(suf) < e:
                    cut = k + len(suf)
        if cut is None:  # "…等" says where the items end; else the first word no inner item has
            found = [(w in _INSTANCE_LINKS, -k, k) for w in _CLOSERS for k in [norm.find(w, s + 1, e)]
                     if k > s and not any(w in t for t in inner)]
            if found:
                cut = max(found)[2]
        if cut is not None and cut > s:
            segs[-1] = (s, cut)
        # before the first: the other items' common opening ("按照包项目进度" → "包项目进度"), else opener words
        s, e = segs[0]
        others = [norm[a:b] for a, b in segs[1:]]
        head = others[0][:1] if others and all(t[:1] == others[0][:1] for t in others) else ""
        k = norm.rfind(head, s, e) if head else -1
        if head and k >= s:
            s = k
        else:
            # the last opening verb ("园区将聚焦高端装备" → 高端装备), then opening words ("以签约一批" → 签约一批)
            cut = max((norm.rfind(w, s, e) + len(w) for w in _OPENERS if len(w) > 1 and norm.rfind(w, s, e) >= 0
                       and e - norm.rfind(w, s, e) - len(w) >= 2), default=s)
            s = max(s, cut)
            changed = True
            while changed and e - s > 2:
                changed = False
                for w in _OPENERS:
                    if norm.startswith(w, s) and e - s - len(w) >= 2:
                        s += len(w)
                        changed = True
                        break
            # "即将开工建设的XX大学": what modifies the first item only, when no other item has such words
            for w in _MODIFIER_ENDS:
                k = norm.rfind(w, s, e)
                if k >= 0 and e - k - len(w) >= 2 and (k == s or not any(w in t for t in others)):
                    s = k + len(w)  # (an item never opens with it)
                    break
        segs[0] = (s, e)
    return [(a, b) for a, b in segs if b > a], named


def _sentence_spans(doc: _Doc, i: int) -> list[tuple[int, int]]:
    p = doc.paras[i]
    return _strip_units(doc, split_sentences(doc.text[p.start:p.end], p.start))


def _full_sentences(doc: _Doc, i: int) -> list[tuple[int, int]]:
    """Sentences ended by 。!? (a semicolon does not end one): a run of items may span semicolons."""
    p = doc.paras[i]
    out, start = [], p.start
    for k in range(p.start, p.end):
        if doc.norm[k] in "。!?" and (k + 1 >= p.end or doc.norm[k + 1] not in "。!?”’」』)"):
            out.append((start, k + 1))
            start = k + 1
    if start < p.end:
        out.append((start, p.end))
    return _strip_units(doc, out)


def _series_enums(doc: _Doc) -> list[Enum]:
    out = []
    norm = doc.norm
    for i in range(len(doc.paras)):
        p = doc.paras[i]
        for s, e in _sentence_spans(doc, i):
            for m in re.finditer(r"(?:“[^”]*”|[^,:;。!?()])+", norm[s:e]):
                cs, ce = s + m.start(), s + m.end()
                depth, segs, pos = 0, [], cs
                for k in range(cs, ce):
                    depth += norm[k] == "“"
                    depth -= norm[k] == "”"
                    if norm[k] == "、" and depth <= 1:
                        segs.append((pos, k))
                        pos = k + 1
                segs.append((pos, ce))
                if segs and all(ch in _NUMERAL_CHARS or ch.isspace() for ch in norm[segs[0][0]:segs[0][1]]):
                    segs = segs[1:]  # "一、创新产业链条": a heading's number, not an item
                if len(segs) < 2:
                    continue
                items, named = _series_items(doc, segs)
                if named is None:
                    after = _count_at(norm, ce, min(e, ce + 8), len(segs))
                    named = (after, min(e, ce + 12)) if after is not None else None
                if len(items) < 2 or (len(items) == 2 and named is None
                                      and max(b - a for a, b in items) > _PAIR_MAX):
                    continue  # "A、B" is a list of two short names, or one a count of two names
                # the lead: the clauses around the items, from one that may name them to the named count
                ls = s
                if cs - 40 > s:
                    k = min((x for x in (norm.find(",", cs - 40, cs), norm.find(":", cs - 40, cs)) if x >= 0),
                            default=-1)
                    ls = k + 1 if k >= 0 else cs
                le = ce
                if named:
                    k = re.search(r"[,;:。!?]", norm[named[0]:e])
                    le = named[0] + k.start() if k else e
                en = Enum("series", items, lead=(ls, le), para=i, announced=named is not None,
                          context=(max(p.start, cs - 40), min(p.end, items[-1][1] + 10)), sentence=(s, e),
                          tail=(items[-1][1], min(ce, items[-1][1] + 12)))
                if named:
                    name = re.match(r"[^,;:。!?()]*", norm[named[0]:named[1]]).group(0)
                    en.name = name.strip("“”\"")
                    en.count = len(segs)
                out.append(en)
    return out


def _defined_enums(doc: _Doc) -> list[Enum]:
    """A named count and the items that define it: "“十百千”工程，即A、B、C。" "所谓“三个一批”，就是A、B、C。" """
    out = []
    norm = doc.norm
    for i in range(len(doc.paras)):
        for s, e in _full_sentences(doc, i):
            for m in _DEFINE.finditer(norm, s, e):
                before = norm[max(s, m.start() - 30):m.start()]
                if norm.count("“", s, m.start()) != norm.count("”", s, m.start()):
                    continue  # inside a quoted term: “拿地即开工”
                if not before.rstrip() or before.rstrip()[-1] not in ",:”\"":
                    continue  # "…工程，即…", "所谓“三个一批”，就是…"
                named = [x for x in _QUOTED.findall(before) if _split_count(x)[0]]
                counted = list(_COUNT.finditer(before))
                if not named and not counted and not re.search(r"[“\"「]", before):
                    continue
                body = m.end()
                while body < e and norm[body] in ",: ":
                    body += 1
                segs = [(body + x.start(), body + x.end()) for x in re.finditer(r"[^、,;。!?]+", norm[body:e])]
                segs = _strip_units(doc, segs)
                if len(segs) >= 2:
                    en = Enum("defined", segs, lead=(s, m.end()), para=i, context=(s, e), announced=True)
                    if named:
                        en.name = named[-1]
                        en.count = _split_count(named[-1])[0]
                    elif counted:
                        en.name = re.match(r"[^,;:。!?()]*", before[counted[-1].start():]).group(0).strip("“”")
                        en.count = _num(counted[-1].group(1))
                    out.append(en)
                break
    return out


def _semicolon_enums(doc: _Doc) -> list[Enum]:
    out = []
    for i in range(len(doc.paras)):
        sents = _body_sentences(doc, i)
        run: list = []
        for span in sents:
            run.append(span)
            ends_semicolon = doc.norm[span[1] - 1] == ";"
            if not ends_semicolon:
                if len(run) >= 3:
                    out.append(Enum("semicolon", run, para=i))
                run = []
        if len(run) >= 3:
            out.append(Enum("semicolon", run, para=i))
    return out


def _attach_lead(doc: _Doc, en: Enum) -> None:
    """The sentence before the first item (in its paragraph, else the previous paragraph's last), and the
    count it announces."""
    first = en.items[0][0]
    i = en.para
    p = doc.paras[i]
    if en.lead is None:
        if first > p.start:
            k = first - 1
            while k > p.start and doc.norm[k - 1] not in _SENT_END:
                k -= 1
            lead = (k, first)
        elif i > 0:
            spans = _sentence_spans(doc, i - 1)
            lead = spans[-1] if spans else None
        else:
            lead = None
        if lead and doc.text[lead[0]:lead[1]].strip():
            en.lead = lead
    if en.lead and en.shape not in ("series", "defined"):
        s, e = en.lead
        sent = doc.norm[s:e].rstrip(" ,、")
        last = None
        for m in _COUNT.finditer(sent):
            last = m
        if last and (len(sent) - last.end() <= 12 or sent.endswith(":")):
            n = _num(last.group(1))
            if n and 2 <= n <= 15:
                en.count = n
                tail = re.match(r"[^,;:。!?]*", sent[last.start():])
                en.name = tail.group(0).strip("“”\"") if tail else ""
                en.announced = True
        if sent.endswith(":") or _ANNOUNCE.search(sent):
            en.announced = True


def _extend(doc: _Doc, en: Enum, markers: list[_Marker]) -> None:
    """A lead announced more items than its paragraph holds: the next ordinals of the same family, in the
    following paragraphs, until a heading of the level the list stands under."""
    if en.shape != "ordinal" or not en.count or len(en.items) >= en.count:
        return
    firsts = [m for m in markers if m.start == en.items[0][0]]
    lasts = [m for m in markers if m.start == en.items[-1][0]]
    if not firsts or not lasts:
        return
    fam, last = firsts[0].family, lasts[0]
    depth = len(doc.paras[firsts[0].para].section)
    for m in markers:
        if m.start <= last.start or m.family != fam:
            continue
        between = range(last.para + 1, m.para + 1)
        if any(_is_heading_para(doc, j) and len(doc.paras[j].section) <= max(depth, 1) for j in between):
            break
        if m.num == last.num + 1 and (m.initial or m.para != last.para):
            p = doc.paras[m.para]
            en.items.append((m.start, _first_sentence_end(doc, m.start, p.end)))
            last = m
            if len(en.items) >= en.count:
                break


@lru_cache(maxsize=16)
def _parse(text: str) -> tuple[_Doc, tuple[Enum, ...]]:
    paras = sections(text)
    doc = _Doc(text, normalize(text), paras, [p.start for p in paras])
    if not paras:
        return doc, ()
    markers = _markers(doc)
    enums = (_ordinal_enums(doc, markers) + _heading_enums(doc) + _bullet_enums(doc) + _parallel_enums(doc)
             + _series_enums(doc) + _defined_enums(doc) + _semicolon_enums(doc))
    for en in enums:
        _attach_lead(doc, en)
        _extend(doc, en, markers)
    enums.sort(key=lambda x: (x.items[0][0], x.shape))
    return doc, tuple(enums)


def enumerations(text: str) -> list[Enum]:
    """Every enumeration of a document's clean text, in document order."""
    return list(_parse(text)[1])


# ------------------------------------------------------------------------------------------ the question


@dataclass
class _Ask:
    terms: list[str]
    phrases: list[str] = field(default_factory=list)  # named counts, as written ("三个一批", "三大攻坚行动")
    count: int | None = None  # the count asked ("哪五个", "三大攻坚行动")
    core: str = ""  # the named count without its count ("攻坚行动", "一批")
    focus: str = ""  # the thing enumerated ("产业链", "病")
    classifier: str = ""  # what "几" counts in "讲了哪几点", "哪几项工作"


def _split_count(phrase: str) -> tuple[int | None, str]:
    """"三个一批" → (3, "一批"); "五大工程" → (5, "工程"); "三新" → (3, "新"); "十百千" → (None, "")."""
    m = re.match(rf"([{_CNUMS}]{{1,3}}|\d{{1,2}})({_CLS})?(.*)$", phrase)
    if not m or (not m.group(2) and (not m.group(3) or m.group(3)[0] in _NUMERAL_CHARS)):
        return None, ""
    if re.search(r"[+＋\d]", m.group(3) or ""):
        return None, ""
    return _num(m.group(1)), (m.group(3) or "").strip()


_STOPS = _alt(_w("focus_stops"))
_STOP = rf"(?=(?:{_STOPS})|[?,。!;:]|$)"


def _ask(comp, query: str) -> _Ask:
    q = normalize(query)
    ask = _Ask(terms=comp.key_terms(query))
    for x in (x.strip() for x in _QUOTED.findall(q)):
        if not x:
            continue
        ask.phrases.append(x)
        n, core = _split_count(x)
        if n and ask.count is None:
            ask.count, ask.core = n, core
        elif n is None and not ask.focus and len(x) <= 4 and not any(c in _NUMERAL_CHARS for c in x):
            ask.focus = x  # "几种“病”"
    if ask.count is None:
        m = re.search(rf"([{_CNUMS}]{{1,3}}|\d{{1,2}})({_CLS})([\u4e00-\u9fff]{{0,6}}?){_STOP}", q)
        if m and _num(m.group(1)) and not (m.start() and q[m.start() - 1] == _ORDINAL_PREFIX):
            ask.count, ask.core = _num(m.group(1)), m.group(3)
            if m.group(3):
                ask.phrases.append(m.group(0))
    m = re.search(rf"(?:{_alt(_w('which_words'))})({_CLS})", q)
    if m and m.group(1) not in _w("weak_classifiers"):
        ask.classifier = m.group(1)
    if ask.core and normalize(ask.core) not in _GENERIC and not ask.focus:
        ask.focus = ask.core
    if not ask.focus:
        ask.focus = _focus(q)
    return ask


def _one_word(text: str) -> bool:
    from .text import jieba_module

    return len(jieba_module().lcut(text)) == 1


def _focus(q: str) -> str:
    """The thing a list question enumerates: "哪几条产业链" → 产业链, "创新平台有哪几类" → 创新平台; "" when it
    names none ("哪几方面突破": 方面 is no thing, 突破 is what is done to it)."""
    which = _alt(_w("which_words"))
    m = re.search(rf"(?:{which})(?:[{_CNUMS}])?({_CLS})?([\u4e00-\u9fff]{{1,6}}?){_STOP}", q)
    word = ""
    if m and m.group(1) and len(m.group(1)) > 1 and m.group(1) in _GENERIC:
        return ""  # "哪几方面突破"
    if m and not (m.group(1) is None and re.match(rf"[{_CNUMS}{''.join(_w('which_words'))}]|{_CLS}", m.group(2))):
        word = m.group(2)
        if m.group(1) and len(m.group(1)) == 1 and len(word) == 1 and _one_word(m.group(1) + word):
            word = m.group(1) + word + "|" + word  # "哪些项目": 项 may open the word ("哪几个率": or count it)
    if word and word[0] in "".join(_w("which_words")):
        word = ""  # "有哪些?": the which-word itself
    if word in _GENERIC and word:
        return ""  # "哪几项工作": the thing asked is no thing
    if not word:
        m = re.search(rf"([\u4e00-\u9fff]{{2,12}})(?:{which})", q)
        pieces = [x for x in re.split(rf"{_STOPS}|{which}", m.group(1)) if x] if m else []
        word = pieces[-1] if pieces and len(pieces[-1]) >= 2 else ""
    stripped = True
    while word and stripped:  # "重点项目" → 项目; "重点工作" → nothing
        stripped = False
        for g in _GENERIC:
            if len(g) > 1 and word.startswith(g):
                word, stripped = word[len(g):], True
                break
    return word if word and word not in _GENERIC else ""


def _weights(doc: _Doc, terms: list[str]) -> dict[str, float]:
    """A term weighs by its length and by how few of the document's paragraphs hold it: "高新区", in every
    paragraph of a zone's report, says little about which list is meant."""
    n = len(doc.paras)
    out = {}
    for t in terms:
        if t not in doc.df:
            doc.df[t] = sum(1 for p in doc.paras if t in doc.norm[p.start:p.end])
        if not doc.df[t]:
            continue  # a word the document never uses tells none of its lists from another
        idf = math.log((n + 1) / (doc.df[t] + 1)) / math.log(n + 1) if n > 1 else 1.0
        out[t] = min(len(t), 4) * max(idf, 0.15)
    return out


def _overlap(weights: dict[str, float], body: str) -> float:
    """The share of the question's weight a text says; a compound ("重点项目") is said by its parts too."""
    total = sum(weights.values()) or 1
    got = 0.0
    for t, w in weights.items():
        parts = [x for x in weights if x != t and x in t]
        if t in body or (parts and "".join(parts) != "" and all(x in body for x in parts)
                         and sum(len(x) for x in parts) >= len(t)):
            got += w
    return got / total


def _has_focus(focus: str, body: str) -> bool:
    return any(f in body or (len(f) >= 3 and f[-2:] in body) for f in focus.split("|") if f)


def _names_phrase(ask: _Ask, body: str) -> float:
    """1 when a text names the asked count as written, .8 when as its count and core ("三大整车项目")."""
    if any(p in body for p in ask.phrases):
        return 1.0
    if ask.count and ask.core:
        if re.search(rf"(?:{_numeral_forms(ask.count)})(?:{_CLS})?[“\"]?{re.escape(ask.core)}", body):
            return 0.8
    return 0.0


_MIN_RELEVANCE = 0.34  # a third of the question's terms, or one item in three naming them
_MIN_COVERAGE = 0.5  # and the list, its lead and its context say at least half of what the question asks
# the document's own enumerations (numbered, bulleted, defined) before items it runs together in a sentence
_PRIOR = {"ordinal": 0.5, "heading": 0.5, "defined": 0.5, "bullet": 0.4, "parallel": 0.2, "series": 0.0,
          "semicolon": 0.0, "clauses": 0.0, "sentences": -0.2}


@dataclass
class _Cand:
    doc: str
    enum: Enum
    parsed: _Doc
    score: float = 0.0
    relevance: float = 0.0
    coverage: float = 0.0  # how much of the question (by weight) its text says
    parts: dict = field(default_factory=dict)


def _context(doc: _Doc, en: Enum) -> str:
    """What names an enumeration: its lead, the text before it in its paragraph, its section's heading, and
    for items run together in a sentence, the rest of the sentence."""
    first = en.items[0][0]
    p = doc.paras[en.para]
    parts = []
    if en.lead:
        parts.append(doc.norm[en.lead[0]:en.lead[1]])
    parts.append(doc.norm[max(p.start, first - 150):first])
    heads = p.section[:-1] if en.shape == "heading" else p.section  # the heading the list stands under
    if heads:
        parts.append(normalize(heads[-1]))
    if en.shape == "series":  # items run together in a sentence: only the words next to them
        return doc.norm[en.context[0]:en.context[1]]
    if en.context:
        parts.append(doc.norm[en.context[0]:en.context[1]])
    return " ".join(parts)


_BODY_MAX = 300  # how much of an item's text beyond its first sentence tells what it is about


def _bodies(doc: _Doc, en: Enum) -> list[str]:
    """What each item is about: a numbered item is quoted by its first sentence, but it is about its whole
    text, up to the next item ("一要坚持思想建党。…要把党的建设…")."""
    if en.shape not in ("ordinal", "heading", "bullet"):
        return [doc.norm[s:e] for s, e in en.items]
    out = []
    for j, (s, e) in enumerate(en.items):
        limit = en.items[j + 1][0] if j + 1 < len(en.items) else doc.paras[doc.para_of(s)].end
        out.append(doc.norm[s:max(e, min(limit, s + _BODY_MAX))])
    return out


def _score(c: _Cand, ask: _Ask, hits) -> None:
    doc, en = c.parsed, c.enum
    ctx = _context(doc, en)  # where a named count may stand
    p = doc.paras[en.para]
    heads = p.section[:-1] if en.shape == "heading" else p.section
    if en.sentence:  # items in a sentence: the sentence, its paragraph's opening and heading say what they are
        opening = doc.norm[p.start:_first_sentence_end(doc, p.start, p.end)]
        about = " ".join([doc.norm[en.sentence[0]:en.sentence[1]], opening] + [normalize(h) for h in heads[-1:]])
    else:  # what the list is said to be about: its lead and the heading it stands under
        about = " ".join([doc.norm[en.lead[0]:en.lead[1]] if en.lead else ""] + [normalize(h) for h in heads[-1:]])
    items = [doc.norm[s:e] for s, e in en.items]
    weights = _weights(doc, ask.terms)
    rel_ctx = _overlap(weights, about)
    if en.shape == "series":  # the words right before the items say more of them than the rest of the sentence
        rel_ctx += 0.1 * _overlap(weights, doc.norm[en.context[0]:en.items[0][0]])
    # how much each item says of the question: its quoted text, else (at half) the rest of its text
    rel_items = sum(max(_overlap(weights, t), 0.5 * _overlap(weights, b))
                    for t, b in zip(items, _bodies(doc, en))) / len(items)
    rel_focus = sum(1 for t in items if _has_focus(ask.focus, t)) / len(items) if ask.focus else 0.0
    # "…LED四个项目", "…信息技术等产业": the words after the items say what they are (not "…的要求")
    names = normalize(en.name) + (doc.norm[en.tail[0]:en.tail[1]]
                                  if en.tail and _INSTANCE.match(doc.norm, en.tail[0]) else "")
    if ask.focus and _has_focus(ask.focus, names):
        rel_focus = 1.5
    if names:  # "…广药王老吉大健康等项目按计划如期开工建设": said of every item
        rel_items = max(rel_items, _overlap(weights, names))
    own = _names_phrase(ask, normalize(en.name)) if en.name else 0.0  # named by its own count ("…“三新”产业")
    if not own and ask.classifier and en.count and normalize(en.name).startswith(
            tuple(f + ask.classifier for f in _numeral_forms(en.count).split("|"))):
        own = 0.8  # "讲了哪几点" and "我讲五点意见": what the question counts, the lead counts
    named = max(own + 0.3 if own else 0.0, _names_phrase(ask, ctx),
                max((_names_phrase(ask, t) for t in items), default=0.0) * 0.8)
    lead = doc.norm[en.lead[0]:en.lead[1]] if en.lead else ""
    if ask.focus and en.announced and _has_focus(ask.focus, lead) and not named:
        rel_ctx += 0.3  # "重点打造三条产业链：一是…": the lead names what its items are
    elif ask.focus and 0 < rel_focus < 0.5 and not named:
        rel_focus -= 0.5  # a list of other things, one of which is about what was asked
    fits = bool(ask.count) and ask.count in (len(items), en.count)
    prox = 0.0
    for rank, h in enumerate(hits):
        if h.doc == c.doc and h.start < en.end and en.start < h.end:
            prox = max(prox, 1.0 - 0.12 * rank)
    said = " ".join([about, names] + items)
    c.coverage = 1.0 if named else _overlap(weights, said)
    if rel_focus >= 1.5 and c.coverage < _MIN_COVERAGE:
        # the text calls the items instances of the asked thing ("…信息技术等产业"): enough when it says them
        # with some of the question's other words (not "…等项目" for a question about 疫苗 projects)
        topic = {t: w for t, w in weights.items() if not any(f and (f in t or t in f) for f in ask.focus.split("|"))}
        if topic and _overlap(topic, said) > 0:
            c.coverage = _MIN_COVERAGE
    c.relevance = rel_ctx + rel_items + rel_focus + 1.5 * named
    c.score = (c.relevance + 0.5 * fits - (0.3 if ask.count and not fits else 0.0) + 0.8 * prox
               + _PRIOR.get(en.shape, 0.0) + (0.2 if en.announced else 0.0))
    c.parts = dict(ctx=round(rel_ctx, 2), items=round(rel_items, 2), focus=round(rel_focus, 2), named=named,
                   fits=fits, prox=round(prox, 2))


def _topic_enums(doc: _Doc, start: int, end: int, weights: dict[str, float]) -> list[Enum]:
    """Runs of three or more clauses of a sentence that each name the question's weightiest term."""
    if not weights:
        return []
    top = max(weights, key=weights.get)
    out = []
    for i, s, e in [(i, s, e) for i in range(doc.para_of(start), doc.para_of(max(start, end - 1)) + 1)
                    for s, e in _full_sentences(doc, i)]:
        if e <= start or s >= end or top not in doc.norm[s:e]:
            continue
        clauses = _strip_units(doc, [(s + m.start(), s + m.end()) for m in re.finditer(r"[^,;:。!?]+", doc.norm[s:e])])
        run: list = []
        for span in clauses + [None]:
            if span and top in doc.norm[span[0]:span[1]]:
                run.append(span)
                continue
            if len(run) >= 3:
                out.append(Enum("clauses", run, para=i, lead=(s, run[0][0]) if run[0][0] > s else None,
                                sentence=(s, e)))
            run = []
    return out


def _sentences_enum(doc: _Doc, pos: int) -> Enum | None:
    """The fallback: the sentences of the paragraph holding a passage (not its heading sentence)."""
    i = doc.para_of(pos)
    p = doc.paras[i]
    body = _body_start(doc, i)
    spans = [(s, e) for s, e in _body_sentences(doc, i) if len(doc.text[s:e].strip()) > 4]
    if len(spans) < 2:
        return None
    return Enum("sentences", spans[:12], para=i, lead=(p.start, body) if body > p.start else None)


class Found(tuple):
    """(items, lead, doc) as find_list returns them; `count` is the count the lead announced (or the question
    asked for, when the list is the named one), `note` says when fewer items were found."""

    count: int | None
    note: str

    def __new__(cls, items, lead, doc, count=None, note=""):
        self = super().__new__(cls, (items, lead, doc))
        self.count = count
        self.note = note
        return self


def find_list(comp, hits):
    if not hits:
        return None
    ask = _ask(comp, comp.query)
    cands = _candidates(comp, hits, ask)
    # an enumeration must be about what was asked (its lead, name or items say so); when none is, the fact
    # composer answers from the best sentence
    about = [c for c in cands if c.relevance >= _MIN_RELEVANCE and c.coverage >= _MIN_COVERAGE]
    if not about:
        return None
    best = max(about, key=lambda c: (c.score, -c.enum.items[0][0]))
    if not best.parts.get("named"):
        # items inside one clause of a run of clauses that each name the asked topic are a part of the answer
        # ("流感、肺炎、新冠" in "…大力发展流感、肺炎、新冠等人用疫苗,口蹄疫等动物疫苗,…"): the run is all of it
        for c in about:
            if c.enum.shape == "clauses" and c.doc == best.doc and c is not best and any(
                    s <= best.enum.items[0][0] and best.enum.items[-1][1] <= e for s, e in c.enum.items):
                best = c
                break
    return _build(comp, best, ask)


def _candidates(comp, hits, ask: _Ask) -> list[_Cand]:
    """The enumerations of the retrieved documents near the retrieved passages or named as asked, scored."""
    docs = []
    for h in hits[:6]:
        if h.doc not in docs:
            docs.append(h.doc)
    cands: list[_Cand] = []
    for d in docs:
        parsed, enums = _parse(comp.text(d))
        doc_hits = [(r, h) for r, h in enumerate(hits) if h.doc == d]
        for en in enums:
            near = any(h.start < en.end and en.start < h.end for _, h in doc_hits)
            if near or (ask.phrases and _names_phrase(ask, _context(parsed, en))):
                cands.append(_Cand(d, en, parsed))
        for r, h in doc_hits[:3]:
            fb = _sentences_enum(parsed, h.start) if r < 3 else None
            if fb and not any(x.enum.shape == "sentences" and x.enum.items == fb.items for x in cands):
                _attach_lead(parsed, fb)
                cands.append(_Cand(d, fb, parsed))
    # clauses of one sentence that each name what is asked ("…人用疫苗,口蹄疫等动物疫苗,攻关突破非洲猪瘟疫苗,…")
    for d in docs:
        parsed = _parse(comp.text(d))[0]
        weights = _weights(parsed, ask.terms)
        for r, h in [(r, h) for r, h in enumerate(hits[:4]) if h.doc == d]:
            for en in _topic_enums(parsed, h.start, h.end, weights):
                cands.append(_Cand(d, en, parsed))
    # a numbered part whose own heading names the asked thing ("1、我们面临较多发展利好…"): its sentences
    for c in list(cands):
        if c.enum.shape != "heading":
            continue
        weights = _weights(c.parsed, ask.terms)
        for s, e in c.enum.items:
            head = c.parsed.norm[s:e]
            if _has_focus(ask.focus, head) or _overlap(weights, head) >= 0.5:
                fb = _sentences_enum(c.parsed, s)
                if fb and not any(x.enum.shape == "sentences" and x.enum.items == fb.items for x in cands):
                    _attach_lead(c.parsed, fb)
                    cands.append(_Cand(c.doc, fb, c.parsed))
    for c in cands:
        _score(c, ask, hits)
    return cands


def _build(comp, c: _Cand, ask: _Ask):
    doc, en = c.parsed, c.enum
    items = list(en.items)
    count = en.count
    if count is None and ask.count and _names_phrase(ask, _context(doc, en)):
        count = ask.count
    if count and len(items) > count and en.shape not in ("sentences",):
        items = items[:count]

    def section_of(pos):
        return " › ".join(doc.paras[doc.para_of(pos)].section)

    quotes = [comp.quote(c.doc, s, e, section_of(s)) for s, e in items]
    quotes = [q for q in quotes if q.text.strip()]
    lead = None
    # the lead is quoted when it announces the list or names it (items in a sentence: the clauses around them)
    if en.lead and (en.announced or en.shape in ("series", "defined")
                    or _names_phrase(ask, doc.norm[en.lead[0]:en.lead[1]])):
        s, e = en.lead
        if e - s > 60 and en.shape not in ("series", "defined"):
            # a long lead: from the clause that announces the list ("…，主要有以下五大特点：")
            cut = max(doc.norm.rfind(",", s, e - 20), doc.norm.rfind(";", s, e - 20))
            s = cut + 1 if cut > s else s
        lead = comp.quote(c.doc, s, e, section_of(s))
        if not lead.text.strip():
            lead = None
    note = ""
    if count and len(quotes) < count:
        note = f"原文说有{count}项，文档中只找到{len(quotes)}项。"
    return Found(quotes, lead, c.doc, count, note)


_WHAT = re.compile(_alt(_w("what_words")))
_INSTANCE = re.compile(_alt(_w("instance_links")))
_NOT_LIST = re.compile(_alt(_w("not_list_words")))


def named_count(question: str) -> str:
    """The named count a question asks about: “三个一批”, “十百千”, "六个方面工作", "三大攻坚行动"; "" if none."""
    q = normalize(question)
    for x in _QUOTED.findall(q):
        n, _ = _split_count(x)
        if (n and n >= 2) or sum(1 for ch in x if ch in _NUMERAL_CHARS) >= 2:
            return x
    for m in re.finditer(rf"([{_CNUMS}]{{1,3}}|\d{{1,2}})({_CLS})([\u4e00-\u9fff]{{0,6}})", q):
        if m.start() > 0 and q[m.start() - 1] in _ORDINAL_PREFIX + "".join(_NUMERAL_CHARS):
            continue  # "第二个": an ordinal, not a count
        n = _num(m.group(1))
        if n and n >= 2:
            return m.group(0)
    return ""


def asks_for_list(question: str) -> bool:
    """A question that names a count of items and asks what they are ("六个方面工作都是啥", "存在哪“三个不够”",
    "“十百千”工程，十、百、千分别指啥"), and asks no quantity, person or time: a list question."""
    q = normalize(question)
    if _NOT_LIST.search(q):
        return False
    each = re.search(rf"(?:{_alt(_w('each_words'))})[\u4e00-\u9fff]{{0,4}}?(?:{_WHAT.pattern})", q)
    return (bool(named_count(question)) and bool(_WHAT.search(q))) or bool(each)
