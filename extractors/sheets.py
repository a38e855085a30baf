"""What the spreadsheet readers (.xlsx, .xls) share: number display (a stored number shown the way
the sheet formats it) and the sheet → grid conversion."""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, datetime, time
from decimal import ROUND_HALF_UP, Decimal

from extractors.containers import check_area
from schemas.grid import Cell, Grid

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


def cell_text(text: str) -> str:
    """A text cell as shown: Excel's escaped carriage returns and line-end variants removed."""
    return text.replace("_x000D_", "").replace("\r\n", "\n").replace("\r", "\n").strip()


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
