"""XLS reader: real BIFF workbooks written with xlwt, merged ranges read back as spans."""

import pytest
from form_fixture import (
    FORM_HEIGHT,
    Layout,
    assert_form,
    expected_cells,
    grid_cells,
    layout,
)

from extractors import UnreadableFile, read_document
from extractors.forms import parse_forms

xlwt = pytest.importorskip("xlwt")


def fill(sheet, lay: Layout) -> None:
    """Write a layout into an xlwt sheet: numbers as numbers with their format, the rest as text."""
    starts = {(r, c): (rs, cs) for r, c, rs, cs in lay.merges}
    hidden = {
        (r + i, c + j)
        for r, c, rs, cs in lay.merges
        for i in range(rs)
        for j in range(cs)
        if (i, j) != (0, 0)
    }
    for r, row in enumerate(lay.rows):
        for c, text in enumerate(row):
            if (r, c) in hidden:
                continue
            value, style = text, xlwt.Style.default_style
            if (r, c) in lay.numbers:
                value, fmt = lay.numbers[(r, c)]
                style = xlwt.easyxf(num_format_str=fmt)
            rs, cs = starts.get((r, c), (1, 1))
            if rs > 1 or cs > 1:
                sheet.write_merge(r, r + rs - 1, c, c + cs - 1, value, style)
            elif value != "":
                sheet.write(r, c, value, style)


def write_xls(path, *sheets: Layout, hidden: Layout | None = None):
    book = xlwt.Workbook(encoding="utf-8")
    for k, lay in enumerate(sheets):
        fill(book.add_sheet(f"表{k + 1}"), lay)
    if hidden is not None:
        for k, visibility in enumerate((1, 2)):  # hidden, very hidden
            sheet = book.add_sheet(f"隐藏{k}")
            fill(sheet, hidden)
            sheet.visibility = visibility
    book.save(str(path))
    return path


def test_grid_has_every_row_and_exact_spans(tmp_path):
    lay = layout()
    doc = read_document(write_xls(tmp_path / "form.xls", lay))
    assert (doc.extractor, doc.pages, doc.n_tables) == ("xls", None, 1)
    (grid,) = doc.grids
    assert (grid.n_rows, grid.n_cols, grid.spans_known) == (21, 8, True)
    assert grid_cells(grid) == expected_cells(lay)


def test_form_end_to_end(tmp_path):
    (form,) = parse_forms(read_document(write_xls(tmp_path / "form.xls", layout())))
    assert_form(form)


def test_numbers_as_numbers_and_as_text_and_formula_looking_text(tmp_path):
    doc = read_document(write_xls(tmp_path / "form.xls", layout()))
    text = {(c.row, c.col): c.text for c in doc.grids[0].cells}
    assert (text[(5, 2)], text[(5, 3)], text[(5, 6)]) == ("119,979,860.00", "18562710.00", "71.67%")
    assert (text[(5, 5)], text[(5, 7)], text[(12, 4)]) == ("10", "7.2", "9210")
    assert text[(13, 3)] == "=100%"


def test_hidden_sheets_are_ignored(tmp_path):
    doc = read_document(write_xls(tmp_path / "form.xls", layout(), hidden=layout("隐藏的项目")))
    assert [f.name for f in parse_forms(doc)] == ["职业培训基础能力建设资助"]


def test_two_forms_on_one_sheet(tmp_path):
    lay = layout("职业培训基础能力建设资助", "促进就业专项资金")
    doc = read_document(write_xls(tmp_path / "two.xls", lay))
    assert doc.grids[0].n_rows == 2 * FORM_HEIGHT + 1
    first, second = parse_forms(doc)
    assert_form(first)
    assert_form(second, name="促进就业专项资金")


def test_xls_saved_under_an_xlsx_name_is_read_as_xls(tmp_path):
    xls = write_xls(tmp_path / "form.xls", layout())
    renamed = tmp_path / "form.xlsx"
    renamed.write_bytes(xls.read_bytes())
    (form,) = parse_forms(read_document(renamed))
    assert_form(form)


def test_xlsx_saved_under_an_xls_name_is_read_as_xlsx(tmp_path):
    from openpyxl import Workbook

    book = Workbook()
    book.active["A1"] = "项目名称"
    book.save(tmp_path / "real.xlsx")
    renamed = tmp_path / "named.xls"
    renamed.write_bytes((tmp_path / "real.xlsx").read_bytes())
    doc = read_document(renamed)
    assert doc.extractor == "xlsx" and doc.grids[0].cells[0].text == "项目名称"


def test_html_saved_under_an_xls_name_is_read_as_html(tmp_path):
    path = tmp_path / "export.xls"
    path.write_bytes(
        "<html><body><table><tr><td>项目名称</td><td>某项目</td></tr></table></body></html>".encode(
            "gbk"
        )
    )
    doc = read_document(path)
    assert doc.extractor == "html"
    assert [c.text for c in doc.grids[0].cells] == ["项目名称", "某项目"]


def test_garbage_is_unreadable(tmp_path):
    path = tmp_path / "broken.xls"
    path.write_bytes(b"\x01\x02 definitely not a workbook")
    with pytest.raises(UnreadableFile, match=r"broken\.xls is not a valid \.xls"):
        read_document(path)


def test_damaged_ole_is_unreadable(tmp_path):
    path = tmp_path / "cut.xls"
    path.write_bytes(write_xls(tmp_path / "form.xls", layout()).read_bytes()[:1500])
    with pytest.raises(UnreadableFile, match=r"cut\.xls is not a valid \.xls"):
        read_document(path)
