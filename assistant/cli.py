"""`assistant` command line: everything the app does, scriptable and measurable.

Errors print one line (prefixed 错误/error) and exit 2; nothing prints a traceback to a user unless
ASSISTANT_DEBUG=1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def _progress_bar(stream=sys.stderr):
    state = {"last": 0.0}

    def report(message: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - state["last"] < 0.1:
            return
        state["last"] = now
        width = 24
        filled = int(width * done / total) if total else width
        stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{total} {message[:50]:<50}")
        if done >= total:
            stream.write("\n")
        stream.flush()

    return report


def _assistant(args=None, auto: bool = True):
    from .bot import Assistant
    from .config import Settings

    settings = Settings.from_env(auto_ingest=auto and Settings.from_env().auto_ingest)
    bar = _progress_bar()
    return Assistant(settings, progress=lambda m, d, t: bar("首次使用: 导入内置语料 " + m, d, t))


def _print_json(obj) -> None:
    print(json.dumps(obj, ensure_ascii=False, indent=2))


def _table(rows: list[list[str]], headers: list[str]) -> str:
    import unicodedata

    def width(s: str) -> int:
        return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in s)

    cols = [max(width(str(x)) for x in col) for col in zip(headers, *rows)]
    lines = []
    for row in [headers, ["-" * c for c in cols]] + rows:
        lines.append("  ".join(str(x) + " " * (c - width(str(x))) for x, c in zip(row, cols)).rstrip())
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------ commands


def cmd_ingest(args) -> int:
    bot = _assistant(auto=False)
    paths: list[Path] = []
    for p in args.paths:
        p = Path(p)
        if p.is_dir():  # a folder: its documents, not its manifest or hidden files
            paths.extend(sorted(x for x in p.rglob("*") if x.is_file() and x.name != "manifest.json"
                                and not x.name.startswith(".")))
        else:
            paths.append(p)
    report = bot.store.ingest(paths, _progress_bar(), wait=args.wait)
    for r in report.results:
        extra = f"{r.passages} passages" if r.status != "failed" else r.reason
        print(f"{r.status:<9} {r.name}  {extra}")
    print(f"added {report.count('added')}, unchanged {report.count('unchanged')}, "
          f"replaced {report.count('replaced')}, failed {report.count('failed')}")
    if not args.wait:
        state = bot.store.vector_progress(max_age=0)
        if state["pending"]:
            if bot.store.filling():
                how = "a filler is already at work"
            else:
                pid = _fill_in_background(bot.settings)
                how = f"process {pid}" if pid else "no filler could start: run `assistant vectors --fill`"
            print(f"vectors: {state['pending']} passages are searchable by keyword now and get their vectors "
                  f"in the background ({how}); `assistant vectors` shows progress, `assistant ingest --wait` "
                  "waits for them")
    return 0 if report.ok else 1


def _fill_in_background(settings) -> int | None:
    """Start `assistant vectors --fill` as a detached process (it outlives this one; its log is
    <home>/vectors.log). None when it cannot be started (an unwritable home: `assistant doctor` fills later)."""
    import subprocess

    log = settings.home / "vectors.log"
    try:
        out = open(log, "a")
    except OSError:
        return None
    with out:
        proc = subprocess.Popen([sys.executable, "-m", "assistant", "vectors", "--fill"], stdin=subprocess.DEVNULL,
                                stdout=out, stderr=out, start_new_session=True, close_fds=True,
                                env={**os.environ, "ASSISTANT_HOME": str(settings.home),
                                     "ASSISTANT_COLLECTION": settings.collection,
                                     "ASSISTANT_AUTO_INGEST": "0"})
    return proc.pid


def cmd_vectors(args) -> int:
    bot = _assistant(auto=False)
    if args.fill:
        moved = bot.store.fill_vectors(_progress_bar())
        if moved == -1:
            print("another filler is at work (assistant vectors shows its progress)")
            return 0
        print(f"vectors filled: {moved} passages")
    state = bot.store.vector_progress(max_age=0, exact=True)
    if args.json:
        _print_json(state)
        return 0
    done = state["passages"] - state["pending"]
    print(f"vectors: {done}/{state['passages']} passages"
          + (f", {state['pending']} waiting ({'filling' if state['filling'] else 'no filler running: run `assistant vectors --fill` or `assistant doctor`'})"
             if state["pending"] else " (all ready)"))
    for name, n in sorted(state["documents"].items()):
        print(f"  {name}: {n} passages without vectors")
    if state["error"]:
        print(f"filler error: {state['error']}")
    return 0


def cmd_docs(args) -> int:
    bot = _assistant()
    docs = bot.documents()
    waiting = bot.store.vector_progress(max_age=0, exact=True)["documents"] if any(
        m.get("vectors") == "pending" for m in docs.values()) else {}
    if args.json:
        _print_json([{"doc": n, **m, "vectors_pending": waiting.get(n, 0)} for n, m in sorted(docs.items())])
        return 0

    def vectors(name: str, meta: dict) -> str:
        if meta.get("vectors") != "pending":
            return "ready"
        total = int(meta.get("n_passages", 0))
        return f"{total - waiting.get(name, 0)}/{total}"

    rows = [[n, m.get("zone", ""), (m.get("title", "") or "")[:28], m.get("speaker", ""),
             m.get("date", "") or str(m.get("year", "")), m.get("kind", ""), str(m.get("n_passages", "")),
             vectors(n, m), "enabled" if m.get("enabled", True) else "disabled"]
            for n, m in sorted(docs.items())]
    print(_table(rows, ["doc", "zone", "title", "speaker", "date", "kind", "passages", "vectors", "state"]))
    return 0


def cmd_search(args) -> int:
    bot = _assistant()
    if args.explain:
        return _explain(bot, args)
    hits = bot.search(args.query, k=args.k, zone=args.zone, doc=args.doc, year=args.year)
    if args.json:
        _print_json([h.to_dict() for h in hits])
        return 0
    if not hits:
        print("没有找到相关段落。")
    for i, h in enumerate(hits, 1):
        print(f"[{i}] {h.score:.3f}  {h.doc}  {h.zone}  {h.section[:60]}  ({h.start}-{h.end})")
        print("    " + h.text.replace("\n", " ")[:300])
    return 0


def _explain(bot, args) -> int:
    ex = bot.explain(args.query, k=args.k, zone=args.zone, doc=args.doc, year=args.year)
    if args.json:
        _print_json(ex.to_dict())
        return 0
    sc = ex.scope
    labels = {"metadata": "问题里的园区/文档名（元数据）", "text": "问题里的园区名（文档正文提到）", "filter": "指定的筛选条件"}
    via = " + ".join(labels.get(p, p) for p in sc["via"].split("+")) if sc["via"] else "无（全部文档）"
    print(f"检索: {ex.query}")
    print(f"词: {' '.join(ex.tokens) or '（无）'}" + (f"  （用户词表扩展: {' '.join(ex.expanded)}）" if ex.expanded else ""))
    print(f"范围: {via}" + (f"；园区 {'、'.join(sc['zones'])}" if sc["zones"] else "")
          + (f"；文档 {'、'.join(sc['docs'])}" if sc["docs"] else "") + (f"；年份 {sc['year']}" if sc["year"] else "")
          + (f"；语料中没有: {'、'.join(sc['unknown_zones'])}" if sc["unknown_zones"] else ""))
    print(f"分数: keyword = BM25/本次最高, vector = 余弦相似度 min-max, fused = 排序分/{ex.ceiling:g}（均在 0-1）")
    if not ex.hits:
        print("没有找到相关段落。")
    for h in ex.hits:
        print(f"[{h.rank}] fused {h.fused:.3f}  keyword {h.keyword:.3f}  vector {h.vector:.3f}  {h.doc}  {h.zone}  "
              f"{h.section[:50]}  ({h.start}-{h.end})")
        print("    " + h.text.replace("\n", " ")[:300])
    return 0


def _meta_fields(meta: dict) -> dict:
    keys = ("zone", "title", "year", "date", "speaker", "kind", "enabled", "meta_sources", "user_meta", "edited_at")
    return {k: meta[k] for k in keys if k in meta}


def cmd_meta(args) -> int:
    bot = _assistant(auto=False)
    fields = {k: getattr(args, k) for k in ("zone", "title", "year", "date", "speaker", "kind")}
    if any(v is not None for v in fields.values()):
        meta = bot.set_meta(args.doc, **fields)
    else:
        meta = bot.documents().get(args.doc)
        if meta is None:
            from .errors import EditError

            raise EditError(f"没有名为 {args.doc!r} 的文档。用 `assistant docs` 查看已有文档。")
    if args.json:
        _print_json({"doc": args.doc, **meta})
        return 0
    for k, v in _meta_fields(meta).items():
        print(f"{k:<13}{v}")
    return 0


def cmd_enable(args, enabled: bool = True) -> int:
    bot = _assistant(auto=False)
    bot.set_enabled(args.doc, enabled)
    print(f"{'enabled' if enabled else 'disabled'} {args.doc}" + ("" if enabled else "（保留在存储中，不参与检索和回答）"))
    return 0


def cmd_disable(args) -> int:
    return cmd_enable(args, enabled=False)


def cmd_lexicon(args) -> int:
    bot = _assistant(auto=False)
    if args.action == "add":
        if len(args.words) < 2:
            from .errors import EditError

            raise EditError("用法: assistant lexicon add 词 同义词… [--zone]，例如 assistant lexicon add 营收 营业收入。")
        entry = bot.lexicon_add(args.words[0], args.words[1:], "zone" if args.zone else "synonym")
        print(f"added {entry['word']} = {' / '.join(entry['synonyms'])} ({entry['kind']})")
        if entry["kind"] == "zone":
            zones = {m.get("zone", "") for m in bot.documents().values()}
            for z in entry["synonyms"]:
                if z not in zones:
                    print(f"注意: 还没有哪篇文档的园区是「{z}」。", file=sys.stderr)
        return 0
    if args.action == "remove":
        if len(args.words) != 1:
            from .errors import EditError

            raise EditError("用法: assistant lexicon remove 词")
        for e in bot.lexicon_remove(args.words[0]):
            print(f"removed {e['word']} ({e['kind']})")
        return 0
    entries = bot.lexicon_entries()
    if args.json:
        _print_json(entries)
        return 0
    if not entries:
        print("用户词表是空的。用 `assistant lexicon add 营收 营业收入` 添加同义词。")
        return 0
    print(_table([[e["word"], " / ".join(e["synonyms"]), e["kind"]] for e in entries], ["word", "synonyms", "kind"]))
    return 0


def cmd_remove(args) -> int:
    bot = _assistant(auto=False)
    n = bot.remove(args.doc)
    print(f"removed {args.doc} ({n} passages)")
    return 0


def cmd_ask(args) -> int:
    bot = _assistant()
    history = []
    if args.history:
        try:
            history = json.loads(Path(args.history).read_text("utf-8"))
        except (OSError, ValueError) as exc:
            from .errors import QueryError

            raise QueryError(f"无法读取对话历史 {args.history}: {exc}") from exc
    ans = bot.ask(args.question, history, mode=args.mode)
    if args.json:
        _print_json(ans.to_dict())
    else:
        print(ans.text)
    return 0


def cmd_summarize(args) -> int:
    bot = _assistant()
    ans = bot.summarize(args.doc, args.length, mode=args.mode)
    if args.json:
        out = ans.to_dict()
        out["outline"] = ans.extras.get("outline", [])
        out["figures"] = ans.extras.get("figures", [])
        _print_json(out)
    else:
        print(ans.text)
    return 0


def cmd_compare(args) -> int:
    bot = _assistant()
    ans = bot.compare(args.zones, args.aspect or "", mode=args.mode)
    if args.json:
        out = ans.to_dict()
        out["table"] = ans.extras.get("table")
        out["chart"] = ans.extras.get("chart", [])
        _print_json(out)
    else:
        print(ans.text)
    return 0


def cmd_eval(args) -> int:
    from .evaluate import run_eval

    bot = _assistant()
    result = run_eval(bot, args.file, answers=not args.retrieval_only)
    if args.json:
        _print_json(result)
    else:
        from .evaluate import format_report

        print(format_report(result))
    return 0


def cmd_doctor(args) -> int:
    bot = _assistant(auto=False)
    findings = bot.store.doctor(repair=not args.check, progress=_progress_bar())
    for f in findings:
        print(f)
    print("store OK" if not findings else ("repaired" if not args.check else "problems found"))
    lexicon = bot.lexicon_problems()  # reported, never rewritten: the curator fixes the file
    for p in lexicon:
        print(f"user lexicon: {p}")
    if lexicon:
        print("user lexicon: problems found")
    return 1 if lexicon or (findings and args.check) else 0


def _positive_int(value: str) -> int:
    try:
        n = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {value!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {n}")
    return n


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="assistant", description="园区助手: 开发区文档问答 (Zone Assistant)")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("ingest", help="add or update documents (.txt .md .html .docx .pdf, or folders)")
    s.add_argument("paths", nargs="+")
    s.add_argument("--wait", action="store_true",
                   help="embed every passage before returning (default: return once the documents are "
                        "searchable by keyword; their vectors are filled in the background)")
    s.set_defaults(func=cmd_ingest)

    s = sub.add_parser("vectors", help="how far the background embedding of keyword-first ingests is")
    s.add_argument("--fill", action="store_true", help="embed the passages that wait for vectors, here and now")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_vectors)

    s = sub.add_parser("docs", help="list the documents and their metadata")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_docs)

    s = sub.add_parser("search", help="hybrid passage search")
    s.add_argument("query")
    s.add_argument("--zone")
    s.add_argument("--doc")
    s.add_argument("--year", type=int)
    s.add_argument("-k", type=_positive_int, default=5)
    s.add_argument("--json", action="store_true")
    s.add_argument("--explain", action="store_true",
                   help="retrieval test: keyword, vector and fused scores (0-1), the scope applied, the tokens searched")
    s.set_defaults(func=cmd_search)

    s = sub.add_parser("meta", help="show a document's metadata, or correct it (kept across re-ingest)")
    s.add_argument("doc")
    s.add_argument("--zone")
    s.add_argument("--title")
    s.add_argument("--year")
    s.add_argument("--date", help="2021-02-04 or 2021年2月4日 (sets the year too unless --year is given)")
    s.add_argument("--speaker")
    s.add_argument("--kind")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_meta)

    s = sub.add_parser("disable", help="keep a document but never retrieve or quote it")
    s.add_argument("doc")
    s.set_defaults(func=cmd_disable)

    s = sub.add_parser("enable", help="enable a disabled document again")
    s.add_argument("doc")
    s.set_defaults(func=cmd_enable)

    s = sub.add_parser("lexicon", help="the user lexicon: synonyms and zone aliases (ASSISTANT_HOME/user_lexicon.toml)")
    s.add_argument("action", choices=["add", "list", "remove"])
    s.add_argument("words", nargs="*", help="add: WORD SYNONYM... ; remove: WORD")
    s.add_argument("--zone", action="store_true", help="add: WORD is an alias of the zone(s) given")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_lexicon)

    s = sub.add_parser("remove", help="remove a document and all its passages")
    s.add_argument("doc")
    s.set_defaults(func=cmd_remove)

    s = sub.add_parser("ask", help="a grounded answer made of quotes")
    s.add_argument("question")
    s.add_argument("--history", help="JSON file: [{role, content}, ...] (an assistant turn may carry its items)")
    s.add_argument("--mode", choices=["extractive", "llm"], help="default: llm when ASSISTANT_LLM is set")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_ask)

    s = sub.add_parser("summarize", help="an extractive summary of one document: outline, points, key figures")
    s.add_argument("doc", help="file name, or a loose name: 常德 / 务虚会那篇 / 张志刚")
    s.add_argument("--length", choices=["short", "medium", "long"], default="medium")
    s.add_argument("--mode", choices=["extractive", "llm"], help="default: llm when ASSISTANT_LLM is set")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_summarize)

    s = sub.add_parser("compare", help="compare zones side by side, every cell a quote")
    s.add_argument("zones", nargs="+", help="two or more zones, named loosely: 长治 常德 长沙")
    s.add_argument("--aspect", help="主导产业 / 经济指标 / 目标 / 重点任务 / 招商引资 / 创新 / 营商环境 / 党建 / 年份 …")
    s.add_argument("--mode", choices=["extractive", "llm"], help="default: llm when ASSISTANT_LLM is set")
    s.add_argument("--json", action="store_true")
    s.set_defaults(func=cmd_compare)

    s = sub.add_parser("eval", help="score retrieval and answers on a JSONL eval file")
    s.add_argument("file")
    s.add_argument("--json", action="store_true")
    s.add_argument("--retrieval-only", action="store_true")
    s.set_defaults(func=cmd_eval)

    s = sub.add_parser("doctor", help="check the store and repair it (orphans, keyword index, missing vectors)")
    s.add_argument("--check", action="store_true", help="only report, do not repair")
    s.set_defaults(func=cmd_doctor)
    return p


def main(argv: list[str] | None = None) -> int:
    from .errors import AssistantError

    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except AssistantError as exc:
        print(f"错误 (error): {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `assistant search … | head -1`: the reader left, which is fine
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("已中断 (interrupted)", file=sys.stderr)
        return 130
    except Exception as exc:  # the last guard: one line, not a traceback
        if os.environ.get("ASSISTANT_DEBUG"):
            raise
        print(f"错误 (error): {type(exc).__name__}: {str(exc)[:300]} (ASSISTANT_DEBUG=1 shows details)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
