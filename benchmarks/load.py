"""Server mode at load: the scale benchmark against a real `chroma run` server, then 16 concurrent clients
spread over several app processes.

    .venv/bin/python benchmarks/load.py [--docs 300] [--processes 2] [--clients 16] [--seconds 60] [--quick]

Starts `chroma run --host 127.0.0.1 --port <free port>` on a temporary directory (stopped at the end, whatever
happens), ingests the scale corpus (benchmarks/gen_corpus.py; vectors from the bench cache) into it through
ASSISTANT_CHROMA_URL, measures what benchmarks/scale.py measures (ingest, warm search/ask p50/p95, memory,
dev retrieval) in a home that is kept, then runs the load test: --processes app processes
(benchmarks/load_worker.py: one Assistant each, on that same home, so they share its memory-mapped keyword
index directory, and the same Chroma server and collection) serve `ask` over HTTP on 127.0.0.1; --clients
threads of this process send the dev questions (with their history) round-robin across them for --seconds.
Reports throughput, p50/p95/p99/max latency, errors, the requests each process served, RSS of every process,
and the slowest questions. --processes 0: the clients call Assistants in this process instead (one shared, or
one each with --per-client). All traffic goes to 127.0.0.1; every loop is bounded in time; the workers are
terminated at the end whatever happens (and exit by themselves after a deadline or when this process dies).
--quick: 50 documents, 8 clients for 10 s.
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import select
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))
from chroma_server import ChromaServer  # noqa: E402  (tests/chroma_server.py: no pytest in it)
from peers import _status_mb, bench_settings, dev_path, machine_line, md_table, pct, rss_mb  # noqa: E402

COLLECTION = "load_docs"
HERE = Path(__file__).resolve().parent

def chroma_exe() -> str:
    local = Path(sys.executable).parent / "chroma"
    return str(local) if local.exists() else (shutil.which("chroma") or "chroma")


# ------------------------------------------------------------------------------------------------ workers


class Workers:
    """`n` load_worker.py processes on one home and one Chroma server; a context manager that ends them."""

    def __init__(self, n: int, home: Path, chroma_url: str, logs: Path, max_seconds: float,
                 ready_timeout: float = 240.0) -> None:
        self.procs: list[subprocess.Popen] = []
        self.ports: list[int] = []
        self.ready_s: list[float] = []
        self.logs = [logs / f"worker-{i}.log" for i in range(n)]
        root = HERE.parent
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [str(root), os.environ.get("PYTHONPATH")])))
        try:
            for i in range(n):
                with open(self.logs[i], "w") as log:
                    self.procs.append(subprocess.Popen(
                        [sys.executable, str(HERE / "load_worker.py"), "--home", str(home), "--chroma-url", chroma_url,
                         "--collection", COLLECTION, "--max-seconds", str(max_seconds)],
                        stdout=subprocess.PIPE, stderr=log, stdin=subprocess.DEVNULL, env=env, cwd=str(root)))
            deadline = time.monotonic() + ready_timeout
            for i, proc in enumerate(self.procs):
                line = self._first_line(proc, deadline)
                if not line:
                    raise RuntimeError(f"worker {i} did not come up (exit code {proc.poll()}): "
                                       f"{self.tail(i)}")
                info = json.loads(line)
                self.ports.append(int(info["port"]))
                self.ready_s.append(float(info["ready_s"]))
        except BaseException:
            self.stop()
            raise

    @staticmethod
    def _first_line(proc: subprocess.Popen, deadline: float) -> str:
        buf = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([proc.stdout], [], [], 0.5)
            if ready:
                chunk = os.read(proc.stdout.fileno(), 4096)
                if not chunk:
                    return ""
                buf += chunk
                if b"\n" in buf:
                    return buf.split(b"\n", 1)[0].decode("utf-8")
            elif proc.poll() is not None:
                return ""
        return ""

    def tail(self, i: int, chars: int = 1500) -> str:
        try:
            return self.logs[i].read_text("utf-8", "replace")[-chars:]
        except OSError:
            return "(no log)"

    def stats(self) -> list[dict]:
        out = []
        for i, port in enumerate(self.ports):
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/stats")
                out.append(json.loads(conn.getresponse().read().decode("utf-8")))
                conn.close()
            except (OSError, ValueError) as exc:
                out.append({"pid": self.procs[i].pid, "error": f"{type(exc).__name__}: {exc}",
                            "rss_mb": round(rss_mb(self.procs[i].pid)),
                            "hwm_mb": round(_status_mb("VmHWM", self.procs[i].pid))})
        return out

    def stop(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=10)
            if proc.stdout:
                proc.stdout.close()

    def __enter__(self) -> "Workers":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class HttpClient:
    """One client's keep-alive connections to the workers; ask() sends to the next worker in round-robin."""

    def __init__(self, ports: list[int], turn, timeout: float) -> None:
        self.ports, self.turn, self.timeout = ports, turn, timeout
        self.conns: dict[int, http.client.HTTPConnection] = {}

    def ask(self, item: dict) -> tuple[int, float]:
        w = next(self.turn) % len(self.ports)
        conn = self.conns.get(w) or http.client.HTTPConnection("127.0.0.1", self.ports[w], timeout=self.timeout)
        self.conns[w] = conn
        body = json.dumps({"question": item["question"], "history": item.get("history") or []},
                          ensure_ascii=False).encode("utf-8")
        try:
            conn.request("POST", "/ask", body, {"Content-Type": "application/json"})
            resp = conn.getresponse()
            data = json.loads(resp.read().decode("utf-8"))
        except BaseException:
            conn.close()
            self.conns.pop(w, None)
            raise
        if resp.status != 200 or not data.get("answer", {}).get("answer"):
            raise RuntimeError(f"worker {w}: HTTP {resp.status} {data.get('error', 'empty answer')}")
        return w, float(data["ms"])

    def close(self) -> None:
        for conn in self.conns.values():
            conn.close()


class LocalClient:
    """--processes 0: a client calling an Assistant of this process."""

    def __init__(self, bot) -> None:
        self.bot = bot

    def ask(self, item: dict) -> tuple[int, float]:
        t = time.perf_counter()
        self.bot.ask(item["question"], item.get("history") or [])
        return 0, (time.perf_counter() - t) * 1000

    def close(self) -> None:
        pass


# ------------------------------------------------------------------------------------------------ load test


def load_test(make_client, items: list[dict], clients: int, seconds: float, n_targets: int) -> dict:
    """`clients` threads, each with make_client(i), asking the dev questions in turn for `seconds`."""
    lat: list[list[float]] = [[] for _ in range(clients)]
    done: list[tuple[str, float, float, int, float]] = []  # (question id, client ms, in-process ms, target, at s)
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(clients + 1)
    stop_at, t0 = [0.0], [0.0]

    def client(i: int) -> None:
        c = make_client(i)
        n = i * 7  # each client starts at another question
        try:
            start.wait()
            while time.monotonic() < stop_at[0]:
                it = items[n % len(items)]
                n += 1
                t = time.perf_counter()
                try:
                    target, inner = c.ask(it)
                    ms = (time.perf_counter() - t) * 1000
                    lat[i].append(ms)
                    with lock:
                        done.append((it.get("id", "?"), ms, inner, target, time.perf_counter() - t0[0]))
                except Exception as exc:  # counted, never fatal
                    with lock:
                        errors.append(f"{type(exc).__name__}: {str(exc)[:160]}")
                        if len(errors) <= 3:
                            traceback.print_exc()
        finally:
            c.close()

    threads = [threading.Thread(target=client, args=(i,), daemon=True) for i in range(clients)]
    for t in threads:
        t.start()
    stop_at[0] = time.monotonic() + seconds
    t0[0] = time.perf_counter()
    start.wait(timeout=120)
    for t in threads:
        t.join(timeout=max(1.0, stop_at[0] - time.monotonic()) + 90)
    wall = time.perf_counter() - t0[0]
    all_ms = [x for per in lat for x in per]
    inner = [d[2] for d in done]
    per_q: dict[str, list[tuple[float, float]]] = {}
    for qid, ms, inn, _, _ in done:
        per_q.setdefault(qid, []).append((ms, inn))
    slow = sorted(per_q.items(), key=lambda kv: -pct([m for m, _ in kv[1]], 95))
    return {"clients": clients, "seconds": wall, "requests": len(all_ms), "errors": len(errors),
            "error_kinds": sorted(set(errors))[:5], "throughput": len(all_ms) / wall,
            "p50": pct(all_ms, 50), "p95": pct(all_ms, 95), "p99": pct(all_ms, 99),
            "max": max(all_ms) if all_ms else float("nan"),
            "inner_p50": pct(inner, 50), "inner_p95": pct(inner, 95), "inner_p99": pct(inner, 99),
            "inner_max": max(inner) if inner else float("nan"),
            "per_target": [sum(1 for d in done if d[3] == w) for w in range(n_targets)],
            "per_client_min": min(len(x) for x in lat), "per_client_max": max(len(x) for x in lat),
            "slowest_questions": [
                {"id": qid, "n": len(v), "p50": round(pct([m for m, _ in v], 50)),
                 "p95": round(pct([m for m, _ in v], 95)), "max": round(max(m for m, _ in v)),
                 "inner_p50": round(pct([x for _, x in v], 50)), "inner_max": round(max(x for _, x in v))}
                for qid, v in slow[:10]],
            "slowest_asks": [{"id": d[0], "ms": round(d[1]), "inner_ms": round(d[2]), "target": d[3],
                              "at_s": round(d[4], 1)} for d in sorted(done, key=lambda d: -d[1])[:8]],
            "stuck_threads": sum(t.is_alive() for t in threads)}


# ------------------------------------------------------------------------------------------------ main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--docs", type=int, help="documents (default 300; --quick: 50)")
    ap.add_argument("--processes", type=int, default=2,
                    help="app processes serving the clients over HTTP (default 2); 0: Assistants in this process")
    ap.add_argument("--clients", type=int, help="concurrent clients (default 16; --quick: 8)")
    ap.add_argument("--seconds", type=float, help="load-test duration (default 60; --quick: 10)")
    ap.add_argument("--rounds", type=int, default=1, help="passes over the dev questions for p50/p95")
    ap.add_argument("--per-client", action="store_true", help="--processes 0: one Assistant per client")
    ap.add_argument("--timeout", type=float, default=60.0, help="per-request HTTP timeout (s)")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--dev")
    ap.add_argument("--json")
    args = ap.parse_args(argv)
    quick = {"docs": 50, "clients": 8, "seconds": 10.0} if args.quick else {"docs": 300, "clients": 16, "seconds": 60.0}
    for key, value in quick.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.processes < 0:
        ap.error("--processes must be >= 0")
    dev = dev_path(args.dev)

    from assistant.evaluate import load_items
    from scale import ensure_corpus, measure

    items = load_items(dev)
    corpus = ensure_corpus(args.docs, dev) if args.docs > 5 else None
    root = Path(tempfile.mkdtemp(prefix="zone-load-"))
    try:
        return _run(args, dev, items, corpus, root, measure)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _run(args, dev, items, corpus, root, measure) -> int:
    log = open(root / "chroma.log", "w")
    try:
        server = ChromaServer(chroma_exe(), root / "data", log)
    except RuntimeError as exc:
        raise SystemExit(str(exc)) from None
    home = root / "home"  # one ASSISTANT_HOME: its keyword/<collection>/ directory is the shared index
    with log, server:
        print(f"chroma run on {server.url} (data in {root / 'data'})", file=sys.stderr, flush=True)
        if corpus is None:
            from gen_corpus import generate

            corpus = root / "corpus"
            generate(corpus, 5, dev=dev)
        bench = measure(args.docs, corpus, dev, args.rounds, chroma_url=server.url, collection=COLLECTION, home=home)
        print(f"benchmark: {json.dumps(bench, ensure_ascii=False)}", file=sys.stderr, flush=True)
        server_rss_after_ingest = rss_mb(server.proc.pid)
        if args.processes == 0:
            load = _in_process(args, items, home, server.url)
        else:
            t0 = time.perf_counter()
            with Workers(args.processes, home, server.url, root, max_seconds=args.seconds + 600) as workers:
                started = time.perf_counter() - t0
                print(f"load test: {args.clients} clients x {args.seconds:.0f} s over {args.processes} app "
                      f"processes (pids {', '.join(str(p.pid) for p in workers.procs)}; up in {started:.1f} s)",
                      file=sys.stderr, flush=True)
                turn = itertools.count()  # next() on it is atomic under the GIL: one round-robin for all clients
                load = load_test(lambda i: HttpClient(workers.ports, turn, args.timeout), items, args.clients,
                                 args.seconds, args.processes)
                load["workers"] = workers.stats()
                load["workers_ready_s"] = workers.ready_s
                for i, w in enumerate(load["workers"]):
                    if "error" in w:
                        print(f"worker {i}: {workers.tail(i)}", file=sys.stderr)
        load["client_rss_mb"] = round(rss_mb())
        load["server_rss_mb"] = round(rss_mb(server.proc.pid))
        load["server_hwm_mb"] = round(_status_mb("VmHWM", server.proc.pid))
        load["loadavg_end"] = os.getloadavg()[0]

    print(f"benchmark, per-question: {json.dumps(load['slowest_questions'], ensure_ascii=False)}", file=sys.stderr)
    print(f"benchmark, slowest asks: {json.dumps(load['slowest_asks'], ensure_ascii=False)}", file=sys.stderr)
    _print(args, bench, load, server_rss_after_ingest)
    if args.json:
        Path(args.json).write_text(json.dumps({"bench": bench, "load": load}, ensure_ascii=False, indent=1), "utf-8")
    return 0 if load["errors"] == 0 and not load["stuck_threads"] else 1


def _in_process(args, items, home: Path, url: str) -> dict:
    from assistant.bot import Assistant

    n_bots = args.clients if args.per_client else 1
    bots = [Assistant(bench_settings(home, chroma_url=url, collection=COLLECTION)) for _ in range(n_bots)]
    for b in bots:
        b.ask(items[0]["question"])  # each opens its keyword index before the clock starts
    print(f"load test: {args.clients} clients x {args.seconds:.0f} s, {n_bots} Assistant(s) in this process",
          file=sys.stderr, flush=True)
    return load_test(lambda i: LocalClient(bots[i % n_bots]), items, args.clients, args.seconds, 1)


def _print(args, bench: dict, load: dict, server_rss_after_ingest: float) -> None:
    print(f"Server mode: `chroma run` on 127.0.0.1 (chromadb HttpClient), {bench['docs']} documents "
          f"({bench['passages']} passages). Machine: {machine_line()}; load average "
          f"{load['loadavg_end']:.1f} at the end; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}\n")
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
    if args.processes:
        mode = (f"{args.processes} app processes (load_worker.py, HTTP on 127.0.0.1), one Chroma server, one "
                f"keyword-index directory; round-robin")
    else:
        mode = "in this process, " + ("one Assistant per client" if args.per_client else "one shared Assistant")
    rows = [
        ["app processes, clients (threads)", f"{args.processes}, {load['clients']}: {mode}"],
        ["duration", f"{load['seconds']:.1f} s"],
        ["requests (asks) completed", load["requests"]],
        ["throughput", f"{load['throughput']:.1f} asks/s"],
        ["latency p50 / p95 / p99 / max (client side)",
         f"{load['p50']:.0f} / {load['p95']:.0f} / {load['p99']:.0f} / {load['max']:.0f} ms"],
        ["of which inside ask(): p50 / p95 / p99 / max",
         f"{load['inner_p50']:.0f} / {load['inner_p95']:.0f} / {load['inner_p99']:.0f} / {load['inner_max']:.0f} ms"],
        ["errors", f"{load['errors']}" + (f" ({'; '.join(load['error_kinds'])})" if load["errors"] else "")],
        ["asks per client (min / max)", f"{load['per_client_min']} / {load['per_client_max']}"],
    ]
    if args.processes:
        rows.append(["asks per app process", " / ".join(str(n) for n in load["per_target"])])
        rows.append(["RSS per app process at the end (peak; private, PSS)",
                     " / ".join(f"{w.get('rss_mb')} ({w.get('hwm_mb')}; {w.get('anon_mb')}, {w.get('pss_mb')})"
                                for w in load["workers"]) + " MB"])
    rows.append(["RSS load driver / chroma server at the end (server peak)",
                 f"{load['client_rss_mb']} / {load['server_rss_mb']} ({load['server_hwm_mb']}) MB"])
    print(md_table(["load test", "value"], rows))
    print()
    print(md_table(["slowest questions (by client p95)", "asks", "p50", "p95", "max", "inside ask() p50 / max"],
                   [[q["id"], q["n"], q["p50"], q["p95"], q["max"], f"{q['inner_p50']} / {q['inner_max']}"]
                    for q in load["slowest_questions"][:8]]))


if __name__ == "__main__":
    sys.exit(main())
