"""Forms in page text dumped line by line (pdftotext without -layout, a PDF library's
extract_text()): cells joined by single spaces, wrapped cells split over the lines around their
row, merged 一级/二级 names printed mid-span. Expected values are read off the text files by hand."""

from datetime import date
from decimal import Decimal
from pathlib import Path

from extractors import read_document
from extractors.forms import parse_forms

DATA = Path(__file__).parent.parent / "data"
REAL_PAGE = DATA / "jgw2026_lanxilu_page24_as_extracted.txt"  # the real 2026 申报表 page, as text
GENERATED = DATA / "line_dump_declaration_weight_before_target.txt"
NARROW = DATA / "line_dump_narrow_labels_wrapped_names.txt"
MIXED_GOALS = "goal texts rebuilt from lines printed side by side; their line order may be mixed"


def test_the_real_declaration_page_lands_with_every_indicator():
    [form] = parse_forms(read_document(REAL_PAGE))
    assert form.form_type == "project_target_declaration"
    assert form.fiscal_year == 2026 and form.year_source == "form"
    # '兰溪路-真南路下立交工' above the label line, '程' below it; likewise the department
    assert form.name == "兰溪路-真南路下立交工程"
    assert form.department == "上海市普陀区建设和管理委员会"
    assert form.implementing_unit == "上海市普陀区市政工程建设中心"
    assert (form.planned_start, form.planned_end) == (date(2026, 1, 1), date(2027, 12, 31))
    assert form.money_unit == "元"
    assert form.project_funds_total == Decimal("771325800.00")
    assert form.budget_full_year == Decimal("226145100.00")
    lines = {line.line: line.budget_full_year for line in form.fund_lines}
    assert lines == {  # the year's column; 其中：财政资金 and the left 其他资金 are the project's
        "年度资金总额": Decimal("226145100.00"),
        "当年财政拨款": Decimal("226145100.00"),
        "上年结转资金": Decimal("0.00"),
        "其他资金": Decimal("0.00"),
    }
    assert form.goal_overall == (
        "为居民出行提供快速便捷的通道，完善、提高了路网服务功能分流中环路的交通压力、"
        "强化铁路两侧的片区的交通联系，支撑区域一体化发展。"
    )
    assert form.goal_planned == "积极推进项目前期征收工作，年内开展管线搬迁及维护结构施工。"
    assert MIXED_GOALS in form.notes  # the two goals' lines alternate on the page
    got = [(i.level1, i.level2, i.level3, i.target_text) for i in form.indicators]
    assert got == [
        # '生态环境' / '成本指标' around the row: one 二级 name; no 一级 printed for this row
        (None, "生态环境成本指标", "文明施工情况", "可控"),
        ("产出指标", "数量指标", "道路建设长度", "985米"),
        ("产出指标", "质量指标", "项目验收达标率", "=100.00(%)"),
        ("产出指标", "时效指标", "项目完成及时性", "及时"),
        ("效益指标", "社会效益指标", "道路安全隐患减少情况", "减少"),
        ("效益指标", "社会效益指标", "道路景观提升情况", "提升"),
        ("效益指标", "社会效益指标", "道路通行能力提升情况", "提升"),
        ("效益指标", "可持续影响指标", "长效管理制度健全性", "健全"),
        ("满意度指标", "服务对象满意度指标", "居民群众满意度", "≥90.00(%)"),
    ]
    # 产出指标 prints on the 质量 row's line: centred on rows 2–4; 效益指标 on a line of its own
    # between the 景观 and 通行能力 rows: rows 5–8. Rows under a span of several are inferred.
    inferred = [i.hierarchy_inferred for i in form.indicators]
    assert inferred == [False, True, True, True, True, True, True, True, False]
    length, rate, satisfaction = form.indicators[1], form.indicators[2], form.indicators[8]
    assert (length.target_op, length.target_value, length.target_unit) == ("=", 985, "米")
    assert (rate.target_op, rate.target_value, rate.target_unit) == ("=", 100, "%")
    assert (satisfaction.target_op, satisfaction.target_value) == (">=", 90)
    assert not [note for note in form.notes if "not placed" in note]


def test_a_generated_page_with_other_wording_and_the_weight_before_the_target():
    """指标名称 / 指标权重 / 目标值, labels with their values after a colon, 万元, a funds line
    per printed row, 一级 and 二级 names wrapped beside each other around their row."""
    [form] = parse_forms(read_document(GENERATED))
    assert (form.form_type, form.fiscal_year) == ("project_target_declaration", 2025)
    assert form.name == "社区养老服务补贴"
    assert form.department == "某区民政局"
    assert form.implementing_unit == "某区养老服务指导中心"
    assert form.money_unit == "万元"
    lines = {line.line: line.budget_full_year for line in form.fund_lines}
    assert lines == {
        "年度资金总额": Decimal("1200000"),
        "当年财政拨款": Decimal("1000000"),
        "其他资金": Decimal("200000"),
    }
    assert form.goal_planned == "为辖区老年人提供居家养老服务补贴，覆盖低收入及高龄老人。"
    got = [(i.level1, i.level2, i.level3, i.weight, i.target_text) for i in form.indicators]
    assert got == [
        ("产出指标", "数量指标", "补贴发放人数", 20, "≥1200人"),
        ("产出指标", "数量指标", "入户服务次数", 15, "≥3000次"),
        ("产出指标", "质量指标", "服务对象核查准确率", 15, "≥98%"),
        ("产出指标", "时效指标", "补贴按月发放", 10, "按时"),
        ("效益指标", "社会效益指标", "老年人生活质量", 20, "提高"),
        ("满意度指标", "服务对象满意度指标", "老年人满意度", 10, "≥95%"),
    ]
    assert [i.hierarchy_inferred for i in form.indicators] == [True] * 4 + [False] * 2
    assert form.notes == []  # one goal column, every line placed


def test_a_generated_page_with_labels_and_names_wrapped_in_narrow_columns():
    """Labels one piece a line ('项目名' / '称', '主管部' / … / '门'), the funds block's label and
    unit in pieces ('专项资' … '（万元' / '）'), a goal around its label, the outer 绩效指标 and the
    一级 printed on every 二级 group, 三级 names wrapped around their value or run onto the next
    line, a value centred between its name's lines, a page number under the table."""
    [form] = parse_forms(read_document(NARROW))
    assert (form.form_type, form.fiscal_year) == ("policy_target_declaration", 2026)
    assert form.name == "城乡道路养护补助资金"
    assert (form.department, form.implementing_unit) == ("某市交通运输局", "某市公路事业发展中心")
    assert form.money_unit == "万元"
    lines = {line.line: line.budget_full_year for line in form.fund_lines}
    assert lines == {
        "年度资金总额": Decimal("800000"),
        "当年财政拨款": Decimal("800000"),
        "其他资金": Decimal("0"),
    }
    assert form.goal_planned == "保障全市农村公路日常养护，提升路况水平，确保群众安全便捷出行。"
    got = [(i.level1, i.level2, i.level3, i.target_text) for i in form.indicators]
    assert got == [
        ("成本指标", "经济成本指标", "养护成本控制", "≤80万元"),
        ("产出指标", "数量指标", "农村公路日常养护里程", "≥1200公里"),
        ("产出指标", "数量指标", "桥梁定期检查座数", "≥35座"),
        ("产出指标", "质量指标", "路面技术状况优良率（按国检标准）", "≥85%"),
        ("产出指标", "时效指标", "养护资金拨付及时率", "=100%"),
        ("效益指标", "社会效益指标", "群众出行安全保障情况", "有效保障"),
        ("满意度指标", "服务对象满意度指标", "沿线群众满意度", "≥90%"),
    ]
    # '绩效指标 产出指标 数量指标' on a line between two rows: a cell over both
    assert [i.hierarchy_inferred for i in form.indicators] == [False, True, True] + [False] * 4
    assert form.notes == []


def test_two_pages_in_one_file_are_two_forms(tmp_path):
    both = tmp_path / "two_pages.txt"
    both.write_text(
        REAL_PAGE.read_text(encoding="utf-8") + "\f" + GENERATED.read_text(encoding="utf-8"),
        encoding="utf-8",
    )
    forms = parse_forms(read_document(both))
    assert [(f.name, len(f.indicators)) for f in forms] == [
        ("兰溪路-真南路下立交工程", 9),
        ("社区养老服务补贴", 6),
    ]


def test_text_that_cannot_be_placed_is_named_on_the_form(tmp_path):
    page = tmp_path / "page.txt"
    page.write_text(
        "项目支出绩效目标表\n（2025年度）\n项目名称 道路养护 主管部门 区交通委\n"
        "一级指标 二级指标 三级指标 指标值\n"
        "产出指标 数量指标 养护里程 ≥12公里\n"
        "质量指 数量\n"  # pieces of level names whose rest is never printed
        "质量指 路面完好率 ≥95%\n"
        "标\n",
        encoding="utf-8",
    )
    [form] = parse_forms(read_document(page))
    assert [(i.level2, i.level3) for i in form.indicators] == [
        ("数量指标", "养护里程"),
        ("质量指标", "路面完好率"),
    ]
    assert "level text not placed: '质量指'" in form.notes
    assert "level text not placed: '数量'" in form.notes


def test_text_without_an_indicator_table_is_read_as_lines(tmp_path):
    page = tmp_path / "budget.txt"
    page.write_text(
        "2026年部门财务收支预算总表\n项目 预算数 项目 预算数\n一、财政拨款收入 47,483,458\n",
        encoding="utf-8",
    )
    document = read_document(page)
    assert [grid.n_cols for grid in document.grids] == [1]
    assert parse_forms(document) == []
