"""The real 2026 财政项目支出绩效目标申报表 page (兰溪路-真南路下立交工程), laid out as a flat grid.

tests/data/jgw2026_lanxilu_page24_as_extracted.txt is the page as text; the .tsv beside it is the
same page as a tab-separated export with its labels vertically centred, as WPS prints them.
"""

from datetime import date
from decimal import Decimal
from pathlib import Path

from extractors import read_document
from extractors.forms import parse_forms

DATA = Path(__file__).parent.parent / "data"


def test_real_2026_declaration_layout():
    [form] = parse_forms(read_document(DATA / "project_target_declaration_2026_centred_labels.tsv"))
    assert form.form_type == "project_target_declaration"
    assert (form.fiscal_year, form.name) == (2026, "兰溪路-真南路下立交工程")
    assert form.department == "上海市普陀区建设和管理委员会"
    assert form.implementing_unit == "上海市普陀区市政工程建设中心"
    assert (form.planned_start, form.planned_end) == (date(2026, 1, 1), date(2027, 12, 31))
    assert form.project_funds_total == Decimal("771325800.00"), "multi-year total kept apart"
    assert form.budget_full_year == Decimal("226145100.00")
    assert form.budget_executed is None and form.total_score is None
    lines = {line.line: line.budget_full_year for line in form.fund_lines}
    assert lines == {
        "年度资金总额": Decimal("226145100.00"),
        "当年财政拨款": Decimal("226145100.00"),
        "上年结转资金": Decimal("0.00"),
        "其他资金": Decimal("0.00"),
    }
    assert form.goal_overall.startswith("为居民出行提供快速便捷的通道")
    assert form.goal_planned == "积极推进项目前期征收工作，年内开展管线搬迁及维护结构施工。"
    got = [(i.level1, i.level2, i.level3, i.target_text) for i in form.indicators]
    assert got == [
        ("成本指标", "生态环境成本指标", "文明施工情况", "可控"),
        ("产出指标", "数量指标", "道路建设长度", "985米"),
        ("产出指标", "质量指标", "项目验收达标率", "=100.00(%)"),
        ("产出指标", "时效指标", "项目完成及时性", "及时"),
        ("效益指标", "社会效益指标", "道路安全隐患减少情况", "减少"),
        ("效益指标", "社会效益指标", "道路景观提升情况", "提升"),
        ("效益指标", "社会效益指标", "道路通行能力提升情况", "提升"),
        ("效益指标", "可持续影响指标", "长效管理制度健全性", "健全"),
        ("满意度指标", "服务对象满意度指标", "居民群众满意度", "≥90.00(%)"),
    ]
    length, rate = form.indicators[1], form.indicators[2]
    assert (length.target_op, length.target_value, length.target_unit) == ("=", 985, "米")
    assert (rate.target_op, rate.target_value, rate.target_unit) == ("=", 100, "%")
