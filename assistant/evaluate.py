"""Scoring on an eval file (JSONL of questions with verbatim evidence).

Retrieval: an item is hit at rank r when the passage at r is from one of the item's documents and holds
at least 60% of one of its evidence strings as one run of characters (whitespace and width ignored).
"""

from __future__ import annotations

import json
from difflib import SequenceMatcher
from pathlib import Path

from .text import squash

KS = (1, 3, 5, 10)


def load_items(path: Path | str) -> list[dict]:
    items = []
    for line in Path(path).read_text("utf-8").splitlines():
        if line.strip():
            items.append(json.loads(line))
    return items


def item_docs(item: dict) -> list[str]:
    doc = item.get("doc")
    return list(doc) if isinstance(doc, list) else ([doc] if doc else [])


def longest_run(a: str, b: str) -> int:
    m = SequenceMatcher(None, a, b, autojunk=False).find_longest_match(0, len(a), 0, len(b))
    return m.size


def passage_hits(text: str, evidence: list[str], threshold: float = 0.6) -> bool:
    t = squash(text)
    for ev in evidence:
        e = squash(ev)
        if e and (e in t or longest_run(e, t) >= threshold * len(e)):
            return True
    return False


def retrieval_query(item: dict, docs_meta: dict[str, dict] | None = None) -> str:
    """Follow-up items are resolved from their history like the assistant would, over the store's documents."""
    if item.get("history"):
        try:
            from .conversation import resolve_followup

            return resolve_followup(item["question"], item["history"], docs_meta or {}).query
        except ImportError:
            prev = [h["content"] for h in item["history"] if h.get("role") == "user"]
            return " ".join(prev[-1:] + [item["question"]])
    return item["question"]


def score_retrieval(items: list[dict], search, docs_meta: dict[str, dict] | None = None) -> dict:
    """`search(query) -> list[Hit]` ranked best first (at least 10); `docs_meta` (the store's documents)
    resolves follow-ups."""
    rows = []
    for item in items:
        if not item.get("evidence"):
            continue
        docs = set(item_docs(item))
        hits = search(retrieval_query(item, docs_meta))
        rank = None
        for r, h in enumerate(hits[:10], 1):
            if h.doc in docs and passage_hits(h.text, item["evidence"]):
                rank = r
                break
        rows.append({"id": item["id"], "type": item.get("type"), "question": item["question"], "rank": rank,
                     "passages": [{"doc": h.doc, "score": round(h.score, 4), "section": h.section,
                                   "text": h.text} for h in hits[:10]]})
    n = len(rows) or 1
    summary = {f"hit@{k}": sum(1 for r in rows if r["rank"] and r["rank"] <= k) / n for k in KS}
    summary["mrr@10"] = sum(1.0 / r["rank"] for r in rows if r["rank"]) / n
    summary["items"] = len(rows)
    by_type: dict[str, list] = {}
    for r in rows:
        by_type.setdefault(r["type"], []).append(r)
    summary["by_type"] = {t: {"n": len(v), "hit@5": sum(1 for r in v if r["rank"] and r["rank"] <= 5) / len(v)}
                          for t, v in sorted(by_type.items())}
    return {"summary": summary, "items": rows}


# ------------------------------------------------------------------------------------------ answers

_CN_NUMS = {"一": "1", "二": "2", "两": "2", "三": "3", "四": "4", "五": "5", "六": "6", "七": "7", "八": "8",
            "九": "9", "十": "10"}


def norm_answer(text: str) -> str:
    """Whitespace-free, width-normalised, ISO dates as 年月日, leading zeros of month/day dropped."""
    import re

    t = squash(text)
    t = re.sub(r"(\d{4})-(\d{1,2})-(\d{1,2})", lambda m: f"{m.group(1)}年{int(m.group(2))}月{int(m.group(3))}日", t)
    t = re.sub(r"(\d{4})年0?(\d{1,2})月0?(\d{1,2})日", r"\1年\2月\3日", t)
    return t


def keyword_in(keyword: str, answer: str) -> bool:
    a = norm_answer(answer)
    k = norm_answer(keyword)
    if k in a:
        return True
    # Chinese numerals in the keyword against digits in the answer, and back
    alt = "".join(_CN_NUMS.get(ch, ch) for ch in k)
    return alt != k and alt in a


def quote_faithful(quote: dict, doc_text: str) -> bool:
    return bool(quote.get("text")) and squash(quote["text"]) in squash(doc_text) and \
        doc_text[quote["start"]:quote["end"]] == quote["text"]


def score_answers(items: list[dict], ask, doc_text) -> dict:
    """`ask(question, history) -> Answer`; `doc_text(name) -> clean text`."""
    rows = []
    for item in items:
        ans = ask(item["question"], item.get("history") or [])
        d = ans.to_dict()
        quotes = d["quotes"]
        faithful = [quote_faithful(q, doc_text(q["doc"])) for q in quotes]
        kws = item.get("answer_keywords") or []
        kw_ok = all(keyword_in(k, d["answer"]) for k in kws) if kws else None
        ev = item.get("evidence") or []
        ev_hit = None
        if ev:
            ev_hit = any(q["doc"] in item_docs(item) and passage_hits(q["text"], ev, 0.6) or
                         any(squash(q["text"]) in squash(e) and len(squash(q["text"])) >= 8 for e in ev)
                         for q in quotes)
        docs_quoted = {q["doc"] for q in quotes}
        missing = [k for k in kws if not keyword_in(k, d["answer"])]
        rows.append({"id": item["id"], "type": item.get("type"), "question": item["question"], "kind": d["kind"],
                     "keywords_ok": kw_ok, "missing": missing,
                     "keyword_recall": (1 - len(missing) / len(kws)) if kws else None,
                     "answerability": ans.extras.get("answerability"),
                     "evidence_hit": ev_hit, "faithful": all(faithful), "quotes": quotes,
                     "all_docs_quoted": set(item_docs(item)) <= docs_quoted if item.get("type") == "compare" else None,
                     "answer": d["answer"]})

    def share(rs, key):
        vals = [r[key] for r in rs if r[key] is not None]
        return sum(1 for v in vals if v) / len(vals) if vals else None

    unans = [r for r in rows if r["type"] == "unanswerable"]
    others = [r for r in rows if r["type"] != "unanswerable"]
    n_quotes = sum(len(r["quotes"]) for r in rows)
    summary = {
        "keyword_accuracy(fact,list,followup)": share([r for r in rows if r["type"] in ("fact", "list", "followup")],
                                                      "keywords_ok"),
        "keyword_accuracy(all answerable)": share(others, "keywords_ok"),
        "decline_accuracy": (sum(1 for r in unans if r["kind"] == "not_found") / len(unans)) if unans else None,
        "false_decline_rate": (sum(1 for r in others if r["kind"] == "not_found") / len(others)) if others else None,
        "quote_faithfulness": (sum(len(r["quotes"]) for r in rows if r["faithful"]) / n_quotes) if n_quotes else 1.0,
        "evidence_coverage": share(others, "evidence_hit"),
        "items": len(rows),
    }
    by_type = {}
    for t in sorted({r["type"] for r in rows}):
        rs = [r for r in rows if r["type"] == t]
        recalls = [r["keyword_recall"] for r in rs if r["keyword_recall"] is not None]
        by_type[t] = {"n": len(rs), "keywords": share(rs, "keywords_ok"),
                      "keyword_recall": sum(recalls) / len(recalls) if recalls else None,
                      "evidence": share(rs, "evidence_hit")}
        if t == "compare":
            by_type[t]["all_zones_quoted"] = share(rs, "all_docs_quoted")
    summary["by_type"] = by_type
    summary["decline_curve"] = decline_curve(rows)
    return {"summary": summary, "items": rows}


def decline_curve(rows: list[dict], thresholds=(0.2, 0.25, 0.3, 0.34, 0.39, 0.45, 0.5, 0.6)) -> list[dict]:
    """Declines vs false declines if the answerability threshold were t, over the items whose answer was decided
    by it (a fact composed from a sentence; other declines — unknown zone, masked figure, contradicted year —
    stay as they are)."""
    curve = []
    unans = [r for r in rows if r["type"] == "unanswerable"]
    others = [r for r in rows if r["type"] != "unanswerable"]
    for t in thresholds:
        def declines(r):
            a = r.get("answerability")
            return (a < t) if a is not None else r["kind"] == "not_found"
        curve.append({"threshold": t,
                      "decline_accuracy": sum(map(declines, unans)) / len(unans) if unans else None,
                      "false_decline_rate": sum(map(declines, others)) / len(others) if others else None})
    return curve


def run_eval(bot, path, answers: bool = True) -> dict:
    items = load_items(path)
    out = {"retrieval": score_retrieval(items, lambda q: bot.search(q, k=10), bot.documents())}
    if answers:
        out["answers"] = score_answers(items, bot.ask, bot.store.document_text)
    return out


def format_report(result: dict) -> str:
    lines = []
    r = result["retrieval"]["summary"]
    lines.append(f"Retrieval ({r['items']} items with evidence)")
    lines.append("  " + "  ".join(f"{k} {r[k]:.3f}" for k in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10")))
    for t, v in r["by_type"].items():
        lines.append(f"    {t:<12} n={v['n']:<3} hit@5 {v['hit@5']:.3f}")
    if "answers" in result:
        a = result["answers"]["summary"]
        lines.append(f"Answers ({a['items']} items)")
        for k, v in a.items():
            if k not in ("by_type", "items", "decline_curve"):
                lines.append(f"  {k:<40} {'-' if v is None else f'{v:.3f}'}")
        lines.append("  by kind: keyword accuracy (all keywords) / keyword recall (share of keywords)")
        for t, v in a["by_type"].items():
            extra = "  ".join(f"{k} {'-' if x is None else f'{x:.2f}'}" for k, x in v.items() if k != "n")
            lines.append(f"    {t:<12} n={v['n']:<3} {extra}")
        lines.append("  decline curve (answerability threshold: declines / false declines):")
        for c in a.get("decline_curve", []):
            fmt = lambda x: "-" if x is None else f"{x:.2f}"  # noqa: E731
            lines.append(f"    t={c['threshold']:<5} {fmt(c['decline_accuracy'])} / {fmt(c['false_decline_rate'])}")
        bad = [x for x in result["answers"]["items"] if x["keywords_ok"] is False or
               (x["type"] == "unanswerable") != (x["kind"] == "not_found") or not x["faithful"]]
        if bad:
            lines.append("  misses: " + ", ".join(f"{x['id']}({x['type']})" for x in bad))
    return "\n".join(lines)
