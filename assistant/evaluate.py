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


def retrieval_query(item: dict) -> str:
    """Follow-up items are resolved from their history like the assistant would."""
    if item.get("history"):
        try:
            from .conversation import resolve_followup

            return resolve_followup(item["question"], item["history"]).query
        except ImportError:
            prev = [h["content"] for h in item["history"] if h.get("role") == "user"]
            return " ".join(prev[-1:] + [item["question"]])
    return item["question"]


def score_retrieval(items: list[dict], search) -> dict:
    """`search(query) -> list[Hit]` ranked best first (at least 10)."""
    rows = []
    for item in items:
        if not item.get("evidence"):
            continue
        docs = set(item_docs(item))
        hits = search(retrieval_query(item))
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
