"""One small workbook per layout class of the real templates, each with its own column order and
header wording (not the real file's): the parser must find every column by what its header says.

Cells are written as a list of rows; ``^`` marks a slot merged with the cell above it, ``<`` one
merged with the cell to its left.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from openpyxl import Workbook

from extractors import read_document
from extractors.forms import parse_forms
from schemas.records import Form


def write_sheet(path: Path, rows: list[list[str]]) -> Path:
    """An .xlsx of one sheet; '^' and '<' cells merge into the cell above / to the left."""
    width = max(len(row) for row in rows)
    grid = [row + [""] * (width - len(row)) for row in rows]
    owner: dict[tuple[int, int], tuple[int, int]] = {}
    for r, row in enumerate(grid):
        for c, text in enumerate(row):
            if text == "^":
                owner[r, c] = owner.get((r - 1, c), (r - 1, c))
            elif text == "<":
                owner[r, c] = owner.get((r, c - 1), (r, c - 1))
            else:
                owner[r, c] = (r, c)
    book = Workbook()
    sheet = book.active
    spans: dict[tuple[int, int], list[tuple[int, int]]] = {}
    for slot, top_left in owner.items():
        spans.setdefault(top_left, []).append(slot)
    for (r, c), slots in spans.items():
        sheet.cell(row=r + 1, column=c + 1, value=grid[r][c] or None)
        bottom = max(s[0] for s in slots)
        right = max(s[1] for s in slots)
        if (bottom, right) != (r, c):
            sheet.merge_cells(
                start_row=r + 1, start_column=c + 1, end_row=bottom + 1, end_column=right + 1
            )
    book.save(path)
    return path


def indicators(form: Form) -> list[tuple]:
    return [
        (i.level1, i.level2, i.level3, i.target_text, i.target_op, i.target_value, i.target_unit)
        for i in form.indicators
    ]


def test_a_list_of_project_blocks_reads_one_form_a_project(tmp_path: Path):
    header = ["项目名称", "项目代码", "项目金额", "年度绩效目标", "一级目标", "二级目标"]
    header += ["三级目标", "计量单位", "目标值", "指标性质", "评分规则"]
    rows = [
        ["2027年度重点项目绩效目标表"] + ["<"] * 10,
        ["预算单位：某市文化和旅游局   金额单位：万元"] + ["<"] * 10,
        header,
        ["合计", "", "120.50", "", "", "", "", "", "", "", ""],
        ["图书馆免费开放", "P01", "80.00", "保障全市图书馆免费开放", "产出指标", "数量指标"]
        + ["接待读者人次", "万人次", "50", "≥", "每少1万人次扣1分"],
        ["^", "^", "^", "^", "^", "质量指标", "读者满意度", "%", "90", "≥", "低于90%不得分"],
        ["^", "^", "^", "^", "效益指标", "社会效益指标", "全民阅读氛围", "", "明显提升"]
        + ["定性", ""],
        ["文物保护修缮", "P02", "40.50", "完成两处文物修缮", "产出指标", "数量指标"]
        + ["修缮文物点", "处", "2", "=", ""],
        ["^", "^", "^", "^", "成本指标", "经济成本指标", "修缮成本", "万元", "40.5", "≤", ""],
    ]
    forms = parse_forms(read_document(write_sheet(tmp_path / "blocks.xlsx", rows)))
    assert [(f.name, f.budget_full_year, f.goal_planned) for f in forms] == [
        ("图书馆免费开放", Decimal("800000.00"), "保障全市图书馆免费开放"),
        ("文物保护修缮", Decimal("405000.00"), "完成两处文物修缮"),
    ]
    library, relics = forms
    assert {f.form_type for f in forms} == {"project_target_declaration"}
    assert (library.fiscal_year, library.year_source, library.department) == (
        2027,
        "form",
        "某市文化和旅游局",
    )
    assert indicators(library) == [
        ("产出指标", "数量指标", "接待读者人次", "50", ">=", 500000.0, "人次"),
        ("产出指标", "质量指标", "读者满意度", "90", ">=", 90.0, "%"),
        ("效益指标", "社会效益指标", "全民阅读氛围", "明显提升", None, None, None),
    ]
    assert library.indicators[0].extra == {"评分规则": "每少1万人次扣1分"}
    assert indicators(relics)[1] == (
        "成本指标",
        "经济成本指标",
        "修缮成本",
        "40.5",
        "<=",
        405000.0,
        "元",
    )


def test_a_table_without_levels_keeps_them_empty(tmp_path: Path):
    rows = [
        ["某县农业农村局项目绩效目标表（2027年度）", "<", "<", "<", "<"],
        ["项目名称：高标准农田建设", "<", "<", "<", "<"],
        ["主管部门：某县农业农村局", "<", "<", "<", "<"],
        ["序号", "指标名称", "指标值", "权重", "备注"],
        ["1", "新建高标准农田面积", "≥1.2万亩", "40", ""],
        ["2", "项目验收合格率", "100%", "30", "按省标准"],
        ["3", "受益农户满意度", "≥90%", "20", ""],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "no_levels.xlsx", rows)))
    assert (form.name, form.department, form.fiscal_year) == (
        "高标准农田建设",
        "某县农业农村局",
        2027,
    )
    assert form.form_type == "project_target_declaration"
    assert indicators(form) == [
        (None, None, "新建高标准农田面积", "≥1.2万亩", ">=", 12000.0, "亩"),
        (None, None, "项目验收合格率", "100%", "=", 100.0, "%"),
        (None, None, "受益农户满意度", "≥90%", ">=", 90.0, "%"),
    ]
    assert [i.weight for i in form.indicators] == [40, 30, 20]
    assert [i.extra for i in form.indicators] == [
        {"序号": "1"},
        {"序号": "2", "备注": "按省标准"},
        {"序号": "3"},
    ]


def test_operator_and_unit_in_their_own_columns_and_weights_in_the_level_cell(tmp_path: Path):
    rows = [
        ["项目支出绩效目标申报表", "<", "<", "<", "<", "<", "<"],
        ["（2027年度）", "<", "<", "<", "<", "<", "单位：万元"],
        ["项目名称", "城市道路养护", "<", "实施单位", "某区市政中心", "<", "<"],
        ["主管部门及代码", "101-某区住建局", "<", "年度资金总额", "300", "<", "<"],
        ["一级指标", "二级指标", "三级指标", "度量单位", "指标值类型", "指标值", "分值"],
        ["产出指标（60分）", "数量指标", "指标1：养护道路长度", "公里", "≥", "35", "30"],
        ["^", "时效指标", "指标2：病害处置时限", "小时", "≤", "48", "30"],
        ["效益指标（30分）", "社会效益指标", "指标3：道路完好率", "%", "≥", "95", "30"],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "op_unit.xlsx", rows)))
    assert (form.name, form.department, form.implementing_unit) == (
        "城市道路养护",
        "101-某区住建局",
        "某区市政中心",
    )
    assert (form.money_unit, form.budget_full_year) == ("万元", Decimal("3000000.00"))
    assert indicators(form) == [
        ("产出指标", "数量指标", "养护道路长度", "35", ">=", 35.0, "公里"),
        ("产出指标", "时效指标", "病害处置时限", "48", "<=", 48.0, "小时"),
        ("效益指标", "社会效益指标", "道路完好率", "95", ">=", 95.0, "%"),
    ]
    assert [i.level1_weight for i in form.indicators] == [60, 60, 30]


def test_a_level_header_read_without_its_ordinal_is_the_level_the_header_lacks(tmp_path: Path):
    """'级指标': the 一 of a narrow 一级指标 cell lost by OCR. Left of 二级 and 三级 it is the 一级
    column; a lone '级指标' where no level is missing is left a column of no known role."""
    rows = [
        ["项目支出绩效目标申报表", "<", "<", "<", "<"],
        ["项目名称", "城市道路养护", "<", "<", "<"],
        ["级指标", "二级指标", "三级指标", "指标值", "分值"],
        ["产出指标", "数量指标", "养护道路长度", "35公里", "30"],
        ["^", "时效指标", "病害处置时限", "48小时", "30"],
        ["效益指标", "社会效益指标", "道路完好率", "≥95%", "30"],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "lost.xlsx", rows)))
    assert [(i.level1, i.level2, i.level3) for i in form.indicators] == [
        ("产出指标", "数量指标", "养护道路长度"),
        ("产出指标", "时效指标", "病害处置时限"),
        ("效益指标", "社会效益指标", "道路完好率"),
    ]
    rows[2] = ["一级指标", "二级指标", "三级指标", "级指标", "分值"]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "extra.xlsx", rows)))
    assert [i.extra for i in form.indicators] == [
        {"级指标": "35公里"},
        {"级指标": "48小时"},
        {"级指标": "≥95%"},
    ]


def test_a_department_wide_declaration(tmp_path: Path):
    rows = [
        ["2027年部门整体支出绩效目标表", "<", "<", "<", "<", "<"],
        ["部门（单位）名称", "某市统计局", "<", "<", "<", "<"],
        ["年度主要任务", "任务名称", "主要内容", "预算金额（万元）", "<", "<"],
        ["^", "^", "^", "总额", "财政拨款", "其他资金"],
        ["^", "统计调查", "开展经济普查", "500.00", "500.00", ""],
        ["^", "金额合计", "<", "500.00", "500.00", ""],
        ["年度总体目标", "按期完成经济普查各阶段任务", "<", "<", "<", "<"],
        ["绩效指标", "一级指标", "二级指标", "指标内容", "指标值", "<"],
        ["^", "产出指标", "数量指标", "普查对象覆盖率", "100%", "<"],
        ["^", "^", "时效指标", "数据上报及时率", "≥98%", "<"],
        ["^", "满意度指标", "服务对象满意度指标", "调查对象满意度", "≥85%", "<"],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "department.xlsx", rows)))
    assert form.form_type == "department_target_declaration"
    assert (form.name, form.department, form.fiscal_year) == ("某市统计局", "某市统计局", 2027)
    assert form.budget_full_year == Decimal("5000000.00")
    assert form.goal_planned == "按期完成经济普查各阶段任务"
    assert [i.level3 for i in form.indicators] == [
        "普查对象覆盖率",
        "数据上报及时率",
        "调查对象满意度",
    ]


def test_a_self_evaluation_with_other_funds_wording(tmp_path: Path):
    rows = [
        ["某区2026年度项目支出绩效自评表", "<", "<", "<", "<", "<", "<", "<"],
        ["预算单位", "某区卫生健康局", "<", "<", "实施单位", "某区疾控中心", "<", "<"],
        ["项目名称", "免疫规划", "<", "<", "<", "<", "<", "<"],
        [
            "项目资金（万元）",
            "",
            "年初预算",
            "调整后预算数（A）",
            "预算执行数（B）",
            "执行率（B/A）",
        ]
        + ["权重", "得分"],
        ["^", "资金总额", "100", "80", "72", "90%", "10", "9"],
        ["^", "其中：本年财政拨款", "100", "80", "72", "", "", ""],
        ["^", "上年结转", "0", "0", "0", "", "", ""],
        ["^", "单位资金", "0", "0", "0", "", "", ""],
        ["一级指标", "二级指标", "三级指标", "预期目标", "全年实际完成值", "权重", "得分"]
        + ["未完成原因分析"],
        ["产出指标（50分）", "数量指标", "接种人次", "≥2万人次", "2.1万人次", "50", "50", ""],
        ["效益指标（40分）", "社会效益指标", "传染病发病率", "下降", "下降", "40", "40", ""],
        ["总分", "<", "<", "<", "<", "100", "99", ""],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "self_evaluation.xlsx", rows)))
    assert (form.form_type, form.fiscal_year, form.year_source) == (
        "project_self_evaluation",
        2026,
        "form",
    )
    assert (form.department, form.implementing_unit) == ("某区卫生健康局", "某区疾控中心")
    assert (form.budget_initial, form.budget_full_year, form.budget_executed) == (
        Decimal("1000000.00"),
        Decimal("800000.00"),
        Decimal("720000.00"),
    )
    assert (form.execution_rate, form.budget_weight, form.budget_score) == (0.9, 10, 9)
    assert [line.line for line in form.fund_lines] == [
        "年度资金总额",
        "当年财政拨款",
        "上年结转资金",
        "其他资金",
    ]
    assert [
        (i.level3, i.actual_text, i.weight, i.score, i.level1_weight) for i in form.indicators
    ] == [
        ("接种人次", "2.1万人次", 50, 50, 50),
        ("传染病发病率", "下降", 40, 40, 40),
    ]
    assert (form.total_weight, form.total_score) == (100, 99)


def test_a_blank_template_is_no_form_and_is_noted(tmp_path: Path):
    rows = [
        ["项目支出绩效目标表", "<", "<", "<"],
        ["项目名称", "", "<", "<"],
        ["一级指标", "二级指标", "三级指标", "指标值"],
        ["产出指标", "数量指标", "", ""],
        ["^", "质量指标", "", ""],
        ["效益指标", "社会效益指标", "", ""],
    ]
    document = read_document(write_sheet(tmp_path / "template.xlsx", rows))
    assert parse_forms(document) == []
    assert any("1 blank template" in note for note in document.notes)


def test_the_year_from_the_dates_and_last_from_the_file_name(tmp_path: Path):
    def form_of(name: str, dates: list[str]) -> Form:
        rows = [
            ["项目支出绩效目标表", "<", "<", "<"],
            ["项目名称", "社区养老", "<", "<"],
            *([dates] if dates else []),
            ["一级指标", "二级指标", "三级指标", "指标值"],
            ["产出指标", "数量指标", "服务老人数", "≥300人"],
        ]
        [form] = parse_forms(read_document(write_sheet(tmp_path / name, rows)))
        return form

    dated = form_of("目标表.xlsx", ["计划开始日期", "2025/1/1", "计划完成日期", "2025/12/31"])
    assert (dated.fiscal_year, dated.year_source) == (2025, "dates")
    named = form_of("2024年目标表.xlsx", [])
    assert (named.fiscal_year, named.year_source) == (2024, "file_name")


def test_a_title_after_its_table_number_and_wrapped_over_two_lines(tmp_path: Path):
    rows = [
        ["表3-2 某区城市道路养护项目支出绩效目", "<", "<", "<"],
        ["标申报表（2027年度）", "<", "<", "<"],
        ["项目名称", "城市道路养护", "<", "<"],
        ["一级指标", "二级指标", "三级指标", "指标值"],
        ["产出指标", "数量指标", "养护道路长度", "≥35公里"],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "wrapped.xlsx", rows)))
    assert (form.form_type, form.fiscal_year, form.year_source) == (
        "project_target_declaration",
        2027,
        "form",
    )


def test_header_wordings_of_other_templates(tmp_path: Path):
    """A year or 本年度 before 指标值, 完成值 and 完成情况 for the actual, 满分 for the weight and
    自评分 for the score; 评分标准 is kept as an extra column, not taken for the score."""
    rows = [
        ["某县2025年度项目支出绩效自评表", "<", "<", "<", "<", "<", "<", "<"],
        ["项目名称", "农村饮水安全巩固", "<", "<", "主管部门", "某县水利局", "<", "<"],
        ["一级指标", "二级指标", "三级指标", "2025年度指标值", "年度完成值", "满分"]
        + ["自评分", "评分标准"],
        ["产出指标", "数量指标", "维修水厂数量", "≥6座", "7座", "60", "60", "完成得满分"],
        ["满意度指标", "服务对象满意度指标", "受益群众满意度", "≥90%", "96%", "30", "28"]
        + ["每低1%扣1分"],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "wordings.xlsx", rows)))
    assert [
        (i.level3, i.target_text, i.actual_text, i.weight, i.score, i.extra)
        for i in form.indicators
    ] == [
        ("维修水厂数量", "≥6座", "7座", 60, 60, {"评分标准": "完成得满分"}),
        ("受益群众满意度", "≥90%", "96%", 30, 28, {"评分标准": "每低1%扣1分"}),
    ]


def test_funds_columns_in_other_words(tmp_path: Path):
    rows = [
        ["某县2025年度项目支出绩效自评表", "<", "<", "<", "<", "<", "<"],
        ["项目名称", "农村饮水安全巩固", "<", "<", "主管部门", "某县水利局", "<"],
        [
            "项目资金（万元）",
            "年初预算数",
            "调整预算数",
            "实际支出数",
            "资金执行率",
            "分值",
            "得分",
        ],
        ["年度资金总额", "80", "100", "95", "95%", "10", "9.5"],
        ["其中：财政拨款资金", "60", "80", "75", "", "", ""],
        ["上年结转结余", "0", "0", "0", "", "", ""],
        ["自筹资金", "20", "20", "20", "", "", ""],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "实际完成值", "分值", "得分"],
        ["产出指标", "数量指标", "维修水厂数量", "≥6座", "7座", "90", "90"],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "funds.xlsx", rows)))
    assert [(line.line, line.budget_full_year) for line in form.fund_lines] == [
        ("年度资金总额", Decimal("1000000.00")),
        ("当年财政拨款", Decimal("800000.00")),
        ("上年结转资金", Decimal("0.00")),
        ("其他资金", Decimal("200000.00")),
    ]
    assert (form.budget_initial, form.budget_full_year, form.budget_executed) == (
        Decimal("800000.00"),
        Decimal("1000000.00"),
        Decimal("950000.00"),
    )
    assert (form.execution_rate, form.budget_weight, form.budget_score) == (0.95, 10, 9.5)


def test_header_labels_in_other_words(tmp_path: Path):
    rows = [
        ["某县2025年度项目支出绩效目标表", "<", "<", "<"],
        ["项目名称", "农村饮水安全巩固", "项目主管部门", "某县水利局"],
        ["项目承担单位", "某县农村供水管理站", "项目负责人", "李四"],
        ["一级指标", "二级指标", "三级指标", "指标值"],
        ["产出指标", "数量指标", "维修水厂数量", "≥6座"],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "labels.xlsx", rows)))
    assert (form.name, form.department, form.implementing_unit) == (
        "农村饮水安全巩固",
        "某县水利局",
        "某县农村供水管理站",
    )
    assert form.extra_fields == {"项目负责人": "李四"}


def test_a_monitoring_form_is_its_own_family(tmp_path: Path):
    """绩效运行监控表: the year's progress. Its executed-to-date is the funds' 执行数; the progress
    columns are kept as printed."""
    rows = [
        ["2025年项目支出绩效运行监控表", "<", "<", "<", "<", "<", "<"],
        ["项目名称", "乡村道路养护", "<", "主管部门", "某县交通运输局", "<", "<"],
        ["项目资金（万元）", "年初预算数", "全年预算数", "1-7月执行数", "执行率"]
        + ["全年预计执行数", "偏差原因"],
        ["年度资金总额", "100", "100", "60", "60%", "100", ""],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "1-7月执行情况"]
        + ["全年预计完成情况", "偏差原因分析"],
        ["产出指标", "数量指标", "养护里程", "≥120公里", "70公里", "120公里", ""],
    ]
    [form] = parse_forms(read_document(write_sheet(tmp_path / "monitoring.xlsx", rows)))
    assert (form.form_type, form.fiscal_year, form.year_source) == (
        "project_monitoring",
        2025,
        "form",
    )
    assert (form.budget_full_year, form.budget_executed, form.execution_rate) == (
        Decimal("1000000.00"),
        Decimal("600000.00"),
        0.6,
    )
    [row] = form.indicators
    assert (row.level3, row.target_text, row.actual_text) == ("养护里程", "≥120公里", None)
    assert row.extra == {"1-7月执行情况": "70公里", "全年预计完成情况": "120公里"}
