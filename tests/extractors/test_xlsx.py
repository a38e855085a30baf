"""XLSX reader: real workbooks written with openpyxl, merged ranges read back as spans."""

import zipfile

import pytest
from form_fixture import (
    FORM_HEIGHT,
    Layout,
    assert_form,
    expected_cells,
    grid_cells,
    layout,
)
from openpyxl import Workbook

from extractors import UnreadableFile, read_document
from extractors.forms import parse_forms
from extractors.sheets import display_number


def fill(sheet, lay: Layout) -> None:
    """Write a layout into a sheet: numbers as numbers with their format, the rest as text."""
    for r, row in enumerate(lay.rows):
        for c, text in enumerate(row):
            cell = sheet.cell(row=r + 1, column=c + 1)
            if (r, c) in lay.numbers:
                cell.value, cell.number_format = lay.numbers[(r, c)]
            elif text:
                cell.value = text
                cell.data_type = "s"  # '=100%' is text, not a formula
    for r, c, rs, cs in lay.merges:
        if rs > 1 or cs > 1:
            sheet.merge_cells(
                start_row=r + 1, start_column=c + 1, end_row=r + rs, end_column=c + cs
            )


def write_xlsx(path, *sheets: Layout, hidden: Layout | None = None):
    book = Workbook()
    book.remove(book.active)
    for k, lay in enumerate(sheets):
        fill(book.create_sheet(f"表{k + 1}"), lay)
    if hidden is not None:
        for state in ("hidden", "veryHidden"):
            sheet = book.create_sheet(state)
            fill(sheet, hidden)
            sheet.sheet_state = state
    book.save(path)
    return path


def test_grid_has_every_row_and_exact_spans(tmp_path):
    lay = layout()
    doc = read_document(write_xlsx(tmp_path / "form.xlsx", lay))
    assert (doc.extractor, doc.pages, doc.n_tables) == ("xlsx", None, 1)
    (grid,) = doc.grids
    assert (grid.n_rows, grid.n_cols, grid.spans_known, grid.is_table) == (21, 8, True, True)
    assert grid_cells(grid) == expected_cells(lay)


def test_form_end_to_end(tmp_path):
    (form,) = parse_forms(read_document(write_xlsx(tmp_path / "form.xlsx", layout())))
    assert_form(form)


def test_numbers_as_numbers_and_as_text_and_formula_looking_text(tmp_path):
    doc = read_document(write_xlsx(tmp_path / "form.xlsx", layout()))
    text = {(c.row, c.col): c.text for c in doc.grids[0].cells}
    assert text[(5, 2)] == "119,979,860.00"  # number, '#,##0.00'
    assert text[(5, 3)] == "18562710.00"  # number stored as text
    assert text[(5, 6)] == "71.67%"  # 0.7167, '0.00%'
    assert (text[(5, 5)], text[(5, 7)], text[(12, 4)]) == ("10", "7.2", "9210")
    assert text[(13, 3)] == "=100%"
    with zipfile.ZipFile(tmp_path / "form.xlsx") as archive:
        assert "<f>" not in archive.read("xl/worksheets/sheet1.xml").decode()


def test_hidden_and_very_hidden_sheets_are_ignored(tmp_path):
    path = write_xlsx(tmp_path / "form.xlsx", layout(), hidden=layout("隐藏的项目"))
    doc = read_document(path)
    assert len(doc.grids) == 1
    assert [f.name for f in parse_forms(doc)] == ["职业培训基础能力建设资助"]


def test_two_forms_on_one_sheet(tmp_path):
    lay = layout("职业培训基础能力建设资助", "促进就业专项资金", gap=2)
    doc = read_document(write_xlsx(tmp_path / "two.xlsx", lay))
    assert len(doc.grids) == 1 and doc.grids[0].n_rows == 2 * FORM_HEIGHT + 2
    first, second = parse_forms(doc)
    assert_form(first)
    assert_form(second, name="促进就业专项资金")


def test_one_grid_per_sheet_and_trailing_empties_trimmed(tmp_path):
    path = tmp_path / "sheets.xlsx"
    book = Workbook()
    fill(book.active, layout())
    book.active["Z300"].number_format = "0.00"  # a formatted empty cell far away
    book.active["AA400"] = ""
    fill(book.create_sheet("第二张"), layout("促进就业专项资金"))
    book.create_sheet("空表")
    book.save(path)
    doc = read_document(path)
    assert [(g.n_rows, g.n_cols) for g in doc.grids] == [(21, 8), (21, 8)]
    assert [f.name for f in parse_forms(doc)] == ["职业培训基础能力建设资助", "促进就业专项资金"]


@pytest.mark.parametrize(
    ("value", "number_format", "shown"),
    [
        (119979860, "#,##0.00", "119,979,860.00"),
        (13303150.1, "0.00", "13303150.10"),
        (0.7167, "0.00%", "71.67%"),
        (1, "0%", "100%"),
        (0.1 + 0.2, "General", "0.3"),
        (12.0, "General", "12"),
        (2.675, "0.00", "2.68"),
        (-5.5, "#,##0.00_);[Red](#,##0.00)", "-5.50"),
        (9210, '0"人"', "9210人"),
        (1234.5, "[$¥-804]#,##0.00", "1,234.50"),
        (0.5, "0.0#", "0.5"),
    ],
)
def test_display_number(value, number_format, shown):
    assert display_number(value, number_format) == shown


def test_not_a_zip_is_unreadable(tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"this is not a workbook at all")
    with pytest.raises(UnreadableFile, match=r"broken\.xlsx is not a valid \.xlsx .*re-save"):
        read_document(path)


def test_zip_without_workbook_is_unreadable(tmp_path):
    path = tmp_path / "other.xlsx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("hello.txt", "not a workbook")
    with pytest.raises(UnreadableFile, match=r"not a valid \.xlsx"):
        read_document(path)


def test_zip_bomb_is_refused_before_parsing(tmp_path):
    path = tmp_path / "bomb.xlsx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (20 * 2**20))
    with pytest.raises(UnreadableFile, match="zip bomb"):
        read_document(path)


def test_encrypted_workbook_needs_a_password(tmp_path):
    ooxml = pytest.importorskip("msoffcrypto.format.ooxml")
    plain = write_xlsx(tmp_path / "plain.xlsx", layout())
    path = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, path.open("wb") as dst:
        ooxml.OOXMLFile(src).encrypt("secret", dst)
    with pytest.raises(UnreadableFile, match="password"):
        read_document(path)


def test_entities_in_a_sheet_are_refused(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOPSECRET")
    plain = write_xlsx(tmp_path / "plain.xlsx", layout())
    path = tmp_path / "xxe.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                text = data.decode().split("?>", 1)[-1]  # openpyxl writes no declaration
                doctype = f'<!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "{secret.as_uri()}">]>'
                entity_cell = '<row r="99"><c r="A99" t="inlineStr"><is><t>&xxe;</t></is></c></row>'
                text = text.replace("</sheetData>", f"{entity_cell}</sheetData>")
                data = f"{doctype}{text}".encode()
            dst.writestr(item, data)
    with pytest.raises(UnreadableFile, match=r"not a valid \.xlsx") as caught:
        read_document(path)
    causes, error = [], caught.value
    while error is not None:
        causes.append(type(error).__name__)
        error = error.__cause__ or error.__context__
    assert "EntitiesForbidden" in causes  # defusedxml refused the DTD


def test_stray_cell_far_away_is_refused_not_allocated(tmp_path):
    path = tmp_path / "stray.xlsx"
    book = Workbook()
    fill(book.active, layout())
    book.active["XFD1048576"] = "x"
    book.save(path)
    with pytest.raises(UnreadableFile, match=r"stray\.xlsx sheet 'Sheet' spans 1048576 rows"):
        read_document(path)


def test_merged_range_over_the_whole_sheet_is_refused(tmp_path):
    plain = write_xlsx(tmp_path / "plain.xlsx", layout())
    path = tmp_path / "merged.xlsx"
    with zipfile.ZipFile(plain) as src, zipfile.ZipFile(path, "w") as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(
                    b'<mergeCell ref="A1:H1"/>', b'<mergeCell ref="A1:XFD1048576"/>'
                )
                assert b"XFD1048576" in data
            dst.writestr(item, data)
    with pytest.raises(UnreadableFile, match="merged ranges covering"):
        read_document(path)


def test_damaged_sheet_member_is_unreadable(tmp_path):
    path = write_xlsx(tmp_path / "damaged.xlsx", layout())
    with zipfile.ZipFile(path) as archive:
        info = archive.getinfo("xl/worksheets/sheet1.xml")
    start = info.header_offset + 30 + len(info.filename) + len(info.extra) + 20
    data = bytearray(path.read_bytes())
    data[start : start + 30] = bytes(b ^ 0xFF for b in data[start : start + 30])
    path.write_bytes(bytes(data))
    with pytest.raises(UnreadableFile, match=r"damaged\.xlsx is not a valid \.xlsx"):
        read_document(path)
