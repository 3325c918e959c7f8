"""Extractive summaries within the scope a request asks for, laid out along the document's own structure.

A request names its scope: the whole document; one part ("第二部分", "第三章", "一、那部分"); a topic anywhere in
it ("营商环境那块", "金融、融资这方面": the headings or enumerated items about it, even in several parts, else the
passages about it); or a period ("2017年的成绩", "2022年都干成了哪些事": the review of that year; "明年的安排":
the plan). Inside the scope the summary presents the structure the document gives it — its headings and its
enumerated items (一是…, (一)…, 1.…), each with its lead sentence — then its central sentences and its key
figures, each figure quoting its own clause.

Every sentence of a summary is a verbatim quote with its citation; the only other text is the document's
metadata and the headings' own words. Lengths are budgets in characters of quoted sentences (the headings of
the structure and the figures table are not counted). The words a request and a document use for all this are
the lexicon's ([summaries]).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache

from .answer import Answer, Cell, Note, Section, Table
from .chunking import heading_level, heading_text, sections, split_sentences
from .lexicon import words
from .text import STOPWORDS, SYNONYMS, cn_to_int, jieba_module, normalize, token_set, tokenize

BUDGETS = {"short": 300, "medium": 800, "long": 2000}
MAX_POINTS = 8  # sub-headings listed under one part
MAX_ITEMS = 12  # structure items listed for one scope
MAX_TARGETS = 4  # places one topic is summarised from
LABEL_MAX = 30  # an item whose first sentence is this short is led by a label: its lead is the next sentence
PARA_LABEL_MAX = 16  # "综合实力显著增强。2020年，…": a paragraph led by a short sentence of its own
_ORD = "一二三四五六七八九十"
_CLASSES = ("problem", "plan", "review")


# ------------------------------------------------------------------------------------------ lexicon


def _w(key: str) -> list[str]:
    return words("summaries", key)


@lru_cache(maxsize=None)
def _phrases(*keys: str) -> tuple[str, ...]:
    """The lexicon's words under `keys`, normalised, longest first (so that "讲了什么" goes before "讲了")."""
    return tuple(sorted({normalize(w) for k in keys for w in _w(k) if w}, key=len, reverse=True))


def _bounds(q: str) -> set[int]:
    out, pos = {0}, 0
    for tok in jieba_module().lcut(q):
        pos += len(tok)
        out.add(pos)
    return out


def _found(q: str, keys: tuple[str, ...], bounds: set[int] | None = None) -> list[tuple[int, int]]:
    """Where a request uses the lexicon's words under `keys`, as words: "主要做法" holds 主要 and 做法, not 要做."""
    bounds = _bounds(q) if bounds is None else bounds
    spans: list[tuple[int, int]] = []
    for w in _phrases(*keys):
        i = q.find(w)
        while i >= 0:
            j = i + len(w)
            if (i in bounds or j in bounds) and not any(a < j and i < b for a, b in spans):
                spans.append((i, j))
            i = q.find(w, i + 1)
    return spans


def _strip(q: str, keys: tuple[str, ...]) -> str:
    for i, j in _found(q, keys):
        q = q[:i] + " " * (j - i) + q[j:]
    return q


def _first_class(text: str, kind: str) -> str:
    """The period class a text's words name: the earliest one ("客观总结成绩…发展思路" is a review)."""
    text = normalize(text)
    best = None
    for cls in _CLASSES:
        for w in _phrases(f"{cls}_{kind}"):
            i = text.find(w)
            if i >= 0 and (best is None or i < best[0]):
                best = (i, cls)
    return best[1] if best else ""


def _lead_class(text: str) -> str:
    """The class of a paragraph's first sentence: a problem over a plan over a review ("在肯定成绩的同时…短板")."""
    text = normalize(text)
    for cls in _CLASSES:
        if any(w in text for w in _phrases(f"{cls}_leads")):
            return cls
    return ""


def asked_classes(query: str) -> set[str]:
    q = normalize(query)
    bounds = _bounds(q)
    return {cls for cls in _CLASSES if _found(q, (f"{cls}_asks",), bounds)}


def length_of(query: str) -> str:
    q = normalize(query)
    if any(w in q for w in _phrases("long_words")):
        return "long"
    if any(w in q for w in _phrases("short_words")) or _SENTENCES.search(q):
        return "short"
    return "medium"


_SENTENCES = re.compile(r"用?([一二三四五六七八九十两几\d]+)句话")


def sentence_limit(query: str) -> int | None:
    m = _SENTENCES.search(query)
    if not m:
        return None
    raw = m.group(1)
    return int(raw) if raw.isdigit() else cn_to_int(raw)


# ------------------------------------------------------------------------------------------ the document's structure


def outline(text: str) -> list[tuple[int, int, int, str]]:
    """(level, start, end, heading) of every heading, in order."""
    out = []
    for para in sections(text):
        line = text[para.start:para.end]
        lv = heading_level(line)
        if lv is None and para.section and re.match(r"0\d ", para.section[-1]) \
                and line.strip() == para.section[-1][3:].strip():
            lv = 1  # the heading line after a part number ("01" / "坚持创新驱动")
        if lv is not None and re.fullmatch(r"0\d", line.strip()):
            continue  # "01": the heading is the line after it
        if lv is not None:
            lead = len(line) - len(line.lstrip())
            h = heading_text(line.strip()).rstrip("…")
            out.append((lv, para.start + lead, para.start + lead + len(h), h))
    return out


def body_start(text: str) -> int:
    """Where the body begins: after the title block (title, subtitle, speaker, date, "同志们:")."""
    pos = 0
    for line in text.split("\n")[:12]:
        if len(line) > 60 or heading_level(line) is not None:
            break
        pos += len(line) + 1
        if line.startswith(("同志们", "各位")):
            break
    return min(pos, len(text))


@dataclass(eq=False)
class Node:
    """A heading's section, an enumerated item, or a block of paragraphs: where its label is and where it ends."""

    kind: str  # root | heading | item | block
    level: int
    start: int
    label_end: int
    end: int
    label: str = ""
    children: list["Node"] = field(default_factory=list)
    parent: "Node | None" = None
    run: int = 0  # items: which run of "一是…二是…" in their text they belong to
    cls: str = ""  # items: the period their run's introduction names ("存在一些问题和不足：一是…")

    def walk(self):
        for c in self.children:
            yield c
            yield from c.walk()

    def ancestors(self):
        n = self.parent
        while n is not None:
            yield n
            n = n.parent

    def own_end(self) -> int:
        """Where the node's own text (before its first child) ends."""
        return self.children[0].start if self.children else self.end


def _trim(text: str, s: int, e: int) -> tuple[int, int]:
    while s < e and text[s] in " \t\n\u3000。；;，,、":
        s += 1
    while e > s and text[e - 1] in " \t\n\u3000":
        e -= 1
    return s, e


def _para_end(text: str, pos: int, hi: int) -> int:
    i = text.find("\n", pos)
    return hi if i < 0 or i > hi else i


def _first_sentence(text: str, s: int, hi: int, stops: str = "。；;！!？?\n") -> int:
    """The end of the sentence starting at s (its end mark excluded)."""
    i = s
    while i < hi and text[i] not in stops:
        i += 1
    return i


@lru_cache(maxsize=None)
def _item_pattern() -> re.Pattern:
    marks = "|".join(map(re.escape, _w("item_markers") + _w("ordinal_commas")))
    return re.compile(rf"(第)?([{_ORD}]{{1,2}})({marks})")


def _items(text: str, lo: int, hi: int) -> list[Node]:
    """The enumerated items of text[lo:hi] at its top: runs of "一是…二是…", "一要…", "第一，…第二，…" (at a
    paragraph's start or after a sentence's end), else runs of paragraphs each led by a short sentence."""
    commas = set(_w("ordinal_commas"))
    found = []
    for m in _item_pattern().finditer(text, lo, hi):
        if m.group(3) in commas and not m.group(1):
            continue  # "一、" is a heading, "第一，" an item
        j = m.start() - 1
        while j >= 0 and text[j] in " \t\u3000":
            j -= 1
        prev = text[j] if j >= 0 else "\n"
        if prev not in "\n。；;：:！!？?":
            continue  # an item starts a paragraph or follows a sentence's end
        n = cn_to_int(m.group(2))
        key = (bool(m.group(1)), "，" if m.group(3) in commas else m.group(3))
        found.append((m.start(), n, key, prev == "\n"))
    runs: list[dict] = []
    for s, n, key, at_para in found:
        if n == 1:
            runs.append({"key": key, "para": at_para, "starts": [s]})
            continue
        for run in reversed(runs):
            if run["key"] == key and run["para"] == at_para and len(run["starts"]) == n - 1 and (
                    at_para or "\n" not in text[run["starts"][-1]:s]):
                run["starts"].append(s)
                break
    runs = [r for r in runs if len(r["starts"]) >= 2]
    nodes: list[Node] = []
    for r, run in enumerate(runs):
        starts = run["starts"]
        cls = _lead_class(_intro(text, starts[0], run["para"]))
        for i, s in enumerate(starts):
            label_end = _first_sentence(text, s, hi)
            if i + 1 < len(starts):
                end = starts[i + 1]
            elif run["para"] or label_end - s <= LABEL_MAX:
                end = _para_end(text, s, hi)  # a labelled item runs to its paragraph's end
            else:
                end = min(_first_sentence(text, s, hi, "。！!？?\n") + 1, hi)  # "…；四是…。": to the sentence's end
            label_end = min(label_end, end)
            if label_end - s > 60:  # a long first sentence: its first clause is the label
                cut = [k for k in range(s + 8, s + 60) if text[k] in "，,"]
                label_end = cut[0] if cut else s + 60
            nodes.append(Node("item", 9, s, label_end, _trim(text, s, end)[1], text[s:label_end].strip(), run=r, cls=cls))
    # top-level only: an item inside another item belongs to that item
    nodes.sort(key=lambda n: n.start)
    top: list[Node] = []
    for n in nodes:
        if any(t.start < n.start < t.end for t in top):
            continue
        top.append(n)
    if top:
        return top
    return _labelled_paragraphs(text, lo, hi)


def _intro(text: str, start: int, at_para: bool) -> str:
    """What introduces a run of items: the sentence before its first item ("…存在一些问题和不足：")."""
    if at_para:
        end = text.rfind("\n", 0, start)
        line_start = text.rfind("\n", 0, max(0, end)) + 1
        prev = text[line_start:max(0, end)]
    else:
        prev = text[text.rfind("\n", 0, start) + 1:start]
    return re.split(r"[。！!？?]", prev.rstrip("。！!？? \t"))[-1] if prev.strip() else ""


def _labelled_paragraphs(text: str, lo: int, hi: int) -> list[Node]:
    run: list[Node] = []
    best: list[Node] = []
    pos = lo
    for line in text[lo:hi].split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        if not line.strip():
            continue
        s0 = s + len(line) - len(line.lstrip())
        first = _first_sentence(text, s0, e, "。！!？?")
        is_label = (heading_level(line) is None and first < e and first - s0 <= PARA_LABEL_MAX
                    and len(text[first + 1:e].strip()) >= 10)
        if is_label:
            run.append(Node("item", 9, s0, first, e, text[s0:first].strip()))
        else:
            if len(run) >= 2 and not best:
                best = run
            run = []
    if len(run) >= 2 and not best:
        best = run
    return best


def build_tree(text: str) -> Node:
    """The document as a tree: headings (第一部分 > 一、 > (一) > 1.), and in each one's own text its items."""
    root = Node("root", -1, body_start(text), body_start(text), len(text))
    flat: list[Node] = []
    stack = [root]
    for lv, s, e, h in outline(text):
        if s < root.start:
            continue
        while len(stack) > 1 and stack[-1].level >= lv:
            stack.pop()
        node = Node("heading", lv, s, e, len(text), h, parent=stack[-1])
        stack[-1].children.append(node)
        stack.append(node)
        flat.append(node)
    for i, n in enumerate(flat):
        n.end = next((m.start for m in flat[i + 1:] if m.level <= n.level), len(text))
    for n in [root] + flat:
        items = _items(text, n.label_end, n.own_end())
        for it in items:
            it.parent = n
            it.children = _items(text, it.label_end, it.end) if it.end - it.label_end > 40 else []
            for c in it.children:
                c.parent = it
        n.children = items + n.children
    return root


def lead_of(text: str, node: Node) -> tuple[int, int] | None:
    """The first sentence of a node's own text: what it opens with, under its label."""
    if node.kind == "item" and node.label_end - node.start > LABEL_MAX:
        return None  # the label is the sentence
    lo, hi = node.label_end, node.own_end()
    for s, e in split_sentences(text[lo:hi], lo):
        s, e = _trim(text, s, e)
        line = text[s:e]
        if len(line) >= 8 and heading_level(line) is None:
            return s, e
    return None


def class_of(node: Node) -> str:
    """The period a node is about: its run's introduction's, its label's, else the nearest labelled ancestor's."""
    for n in [node, *node.ancestors()]:
        if n.cls:
            return n.cls
        if n.label:
            cls = _first_class(n.label, "heads")
            if cls:
                return cls
    return ""


# ------------------------------------------------------------------------------------------ the scope asked


@dataclass
class Scope:
    kind: str  # document | part | topic | period
    targets: list[Node]
    terms: list[str] = field(default_factory=list)
    note: str = ""
    classes: set[str] = field(default_factory=set)


_QUOTED = re.compile(r"[“\"「『‘]([^”\"」』’]{2,24})[”\"」』’]")


def _part_pattern() -> re.Pattern:
    units = "|".join(map(re.escape, sorted(_w("part_units"), key=len, reverse=True)))
    return re.compile(rf"第([{_ORD}\d]+)(?:{units})")


def _label_text(meta: dict) -> str:
    return normalize(" ".join(str(meta.get(k, "")) for k in ("title", "subtitle", "meeting", "kind", "speaker",
                                                             "zone", "province", "page_title", "source")))


def topic_terms(query: str, mentions: list[str], meta: dict, keep_periods: bool = False) -> list[str]:
    """What a request is about, once its request words, the document's names and its scope words are gone."""
    q = normalize(query)
    quoted = [normalize(m) for m in _QUOTED.findall(query)]
    q = _SENTENCES.sub(" ", q)
    q = _part_pattern().sub(" ", q)
    q = re.sub(rf"[(（]?[{_ORD}]{{1,3}}[、)）]", " ", q)
    q = re.sub(r"(?:19|20)\d{2}\s*年?", " ", q)
    for m in sorted(mentions, key=len, reverse=True):
        q = q.replace(normalize(m), " ")
    keys = ("request_words", "scope_words") + (() if keep_periods else ("review_asks", "plan_asks", "problem_asks",
                                                                         "period_nouns"))
    q = _strip(q, keys)
    named = _label_text(meta)
    generic = set(_phrases("generic_words")) | {normalize(r) for r in words("speakers", "roles")} \
        | {normalize(w) for w in words("zones", "self_words")} | {normalize(b) for _, b in words("zones", "suffixes")}
    out: list[str] = []
    for tok in jieba_module().lcut(q):
        tok = tok.strip()
        if len(tok) < 2 or tok in STOPWORDS or tok in generic or not re.search(r"[\u4e00-\u9fffa-z]", tok):
            continue
        if tok in named:
            continue  # a word of the document's title or metadata names the document, not a part of it
        if tok not in out:
            out.append(tok)
    for p in quoted:  # a quoted phrase ("“深耕智能制造”那部分") is a topic whole, unless it names the document
        if p not in out and p not in named:
            out.insert(0, p)
    return out


def _coverage(terms: list[str], text: str) -> float:
    """The share of a topic's terms (weighted by length) a text holds, a term or one of the words it stands for."""
    weights = {t: min(len(t), 4) for t in terms}
    total = sum(weights.values()) or 1
    text = normalize(text)
    got = 0.0
    for t, w in weights.items():
        if any(a in text for a in _alternatives(t)):
            got += w
        elif len(t) >= 4:  # a compound ("招商引资") in part: the share of its words a text holds ("招商")
            parts = [p for p in jieba_module().lcut_for_search(t) if 2 <= len(p) < len(t)]
            held = {i for p in parts if p in text for i in range(t.find(p), t.find(p) + len(p))}
            got += w * len(held) / len(t)
    return got / total


@lru_cache(maxsize=4096)
def _alternatives(term: str) -> tuple[str, ...]:
    return (term, *(normalize(v) for k, vs in SYNONYMS.items() if normalize(k) == term for v in vs))


def _outermost(nodes: list[Node]) -> list[Node]:
    keep = [n for n in nodes if not any(a in nodes for a in n.ancestors())]
    return sorted(keep, key=lambda n: n.start)


def _deepest(root: Node, pos: int) -> Node:
    node = root
    while True:
        inner = next((c for c in node.children if c.start <= pos < c.end), None)
        if inner is None:
            return node
        node = inner


def _block(text: str, parent: Node, s: int, e: int) -> Node:
    """A run of paragraphs as a node, with the items and headings inside it as its children."""
    s, e = _trim(text, s, e)
    inside = [n for n in parent.walk() if s <= n.start < e]
    block = Node("block", parent.level + 1, s, s, e, "", _outermost(inside), parent)
    return block


def _paragraph_blocks(text: str, node: Node, classes: set[str], years: set[str]) -> list[Node]:
    """The runs of paragraphs in a node's text about the period asked: from a paragraph that names it (its class,
    its year) up to one about another (a problem, a plan, another year)."""
    lo = node.label_end if node.kind != "root" else node.start
    blocks, cur = [], None
    pos = lo
    for line in text[lo:node.end].split("\n"):
        s, e = pos, pos + len(line)
        pos = e + 1
        if not line.strip():
            continue
        if heading_level(line) is not None:
            continue
        lead = text[s:_first_sentence(text, s, e, "。！!？?\n")]
        cls = _lead_class(lead)
        ys = set(re.findall(r"(?:19|20)\d{2}", lead))
        match = (bool(classes) and cls in classes) or (bool(years) and bool(ys & years) and (not cls or cls in classes))
        conflict = (bool(cls) and bool(classes) and cls not in classes) or (bool(years) and bool(ys) and not ys & years)
        if cur is None:
            if match and not conflict:
                cur = [s, e]
        elif conflict:
            blocks.append(cur)
            cur = None
        else:
            cur[1] = e
    if cur:
        blocks.append(cur)
    return [_block(text, node, s, e) for s, e in blocks]


def _run_blocks(text: str, node: Node, classes: set[str]) -> list[Node]:
    """The runs of items in a node's text about the period asked, by what introduces each run ("下一步，…：一是…"
    is a plan, "…存在一些问题：一是…" a problem); a review asked, a run introduced as nothing else will do."""
    runs: dict[int, list[Node]] = {}
    for c in node.children:
        if c.kind == "item":
            runs.setdefault(c.run, []).append(c)
    chosen = [r for r in runs.values() if r[0].cls and r[0].cls in classes]
    if not chosen and "review" in classes:
        chosen = [r for r in runs.values() if not r[0].cls][:1]
    return [_block(text, node, r[0].start, r[-1].end) for r in chosen]


def _label_match(nodes: list[Node], terms: list[str], classes: set[str], full: bool = False) -> list[Node]:
    scored = []
    for n in nodes:
        if not n.label:
            continue
        cov = _coverage(terms, n.label)
        whole = any(a in normalize(n.label) for t in terms for a in _alternatives(t))
        if cov and whole and not (classes and class_of(n) and class_of(n) not in classes):
            scored.append((cov, n))
    if not scored:
        return []
    best = max(c for c, _ in scored)
    if best < (1.0 if full else 0.5):
        return []
    chosen = [n for c, n in scored if c == best]
    if any(n.kind == "heading" for n in chosen):  # the document's headings before the items inside them
        chosen = [n for n in chosen if n.kind == "heading"]
    return _outermost(chosen)[:MAX_TARGETS]


def _refine(text: str, node: Node, classes: set[str], years: set[str]) -> list[Node]:
    """A leaf whose heading names several periods ("总结成绩,把握形势,确定思路"): the paragraphs of the one asked."""
    has_heads = any(c.kind == "heading" for c in node.children)
    label_classes = {cls for cls in _CLASSES if any(w in normalize(node.label) for w in _phrases(f"{cls}_heads"))}
    if has_heads or not (classes or years):
        return [node]
    if node.kind == "root" or len(label_classes) > 1:
        return _paragraph_blocks(text, node, classes, years) or [node]
    return [node]


def resolve_scope(comp, doc: str, text: str, root: Node, query: str, meta: dict) -> Scope:
    """What part of a document a request asks about: a part by number, a topic (by the headings and items that
    name it, else by the passages about it), a period (by the headings, paragraphs or runs of items about it),
    else the whole document."""
    if not query.strip():
        return Scope("document", [root])
    mentions = list(comp.bot.retriever.select_docs(query)[1].mentions)  # the names that chose the document
    classes = asked_classes(query)
    doc_year = str(meta.get("year") or "")
    years = {y for y in re.findall(r"((?:19|20)\d{2})\s*年?", query) if y != doc_year}
    headings = [n for n in root.walk() if n.kind == "heading"]
    within = root
    part_kind = ""
    # a part by its number: "第二部分", "第三章", "第四点"; or by its ordinal: "一、那部分", "(三)那块"
    m = _part_pattern().search(normalize(query))
    tops = [c for c in root.children if c.kind == "heading"] or root.children
    if m:
        raw = m.group(1)
        n = int(raw) if raw.isdigit() else cn_to_int(raw)
        if n and 1 <= n <= len(tops):
            within, part_kind = tops[n - 1], "part"
    else:
        m = re.search(rf"(?<![{_ORD}])([(（]?)([{_ORD}]{{1,3}})([、)）])", normalize(query))
        if m:
            mark = f"({m.group(2)})" if m.group(1) else f"{m.group(2)}、"
            found = [h for h in headings if normalize(h.label).startswith(mark)]
            if len(found) == 1:
                within, part_kind = found[0], "part"
    terms = topic_terms(query, mentions, meta)
    full = topic_terms(query, mentions, meta, keep_periods=True)
    pool = list(within.walk())
    named = _label_match(pool, full, set(), full=True) if full != terms else []  # "主要目标那部分"
    if named:
        out = [n for t in named for n in _refine(text, t, classes, years)]
        return Scope("topic", out[:MAX_TARGETS], full)
    if terms:
        targets = _label_match(pool, terms, classes)
        if not targets:
            targets = _passage_match(comp, doc, text, within, terms, classes)
        if targets:
            out = []
            for t in targets:
                out += _refine(text, t, classes, years)
            return Scope("topic", out[:MAX_TARGETS], terms)
        if part_kind:
            return Scope(part_kind, [within], terms)
        note = f"文档中没有找到专门讲「{'、'.join(terms)}」的部分，以下是全文的摘要。"
        return Scope("document", [root], terms, note)
    if part_kind:
        return Scope(part_kind, _refine(text, within, classes, years))
    if classes or years:
        cands = []
        for n in (h for h in within.walk() if h.kind == "heading"):
            lab = normalize(n.label)
            ys = set(re.findall(r"(?:19|20)\d{2}", lab))
            cls = _first_class(lab, "heads")
            if years and ys and not ys & years:
                continue
            if classes and cls and cls not in classes:
                continue
            score = (2 if years and ys & years else 0) + (1 if classes and cls in classes else 0)
            if score:
                cands.append((score, -n.level, n))
        if cands:
            best = max((s, lv) for s, lv, _ in cands)
            chosen = _outermost([n for s, lv, n in cands if (s, lv) == best])
            out = []
            for t in chosen:
                out += _refine(text, t, classes, years)
            return Scope("period", out[:MAX_TARGETS])
        blocks = _paragraph_blocks(text, within, classes, years) or _run_blocks(text, within, classes)
        if blocks:
            return Scope("period", blocks[:MAX_TARGETS])
    return Scope("document", [within]) if within is root else Scope(part_kind, [within])


def _passage_match(comp, doc: str, text: str, within: Node, terms: list[str], classes: set[str]) -> list[Node]:
    """The places retrieval finds a topic in: the smallest item or section around each passage that holds it."""
    hits = comp.retrieve(k=5, docs=[doc], query=" ".join(terms))
    found: list[Node] = []
    for h in hits:
        if h.doc != doc or not within.start <= h.start < within.end:
            continue  # not in the part asked, or in the title block
        cov = _coverage(terms, h.text)
        if cov < (0.5 if not found else 1.0):
            continue  # the best passage must hold the topic; further ones, all of it
        node = _deepest(within, h.start)
        if node.children or node.kind == "root":
            # the passage is in the text of a section that has parts of its own: its paragraphs about the topic
            paras = []
            pos = h.start
            for para in h.text.split("\n"):
                if _coverage(terms, para) > 0:
                    paras.append((pos, pos + len(para)))
                pos += len(para) + 1
            if not paras:
                continue
            s = max(text.rfind("\n", 0, paras[0][0]) + 1, node.label_end)
            e = _para_end(text, paras[-1][1], len(text))
            if e <= s:
                continue
            node = _block(text, node, s, e)
        if classes and class_of(node) and class_of(node) not in classes:
            continue
        if not any(node is f or f.start <= node.start < f.end for f in found):
            found.append(node)
        if len(found) >= MAX_TARGETS:
            break
    return _outermost(found)


# ------------------------------------------------------------------------------------------ sentences


def central_sentences(text: str, start: int, end: int, k: int, exclude: set[tuple[int, int]],
                      max_len: int = 220, ranked: bool = False, terms: list[str] | None = None,
                      leads: set[int] | None = None) -> list[tuple[int, int]]:
    """The k sentences of text[start:end] whose words are most shared with the rest, with a lead bias (and,
    given topic terms, a bias to the sentences that hold them; given the starts of the sentences that open a
    heading's text, a bias to those)."""
    spans = [(s, e) for s, e in split_sentences(text[start:end], start)
             if 12 <= len(text[s:e].strip()) <= max_len and heading_level(text[s:e].strip()) is None]
    if not spans and max_len < 220:
        spans = [(s, e) for s, e in split_sentences(text[start:end], start)
                 if 12 <= len(text[s:e].strip()) <= 220 and heading_level(text[s:e].strip()) is None]
    if not spans:
        spans = [(s, e) for s, e in split_sentences(text[start:end], start)
                 if len(text[s:e].strip()) >= 12 and heading_level(text[s:e].strip()) is None]
    if not spans:
        return []
    toks = [token_set(text[s:e]) for s, e in spans]
    freq = Counter(t for ts in toks for t in ts if len(t) > 1)
    scored = []
    for i, ((s, e), ts) in enumerate(zip(spans, toks)):
        central = sum(freq[t] - 1 for t in ts if len(t) > 1) / (1 + len(ts)) ** 0.5
        position = 1.5 / (1 + i)
        numbers = 0.5 if re.search(r"\d+(\.\d+)?\s*(亿|万|%|家|个)", text[s:e]) else 0
        # named strategies and slogans (“三高四新”, “一极两区三基地”) are what a reader must not miss
        # …weighted by how often the document comes back to them: a recurring slogan is a theme
        quoted = set(re.findall(r"“[^”]{2,12}”", text[s:e]))
        slogans = 0.4 * min(3, len(quoted)) + 0.15 * min(6, sum(min(3, text.count(q) - 1) for q in quoted))
        topic = 0.7 if s == 0 or text[s - 1] == "\n" else 0  # a paragraph's first sentence states its point
        about = 2.0 * _coverage(terms, text[s:e]) if terms else 0
        opens = 1.0 if leads and _trim(text, s, e)[0] in leads else 0  # what a heading's text opens with
        scored.append((central + position + numbers + slogans + topic + about + opens, s, e))
    scored.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    seen: list[set] = []
    for _, s, e in scored:
        ts = token_set(text[s:e])
        if (s, e) in exclude or any(len(ts & o) > 0.6 * max(1, len(ts)) for o in seen):
            continue  # do not repeat a point
        chosen.append((s, e))
        seen.append(ts)
        if len(chosen) >= k:
            break
    return chosen if ranked else sorted(chosen)


def _all_sentences(text: str, s: int, e: int) -> list[tuple[int, int]]:
    out = []
    for a, b in split_sentences(text[s:e], s):
        a, b = _trim(text, a, b)
        if len(text[a:b]) >= 4 and heading_level(text[a:b]) is None:
            out.append((a, b))
    return out


# ------------------------------------------------------------------------------------------ figures


def _own_clause(norm: str, f) -> tuple[int, int]:
    """A figure's own clause: from its indicator to its value (and its growth), not the rest of a long list."""
    seg = norm[f.start:f.end]
    pos = 0
    if f.value:
        i = seg.find(f"{f.value}{f.unit}")
        if i < 0:
            i = seg.find(f.value)
        if i >= 0:
            pos = i + len(f.value) + (len(f.unit) if seg.startswith(f.unit, i + len(f.value)) else 0)
    if f.growth:
        m = re.search(r"[\d.]+", f.growth)
        j = seg.find(m.group(0) + "%", pos) if m else -1
        if j >= 0:
            pos = j + len(m.group(0)) + 1
    if not pos:
        return f.start, f.end
    e = f.start + pos
    while e < f.end and norm[e] not in ",;:、。\n()":
        e += 1
    return f.start, e


def key_figures(text: str, n: int, spans: list[tuple[int, int]] | None = None,
                parts: list[tuple[int, int]] | None = None) -> list:
    """The n most telling figures inside `spans`, in document order: named indicators with amounts first,
    results before targets; shared out over `parts` so that each part (a review, a plan) has its own."""
    from dataclasses import replace

    from .figures import extract_figures
    from .indicators import METRICS

    norm = normalize(text)  # 億 and 億元 are read as 亿 and 亿元; offsets are the same
    figs = []
    for f in extract_figures(norm):
        if spans and not any(s <= f.start < e for s, e in spans):
            continue
        s, e = _own_clause(norm, f)
        figs.append(replace(f, start=s, end=e, text=text[s:e]))

    def priority(item):
        i, f = item
        named = any(f.indicator.endswith(m) for m in METRICS)
        amount = bool(f.value) and f.unit not in ("家", "个", "项", "人", "户", "名")
        return (not named, not amount, f.kind != "实绩", i)

    ranked = sorted(enumerate(figs), key=priority)
    if parts and len(parts) > 1:
        queues = [[x for x in ranked if s <= x[1].start < e] for s, e in parts]
        chosen, k = [], 0
        while len(chosen) < n and any(queues):
            q = queues[k % len(queues)]
            if q:
                chosen.append(q.pop(0))
            k += 1
    else:
        chosen = ranked[:n]
    return [f for _, f in sorted(chosen, key=lambda x: x[0])]


# ------------------------------------------------------------------------------------------ the document asked


def _doc_rank(query: str, meta: dict) -> int:
    """How well a document's labels fit a request: its kind ("会议新闻"), its year, its title's words."""
    q = _strip(normalize(query), ("request_words",))
    score = 0
    kind = meta.get("kind", "")
    if kind and any(normalize(w) in q for w, k in words("kinds", "words") if k == kind):
        score += 2
    if meta.get("year") and str(meta.get("year")) in q:
        score += 2
    labels = normalize(" ".join(str(meta.get(k, "")) for k in ("title", "meeting", "subtitle", "speaker")))
    score += sum(1 for t in set(tokenize(q)) if len(t) >= 2 and t in labels)
    return score


def _best(comp, query: str, docs: list[str]) -> str:
    if len(docs) == 1:
        return docs[0]
    return max(docs, key=lambda d: (_doc_rank(query, comp.meta(d)), -docs.index(d)))


def pick_document(comp, query: str) -> str | None:
    if comp.resolved.docs:
        return _best(comp, query, list(comp.resolved.docs))
    chosen, scope = comp.bot.retriever.select_docs(query, comp.filters.get("zone"), comp.filters.get("doc"))
    if scope.docs:
        return _best(comp, query, list(scope.docs))
    if len(chosen) == 1:
        return next(iter(chosen))
    hits = comp.retrieve(k=3, query=query)
    return hits[0].doc if hits else None


# ------------------------------------------------------------------------------------------ composing


def _label_quote(ans: Answer, comp, doc: str, node: Node, section: str):
    return ans.cite(comp.quote(doc, node.start, node.label_end, section))


def _section_label(node: Node) -> str:
    return node.label.rstrip("。；;，,：:")


class _Budget:
    def __init__(self, total: int, max_sents: int | None):
        self.total, self.used, self.max_sents, self.n = total, 0, max_sents, 0

    def take(self, size: int, force: bool = False) -> bool:
        if self.max_sents and self.n >= self.max_sents:
            return False
        if not force and self.used + size > self.total:
            return False
        self.used += size
        self.n += 1
        return True


def _fits(node: Node, classes: set[str]) -> bool:
    """A node about the period asked, or about none in particular."""
    cls = class_of(node)
    return not classes or not cls or cls in classes


def _structured(ans: Answer, comp, doc: str, text: str, node: Node, length: str, budget: _Budget,
                terms: list[str], section: str, classes: set[str]) -> None:
    """One scope with a structure: its items, then each item under its label with its lead sentence."""
    kids = [c for c in node.children if _fits(c, classes)][:MAX_ITEMS] or node.children[:MAX_ITEMS]
    ans.items += [_label_quote(ans, comp, doc, c, section) for c in kids]
    intro = Section(heading=_section_label(node))
    if not intro.heading and node.parent is not None:
        intro.heading = _section_label(node.parent)  # a run of paragraphs: shown under the heading it is in
    lead = lead_of(text, node)
    if lead and budget.take(lead[1] - lead[0]):
        intro.quotes.append(ans.cite(comp.quote(doc, *lead, section)))
    if intro.heading or intro.quotes:
        ans.sections.append(intro)
    extra = {"short": 0, "medium": 1, "long": 3}[length]
    share = budget.total / max(1, len(kids))
    for c in kids:
        sec = Section(heading=_section_label(c))
        sec.points = [_label_quote(ans, comp, doc, g, section)
                      for g in [g for g in c.children if _fits(g, classes)][:MAX_POINTS]]
        got = 0
        lead = lead_of(text, c)
        if lead and budget.take(lead[1] - lead[0], force=True):  # each item with its lead, whatever the length
            sec.quotes.append(ans.cite(comp.quote(doc, *lead, section)))
            got += lead[1] - lead[0]
        if extra and not c.children:
            exclude = {lead} if lead else set()
            for s, e in central_sentences(text, c.label_end, c.end, extra + 1, exclude, terms=terms, ranked=True):
                if (s, e) == lead or (lead and s < lead[1] and e > lead[0]):
                    continue
                if got + (e - s) > share or not budget.take(e - s):
                    continue
                sec.quotes.append(ans.cite(comp.quote(doc, s, e, section)))
                got += e - s
            sec.quotes.sort(key=lambda q: q.start)
        ans.sections.append(sec)


def _flat(ans: Answer, comp, doc: str, text: str, node: Node, length: str, budget: _Budget, terms: list[str],
          section: str, share: float | None = None) -> None:
    """A scope without items: its sentences, all of them when they fit, else the central ones."""
    sec = Section(heading=_section_label(node) or (_section_label(node.parent) if node.parent else ""))
    lo = node.label_end if node.kind != "block" else node.start
    sents = _all_sentences(text, lo, node.end)
    size = sum(e - s for s, e in sents)
    room = min(budget.total - budget.used, share or budget.total)
    if budget.max_sents or size > room:
        k = budget.max_sents or {"short": 3, "medium": 6, "long": 12}[length]
        sents = central_sentences(text, lo, node.end, k, set(), terms=terms)
    got = 0
    for s, e in sents:
        if share and got + (e - s) > share and sec.quotes:
            continue
        if not budget.take(e - s, force=not ans.quotes and not sec.quotes):
            continue
        sec.quotes.append(ans.cite(comp.quote(doc, s, e, section)))
        got += e - s
    ans.sections.append(sec)


def _first_run(children: list[Node]) -> list[Node]:
    """A part's own headings; without them, its first run of items (not the problems listed after the results)."""
    heads = [c for c in children if c.kind == "heading"]
    if heads or not children:
        return heads
    first = next((c for c in children if not c.cls or c.cls == "review"), children[0])
    return [c for c in children if c.run == first.run]


def _whole(ans: Answer, comp, doc: str, text: str, root: Node, length: str, budget_chars: int,
           max_sents: int | None) -> list[tuple[int, int, str]]:
    """The whole document: its parts (and their headings), then each part's central sentences."""
    parts = [c for c in root.children if c.kind == "heading"]
    if parts:
        ans.items = [_label_quote(ans, comp, doc, p, p.label) for p in parts]
    per_part = max_sents and max(1, max_sents // max(1, len(parts))) or {"short": 1, "medium": 4, "long": 8}[length]
    start0 = root.start
    bounds = [(p.start, p.end, p.label) for p in parts] or [(start0, len(text), "")]
    if parts and parts[0].start - start0 > 200:
        bounds.insert(0, (start0, parts[0].start, "开场"))
    max_len = max(50, budget_chars // (len(bounds) * per_part)) if length == "short" else 220
    share = budget_chars / max(1, len(bounds))  # each part gets its share of the budget
    labels = [(n.start, n.label_end) for n in root.walk() if n.kind == "heading"]
    by_label = {p.label: p for p in parts}
    spans = []
    for s, e, hd in bounds:
        # a part states its point where its text opens, and where each of its own headings' texts opens
        part = by_label.get(hd) or (root if not parts else None)
        opening = [] if part is None else [ld for n in [part] + _first_run(part.children)
                                           for ld in [lead_of(text, n)] if ld and ld[1] - ld[0] <= max_len]
        sents = central_sentences(text, s, e, per_part + 2, set(opening), max_len, ranked=True)
        # a heading's line is no sentence of its part ("01" parts' titles are not headings)
        sents = [(a, b) for a, b in opening + sents if not any(a < le and b > ls for ls, le in labels)]
        spans.append((hd, sents[:per_part]))
    points: dict[str, list[Node]] = {}
    if not max_sents:  # the structure: each part's own headings (or, without headings, the items of the text)
        for p in parts:
            points[p.label] = _first_run(p.children)[:MAX_POINTS]
        if not parts:
            points[""] = _first_run(root.children)[:MAX_POINTS]
    used, n_body = 0, 0
    if max_sents:  # "用三句话": the parts' best sentences, first parts first
        spans = [(hd, sents) for hd, sents in spans if hd != "开场"] or spans
    for hd, sents in spans:
        if max_sents and n_body >= max_sents:
            break  # the sentences asked for are given: no empty part headings after them
        sec = Section(heading=hd)
        sec.points = [_label_quote(ans, comp, doc, c, hd) for c in points.get(hd, [])]
        picked, part_used = [], 0
        for s2, e2 in sents:  # best first, within the part's share and the whole budget
            size = e2 - s2
            if max_sents and n_body >= max_sents:
                break
            if used + size > budget_chars and n_body:
                continue
            if picked and part_used + size > share:
                continue
            picked.append((s2, e2))
            part_used += size
            used += size
            n_body += 1
        sec.quotes = [ans.cite(comp.quote(doc, s2, e2, hd)) for s2, e2 in sorted(picked)]
        ans.sections.append(sec)
    return [(s, e, hd) for s, e, hd in bounds]


def summarize_doc(comp, doc: str, query: str = "", length: str | None = None) -> Answer:
    text = comp.text(doc)
    meta = comp.meta(doc)
    length = length or length_of(query)
    budget_chars = BUDGETS[length]
    max_sents = sentence_limit(query)
    root = build_tree(text)
    scope = resolve_scope(comp, doc, text, root, query, meta)
    scope.classes = asked_classes(query)
    title = meta.get("title", doc)
    who = " · ".join(str(x) for x in (meta.get("zone"), meta.get("speaker"), meta.get("date") or meta.get("year"),
                                      meta.get("kind")) if x)
    ans = Answer("summary", query=query, title=f"《{title}》")
    ans.extras["who"] = who
    whole = scope.kind == "document"
    if whole:
        bounds = _whole(ans, comp, doc, text, root, length, budget_chars, max_sents)
        fig_spans = None
        fig_parts = [(s, e) for s, e, hd in bounds if hd != "开场"]
    else:
        budget = _Budget(budget_chars, max_sents)
        targets = scope.targets
        if len(targets) == 1 and targets[0].children and not max_sents:
            t = targets[0]
            _structured(ans, comp, doc, text, t, length, budget, scope.terms, _section_label(t), scope.classes)
        else:
            share = budget_chars / max(1, len(targets))
            if len(targets) > 1:
                ans.items = [_label_quote(ans, comp, doc, t, _section_label(t)) for t in targets if t.label]
            for t in targets:
                before = len(ans.sections)
                _flat(ans, comp, doc, text, t, length, budget, scope.terms, _section_label(t), share)
                if not max_sents:
                    ans.sections[before].points = [_label_quote(ans, comp, doc, c, _section_label(t))
                                                   for c in t.children[:MAX_POINTS]]
        fig_spans = [(t.start, t.end) for t in targets]
        fig_parts = fig_spans
    if scope.note:
        ans.notes.append(Note(scope.note, "note"))
    figs = key_figures(text, {"short": 5, "medium": 8, "long": 15}[length], fig_spans, fig_parts)
    if figs:
        rows = []
        for f in figs:
            q = ans.cite(comp.quote(doc, f.start, f.end, "关键数据"))
            value = f"{f.value}{f.unit}" if f.value else ""
            rows.append((f.indicator, [Cell(value=value), Cell(value=f.growth), Cell(value=str(f.year or "")),
                                       Cell(value=f.kind), Cell([q])]))
        ans.tables.append(Table("关键数据", ["数值", "增长", "年份", "性质", "原文"], rows, label="指标"))
    if comp.bot.settings.llm and whole:
        llm_part = _llm_map_reduce(comp, list(ans.quotes), title)
        if llm_part is None:
            ans.flags.append("llm_error")
            ans.notes.append(Note("（LLM 摘要不可用，以上为抽取式摘要。）", "llm"))
        else:
            from .llm import shift_citations

            prose, llm_quotes, llm_flags = llm_part
            ans.prose = shift_citations(prose, len(ans.quotes))
            for q in llm_quotes:
                ans.quotes.append(q)
            ans.flags += llm_flags
    if comp.bot.settings.llm:
        ans.extras["model"] = comp.bot.settings.llm
    ans.extras["figures"] = [f.to_dict() for f in figs]
    ans.extras["outline"] = [c.label for c in root.children if c.kind == "heading"]
    ans.extras["structure"] = [q.text for q in ans.items] + [q.text for s in ans.sections for q in s.points]
    ans.extras["scope"] = {"kind": scope.kind, "headings": [_section_label(t) for t in scope.targets if t.label],
                           "terms": scope.terms}
    ans.extras["doc"] = doc
    return ans


def _llm_map_reduce(comp, quotes, title: str):
    """The extractive sentences of each part are the map step's sources; see llm.llm_summary."""
    from .llm import llm_summary

    parts: dict[str, list] = {}
    for q in quotes:
        if q.section != "关键数据":
            parts.setdefault(q.section, []).append(q)
    return llm_summary(comp, list(parts.items()), title)


def summarize_request(comp, query: str) -> Answer:
    doc = pick_document(comp, query)
    if doc is None:
        return comp.not_found(query, "没有找到要总结的文档", [])
    return summarize_doc(comp, doc, query)
