"""extractors.lattice and extractors.stitching on hand-made rulings, without any reader."""

from __future__ import annotations

from extractors.lattice import cells_from_rulings, drop_empty_virtual_rows, lattice_from_rulings
from extractors.stitching import TableStitcher, column_map, page_table
from schemas.grid import Cell

XS = [0.0, 100.0, 200.0, 300.0]
YS = [0.0, 20.0, 40.0, 60.0]


def ruled(n_rows: int, n_cols: int) -> tuple[list[list[bool]], list[list[bool]]]:
    h_rule = [[True] * n_cols for _ in range(n_rows + 1)]
    v_rule = [[True] * (n_cols + 1) for _ in range(n_rows)]
    return h_rule, v_rule


def spans(cells) -> dict[tuple[int, int], tuple[int, int]]:
    return {(c.row, c.col): (c.rowspan, c.colspan) for c in cells}


def test_missing_rulings_merge_slots():
    h_rule, v_rule = ruled(3, 3)
    h_rule[1][0] = h_rule[2][0] = False  # column 0: one cell over three rows
    v_rule[1][2] = False  # row 1: columns 1-2 merged
    cells = cells_from_rulings(XS, YS, h_rule, v_rule)
    assert spans(cells) == {
        (0, 0): (3, 1),
        (0, 1): (1, 1),
        (0, 2): (1, 1),
        (1, 1): (1, 2),
        (2, 1): (1, 1),
        (2, 2): (1, 1),
    }
    assert cells[0].bbox == (0.0, 0.0, 100.0, 60.0)


def test_non_rectangular_region_takes_its_bounding_box():
    h_rule, v_rule = ruled(2, 2)
    h_rule[1][0] = False  # (0,0)-(1,0) joined ...
    v_rule[1][1] = False  # ... and (1,0)-(1,1): an L, whose box covers (0,1) too
    cells = cells_from_rulings(XS[:3], YS[:3], h_rule, v_rule)
    assert spans(cells) == {(0, 0): (2, 2)}


def test_cells_not_enclosed_by_rulings_are_left_out():
    h_rule, v_rule = ruled(1, 3)
    v_rule[0][3] = False  # the last slot has rulings on top, bottom, left only ...
    h_rule[1][2] = False  # ... and then on top and left only: outside the table
    cells = cells_from_rulings(XS, YS[:2], h_rule, v_rule)
    assert spans(cells) == {(0, 0): (1, 1), (0, 1): (1, 1)}


def test_overshooting_rulings_open_a_virtual_row_dropped_when_empty():
    hs = [(20.0, 0.0, 200.0), (40.0, 0.0, 200.0)]
    vs = [(0.0, 0.0, 40.0), (100.0, 0.0, 40.0), (200.0, 0.0, 40.0)]  # 20 above the top ruling
    lattice = lattice_from_rulings(hs, vs, snap=3.0, overshoot=4.0)
    assert lattice is not None
    assert (lattice.ys, lattice.virtual_top, lattice.virtual_bottom) == (
        [0.0, 20.0, 40.0],
        True,
        False,
    )
    h_rule = [[False, False], [True, True], [True, True]]
    v_rule = [[True] * 3, [True] * 3]
    cells = cells_from_rulings(lattice.xs, lattice.ys, h_rule, v_rule)
    assert [c.open_top for c in cells] == [True, True, False, False]
    assert len(drop_empty_virtual_rows(cells, lattice, lambda c: False)) == 4  # text in it: kept
    kept = drop_empty_virtual_rows(cells, lattice, lambda c: c.open_top)
    assert [(c.row, c.col, c.bbox[1]) for c in kept] == [(0, 0, 20.0), (0, 1, 20.0)]


def part(page: int, rows: list[list[str]], xs: list[float], open_top: bool = False):
    lattice_cells = cells_from_rulings(
        xs, [20.0 * r for r in range(len(rows) + 1)], *ruled(len(rows), len(xs) - 1)
    )
    if open_top:
        for c in lattice_cells:
            c.open_top = c.row == 0
    parts = [(c, Cell(c.row, c.col, rows[c.row][c.col], page=page)) for c in lattice_cells]
    return page_table(parts, xs, page, "test", reaches_bottom=True)


def test_continued_table_drops_the_repeated_header_and_joins_the_split_row():
    stitcher = TableStitcher(join=lambda a, b: a + b)
    stitcher.add_page(1, [part(1, [["名称", "金额"], ["办公", "1"]], XS[:3])])
    stitcher.add_page(2, [part(2, [["名称", "金额"], ["差旅", "3"]], XS[:3])])
    stitcher.add_page(3, [part(3, [["费", ""], ["会议", "4"]], XS[:3], open_top=True)])
    (grid,) = stitcher.grids()
    assert [[c.text for c in grid.cells if c.row == r] for r in range(grid.n_rows)] == [
        ["名称", "金额"],
        ["办公", "1"],
        ["差旅费", "3"],
        ["会议", "4"],
    ]
    assert grid.row_pages == [1, 1, 2, 3]


def test_columns_compared_where_printed_unless_aligned_left():
    first = part(1, [["a", "b"]], XS[:3])
    assert column_map(first, [50.0, 150.0, 250.0]) is None
    assert column_map(first, [50.0, 150.0, 250.0], align_left=True) == [0, 1, 2]
    assert column_map(first, [0.0, 50.0, 200.0]) == [0, 1, 3]  # a ruling only the part has
    assert (first.xs, first.grid.n_cols) == ([0.0, 50.0, 100.0, 200.0], 3)
