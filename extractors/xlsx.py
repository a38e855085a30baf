"""Excel 2007+ workbooks (.xlsx/.xlsm): one grid per visible sheet, merged ranges as spans.

XML safety: with defusedxml installed (a declared dependency) openpyxl parses sheets and shared
strings through it, which refuses DTDs and entities; other parts go through lxml with
``resolve_entities=False``. The zip is checked for bombs before openpyxl opens it.
"""

from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from datetime import date, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

from extractors.containers import MAX_SLOTS, guard_zip
from extractors.errors import UnreadableFile
from extractors.sheets import cell_text, display_datetime, display_number, sheet_grid
from schemas.grid import Document, Grid

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell as SheetCell

_MERGE_REF = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="\$?([A-Z]{1,3})\$?(\d{1,7}):\$?([A-Z]{1,3})\$?(\d{1,7})"'
)

# ---------------------------------------------------------------- the reader


def read_xlsx(path: Path, password: str | None = None) -> Document:
    """Read every visible sheet of an .xlsx/.xlsm workbook into one grid per sheet.

    Cached formula values are read (never the formulas); hidden and very hidden sheets are
    skipped. ``password`` is accepted for the uniform reader signature: encrypted workbooks are
    refused by ``read_document`` with a message.
    """
    guard_zip(path, ".xlsx")
    _guard_merges(path)
    from openpyxl import load_workbook

    try:
        with path.open("rb") as handle, warnings.catch_warnings():
            warnings.simplefilter("ignore")  # unsupported extensions, data validation, …
            book = load_workbook(handle, read_only=False, data_only=True, keep_links=False)
    except Exception as exc:  # openpyxl raises anything from KeyError to TypeError on bad parts
        reason = (str(exc).splitlines() or [""])[0]  # openpyxl's messages run to paragraphs
        raise UnreadableFile(
            f"{path.name} is not a valid .xlsx ({type(exc).__name__}: {reason}); "
            "re-save it from Excel/WPS"
        ) from exc
    grids: list[Grid] = []
    for sheet in book.worksheets:
        if sheet.sheet_state != "visible":
            continue
        values = {
            (r - 1, c - 1): text
            # _cells holds only the cells stored in the file; iter_rows() would create every
            # cell up to max_row/max_col, which a stray format at row 1048576 makes huge
            for (r, c), cell in sheet._cells.items()
            if (text := _xlsx_text(cell))
        }
        merges = [
            (m.min_row - 1, m.min_col - 1, m.max_row - 1, m.max_col - 1)
            for m in sheet.merged_cells.ranges
        ]
        grid = sheet_grid(values, merges, source="xlsx", what=f"{path.name} sheet '{sheet.title}'")
        if grid is not None:
            grids.append(grid)
    book.close()
    return Document(grids=grids, pages=None, extractor="xlsx", n_tables=len(grids))


def _guard_merges(path: Path) -> None:
    """Refuse merged ranges covering millions of cells: openpyxl creates an object per cell."""
    from openpyxl.utils import column_index_from_string as col

    area = 0
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                if info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml"):
                    for m in _MERGE_REF.finditer(archive.read(info)):
                        c1, r1, c2, r2 = (g.decode() for g in m.groups())
                        area += (abs(int(r2) - int(r1)) + 1) * (abs(col(c2) - col(c1)) + 1)
    except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as exc:  # a damaged member
        raise UnreadableFile(
            f"{path.name} is not a valid .xlsx ({exc}); re-save it from Excel/WPS"
        ) from exc
    if area > MAX_SLOTS:
        raise UnreadableFile(
            f"{path.name} has merged ranges covering {area} cells, too many for a form; unmerge "
            "whole rows/columns in Excel/WPS and re-save it"
        )


def _xlsx_text(cell: SheetCell) -> str:
    value = cell.value
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, (int, float)):
        return display_number(value, cell.number_format)
    if isinstance(value, (datetime, date, time)):
        return display_datetime(value)
    return cell_text(str(value))


__all__ = ["read_xlsx"]
