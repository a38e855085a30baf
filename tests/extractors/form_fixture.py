"""One small 财政项目支出绩效自评表 that every format test renders, and what must be read from it.

``ROWS`` is the form as it shows (8 columns, '' under merged cells), ``MERGES`` its merged cells
as (row, col, rowspan, colspan), ``NUMBERS`` the cells a spreadsheet stores as numbers with their
number format (their shown text is the one in ``ROWS``); every other cell is text, including
'18562710.00' (a number stored as text) and '=100%' (a formula-looking string).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from schemas.grid import Grid
from schemas.records import Form

NAME = "职业培训基础能力建设资助"
DEPARTMENT = "上海市人力资源和社会保障局"
UNIT = "上海市就业促进中心"
TITLE = "财政项目支出绩效自评表"
YEAR = "（2020年度）"
GOAL = "推进师资进修、公共实训基地建设"
DONE = "完成年度计划安排的公共实训项目开发工作"
COVID = "因疫情影响部分职业无法开展培训工作"
HEADER = ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"]
HEADER += ["偏差原因分析及改进措施"]
N_COLS = 8


def form_rows(name: str = NAME) -> list[list[str]]:
    """The form's rows as shown, 8 cells each."""
    return [
        [TITLE, "", "", "", "", "", "", ""],
        [YEAR, "", "", "", "", "", "", ""],
        ["项目名称", name, "", "", "", "", "", ""],
        ["主管部门", DEPARTMENT, "", "", "实施单位", UNIT, "", ""],
        ["项目资金（元）", "", "年初预算数", "全年预算数", "全年执行数", "分值", "执行率", "得分"],
        [
            "",
            "年度资金总额",
            "119,979,860.00",
            "18562710.00",
            "13,303,150.10",
            "10",
            "71.67%",
            "7.2",
        ],
        ["", "其中：当年财政拨款", "", "", "", "—", "", ""],
        ["", "上年结转资金", "", "", "", "—", "", ""],
        ["", "其他资金", "", "", "", "—", "", ""],
        ["年度总体目标", "预算目标", "", "", "实际完成情况", "", "", ""],
        ["", GOAL, "", "", DONE, "", "", ""],
        HEADER,
        ["产出指标", "数量指标", "享受见习补贴人数", ">5000人", "9210", "5", "5", ""],
        ["", "质量指标", "远程培训平台运维工作完成率", "=100%", "90%", "5", "4", COVID],
        ["", "", "见习补贴应补尽补率", "=100%", "100%", "5", "5", ""],
        ["", "时效指标", "公共实训项目开发完成及时性", "及时", "及时", "5", "5", ""],
        ["效益指标", "社会效益指标", "远程培训平台的运行", "稳定", "稳定", "5", "5", ""],
        ["", "", "开发远程课件的作用", "示范引领作用", "示范引领作用", "5", "5", ""],
        ["满意度指标", "服务对象满意度指标", "实训机构满意度", ">90%", "90", "7", "7", ""],
        ["", "", "实训学员满意度", ">90%", "90", "7", "7", ""],
        ["总分", "", "", "", "", "54", "50.2", ""],
    ]


MERGES: list[tuple[int, int, int, int]] = [
    (0, 0, 1, 8),  # title
    (1, 0, 1, 8),  # year
    (2, 1, 1, 7),  # project name
    (3, 1, 1, 3),  # department
    (3, 5, 1, 3),  # implementing unit
    (4, 0, 5, 1),  # 项目资金（元） over the five funds rows
    (9, 0, 2, 1),  # 年度总体目标
    (9, 1, 1, 3),
    (9, 4, 1, 4),
    (10, 1, 1, 3),
    (10, 4, 1, 4),
    (12, 0, 4, 1),  # 产出指标
    (13, 1, 2, 1),  # 质量指标
    (16, 0, 2, 1),  # 效益指标
    (16, 1, 2, 1),  # 社会效益指标
    (18, 0, 2, 1),  # 满意度指标
    (18, 1, 2, 1),  # 服务对象满意度指标
    (20, 0, 1, 5),  # 总分
]
FORM_HEIGHT = 21

# (row, col) → (stored value, number format); the shown text is ROWS[row][col]
NUMBERS: dict[tuple[int, int], tuple[float, str]] = {
    (5, 2): (119979860, "#,##0.00"),
    (5, 4): (13303150.1, "#,##0.00"),
    (5, 5): (10, "General"),
    (5, 6): (0.7167, "0.00%"),
    (5, 7): (7.2, "General"),
    (12, 4): (9210, "0"),
    **{(r, c): (v, "General") for r, c, v in [(12, 5, 5), (12, 6, 5), (13, 5, 5), (13, 6, 4)]},
    **{(r, c): (5, "General") for r in (14, 15, 16, 17) for c in (5, 6)},
    **{(r, c): (7, "General") for r in (18, 19) for c in (5, 6)},
    (18, 4): (90, "General"),
    (19, 4): (90, "General"),
    (20, 5): (54, "General"),
    (20, 6): (50.2, "General"),
}


@dataclass
class Layout:
    """Rows, merges and numeric cells of one sheet holding one or more forms."""

    rows: list[list[str]]
    merges: list[tuple[int, int, int, int]]
    numbers: dict[tuple[int, int], tuple[float, str]]


def layout(*names: str, gap: int = 1) -> Layout:
    """The form once per name, one under the other with ``gap`` empty rows between."""
    rows: list[list[str]] = []
    merges: list[tuple[int, int, int, int]] = []
    numbers: dict[tuple[int, int], tuple[float, str]] = {}
    for k, name in enumerate(names or (NAME,)):
        if k:
            rows += [[""] * N_COLS for _ in range(gap)]
        top = len(rows)
        rows += form_rows(name)
        merges += [(r + top, c, rs, cs) for r, c, rs, cs in MERGES]
        numbers.update({(r + top, c): v for (r, c), v in NUMBERS.items()})
    return Layout(rows=rows, merges=merges, numbers=numbers)


def covered(lay: Layout) -> set[tuple[int, int]]:
    """Slots hidden under a merged cell (not its top-left)."""
    return {
        (r + i, c + j)
        for r, c, rs, cs in lay.merges
        for i in range(rs)
        for j in range(cs)
        if (i, j) != (0, 0)
    }


def expected_cells(lay: Layout) -> set[tuple[int, int, str, int, int]]:
    """(row, col, text, rowspan, colspan) of every non-empty or merged cell."""
    spans = {(r, c): (rs, cs) for r, c, rs, cs in lay.merges}
    hidden = covered(lay)
    return {
        (r, c, text, *spans.get((r, c), (1, 1)))
        for r, row in enumerate(lay.rows)
        for c, text in enumerate(row)
        if (r, c) not in hidden and (text or (r, c) in spans)
    }


def grid_cells(grid: Grid) -> set[tuple[int, int, str, int, int]]:
    """The same view of a grid a reader produced."""
    return {
        (c.row, c.col, c.text, c.rowspan, c.colspan)
        for c in grid.cells
        if c.text or c.rowspan > 1 or c.colspan > 1
    }


OUT, BEN, SAT = "产出指标", "效益指标", "满意度指标"
INDICATORS = [
    (OUT, "数量指标", "享受见习补贴人数", ">5000人", "9210", 5.0, 5.0, None),
    (OUT, "质量指标", "远程培训平台运维工作完成率", "=100%", "90%", 5.0, 4.0, COVID),
    (OUT, "质量指标", "见习补贴应补尽补率", "=100%", "100%", 5.0, 5.0, None),
    (OUT, "时效指标", "公共实训项目开发完成及时性", "及时", "及时", 5.0, 5.0, None),
    (BEN, "社会效益指标", "远程培训平台的运行", "稳定", "稳定", 5.0, 5.0, None),
    (BEN, "社会效益指标", "开发远程课件的作用", "示范引领作用", "示范引领作用", 5.0, 5.0, None),
    (SAT, "服务对象满意度指标", "实训机构满意度", ">90%", "90", 7.0, 7.0, None),
    (SAT, "服务对象满意度指标", "实训学员满意度", ">90%", "90", 7.0, 7.0, None),
]


def indicator_rows(form: Form) -> list[tuple]:
    return [
        (
            i.level1,
            i.level2,
            i.level3,
            i.target_text,
            i.actual_text,
            i.weight,
            i.score,
            i.deviation_reason,
        )
        for i in form.indicators
    ]


def assert_form(form: Form, name: str = NAME) -> None:
    """The records every reader must yield for the form."""
    assert form.form_type == "project_self_evaluation"
    assert form.fiscal_year == 2020
    assert form.name == name
    assert form.department == DEPARTMENT
    assert form.implementing_unit == UNIT
    assert form.money_unit == "元"
    assert (form.budget_initial, form.budget_full_year, form.budget_executed) == (
        Decimal("119979860.00"),
        Decimal("18562710.00"),
        Decimal("13303150.10"),
    )
    assert form.execution_rate == 0.7167
    assert (form.budget_weight, form.budget_score) == (10, 7.2)
    assert [line.line for line in form.fund_lines] == [
        "年度资金总额",
        "当年财政拨款",
        "上年结转资金",
        "其他资金",
    ]
    assert (form.goal_planned, form.goal_actual) == (GOAL, DONE)
    assert indicator_rows(form) == INDICATORS
    assert not any(i.hierarchy_inferred for i in form.indicators)
    assert (form.total_weight, form.total_score) == (54, 50.2)
