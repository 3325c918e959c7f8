"""Retrieval and answer quality of this project against three reproduced peer set-ups, on any documents and
any eval files, in one run.

    .venv/bin/python benchmarks/quality.py [--corpus DIR ...] [--bundled] [--eval FILE ...] [--quick] [--json OUT]

--corpus DIR (repeatable): every supported file under DIR (assistant.readers.SUPPORTED_SUFFIXES, walked as
`assistant ingest DIR` walks it; a manifest.json beside files overrides their metadata). --bundled adds the
five bundled documents (with their manifest); several folders plus --bundled make one library: all documents
go into one throwaway store and one index per peer. Without --corpus the corpus is the bundled one.
--eval FILE (repeatable; --dev is an alias): JSONL eval files, default the shared dev set. Items name their
documents by file name; an item naming a document that is not in the corpus is counted and skipped.

The project ingests the files exactly as a user would (Store.ingest of those paths) and is scored as
`assistant eval` scores it (assistant.evaluate.run_eval). All four set-ups run on the same clean texts
(assistant.loading) with the same e5-small model; see benchmarks/peers.py for how each peer is reproduced.
Each eval file is scored on its own, and all items together when there are several. Vectors come from the
bench cache (~/.cache/zone-assistant-bench, or ZONE_BENCH_CACHE), so the first run over new documents
embeds them and later runs are cheap. --quick skips the answer metrics.

Exit code: without --corpus, 0 when the project is ahead of all three peers on hit@5 and MRR@10 on every
eval file, else 1; with --corpus always 0 (the verdict lines say how it went).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (PEERS, Vectors, bench_settings, clean_docs, corpus_files, dev_path,  # noqa: E402
                   dump_json, machine_line, md_table, peer_sizes)

KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10")
EPS = 1e-9


class _MemoBot:
    """The Assistant with search and ask remembered, so that scoring the same items again (all files
    together) costs nothing and gives the same hits."""

    def __init__(self, bot) -> None:
        self._bot = bot
        self._searches: dict = {}
        self._answers: dict = {}

    def search(self, query: str, k: int | None = None, **filters):
        key = (query, k, tuple(sorted(filters.items())))
        if key not in self._searches:
            self._searches[key] = self._bot.search(query, k=k, **filters)
        return self._searches[key]

    def ask(self, question: str, history: list[dict] | None = None, **filters):
        key = (question, json.dumps(history or [], ensure_ascii=False, sort_keys=True),
               tuple(sorted(filters.items())))
        if key not in self._answers:
            self._answers[key] = self._bot.ask(question, history, **filters)
        return self._answers[key]

    def __getattr__(self, name):
        return getattr(self._bot, name)


def _memo(search):
    seen: dict = {}

    def run(query):
        if query not in seen:
            seen[query] = search(query)
        return seen[query]

    return run


def prepare_eval(path: Path, names: set[str], out: Path, label: str) -> dict:
    """The items of one eval file whose documents are all in the corpus (doc names as the Store names them),
    written to `out` for run_eval; the others are counted as skipped."""
    from assistant.evaluate import item_docs, load_items
    from assistant.loading import safe_name

    items = load_items(path)
    kept, skipped = [], []
    for it in items:
        docs = [safe_name(d) for d in item_docs(it)]
        missing = [d for d in docs if d not in names]
        if missing:
            skipped.append({"id": it.get("id"), "missing": missing})
            continue
        it = dict(it)
        if docs:
            it["doc"] = docs if isinstance(it.get("doc"), list) else docs[0]
        kept.append(it)
    out.write_text("".join(json.dumps(it, ensure_ascii=False) + "\n" for it in kept), "utf-8")
    return {"label": label, "path": str(path), "file": out, "n_items": len(items), "items": kept,
            "skipped": skipped, "setups": {}}


def _labels(paths: list[Path]) -> list[str]:
    """File names, with the parent folder where two files share a name."""
    for depth in range(1, 6):  # as many trailing path parts as it takes to tell the files apart
        labels = ["/".join(p.resolve().parts[-depth:]) for p in paths]
        if len(set(labels)) == len(labels):
            return labels
    return [str(p) for p in paths]


def verdict(setups: dict) -> dict:
    """The project against the best peer on hit@5 and MRR@10 (each metric's best peer)."""
    proj = setups["project"]["retrieval"]["summary"]
    out: dict = {"items": proj["items"]}
    if not proj["items"]:
        out.update(at_or_above=None, ahead_of_all=None)
        return out
    for key in ("hit@5", "mrr@10"):
        best = max((c.name for c in PEERS), key=lambda n: setups[n]["retrieval"]["summary"][key])
        out[key] = {"project": proj[key], "best_peer": best,
                    "best_peer_value": setups[best]["retrieval"]["summary"][key]}
    out["at_or_above"] = all(proj[k] >= out[k]["best_peer_value"] - EPS for k in ("hit@5", "mrr@10"))
    out["ahead_of_all"] = all(proj[k] > setups[c.name]["retrieval"]["summary"][k] + EPS
                              for c in PEERS for k in ("hit@5", "mrr@10"))
    return out


def verdict_line(label: str, v: dict) -> str:
    if not v["items"]:
        return f"verdict {label}: n/a (no item with evidence has its documents in the corpus)"
    parts = [f"{k} {v[k]['project']:.3f} vs best peer {v[k]['best_peer_value']:.3f} ({v[k]['best_peer']})"
             for k in ("hit@5", "mrr@10")]
    return (f"verdict {label}: project at or above the best peer on hit@5 and MRR@10: "
            f"{'YES' if v['at_or_above'] else 'NO'} ({'; '.join(parts)}; ahead of all three: "
            f"{'YES' if v['ahead_of_all'] else 'NO'})")


def retrieval_rows(setups: dict, project_label: str, n_pass: int, max_chars: int) -> list[list]:
    s = setups["project"]["retrieval"]["summary"]
    rows = [[project_label, f"{n_pass} / {max_chars}"] + [f"{s[k]:.3f}" for k in KEYS]]
    for cls in PEERS:
        r = setups[cls.name]["retrieval"]
        sizes = r["sizes"]
        rows.append([cls.label, f"{sizes['chunks']} / {sizes['max_chars']}"] +
                    [f"{r['summary'][k]:.3f}" for k in KEYS])
    return rows


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--corpus", action="append", metavar="DIR", default=[],
                    help="a folder of documents (repeatable); default: the bundled corpus")
    ap.add_argument("--bundled", action="store_true", help="add the five bundled documents to the --corpus folders")
    ap.add_argument("--eval", "--dev", dest="eval", action="append", metavar="FILE", default=[],
                    help="JSONL eval file (repeatable; default: the shared dev set)")
    ap.add_argument("--json", help="write all results (per item) to this file")
    ap.add_argument("--quick", action="store_true", help="retrieval only (no answer metrics)")
    args = ap.parse_args(argv)

    from assistant.bot import Assistant
    from assistant.chunking import MAX_CHARS
    from assistant.evaluate import run_eval, score_answers, score_retrieval

    t_start = time.perf_counter()
    custom = bool(args.corpus)
    paths = corpus_files(args.corpus, bundled=args.bundled or not custom)
    if not paths:
        raise SystemExit(f"no supported documents in {', '.join(args.corpus)}")
    eval_paths = [dev_path(p) for p in args.eval] if args.eval else [dev_path()]
    for p in eval_paths:
        if not p.is_file():
            raise SystemExit(f"eval file not found: {p}")
    labels = _labels(eval_paths)

    project_label = f"**this project** (heading-aware ≤{MAX_CHARS}, hybrid jieba-BM25 + e5, zone-aware)"
    results: dict = {"machine": machine_line(), "corpus": {}, "evals": {}, "combined": {"setups": {}}, "timing": {}}
    timing = results["timing"]
    tmp = Path(tempfile.mkdtemp(prefix="zone-quality-"))
    try:
        t0 = time.perf_counter()
        bot = Assistant(bench_settings(tmp / "home"))
        report = bot.store.ingest_bundled() if not custom else bot.ingest(paths)
        assert len(report.results) == len(paths), (len(report.results), len(paths))
        failed = [r for r in report.results if r.status == "failed"]
        ok_paths = [p for p, r in zip(paths, report.results) if r.status != "failed"]
        names = {r.name for r in report.results if r.status != "failed"}
        if not names:
            raise SystemExit("no document could be ingested: " + "; ".join(f"{r.name}: {r.reason}" for r in failed))
        n_pass = sum(r.passages for r in report.results)
        timing["ingest_s"] = time.perf_counter() - t0
        results["corpus"] = {"folders": [str(d) for d in args.corpus], "bundled": args.bundled or not custom,
                             "documents": sorted(names), "passages": n_pass,
                             "failed": [{"name": r.name, "reason": r.reason} for r in failed]}
        print(f"project: ingested {len(names)} documents ({n_pass} passages) in {timing['ingest_s']:.1f} s",
              file=sys.stderr)

        evals = [prepare_eval(p, names, tmp / f"eval-{i}.jsonl", lab)
                 for i, (p, lab) in enumerate(zip(eval_paths, labels))]
        all_items = [it for ev in evals for it in ev["items"]]
        several = len(evals) > 1
        combined = results["combined"]["setups"]

        t0 = time.perf_counter()
        memo_bot = _MemoBot(bot)
        for ev in evals:
            ev["setups"]["project"] = run_eval(memo_bot, ev["file"], answers=not args.quick)
        docs_meta = bot.documents()
        combined["project"] = {"retrieval": score_retrieval(all_items, lambda q: memo_bot.search(q, k=10), docs_meta)}
        if not args.quick and several:
            combined["project"]["answers"] = score_answers(all_items, memo_bot.ask, bot.store.document_text)
        timing["project_eval_s"] = time.perf_counter() - t0
        print(f"project: eval {timing['project_eval_s']:.1f} s", file=sys.stderr)

        t0 = time.perf_counter()
        docs = clean_docs(ok_paths, max_mb=bot.settings.max_file_mb, max_chars=bot.settings.max_doc_chars)
        vectors = Vectors()
        for cls in PEERS:
            t1 = time.perf_counter()
            peer = cls(docs, vectors)
            t_build = time.perf_counter() - t1
            sizes = peer_sizes(peer)
            search = _memo(lambda q, peer=peer: peer.search(q, 10))
            for ev in evals + [{"setups": combined, "items": all_items}]:
                res = score_retrieval(ev["items"], search, docs_meta)
                res["sizes"] = sizes
                ev["setups"][cls.name] = {"retrieval": res, "label": cls.label}
            print(f"{cls.name}: built in {t_build:.1f} s ({sizes}), {vectors.computed} vectors computed so far",
                  file=sys.stderr)
        timing["peers_s"] = time.perf_counter() - t0
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------------------------------ report
    where = ", ".join(args.corpus) if custom else "the bundled corpus"
    if custom and args.bundled:
        where += " + the bundled corpus"
    print(f"Corpus: {len(names)} documents, {n_pass} passages of this project ({where}); all four set-ups on "
          f"the same clean texts with the same e5-small model, one run.")
    if failed:
        print("not ingested: " + "; ".join(f"{r.name} ({r.reason})" for r in failed))
    print(f"Machine: {results['machine']}")

    for ev in evals:
        setups = ev["setups"]
        proj = setups["project"]["retrieval"]["summary"]
        skipped = ev["skipped"]
        print(f"\n### {ev['label']}: {ev['n_items']} items, {len(ev['items'])} with their documents in the corpus, "
              f"{proj['items']} with evidence scored; {len(skipped)} skipped (document not in the corpus)\n")
        if skipped:
            miss = Counter(d for s in skipped for d in s["missing"])
            print("skipped items name: " + ", ".join(f"{d} ×{n}" for d, n in miss.most_common(8)) +
                  (" …" if len(miss) > 8 else "") + "\n")
        ev["verdict"] = verdict(setups)
        if not proj["items"]:
            print(verdict_line(ev["label"], ev["verdict"]))
            continue
        print(md_table(["set-up", "chunks / max chars", *KEYS],
                       retrieval_rows(setups, project_label, n_pass, MAX_CHARS)))
        types = list(proj["by_type"])
        trows = []
        for name in ["project"] + [c.name for c in PEERS]:
            bt = setups[name]["retrieval"]["summary"]["by_type"]
            trows.append([name] + [f"{bt[t]['hit@5']:.2f}" if t in bt else "-" for t in types])
        print("\nhit@5 by question type:\n")
        print(md_table(["set-up"] + [f"{t} (n={proj['by_type'][t]['n']})" for t in types], trows))
        misses = [r for r in setups["project"]["retrieval"]["items"] if not r["rank"] or r["rank"] > 5]
        if misses:
            print("\nretrieval misses of this project at 5: " +
                  ", ".join(f"{r['id']}(rank {r['rank']})" for r in misses))

    results["combined"]["verdict"] = verdict(combined)
    if several:
        s = combined["project"]["retrieval"]["summary"]
        print(f"\n### all {len(evals)} eval files together: {s['items']} items with evidence scored\n")
        if s["items"]:
            print(md_table(["set-up", "chunks / max chars", *KEYS],
                           retrieval_rows(combined, project_label, n_pass, MAX_CHARS)))

    if not args.quick:
        cols = [(ev["label"], ev["setups"]["project"]) for ev in evals]
        if several:
            cols.append(("all", combined["project"]))
        sums = [c[1]["answers"]["summary"] for c in cols]
        print("\nAnswers of this project (extractive composer; the peers have no composer):\n")
        metrics = [k for k in sums[0] if k not in ("by_type", "items", "decline_curve")]
        arows = [["items"] + [str(a["items"]) for a in sums]]
        arows += [[k] + ["-" if a[k] is None else f"{a[k]:.3f}" for a in sums] for k in metrics]
        print(md_table(["metric"] + [c[0] for c in cols], arows))
        for ev in evals:
            bad = [x for x in ev["setups"]["project"]["answers"]["items"] if x["keywords_ok"] is False or
                   (x["type"] == "unanswerable") != (x["kind"] == "not_found") or not x["faithful"]]
            if bad:
                print(f"\nanswer misses ({ev['label']}): " +
                      ", ".join(f"{x['id']}({x['type']}: missing {x['missing']})" for x in bad))

    print()
    for ev in evals:
        print(verdict_line(ev["label"], ev["verdict"]))
    if several:
        print(verdict_line("all files", results["combined"]["verdict"]))
    timing["total_s"] = time.perf_counter() - t_start
    print(f"time: ingest {timing['ingest_s']:.1f} s, project eval {timing['project_eval_s']:.1f} s, "
          f"peers {timing['peers_s']:.1f} s, total {timing['total_s']:.1f} s")

    if args.json:
        results["evals"] = {ev["label"]: {"kept": len(ev["items"]),
                                          **{k: v for k, v in ev.items() if k not in ("file", "items", "label")}}
                            for ev in evals}
        dump_json(Path(args.json), results)
    if custom:
        return 0
    return 0 if all(ev["verdict"]["ahead_of_all"] for ev in evals) else 1


if __name__ == "__main__":
    sys.exit(main())
