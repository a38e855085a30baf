"""extractors.pdf: ruled tables, merged cells, text outside tables, stitching across pages, errors.

The sample PDFs (samples/pdf/, made by scripts/generate_samples.py) carry the records printed in
them (<name>.expected.json); here only the grid is checked: every indicator row is found with its
merged 一级/二级 cells, texts and page. The form parser's own test is test_pdf_forms.py.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
from reportlab.lib.pagesizes import A4
from reportlab.lib.pdfencrypt import StandardEncryption
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from extractors.errors import UnreadableFile
from extractors.pdf import PASSWORD_ENV, read_pdf
from schemas.grid import Cell, Document, Grid

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples" / "pdf"
REAL = ROOT / "tests" / "data" / "real"
SAMPLE_PDFS = sorted(SAMPLES.glob("*.pdf"))


def expected(pdf: Path) -> dict:
    return json.loads(pdf.with_suffix(".expected.json").read_text(encoding="utf-8"))


def tables(doc: Document) -> list[Grid]:
    return [g for g in doc.grids if g.is_table]


def texts(doc: Document) -> list[list[str]]:
    return [[c.text for c in g.cells] for g in doc.grids if not g.is_table]


def cell(grid: Grid, text: str) -> Cell:
    found = [c for c in grid.cells if c.text == text]
    assert len(found) == 1, f"{text!r} found {len(found)} times"
    return found[0]


def row_texts(grid: Grid, row: int) -> list[str]:
    """Texts of the cells covering a row (merged cells included), left to right."""
    out: list[str] = []
    seen: set[int] = set()
    for c in grid.slots()[row]:
        if c is not None and id(c) not in seen:
            seen.add(id(c))
            out.append(c.text)
    return out


def num(x: float | None) -> str:
    return "" if x is None else f"{x:.2f}".rstrip("0").rstrip(".")


@pytest.fixture(scope="module")
def docs() -> dict[str, Document]:
    return {pdf.stem: read_pdf(pdf) for pdf in SAMPLE_PDFS}


def test_samples_exist():
    assert len(SAMPLE_PDFS) >= 10
    assert all(p.with_suffix(".expected.json").exists() for p in SAMPLE_PDFS)


@pytest.mark.parametrize("pdf", SAMPLE_PDFS, ids=lambda p: p.stem)
def test_every_indicator_row_is_one_grid_row(pdf: Path, docs: dict[str, Document]):
    """Each printed 三级 row is one grid row covered by its 一级/二级 cells, on its page."""
    doc = docs[pdf.stem]
    exp = expected(pdf)
    assert doc.pages == exp["pages"]
    assert doc.extractor == "pdf"
    assert doc.n_tables == len(tables(doc)) >= 1
    rows = [(g, r) for g in tables(doc) for r in range(g.n_rows)]
    cursor = 0
    for form in exp["forms"]:
        for ind in form["indicators"]:
            while cursor < len(rows):
                grid, r = rows[cursor]
                cursor += 1
                starting = {c.text for c in grid.cells if c.row == r}
                if ind["level3"] in starting:
                    break
            else:
                pytest.fail(f"row {ind['level3']} of {form['name']} not found")
            covered = row_texts(grid, r)
            for key in ("level1", "level2", "level3", "target_text", "actual_text"):
                if ind[key]:
                    assert ind[key] in covered, (key, covered)
            if ind["weight"] is not None:
                assert num(ind["weight"]) in covered and num(ind["score"]) in covered
            if ind["deviation_reason"]:
                assert ind["deviation_reason"] in covered
            assert grid.page_of_row(r) == ind["page"]


@pytest.mark.parametrize("pdf", SAMPLE_PDFS, ids=lambda p: p.stem)
def test_form_titles_and_names_are_read(pdf: Path, docs: dict[str, Document]):
    doc = docs[pdf.stem]
    lines = [line for block in texts(doc) for line in block]
    cells = {c.text for g in tables(doc) for c in g.cells}
    for form in expected(pdf)["forms"]:
        assert form["name"] in cells or any(form["name"] in t for t in cells)
        assert any(str(form["fiscal_year"]) in line for line in lines)
    for g in doc.grids:
        assert all(c.page is not None for c in g.cells)
        assert len(g.row_pages) == g.n_rows


def test_three_forms_one_per_page(docs):
    doc = docs["self_eval_three_forms"]
    assert [g.is_table for g in doc.grids] == [False, True] * 3
    assert texts(doc)[0] == ["财政项目支出绩效自评表", "(2020 年度)"]
    first = tables(doc)[0]
    assert {c.page for c in first.cells} == {1}
    name = cell(first, "职业培训基础能力建设资助")
    assert (name.row, name.col, name.colspan) == (0, 1, 7)
    assert cell(first, "项目资金（元）").rowspan == 5
    assert cell(first, "年度总体目标").rowspan == 2
    assert cell(first, "产出指标").rowspan == 4
    assert cell(first, "效益指标").rowspan == 6
    assert cell(first, "满意度指标").rowspan == 6
    assert cell(first, "可持续影响指标").rowspan == 4
    assert cell(first, "其中：当年财政拨款").text == "其中：当年财政拨款"  # wrapped in the PDF
    total = cell(first, "总分")
    assert (total.colspan, total.row) == (5, first.n_rows - 1)
    assert row_texts(first, total.row)[:3] == ["总分", "100", "93.2"]


def test_repeated_header_dropped_and_cut_spans_continued(docs):
    doc = docs["self_eval_multipage_repeated_header"]
    header, grid = tables(doc)
    assert texts(doc) == [["项目支出绩效自评表", "（2021年度）", "单位：元"]]  # footers dropped
    assert sorted(set(grid.row_pages)) == [1, 2, 3]
    assert [c.text for c in grid.cells].count("一级指标") == 1
    assert grid.n_rows == 1 + 31 + 1
    assert cell(grid, "产出指标").rowspan == 19
    assert cell(grid, "数量指标").rowspan == 10
    assert cell(grid, "效益指标").rowspan == 7
    assert cell(grid, "满意度指标").rowspan == 5
    assert all(c.row + c.rowspan <= grid.n_rows for c in grid.cells)
    assert cell(header, "项目资金（元）").rowspan == 5


def test_row_split_over_a_page_break_is_joined(docs):
    doc = docs["self_eval_split_row_cut_span"]
    (grid,) = tables(doc)
    reason = expected(SAMPLES / "self_eval_split_row_cut_span.pdf")["forms"][0]["indicators"][7]
    split = cell(grid, reason["deviation_reason"])
    assert split.rowspan == 1 and split.page == 1
    r = split.row
    assert grid.row_pages[r] == 1 and grid.row_pages[r + 1] == 2
    assert row_texts(grid, r)[:4] == [
        "绩效指标",
        "效益指标",
        "社会效益指标",
        "老年人就近养老需求满足率",
    ]
    assert cell(grid, "效益指标").rowspan == 4
    assert cell(grid, "社会效益指标").rowspan == 2
    assert cell(grid, "绩效指标").rowspan == 14
    assert cell(grid, "家庭照护负担减轻情况").row == r + 1


def test_back_to_back_forms_stitch_a_table_begun_at_the_page_bottom(docs):
    doc = docs["self_eval_back_to_back"]
    assert [g.is_table for g in doc.grids] == [False, True, False, True]
    second = tables(doc)[1]
    assert second.row_pages[0] == 1 and second.row_pages[-1] == 2
    assert second.n_cols == 8
    name = cell(second, "社区公共卫生服务能力建设")
    assert (name.col, name.colspan) == (1, 7)


def test_wanyuan_values_and_touching_tables(docs):
    doc = docs["self_eval_wanyuan"]
    first = tables(doc)[0]
    assert cell(first, "项目资金（万元）").rowspan == 5
    assert "1,234.56" in {c.text for c in first.cells}
    assert texts(doc)[1] == ["项目支出绩效自评表", "（2022年度）", "单位：万元"]


def test_policy_declaration_empty_second_level_rows(docs):
    doc = docs["policy_target_declaration"]
    info, grid = tables(doc)
    assert texts(doc) == [
        ["财政政策绩效目标申报表", "评价时段：（2023年01月-2023年12月）"],
        ["财政政策绩效目标申报表"],
    ]
    assert cell(info, "当年投入资金构成").rowspan == 4
    assert cell(info, "政策目标").rowspan == 3
    timely = cell(grid, "时效指标")
    assert row_texts(grid, timely.row) == ["产出指标", "时效指标", "", ""]
    assert cell(grid, "产出指标").rowspan == 9


def test_project_declaration_single_value_column(docs):
    (grid,) = tables(docs["project_target_declaration_2026"])
    assert cell(grid, "项目资金（元）").rowspan == 4
    assert cell(grid, "其中：财政资金").rowspan == 2
    assert row_texts(grid, cell(grid, "文明施工情况").row) == [
        "成本指标",
        "生态环境成本指标",
        "文明施工情况",
        "可控",
    ]


def test_budget_table_without_forms(docs):
    doc = docs["budget_summary_no_forms"]
    (grid,) = tables(doc)
    assert texts(doc) == [["2025年部门财务收支预算总表", "编制部门：上海市普陀区示例局 单位：元"]]
    assert grid.n_rows == 13 and grid.n_cols == 4
    assert cell(grid, "本年收入").colspan == 2


# --- synthetic PDFs made in the test ----------------------------------------------------------


def _table_pdf(path: Path, **kwargs: object) -> None:
    """A 2×2 ruled table with wrapped cells (built-in CID font: no font file needed)."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    c = canvas.Canvas(str(path), pagesize=A4, invariant=1, **kwargs)
    c.setFont("STSong-Light", 10)
    c.drawString(72, 760, "标题文字")
    for y in (700, 650, 600):
        c.line(72, y, 372, y)
    for x in (72, 222, 372):
        c.line(x, 600, x, 700)
    c.drawString(76, 686, "improve the")
    c.drawString(76, 674, "quality")
    c.drawString(226, 686, "中文换行的")
    c.drawString(226, 674, "单元格")
    c.drawString(76, 636, "13,303,15")
    c.drawString(76, 624, "0.10")
    c.save()


TURNED_ROWS = [
    ["项目名称", "乡村道路养护", "", "", "", ""],
    ["一级指标", "二级指标", "三级指标", "年度指标值", "分值", "得分"],
    ["产出指标", "数量指标", "养护里程", "≥120公里", "50", "50"],
    ["效益指标", "社会效益指标", "群众出行便利度", "提高", "40", "40"],
    ["满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", "10", "10"],
]


def _landscape_form(path: Path, turn: int) -> None:
    """A landscape form drawn on a portrait page turned by ``turn`` degrees anticlockwise (0: on a
    landscape page), as some producers print a landscape section."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    width, height = A4
    c = canvas.Canvas(str(path), pagesize=(height, width) if turn == 0 else A4, invariant=1)
    if turn == 90:
        c.translate(width, 0)
    elif turn == -90:
        c.translate(0, height)
    c.rotate(turn)
    c.setFont("STSong-Light", 14)
    c.drawCentredString(height / 2, width - 60, "项目支出绩效自评表（2025年度）")
    xs = [80, 180, 300, 440, 560, 620, 700]
    for r, row in enumerate(TURNED_ROWS):
        top = width - 90 - 24 * r
        for k, text in enumerate(row):
            c.rect(xs[k], top - 24, xs[k + 1] - xs[k], 24)
            c.setFont("STSong-Light", 9)
            c.drawString(xs[k] + 3, top - 15, text)
    c.save()


@pytest.mark.parametrize("turn", [90, -90])
def test_a_landscape_table_turned_on_a_portrait_page_reads_like_the_upright_one(tmp_path, turn):
    upright, turned = tmp_path / "upright.pdf", tmp_path / "turned.pdf"
    _landscape_form(upright, 0)
    _landscape_form(turned, turn)
    want, got = read_pdf(upright), read_pdf(turned)

    def cells(doc: Document) -> list[list[tuple[int, int, int, int, str]]]:
        return [
            [(c.row, c.col, c.rowspan, c.colspan, c.text) for c in g.cells] for g in tables(doc)
        ]

    assert cells(got) == cells(want) and texts(got) == texts(want)
    (table,) = tables(got)
    assert [c.text for c in table.cells if c.row == 2] == TURNED_ROWS[2]
    x0, top, x1, bottom = cell(table, "养护里程").bbox  # in points of the page read upright
    assert (x0, top) == pytest.approx(cell(tables(want)[0], "养护里程").bbox[:2], abs=0.5)


def test_cell_lines_are_joined_by_script(tmp_path):
    pdf = tmp_path / "t.pdf"
    _table_pdf(pdf)
    doc = read_pdf(pdf)
    (grid,) = tables(doc)
    assert (grid.n_rows, grid.n_cols) == (2, 2)
    assert row_texts(grid, 0) == ["improve the quality", "中文换行的单元格"]
    assert row_texts(grid, 1) == ["13,303,150.10", ""]
    assert texts(doc) == [["标题文字"]]
    assert grid.cells[0].bbox == pytest.approx((72, 842 - 700, 222, 842 - 650), abs=0.5)


def test_encrypted_pdf_needs_the_password(tmp_path, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    pdf = tmp_path / "locked.pdf"
    _table_pdf(pdf, encrypt=StandardEncryption("s3cret", ownerPassword="owner"))
    with pytest.raises(UnreadableFile, match="password") as err:
        read_pdf(pdf)
    assert PASSWORD_ENV in str(err.value) and "locked.pdf" in str(err.value)
    with pytest.raises(UnreadableFile, match="wrong"):
        read_pdf(pdf, password="nope")
    assert len(tables(read_pdf(pdf, password="s3cret"))) == 1
    monkeypatch.setenv(PASSWORD_ENV, "s3cret")
    assert len(tables(read_pdf(pdf))) == 1


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8, "not a PDF"),
        (b"%PDF-1.4\n" + bytes(range(256)) * 8 + b"\n%%EOF\n", "corrupt"),
    ],
    ids=["empty", "not_pdf", "corrupt"],
)
def test_unreadable_files(tmp_path, content, message):
    path = tmp_path / "bad.pdf"
    path.write_bytes(content)
    with pytest.raises(UnreadableFile, match=message):
        read_pdf(path)


def test_truncated_pdf(tmp_path):
    data = (SAMPLES / "self_eval_three_forms.pdf").read_bytes()
    path = tmp_path / "cut.pdf"
    path.write_bytes(data[: len(data) * 2 // 3])
    with pytest.raises(UnreadableFile, match="truncated"):
        read_pdf(path)


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableFile, match="does not exist"):
        read_pdf(tmp_path / "nowhere.pdf")


def test_pages_without_text_layer_are_counted(tmp_path):
    from PIL import Image

    pdf = tmp_path / "scan.pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4, invariant=1)
    c.drawImage(ImageReader(Image.new("L", (200, 280), 200)), 50, 50, 495, 742)
    c.showPage()
    c.setFont("Helvetica", 12)
    c.drawString(72, 760, "page two has text")
    c.showPage()
    c.save()
    doc = read_pdf(pdf)
    assert doc.pages == 2
    assert doc.scanned_pages == [1]
    assert "no text layer" in doc.notes[0]
    assert texts(doc) == [["page two has text"]]


def test_text_an_opaque_picture_paints_over_is_not_read(tmp_path):
    """The page shows what is drawn last: a title's first copy and its year line under a white
    picture are not read; the title drawn over the picture is. A picture covering the page over
    its text is a scan over its OCR layer: the page is read from the picture (here blank)."""
    from PIL import Image

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    white = ImageReader(Image.new("RGB", (60, 10), "white"))
    pdf = tmp_path / "painted.pdf"
    c = canvas.Canvas(str(pdf), pagesize=A4, invariant=1)
    c.setFont("STSong-Light", 12)
    c.drawString(200, 780, "项目绩效目标表")
    c.drawString(220, 764, "(2025年度)")
    c.drawImage(white, 100, 740, 400, 60)
    c.drawString(72, 780, "（二）部门预算")
    c.drawString(200, 750, "项目绩效目标表")
    c.showPage()
    c.setFont("STSong-Light", 12)
    c.drawString(72, 760, "扫描页的文字层由识别软件写在图下")
    c.drawImage(white, 0, 0, 595, 842)
    c.save()
    doc = read_pdf(pdf)
    assert texts(doc) == [["（二）部门预算", "项目绩效目标表"]]
    assert doc.scanned_pages == [2]


# --- real PDFs --------------------------------------------------------------------------------


@pytest.mark.parametrize("pdf", sorted(REAL.glob("*.pdf")), ids=lambda p: p.stem)
def test_real_pdfs_read_in_bounded_time(pdf: Path):
    start = time.perf_counter()
    doc = read_pdf(pdf)
    assert time.perf_counter() - start < 10
    assert doc.pages and doc.n_tables >= 5
    assert not doc.scanned_pages
    for grid in tables(doc):
        assert all(0 <= c.row < grid.n_rows and 0 <= c.col < grid.n_cols for c in grid.cells)


def test_real_rotated_budget_tables():
    doc = read_pdf(REAL / "jiangsu_rendachang_2019_budget_tables_rotated.pdf")
    assert texts(doc)[0] == ["收支预算总表", "公开表一", "部门： 江苏省人大常委会办公厅 单位：万元"]
    first = tables(doc)[0]
    assert row_texts(first, 0) == ["收入", "支出"]
    assert [(c.row, c.rowspan) for c in first.cells if c.text == "项目名称"] == [(1, 2), (2, 1)]
    assert row_texts(first, 3)[:2] == ["一、财政拨款", "18,330.37"]


def test_real_table_continued_on_the_next_page():
    doc = read_pdf(REAL / "putuo_district_office_2025_budget_wps.pdf")
    income = next(g for g in tables(doc) if any(c.text == "财政拨款收入" for c in g.cells))
    assert sorted(set(income.row_pages)) == [9, 10]
    assert [c.text for c in income.cells].count("功能分类科目编码") == 1
    assert row_texts(income, income.n_rows - 1)[:2] == ["合计", "91,016,775.35"]
