"""Search speed: ingest throughput (cold embedding cache), warm query latency, CLI cold start, peak memory.

    .venv/bin/python benchmarks/search_speed.py [--rounds 3] [--runs 5] [--eval PATH]

Ingest is always measured in a throwaway home with an empty embedding cache, so that every passage goes
through the model. Queries and the CLI cold start run against ASSISTANT_HOME when it is set (its store is
used as it is; the bundled corpus is ingested only if it is empty), else against the throwaway store.
Prints a Markdown table; nothing is written outside the temporary directory unless ASSISTANT_HOME is set.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

COLD_QUERY = "长治高新区2017年营业收入是多少?"


def find_eval(arg: str | None) -> Path | None:
    candidates = [Path(arg)] if arg else [ROOT.parent / "shared" / "eval" / "dev.jsonl",
                                          Path("/work/shared/eval/dev.jsonl")]
    return next((p for p in candidates if p.exists()), None)


def assistant_exe() -> str:
    local = Path(sys.executable).parent / "assistant"
    return str(local) if local.exists() else (shutil.which("assistant") or "assistant")


def percentile(values: list[float], q: float) -> float:
    values = sorted(values)
    k = (len(values) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(values) - 1)
    return values[lo] + (values[hi] - values[lo]) * (k - lo)


_PEAK_SNIPPET = """
import contextlib, io, re, sys
from assistant.cli import main
with contextlib.redirect_stdout(io.StringIO()):
    rc = main(["search", sys.argv[1], "--json"])
status = open("/proc/self/status").read()
print(re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
sys.exit(rc)
"""


def cli_peak_mb(env: dict) -> float | None:
    """Peak RSS of a new process doing one CLI search, from its own /proc/self/status."""
    if not Path("/proc/self/status").exists():
        return None
    res = subprocess.run([sys.executable, "-c", _PEAK_SNIPPET, COLD_QUERY], env=env, capture_output=True,
                         text=True, timeout=300)
    try:
        return int(res.stderr.strip().splitlines()[-1]) / 1024
    except (ValueError, IndexError):
        return None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=3, help="passes over the dev questions (46 each)")
    ap.add_argument("--runs", type=int, default=5, help="CLI cold starts")
    ap.add_argument("--eval", help="JSONL of questions (default: the shared dev set)")
    args = ap.parse_args()

    from assistant.bot import Assistant
    from assistant.config import Settings
    from assistant.evaluate import load_items, retrieval_query

    load_start = os.getloadavg()[0]
    tmp = Path(tempfile.mkdtemp(prefix="zone-bench-"))
    rows: list[tuple[str, str, str]] = []
    try:
        # ---------------------------------------------------------------- ingest, cold cache
        settings = Settings.from_env(home=tmp / "home", cache_dir=tmp / "cold-cache", auto_ingest=False, chroma_url="")
        t0 = time.perf_counter()
        bot = Assistant(settings)
        t_open = time.perf_counter() - t0
        t0 = time.perf_counter()
        report = bot.store.ingest_bundled()
        t_ingest = time.perf_counter() - t0
        n_passages = sum(r.passages for r in report.results)
        assert report.ok, report
        rows.append(("ingest, cold embedding cache", f"{n_passages / t_ingest:.1f} passages/s",
                     f"{n_passages} passages of {len(report.results)} documents in {t_ingest:.1f} s "
                     f"(store open {t_open:.2f} s, model {settings.embedding})"))

        # re-ingest into a second home with the now warm cache: what a second machine/user pays
        warm = Settings.from_env(home=tmp / "home2", cache_dir=tmp / "cold-cache", auto_ingest=False, chroma_url="")
        t0 = time.perf_counter()
        Assistant(warm).store.ingest_bundled()
        t_warm = time.perf_counter() - t0
        rows.append(("ingest, warm embedding cache", f"{n_passages / t_warm:.0f} passages/s",
                     f"same corpus into a new home in {t_warm:.1f} s"))

        # ---------------------------------------------------------------- warm queries
        user_home = os.environ.get("ASSISTANT_HOME")
        if user_home:
            bot = Assistant(Settings.from_env())
            where = f"ASSISTANT_HOME={user_home}"
        else:
            where = "the benchmark store"
        eval_path = find_eval(args.eval)
        questions = ([retrieval_query(it, bot.documents()) for it in load_items(eval_path)] if eval_path
                     else [COLD_QUERY])
        bot.search(COLD_QUERY, k=10)  # warm-up: model, jieba, keyword index
        times = []
        for _ in range(args.rounds):
            for q in questions:
                t0 = time.perf_counter()
                bot.search(q, k=10)
                times.append((time.perf_counter() - t0) * 1000)
        rows.append(("warm query latency p50", f"{percentile(times, 0.5):.0f} ms",
                     f"{len(times)} searches (k=10) of {len(questions)} dev questions x {args.rounds}, on {where}"))
        rows.append(("warm query latency p95", f"{percentile(times, 0.95):.0f} ms",
                     f"max {max(times):.0f} ms"))

        # ---------------------------------------------------------------- CLI cold start
        home = Path(user_home) if user_home else settings.home
        env = {**os.environ, "ASSISTANT_HOME": str(home)}
        if not user_home:
            env["ASSISTANT_CACHE_DIR"] = str(tmp / "cold-cache")
        cmd = [assistant_exe(), "search", COLD_QUERY, "--json"]
        starts = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
            starts.append(time.perf_counter() - t0)
            if res.returncode != 0:
                print(res.stderr, file=sys.stderr)
                return 1
        top = json.loads(res.stdout)[0]
        rows.append(("CLI cold start: `assistant search`", f"{statistics.median(starts):.2f} s",
                     f"median of {args.runs} (min {min(starts):.2f}, max {max(starts):.2f}); "
                     f"top hit {top['doc'][:3]} score {top['score']}"))

        # ---------------------------------------------------------------- memory
        self_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append(("peak memory (this process)", f"{self_mb:.0f} MB",
                     "ru_maxrss after ingest + queries (model, Chroma, BM25, jieba)"))
        cli_mb = cli_peak_mb(env)
        rows.append(("peak memory (one CLI search)", f"{cli_mb:.0f} MB" if cli_mb else "n/a",
                     "VmHWM of a fresh process running `assistant search` (ru_maxrss of a child would "
                     "report this process's size: Linux carries it across fork+exec)"))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    load = os.getloadavg()
    print(f"Zone Assistant search speed, {os.cpu_count()} CPUs, load average {load_start:.1f} at the start and "
          f"{load[0]:.1f} at the end (other work on the machine slows every figure), "
          f"Python {sys.version.split()[0]}\n")
    print("| measure | value | notes |")
    print("|---|---|---|")
    for name, value, note in rows:
        print(f"| {name} | {value} | {note} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
