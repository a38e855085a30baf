"""Text exports: tab-separated like the seeds or comma-separated (a sheet saved as CSV), one grid
per blank-line-separated block; or a page's text dumped line by line (no tabs), its forms rebuilt
by ``line_dump``.

These extractions carry no geometry: every cell is 1x1, an empty cell may continue a merged cell,
and a blank line marks a page break (or the gap between two forms). The form parser recovers the
hierarchy; this reader only decodes and splits.
"""

from __future__ import annotations

import csv
from pathlib import Path

from extractors.containers import MAX_SLOTS, decode_text
from extractors.errors import UnreadableFile
from extractors.line_dump import rebuild_forms
from schemas.grid import Cell, Document, Grid

MAX_BYTES = 50 * 1024 * 1024  # a text export of forms is kilobytes; larger is something else


def read_text(path: Path, password: str | None = None) -> Document:
    """Read a tab- or comma-separated text export into grids, one per block between blank lines.

    ``password`` is accepted for a uniform reader signature and ignored.
    """
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise UnreadableFile(
            f"{path.name} is {size // 2**20} MB, beyond the {MAX_BYTES // 2**20} MB limit for a "
            "text export; split it, or check that it is a form export"
        )
    data = path.read_bytes()
    if not data.strip():
        raise UnreadableFile(f"{path.name} is empty (0 bytes of text); re-download or remove it")
    if b"\x00" in data[:4096]:
        raise UnreadableFile(f"{path.name} is binary, not a text export; check its file type")
    text = decode_text(data, path.name)
    if path.suffix.lower() == ".csv":  # quoted cells may hold commas and line breaks
        return _blocks([[*row] for row in csv.reader(text.splitlines(keepends=True))], path.name)
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    if not any("\t" in line for line in lines):
        rebuilt = rebuild_forms(lines, "text")
        if rebuilt is not None:
            grids, notes = rebuilt
            tables = sum(grid.is_table for grid in grids)
            return Document(grids, pages=None, extractor="text", n_tables=tables, notes=notes)
    return _blocks([line.split("\t") for line in lines], path.name)


def _blocks(rows: list[list[str]], what: str) -> Document:
    """One grid per run of rows between blank rows."""
    grids: list[Grid] = []
    block: list[list[str]] = []
    for cells in [*rows, []]:
        if any(c.strip() for c in cells):
            block.append(cells)
        elif block:
            grids.append(_block_to_grid(block, what))
            block = []
    return Document(grids=grids, pages=None, extractor="text", n_tables=len(grids))


def _block_to_grid(rows: list[list[str]], what: str) -> Grid:
    n_cols = max(len(r) for r in rows)
    if len(rows) * n_cols > MAX_SLOTS:
        raise UnreadableFile(
            f"{what} has a block of {len(rows)} lines × {n_cols} tab-separated columns, too large "
            "to be a form; check that it is a form export"
        )
    cells = [
        Cell(row=r, col=c, text=text.strip())
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
        if text.strip()
    ]
    return Grid(cells=cells, n_rows=len(rows), n_cols=n_cols, spans_known=False, source="text")
