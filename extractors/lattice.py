"""Ruled tables: from ruling lines to cells with rowspan/colspan, whatever found the rulings.

The readers find a table's rulings their own way (extractors.pdf from vector paths, extractors.scan
from OpenCV masks) and say which lattice edges are ruled; the lattice itself is built here:

1. ``lattice_from_rulings``: ruling positions clustered into the lattice lines; rulings running past
   the outermost cross ruling open a virtual row or column (a row cut by the page break has no
   ruling on top).
2. ``cells_from_rulings``: lattice slots not separated by a ruling join into one cell (a region
   that is not rectangular takes its bounding box); a cell counts only if rulings cover at least
   half of its left and right sides or of its top and bottom (by length).
3. ``drop_empty_virtual_rows``: a virtual row with nothing in it is no row of the table.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

Ruling = tuple[float, float, float]  # position across the line, start and end along it


@dataclass
class LatticeCell:
    """A (possibly merged) cell of the lattice, in the rulings' units."""

    row: int
    col: int
    rowspan: int
    colspan: int
    bbox: tuple[float, float, float, float]  # x0, top, x1, bottom
    open_top: bool = False  # less than half of its top is ruled: cut by the page break above
    open_bottom: bool = False


@dataclass
class Lattice:
    """The lines of a table's lattice: column boundaries ``xs``, row boundaries ``ys``."""

    xs: list[float]
    ys: list[float]
    virtual_top: bool = False  # the first row was opened by rulings running past the table
    virtual_bottom: bool = False

    @property
    def n_rows(self) -> int:
        return len(self.ys) - 1

    @property
    def n_cols(self) -> int:
        return len(self.xs) - 1


def _cluster(values: list[float], tol: float) -> list[float]:
    """Positions closer than ``tol`` to their neighbour as one (their mean), in order."""
    groups: list[list[float]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) / len(g) for g in groups]


def lattice_from_rulings(
    hs: Sequence[Ruling], vs: Sequence[Ruling], snap: float, overshoot: float
) -> Lattice | None:
    """The lattice of one table's horizontal and vertical rulings: positions within ``snap`` are
    one line; rulings running more than ``overshoot`` past the outermost cross ruling open a row
    or column. None unless that makes at least one row and one column."""
    if not hs or not vs:
        return None
    xs = _cluster([v[0] for v in vs], snap)
    ys = _cluster([h[0] for h in hs], snap)
    top, bottom = min(v[1] for v in vs), max(v[2] for v in vs)
    left, right = min(h[1] for h in hs), max(h[2] for h in hs)
    virtual_top, virtual_bottom = top < ys[0] - overshoot, bottom > ys[-1] + overshoot
    ys = [top] * virtual_top + ys + [bottom] * virtual_bottom
    xs = [left] * (left < xs[0] - overshoot) + xs + [right] * (right > xs[-1] + overshoot)
    if len(xs) < 2 or len(ys) < 2:
        return None
    return Lattice(xs, ys, virtual_top, virtual_bottom)


def cells_from_rulings(
    xs: list[float], ys: list[float], h_rule: list[list[bool]], v_rule: list[list[bool]]
) -> list[LatticeCell]:
    """Cells of a lattice, in (row, col) order. ``h_rule[r][c]``: the edge of horizontal line
    ``r`` over column ``c`` is ruled; ``v_rule[r][c]``: the edge of vertical line ``c`` beside
    row ``r`` is ruled."""
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    cells = []
    for r0, c0, r1, c1 in _regions(h_rule, v_rule, n_rows, n_cols):
        width, height = xs[c1 + 1] - xs[c0], ys[r1 + 1] - ys[r0]
        top = sum(xs[c + 1] - xs[c] for c in range(c0, c1 + 1) if h_rule[r0][c]) / width
        bottom = sum(xs[c + 1] - xs[c] for c in range(c0, c1 + 1) if h_rule[r1 + 1][c]) / width
        left = sum(ys[r + 1] - ys[r] for r in range(r0, r1 + 1) if v_rule[r][c0]) / height
        right = sum(ys[r + 1] - ys[r] for r in range(r0, r1 + 1) if v_rule[r][c1 + 1]) / height
        if not (left >= 0.5 and right >= 0.5 or top >= 0.5 and bottom >= 0.5):
            continue  # not enclosed by rulings: outside the table
        bbox = (xs[c0], ys[r0], xs[c1 + 1], ys[r1 + 1])
        cells.append(LatticeCell(r0, c0, r1 - r0 + 1, c1 - c0 + 1, bbox, top < 0.5, bottom < 0.5))
    cells.sort(key=lambda c: (c.row, c.col))
    return cells


def joined_slots(
    h_rule: list[list[bool]], v_rule: list[list[bool]], n_rows: int, n_cols: int
) -> list[list[int]]:
    """Lattice slots (``row * n_cols + col``) joined where no ruling separates them, one list
    per region, whatever its shape."""
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not v_rule[r][c + 1]:
                parent[find(r * n_cols + c)] = find(r * n_cols + c + 1)
            if r + 1 < n_rows and not h_rule[r + 1][c]:
                parent[find(r * n_cols + c)] = find((r + 1) * n_cols + c)
    regions: dict[int, list[int]] = {}
    for i in range(n_rows * n_cols):
        regions.setdefault(find(i), []).append(i)
    return list(regions.values())


def is_rectangle(slots: list[int], n_cols: int) -> bool:
    """Whether joined slots fill their bounding box."""
    rows = [s // n_cols for s in slots]
    cols = [s % n_cols for s in slots]
    return (max(rows) - min(rows) + 1) * (max(cols) - min(cols) + 1) == len(slots)


def _regions(
    h_rule: list[list[bool]], v_rule: list[list[bool]], n_rows: int, n_cols: int
) -> list[tuple[int, int, int, int]]:
    """Slots joined where no ruling separates them, as disjoint rectangles (r0, c0, r1, c1); a
    region that is not rectangular takes its bounding box, merging what that overlaps."""
    regions = joined_slots(h_rule, v_rule, n_rows, n_cols)
    rects = [
        (
            min(s // n_cols for s in slots),
            min(s % n_cols for s in slots),
            max(s // n_cols for s in slots),
            max(s % n_cols for s in slots),
        )
        for slots in regions
    ]
    if all(is_rectangle(slots, n_cols) for slots in regions):
        return rects  # all rectangular, hence disjoint
    merged = True
    while merged:
        merged = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                a, b = rects[i], rects[j]
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    rects[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del rects[j]
                    merged = True
                    break
            if merged:
                break
    return rects


def drop_empty_virtual_rows(
    cells: list[LatticeCell], lattice: Lattice, is_empty: Callable[[LatticeCell], bool]
) -> list[LatticeCell]:
    """The cells without a virtual first or last row when every cell of that row is one row high
    and empty; the rows below a dropped first row move up."""
    n_rows = lattice.n_rows
    if lattice.virtual_bottom:
        last = [c for c in cells if c.row + c.rowspan == n_rows]
        if all(c.rowspan == 1 and is_empty(c) for c in last):
            cells = [c for c in cells if c.row + c.rowspan < n_rows]
    if lattice.virtual_top:
        first = [c for c in cells if c.row == 0]
        if all(c.rowspan == 1 and is_empty(c) for c in first):
            cells = [c for c in cells if c.row > 0]
            for c in cells:
                c.row -= 1
    return cells
