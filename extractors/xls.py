"""Excel 97-2003 workbooks (.xls, BIFF) via xlrd: one grid per visible sheet, merges as spans.

Government sites often publish other things under an .xls name: an .xlsx or an Excel "Save as
Web Page" HTML file; ``read_document`` hands those to their own readers.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from extractors.containers import OLE_MAGIC, password_message
from extractors.errors import UnreadableFile
from extractors.sheets import cell_text, display_datetime, display_number, sheet_grid
from schemas.grid import Document, Grid

if TYPE_CHECKING:
    from xlrd.book import Book
    from xlrd.sheet import Sheet


def read_xls(path: Path, password: str | None = None) -> Document:
    """Read every visible sheet of an .xls workbook into one grid per sheet.

    ``password`` is accepted for the uniform reader signature: encrypted workbooks are refused
    with a message.
    """
    with path.open("rb") as handle:
        has_ole_header = handle.read(len(OLE_MAGIC)) == OLE_MAGIC
    if not has_ole_header:
        raise UnreadableFile(
            f"{path.name} is not a valid .xls (no Excel 97-2003 header); re-save it from "
            "Excel/WPS as .xlsx"
        )
    import xlrd

    try:
        book = xlrd.open_workbook(str(path), formatting_info=True, on_demand=True)
    except xlrd.XLRDError as exc:
        if "encrypted" in str(exc).lower():
            raise UnreadableFile(password_message(path)) from exc
        raise UnreadableFile(
            f"{path.name} is not a valid .xls ({exc}); re-save it from Excel/WPS"
        ) from exc
    except Exception as exc:  # xlrd fails with assorted errors on damaged BIFF records
        raise UnreadableFile(
            f"{path.name} is not a valid .xls ({type(exc).__name__}: {exc}); "
            "re-save it from Excel/WPS"
        ) from exc
    grids: list[Grid] = []
    try:
        for index in range(book.nsheets):
            sheet = book.sheet_by_index(index)
            if sheet.visibility == 0:  # 1 hidden, 2 very hidden
                grid = _sheet_grid(book, sheet, f"{path.name} sheet '{sheet.name}'")
                if grid is not None:
                    grids.append(grid)
            book.unload_sheet(index)
    finally:
        book.release_resources()
    return Document(grids=grids, pages=None, extractor="xls", n_tables=len(grids))


def _sheet_grid(book: Book, sheet: Sheet, what: str) -> Grid | None:
    values: dict[tuple[int, int], str] = {}
    for r in range(sheet.nrows):
        for c in range(sheet.row_len(r)):
            text = _xls_text(book, sheet, r, c)
            if text:
                values[(r, c)] = text
    merges = [(rlo, clo, rhi - 1, chi - 1) for rlo, rhi, clo, chi in sheet.merged_cells]
    return sheet_grid(values, merges, source="xls", what=what)


def _xls_text(book: Book, sheet: Sheet, r: int, c: int) -> str:
    import xlrd

    cell = sheet.cell(r, c)
    if cell.ctype == xlrd.XL_CELL_TEXT:
        return cell_text(cell.value)
    if cell.ctype == xlrd.XL_CELL_NUMBER:
        xf = book.xf_list[cell.xf_index] if cell.xf_index is not None else None
        fmt = book.format_map.get(xf.format_key) if xf is not None else None
        return display_number(cell.value, fmt.format_str if fmt is not None else None)
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            return display_datetime(xlrd.xldate_as_datetime(cell.value, book.datemode))
        except (ValueError, OverflowError):
            return display_number(cell.value, None)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype == xlrd.XL_CELL_ERROR:
        return xlrd.error_text_from_code.get(cell.value, "#ERR")
    return ""


__all__ = ["read_xls"]
