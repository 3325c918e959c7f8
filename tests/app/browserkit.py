"""Helpers for driving the app in a real browser: a `streamlit run app.py` server on a free local port, and
Debian's chromium through Playwright. Used by tests/app/test_browser.py and benchmarks/browser_speed.py."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests"))  # benchmarks/browser_speed.py imports this module too
from llm_server import free_port  # noqa: E402
APP = ROOT / "app.py"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}

CHAT_INPUT = '[data-testid="stChatInputTextArea"]'
MESSAGE = '[data-testid="stChatMessage"]'


@contextmanager
def streamlit_server(home: Path, log_path: Path | None = None, timeout: float = 60, **env):
    """`streamlit run app.py` on a free port with ASSISTANT_HOME=home; yields (url, seconds until healthy)."""
    port = free_port()
    environ = dict(os.environ, ASSISTANT_HOME=str(home), **{k: str(v) for k, v in env.items()})
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true", "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=environ, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = started + timeout
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"streamlit exited with {proc.returncode} (log: {log_path})")
            try:
                with urllib.request.urlopen(url + "/_stcore/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            if time.perf_counter() > deadline:
                raise TimeoutError(f"streamlit did not start within {timeout} s (log: {log_path})")
            time.sleep(0.05)
        yield url, time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        if log_path:
            log.close()


@contextmanager
def chromium():
    """A headless Debian chromium (Playwright gives it a fresh user data dir)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield browser
        finally:
            browser.close()


def open_app(browser, url: str, timeout_ms: float = 60_000):
    """A new page on the app; returns (page, seconds from navigation until the chat input is usable)."""
    page = browser.new_page(viewport=VIEWPORT, locale="zh-CN")
    started = time.perf_counter()
    page.goto(url)
    page.locator(CHAT_INPUT).wait_for(state="visible", timeout=timeout_ms)
    page.wait_for_function(f"() => {{ const t = document.querySelector('{CHAT_INPUT}'); return t && !t.disabled; }}",
                           timeout=timeout_ms)
    return page, time.perf_counter() - started


def wait_idle(page, timeout_ms: float = 30_000) -> None:
    """Until the script run is over (Streamlit shows a 'running' widget while it runs)."""
    page.wait_for_function("() => !document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=timeout_ms)


def ask(page, question: str, timeout_ms: float = 30_000) -> float:
    """Type a question, press Enter; seconds until the answer and its sources are on the page."""
    before = page.locator(MESSAGE).count()
    box = page.locator(CHAT_INPUT)
    box.fill(question)
    started = time.perf_counter()
    box.press("Enter")
    page.wait_for_function(
        """([sel, n]) => {
            const msgs = document.querySelectorAll(sel);
            if (msgs.length < n + 2) return false;
            const last = msgs[msgs.length - 1].innerText;
            return last.includes('来源（') || last.includes('最接近的段落') || last.includes('没有找到答案');
        }""", arg=[MESSAGE, before], timeout=timeout_ms)
    return time.perf_counter() - started
