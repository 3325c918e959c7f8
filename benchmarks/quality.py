"""Retrieval and answer quality of this project against three reproduced peer set-ups, in one run.

    .venv/bin/python benchmarks/quality.py [--dev PATH] [--json OUT] [--quick]

All four set-ups run on the same clean texts (assistant.loading) with the same e5-small model; see
benchmarks/peers.py for how each peer is reproduced. The project is measured exactly as `assistant eval`
does (assistant.evaluate.run_eval) on a throwaway store; vectors come from the bench cache
(~/.cache/zone-assistant-bench, or ZONE_BENCH_CACHE), so the first run embeds (~1-2 min) and later runs
are cheap. --quick skips the answer metrics.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (PEERS, Vectors, bench_settings, clean_docs, dev_path, dump_json, machine_line,  # noqa: E402
                   md_table, peer_sizes)

KEYS = ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dev", help="JSONL eval file (default: the shared dev set)")
    ap.add_argument("--json", help="write all results (per item) to this file")
    ap.add_argument("--quick", action="store_true", help="retrieval only (no answer metrics)")
    args = ap.parse_args(argv)

    from assistant.bot import Assistant
    from assistant.evaluate import load_items, run_eval, score_retrieval

    dev = dev_path(args.dev)
    items = load_items(dev)
    tmp = Path(tempfile.mkdtemp(prefix="zone-quality-"))
    results: dict = {"dev": str(dev), "machine": machine_line(), "setups": {}}
    rows = []
    try:
        t0 = time.perf_counter()
        bot = Assistant(bench_settings(tmp / "home"))
        report = bot.store.ingest_bundled()
        assert report.ok, [r.reason for r in report.results if r.status == "failed"]
        n_pass = sum(r.passages for r in report.results)
        t_ingest = time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = run_eval(bot, dev, answers=not args.quick)
        t_eval = time.perf_counter() - t0
        s = ours["retrieval"]["summary"]
        results["setups"]["project"] = ours
        rows.append(["**this project** (heading-aware ≤400, hybrid jieba-BM25 + e5, zone-aware)",
                     f"{n_pass} / 400"] + [f"{s[k]:.3f}" for k in KEYS])
        print(f"project: ingest {t_ingest:.1f} s, eval {t_eval:.1f} s", file=sys.stderr)

        docs = clean_docs()
        vectors = Vectors()
        for cls in PEERS:
            t0 = time.perf_counter()
            peer = cls(docs, vectors)
            t_build = time.perf_counter() - t0
            res = score_retrieval(items, lambda q: peer.search(q, 10))
            sizes = peer_sizes(peer)
            res["sizes"] = sizes
            results["setups"][cls.name] = {"retrieval": res, "label": cls.label}
            s = res["summary"]
            rows.append([cls.label, f"{sizes['chunks']} / {sizes['max_chars']}"] + [f"{s[k]:.3f}" for k in KEYS])
            print(f"{cls.name}: built in {t_build:.1f} s ({sizes}), {vectors.computed} vectors computed so far",
                  file=sys.stderr)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    n_items = results["setups"]["project"]["retrieval"]["summary"]["items"]
    print(f"Retrieval on {dev.name} ({n_items} items with evidence), same clean texts, same e5-small model, "
          f"one run. Machine: {results['machine']}\n")
    print(md_table(["set-up", "chunks / max chars", *KEYS], rows))
    proj = results["setups"]["project"]["retrieval"]["summary"]
    ahead = all(proj["hit@5"] > results["setups"][c.name]["retrieval"]["summary"]["hit@5"] and
                proj["mrr@10"] > results["setups"][c.name]["retrieval"]["summary"]["mrr@10"] for c in PEERS)
    print(f"\nproject ahead of all three peers on hit@5 and MRR@10: {'YES' if ahead else 'NO'}")

    print("\nhit@5 by question type:\n")
    types = list(proj["by_type"])
    trows = []
    for name in ["project"] + [c.name for c in PEERS]:
        bt = results["setups"][name]["retrieval"]["summary"]["by_type"]
        trows.append([name] + [f"{bt[t]['hit@5']:.2f}" if t in bt else "-" for t in types])
    print(md_table(["set-up"] + [f"{t} (n={proj['by_type'][t]['n']})" for t in types], trows))

    if "answers" in results["setups"]["project"]:
        a = results["setups"]["project"]["answers"]["summary"]
        print(f"\nAnswers of this project (extractive composer, {a['items']} items; the peers have no composer):\n")
        arows = [[k, "-" if v is None else f"{v:.3f}"] for k, v in a.items() if k not in ("by_type", "items")]
        print(md_table(["metric", "value"], arows))
        bad = [x for x in results["setups"]["project"]["answers"]["items"] if x["keywords_ok"] is False or
               (x["type"] == "unanswerable") != (x["kind"] == "not_found") or not x["faithful"]]
        if bad:
            print("\nanswer misses: " + ", ".join(f"{x['id']}({x['type']}: missing {x['missing']})" for x in bad))
    misses = [r for r in results["setups"]["project"]["retrieval"]["items"] if not r["rank"] or r["rank"] > 5]
    if misses:
        print("retrieval misses of this project at 5: " + ", ".join(f"{r['id']}(rank {r['rank']})" for r in misses))
    if args.json:
        dump_json(Path(args.json), results)
    return 0 if ahead else 1


if __name__ == "__main__":
    sys.exit(main())
