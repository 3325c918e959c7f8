"""Comparisons across zones: retrieve per zone and per aspect, so that no zone crowds out another.

The table has aspects as rows and zones as columns; each cell is a short verbatim quote with its citation,
or "未提及". What follows the table is derived from the quotes only: shared terms, higher and lower figures
of the same indicator, and a warning when the documents differ in year or kind.
"""

from __future__ import annotations

import re

from .answer import Answer, Cell, Note, Quote, Table
from .indicators import NUM as _NUM, metric_forms, metric_in
from .intent import asks
from .text import SYNONYMS, normalize, tokenize

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
GENERIC = set("企业 产业 发展 工作 建设 推进 不同 区别 方面 要求 情况 问题 内容 园区 全区 我们 加快 提升 推动 打造 "
              "实施 加强 坚持 重点 分别 各自 对比 比较 共同点 相同 哪些 什么 有何".split())


# Concepts a document may discuss without naming them: the table says so when it quotes the other words.
CONCEPTS = {"主导产业": ["主导产业", "首位产业", "支柱产业", "产业定位", "主攻方向"]}
# What documents say for an aspect when they do not use its name: a cell may quote these as the aspect itself.
ASPECT_WORDS = {**SYNONYMS, **CONCEPTS}


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


def _asked_aspects(query: str) -> list[str]:
    """The aspects with paraphrases (ASPECT_WORDS) that a question names."""
    q = normalize(query)
    return [k for k in ASPECT_WORDS if normalize(k) in q]


def _unnamed(comp, doc: str, asked: list[str]) -> list[str]:
    """Those of the asked aspects this document never names (all or none: "主导产业" in 长治's)."""
    text = normalize(comp.text(doc))
    return [] if any(normalize(k) in text for k in asked) else asked


def _cell(comp, doc: str, query: str, asked: list[str], unnamed: list[str]) -> list[Quote]:
    """The quotes that answer the aspect for one zone: the clause with the figure, or up to two sentences.
    `asked`: the question's aspects with paraphrases; `unnamed`: those this document never names."""
    hits = comp.retrieve(k=5, docs=[doc], query=query)
    said = [v for k in unnamed for v in ASPECT_WORDS[k] if v not in unnamed]
    if said:  # the document never names the aspect ("主导产业"): look for what it says instead ("产业定位")
        seen = {h.id for h in hits}
        hits += [h for h in comp.retrieve(k=5, docs=[doc], query=" ".join(said)) if h.id not in seen]
    if not hits:
        return []
    terms = comp.key_terms(query)
    metric = metric_in(query)
    want_number = "number" in asks(query) or bool(metric)
    years = re.findall(r"(?:19|20)\d{2}", query)
    listing = bool(re.search(r"(是什么|哪些|分别|有什么|各有|打算|安排)", query))
    sents = comp.sentences(hits)
    bodies: dict[tuple[int, int], str] = {}
    for s in sents:
        body = bodies[(s.start, s.end)] = normalize(comp.text(s.doc)[s.start:s.end])
        s.score = comp.score_sentence(s, terms, want_number, years)
        if listing:  # "三大主导产业分别是什么": the sentence that enumerates them
            s.score += 0.05 * min(6, body.count("、"))
        if metric and not any(normalize(f) in body for f in metric_forms(metric)):
            s.score -= 0.5
    # a cell must name the aspect itself, not only a generic word of it ("企业" for "瞪羚企业"), and rather the
    # whole term or a paraphrase the documents use than a part of it ("政府主导" is no "主导产业")
    specific = [t for t in terms if len(t) >= 2 and t not in GENERIC] or terms
    own_words = set(tokenize(query))  # the question's own words (not the paraphrases' fragments: "定位", "方向")
    whole = [t for t in specific if t in own_words and not any(t != u and t in u for u in terms)]
    whole += [v for k in asked for v in ASPECT_WORDS[k]]
    named = [x for x in sents if any(t in bodies[(x.start, x.end)] for t in whole)]
    sents = named or [x for x in sents if any(t in bodies[(x.start, x.end)] for t in specific)]
    sents.sort(key=lambda x: -x.score)
    if not sents:
        return []
    best = sents[0]
    if want_number:
        s, e = comp.best_window(doc, best.start, best.end, terms, True, metric)
        if e - s < 12:
            s, e = best.start, best.end
        return [comp.quote(doc, s, e, best.section)]
    # what a zone plans or has rarely fits one sentence: add the runner-up when it is close
    chosen = [best] + [o for o in sents[1:4] if o.score >= 0.6 * best.score and o.end - o.start <= 220
                       and (o.start, o.end) != (best.start, best.end)][:1]
    out = []
    for c in sorted(chosen, key=lambda x: x.start):
        st, en = c.start, c.end
        if en - st > 220:
            st, en = comp.best_window(doc, c.start, c.end, terms, False, metric)
        out.append(comp.quote(doc, st, en, c.section))
    return out


def _meta_cell(comp, doc: str) -> Quote:
    text = comp.text(doc)
    first = text.find("\n")
    end = first if 0 < first < 120 else min(len(text), 60)
    return comp.quote(doc, 0, end, "标题")


def compare_request(comp, resolved, missing: list[str] | None = None) -> Answer | None:
    docs = list(resolved.docs)
    all_docs = comp.docs_meta
    if len(docs) < 2 and not missing:
        docs = sorted(all_docs)
    if len(docs) < 2 and not (docs and missing):
        return None
    scope = comp.bot.retriever.select_docs(resolved.query)[1]
    base = _strip_zones(resolved.query, scope.mentions)
    zones = [all_docs[d].get("zone") or d for d in docs]
    ans = Answer("comparison", query=resolved.query)
    rows: list[tuple[str, list[Cell]]] = []
    unnamed_notes: list[str] = []

    def add(found) -> Cell:
        found = [found] if isinstance(found, Quote) else (found or [])
        return Cell([ans.cite(q) for q in found]) if found else Cell(value="未提及")

    if _META_ASPECT.search(base):
        rows.append(("年份", [Cell(value=str(all_docs[d].get("year", "")) or "未写明") for d in docs]))
        rows.append(("类型", [Cell(value=all_docs[d].get("kind", "")) for d in docs]))
        rows.append(("讲话人/发文机关", [Cell(value=all_docs[d].get("speaker", "") or "未写明") for d in docs]))
        rows.append(("标题（原文）", [add(_meta_cell(comp, d)) for d in docs]))
    else:
        label, _ = aspect_of(base)
        aspects = [(label or "相关内容", base)] if (label or len(tokenize(base)) >= 2) else \
            [(a, ASPECTS[a]) for a in _OVERVIEW]
        for name, aspect_query in aspects:
            asked = _asked_aspects(aspect_query)
            cells = []
            for d in docs:
                unnamed = _unnamed(comp, d, asked)
                found = _cell(comp, d, aspect_query, asked, unnamed)
                cells.append(add(found))
                words = [w for w in unnamed if w in CONCEPTS]
                quoted = normalize("".join(q.text for q in found))
                said = [v for k in words for v in ASPECT_WORDS[k] if v not in words and normalize(v) in quoted]
                if said:  # name only the words the table really quotes
                    unnamed_notes.append(f"{all_docs[d].get('zone') or d}的文件没有“{'、'.join(words)}”"
                                         f"这个说法，表中引用的是它讲{'、'.join(f'“{v}”' for v in said)}的句子。")
            rows.append((name, cells))
    missing = missing or []
    columns = zones + missing
    rows = [(name, cells + [Cell(value="语料中没有该园区") for _ in missing]) for name, cells in rows]
    ans.title = "、".join(columns)
    if missing:
        ans.notes.append(Note(f"注意：语料中没有关于「{'、'.join(missing)}」的文档，无法比较该园区。", "warning"))
    ans.tables.append(Table("", columns, rows, label="方面"))
    quotes = list(ans.quotes)
    chart = chart_data(comp, quotes, prefer_growth=bool(re.search(r"(增长|增速|增幅)", base)))
    if chart:  # the figures of the quotes above, in one unit (their clause as the original wording)
        crow = [(c["zone"], [Cell(value=c["indicator"]), Cell(value=f"{c['value']:g}{c['unit']}"),
                             Cell(value=f"「{c['text']}」")]) for c in chart]
        ans.tables.append(Table("数值（单位已统一）", ["指标", "数值（统一单位）", "原文"], crow, label="园区"))
    for point in _observations(comp, docs, quotes, base):
        ans.notes.append(Note(point, "point"))
    for note in unnamed_notes:
        ans.notes.append(Note(note, "point"))
    if comp.bot.settings.llm and quotes:
        from .llm import llm_prose, shift_citations

        checked = llm_prose(comp, list(quotes), f"根据引文比较{'、'.join(zones)}在「{base}」上的异同，"
                                                 "指出共同点和不同点，注意各文件年份和类型不同。")
        if checked is None or not checked.quotes:
            ans.flags += ["llm_error"] if checked is None else checked.flags + ["llm_no_verified_quotes"]
            ans.notes.append(Note("（LLM 说明不可用或无法核对，以上为抽取式对比。）", "llm"))
        else:
            ans.prose = shift_citations(checked.text, len(ans.quotes))
            ans.quotes.extend(checked.quotes)
            ans.flags += checked.flags
    if comp.bot.settings.llm:
        ans.extras["model"] = comp.bot.settings.llm
    ans.extras["zones"] = zones
    ans.extras["missing_zones"] = missing
    ans.extras["table"] = {"aspects": [r[0] for r in rows], "zones": columns,
                           "cells": [[render_cell(ans, c) for c in cells] for _, cells in rows]}
    if chart:
        ans.extras["chart"] = chart
    return ans


def render_cell(ans: Answer, cell: Cell) -> str:
    """A cell as plain text: its quotes 「…」[n], or its value."""
    if cell.quotes:
        return " ／ ".join(f"「{q.text}」[{ans.number(q)}]" for q in cell.quotes)
    return cell.value


def chart_data(comp, quotes: list[Quote], prefer_growth: bool = False) -> list[dict]:
    """Figures of the same kind from two or more zones, in one unit: what the app draws as a chart."""
    from .figures import extract_figures, to_value

    rows = []
    for q in quotes:
        for f in extract_figures(q.text):
            value, unit = to_value(f.value, f.unit) if f.value and not prefer_growth else (None, "")
            if value is None and f.growth and f.growth[0].isdigit():
                value, unit = float(re.sub(r"[^\d.]", "", f.growth.split("%")[0]) or 0), "%"
            elif value is None and f.value:
                value, unit = to_value(f.value, f.unit)
            if value is not None:
                rows.append({"zone": q.zone or comp.meta(q.doc).get("zone", q.doc), "doc": q.doc,
                             "indicator": f.indicator, "value": value, "unit": unit, "text": f.text})
                break
    by_unit: dict[str, list[dict]] = {}
    for r in rows:
        by_unit.setdefault(r["unit"], []).append(r)
    best = max(by_unit.values(), key=lambda rs: len({r["zone"] for r in rs}), default=[])
    return best if len({r["zone"] for r in best}) >= 2 else []


def _observations(comp, docs: list[str], quotes: list[Quote], query: str) -> list[str]:
    """Plain sentences about the quotes: words they share, figures ranked in one unit, differing years."""
    lines = []
    by_doc: dict[str, list[Quote]] = {}
    for q in quotes:
        by_doc.setdefault(q.doc, []).append(q)
    token_sets = [set(t for q in by_doc.get(d, []) for t in tokenize(q.text) if len(t) >= 2) for d in docs]
    present = [s for s in token_sets if s]
    if len(present) >= 2:
        shared = sorted(set.intersection(*present), key=len, reverse=True)[:6]
        if shared:
            lines.append("共同点（各方引文都出现的词）：" + "、".join(shared))
    chart = chart_data(comp, quotes, prefer_growth=bool(re.search(r"(增长|增速|增幅)", query)))
    if chart and len({c["value"] for c in chart}) > 1:
        ranked = sorted(chart, key=lambda c: -c["value"])
        lines.append("数值对比（单位统一为" + ranked[0]["unit"] + "）：" +
                     " ＞ ".join(f"{c['zone']}「{c['text']}」" for c in ranked))
    years = {d: (comp.meta(d).get("year"), comp.meta(d).get("kind")) for d in docs}
    if len({y for y, _ in years.values()}) > 1 or len({k for _, k in years.values()}) > 1:
        lines.append("注意：各文件年份和类型不同（" + "；".join(
            f"{comp.meta(d).get('zone', d)}：{y or '年份未写明'}年{k or ''}" for d, (y, k) in years.items()) + "），对比时请考虑时间差异。")
    return lines
