"""Tables continued on the next page, joined to the previous page's table.

A reader feeds a :class:`TableStitcher` each page's blocks in reading order: text blocks as grids,
ruled tables as :class:`PageTable`. A page's first block continues the previous page's last table
when that table ends near the page bottom and both span the same columns (``column_map``). The
continuation's repeated header rows are dropped (``repeated_header_rows``), a merged cell cut by
the page break goes on, and a row split over the break is joined into one (``extend``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from extractors.lattice import LatticeCell
from extractors.values import compact, normalize_text
from schemas.grid import Cell, Grid

BOTTOM_ZONE = 0.25  # a table ending in the last quarter of the page may continue on the next
SAME_COLUMN = 3.0  # points: rulings this close are one column boundary on both pages


@dataclass
class PageTable:
    """One page's ruled table, with what joining it to the next page's part needs."""

    grid: Grid
    page: int
    xs: list[float]  # column boundaries in points
    open_top: set[int] = field(default_factory=set)  # ids of first-row cells not ruled on top
    open_bottom: set[int] = field(default_factory=set)  # ids of last-row cells not ruled below
    reaches_bottom: bool = False  # ends near the page bottom: may continue on the next page


def page_table(
    parts: list[tuple[LatticeCell, Cell]],
    xs: list[float],
    page: int,
    source: str,
    reaches_bottom: bool,
    row_spans_seen: bool = True,
) -> PageTable:
    """The table of one page from its lattice cells and the grid cells read from them
    (``row_spans_seen`` False: its rules cross every row, so a merged cell's rows are unseen)."""
    n_rows = max(c.row + c.rowspan for c, _ in parts)
    grid = Grid(
        cells=[cell for _, cell in parts],
        n_rows=n_rows,
        n_cols=len(xs) - 1,
        spans_known=True,
        is_table=True,
        source=source,
        row_pages=[page] * n_rows,
        row_spans_seen=row_spans_seen,
    )
    return PageTable(
        grid=grid,
        page=page,
        xs=xs,
        open_top={id(cell) for c, cell in parts if c.open_top and c.row == 0},
        open_bottom={
            id(cell) for c, cell in parts if c.open_bottom and c.row + c.rowspan == n_rows
        },
        reaches_bottom=reaches_bottom,
    )


def near_page_bottom(bottom: float, page_height: float) -> bool:
    """Whether a table ending at ``bottom`` may continue on the next page."""
    return bottom >= page_height * (1 - BOTTOM_ZONE)


class TableStitcher:
    """The document's grids page by page, joining a table continued on the next page.

    ``join`` joins the text of a cell cut by the page break; ``align_left`` compares the two
    parts' columns from their left edges (a scan lies anywhere on the glass) instead of where
    they are printed on the page.
    """

    def __init__(self, join: Callable[[str, str], str], align_left: bool = False) -> None:
        self._join = join
        self._align_left = align_left
        self._grids: list[Grid] = []
        self._open: PageTable | None = None  # the last table, if it may continue
        self._last: tuple[Grid, int] | None = None  # the last block if a table, and its page

    def add_page(self, page: int, blocks: list[Grid | PageTable]) -> None:
        """One page's text blocks and tables, in reading order. A table without ruled cells
        (``spans_known`` False) that opens a page loses the header rows it repeats from the table
        that closed the previous page; it stays a grid of its own."""
        for i, block in enumerate(blocks):
            acc = self._open
            last, self._last = self._last, None
            if isinstance(block, Grid):
                opens_page = i == 0 and last is not None and last[1] == page - 1
                if block.is_table and not block.spans_known and opens_page:
                    drop_leading_rows(block, repeated_header_rows(last[0], block))
                self._grids.append(block)
                self._open = None
                if block.is_table:
                    self._last = (block, page)
                continue
            col_map = None
            if i == 0 and acc is not None and acc.page == page - 1:
                col_map = column_map(acc, block.xs, self._align_left)
            if acc is not None and col_map is not None:
                extend(acc, block, col_map, self._join)
            else:
                self._grids.append(block.grid)
                acc = block
            self._open = acc if acc.reaches_bottom else None
            self._last = (acc.grid, page)
        if not blocks:
            self._open = None
            self._last = None

    def add_grids(self, grids: list[Grid]) -> None:
        """Grids that no table continues from or into (pages another stitcher read)."""
        self._grids.extend(grids)
        self._open = None
        self._last = None

    def grids(self) -> list[Grid]:
        """The grids of the pages added so far, in reading order."""
        return self._grids


def column_map(acc: PageTable, xs: list[float], align_left: bool = False) -> list[int] | None:
    """Index in ``acc.xs`` of each of ``xs`` when both parts span the same width (and, unless
    ``align_left``, stand at the same place); rulings only the continuation has are added to
    ``acc``, whose cells' columns are renumbered."""
    shifted = [x - xs[0] + acc.xs[0] for x in xs] if align_left else list(xs)
    if abs(shifted[0] - acc.xs[0]) > SAME_COLUMN or abs(shifted[-1] - acc.xs[-1]) > SAME_COLUMN:
        return None
    union = list(acc.xs)
    for x in shifted:
        if min(abs(u - x) for u in union) > SAME_COLUMN:
            union.append(x)
    union.sort()
    if len(union) > len(acc.xs):
        index = [union.index(x) for x in acc.xs]
        for cell in acc.grid.cells:
            end = index[cell.col + cell.colspan]
            cell.col = index[cell.col]
            cell.colspan = end - cell.col
        acc.xs = union
        acc.grid.n_cols = len(union) - 1
    return [min(range(len(union)), key=lambda i: abs(union[i] - x)) for x in shifted]


def _header_texts(cells: list[Cell], row: int, skip_cols: set[int] = frozenset()) -> list[str]:
    """The texts of the cells that start on ``row``, left to right, outside ``skip_cols``."""
    starting = sorted((c.col, c.text) for c in cells if c.row == row and c.col not in skip_cols)
    return [compact(normalize_text(text)) for _, text in starting if text.strip()]


def repeated_header_rows(grid: Grid, part: Grid, continuing: set[int] = frozenset()) -> int:
    """How many leading rows of ``part`` print again rows of the table built so far (a header
    repeated on a continuation page): the same texts in the same order. The columns where the
    part's first row has no text of its own (an empty cell, or one of ``continuing``: a merged cell
    cut by the break that goes on from the previous page) are left out on both sides."""
    through = {
        col
        for c in part.cells
        if c.row == 0 and (id(c) in continuing or not c.text.strip())
        for col in range(c.col, c.col + c.colspan)
    }
    first = _header_texts(part.cells, 0, through)
    if len(first) < 2:
        return 0
    for h in range(grid.n_rows):
        if _header_texts(grid.cells, h, through) != first:
            continue
        k = 1
        while k < part.n_rows and h + k < grid.n_rows:
            texts = _header_texts(part.cells, k, through)
            if not texts or _header_texts(grid.cells, h + k, through) != texts:
                break
            k += 1
        return k
    return 0


def drop_leading_rows(grid: Grid, rows: int) -> None:
    """Remove the first ``rows`` rows of a grid whose cells are one row high."""
    if rows <= 0:
        return
    grid.cells = [c for c in grid.cells if c.row >= rows]
    for c in grid.cells:
        c.row -= rows
    grid.n_rows -= rows
    grid.row_pages = grid.row_pages[rows:]


def extend(
    acc: PageTable, part: PageTable, col_map: list[int], join: Callable[[str, str], str]
) -> None:
    """Append the next page's part of a table: drop a repeated header, continue cut cells."""
    grid = acc.grid
    for c in part.grid.cells:
        end = col_map[c.col + c.colspan]
        c.col = col_map[c.col]
        c.colspan = end - c.col
    skip = repeated_header_rows(grid, part.grid, part.open_top)
    cells = [c for c in part.grid.cells if c.row + c.rowspan > skip]
    for c in cells:
        if c.row < skip:  # runs beside the dropped header: it begins below it
            c.rowspan -= skip - c.row
            c.row = skip
    last = grid.n_rows - 1
    starting = [c for c in cells if c.row == skip]
    continuing: dict[int, Cell] = {}
    for c in starting:
        above = next(
            (
                a
                for a in grid.cells
                if a.row <= last < a.row + a.rowspan and (a.col, a.colspan) == (c.col, c.colspan)
            ),
            None,
        )
        if above is not None and (id(c) in part.open_top or id(above) in acc.open_bottom):
            continuing[id(c)] = above
    split_row = bool(starting) and len(continuing) == len(starting)
    offset = grid.n_rows - skip - (1 if split_row else 0)
    open_bottom: set[int] = set()
    for c in cells:
        above = continuing.get(id(c))
        if above is not None:
            above.text = join(above.text, c.text)
            above.rowspan += c.rowspan - (1 if split_row else 0)
            scores = [s for s in (above.confidence, c.confidence) if s is not None]
            above.confidence = min(scores) if scores else None
            above.note = "; ".join(n for n in (above.note, c.note) if n) or None
            target = above
        else:
            c.row += offset
            grid.cells.append(c)
            target = c
        if id(c) in part.open_bottom:
            open_bottom.add(id(target))
    n_rows = max(c.row + c.rowspan for c in grid.cells)
    grid.row_pages.extend([part.page] * (n_rows - grid.n_rows))
    grid.n_rows = n_rows
    grid.cells.sort(key=lambda c: (c.row, c.col))
    acc.open_bottom, acc.reaches_bottom, acc.page = open_bottom, part.reaches_bottom, part.page
