"""PDF tables however the producer rules them, read back into the same forms.

The forms are drawn in the test (tests/extractors/drawn_forms.py): the fixture self-evaluation of
form_fixture.py and a target declaration with another column order, with every cell boxed, with
horizontal rules only, in a frame only, or with no rules at all; and a table continued on the next
page under its repeated header row.
"""

from __future__ import annotations

from pathlib import Path

import form_fixture as ff
from drawn_forms import DrawnForm, draw

from extractors.forms import parse_forms
from extractors.pdf import read_pdf
from schemas.grid import Grid

WIDTHS = [70, 88, 125, 70, 70, 36, 40, 170]


def with_outer_column(label: str = "绩效指标") -> DrawnForm:
    """The fixture form with a column left of 一级指标 merged over the indicator table."""
    first, last = ff.FORM_HEIGHT - 10, ff.FORM_HEIGHT - 2  # the header row, the last indicator
    rows = [
        [label if r == first else "", *row] if first <= r <= last else [row[0], "", *row[1:]]
        for r, row in enumerate(ff.form_rows())
    ]
    merges = [(first, 0, last - first + 1, 1)]
    for r, c, rs, cs in ff.MERGES:
        if first <= r <= last:
            merges.append((r, c + 1, rs, cs))
        elif c == 0:
            merges.append((r, 0, rs, cs + 1))
        else:
            merges.append((r, c + 1, rs, cs))
    starts = {(r, c) for r, c, _, _ in merges}
    covered = {(r + i, c) for r, c, rs, _ in merges for i in range(rs)}
    for r in range(len(rows)):
        if not first <= r <= last and (r, 0) not in starts and (r, 0) not in covered:
            merges.append((r, 0, 1, 2))
    return DrawnForm(title=[], rows=rows, merges=merges, widths=[44, *WIDTHS], header_rows=[first])


def tables(path: Path) -> list[Grid]:
    return [g for g in read_pdf(path).grids if g.is_table]


def test_a_repeated_header_beside_a_merged_column_is_dropped(tmp_path):
    """The continuation page prints the header row again beside the merged 绩效指标 column (its
    label printed once, on the first page): the header is dropped, never read as a row."""
    form = with_outer_column()
    form.break_before = 15  # inside the merged 产出指标 cell
    pdf = tmp_path / "repeated.pdf"
    draw(pdf, [form], "grid")
    (grid,) = tables(pdf)
    assert [c.text for c in grid.cells].count("一级指标") == 1
    assert sorted(set(grid.row_pages)) == [1, 2]
    assert grid.n_rows == ff.FORM_HEIGHT
    (form_read,) = parse_forms(read_pdf(pdf))
    ff.assert_form(form_read)


def test_a_repeated_header_with_its_label_is_dropped(tmp_path):
    form = with_outer_column()
    form.break_before = 14
    form.repeat_labels = True  # the merged 绩效指标 label printed again on the new page
    pdf = tmp_path / "repeated.pdf"
    draw(pdf, [form], "grid")
    (grid,) = tables(pdf)
    assert [c.text for c in grid.cells].count("一级指标") == 1
    (form_read,) = parse_forms(read_pdf(pdf))
    ff.assert_form(form_read)
