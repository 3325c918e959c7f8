"""Tables in a document's text: rows as readers give them (tab-separated cells from .docx, .pdf and .html, Markdown pipes),
each read against its header, so that a figure is answered by row and column and never apart from its header.

    指标\t2021年完成\t2022年目标\t增长
    实际使用外资（万美元）\t4650\t5000\t7.5%

"泗阳经开区2021年实际使用外资完成了多少?" is the row's 2021年完成 cell: 4650, in the row's unit (万美元).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .answerability import Needs
from .lexicon import pattern
from .text import fold, is_table_row as is_row, normalize, row_cells, table_at

_YEAR = re.compile(r"((?:19|20)\d{2})")


_TARGET = pattern("answers", "target_markers", normalize)
_RESULT = pattern("answers", "result_markers", normalize)
_RATE = pattern("answers", "measure_rate", normalize)


def cells(line: str) -> list[str]:
    return row_cells(line)


@dataclass
class TableCell:
    row_start: int  # offsets of the row and of the header row in the document text
    row_end: int
    header_start: int
    header_end: int
    column: str  # the header cell
    value: str  # the cell
    label: str  # the row's label (its first cells, the indicator with its unit)


def rows_around(text: str, pos: int) -> tuple[tuple[int, int], list[tuple[int, int]]] | None:
    """The table holding the line at `pos`: (header line span, [row line spans]). Rows after a group label
    ("二、创新指标" across the table) are read against the table's first header (text.table_blocks)."""
    block = table_at(text, pos)
    return (block.header, list(block.rows)) if block else None


def _column_score(head: str, needs: Needs) -> float:
    h = normalize(fold(head))
    years = [int(y) for y in _YEAR.findall(h)]
    score = 0.0
    if needs.years:
        score += 2 if any(y in needs.years for y in years) else (-2 if years else 0)
    plan = bool(_TARGET.search(h))
    result = bool(_RESULT.search(h))
    if needs.wants == "target":
        score += 1 if plan else (-1 if result else 0)
    elif needs.wants == "result":
        score += 1 if result else (-1 if plan else 0)
    if needs.measure == "rate":
        score += 2 if _RATE.search(h) or "%" in h else 0
    elif _RATE.search(h):
        score -= 0.5
    return score


def _contradicts(head: str, needs: Needs) -> bool:
    """A column of another year, or a target column for a result question (and the other way round)."""
    h = normalize(fold(head))
    years = [int(y) for y in _YEAR.findall(h)]
    if needs.years and years and not any(y in needs.years for y in years):
        return True
    if needs.wants == "result" and _TARGET.search(h):
        return True
    return needs.wants == "target" and bool(_RESULT.search(h)) and not _TARGET.search(h)


def find_cell(text: str, forms: list[str], needs: Needs, within: list[tuple[int, int]]) -> TableCell | None:
    """The cell that answers: a row (in the passages `within`) naming the indicator, the column whose header
    fits the asked year, result-or-target and quantity. None when no row names it or no column fits."""
    for lo, hi in within:
        pos = lo
        while pos < hi:
            end = text.find("\n", pos)
            end = hi if end < 0 or end > hi else end
            line = text[pos:end]
            if is_row(line) and any(f in normalize(fold(line)) for f in forms):
                table = rows_around(text, pos)
                if table and table[0][0] != pos:  # the header row names no figure of its own
                    (hs, he), _ = table
                    head, row = cells(text[hs:he]), cells(line)
                    if len(head) == len(row):
                        value_cols = [i for i, c in enumerate(row) if re.search(r"\d", c)]
                        label = " ".join(c for i, c in enumerate(row) if i not in value_cols)
                        fits = [i for i in value_cols if not _contradicts(head[i], needs)]
                        scored = sorted(((_column_score(head[i], needs), i) for i in fits), reverse=True)
                        if scored and scored[0][0] > 0 and (len(scored) == 1 or scored[0][0] > scored[1][0]):
                            i = scored[0][1]
                            return TableCell(pos, end, hs, he, head[i], row[i], label)
            pos = end + 1
    return None
