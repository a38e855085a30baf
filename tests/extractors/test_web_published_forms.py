"""Forms other provinces publish as HTML tables on a web page (tests/data/real/web/SOURCES.md).

Expected values are transcribed from the published pages.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

from extractors import read_document
from extractors.forms import parse_forms

WEB = Path(__file__).parents[1] / "data" / "real" / "web"


def test_the_sichuan_provincial_self_evaluation_template():
    [form] = parse_forms(read_document(WEB / "sichuan_qingshen_2023_self_evaluation.html"))
    assert (form.form_type, form.fiscal_year, form.year_source) == (
        "project_self_evaluation",
        2023,
        "form",
    )
    assert (form.name, form.department, form.implementing_unit) == (
        "51000021R000000019951-工资性支出",
        "青神县发展和改革局本级",
        "青神县发展和改革局",
    )
    assert form.goal_planned == (
        "严格执行相关政策,保障工资及时、足额发放或社保及时、足额缴纳,预算编制科学合理,减少结余资金。"
    )
    assert form.money_unit == "万元"
    budget, full_year = Decimal("2389300"), Decimal("2518900")
    assert [
        (line.line, line.budget_initial, line.budget_full_year, line.budget_executed, line.weight)
        for line in form.fund_lines
    ] == [
        ("年度资金总额", budget, full_year, full_year, 10),  # 238.93, 251.89, 251.89 万元
        ("当年财政拨款", budget, full_year, full_year, None),
        ("财政专户管理资金", 0, 0, 0, None),
        ("单位资金", 0, 0, 0, None),  # printed beside 其他资金: each line keeps its own
        ("其他资金", None, None, None, None),
    ]
    assert (form.execution_rate, form.budget_weight, form.budget_score) == (1.0, 10, None)
    assert [
        (
            i.level1,
            i.level2,
            i.level3,
            i.target_text,
            i.target_op,
            i.target_value,
            i.target_unit,
            i.actual_text,
            i.weight,
            i.score,
        )
        for i in form.indicators
    ] == [
        ("产出指标", "数量指标", "发放(缴纳)覆盖率", "100", "=", 100, "%", None, 60, None),
        ("效益指标", "社会效益指标", "足额保障率(参保率)", "100", "=", 100, "%", None, 30, None),
    ]
    assert form.total_weight == 100
    # the conclusions printed after the table (here the template's instructions, left unfilled)
    assert form.extra_fields == {
        "评价结论": "结合自评情况,说明项目自评总分,说明项目实施取得的成效或成果。(200字以内)",
        "存在问题": "结合自评情况,分析存在的问题及原因。(200字以内)",
        "改进措施": "针对项目自评中发现的问题,提出下一步改进完善的意见及有关政策性建议。(200字以内)",
    }


def test_the_national_template_with_its_placeholder_rows_left_in():
    [form] = parse_forms(read_document(WEB / "anhui_tianchang_2022_self_evaluation.html"))
    assert (form.form_type, form.fiscal_year, form.name) == (
        "project_self_evaluation",
        2022,
        "水旱灾害防御经费",
    )
    assert (form.department, form.implementing_unit) == (None, "天长市水利局")
    assert (form.budget_initial, form.budget_full_year, form.budget_executed) == (
        Decimal("8800000"),
        Decimal("8800000"),
        Decimal("8800000"),
    )
    assert (form.budget_weight, form.budget_score) == (10, 10)
    rows = [
        (i.level1, i.level2, i.level3, i.target_text, i.actual_text, i.weight, i.score)
        for i in form.indicators
    ]
    # no row for '指标2：', '……' or the 生态效益 '指标1：/ / /' that does not apply
    assert rows == [
        ("产出指标", "数量指标", "完成中型灌区节水改造项目数量", "1", "1", 10, 10),
        ("产出指标", "数量指标", "完成农业综合水价改革项目", "1", "1", 10, 10),
        ("产出指标", "质量指标", "工程质量合格", None, None, 10, 10),
        ("产出指标", "时效指标", "年度资金支付完成率100%", None, None, 10, 10),
        ("产出指标", "成本指标", "资金执行在预算范围内", None, None, 10, 10),
        ("效益指标", "经济效益指标", "全市安全度汛", None, None, 10, 10),
        ("效益指标", "社会效益指标", "保护全市人口财产不受损失", None, None, 10, 10),
        ("效益指标", "可持续影响指标", "已建工程良性运行", None, None, 10, 10),
        ("满意度指标", "服务对象满意度指标", "服务对象满意度", "90%", "100%", 10, 10),
    ]
    # the 一级 cells print only their weight: the name comes from the 二级, marked inferred
    assert [(i.level1_weight, i.hierarchy_inferred) for i in form.indicators] == [
        *[(50, True)] * 5,
        *[(30, True)] * 3,
        (10, False),
    ]
    assert (form.total_weight, form.total_score) == (100, 100)
