"""Shared constants and helpers for the app tests (AppTest element lookups, the test document)."""

from __future__ import annotations

import html
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "app.py"
ARTIFACTS = ROOT / "tests" / "artifacts"

# A small document with one fact of its own, and markup that must stay text.
NEW_DOC = """在青山高新区2024年工作会议上的讲话
王某某
(2024年2月1日)
同志们:
一、2023年工作回顾
2023年,青山高新区营业收入达到123.45亿元,同比增长8.6%<script>alert(1)</script>。
全区新增高新技术企业36家<img src=x onerror=alert(2)>,科技创新能力持续增强![追踪](http://127.0.0.1:9/p.png)。
二、2024年重点任务
一是加快建设新材料产业园。二是推进数字经济产业园建设。三是优化营商环境,深化“放管服”改革。
"""


# ------------------------------------------------------------------------------------------ helpers


def ask(at, question: str):
    at.chat_input(key="chat").set_value(question).run()
    assert not at.exception, at.exception
    return at


def assistant_messages(at):
    return [m for m in at.chat_message if m.name == "assistant"]


def user_messages(at):
    return [m for m in at.chat_message if m.name == "user"]


def texts(block) -> str:
    """Every Markdown text (and caption, alert) in a block, joined."""
    parts = [m.value for m in block.markdown] + [c.value for c in block.caption]
    for kind in ("warning", "info", "error", "success"):
        parts += [a.value for a in getattr(block, kind)]
    return "\n".join(parts)


def unescape(markdown: str) -> str:
    """The text a reader sees, roughly: Markdown backslash escapes and HTML entities undone."""
    return html.unescape(re.sub(r"\\(.)", r"\1", markdown)).replace("\u200b", "")


def one_line(text: str) -> str:
    """Document text as the app shows it inline: its line breaks as spaces."""
    return re.sub(r"\s*\n\s*", " ", text)


def quoted(answer, quote, zone: bool = True) -> str:
    """A quote as the app shows it (after `unescape`): 「text」 and its citation chip [n · zone]."""
    n = answer.number(quote)
    label = f"{n} · {quote.zone}" if zone and quote.zone else str(n)
    return f"「{one_line(quote.text)}」 :blue-badge[{label}]"


def captions(block) -> list[str]:
    return [c.value for c in block.caption]


def sidebar_table(at):
    return at.sidebar.dataframe[0].value
