"""The one intermediate grid model every reader produces and the form parser consumes.

A document is an ordered list of :class:`Grid` blocks. A block is either a ruled table (cells with
row/col spans, possibly continued over several pages) or free text outside any table (a title line,
``单位：元``), which readers emit as a one-column grid so the form parser sees a single stream of rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Cell:
    """One (possibly merged) cell: its top-left slot, its spans, and where it was printed."""

    row: int
    col: int
    text: str
    rowspan: int = 1
    colspan: int = 1
    page: int | None = None
    bbox: tuple[float, float, float, float] | None = None  # x0, top, x1, bottom in page points
    confidence: float | None = None  # OCR confidence 0..1; None for born-digital text
    note: str | None = None  # what a reader changed, e.g. "OCR read '产出指捸', corrected"


@dataclass
class Grid:
    """A rectangular block of cells.

    ``spans_known`` says whether the reader saw the merged-cell geometry (PDF rulings, XLSX merged
    ranges, DOCX vMerge, HTML rowspan). Flat text extractions do not: there every cell is 1x1 and an
    empty cell may be the continuation of a merged cell above or below it (DOMAIN.md §0).
    """

    cells: list[Cell]
    n_rows: int
    n_cols: int
    spans_known: bool = True
    is_table: bool = True
    source: str = ""  # reader name, for messages only
    row_pages: list[int | None] = field(default_factory=list)  # page of each row, if known
    spans_inferred: bool = False  # the spans were rebuilt from where text prints, not seen
    row_spans_seen: bool = True  # False: rules cross every row, merged cells or not (rows only)
    notes: list[str] = field(default_factory=list)  # what the reader could not place in the block

    def slots(self) -> list[list[Cell | None]]:
        """Dense matrix: slot[r][c] is the cell covering that position (merged cells repeat)."""
        matrix: list[list[Cell | None]] = [[None] * self.n_cols for _ in range(self.n_rows)]
        for cell in self.cells:
            for r in range(cell.row, min(cell.row + cell.rowspan, self.n_rows)):
                for c in range(cell.col, min(cell.col + cell.colspan, self.n_cols)):
                    matrix[r][c] = cell
        return matrix

    def page_of_row(self, r: int) -> int | None:
        """1-based page where row ``r`` starts, when the reader knows it."""
        if r < len(self.row_pages):
            return self.row_pages[r]
        pages = [c.page for c in self.cells if c.row == r and c.page is not None]
        return min(pages) if pages else None


def text_block(lines: list[str], page: int | None = None, source: str = "") -> Grid:
    """Free text lines outside any table, as a one-column grid."""
    cells = [Cell(row=i, col=0, text=t, page=page) for i, t in enumerate(lines)]
    return Grid(
        cells=cells,
        n_rows=len(lines),
        n_cols=1,
        is_table=False,
        source=source,
        row_pages=[page] * len(lines),
    )


@dataclass
class Document:
    """What a reader returns for one file."""

    grids: list[Grid]
    pages: int | None  # None for sources without pages
    extractor: str
    n_tables: int = 0  # tables seen, for the no_forms message
    scanned_pages: list[int] = field(default_factory=list)  # 1-based pages with no text layer
    notes: list[str] = field(default_factory=list)  # reader remarks worth showing the user
    source_name: str = ""  # the file's name, the last evidence of its year
