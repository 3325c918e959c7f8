#!/usr/bin/env python3
"""Check questions.jsonl and expected.json against the documents in docs/ (all beside this file).

Run from the repository root with the project's venv:

    .venv/bin/python tests/data/unseen/verify.py [-v]

Each document is read twice, through the project's own code:
  * raw     = assistant.readers.read_raw(path)           decoded text (HTML/DOCX/PDF markup gone, chrome kept)
  * cleaned = assistant.loading.load_document(path).text  what the assistant quotes from (chrome removed)

Checks:
  1. schema: ids own-001.. consecutive, the six types, known docs, compare items list 2+ docs,
     followups have history, unanswerable items have empty evidence and keywords
  2. every evidence string is 10-120 characters, holds no line break and is verbatim in the raw or the cleaned
     text of one of its docs; compare items have evidence from every listed doc.
     Missing from the RAW text is an error of this data set (exit 1). Missing from the CLEANED text only is
     reported for the loader's authors: it shows what chrome removal or line joining breaks. Items marked
     "meta": true quote a metadata line (发布时间/来源) that the cleaner is allowed to remove.
     Traditional-character evidence is checked as it is in the file, with no conversion.
  3. every answer keyword (whitespace ignored) occurs in the item's evidence or in one of its docs
  4. no question copies 12 or more consecutive characters of its document(s)
  5. expected.json has one entry per document with zone / year / kind / title; the loader's own metadata is
     compared with it and differences are listed (information only)
  6. counts per type and per document; CJK size of each document
"""
from __future__ import annotations

import json
import re
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
DOCS = HERE / "docs"
QFILE = HERE / "questions.jsonl"
EXPECTED = HERE / "expected.json"
ROOT = HERE.parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TYPES = ("fact", "list", "summary", "followup", "compare", "unanswerable")
KINDS = {"讲话", "工作报告", "工作要点", "工作规划", "新闻报道", "经济运行", "发言提纲", "工作总结"}
COPY_LIMIT = 12


def nows(s: str) -> str:
    return re.sub(r"\s+", "", s)


def cjk(s: str) -> int:
    return len(re.findall(r"[\u4e00-\u9fff]", s))


def main(argv: list[str]) -> int:
    verbose = "-v" in argv
    from assistant.errors import LoadError
    from assistant.loading import load_document
    from assistant.readers import read_raw

    errors: list[str] = []  # problems of this data set
    cleaned_misses: list[str] = []  # evidence the cleaned text lost (loader findings)
    meta_misses: list[str] = []

    names = sorted(p.name for p in DOCS.iterdir() if p.is_file())
    raw, clean, meta = {}, {}, {}
    for n in names:
        try:
            raw[n] = read_raw(DOCS / n)
        except LoadError as exc:
            errors.append(f"{n}: read_raw failed: {exc}")
            continue
        try:
            doc = load_document(DOCS / n)
            clean[n], meta[n] = doc.text, doc.meta
        except LoadError as exc:
            cleaned_misses.append(f"{n}: load_document failed: {exc}")
            clean[n], meta[n] = "", {}

    print("documents (CJK characters raw / cleaned):")
    for n in names:
        if n in raw:
            print(f"  {cjk(raw[n]):5d} / {cjk(clean[n]):5d}  {n}")

    items = [json.loads(line) for line in QFILE.read_text(encoding="utf-8").splitlines() if line.strip()]
    counts: Counter = Counter()
    per_doc: Counter = Counter()
    for i, q in enumerate(items, 1):
        qid = q.get("id") or f"line {i}"
        if q.get("id") != f"own-{i:03d}":
            errors.append(f"{qid}: id should be own-{i:03d}")
        missing = [k for k in ("id", "type", "question", "doc", "evidence", "answer_keywords", "history") if k not in q]
        if missing:
            errors.append(f"{qid}: missing {missing}")
            continue
        t = q["type"]
        counts[t] += 1
        if t not in TYPES:
            errors.append(f"{qid}: bad type {t}")
        docs = q["doc"] if isinstance(q["doc"], list) else [q["doc"]]
        for d in docs:
            per_doc[d] += 1
            if d not in raw:
                errors.append(f"{qid}: unknown doc {d}")
        docs = [d for d in docs if d in raw]
        if t == "compare" and not (isinstance(q["doc"], list) and len(q["doc"]) >= 2):
            errors.append(f"{qid}: compare needs a list of 2+ docs")
        if t == "followup" and not q["history"]:
            errors.append(f"{qid}: followup without history")
        if t not in ("followup", "unanswerable") and q["history"]:
            errors.append(f"{qid}: history on a {t} item")
        for turn in q["history"]:
            if set(turn) != {"role", "content"} or turn["role"] not in ("user", "assistant"):
                errors.append(f"{qid}: bad history turn {turn}")
        if t == "unanswerable":
            if q["evidence"] or q["answer_keywords"]:
                errors.append(f"{qid}: unanswerable items have empty evidence and keywords")
        elif not q["evidence"] or not q["answer_keywords"]:
            errors.append(f"{qid}: evidence or keywords empty")

        hit_docs = set()
        for ev in q["evidence"]:
            if not 10 <= len(ev) <= 120:
                errors.append(f"{qid}: evidence length {len(ev)}: {ev}")
            if "\n" in ev:
                errors.append(f"{qid}: evidence crosses a line break: {ev}")
            in_raw = [d for d in docs if ev in raw[d]]
            in_clean = [d for d in docs if ev in clean[d]]
            if not in_raw and not in_clean:
                errors.append(f"{qid}: evidence in neither raw nor cleaned text of {docs}: {ev!r}")
            elif not in_raw:
                errors.append(f"{qid}: evidence only in the cleaned text (not verbatim in the file): {ev!r}")
            elif not in_clean:
                line = f"{qid} [{in_raw[0]}]: {ev!r}"
                (meta_misses if q.get("meta") else cleaned_misses).append(line)
            hit_docs.update(in_raw + in_clean)
        if t == "compare":
            for d in docs:
                if d not in hit_docs:
                    errors.append(f"{qid}: no evidence from {d}")

        evidence = nows("".join(q["evidence"]))
        for kw in q["answer_keywords"]:
            k = nows(kw)
            if k not in evidence and not any(k in nows(raw[d]) for d in docs):
                errors.append(f"{qid}: keyword not in evidence or doc: {kw}")

        question = nows(q["question"])
        for d in docs:
            body = nows(raw[d])
            for s in range(len(question) - COPY_LIMIT + 1):
                if question[s:s + COPY_LIMIT] in body:
                    errors.append(f"{qid}: question copies '{question[s:s + COPY_LIMIT]}' from {d}")
                    break

    # expected.json
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    mismatches = []
    for n in names:
        e = expected.get(n)
        if e is None:
            errors.append(f"expected.json: no entry for {n}")
            continue
        if set(e) != {"zone", "year", "kind", "title"}:
            errors.append(f"expected.json: {n}: keys should be zone/year/kind/title, got {sorted(e)}")
        if e.get("kind") not in KINDS:
            errors.append(f"expected.json: {n}: kind {e.get('kind')!r} not one of {sorted(KINDS)}")
        if not (e.get("year") is None or isinstance(e.get("year"), int)):
            errors.append(f"expected.json: {n}: year must be an int or null")
        if e.get("title") and nows(e["title"]) not in nows(raw[n]):
            errors.append(f"expected.json: {n}: title not found in the document: {e['title']}")
        got = meta.get(n, {})
        for key in ("zone", "year", "kind", "title"):
            if got.get(key, "" if key != "year" else None) != e.get(key):
                mismatches.append(f"{n}: {key}: expected {e.get(key)!r}, loader {got.get(key)!r}")
    for n in expected:
        if n not in names:
            errors.append(f"expected.json: entry for a missing document {n}")

    print(f"\nquestions: {len(items)}  " + " · ".join(f"{k} {counts[k]}" for k in TYPES))
    for d in names:
        print(f"  {per_doc.get(d, 0):3d}  {d}")

    print(f"\nevidence missing from the CLEANED text (loader findings): {len(cleaned_misses)}")
    for line in cleaned_misses:
        print("  -", line)
    print(f"metadata-line evidence (\"meta\": true) removed by the cleaner, as allowed: {len(meta_misses)}")
    for line in meta_misses:
        print("  -", line)
    print(f"\nloader metadata differing from expected.json (information): {len(mismatches)}")
    for line in mismatches if verbose else mismatches[:40]:
        print("  -", line)

    if errors:
        print(f"\nFAIL: {len(errors)} problem(s) in the data set")
        for e in errors:
            print("  -", e)
        return 1
    print("\nOK: every evidence string is verbatim in its document's raw text, every keyword is in its evidence or"
          f" document, and no question copies {COPY_LIMIT}+ consecutive characters of its document(s)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
