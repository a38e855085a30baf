"""Project lists (one project a row, its indicators packed into one cell), read from real and
generated files; the expected values were transcribed by hand from the rendered pages."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

from extractors import read_document
from extractors.forms import parse_forms
from extractors.project_lists import read_project_lists, unpack_indicators
from schemas.records import Form
from schemas.vocabulary import canonical_level

REAL = Path(__file__).resolve().parents[1] / "data" / "real"
FORMS = REAL / "forms"
GUANGZHOU = FORMS / "renwu_005_广州_2026年广州市生态环境局部门预算.pdf"


def rows(form: Form) -> list[tuple]:
    return [
        (i.level1, i.level2, i.level3, i.target_text, (i.extra or {}).get("实施周期指标值"))
        for i in form.indicators
    ]


@pytest.fixture(scope="module")
def guangzhou() -> list[Form]:
    return parse_forms(read_document(GUANGZHOU))


def test_guangzhou_list_gives_one_form_a_project(guangzhou):
    # 300 project rows over 140 pages (each row's 绩效指标 cell opens with '1.x－'); the 35 unit
    # rows (a 资金使用单位 with its subtotal) and the 合计 row are not projects
    assert len(guangzhou) == 300
    assert [f.form_ordinal for f in guangzhou] == list(range(1, 301))
    assert {f.form_type for f in guangzhou} == {"project_target_declaration"}
    assert {(f.fiscal_year, f.year_source) for f in guangzhou} == {(2026, "form")}
    assert {(f.department, f.money_unit) for f in guangzhou} == {("广州市生态环境局", "万元")}
    # the projects add up to the printed 合计 37,367.86 万元 (each amount rounded to 0.01 万元)
    total = sum(f.budget_full_year for f in guangzhou)
    assert abs(total - Decimal("373678600")) < Decimal("2000")


def test_guangzhou_first_project(guangzhou):
    form = guangzhou[0]  # page 1, second row under 广州市生态环境局
    assert (form.name, form.implementing_unit) == (
        "广州市镇（街）园区环保监督检查员经费（越秀区）",
        "广州市生态环境局",
    )
    assert (form.first_page, form.last_page) == (1, 1)
    assert form.budget_full_year == Decimal("2380000.00")
    assert [(f.line, f.budget_full_year) for f in form.fund_lines] == [
        ("年度资金总额", Decimal("2380000.00")),
        ("当年财政拨款", Decimal("2380000.00")),
    ]
    assert form.goal_planned == (
        "通过开展广州市建立镇（街）园区环境保护监督检查员队伍，有利于强化落实镇（街）环境保护"
        "属地责任，健全完善环保监管责任体制，全面提升基层环保工作水平。"
    )
    assert rows(form) == [
        ("产出指标", "数量指标", "项目专职环保员数量", "≦核定人数", "≦核定人数"),
        ("产出指标", "质量指标", "环境应急事件响应率", "100%", "100%"),
        (
            "产出指标",
            "质量指标",
            "专职环保员队伍管理规范化",
            "是",
            "考察是否符合规范，合规得满分，不合规不得分",
        ),
        ("产出指标", "时效指标", "项目资金支付及时率", "100%", "100%"),
        ("效益指标", "社会效益指标", "环保信访投诉办结率", "≥90%", "≥90%"),
        ("效益指标", "社会效益指标", "辖区内污染源巡查率", "≥80%", "≥80%"),
    ]
    assert [(i.target_op, i.target_value, i.target_unit) for i in form.indicators[1:2]] == [
        ("=", 100.0, "%")
    ]


def test_guangzhou_middle_project(guangzhou):
    form = next(f for f in guangzhou if f.first_page == 65 and f.name == "水污染防治专项经费")
    assert form.implementing_unit == "广州市生态环境局天河分局"  # the unit row on page 62
    assert form.budget_full_year == Decimal("180000.00")
    assert form.goal_planned.startswith("通过开展广州市天河区入河排污口规范化建设技术支撑项目")
    assert form.goal_planned.endswith("在国家、省、市三级系统进行数据更新。")
    assert rows(form) == [
        ("效益指标", "生态效益指标", "为环境管理提供数据支撑（是/否）", "是", "是"),
        ("成本指标", "经济成本指标", "不超出预算", "400000元", "600000元"),
        ("产出指标", "数量指标", "入河排污口巡查数量", "150", "300"),
        ("产出指标", "数量指标", "入河排污口快检数量", "50", "100"),
        ("产出指标", "数量指标", "入河排污口标志牌设置（个）", "50", "300"),
    ]


def test_guangzhou_last_project(guangzhou):
    form = guangzhou[-1]
    assert (form.name, form.first_page) == ("机构运行辅助经费", 140)
    assert form.implementing_unit == "广州市生态环境局增城环境监测站"  # the unit row on page 139
    assert form.budget_full_year == Decimal("140000.00")
    assert (
        form.goal_planned == "根据要求，完成编外人员工资发放，提高人员积极性，补充单位的工作力量。"
    )
    assert rows(form) == [
        ("成本指标", "经济成本指标", "不超出预算", "不超出预算数", "不超出预算数"),
        ("产出指标", "质量指标", "人员持证上岗率", "100%", "100%"),
        ("效益指标", "社会效益指标", "工作违纪次数", "0起", "0起"),
        ("产出指标", "质量指标", "出勤率", "100%", "100%"),
        ("产出指标", "数量指标", "聘用人员数量", "聘用不超过2名编外人员", "聘用不超过2名编外人员"),
    ]


def test_guangzhou_against_the_transcribed_forms(guangzhou):
    """The first, a middle and the last project as transcribed in tests/data/real/expected.

    Levels are compared by their national names (the page prints 社会效益 for 社会效益指标), fund
    lines by position (the transcription names them as printed: 总计, 财政拨款). The list's title,
    printed on every page, gives each row its family and year, as a table's title does for the
    project blocks under it.
    """
    expected = json.loads((REAL / "expected" / f"{GUANGZHOU.stem}.json").read_text("utf-8"))
    assert len(guangzhou) == expected["forms_total"]
    for want in expected["forms"]:
        form = next(
            f for f in guangzhou if (f.first_page, f.name) == (want["first_page"], want["name"])
        )
        fields = ("form_type", "fiscal_year", "department", "implementing_unit", "money_unit")
        assert [getattr(form, name) for name in fields] == [want[name] for name in fields]
        assert (form.last_page, form.year_source) == (want["last_page"], want["year_printed_where"])
        assert str(form.budget_full_year) == want["budget_full_year"]
        assert [str(line.budget_full_year) for line in form.fund_lines] == [
            line["budget_full_year"] for line in want["fund_lines"]
        ]
        assert form.goal_planned == want["goal_planned"]
        assert [
            (i.level1, i.level2, i.level3, i.target_text, i.extra) for i in form.indicators
        ] == [
            (
                canonical_level(i["level1"]),
                canonical_level(i["level2"]),
                i["level3"],
                i["target_text"],
                i["extra"] or None,
            )
            for i in want["indicators"]
        ]


@pytest.mark.parametrize(
    ("file_name", "pages"),
    [
        ("renwu_008_杭州_2026年杭州市交通运输局部门预算.pdf", "pages 39–41"),
        ("renwu_005_广州_2026年广州市交通运输局部门预算.pdf", "pages 27–80, 83–94"),
    ],
)
def test_a_list_of_goals_without_indicators_is_not_a_form(file_name, pages):
    doc = read_document(FORMS / file_name)
    listed = read_project_lists(doc)
    assert listed.forms == []
    assert any(
        n.startswith(f"a project list with goals but no indicators ({pages}") for n in listed.notes
    )
    assert parse_forms(doc) == []


# ---------------------------------------------------------------- the packed-cell grammar


def levels(text: str) -> list[tuple]:
    return [(p.level1, p.level2, p.level3, p.values) for p in unpack_indicators(text)]


def test_codes_give_the_levels_and_a_three_level_code_is_dropped():
    text = "1－产出指标（50分），11－数量指标，111－培训人数：100人；112－场次：5场；2－满意度指标，21－满意度指标，211－学员满意度：≥90%"
    assert levels(text) == [
        ("产出指标", "数量指标", "培训人数", {"": "100人"}),
        ("产出指标", "数量指标", "场次", {"": "5场"}),
        ("满意度指标", "满意度指标", "学员满意度", {"": "≥90%"}),
    ]


def test_numbered_items_on_lines_with_dashes_between_levels():
    text = "(1)产出指标-数量指标-培训人数：≥100人次\n(2)产出指标-时效指标-完成时间：2026年12月底前\n(3)效益指标-社会效益指标-知晓率：≥90%"
    assert levels(text) == [
        ("产出指标", "数量指标", "培训人数", {"": "≥100人次"}),
        ("产出指标", "时效指标", "完成时间", {"": "2026年12月底前"}),
        ("效益指标", "社会效益指标", "知晓率", {"": "≥90%"}),
    ]


def test_a_level_word_inside_a_name_and_a_name_like_its_level_stay_names():
    text = "1.3－满意度指标，31－服务对象满意度，服务对象满意度；年度指标值：≥90%；2、1－产出指标，12－质量指标，环境质量指标达标率；年度指标值：100%"
    assert levels(text) == [
        ("满意度指标", "服务对象满意度", "服务对象满意度", {"年度指标值": "≥90%"}),
        ("产出指标", "质量指标", "环境质量指标达标率", {"年度指标值": "100%"}),
    ]


def test_labelled_values_may_hold_separators_and_a_repeated_label_starts_the_next_indicator():
    text = (
        "产出指标、数量指标、培训人数 指标值：≥100，含线上 分值：10；培训场次 指标值：5场 分值：5"
    )
    assert levels(text) == [
        ("产出指标", "数量指标", "培训人数", {"指标值": "≥100，含线上", "分值": "10"}),
        ("产出指标", "数量指标", "培训场次", {"指标值": "5场", "分值": "5"}),
    ]


# ---------------------------------------------------------------- a generated list


def write_list(path: Path, title: str = "示范市财政局2025年度项目支出绩效目标表") -> None:
    """Another province's list: its own column order and wording, numbered items on lines."""
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    rows = [
        [title],
        ["预算单位：示范市财政局", "", "", "", "", "", "", "", "单位：元"],
        ["序号", "单位名称", "项目名称", "项目编码", "资金总额", "财政资金", "其他资金"]
        + ["年度绩效目标", "年度绩效指标"],
        ["1", "示范市财政信息中心", "财政信息化运维", "P2025001", "1200000.00", "1000000.00"]
        + ["200000.00", "保障系统稳定运行"]
        + ["(1)产出指标-数量指标-运维系统数量：12个\n(2)产出指标-质量指标-系统可用率：≥99%"],
        ["", "", "", "", "", "", "", "", "(3)满意度指标-服务对象满意度指标-用户满意度：≥90%"],
        ["2", "示范市财政局", "预算评审", "P2025002", "300000.00", "300000.00", "", "完成评审项目"]
        + ["(1)产出指标-时效指标-按时完成率：100%"],
    ]
    for row in rows:
        sheet.append(row)
    sheet.merge_cells("A1:I1")
    book.save(path)


def test_a_generated_list_with_another_grammar_and_column_order(tmp_path):
    path = tmp_path / "list.xlsx"
    write_list(path)
    forms = parse_forms(read_document(path))
    assert [(f.name, f.implementing_unit, f.budget_full_year) for f in forms] == [
        ("财政信息化运维", "示范市财政信息中心", Decimal("1200000.00")),
        ("预算评审", "示范市财政局", Decimal("300000.00")),
    ]
    first = forms[0]
    assert (first.fiscal_year, first.year_source, first.department) == (
        2025,
        "form",
        "示范市财政局",
    )
    assert first.goal_planned == "保障系统稳定运行"
    assert [(f.line, f.budget_full_year) for f in first.fund_lines] == [
        ("年度资金总额", Decimal("1200000.00")),
        ("当年财政拨款", Decimal("1000000.00")),
        ("其他资金", Decimal("200000.00")),
    ]
    assert [(i.level1, i.level2, i.level3, i.target_text) for i in first.indicators] == [
        ("产出指标", "数量指标", "运维系统数量", "12个"),
        ("产出指标", "质量指标", "系统可用率", "≥99%"),
        ("满意度指标", "服务对象满意度指标", "用户满意度", "≥90%"),  # the row's continuation
    ]


def test_a_list_whose_title_has_no_year_takes_the_best_other_evidence(tmp_path):
    path = tmp_path / "示范市财政局2024年部门预算.xlsx"
    write_list(path, title="示范市财政局项目支出绩效目标表")
    forms = parse_forms(read_document(path))
    assert {(f.fiscal_year, f.year_source, f.form_type) for f in forms} == {
        (2024, "file_name", "project_target_declaration")
    }


def write_cut_list(path: Path) -> None:
    """A list over two pages whose second project row is cut by the page break: the header is
    printed again and the row goes on with empty name and amount cells."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Table, TableStyle

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    style = ParagraphStyle("cell", fontName="STSong-Light", fontSize=9, leading=12)
    title = ParagraphStyle("title", fontName="STSong-Light", fontSize=14, leading=18)

    def table(rows: list[list[str]]) -> Table:
        header = ["项目名称", "绩效指标", "年度绩效目标", "资金总额"]
        cells = [[Paragraph(text, style) for text in row] for row in [header, *rows]]
        drawn = Table(cells, colWidths=[120, 420, 150, 80])
        drawn.setStyle(TableStyle([("GRID", (0, 0), (-1, -1), 0.5, "black")]))
        return drawn

    heading = [
        Paragraph("示范市农业局2025年项目支出绩效目标表", title),
        Paragraph("部门名称：示范市农业局　单位：万元", style),
    ]
    first = [
        ["示范项目甲", "(1)产出指标/质量指标/合格率：100%", "目标甲", "10.00"],
        ["示范项目乙", "(1)产出指标/数量指标/培训人数：≥100人次", "目标乙前半", "20.00"],
    ]
    second = [
        ["", "(2)满意度指标/服务对象满意度指标/学员满意度：≥90%", "，后半", ""],
        ["示范项目丙", "(1)效益指标/社会效益指标/知晓率：≥80%", "目标丙", "5.00"],
    ]
    pdf = SimpleDocTemplate(str(path), pagesize=landscape(A4))
    pdf.build([*heading, table(first), PageBreak(), *heading, table(second)])


def test_a_row_cut_by_a_page_break_joins(tmp_path):
    path = tmp_path / "cut.pdf"
    write_cut_list(path)
    forms = parse_forms(read_document(path))
    assert [(f.name, f.first_page, f.last_page, f.budget_full_year) for f in forms] == [
        ("示范项目甲", 1, 1, Decimal("100000.00")),
        ("示范项目乙", 1, 2, Decimal("200000.00")),
        ("示范项目丙", 2, 2, Decimal("50000.00")),
    ]
    cut = forms[1]
    assert cut.goal_planned == "目标乙前半，后半"
    assert [(i.level1, i.level2, i.level3, i.target_text, i.page) for i in cut.indicators] == [
        ("产出指标", "数量指标", "培训人数", "≥100人次", 1),
        ("满意度指标", "服务对象满意度指标", "学员满意度", "≥90%", 2),
    ]
