"""Tables in .docx, .pdf and .html become table passages: the readers give one text form for all three (a caption
line, then one line per row, cells separated by tabs, the header row first), the chunker makes the header row
and each data row a passage of its own with the header and caption in its metadata, and a target in a row is
answered with the row's quote and its header's. Every document here is written for the test."""

from __future__ import annotations

import io

import pytest

from assistant.chunking import chunk, search_text
from assistant.loading import parse_text
from assistant.readers import read_raw
from assistant.text import table_blocks
from library_kit import library_with
from pdfkit import make_cjk_pdf, text_width

CAPTION = "表1 2024年主要经济指标目标"
HEADER = ("指标", "2023年完成", "2024年目标", "增长")


def zone_rows(base: float) -> list[tuple[str, str, str, str]]:
    """Rows of a target table; `base` makes each document's figures its own."""
    return [
        ("规上工业增加值（亿元）", f"{base:g}", f"{base + 15:g}", "12%"),
        ("实际使用外资（万美元）", f"{base * 40:g}", f"{base * 44:g}", "10%"),
        ("高新技术企业（家）", "58", "70", "20.7%"),
    ]


def intro(zone: str) -> list[str]:
    return [
        f"{zone}2024年工作要点",
        f"2024年是{zone}加快转型升级的关键之年。全区工作的总体要求是：坚持稳中求进工作总基调，"
        "聚焦新材料、智能装备两大主导产业，扎实推进项目建设、科技创新和营商环境优化，奋力实现经济发展新突破。",
        "一、主要目标",
        "2024年全区主要经济指标安排如下：",
    ]


OUTRO = [
    "在此基础上，力争新材料产业营业收入突破100亿元，新增规上工业企业12家。",
    "二、重点任务",
    "（一）抓好项目建设。全年实施亿元以上重点项目30个，完成项目投资85亿元，新开工项目18个。",
    "（二）强化科技创新。新建省级研发平台5家，全年研发经费投入增长15%以上。",
]


# ------------------------------------------------------------------------------------------- documents


def docx_bytes(zone: str, base: float) -> bytes:
    import docx

    document = docx.Document()
    for line in intro(zone):
        document.add_paragraph(line)
    document.add_paragraph(CAPTION)
    rows = [HEADER, *zone_rows(base)]
    table = document.add_table(rows=len(rows), cols=len(HEADER))
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            table.cell(r, c).text = value
    for line in OUTRO:
        document.add_paragraph(line)
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


COLUMNS = (72, 230, 320, 410)


def pdf_bytes(zone: str, base: float, header=HEADER, rows=None) -> bytes:
    """The document on one A4 page: the table's cells drawn at column x's, numbers right-aligned in their column."""
    runs, y = [], 780

    def line(text: str, x: float = 72) -> None:
        nonlocal y
        runs.append((x, y, text))
        y -= 22

    for text in intro(zone)[:1]:
        line(text)
    body = intro(zone)[1]
    for i in range(0, len(body), 40):  # hard-wrapped at 40 characters, as a PDF's lines are
        line(body[i:i + 40])
    for text in intro(zone)[2:] + [CAPTION]:
        line(text)
    for row in [header, *(rows or zone_rows(base))]:
        for x, cell in zip(COLUMNS, row):
            if cell:
                numeric = cell[0].isdigit()
                runs.append((x + 60 - text_width(cell) if numeric and x > 72 else x, y, cell))
        y -= 22
    for text in OUTRO:
        line(text)
    return make_cjk_pdf([runs])


def html_text(zone: str, base: float) -> str:
    head = "".join(f"<th>{h}</th>" for h in HEADER)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in zone_rows(base))
    paras = intro(zone)
    return (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{paras[0]}</title></head><body>"
            f"<h1>{paras[0]}</h1>" + "".join(f"<p>{p}</p>" for p in paras[1:])
            + f"<table border='1'><caption>{CAPTION}</caption><thead><tr>{head}</tr></thead>"
            f"<tbody>{body}</tbody></table>" + "".join(f"<p>{p}</p>" for p in OUTRO) + "</body></html>")


def table_lines(base: float) -> list[str]:
    return [CAPTION, "\t".join(HEADER)] + ["\t".join(row) for row in zone_rows(base)]


# ------------------------------------------------------------------------------------------- readers


@pytest.mark.parametrize("suffix", [".docx", ".pdf", ".html"])
def test_readers_give_one_table_form(tmp_path, suffix):
    """Caption line, header row, data rows: tab-separated cells, one row per line, in every format."""
    make = {".docx": docx_bytes, ".pdf": pdf_bytes, ".html": lambda z, b: html_text(z, b).encode("utf-8")}[suffix]
    path = tmp_path / f"doc{suffix}"
    path.write_bytes(make("丰城经开区", 120.5))
    lines = read_raw(path).splitlines()
    at = lines.index(CAPTION)
    assert lines[at:at + 5] == table_lines(120.5)
    assert OUTRO[0] in lines  # the text around the table is read as before


def test_pdf_empty_cells_stay_in_their_column(tmp_path):
    """An empty corner in the header and an empty cell in a row: each row keeps as many cells as the header."""
    rows = [("营业收入（亿元）", "286.5", "", "11.7%"), ("税收收入（亿元）", "13.8", "15.2", "10.1%")]
    path = tmp_path / "gaps.pdf"
    path.write_bytes(pdf_bytes("樟树经开区", 0, header=("", "2023年完成", "2024年目标", "增长"), rows=rows))
    lines = read_raw(path).splitlines()
    at = lines.index(CAPTION)
    assert lines[at + 1:at + 4] == ["\t2023年完成\t2024年目标\t增长", "营业收入（亿元）\t286.5\t\t11.7%",
                                    "税收收入（亿元）\t13.8\t15.2\t10.1%"]


def test_pdf_without_a_table_reads_as_before(tmp_path):
    path = tmp_path / "plain.pdf"
    path.write_bytes(make_cjk_pdf([[(72, 780, "高安经开区2024年工作要点"), (72, 750, "党工委书记 李明"),
                                    (72, 720, "全年实现营业收入 286.5 亿元，增长 11.7%。")]]))
    assert read_raw(path).splitlines() == ["高安经开区2024年工作要点", "党工委书记 李明",
                                           "全年实现营业收入 286.5 亿元，增长 11.7%。"]


def test_html_spans_groups_and_layout_tables(tmp_path):
    page = """<html><body><p>正文开始。</p>
    <table><caption>表2 <b>重点</b>指标</caption>
    <tr><th rowspan="2">指标</th><th colspan="2">2024年</th></tr>
    <tr><th>目标</th><th>增长</th></tr>
    <tr><td colspan="3">一、经济指标</td></tr>
    <tr><td>规上工业<br>增加值（亿元）</td><td>135</td><td rowspan="2">12%</td></tr>
    <tr><td><span>税收</span>收入（亿元）</td><td>15</td></tr>
    </table>
    <table><tr><td><table><tr><td>甲</td><td>乙</td></tr><tr><td>丙</td><td>丁</td></tr></table></td>
    <td>侧栏</td></tr></table><p>正文结束。</p></body></html>"""
    path = tmp_path / "spans.html"
    path.write_text(page, "utf-8")
    assert read_raw(path).splitlines() == [
        "正文开始。", "表2 重点指标",
        "指标\t2024年目标\t2024年增长",  # a two-level header read as one row
        "一、经济指标",  # one cell across the table: a group label, not three copies
        "规上工业增加值（亿元）\t135\t12%",
        "税收收入（亿元）\t15\t12%",  # rowspan: the value stands in each row it covers
        "甲\t乙", "丙\t丁",  # the inner table is data; the outer one, which holds it, is layout
        "侧栏", "正文结束。"]


def test_docx_title_row_and_vertical_merge(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("正文开始。")
    table = document.add_table(rows=4, cols=3)
    table.cell(0, 0).merge(table.cell(0, 2)).text = "表3 工业指标"
    for c, value in enumerate(("类别", "指标", "2024年目标")):
        table.cell(1, c).text = value
    table.cell(2, 0).merge(table.cell(3, 0)).text = "工业"
    table.cell(2, 1).text, table.cell(2, 2).text = "规上工业\n增加值（亿元）", "135"
    table.cell(3, 1).text, table.cell(3, 2).text = "工业投资（亿元）", "60"
    document.add_paragraph("正文结束。")
    document.save(tmp_path / "merged.docx")
    assert read_raw(tmp_path / "merged.docx").splitlines() == [
        "正文开始。", "表3 工业指标", "类别\t指标\t2024年目标",
        "工业\t规上工业增加值（亿元）\t135", "工业\t工业投资（亿元）\t60", "正文结束。"]


def test_loader_keeps_a_header_rows_empty_corner():
    doc = parse_text("某经开区主要指标如下：\n\t2023年\t2024年\n营业收入\t286.5\t320\n税收\t13.8\t15.2\n", "t.txt")
    assert "\n\t2023年\t2024年\n" in doc.text


# ------------------------------------------------------------------------------------------- chunking


def test_table_passages_one_per_row_with_header_and_caption():
    raw = "\n".join(intro("丰城经开区") + table_lines(120.5) + OUTRO)
    text = parse_text(raw, "t.txt").text
    passages = chunk(text)
    rows = [p for p in passages if p.kind == "table_row"]
    header = [p for p in passages if p.kind == "table_header"]
    assert [p.text for p in rows] == ["\t".join(r) for r in zone_rows(120.5)]
    assert [p.text for p in header] == ["\t".join(HEADER)]
    hs, he = header[0].start, header[0].end
    for p in rows:
        assert text[p.start:p.end] == p.text  # verbatim at its offsets
        assert p.table_header == "\t".join(HEADER) and p.table_caption == CAPTION
        assert (p.header_start, p.header_end) == (hs, he) and text[hs:he] == p.table_header
        assert p.section == "一、主要目标"
        assert p.meta["passage"] == "table_row" and p.meta["table_caption"] == CAPTION
        seen = search_text(p.text, p.meta)
        assert seen.split("\n") == [CAPTION, "\t".join(HEADER), p.text]  # what search sees
    # the text around the table is chunked as before, and nothing is lost
    assert any(OUTRO[0] in p.text for p in passages if p.kind == "text")
    covered = "".join(text[p.start:p.end] for p in passages)
    assert covered.replace("\n", "") == text.replace("\n", "")


def test_rows_after_a_group_label_keep_the_first_header():
    text = ("表4 指标\n指标\t2023年\t2024年\n营业收入\t1\t2\n税收\t3\t4\n创新指标\n研发投入\t5\t6\n专利\t7\t8\n"
            "在此基础上继续努力。")
    blocks = table_blocks(text)
    assert len(blocks) == 2 and blocks[0].header == blocks[1].header
    rows = [p for p in chunk(text) if p.kind == "table_row"]
    assert [p.text for p in rows] == ["营业收入\t1\t2", "税收\t3\t4", "研发投入\t5\t6", "专利\t7\t8"]
    assert {p.table_header for p in rows} == {"指标\t2023年\t2024年"}
    assert {p.table_caption for p in rows} == {"表4 指标"}


def test_a_row_is_never_a_heading():
    text = "二、主要目标\n类别\t指标\t目标\n一、经济\t营业收入\t320\n二、创新\t研发投入\t9\n三、重点任务\n抓项目。"
    passages = chunk(text)
    assert [p.section for p in passages if p.kind != "text"] == ["二、主要目标"] * 3
    assert passages[-1].section == "三、重点任务"


# ------------------------------------------------------------------------------------------- answers


ZONES = {  # zone -> (format, base figure): the same table in each format, with each document's own figures
    "丰城经开区": (".docx", 120.5),
    "樟树经开区": (".pdf", 88.2),
    "高安经开区": (".html", 64.6),
}


@pytest.fixture(scope="module")
def library(tmp_path_factory, shared_cache):
    makers = {".docx": docx_bytes, ".pdf": pdf_bytes, ".html": lambda z, b: html_text(z, b)}
    files = {f"{zone}2024年工作要点{suffix}": makers[suffix](zone, base) for zone, (suffix, base) in ZONES.items()}
    return library_with(tmp_path_factory, shared_cache, files, label="tables")


@pytest.mark.parametrize("zone", list(ZONES))
def test_a_target_in_a_table_row_is_answered_with_the_row_and_its_header(library, zone):
    suffix, base = ZONES[zone]
    ans = library.ask(f"{zone}2024年规上工业增加值的目标是多少?")
    assert ans.kind == "answer", ans.reason
    row, figure = "\t".join(zone_rows(base)[0]), f"{base + 15:g}"
    lead = ans.lead[0]
    assert lead.doc.endswith(suffix) and lead.text == row and figure in lead.text
    text = library.store.document_text(lead.doc)
    assert text[lead.start:lead.end] == lead.text  # verbatim, cited at its offsets
    header = [q for q in ans.quotes if q.text == "\t".join(HEADER)]
    assert header and header[0].doc == lead.doc and text[header[0].start:header[0].end] == header[0].text
    assert ans.number(lead) and ans.number(header[0])  # both cited
    assert ans.extras["table_cell"] == {"row": "规上工业增加值（亿元）", "column": "2024年目标", "value": figure}


@pytest.mark.parametrize("zone", list(ZONES))
def test_the_row_passage_carries_its_header_and_caption(library, zone):
    suffix, base = ZONES[zone]
    hits = library.retriever.search(f"{zone}2024年实际使用外资目标", k=3)
    top = hits[0]
    assert top.doc.endswith(suffix) and top.text == "\t".join(zone_rows(base)[1])
    assert top.meta["passage"] == "table_row"
    assert top.meta["table_header"] == "\t".join(HEADER) and top.meta["table_caption"] == CAPTION


def test_the_llm_reads_a_row_with_its_header():
    from assistant.llm import source_header
    from assistant.retrieval import Hit

    row = "\t".join(zone_rows(120.5)[0])
    meta = {"title": "丰城经开区2024年工作要点", "zone": "丰城经开区", "section": "一、主要目标",
            "passage": "table_row", "table_header": "\t".join(HEADER), "table_caption": CAPTION}
    head = source_header(1, Hit("p1", "a.docx", row, 1.0, meta))
    assert f"表格：{CAPTION}" in head and "\t".join(HEADER) in head
    plain = source_header(1, Hit("p2", "a.docx", "正文。", 1.0, {"title": "标题", "section": "一、主要目标"}))
    assert "表头" not in plain
