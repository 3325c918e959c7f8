"""Warm `ask` latency (p50/p95) over the dev questions, a summary of the longest document, a five-zone
comparison. Usage: python benchmarks/ask_speed.py [DEV.jsonl]   (ASSISTANT_HOME picks the store)."""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from assistant import Assistant  # noqa: E402
from assistant.config import Settings  # noqa: E402


def pct(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main() -> None:
    dev = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT.parent / "shared" / "eval" / "dev.jsonl"
    home = os.environ.get("ASSISTANT_HOME") or tempfile.mkdtemp(prefix="zone-bench-")
    bot = Assistant(Settings.from_env(home=home))
    items = [json.loads(line) for line in dev.read_text("utf-8").splitlines() if line.strip()]
    for it in items[:5]:  # warm-up: jieba, model, caches
        bot.ask(it["question"], it.get("history") or [])
    times = []
    for _ in range(3):
        for it in items:
            t = time.perf_counter()
            bot.ask(it["question"], it.get("history") or [])
            times.append((time.perf_counter() - t) * 1000)
    docs = bot.documents()
    longest = max(docs, key=lambda n: int(docs[n].get("chars", 0)))
    zone = docs[longest].get("zone", "")
    t = time.perf_counter()
    for _ in range(5):
        bot.ask(f"总结一下{zone}那篇讲话")
    summary_ms = (time.perf_counter() - t) * 1000 / 5
    zones = sorted({m.get("zone") for m in docs.values() if m.get("zone")})
    t = time.perf_counter()
    for _ in range(5):
        bot.ask("和".join(zones) + "的主导产业有什么不同?")
    compare_ms = (time.perf_counter() - t) * 1000 / 5
    print("| measure | value |\n|---|---|")
    print(f"| warm ask p50 ({len(times)} asks) | {statistics.median(times):.0f} ms |")
    print(f"| warm ask p95 | {pct(times, 95):.0f} ms |")
    print(f"| summary of longest document ({longest}) | {summary_ms:.0f} ms |")
    print(f"| {len(zones)}-zone comparison | {compare_ms:.0f} ms |")
    print(f"| peak RSS | {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB |")


if __name__ == "__main__":
    main()
