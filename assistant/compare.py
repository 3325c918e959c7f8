"""Comparisons across zones: retrieve per zone and per aspect, so that no zone crowds out another.

The table has aspects as rows and zones as columns; each cell is a short verbatim quote with its citation,
or "未提及". What follows the table is derived from the quotes only: shared terms, higher and lower figures
of the same indicator, and a warning when the documents differ in year or kind.
"""

from __future__ import annotations

import re

from .answering import Answer, Quote, _NUM, metric_forms, metric_in, render_sources
from .intent import asks
from .text import normalize, tokenize

ASPECTS = {
    "主导产业": "主导产业 产业集群 特色产业",
    "经济指标": "地区生产总值 营业收入 增长 亿元",
    "目标": "目标 预期目标 增长 力争",
    "重点任务": "重点任务 重点工作 方面",
    "招商引资": "招商引资 招商 项目",
    "创新": "创新 科技 研发 高新技术企业",
    "营商环境": "营商环境 服务 审批",
    "党建": "党的建设 从严治党 党风廉政",
    "智能制造": "智能制造",
}
_META_ASPECT = re.compile(r"(哪一年|哪年|年份|什么时候|何时|日期|谁讲|讲话人|发言人|哪个机构|什么类型|什么文件)")
_OVERVIEW = ["主导产业", "经济指标", "重点任务"]


def aspect_of(query: str) -> tuple[str, str]:
    """(label, retrieval query) of the aspect asked; ("", "") means an overview."""
    for label, terms in ASPECTS.items():
        if label in query:
            return label, query
    if re.search(r"(GDP|gdp|生产总值|营收|营业收入|增长|指标)", query):
        return "经济指标", query
    return "", query


def _strip_zones(query: str, mentions: list[str]) -> str:
    for m in sorted(mentions, key=len, reverse=True):
        query = query.replace(m, "")
    query = re.sub(r"(和|与|及|跟|同|、|,|，)+", " ", query)
    return query.strip()


def _cell(comp, doc: str, query: str) -> Quote | None:
    hits = comp.retrieve(k=5, docs=[doc], query=query)
    if not hits:
        return None
    terms = comp.key_terms(query)
    want_number = "number" in asks(query) or bool(metric_in(query))
    metric = metric_in(query)
    years = re.findall(r"(?:19|20)\d{2}", query)
    sents = comp.sentences(hits)
    best = None
    for s in sents:
        s.score = comp.score_sentence(s, terms, want_number, years)
        if metric and not any(normalize(f) in normalize(comp.text(s.doc)[s.start:s.end]) for f in metric_forms(metric)):
            s.score -= 0.5
        if best is None or s.score > best.score:
            best = s
    if best is None:
        return None
    body = normalize(comp.text(doc)[best.start:best.end])
    if not any(t in body for t in terms):
        return None
    s, e = comp.best_window(doc, best.start, best.end, terms, want_number, metric)
    if e - s < 12:
        s, e = best.start, best.end
    if e - s > 160:
        s, e = comp.best_window(doc, best.start, best.end, terms, True, metric)
    return comp.quote(doc, s, e, best.section)


def _meta_cell(comp, doc: str) -> Quote:
    text = comp.text(doc)
    first = text.find("\n")
    end = first if 0 < first < 120 else min(len(text), 60)
    return comp.quote(doc, 0, end, "标题")


def compare_request(comp, resolved) -> Answer | None:
    docs = list(resolved.docs)
    all_docs = comp.docs_meta
    if len(docs) < 2:
        docs = sorted(all_docs)
    if len(docs) < 2:
        return None
    scope = comp.bot.retriever.select_docs(resolved.query)[1]
    base = _strip_zones(resolved.query, scope.mentions)
    zones = [all_docs[d].get("zone") or d for d in docs]
    quotes: list[Quote] = []
    rows: list[tuple[str, list[str]]] = []

    def add(q: Quote | None) -> str:
        if q is None:
            return "未提及"
        quotes.append(q)
        return f"「{q.text.replace(chr(10), ' ').replace('|', '｜')}」[{len(quotes)}]"

    if _META_ASPECT.search(base):
        rows.append(("年份", [str(all_docs[d].get("year", "")) or "未写明" for d in docs]))
        rows.append(("类型", [all_docs[d].get("kind", "") for d in docs]))
        rows.append(("讲话人/发文机关", [all_docs[d].get("speaker", "") or "未写明" for d in docs]))
        rows.append(("标题（原文）", [add(_meta_cell(comp, d)) for d in docs]))
    else:
        label, _ = aspect_of(base)
        aspects = [(label or "相关内容", base)] if (label or len(tokenize(base)) >= 2) else \
            [(a, ASPECTS[a]) for a in _OVERVIEW]
        for name, q in aspects:
            rows.append((name, [add(_cell(comp, d, q)) for d in docs]))
    header = "| 方面 | " + " | ".join(zones) + " |\n|---|" + "---|" * len(zones)
    table = "\n".join([header] + [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows])
    notes = _observations(comp, docs, quotes, base)
    text = "**对比**：" + "、".join(zones) + "\n\n" + table + "\n\n" + notes + "\n\n**出处**\n\n" + render_sources(quotes)
    ans = Answer("comparison", text, quotes, resolved.query)
    ans.extras["zones"] = zones
    ans.extras["table"] = {"aspects": [r[0] for r in rows], "zones": zones, "cells": [r[1] for r in rows]}
    return ans


def _observations(comp, docs: list[str], quotes: list[Quote], query: str) -> str:
    lines = []
    by_doc: dict[str, list[Quote]] = {}
    for q in quotes:
        by_doc.setdefault(q.doc, []).append(q)
    token_sets = [set(t for q in by_doc.get(d, []) for t in tokenize(q.text) if len(t) >= 2) for d in docs]
    present = [s for s in token_sets if s]
    if len(present) >= 2:
        shared = sorted(set.intersection(*present), key=len, reverse=True)[:6]
        if shared:
            lines.append("- 共同点（各方引文都出现的词）：" + "、".join(shared))
    figures = []
    for d in docs:
        for q in by_doc.get(d, []):
            m = _NUM.search(q.text)
            if m and "%" in m.group(0):
                figures.append((float(re.sub(r"[^\d.]", "", m.group(1)) or 0), comp.meta(d).get("zone", d), m.group(0)))
                break
    if len(figures) >= 2 and len({f[0] for f in figures}) > 1:
        figures.sort(reverse=True)
        lines.append("- 数值对比：" + " ＞ ".join(f"{z}「{v}」" for _, z, v in figures))
    years = {d: (comp.meta(d).get("year"), comp.meta(d).get("kind")) for d in docs}
    if len({y for y, _ in years.values()}) > 1 or len({k for _, k in years.values()}) > 1:
        lines.append("- 注意：各文件年份和类型不同（" + "；".join(
            f"{comp.meta(d).get('zone', d)}：{y or '年份未写明'}年{k or ''}" for d, (y, k) in years.items()) + "），对比时请考虑时间差异。")
    return "\n".join(lines)
