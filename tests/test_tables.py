"""A figure in a table is read by row and column: the row naming the indicator, the column whose header fits the
asked year and result-or-target. Tables written for the test, as readers give them (tabs, Markdown pipes)."""

from __future__ import annotations

from assistant.answerability import needs_of
from assistant.tables import cells, find_cell, is_row

TEXT = ("一、主要目标\n丰城高新区2023年主要经济指标目标表\n"
        "指标\t2022年完成\t2023年目标\t增长\n"
        "营业收入（亿元）\t286.5\t320\t11.7%\n"
        "实际使用外资（万美元）\t3100\t3500\t12.9%\n"
        "在此基础上，力争新材料产业产值突破100亿元。\n"
        "| 类别 | 指标 | 2020年 | 2025年 | 年均增长 |\n"
        "| 经济发展 | 规上工业增加值（亿元） | 98.5 | 150 | 8.8% |\n")


def everything():
    return [(0, len(TEXT))]


def test_rows_and_cells():
    assert is_row("指标\t2022年完成\t2023年目标\t增长") and is_row("| 经济发展 | 营业收入 | 1 | 2 |")
    assert not is_row("全年实现营业收入286.5亿元，同比增长11.7%。")
    assert cells("| 经济发展 | 营业收入 | 1 |") == ["经济发展", "营业收入", "1"]


def test_result_column_for_a_result_question():
    cell = find_cell(TEXT, ["营业收入"], needs_of("丰城高新区2022年营业收入完成了多少?", True), everything())
    assert (cell.column, cell.value) == ("2022年完成", "286.5")
    assert TEXT[cell.header_start:cell.header_end].startswith("指标\t")


def test_target_column_for_a_target_question():
    cell = find_cell(TEXT, ["实际使用外资"], needs_of("2023年实际使用外资目标是多少?", True), everything())
    assert (cell.column, cell.value, cell.label) == ("2023年目标", "3500", "实际使用外资（万美元）")


def test_growth_column_for_a_rate_question():
    cell = find_cell(TEXT, ["营业收入"], needs_of("营业收入计划增长多少?", True), everything())
    assert cell.value == "11.7%"


def test_markdown_table_by_year():
    cell = find_cell(TEXT, ["规上工业增加值"], needs_of("2025年规上工业增加值要达到多少亿?", True), everything())
    assert (cell.column, cell.value) == ("2025年", "150")


def test_no_column_fits_no_cell():
    assert find_cell(TEXT, ["营业收入"], needs_of("2019年营业收入是多少?", True), everything()) is None
    assert find_cell(TEXT, ["税收收入"], needs_of("2022年税收收入是多少?", True), everything()) is None
