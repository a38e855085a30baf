"""Layouts seen outside Shanghai: Anhui's 万元 form with colons, codes and '(50分)' levels."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from extractors import read_document
from extractors.forms import parse_forms
from schemas.vocabulary import PACKAGE_TITLE

ANHUI = """项目支出绩效自评表
2022年度
项目名称\t农村道路养护\t\t\t\t\t\t
主管部门\t219-池州市贵池区棠溪镇人民政府\t\t\t实施单位\t219001-棠溪镇财政所\t\t
项目资金（万元）\t\t年初预算数\t全年预算数（A）\t全年执行数（B）\t分值\t执行率（B/A）\t得分
\t年度资金总额:\t90\t90\t89.974\t10\t99.97%\t10
\t其中:本年财政拨款\t90\t90\t89.974\t—\t—\t—
年度总体目标\t预期目标\t\t\t实际完成情况\t\t\t
\t完成道路养护\t\t\t已完成\t\t\t
一级指标\t二级指标\t三级指标\t年度指标值\t实际完成值\t分值\t得分\t偏差原因分析及改进措施
产出指标(50分)\t数量指标\t养护里程\t≥12公里\t12.5公里\t30\t30\t
\t质量指标\t验收合格率\t=100%\t100%\t20\t20\t
效益指标(30分)\t社会效益\t群众出行便利度\t提升\t达成预期指标\t30\t30\t
满意度指标(10分)\t满意度指标\t群众满意度\t≥90%\t95%\t10\t10\t
合计\t\t\t\t\t100\t100\t
"""


def test_anhui_layout(tmp_path: Path):
    path = tmp_path / "anhui_2022.txt"
    path.write_bytes(ANHUI.encode("gb18030"))
    [form] = parse_forms(read_document(path))
    assert (form.form_type, form.fiscal_year, form.name) == (
        "project_self_evaluation",
        2022,
        "农村道路养护",
    )
    assert form.department == "219-池州市贵池区棠溪镇人民政府"
    assert form.implementing_unit == "219001-棠溪镇财政所"
    assert form.money_unit == "万元"
    assert (form.budget_full_year, form.budget_executed) == (
        Decimal("900000.00"),
        Decimal("899740.00"),
    )
    assert (form.execution_rate, form.budget_score, form.total_weight, form.total_score) == (
        0.9997,
        10,
        100,
        100,
    )
    assert [line.line for line in form.fund_lines] == ["年度资金总额", "当年财政拨款"]
    assert (form.goal_planned, form.goal_actual) == ("完成道路养护", "已完成")
    levels = [(i.level1, i.level2, i.level3) for i in form.indicators]
    assert levels == [
        ("产出指标", "数量指标", "养护里程"),
        ("产出指标", "质量指标", "验收合格率"),
        ("效益指标", "社会效益指标", "群众出行便利度"),
        ("满意度指标", "满意度指标", "群众满意度"),
    ]
    first = form.indicators[0]
    assert (first.target_op, first.target_value, first.target_unit) == (">=", 12, "公里")
    assert (first.actual_value, first.actual_unit) == (12.5, "公里")


LINES = """财政项目支出绩效自评表
（2021年度）
项目名称：社区养老服务补贴    主管部门：区民政局    实施单位：区养老服务中心
项目资金（元）\t\t年初预算数\t全年预算数\t全年执行数\t分值\t执行率\t得分
\t年度资金总额\t500000.00\t500000.00\t450000.00\t10\t90.00%\t9
一级指标\t二级指标\t三级指标\t全年指标值\t全年实际值\t指标分值\t自评得分\t未完成原因
产出指标\t数量指标\t服务老人数\t≥300人\t310人\t50\t50\t
效益指标\t社会效益指标\t老人生活质量\t提高\t提高\t30\t30\t
满意度指标\t服务对象满意度指标\t老人满意度\t≥90%\t88%\t10\t9.7\t个别老人反映送餐不及时
总分\t\t\t\t\t100\t98.7\t
"""


def test_labels_on_one_line_and_other_header_words(tmp_path: Path):
    path = tmp_path / "one_line_labels.txt"
    path.write_text(LINES, encoding="utf-8")
    [form] = parse_forms(read_document(path))
    assert (form.fiscal_year, form.name, form.department, form.implementing_unit) == (
        2021,
        "社区养老服务补贴",
        "区民政局",
        "区养老服务中心",
    )
    rows = [(i.level3, i.target_text, i.actual_text, i.weight, i.score) for i in form.indicators]
    assert rows == [
        ("服务老人数", "≥300人", "310人", 50, 50),
        ("老人生活质量", "提高", "提高", 30, 30),
        ("老人满意度", "≥90%", "88%", 10, 9.7),
    ]
    assert form.indicators[2].deviation_reason == "个别老人反映送餐不及时"


DEPARTMENT = """部门整体支出绩效自评表
（2023年度）
部门（单位）名称\t上海市某区教育局\t\t\t\t\t\t
预算资金（元）\t\t年初预算数\t全年预算数\t全年执行数\t分值\t执行率\t得分
\t年度资金总额\t8,000,000.00\t8,200,000.00\t7,954,000.00\t10\t97.00%\t9.7
\t其中：当年财政拨款\t8,000,000.00\t8,200,000.00\t7,954,000.00\t—\t—\t—
年度总体目标\t年初设定目标\t\t\t实际完成情况\t\t\t
\t保障全区义务教育学校正常运转\t\t\t全区学校运转正常\t\t\t
一级指标\t二级指标\t三级指标\t年度指标值\t实际完成值\t分值\t得分\t偏差原因分析及改进措施
产出指标\t数量指标\t保障学校数\t=45所\t45所\t30\t30\t
\t时效指标\t经费拨付及时率\t≥95%\t96%\t20\t20\t
效益指标\t社会效益指标\t义务教育巩固率\t≥99%\t99.5%\t30\t30\t
满意度指标\t服务对象满意度指标\t家长满意度\t≥90%\t92%\t10\t10\t
总分\t\t\t\t\t100\t99.7\t
"""


def test_department_self_evaluation(tmp_path: Path):
    path = tmp_path / "department_2023.txt"
    path.write_text(DEPARTMENT, encoding="utf-8")
    [form] = parse_forms(read_document(path))
    assert (form.form_type, form.fiscal_year) == ("department_self_evaluation", 2023)
    assert (form.name, form.department) == ("上海市某区教育局", "上海市某区教育局")
    assert (form.budget_full_year, form.budget_executed, form.execution_rate) == (
        Decimal("8200000.00"),
        Decimal("7954000.00"),
        0.97,
    )
    assert (form.goal_planned, form.goal_actual) == (
        "保障全区义务教育学校正常运转",
        "全区学校运转正常",
    )
    assert [(i.level1, i.level2, i.level3) for i in form.indicators] == [
        ("产出指标", "数量指标", "保障学校数"),
        ("产出指标", "时效指标", "经费拨付及时率"),
        ("效益指标", "社会效益指标", "义务教育巩固率"),
        ("满意度指标", "服务对象满意度指标", "家长满意度"),
    ]
    assert (form.total_weight, form.total_score) == (100, 99.7)


def test_numbers_printed_with_a_unit_are_read_and_text_where_a_number_belongs_is_flagged(
    tmp_path: Path,
):
    from expectations import validate

    text = ANHUI.replace("\t89.974\t10\t99.97%\t10\n", "\t待核定\t10分\t99.97%\t10\n", 1).replace(
        "\t≥12公里\t12.5公里\t30\t30\t", "\t≥12公里\t12.5公里\t30分\t30分\t"
    )
    assert text.count("待核定") == 1 and text.count("\t30分\t30分\t") == 1
    path = tmp_path / "anhui_2022.txt"
    path.write_text(text, encoding="utf-8")
    [form] = parse_forms(read_document(path))
    form.form_id = "anhui"

    assert (form.budget_executed, form.budget_weight) == (None, 10)
    assert [(i.weight, i.score) for i in form.indicators[:2]] == [(30, 30), (20, 20)]
    unreadable = [(c.field, c.text, c.row_ordinal) for c in form.flagged_cells if c.unreadable]
    assert unreadable == [("budget_executed (年度资金总额)", "待核定", None)]
    [result] = [r for r in validate([form]) if r.check_name == "value_unreadable"]
    assert (result.severity, result.row_ordinal, result.observed) == ("warning", None, "待核定")
    assert (
        "budget_executed (年度资金总额) cell reads '待核定', which is not a number" in result.detail
    )


@pytest.mark.parametrize(
    ("cover", "issuer"),
    [
        ("西安市卫生健康委员会（汇总）2022年度部门决算", "西安市卫生健康委员会"),
        ("2026年度福州市民政局(本级)单位预算", "福州市民政局"),
        ("2026年烟台市人民政府办公室部门预算", "烟台市人民政府办公室"),
        ("江苏省人民检察院2019年度部门预算公开", "江苏省人民检察院"),
        ("上海市普陀区财政局2024年度部门决算", "上海市普陀区财政局"),
        ("西安市人力资源和社会保障局2020年部门综合预算", "西安市人力资源和社会保障局"),
        ("2026年项目支出绩效目标表", None),  # a form's title names no issuer
    ],
)
def test_a_package_cover_names_its_issuer(cover: str, issuer: str | None):
    match = PACKAGE_TITLE.match(cover)
    assert (match.group("issuer") if match else None) == issuer
