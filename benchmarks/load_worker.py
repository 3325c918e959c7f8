"""One app process of benchmarks/load.py: an Assistant serving `ask` over HTTP on 127.0.0.1.

    .venv/bin/python benchmarks/load_worker.py --home DIR --chroma-url URL --collection NAME [--max-seconds S]

Builds one `assistant.bot.Assistant` on the given home (whose keyword-index directory the other workers share,
memory-mapped) against the given Chroma server, warms it up as the app does at start (Assistant.warm_up) and
asks one question, then serves on a free port of 127.0.0.1 and prints one JSON line {"port": …, "pid": …,
"ready_s": …} on stdout.

    POST /ask    {"question": "...", "history": [{"role": ..., "content": ...}, ...]}
                 -> 200 {"answer": Answer.to_dict(), "ms": time inside ask}   (500 {"error": ...} on an exception)
    GET  /stats  -> {"pid", "requests", "errors", "rss_mb", "hwm_mb", "anon_mb", "pss_mb"}

Bounded: the process exits by itself after --max-seconds, or within a second of its parent's death; the
driver terminates it (then kills it) at the end whatever happens.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from peers import _status_mb, bench_settings  # noqa: E402
from scale import memory  # noqa: E402


def _watchdog(max_seconds: float, parent: int) -> None:
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline and os.getppid() == parent:
        time.sleep(0.5)
    os._exit(3)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--home", required=True, type=Path)
    ap.add_argument("--chroma-url", required=True)
    ap.add_argument("--collection", required=True)
    ap.add_argument("--warmup", default="长治高新区2018年营收的增长目标定的是多少?")
    ap.add_argument("--max-seconds", type=float, default=600.0, help="exit after this long, whatever happens")
    args = ap.parse_args(argv)
    threading.Thread(target=_watchdog, args=(args.max_seconds, os.getppid()), daemon=True).start()
    t0 = time.perf_counter()

    from assistant.bot import Assistant

    bot = Assistant(bench_settings(args.home, chroma_url=args.chroma_url, collection=args.collection))
    bot.warm_up()  # what the app does at start: model, jieba + POS tables, registry, keyword index
    bot.ask(args.warmup)
    counts = {"requests": 0, "errors": 0}
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keep-alive: one connection (and one server thread) per client

        def log_message(self, *a) -> None:  # no line per request
            pass

        def _send(self, code: int, payload: dict) -> None:
            body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            self.send_response(code)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self) -> None:
            if self.path != "/stats":
                return self._send(404, {"error": "not found"})
            with lock:
                stats = dict(counts)
            mem = memory()  # RSS, its anonymous (private) and file-backed parts, PSS (shared pages split)
            self._send(200, {"pid": os.getpid(), **stats, "rss_mb": round(_status_mb("VmRSS")),
                             "hwm_mb": round(_status_mb("VmHWM")), "anon_mb": mem.get("RssAnon"),
                             "pss_mb": mem.get("Pss")})

        def do_POST(self) -> None:
            if self.path != "/ask":
                return self._send(404, {"error": "not found"})
            try:
                n = int(self.headers.get("Content-Length") or 0)
                req = json.loads(self.rfile.read(n).decode("utf-8"))
                t = time.perf_counter()
                ans = bot.ask(str(req["question"]), list(req.get("history") or []))
                ms = (time.perf_counter() - t) * 1000
                payload = {"answer": ans.to_dict(), "ms": ms}
            except Exception as exc:  # the client counts it; the worker keeps serving
                with lock:
                    counts["errors"] += 1
                traceback.print_exc()
                return self._send(500, {"error": f"{type(exc).__name__}: {str(exc)[:200]}"})
            with lock:
                counts["requests"] += 1
            self._send(200, payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    print(json.dumps({"port": server.server_address[1], "pid": os.getpid(),
                      "ready_s": round(time.perf_counter() - t0, 2)}), flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
