"""PDF tables however the producer rules them, read back into the same forms.

The forms are drawn in the test (tests/extractors/drawn_forms.py): the fixture self-evaluation of
form_fixture.py and a target declaration with another column order, with every cell boxed, with
horizontal rules only, in a frame only, or with no rules at all; and a table continued on the next
page under its repeated header row.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import form_fixture as ff
import pytest
from drawn_forms import RULINGS, DrawnForm, draw

from extractors.forms import parse_forms
from extractors.pdf import read_pdf
from schemas.grid import Grid

WIDTHS = [70, 88, 125, 70, 70, 36, 40, 170]

# a 项目支出绩效目标申报表 in 万元: funds in one value column, goal beside its label, indicators
# with a single 指标值 column
DECLARATION = [
    ["项目支出绩效目标申报表", "", "", ""],
    ["（2024年度）", "", "", ""],
    ["项目名称", "老旧小区加装电梯补助", "", ""],
    ["主管部门", "某市住房和城乡建设局", "实施单位", "某市房屋安全服务中心"],
    ["项目资金（万元）", "年度资金总额", "1,250.00", ""],
    ["", "其中：财政拨款", "1,000.00", ""],
    ["", "其他资金", "250.00", ""],
    ["年度总体目标", "完成加装电梯120台，改善老年居民出行条件", "", ""],
    ["一级指标", "二级指标", "三级指标", "指标值"],
    ["产出指标", "数量指标", "加装电梯数量", "≥120台"],
    ["", "质量指标", "电梯验收合格率", "100%"],
    ["", "时效指标", "年内完工率", "≥90%"],
    ["效益指标", "社会效益指标", "受益居民户数", "≥2400户"],
    ["满意度指标", "服务对象满意度指标", "居民满意度", "≥90%"],
]
DECLARATION_MERGES = [
    (0, 0, 1, 4),
    (1, 0, 1, 4),
    (2, 1, 1, 3),
    (4, 0, 3, 1),
    (7, 1, 1, 3),
    (9, 0, 3, 1),
]
DECLARED = [
    ("产出指标", "数量指标", "加装电梯数量", "≥120台"),
    ("产出指标", "质量指标", "电梯验收合格率", "100%"),
    ("产出指标", "时效指标", "年内完工率", "≥90%"),
    ("效益指标", "社会效益指标", "受益居民户数", "≥2400户"),
    ("满意度指标", "服务对象满意度指标", "居民满意度", "≥90%"),
]


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


@pytest.mark.parametrize("rulings", RULINGS)
def test_a_self_evaluation_reads_back_however_it_is_ruled(tmp_path, rulings):
    pdf = tmp_path / f"{rulings}.pdf"
    draw(pdf, [DrawnForm(title=[], rows=ff.form_rows(), merges=ff.MERGES, widths=WIDTHS)], rulings)
    document = read_pdf(pdf)
    (grid,) = [g for g in document.grids if g.is_table]
    # a full lattice draws the merged cells; so do rules parting every row that stop at merged
    # cells (Word's), with columns where the text lines up; rules through every cell part the
    # columns the same way but leave the merged cells' rows unseen (the parser infers them)
    assert grid.spans_known == (rulings in ("grid", "horizontal", "rows"))
    assert grid.row_spans_seen == (rulings != "rows")
    assert document.n_tables == 1
    (form,) = parse_forms(document)
    ff.assert_form(form)


@pytest.mark.parametrize("rulings", RULINGS)
def test_a_target_declaration_reads_back_however_it_is_ruled(tmp_path, rulings):
    pdf = tmp_path / f"{rulings}.pdf"
    widths = [100, 130, 150, 200]
    draw(
        pdf,
        [DrawnForm(title=[], rows=DECLARATION, merges=DECLARATION_MERGES, widths=widths)],
        rulings,
    )
    (form,) = parse_forms(read_pdf(pdf))
    assert (form.form_type, form.fiscal_year, form.money_unit) == (
        "project_target_declaration",
        2024,
        "万元",
    )
    assert (form.name, form.department, form.implementing_unit) == (
        "老旧小区加装电梯补助",
        "某市住房和城乡建设局",
        "某市房屋安全服务中心",
    )
    assert form.goal_planned == "完成加装电梯120台，改善老年居民出行条件"
    assert [(line.line, line.budget_full_year) for line in form.fund_lines] == [
        ("年度资金总额", Decimal("12500000.00")),
        ("当年财政拨款", Decimal("10000000.00")),
        ("其他资金", Decimal("2500000.00")),
    ]
    assert form.budget_full_year == Decimal("12500000.00")
    assert [(i.level1, i.level2, i.level3, i.target_text) for i in form.indicators] == DECLARED
    assert [(i.weight, i.score, i.actual_text) for i in form.indicators] == [(None, None, None)] * 5


@pytest.mark.parametrize("break_before", [14, 16], ids=["inside_merged_cells", "between_levels"])
@pytest.mark.parametrize("rulings", RULINGS)
def test_a_table_continued_under_its_repeated_header(tmp_path, rulings, break_before):
    """The form's table runs onto a second page, which prints the indicator header row again."""
    pdf = tmp_path / f"{rulings}.pdf"
    form = DrawnForm(
        title=[],
        rows=ff.form_rows(),
        merges=ff.MERGES,
        widths=WIDTHS,
        header_rows=[ff.FORM_HEIGHT - 10],
        break_before=break_before,
    )
    draw(pdf, [form], rulings)
    document = read_pdf(pdf)
    table_texts = [c.text for g in document.grids if g.is_table for c in g.cells]
    assert table_texts.count("一级指标") == 1
    assert {p for g in document.grids for p in g.row_pages} == {1, 2}
    (form_read,) = parse_forms(document)
    ff.assert_form(form_read)


@pytest.mark.parametrize("rulings", RULINGS)
def test_cells_wrapped_over_two_lines_stay_one_cell(tmp_path, rulings):
    """Narrow 三级指标 and 偏差原因 columns: the long indicator name and reason wrap; each is read
    as one cell of its row, however the table is ruled."""
    pdf = tmp_path / f"{rulings}.pdf"
    widths = [70, 88, 100, 70, 70, 36, 40, 110]
    draw(pdf, [DrawnForm(title=[], rows=ff.form_rows(), merges=ff.MERGES, widths=widths)], rulings)
    (form,) = parse_forms(read_pdf(pdf))
    ff.assert_form(form)
