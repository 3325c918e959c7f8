"""Browser timings of the app: cold start until the chat input is usable, and questions answered (extractive).

    python benchmarks/browser_speed.py [--home DIR] [--runs 3] [--screenshot docs/screenshot.png]

Starts `streamlit run app.py` on a free local port against an existing store (ASSISTANT_HOME, or --home; an
empty store is ingested first, untimed), drives Debian's chromium (/usr/bin/chromium) through Playwright and
prints a Markdown table. Not a test: the numbers depend on the machine and its load.

- server start → chat input usable: `streamlit run` launched, first page opened as soon as the server is
  healthy, until the chat input is visible and enabled (app.py sends it first; the store opens after it, and a
  question typed meanwhile is answered once it is open);
- server start → first page complete: the same, until the documents and the starter questions are shown;
- page load → chat input usable: a new browser session on the running server;
- question → answer: Enter pressed until the answer and its 来源 expander are on the page.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "app"))
sys.path.insert(0, str(ROOT))

from browserkit import CHROMIUM, MESSAGE, ask, chromium, open_app, streamlit_server, wait_idle  # noqa: E402

QUESTIONS = [
    ("fact", "长治高新区2017年营业收入是多少?"),
    ("follow-up", "那税收收入呢?"),
    ("not found", "常德经开区2020年的进出口总额是多少?"),
    ("list", "长治高新区有哪些主导产业?"),
    ("summary", "总结一下常德经开区那篇讲话"),
    ("comparison", "长治高新区和常德经开区的主导产业有什么不同?"),
]


def ensure_store(home: Path) -> int:
    os.environ["ASSISTANT_HOME"] = str(home)
    from assistant import Assistant

    bot = Assistant()  # ingests the bundled corpus when the store is empty (not timed)
    return len(bot.documents())


def optimise_png(path: Path, colors: int = 256) -> int:
    from PIL import Image

    image = Image.open(path).convert("RGB")
    image.quantize(colors=colors, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(path, optimize=True)
    return path.stat().st_size


def take_screenshot(browser, url: str, path: Path) -> int:
    page, _ = open_app(browser, url)
    page.get_by_text("可以从这些问题开始").wait_for()
    ask(page, QUESTIONS[0][1])
    wait_idle(page)
    answer = page.locator(MESSAGE).last
    answer.get_by_text("来源（").click()
    page.wait_for_timeout(400)
    # scroll up with the mouse wheel, as a reader would (the chat sticks to the bottom otherwise)
    page.locator(MESSAGE).last.hover()
    for _ in range(8):
        page.mouse.wheel(0, -100)
        page.wait_for_timeout(60)
    page.wait_for_timeout(500)
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path))
    page.close()
    return optimise_png(path)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, default=None, help="store to use (default: ASSISTANT_HOME)")
    parser.add_argument("--runs", type=int, default=3, help="cold starts to measure (median reported)")
    parser.add_argument("--screenshot", type=Path, default=None, help="also save a 1280x800 screenshot here")
    args = parser.parse_args()
    if not CHROMIUM.exists():
        print(f"{CHROMIUM} not found: install Debian's chromium (apt-get install chromium)", file=sys.stderr)
        return 2
    home = args.home or (Path(os.environ["ASSISTANT_HOME"]) if os.environ.get("ASSISTANT_HOME") else None)
    if home is None:
        from assistant.config import Settings

        home = Settings.from_env().home
    n_docs = ensure_store(home)

    cold, healthy, reload_, complete = [], [], [], []
    answers: dict[str, list[float]] = {label: [] for label, _ in QUESTIONS}
    log = Path(tempfile.gettempdir()) / "browser_speed_streamlit.log"
    with chromium() as browser:
        for run in range(args.runs):
            started = time.perf_counter()
            with streamlit_server(home, log, ASSISTANT_AUTO_INGEST="0") as (url, up):
                page, _ = open_app(browser, url)
                cold.append(time.perf_counter() - started)
                healthy.append(up)
                page.get_by_text("可以从这些问题开始").wait_for(timeout=60_000)
                complete.append(time.perf_counter() - started)
                wait_idle(page)
                page.close()
                page, t = open_app(browser, url)
                reload_.append(t)
                page.get_by_text("可以从这些问题开始").wait_for()
                wait_idle(page)
                for label, question in QUESTIONS:
                    answers[label].append(ask(page, question))
                    wait_idle(page)
                page.close()
                if args.screenshot and run == args.runs - 1:
                    size = take_screenshot(browser, url, args.screenshot)
                    print(f"screenshot: {args.screenshot} ({size // 1024} KB)", file=sys.stderr)

    def cell(values: list[float]) -> str:
        return f"{statistics.median(values):.2f} s" + (f" (max {max(values):.2f})" if len(values) > 1 else "")

    print(f"Browser timings: {n_docs} documents, extractive, {args.runs} run(s), "
          f"{os.cpu_count()} cores, chromium headless (median, max)\n")
    print("| measure | time |")
    print("|---|---|")
    print(f"| `streamlit run` → server healthy | {cell(healthy)} |")
    print(f"| `streamlit run` → chat input usable (cold start, store exists) | {cell(cold)} |")
    print(f"| `streamlit run` → first page complete (documents, starter questions) | {cell(complete)} |")
    print(f"| new page on a running server → chat input usable | {cell(reload_)} |")
    for label, question in QUESTIONS:
        print(f"| question → answer with sources: {label} ({question}) | {cell(answers[label])} |")
    all_answers = [t for values in answers.values() for t in values]
    print(f"| question → answer, all questions (median / max) | {statistics.median(all_answers):.2f} s / "
          f"{max(all_answers):.2f} s |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
