"""Hybrid retrieval (BM25 over jieba + dense e5), fused, narrowed to the zone or document the user named.

Users name documents loosely: "长治", "常德那边", "甘肃那个高新区", "务虚会那篇", "张志刚那篇讲话". The
aliases come from each document's metadata (zone, its place name, province, city, speaker, meeting, kind),
so a newly uploaded document is recognised the same way as the bundled ones.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

import numpy as np
from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from .errors import QueryError
from .chunking import PAGE_INFO
from .intent import asks, asks_meeting, asks_page_info, kind_of
from .lexicon import words
from .metadata import ZONE_SUFFIXES, file_stem, zone_mentions
from .store import Store
from .text import normalize, query_terms

MAX_QUERY_CHARS = 2000
_GENERIC = set(words("zones", "self_words")) | set(s for _, s in ZONE_SUFFIXES)
_MEETING_WORDS = words("zones", "meeting_words")


@dataclass
class Hit:
    id: str
    doc: str
    text: str
    score: float
    meta: dict = field(default_factory=dict)

    @property
    def start(self) -> int:
        return int(self.meta.get("start", 0))

    @property
    def end(self) -> int:
        return int(self.meta.get("end", 0))

    @property
    def section(self) -> str:
        return self.meta.get("section", "")

    @property
    def zone(self) -> str:
        return self.meta.get("zone", "")

    @property
    def title(self) -> str:
        return self.meta.get("title", "")

    def to_dict(self) -> dict:
        return {"doc": self.doc, "text": self.text, "score": round(self.score, 4), "zone": self.zone,
                "section": self.section, "start": self.start, "end": self.end}

    def to_document(self) -> Document:
        return Document(page_content=self.text, id=self.id, metadata={**self.meta, "score": self.score})


@dataclass
class Scope:
    docs: list[str]  # documents the question is narrowed to ([] = all)
    zones: list[str]  # zones named, in order of mention
    unknown_zones: list[str] = field(default_factory=list)  # zones named that no document is about or names
    mentions: list[str] = field(default_factory=list)  # the words that named them
    via: str = ""  # which signal chose `docs`: "metadata" (zone, file name, title, speaker …) or "text"


def doc_aliases(name: str, meta: dict) -> dict[str, str]:
    """alias -> kind of alias, for one document."""
    aliases: dict[str, str] = {}
    zone = meta.get("zone", "")
    if zone:
        aliases[zone] = "zone"
        for long, short in ZONE_SUFFIXES:
            if zone.endswith(short):
                core = zone[: -len(short)]
                aliases[core + long] = "zone"
                if len(core) >= 2 and core not in ("XX", "××"):
                    aliases[core] = "place"
                if core in ("×", "X", "XX"):  # masked names are typed in many ways
                    for mask in ("×", "x", "X", "XX", "xx", "某"):
                        aliases[mask + short] = "zone"
                break
    # A zone the file name or the title names is the document's too, whatever its zone field says.
    for z, _ in zone_mentions(file_stem(str(meta.get("source_file") or name)) + " " + str(meta.get("title", ""))):
        if z not in aliases:
            aliases[z] = "zone"
            for long, short in ZONE_SUFFIXES:
                if z.endswith(short) and len(z) - len(short) >= 2 and z[0] not in "×XX某":
                    aliases.setdefault(z[: -len(short)], "place")
                    break
    for alias in meta.get("user_aliases") or ():  # the curator's (user lexicon [zones]; Store.documents)
        aliases.setdefault(alias, "zone")
    for key in ("city", "province"):
        if meta.get(key):
            aliases.setdefault(meta[key], key)
    if meta.get("speaker") and len(meta["speaker"]) <= 4:
        aliases[meta["speaker"]] = "speaker"
    labels = " ".join(str(meta.get(k, "")) for k in ("title", "subtitle", "meeting", "page_title", "kind"))
    for word in _MEETING_WORDS:
        if word in labels:
            aliases.setdefault(word, "meeting")
    return aliases


_ALIAS_TABLES: dict = {}
_ALIAS_LOCK = threading.Lock()


def _alias_table(docs: dict[str, dict]):
    """normalised alias -> [(alias, kind, doc)] and the known zones, built once per registry version."""
    key = tuple(sorted((n, m.get("doc_hash") or repr(sorted(m.items())), m.get("user_meta", ""),
                        tuple(m.get("user_aliases") or ())) for n, m in docs.items()))
    with _ALIAS_LOCK:
        table = _ALIAS_TABLES.get(key)
    if table is None:
        aliases: dict[str, list] = {}
        for name, meta in docs.items():
            for alias, kind in doc_aliases(name, meta).items():
                aliases.setdefault(normalize(alias), []).append((alias, kind, name))
        table = (aliases, {normalize(m.get("zone", "")) for m in docs.values()})
        with _ALIAS_LOCK:
            if len(_ALIAS_TABLES) >= 8:
                _ALIAS_TABLES.clear()
            _ALIAS_TABLES[key] = table
    return table


def resolve_scope(question: str, docs: dict[str, dict]) -> Scope:
    """Which documents and zones a question names. Longer, more specific mentions win over shorter ones."""
    q = normalize(question)
    found: list[tuple[int, int, str, str, str]] = []  # start, end, alias, kind, doc
    table, known = _alias_table(docs)
    for a, entries in table.items():
        if a and a in q:
            for m in re.finditer(re.escape(a), q):
                for alias, kind, name in entries:
                    found.append((m.start(), m.end(), alias, kind, name))
    # drop mentions inside a longer mention ("高新区" inside "长治高新区")
    spans = {(s, e) for s, e, *_ in found}
    found = [f for f in found if not any(s <= f[0] and f[1] <= e and (e - s) > (f[1] - f[0]) for s, e in spans)]
    by_kind_docs: dict[str, set[str]] = {}
    mentions = []
    for s, e, alias, kind, name in sorted(found):
        by_kind_docs.setdefault(kind, set()).add(name)
        if alias not in mentions:
            mentions.append(alias)
    selected: set[str] = set()
    # zone names and places pick documents; province/meeting/speaker narrow further or pick on their own
    strong = by_kind_docs.get("zone", set()) | by_kind_docs.get("place", set()) | by_kind_docs.get("city", set())
    weak_sets = [by_kind_docs[k] for k in ("speaker", "meeting", "province") if k in by_kind_docs]
    if strong:
        selected = set(strong)
        # "长治高新区和务虚会那篇": a meeting or speaker that names exactly one other document adds it
        for kind in ("meeting", "speaker"):
            named = by_kind_docs.get(kind, set())
            if len(named) == 1 and not named <= selected:
                selected |= named
    elif weak_sets:
        selected = set.intersection(*weak_sets) or set.union(*weak_sets)
        if len(selected) > 3:  # a meeting word, speaker or province shared by many documents names none
            selected = set()
    order = []
    for s, e, alias, kind, name in sorted(found):
        if name in selected and name not in order:
            order.append(name)
    zones = []
    for name in order:
        z = docs[name].get("zone", "")
        if z and z not in zones:
            zones.append(z)
    unknown = []
    for cand, _ in zone_mentions(question):
        if cand in _GENERIC or normalize(cand) in known or cand in unknown:
            continue
        if any(normalize(alias) in normalize(cand) or normalize(cand) in normalize(alias) for alias in mentions):
            continue
        unknown.append(cand)
    via = "metadata" if order else ""
    if unknown:
        # Scope is soft: a zone no document is about may still be one that a document's text names.
        in_text = [n for n, meta in docs.items()
                   if any(normalize(z) in _mentioned(meta) for z in unknown)]
        found_zones = [z for z in unknown if any(normalize(z) in _mentioned(docs[n]) for n in in_text)]
        if in_text:
            for n in in_text:
                if n not in order:
                    order.append(n)
            zones += [z for z in found_zones if z not in zones]
            unknown = [z for z in unknown if z not in found_zones]
            via = via or "text"
    return Scope(docs=order, zones=zones, unknown_zones=unknown, mentions=mentions, via=via)


_FIT_BONUS = 0.3  # as the other structural bonuses: the passage the composer answers from


@dataclass
class _FigureFit:
    """For a question that asks an indicator's figure ("邳州经开区2022年营收做到多少了?"): whether a passage has
    a sentence that states it — the indicator named as the zone's (not a part's, not a denominator), a figure of
    the asked quantity, no contradicting year or result-or-target. The composer's own tests (answerability),
    applied to the candidates, so that the passage it will answer from is ranked first."""

    query: str
    forms: list[str]
    needs: object

    @classmethod
    def of(cls, query: str) -> "_FigureFit | None":
        from .answerability import needs_of
        from .indicators import metric_forms, metric_in

        metric = metric_in(query)
        if not metric or "number" not in asks(query):
            return None
        return cls(query, [normalize(f) for f in metric_forms(metric)], needs_of(query, True))

    def states(self, text: str, meta: dict) -> bool:
        from .answerability import conflicts, context_of, part_figure
        from .chunking import split_sentences
        from .indicators import NUM, names_indicator, states_value

        for s, e in split_sentences(text):
            body = normalize(text[s:e])
            if not names_indicator(body, self.forms, self.query) or part_figure(body, self.forms, self.query) \
                    or not states_value(body, self.forms):
                continue
            fig = NUM.search(text, s, e)
            ctx = context_of(text, s, e, str(meta.get("section", "")), meta, focus=fig.start() if fig else None)
            if not conflicts(self.needs, ctx, text[s:e]):
                return True
        return False


def _says_any(text: str, terms: list[str]) -> bool:
    """Whether a passage's own text holds one of the searched terms (two characters or more, or a number)."""
    t = normalize(text)
    return any(term in t for term in terms if len(term) >= 2 or term.isdigit())


def _mentioned(meta: dict) -> set[str]:
    """The zones a document's text names (recorded at ingest), normalised."""
    return {normalize(z) for z in str(meta.get("mentions", "")).split("|") if z}


def check_query(query: str, limit: int = MAX_QUERY_CHARS) -> str:
    query = (query or "").strip()
    if not query:
        raise QueryError("问题是空的 (empty question)。请输入一个问题，例如: 长治高新区2017年营业收入是多少?")
    if len(query) > limit:
        raise QueryError(f"问题太长 ({len(query)} 字)，上限 {limit} 字。请缩短问题或分几次提问。")
    return query


class HybridRetriever(BaseRetriever):
    """Keyword + dense, fused by normalised scores, optionally filtered by zone / document / year."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    store: Store
    k: int = 5
    zone: str | None = None
    doc: str | None = None
    year: int | None = None
    auto_scope: bool = True
    keyword_weight: float = 0.7  # calibrated on dev, dev2 and both unseen sets (0.4-0.8 tried; 0.7 or better on each)
    candidates: int = 40

    def _get_relevant_documents(self, query: str, *, run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        return [h.to_document() for h in self.search(query)]

    def select_docs(self, query: str, zone: str | None = None, doc: str | None = None,
                    year: int | None = None, docs: list[str] | None = None) -> tuple[dict[str, dict], Scope]:
        """The documents a search runs over, and the scope the query names. Disabled documents are never
        chosen: this is where every retrieval, summary and comparison picks its documents."""
        chosen, scope, _ = self._select(query, zone, doc, year, docs)
        return chosen, scope

    def _select(self, query: str, zone: str | None, doc: str | None, year: int | None,
                docs: list[str] | None) -> tuple[dict[str, dict], Scope, str]:
        """select_docs, and which signal narrowed the documents: "filter" (zone / doc / year / documents given),
        the scope's "metadata" or "text", both ("filter+metadata"), or "" (every document)."""
        all_docs = self.store.enabled_documents()
        zone, doc, year = zone or self.zone, doc or self.doc, year or self.year
        scope = resolve_scope(query, all_docs) if self.auto_scope else Scope([], [])
        chosen = dict(all_docs)
        if docs:
            chosen = {n: m for n, m in chosen.items() if n in docs}
        if doc:
            chosen = {n: m for n, m in chosen.items() if n == doc}
            if not chosen:
                if doc in self.store.documents():
                    raise QueryError(f"文档 {doc!r} 已停用，不参与检索和回答。用 `assistant enable {doc}` 重新启用。")
                raise QueryError(f"没有名为 {doc!r} 的文档。用 `assistant docs` 查看已有文档。")
        if zone:
            zscope = resolve_scope(zone, all_docs)
            wanted = (set(zscope.docs) if zscope.via == "metadata" else set()) or {
                n for n, m in all_docs.items() if normalize(m.get("zone", "")) == normalize(zone)}
            if not wanted:
                known = "、".join(sorted({m.get("zone", "") for m in all_docs.values() if m.get("zone")}))
                raise QueryError(f"语料中没有园区 {zone!r}。已有: {known}。")
            chosen = {n: m for n, m in chosen.items() if n in wanted}
        if year:
            chosen = {n: m for n, m in chosen.items() if int(m.get("year") or 0) == int(year)}
        via = "filter" if (docs or doc or zone or year) else ""
        if scope.docs and not (doc or zone or docs):
            narrowed = {n: m for n, m in chosen.items() if n in scope.docs}
            if narrowed:
                chosen = narrowed
                via = f"{via}+{scope.via}" if via else scope.via
        return chosen, scope, via

    def search(self, query: str, k: int | None = None, zone: str | None = None, doc: str | None = None,
               year: int | None = None, docs: list[str] | None = None) -> list[Hit]:
        return self.explain(query, k, zone, doc, year, docs).found

    def explain(self, query: str, k: int | None = None, zone: str | None = None, doc: str | None = None,
                year: int | None = None, docs: list[str] | None = None) -> "Explanation":
        """A search with its reasons: each passage's keyword, vector and fused score, the scope applied and
        the tokens searched. `search` is this, so the two always rank alike."""
        query = check_query(query)
        if k is not None and k < 1:
            raise QueryError(f"k 必须是正整数 (got {k})。")
        k = k or self.k
        chosen, scope, via = self._select(query, zone, doc, year, docs)
        ranked = self.scored(query, chosen, k, scope=scope)
        everything = len(chosen) == len(self.store.enabled_documents())
        zones = list(scope.zones) if via in ("metadata", "text") or via.startswith("filter+") else []
        if via.startswith("filter"):
            zones += [z for z in dict.fromkeys(m.get("zone", "") for m in chosen.values()) if z and z not in zones]
        applied = {"zones": zones, "docs": [] if everything else sorted(chosen), "year": year or self.year,
                   "via": via, "mentions": list(scope.mentions), "unknown_zones": list(scope.unknown_zones),
                   "filters": {key: value for key, value in (("zone", zone), ("doc", doc), ("year", year))
                               if value}}
        return Explanation(query=query, tokens=ranked.terms, expanded=ranked.expanded, scope=applied,
                           hits=ranked.explained(), found=ranked.hits, ceiling=ranked.ceiling)

    def rank(self, query: str, chosen: dict[str, dict], k: int, terms: list[str] | None = None,
             scope: Scope | None = None) -> list[Hit]:
        return self.scored(query, chosen, k, terms, scope).hits

    def scored(self, query: str, chosen: dict[str, dict], k: int, terms: list[str] | None = None,
               scope: Scope | None = None) -> "Ranking":
        """The k best passages of the `chosen` documents, with the parts of their scores (rank's one path).

        score = keyword_weight * keyword + (1 - keyword_weight) * vector + a structural bonus, where keyword is
        the passage's BM25 score over the best BM25 score among the candidates and vector its cosine similarity
        min-max scaled over the dense candidates (both in 0-1), and the bonus (0-0.3) favours the passages that
        open a part for a summary, the title block for who/when/which meeting, enumerations for a list."""
        ranking = Ranking(terms=[], expanded=[], ceiling=1.0)
        if not chosen:
            return ranking
        index = self.store.keyword_index()
        hashes = [m["doc_hash"] for m in chosen.values() if m.get("doc_hash")]
        n = max(self.candidates, k)
        if terms is None:
            terms = list(query_terms(query))
            # the curator's synonyms (user lexicon): the query's words are expanded, the documents never re-indexed
            ranking.expanded = [t for t in self.store.user_lexicon().expansion(query) if t not in terms]
            terms += ranking.expanded
        terms = list(terms)
        if scope and scope.mentions and len(chosen) <= len(scope.docs):
            # Within the named documents, their own names do not tell passages apart: the title block
            # would win every question. Drop the naming words from the keyword side.
            named = set()
            for m in scope.mentions:
                named.update(query_terms(m))
            terms = [t for t in terms if t not in named] or terms
        ranking.terms = terms
        ranking.expanded = [t for t in ranking.expanded if t in terms]
        kind = kind_of(query)
        about_document = bool(asks(query) & {"who", "when"} or asks_meeting(query))
        about_page = asks_page_info(query)  # a web page's header line answers it; no other question sees that line
        fit = _FigureFit.of(query) if kind == "fact" and not about_document else None
        # the most a bonus below can add for this query: the fused score is reported over 1 + this (0-1)
        ranking.ceiling = 1.0 + (0.3 if kind == "summary" or about_document or about_page else
                                 0.1 + 0.03 * 6 if kind == "list" else _FIT_BONUS if fit is not None else 0.0)
        kw = index.search(terms, n, docs=chosen)
        # Every document chosen: no filter on the dense side (a `$in` over hundreds of hashes costs Chroma
        # 30 ms; unfiltered, 1 ms). Passages outside the index (orphans, a version being written) are dropped
        # below; when they crowd out candidates, the filtered query runs after all.
        everything = len(chosen) == len(self.store.documents())
        # versions whose vectors are all in place: their vectors may be kept in memory (Store.dense_search)
        settled = {m["doc_hash"] for m in chosen.values() if m.get("doc_hash") and m.get("vectors") != "pending"}
        dense = self.store.dense_search(query, n, None if everything else hashes, settled)
        if everything and sum(pid in index.records for pid, _ in dense) < min(n, len(index.ids)):
            dense = self.store.dense_search(query, n, hashes, settled)
        kw_scores = dict(kw)
        dense_scores = {pid: s for pid, s in dense if pid in index.records}
        pool = set(kw_scores) | set(dense_scores)
        if not pool:
            return ranking
        kmax = max(kw_scores.values(), default=0.0) or 1.0
        dvals = np.array(list(dense_scores.values()) or [0.0])
        dmin, dmax = float(dvals.min()), float(dvals.max())
        # a document ingested keyword first whose vectors are still being filled: a passage of it without a
        # vector is ranked by its keyword score alone (its keyword score stands in for the missing vector)
        unembedded = {n for n, m in chosen.items() if m.get("vectors") == "pending"}
        fused = []
        for pid in pool:
            kn = kw_scores.get(pid, 0.0) / kmax
            dn = (dense_scores[pid] - dmin) / (dmax - dmin) if pid in dense_scores and dmax > dmin else (
                1.0 if pid in dense_scores else 0.0)
            if unembedded and pid not in dense_scores and index.records[pid]["meta"].get("doc") in unembedded:
                dn = kn
            score = self.keyword_weight * kn + (1 - self.keyword_weight) * dn
            meta = index.records[pid]["meta"]
            if meta.get("passage") == PAGE_INFO and not about_page:
                continue
            bonus = 0.0
            if about_page and meta.get("passage") == PAGE_INFO:
                bonus = 0.3  # when and where the page was published: its header line says it
            elif kind == "summary" and meta.get("head") == 1:
                bonus = 0.3  # a summary is answered by the outline: the passages that open a part
            elif about_document and int(meta.get("idx", -1)) == 0:
                bonus = 0.3  # who spoke, when, at which meeting: the title block says it
            elif kind == "list" and int(meta.get("enum", 0)) >= 2:
                bonus = 0.1 + 0.03 * min(int(meta["enum"]), 6)
            if fit is not None and fit.states(index.records[pid]["text"], meta):
                bonus += _FIT_BONUS  # a sentence states the asked indicator's figure, of the asked year and kind
            score += bonus
            if meta.get("passage") == "table_row" and not _says_any(index.records[pid]["text"], terms):
                # every row of a table carries its caption and header for search; a row that matches only
                # those is one of many alike, and must not crowd out the passages that say the asked thing
                score *= 0.5
            fused.append((score, pid))
            ranking.parts[pid] = Parts(kn, dn, bonus, kw_scores.get(pid, 0.0), dense_scores.get(pid))
        fused.sort(reverse=True)
        for score, pid in fused[:k]:
            rec = index.records[pid]
            meta = dict(rec["meta"])
            doc_meta = chosen.get(meta.get("doc", ""), {})
            for key in DOC_FIELDS:  # the registry's, as a curator may have corrected it (Store.set_meta)
                if doc_meta.get(key) not in (None, ""):
                    meta[key] = doc_meta[key]
                else:
                    meta.pop(key, None)
            ranking.hits.append(Hit(pid, meta.get("doc", ""), rec["text"], float(score), meta))
        return ranking


# The document's fields a passage carries (copied at ingest): a hit reads them from the registry.
DOC_FIELDS = ("zone", "title", "speaker", "date", "year", "kind", "province")


@dataclass
class Parts:
    keyword: float  # BM25 / the best BM25 among the candidates (0-1)
    vector: float  # cosine similarity, min-max scaled over the dense candidates (0-1)
    bonus: float  # structural bonus (0-0.3)
    bm25: float  # the raw BM25 score
    cosine: float | None  # the raw cosine similarity (None: not among the dense candidates)


@dataclass
class Ranking:
    terms: list[str]  # the keyword tokens searched (after dropping the words that named the scope)
    expanded: list[str]  # those of them the user lexicon added
    ceiling: float  # the highest score this query's passages can get
    hits: list[Hit] = field(default_factory=list)
    parts: dict[str, Parts] = field(default_factory=dict)

    def explained(self) -> list["ExplainedHit"]:
        out = []
        for rank, h in enumerate(self.hits, 1):
            p = self.parts[h.id]
            out.append(ExplainedHit(
                rank=rank, doc=h.doc, title=h.title, zone=h.zone, section=h.section, start=h.start, end=h.end,
                text=h.text, keyword=round(p.keyword, 4), vector=round(p.vector, 4),
                fused=round(min(1.0, h.score / self.ceiling), 4), score=round(h.score, 4), bonus=round(p.bonus, 4),
                bm25=round(p.bm25, 4), cosine=None if p.cosine is None else round(p.cosine, 4), id=h.id))
        return out


@dataclass
class ExplainedHit:
    """One passage of a retrieval test. keyword, vector and fused are each in 0-1: fused is the ranking score
    over the most this query could score (1, or 1 + the largest structural bonus it allows), so the order of
    `fused` is the order of the search."""

    rank: int
    doc: str
    title: str
    zone: str
    section: str
    start: int
    end: int
    text: str
    keyword: float
    vector: float
    fused: float
    score: float = 0.0  # the ranking score itself (what `search` reports; may exceed 1 with a bonus)
    bonus: float = 0.0
    bm25: float = 0.0
    cosine: float | None = None
    id: str = ""

    def to_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class Explanation:
    """Why a search found what it found (`assistant search --explain`, the app's 命中测试)."""

    query: str
    tokens: list[str]  # keyword tokens searched, after dropping the words that named the scope
    scope: dict  # zones, docs ([] = every enabled document), year, via ("filter" | "metadata" | "text" | ...)
    hits: list[ExplainedHit]
    expanded: list[str] = field(default_factory=list)  # tokens the user lexicon added
    found: list[Hit] = field(default_factory=list, repr=False)  # the same passages as `search` returns them
    ceiling: float = 1.0  # the score the fused scores are divided by

    def to_dict(self) -> dict:
        return {"query": self.query, "tokens": list(self.tokens), "expanded": list(self.expanded),
                "scope": dict(self.scope), "ceiling": self.ceiling, "hits": [h.to_dict() for h in self.hits]}
