"""Where the cost grows: ingest, query latency, memory and dev retrieval at 5, 50 and 300 documents.

    .venv/bin/python benchmarks/scale.py [--sizes 5,50,300] [--quick] [--profile] [--chroma-url URL]

The corpus is benchmarks/gen_corpus.py's: the five real documents plus generated distractors (same zones
never reused, dev evidence kept unique). Each size runs in its own subprocess (so that its memory is its
own) on a throwaway store that shares the stable embedding cache (~/.cache/zone-assistant-bench, or
ZONE_BENCH_CACHE): the first run of 300 documents embeds ~7k passages (~15-25 min on 2 cores; progress goes
to stderr), later runs only pay for Chroma, chunking and the keyword index. --quick: sizes 5,50 and one
round. --profile: a pyinstrument profile of the warm asks at the largest size. --chroma-url: the store is a
Chroma server (benchmarks/load.py uses this).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (BENCH_CACHE, bench_settings, dev_path, hwm_mb, machine_line, md_table, pct,  # noqa: E402
                   reset_peak, rss_mb)


def cache_rows() -> int:
    import sqlite3

    try:
        db = sqlite3.connect(str(BENCH_CACHE / "embeddings.sqlite"))
        return db.execute("SELECT COUNT(*) FROM vec").fetchone()[0]
    except sqlite3.Error:
        return 0


def corpus_files(corpus: Path, n: int) -> list[Path]:
    files = sorted(p for p in corpus.glob("*.txt"))
    real = [p for p in files if p.name[:3] < "100"]
    gen = [p for p in files if p.name[:3] >= "100"]
    return (real + gen)[:n]


def measure(n: int, corpus: Path, dev: Path, rounds: int, chroma_url: str = "", profile: Path | None = None,
            collection: str = "") -> dict:
    """One size, in this process: ingest, warm search/ask latency, memory, dev retrieval."""
    home = Path(tempfile.mkdtemp(prefix=f"zone-scale-{n}-"))
    try:
        return _measure(home, n, corpus, dev, rounds, chroma_url, profile, collection)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _measure(home: Path, n: int, corpus: Path, dev: Path, rounds: int, chroma_url: str, profile: Path | None,
             collection: str) -> dict:
    from assistant.bot import Assistant
    from assistant.evaluate import load_items, retrieval_query, score_answers, score_retrieval

    overrides = {"chroma_url": chroma_url} if chroma_url else {}
    if collection:
        overrides["collection"] = collection
    files = corpus_files(corpus, n)
    out: dict = {"docs": len(files), "rss_start_mb": round(rss_mb())}
    reset_peak()
    rows_before = cache_rows()
    t0 = time.perf_counter()
    bot = Assistant(bench_settings(home, **overrides))
    state = {"docs": 0, "t": time.monotonic()}

    def progress(msg: str, done: int, total: int) -> None:
        if msg.startswith("读取"):
            state["docs"] += 1
            if time.monotonic() - state["t"] > 20:
                state["t"] = time.monotonic()
                print(f"  [{n} docs] ingesting {state['docs']}/{len(files)}, {time.perf_counter() - t0:.0f} s, "
                      f"{cache_rows() - rows_before} new vectors", file=sys.stderr, flush=True)

    report = bot.store.ingest(files, progress)  # one call: the keyword index is built once, at the end
    out["ingest_s"] = time.perf_counter() - t0
    out["failed"] = [r.reason for r in report.results if r.status == "failed"]
    out["passages"] = sum(r.passages for r in report.results)
    out["embedded"] = cache_rows() - rows_before
    out["ingest_peak_mb"] = round(hwm_mb())
    t0 = time.perf_counter()
    bot.store.keyword_index()
    out["open_index_s"] = time.perf_counter() - t0
    items = load_items(dev)
    queries = [retrieval_query(it, bot.documents()) for it in items]
    for q in queries[:5]:  # warm-up: model, jieba, keyword index, composer
        bot.search(q, k=10)
        bot.ask(q)
    reset_peak()
    base = rss_mb()
    search_ms, ask_ms, search_cpu, ask_cpu = [], [], [], []
    for _ in range(rounds):
        for q in queries:
            t, c = time.perf_counter(), time.process_time()
            bot.search(q, k=10)
            search_ms.append((time.perf_counter() - t) * 1000)
            search_cpu.append((time.process_time() - c) * 1000)
    for _ in range(rounds):
        for it in items:
            t, c = time.perf_counter(), time.process_time()
            bot.ask(it["question"], it.get("history") or [])
            ask_ms.append((time.perf_counter() - t) * 1000)
            ask_cpu.append((time.process_time() - c) * 1000)
    # The asks above follow a search of the same question, so their query vector comes from the store's
    # query-embedding cache. A question nobody asked before pays for the embedding: measured with it cleared.
    new_ms = []
    for it in items:
        bot.store._qvecs.clear()
        t = time.perf_counter()
        bot.ask(it["question"], it.get("history") or [])
        new_ms.append((time.perf_counter() - t) * 1000)
    out["ask_new_p50"], out["ask_new_p95"] = pct(new_ms, 50), pct(new_ms, 95)
    if profile:  # a separate, untimed pass: the profiler slows Python code down
        try:
            from pyinstrument import Profiler
        except ImportError:
            raise SystemExit("--profile needs pyinstrument: .venv/bin/pip install pyinstrument")

        prof = Profiler(interval=0.0005)
        prof.start()
        for it in items:
            bot.ask(it["question"], it.get("history") or [])
        prof.stop()
        profile.write_text(prof.output_text(unicode=True, color=False, show_all=False), "utf-8")
    out.update({"search_p50": pct(search_ms, 50), "search_p95": pct(search_ms, 95),
                "ask_p50": pct(ask_ms, 50), "ask_p95": pct(ask_ms, 95), "ask_max": max(ask_ms),
                "search_cpu_p50": pct(search_cpu, 50), "ask_cpu_p50": pct(ask_cpu, 50), "ask_cpu_p95": pct(ask_cpu, 95),
                "query_rss_mb": round(rss_mb()), "query_peak_delta_mb": round(hwm_mb() - base)})
    slow = sorted(zip(ask_ms[:len(items)], [it["id"] for it in items]), reverse=True)[:5]
    out["slowest_asks"] = [f"{i} {ms:.0f} ms" for ms, i in slow]
    ret = score_retrieval(items, lambda q: bot.search(q, k=10), bot.documents())
    out["retrieval"] = {k: ret["summary"][k] for k in ("hit@1", "hit@3", "hit@5", "hit@10", "mrr@10", "items")}
    out["retrieval_misses"] = [f"{r['id']}:{r['rank']}" for r in ret["items"] if not r["rank"] or r["rank"] > 5]
    ans = score_answers(items, bot.ask, bot.store.document_text)["summary"]
    out["answers"] = {k: v for k, v in ans.items() if k != "by_type"}
    import resource

    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def ensure_corpus(n: int, dev: Path) -> Path:
    """The generated corpus of n documents in the bench cache (regenerated when missing)."""
    from gen_corpus import generate

    corpus = BENCH_CACHE / f"corpus-{n}"
    if len(list(corpus.glob("*.txt"))) != n or not (corpus / "manifest.json").exists():
        generate(corpus, n, dev=dev)
    return corpus


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="5,50,300")
    ap.add_argument("--rounds", type=int, default=2, help="passes over the dev questions per size")
    ap.add_argument("--quick", action="store_true", help="sizes 5,50, one round")
    ap.add_argument("--profile", action="store_true", help="pyinstrument profile of the asks at the largest size")
    ap.add_argument("--dev")
    ap.add_argument("--chroma-url", default="", help="use a Chroma server (http://127.0.0.1:PORT)")
    ap.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: one size, JSON on stdout
    ap.add_argument("--corpus", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--profile-out", type=Path, help=argparse.SUPPRESS)
    ap.add_argument("--json", help="write the results to this file")
    args = ap.parse_args(argv)
    dev = dev_path(args.dev)
    if args.one:
        res = measure(args.one, args.corpus, dev, args.rounds, args.chroma_url, args.profile_out,
                      collection=f"scale_{args.one}_{os.getpid()}" if args.chroma_url else "")
        print(json.dumps(res, ensure_ascii=False))
        return 0

    sizes = [5, 50] if args.quick else [int(s) for s in args.sizes.split(",")]
    rounds = 1 if args.quick else args.rounds
    corpus = ensure_corpus(max(sizes), dev)
    results = {}
    for n in sizes:
        cmd = [sys.executable, __file__, "--one", str(n), "--corpus", str(corpus), "--rounds", str(rounds),
               "--dev", str(dev)]
        if args.chroma_url:
            cmd += ["--chroma-url", args.chroma_url]
        if args.profile and n == max(sizes):
            cmd += ["--profile-out", str(Path(tempfile.gettempdir()) / f"zone-scale-profile-{n}.txt")]
        print(f"size {n}: running …", file=sys.stderr, flush=True)
        res = subprocess.run(cmd, stdout=subprocess.PIPE, text=True)
        if res.returncode != 0:
            print(f"size {n} failed (exit {res.returncode})", file=sys.stderr)
            return 1
        results[n] = json.loads(res.stdout.strip().splitlines()[-1])
        print(f"size {n}: {json.dumps(results[n], ensure_ascii=False)}", file=sys.stderr, flush=True)

    where = f"Chroma server {args.chroma_url}" if args.chroma_url else "local Chroma (PersistentClient)"
    print(f"Scale: dev set {dev.name}, {rounds} round(s) of its questions per size, {where}. "
          f"Machine: {machine_line()}; load average {os.getloadavg()[0]:.1f} at the end; "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}\n")
    rows = []
    for n, r in results.items():
        rows.append([r["docs"], r["passages"], f"{r['ingest_s']:.1f} s ({r['embedded']} embedded)",
                     f"{r['search_p50']:.0f} / {r['search_p95']:.0f} ms",
                     f"{r['ask_p50']:.0f} / {r['ask_p95']:.0f} ms",
                     f"{r.get('ask_new_p50', float('nan')):.0f} / {r.get('ask_new_p95', float('nan')):.0f} ms",
                     f"{r['search_cpu_p50']:.0f} ms / {r['ask_cpu_p50']:.0f} / {r['ask_cpu_p95']:.0f} ms",
                     f"{r['ingest_peak_mb']} / {r['query_rss_mb']} MB",
                     f"{r['retrieval']['hit@5']:.3f}", f"{r['retrieval']['mrr@10']:.3f}",
                     f"{r['answers']['keyword_accuracy(all answerable)']:.2f} / "
                     f"{r['answers']['decline_accuracy']:.2f}"])
    print(md_table(["docs", "passages", "ingest (new vectors)", "search p50 / p95", "ask p50 / p95",
                    "ask p50 / p95, new question (no cached query vector)", "CPU: search p50 / ask p50 / p95",
                    "RSS ingest peak / after queries", "dev hit@5", "MRR@10", "answer kw acc / decline acc"],
                   rows))
    for n, r in results.items():
        if r["retrieval_misses"]:
            print(f"\n{n} docs: retrieval misses at 5 (id:rank): {', '.join(r['retrieval_misses'])}")
        print(f"{n} docs: slowest asks: {', '.join(r['slowest_asks'])}")
    if args.profile:
        print(f"\nprofile of the asks at {max(sizes)} documents: "
              f"{Path(tempfile.gettempdir()) / f'zone-scale-profile-{max(sizes)}.txt'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
