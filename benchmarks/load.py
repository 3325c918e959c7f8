"""Server mode at load: the scale benchmark against a real `chroma run` server, then 16 concurrent clients.

    .venv/bin/python benchmarks/load.py [--docs 300] [--clients 16] [--seconds 60] [--per-client] [--quick]

Starts `chroma run --host 127.0.0.1 --port <free port>` on a temporary directory (stopped at the end, whatever
happens), ingests the scale corpus (benchmarks/gen_corpus.py; vectors from the bench cache) into it through
ASSISTANT_CHROMA_URL, measures what benchmarks/scale.py measures (ingest, warm search/ask p50/p95, memory,
dev retrieval), then runs the load test: --clients threads, each asking the dev questions in turn for
--seconds, with one shared Assistant (thread-safe by design) or, with --per-client, one Assistant each.
Reports throughput, p50/p95/max latency and errors. All traffic goes to 127.0.0.1; every loop is bounded in
time. --quick: 50 documents, 8 clients for 10 s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from chroma_server import ChromaServer  # noqa: E402  (tests/chroma_server.py: no pytest in it)
from peers import bench_settings, dev_path, machine_line, md_table, pct, rss_mb  # noqa: E402


def chroma_exe() -> str:
    local = Path(sys.executable).parent / "chroma"
    return str(local) if local.exists() else (shutil.which("chroma") or "chroma")


def load_test(bots, items: list[dict], clients: int, seconds: float) -> dict:
    """clients threads asking in turn for `seconds`; bots[i % len(bots)] serves client i."""
    lat: list[list[float]] = [[] for _ in range(clients)]
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at = [0.0]

    def client(i: int) -> None:
        bot = bots[i % len(bots)]
        n = i * 7  # each client starts at another question
        start.wait()
        while time.monotonic() < stop_at[0]:
            it = items[n % len(items)]
            n += 1
            t = time.perf_counter()
            try:
                bot.ask(it["question"], it.get("history") or [])
                lat[i].append((time.perf_counter() - t) * 1000)
            except Exception as exc:  # counted, never fatal
                with lock:
                    errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
                    if len(errors) <= 3:
                        traceback.print_exc()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    t0 = time.perf_counter()
    start.wait()
    for t in threads:
        t.join(timeout=seconds + 120)
    wall = time.perf_counter() - t0
    all_ms = [x for per in lat for x in per]
    return {"clients": clients, "seconds": wall, "requests": len(all_ms), "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5], "throughput": len(all_ms) / wall,
            "p50": pct(all_ms, 50), "p95": pct(all_ms, 95), "p99": pct(all_ms, 99),
            "max": max(all_ms) if all_ms else float("nan"),
            "per_client_min": min(len(x) for x in lat), "per_client_max": max(len(x) for x in lat),
            "stuck_threads": sum(t.is_alive() for t in threads)}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, help="documents (default 300; --quick: 50)")
    ap.add_argument("--clients", type=int, help="concurrent clients (default 16; --quick: 8)")
    ap.add_argument("--seconds", type=float, help="load-test duration (default 60; --quick: 10)")
    ap.add_argument("--rounds", type=int, default=1, help="passes over the dev questions for p50/p95")
    ap.add_argument("--per-client", action="store_true", help="one Assistant per client instead of a shared one")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dev")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    quick = {"docs": 50, "clients": 8, "seconds": 10.0} if args.quick else {"docs": 300, "clients": 16, "seconds": 60.0}
    for key, value in quick.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    dev = dev_path(args.dev)

    from assistant.bot import Assistant
    from assistant.evaluate import load_items
    from scale import ensure_corpus, measure

    items = load_items(dev)
    corpus = ensure_corpus(args.docs, dev) if args.docs > 5 else None
    root = Path(tempfile.mkdtemp(prefix="zone-load-"))
    try:
        return _run(args, dev, items, corpus, root, Assistant, measure)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(args, dev, items, corpus, root, Assistant, measure) -> int:
    log = open(root / "chroma.log", "w")
    try:
        server = ChromaServer(chroma_exe(), root / "data", log)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    with log, server:
        print(f"chroma run on {server.url} (data in {root / 'data'})", file=sys.stderr, flush=True)
        if corpus is None:
            from gen_corpus import generate

            corpus = root / "corpus"
            generate(corpus, 5, dev=dev)
        bench = measure(args.docs, corpus, dev, args.rounds, chroma_url=server.url, collection="load_docs")
        print(f"benchmark: {json.dumps(bench, ensure_ascii=False)}", file=sys.stderr, flush=True)
        server_rss_after_ingest = rss_mb(server.proc.pid)
        n_bots = args.clients if args.per_client else 1
        bots = [Assistant(bench_settings(root / f"client-home-{i}", chroma_url=server.url, collection="load_docs"))
                for i in range(n_bots)]
        for b in bots:
            b.ask(items[0]["question"])  # each opens its keyword index before the clock starts
        print(f"load test: {args.clients} clients x {args.seconds:.0f} s, {n_bots} Assistant(s)", file=sys.stderr,
              flush=True)
        load = load_test(bots, items, args.clients, args.seconds)
        load["client_rss_mb"] = round(rss_mb())
        load["server_rss_mb"] = round(rss_mb(server.proc.pid))

    print(f"Server mode: `chroma run` on 127.0.0.1 (chromadb HttpClient), {bench['docs']} documents "
          f"({bench['passages']} passages). Machine: {machine_line()}; load average "
          f"{os.getloadavg()[0]:.1f} at the end; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}\n")
    print(md_table(["measure", "value"], [
        ["ingest into the server (keyword first, vectors from the bench cache only)",
         f"{bench['ingest_s']:.1f} s ({bench['passages'] - bench['without_vectors']} of {bench['passages']} passages "
         f"with vectors)"],
        ["a new upload answerable by keyword (this process / another Store)",
         f"{bench['upload_answerable_s']:.2f} / {bench['upload_other_process_s']:.2f} s"],
        ["warm search p50 / p95", f"{bench['search_p50']:.0f} / {bench['search_p95']:.0f} ms"],
        ["warm ask p50 / p95 (one client)", f"{bench['ask_p50']:.0f} / {bench['ask_p95']:.0f} ms"],
        ["warm ask p50 / p95, new question (no cached query vector)",
         f"{bench['ask_new_p50']:.0f} / {bench['ask_new_p95']:.0f} ms"],
        ["dev hit@5 / MRR@10", f"{bench['retrieval']['hit@5']:.3f} / {bench['retrieval']['mrr@10']:.3f}"],
        ["answer keyword accuracy (all answerable) / decline accuracy",
         f"{bench['answers']['keyword_accuracy(all answerable)']:.2f} / {bench['answers']['decline_accuracy']:.2f}"],
        ["RSS: client after queries / server after ingest", f"{bench['query_rss_mb']} / {server_rss_after_ingest:.0f} MB"],
    ]))
    print()
    mode = "one Assistant per client" if args.per_client else "one shared Assistant"
    print(md_table(["load test", "value"], [
        ["clients (threads), mode", f"{load['clients']}, {mode}"],
        ["duration", f"{load['seconds']:.1f} s"],
        ["requests (asks) completed", load["requests"]],
        ["throughput", f"{load['throughput']:.1f} asks/s"],
        ["latency p50 / p95 / p99 / max", f"{load['p50']:.0f} / {load['p95']:.0f} / {load['p99']:.0f} / "
                                          f"{load['max']:.0f} ms"],
        ["errors", f"{load['errors']}" + (f" ({'; '.join(load['error_kinds'])})" if load["errors"] else "")],
        ["asks per client (min / max)", f"{load['per_client_min']} / {load['per_client_max']}"],
        ["RSS client / server at the end", f"{load['client_rss_mb']} / {load['server_rss_mb']} MB"],
    ]))
    if args.json:
        Path(args.json).write_text(json.dumps({"bench": bench, "load": load}, ensure_ascii=False, indent=1), "utf-8")
    return 0 if load["errors"] == 0 and not load["stuck_threads"] else 1


if __name__ == "__main__":
    sys.exit(main())
