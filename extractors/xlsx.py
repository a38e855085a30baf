"""Excel 2007+ workbooks (.xlsx/.xlsm): one grid per visible sheet, merged ranges as spans.

Also home of what the other Office readers share: container sniffing, the zip-bomb guard, number
display (a stored number shown the way the sheet formats it) and the sheet → grid conversion.

XML safety: with defusedxml installed (a declared dependency) openpyxl parses sheets and shared
strings through it, which refuses DTDs and entities; other parts go through lxml with
``resolve_entities=False``. The zip is checked for bombs before openpyxl opens it.
"""

from __future__ import annotations

import re
import warnings
import zipfile
import zlib
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from extractors.errors import UnreadableFile
from schemas.grid import Cell, Document, Grid

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell as SheetCell

MAX_UNZIPPED = 200 * 1024 * 1024  # bytes of all archive members together
MAX_RATIO = 200  # uncompressed / compressed, for a member over MIN_RATIO_SIZE
MIN_RATIO_SIZE = 10 * 1024 * 1024
MAX_MEMBERS = 10_000
MAX_SLOTS = 2_000_000  # rows × columns of one table, merged slots of one workbook
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_PACKAGE = "EncryptedPackage".encode("utf-16-le")
_MERGE_REF = re.compile(
    rb'<(?:\w+:)?mergeCell\b[^>]*?\bref="\$?([A-Z]{1,3})\$?(\d{1,7}):\$?([A-Z]{1,3})\$?(\d{1,7})"'
)

# ---------------------------------------------------------------- containers


def sniff(path: Path) -> str:
    """What the bytes are, whatever the suffix says: 'zip', 'ole', 'html', 'rtf' or 'other'."""
    with path.open("rb") as handle:
        head = handle.read(2048)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return "zip"
    if head.startswith(OLE_MAGIC):
        return "ole"
    if head.startswith(b"{\\rtf"):
        return "rtf"
    text = head.lstrip(b"\xef\xbb\xbf\xff\xfe\x00 \t\r\n").replace(b"\x00", b"").lower()
    if text.startswith(b"<") and any(t in text for t in (b"<html", b"<table", b"<!doctype html")):
        return "html"
    return "other"


def ole_is_encrypted(path: Path) -> bool:
    """An OLE container holding an ``EncryptedPackage`` stream: a password-protected OOXML file."""
    return _ENCRYPTED_PACKAGE in path.read_bytes()


def password_message(path: Path) -> str:
    """What to tell the user about a password-protected Office file."""
    return (
        f"{path.name} is password-protected: it needs a password to open; open it in Excel/WPS/"
        "Word with the password and save a copy without one (File → Info → Protect), or ask "
        "the publisher for an unprotected copy"
    )


def guard_zip(path: Path, kind: str) -> None:
    """Refuse a file that is not a zip, or whose members would inflate absurdly (a zip bomb).

    The sizes checked are the ones the central directory declares; ``zipfile`` never inflates a
    member past its declared size, so they bound what the XML parsers can be fed.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, NotImplementedError) as exc:
        raise UnreadableFile(
            f"{path.name} is not a valid {kind} ({exc}); re-save it from Excel/WPS/Word"
        ) from exc
    unsupported = [
        m.filename
        for m in members
        if m.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
        or m.extract_version > zipfile.MAX_EXTRACT_VERSION
    ]
    if unsupported:
        raise UnreadableFile(
            f"{path.name} is not a valid {kind}: its part {unsupported[0]} uses a zip feature "
            "Office files never use; re-save it from Excel/WPS/Word"
        )
    total = sum(m.file_size for m in members)
    if len(members) > MAX_MEMBERS or total > MAX_UNZIPPED:
        raise UnreadableFile(
            f"{path.name} would unpack to {total / 2**20:.0f} MB in {len(members)} parts, beyond "
            f"the {MAX_UNZIPPED // 2**20} MB / {MAX_MEMBERS} parts limit (a damaged file or a zip "
            "bomb); re-save it from Excel/WPS/Word or split it"
        )
    inflated = next(
        (
            m
            for m in members
            if m.file_size > MIN_RATIO_SIZE and m.file_size > MAX_RATIO * max(m.compress_size, 1)
        ),
        None,
    )
    if inflated is not None:
        raise UnreadableFile(
            f"{path.name}: its part {inflated.filename} would inflate {inflated.compress_size:,} "
            f"bytes to {inflated.file_size:,} (more than {MAX_RATIO}×: a damaged file or a zip "
            "bomb); re-save it from Excel/WPS/Word"
        )


# ---------------------------------------------------------------- number display

_SECTION_SPLIT = re.compile(r';(?=(?:[^"]*"[^"]*")*[^"]*$)')
_CURRENCY = set("$¥￥€£")


def display_number(value: float, number_format: str | None) -> str:
    """A stored number as the sheet shows it: '#,##0.00' → '1,234.50', '0.00%' → '71.67%'.

    Only the first format section is used (a negative number gets a plain minus sign); colours,
    locales and currency symbols are dropped, quoted literals such as ``"人"`` are kept.
    """
    section = _SECTION_SPLIT.split(number_format or "General")[0]
    prefix, core, suffix = _split_literals(section)
    if not core or core.lower() == "general" or not any(ch in core for ch in "0#?"):
        return general_number(value)
    if "e" in core.lower():
        return general_number(value)  # scientific formats are rare in forms
    if "%" in core:
        value = value * 100 ** core.count("%")
    decimals = re.search(r"\.([0#?]+)", core)
    places = decimals.group(1) if decimals else ""
    integer_part = core.split(".")[0]
    thousands = "," in integer_part.rstrip(",")
    shown = Decimal(repr(abs(value))).quantize(Decimal(1).scaleb(-len(places)), ROUND_HALF_UP)
    text = f"{shown:,f}" if thousands else f"{shown:f}"
    min_places = places.count("0")
    if len(places) > min_places:  # '#' and '?' places show only significant digits
        whole, _, frac = text.partition(".")
        frac = frac.rstrip("0").ljust(min_places, "0")
        text = f"{whole}.{frac}" if frac else whole
    sign = "-" if value < 0 and text.strip("0.,") else ""
    return f"{prefix}{sign}{text}{'%' * core.count('%')}{suffix}"


def general_number(value: float) -> str:
    """Excel's 'General' display: integers without '.0', no float noise (0.1+0.2 → '0.3')."""
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return format(round(value, 9), ".15g")


def display_datetime(value: datetime | date | time) -> str:
    """A date cell as ISO text ('2026-01-01'; the time only when there is one)."""
    if isinstance(value, datetime):
        if value.time() == time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ", timespec="seconds")
    return value.isoformat()


def _split_literals(section: str) -> tuple[str, str, str]:
    """(literal prefix, number placeholders, literal suffix) of one format section."""
    prefix: list[str] = []
    suffix: list[str] = []
    core: list[str] = []
    i = 0
    while i < len(section):
        ch = section[i]
        literal = ""
        if ch == '"':
            end = section.find('"', i + 1)
            end = len(section) if end < 0 else end
            literal, i = section[i + 1 : end], end + 1
        elif ch == "\\" and i + 1 < len(section):
            literal, i = section[i + 1], i + 2
        elif ch in "_*":
            i += 2  # padding: '_)' leaves a space, '*-' fills
            continue
        elif ch == "[":
            end = section.find("]", i)
            i = len(section) if end < 0 else end + 1  # [Red], [$¥-804], conditions
            continue
        elif ch in "0#?.,%Ee+-" or ch.isalpha() and ch.isascii():
            core.append(ch)
            i += 1
            continue
        else:
            literal, i = ("" if ch in _CURRENCY or ch.isspace() else ch), i + 1
        (suffix if core else prefix).append(literal)
    return "".join(prefix).strip(), "".join(core).strip(), "".join(suffix).strip()


# ---------------------------------------------------------------- sheet → grid


def cell_text(text: str) -> str:
    """A text cell as shown: Excel's escaped carriage returns and line-end variants removed."""
    return text.replace("_x000D_", "").replace("\r\n", "\n").replace("\r", "\n").strip()


def check_area(n_rows: int, n_cols: int, what: str) -> None:
    """Refuse a table too large to be a form before anything allocates its slots."""
    if n_rows * n_cols > MAX_SLOTS:
        raise UnreadableFile(
            f"{what} spans {n_rows} rows × {n_cols} columns, too large to be a form; delete "
            "stray cells far from the form (Ctrl+End shows the last one used) and re-save it"
        )


def sheet_grid(
    values: dict[tuple[int, int], str],
    merges: Iterable[tuple[int, int, int, int]],
    source: str,
    what: str,
) -> Grid | None:
    """A sheet's cells as a grid trimmed to its text; None for a sheet with no text.

    ``values`` maps 0-based (row, col) to shown text; ``merges`` are 0-based inclusive
    (top, left, bottom, right) ranges whose text is the top-left cell's, cut to the rows and
    columns that hold text. A range overlapping an earlier one is ignored, as Excel does.
    """
    if not values:
        return None
    r0, r1 = min(r for r, _ in values), max(r for r, _ in values)
    c0, c1 = min(c for _, c in values), max(c for _, c in values)
    check_area(r1 - r0 + 1, c1 - c0 + 1, what)
    taken: set[tuple[int, int]] = set()
    cells: list[Cell] = []
    for top, left, bottom, right in merges:
        top, left = max(top, r0), max(left, c0)
        bottom, right = min(bottom, r1), min(right, c1)
        if top > bottom or left > right or (top, left) == (bottom, right):
            continue
        slots = {(r, c) for r in range(top, bottom + 1) for c in range(left, right + 1)}
        if slots & taken:
            continue
        taken |= slots
        cells.append(
            Cell(
                row=top - r0,
                col=left - c0,
                text=values.get((top, left), ""),
                rowspan=bottom - top + 1,
                colspan=right - left + 1,
            )
        )
    cells += [
        Cell(row=r - r0, col=c - c0, text=t) for (r, c), t in values.items() if (r, c) not in taken
    ]
    cells.sort(key=lambda cell: (cell.row, cell.col))
    return Grid(cells=cells, n_rows=r1 - r0 + 1, n_cols=c1 - c0 + 1, source=source)


# ---------------------------------------------------------------- the reader


def read_xlsx(path: Path, password: str | None = None) -> Document:
    """Read every visible sheet of an .xlsx/.xlsm workbook into one grid per sheet.

    Cached formula values are read (never the formulas); hidden and very hidden sheets are
    skipped. A legacy .xls saved under an .xlsx name is read as .xls. ``password`` is accepted
    for the uniform reader signature: encrypted workbooks are refused with a message.
    """
    kind = sniff(path)
    if kind == "ole":
        if ole_is_encrypted(path):
            raise UnreadableFile(password_message(path))
        from extractors.xls import read_xls

        return read_xls(path)
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


__all__ = [
    "MAX_SLOTS",
    "cell_text",
    "check_area",
    "display_datetime",
    "display_number",
    "general_number",
    "guard_zip",
    "ole_is_encrypted",
    "password_message",
    "read_xlsx",
    "sheet_grid",
    "sniff",
]
