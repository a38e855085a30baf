"""The consistency checks, run through real Great Expectations validations on hand-built forms.

One `validate` call covers every form below (GX is imported and the suite built once per process).
"""

from __future__ import annotations

import copy
import dataclasses
from decimal import Decimal

import pytest

from expectations import SEVERITY, validate
from schemas.families import BY_FORM_TYPE, FAMILIES
from schemas.records import CheckResult, FlaggedCell, Form, FundLine, Indicator, form_status
from schemas.vocabulary import (
    LEVEL1,
    LEVEL2,
    LEVEL2_PARENT,
    canonical_level,
    level2_affinity,
)

COVID = "因疫情影响部分职业无法开展培训工作"

# Seed 000 form 1 (rows 3-32), levels filled down as printed. The seed leaves row 7 (4 of 5) without
# a 偏差原因; the clean form gives it one, so that deviation_reason_present stays silent.
SEED_1_ROWS = [
    ("产出指标(20分)", "数量指标", "享受见习补贴人数", ">5000人", 5, 5, None),
    ("产出指标(20分)", "质量指标", "远程培训平台各项运维管理工作完成率", "=100%", 5, 4, COVID),
    ("产出指标(20分)", "质量指标", "见习补贴应补尽补率", "=100%", 5, 5, None),
    ("产出指标(20分)", "时效指标", "公共实训项目开发完成及时性", "及时", 5, 5, None),
    ("效益指标", "社会效益", "远程培训平台的运行", "稳定", 5, 5, None),
    ("效益指标", "社会效益指标", "开发远程课件的作用", "示范引领作用", 5, 5, None),
    ("效益指标", "可持续影响指标", "提高劳动者技能水平， 提高创业者创业水平", "提高", 5, 4, COVID),
    ("效益指标", "可持续影响指标", "服务社会化", "满足", 5, 5, None),
    ("效益指标", "可持续影响指标", "长效管理制度建设", "完善", 5, 5, None),
    ("效益指标", "可持续影响指标", "项目的社会影响力", "高", 5, 4, COVID),
    ("满意度指标", "服务对象满意度指标", "实训机构满意度", ">90%", 7, 7, None),
    ("满意度指标", "服务对象满意度指标", "实训学员满意度", ">90%", 7, 7, None),
    ("满意度指标", "服务对象满意度指标", "鉴定机构满意度", ">90%", 7, 7, None),
    ("满意度指标", "服务对象满意度指标", "学员见习满意率", ">80%", 7, 7, None),
    ("满意度指标", "服务对象满意度指标", "见习基地满意度", ">80%", 7, 7, None),
    ("满意度指标", "服务对象满意度指标", "项目的社会满意度", "高", 5, 4, COVID),
]

# Seed 000 form 2 (rows 34-66), read as centred spans (DOMAIN.md §0). Printed total 97 for 97.2.
SEED_2_ROWS = [
    ("产出指标", "数量指标", "享受职业技能补贴人数", ">=90%", 5, 5, None),
    ("产出指标", "质量指标", "职业技能鉴定合格率", ">=85%", 5, 5, None),
    ("产出指标", "质量指标", "公共实训基地运维质量", "良好", 5, 5, None),
    ("产出指标", "质量指标", "耗材验收合格率", "=100%", 5, 5, None),
    ("产出指标", "质量指标", "保养的覆盖率", "=100%", 5, 5, None),
    ("产出指标", "质量指标", "故障的修复率", "=100%", 5, 4, "少部分设备过于陈旧，无维修配件。"),
    ("产出指标", "质量指标", "应补尽补率(%)", "=100%", 5, 5, None),
    ("产出指标", "质量指标", "补贴发放准确情况", "=100%", 5, 5, None),
    ("产出指标", "时效指标", "就业补贴及时性", "及时", 5, 5, None),
    ("效益指标", "社会效益指标", "调查及时性", "及时", 5, 5, None),
    ("效益指标", "社会效益指标", "调查有效性", "有效", 5, 5, None),
    ("效益指标", "社会效益指标", "政策知晓率", ">=85%", 5, 4.7, "疫情使宣传受限"),
    ("效益指标", "可持续影响指标", "长效管理制度建设", "完善", 5, 5, None),
    (
        "效益指标",
        "可持续影响指标",
        "提高劳动者技能水平，提高创业者创业水平",
        "提高",
        5,
        4,
        "实训人次下降",
    ),
    (
        "效益指标",
        "可持续影响指标",
        "提高青年大学生的就业能力，促进社会和谐稳定。",
        "有效",
        5,
        5,
        None,
    ),
    ("满意度指标", "服务对象满意度指标", "学员满意度", ">90%", 5, 5, None),
    ("满意度指标", "服务对象满意度指标", "项目管理人员满意度", ">80%", 5, 5, None),
    ("满意度指标", "服务对象满意度指标", "受补贴人员满意度", ">80%", 5, 5, None),
]


def _indicators(rows: list[tuple]) -> list[Indicator]:
    return [
        Indicator(
            n, level1, level2, level3, target_text=target, weight=w, score=s, deviation_reason=r
        )
        for n, (level1, level2, level3, target, w, s, r) in enumerate(rows, 1)
    ]


def _funds(
    initial: str, full_year: str, executed: str, rate: float, score: float
) -> list[FundLine]:
    total = FundLine("年度资金总额", Decimal(initial), Decimal(full_year), Decimal(executed))
    total.weight, total.execution_rate, total.score = 10, rate, score
    return [total, FundLine("其中：当年财政拨款"), FundLine("上年结转资金"), FundLine("其他资金")]


SEED_1 = Form(
    form_type="project_self_evaluation",
    form_ordinal=1,
    form_id="seed-1",
    fiscal_year=2020,
    name="职业培训基础能力建设资助",
    department="上海市人力资源和社会保障局",
    implementing_unit="上海市就业促进中心",
    budget_initial=Decimal("119979860.00"),
    budget_full_year=Decimal("18562710.00"),
    budget_executed=Decimal("13303150.10"),
    execution_rate=0.7167,
    budget_weight=10,
    budget_score=7.2,
    total_weight=100,
    total_score=93.2,
    fund_lines=_funds("119979860.00", "18562710.00", "13303150.10", 0.7167, 7.2),
    indicators=_indicators(SEED_1_ROWS),
)
SEED_2 = Form(
    form_type="project_self_evaluation",
    form_ordinal=2,
    form_id="seed-2",
    fiscal_year=2020,
    name="促进就业专项资金",
    budget_initial=Decimal("146407273.00"),
    budget_full_year=Decimal("108513463.00"),
    budget_executed=Decimal("103543032.12"),
    execution_rate=0.9542,
    budget_weight=10,
    budget_score=9.5,
    total_weight=100,
    total_score=97,
    fund_lines=_funds("146407273.00", "108513463.00", "103543032.12", 0.9542, 9.5),
    indicators=_indicators(SEED_2_ROWS),
)
# A 项目支出绩效目标申报表: no weights or scores; the multi-year 项目资金总额 exceeds the year's
# amount, 其他资金 is printed once per block, and the annual sub-lines add up.
DECLARATION = Form(
    form_type="project_target_declaration",
    form_id="declaration",
    fiscal_year=2026,
    name="兰溪路-真南路下立交工程",
    budget_full_year=Decimal("226145100.00"),
    project_funds_total=Decimal("771325800.00"),
    fund_lines=[
        FundLine("项目资金总额", budget_full_year=Decimal("771325800.00")),
        FundLine("其中：财政资金", budget_full_year=Decimal("771325800.00")),
        FundLine("其他资金", budget_full_year=Decimal("0")),
        FundLine("年度资金申请总额", budget_full_year=Decimal("226145100.00")),
        FundLine("其中：当年财政拨款", budget_full_year=Decimal("200000000.00")),
        FundLine("上年结转资金", budget_full_year=Decimal("26145100.00")),
        FundLine("其他资金", budget_full_year=Decimal("0.00")),
    ],
    indicators=[
        Indicator(1, "产出指标", "数量指标", "下立交工程长度", target_text=">=500米"),
        Indicator(2, "产出指标", "时效指标", "按期完工率", target_text="=100%"),
        Indicator(3, "效益指标", "社会效益指标", "通行效率提升", target_text="提高"),
        Indicator(4, "满意度指标", "服务对象满意度指标", "周边居民满意度", target_text=">=90%"),
    ],
)


# The declaration with 分值 columns as Shandong and Hunan print them: rows add up to 90, the other
# 10 is the funds line's 执行率分值, not printed. A 得分 column would be a self-evaluation's.
DECLARATION_WEIGHTED = dataclasses.replace(
    DECLARATION,
    form_id="declaration-weighted",
    indicators=[
        dataclasses.replace(row, weight=weight)
        for row, weight in zip(DECLARATION.indicators, (30, 20, 20, 20), strict=True)
    ],
)
# The same rows under a printed total of 100 carry all of it.
DECLARATION_PRINTING_100 = dataclasses.replace(
    DECLARATION_WEIGHTED,
    form_id="declaration-printing-100",
    total_weight=100,
    indicators=[
        dataclasses.replace(row, weight=weight)
        for row, weight in zip(DECLARATION.indicators, (40, 20, 20, 20), strict=True)
    ],
)


def _variant(form_id: str, base: Form = SEED_1, rows: dict | None = None, **fields) -> Form:
    """A copy of `base` with some form fields and some rows ({row_ordinal: {field: value}}) changed."""
    form = copy.deepcopy(base)
    form.form_id = form_id
    for name, value in fields.items():
        setattr(form, name, value)
    for ordinal, changes in (rows or {}).items():
        form.indicators[ordinal - 1] = dataclasses.replace(form.indicators[ordinal - 1], **changes)
    return form


# One crafted bad form per check: form_id → (form, the exact (check_name, severity) pairs it gets).
OCR_FLAGS = [
    FlaggedCell("score", "4.7", row_ordinal=2, confidence=0.61, page=1),
    FlaggedCell("level2", "质量指标", row_ordinal=3, note="OCR read '质量指捸', corrected"),
]
BAD = {
    "ocr-flags": (
        _variant("ocr-flags", flagged_cells=OCR_FLAGS),
        {("ocr_low_confidence", "warning")},
    ),
    "value-unreadable": (
        _variant(
            "value-unreadable",
            flagged_cells=[FlaggedCell("weight", "五分", row_ordinal=4, page=2, unreadable=True)],
        ),
        {("value_unreadable", "warning")},
    ),
    "row-score-above-weight": (
        # row 1 scores 6 of 5; row 3 gives the point back (with a reason) so the total still holds
        _variant(
            "row-score-above-weight",
            rows={1: {"score": 6}, 3: {"score": 4, "deviation_reason": "少发一人"}},
        ),
        {("score_le_weight", "error")},
    ),
    "row-score-negative": (
        _variant(
            "row-score-negative", total_score=87.2, rows={1: {"score": -1, "deviation_reason": "x"}}
        ),
        {("score_le_weight", "error")},
    ),
    "executed-above-budget": (
        _variant(
            "executed-above-budget",
            budget_executed=Decimal("19000000.00"),
            execution_rate=1.0236,
            budget_score=10,
            total_score=96,
        ),
        {("executed_le_budget", "error")},
    ),
    "rate-misprinted": (
        _variant("rate-misprinted", execution_rate=0.7267),
        {("execution_rate_consistent", "error")},
    ),
    "budget-score-off": (
        _variant("budget-score-off", budget_score=8.2, total_score=94.2),
        {("budget_score_consistent", "warning")},
    ),
    "total-score-off": (
        _variant("total-score-off", total_score=90),
        {("total_score_consistent", "error")},
    ),
    "weights-not-100": (
        _variant("weights-not-100", rows={1: {"weight": 6, "deviation_reason": "超额完成"}}),
        {("total_weight_100", "error")},
    ),
    "level-weight-off": (
        # 产出指标 printed as 25分 over rows of 5 + 5 + 5 + 5
        _variant("level-weight-off", rows={k: {"level1_weight": 25} for k in (1, 2, 3, 4)}),
        {("level_weight_consistent", "warning")},
    ),
    "declaration-weights-100": (
        # a target declaration's rows carry 90 (the 执行率分值 10 is not printed): 100 is too much
        _variant("declaration-weights-100", base=DECLARATION_WEIGHTED, rows={4: {"weight": 30}}),
        {("total_weight_100", "error")},
    ),
    "level-unknown": (
        _variant("level-unknown", rows={4: {"level1": "社会效益指标"}, 5: {"level2": None}}),
        {("levels_known", "warning")},
    ),
    "name-missing": (_variant("name-missing", name="  "), {("required_fields", "error")}),
    "year-missing": (_variant("year-missing", fiscal_year=None), {("required_fields", "error")}),
    "no-indicators": (
        _variant("no-indicators", base=DECLARATION, indicators=[]),
        {("required_fields", "error")},
    ),
    "reason-missing": (
        _variant("reason-missing", rows={2: {"deviation_reason": "—"}}),
        {("deviation_reason_present", "warning")},
    ),
    "fund-lines-off": (
        _variant(
            "fund-lines-off",
            fund_lines=[
                *SEED_1.fund_lines[:1],
                FundLine("其中：本年财政拨款", budget_full_year=Decimal("10000000.00")),
                FundLine("上年结转资金", budget_full_year=Decimal("8000000.00")),
                FundLine("其他资金", budget_full_year=Decimal("0.00")),
            ],
        ),
        {("fund_lines_sum", "warning")},
    ),
}
CLEAN = [SEED_1, SEED_2, DECLARATION, DECLARATION_WEIGHTED, DECLARATION_PRINTING_100]


@pytest.fixture(scope="module")
def results() -> dict[str, list[CheckResult]]:
    by_form: dict[str, list[CheckResult]] = {}
    for result in validate(CLEAN + [form for form, _ in BAD.values()]):
        by_form.setdefault(result.form_id, []).append(result)
    return by_form


def _pairs(results: list[CheckResult]) -> set[tuple[str, str]]:
    return {(r.check_name, r.severity) for r in results}


def test_clean_forms_raise_no_error(results):
    assert results.get("seed-1", []) == []
    assert results.get("declaration", []) == []
    assert not [r for form in CLEAN for r in results.get(form.form_id, []) if r.severity == "error"]


def test_a_declaration_is_checked_only_for_what_it_prints(results):
    assert results.get("declaration-weighted", []) == []
    assert results.get("declaration-printing-100", []) == []
    [weights] = results["declaration-weights-100"]
    assert (weights.observed, weights.expected) == ("110", "100")
    assert "执行率分值 10 (not printed" in weights.detail


def test_a_self_evaluation_rule_is_not_applied_to_a_declaration():
    scored = _variant(
        "declaration-with-scores",
        base=DECLARATION_WEIGHTED,
        rows={1: {"score": 31}},  # a 得分 above its 分值: a self-evaluation's rule
        budget_full_year=Decimal("100.00"),
        budget_executed=Decimal("120.00"),  # 执行数 above 预算数: likewise
    )
    assert validate([scored]) == []


def test_a_rate_is_judged_at_the_decimals_it_prints():
    # 13,303,150.10 / 18,562,710.00 = 71.6666%
    forms = [
        _variant("rate-cut", execution_rate=0.7166),  # 71.66%: cut to 2 dp, not rounded
        _variant("rate-1dp", execution_rate=0.717, execution_rate_decimals=1),  # 71.7%
        _variant("rate-2dp", execution_rate=0.717, execution_rate_decimals=2),  # 71.70%
        _variant("rate-below", execution_rate=0.7165),  # more than a cut loses
    ]
    failed = {r.form_id: r for r in validate(forms) if r.check_name == "execution_rate_consistent"}
    assert set(failed) == {"rate-2dp", "rate-below"}
    assert (failed["rate-2dp"].observed, failed["rate-2dp"].expected) == (
        "71.70%",
        "71.67% (±0.005 pp)",
    )
    assert failed["rate-below"].expected == "71.67% (−0.01 pp)"


def test_level_weight_names_the_level(results):
    [level] = results["level-weight-off"]
    assert (level.observed, level.expected, level.row_ordinal) == ("20", "25", 1)
    assert "产出指标 prints 25分" in level.detail


def test_every_check_belongs_to_a_family_and_every_family_check_exists():
    assert set().union(*(family.checks for family in FAMILIES)) == set(SEVERITY)


def test_printed_total_rounded_to_integer_is_a_warning(results):
    [rounded] = results["seed-2"]
    assert (rounded.check_name, rounded.severity, rounded.row_ordinal) == (
        "total_score_consistent",
        "warning",
        None,
    )
    assert (rounded.observed, rounded.expected) == ("97", "97.2")
    assert form_status(results["seed-2"]) == "warning"


@pytest.mark.parametrize("form_id", BAD)
def test_each_check_fires_on_its_bad_form(results, form_id):
    _, expected = BAD[form_id]
    assert _pairs(results[form_id]) == expected


def test_a_form_is_judged_by_its_family_s_checks_only():
    executed_over_budget = {"budget_executed": Decimal("300000000.00")}
    self_evaluation = _variant("over-self", SEED_1, **executed_over_budget)
    declaration = _variant("over-declaration", DECLARATION, **executed_over_budget)

    results = validate([self_evaluation, declaration])

    assert "executed_le_budget" in BY_FORM_TYPE["project_self_evaluation"].checks
    assert "executed_le_budget" not in BY_FORM_TYPE["project_target_declaration"].checks
    assert {r.check_name for r in results if r.form_id == "over-self"} >= {"executed_le_budget"}
    assert not [r for r in results if r.form_id == "over-declaration"]


def test_every_check_has_a_bad_form():
    assert {check for _, expected in BAD.values() for check, _ in expected} == set(SEVERITY)


def test_row_level_result_names_the_row(results):
    [result] = results["row-score-above-weight"]
    assert result.row_ordinal == 1
    assert (result.observed, result.expected) == ("6", "<= 5")
    assert result.detail == "得分 6 > 分值 5 on row 1 (享受见习补贴人数)"
    [negative] = results["row-score-negative"]
    assert (negative.row_ordinal, negative.observed, negative.expected) == (1, "-1", ">= 0")


def test_form_level_results_explain_the_numbers(results):
    [rate] = results["rate-misprinted"]
    assert rate.row_ordinal is None
    assert (rate.observed, rate.expected) == ("72.67%", "71.67% (±0.005 pp)")
    assert "13,303,150.10 / 18,562,710.00" in rate.detail
    [executed] = results["executed-above-budget"]
    assert (executed.observed, executed.expected) == ("19,000,000.00", "<= 18,562,710.00")
    [budget_score] = results["budget-score-off"]
    assert (budget_score.observed, budget_score.expected) == ("8.2", "7.2 ± 0.05")
    [total] = results["total-score-off"]  # the rounding warning is not reported beside the error
    assert (total.observed, total.expected) == ("90", "93.2")
    [weights] = results["weights-not-100"]
    assert (weights.observed, weights.expected) == ("101", "100")
    [funds] = results["fund-lines-off"]
    assert funds.detail.startswith(
        "全年预算数: 年度资金总额 18,562,710.00 ≠ 当年财政拨款 10,000,000.00"
    )
    assert (funds.observed, funds.expected) == ("18,562,710.00", "18,000,000.00")


def test_sub_lines_printed_blank_count_as_zero_only_where_all_three_are_printed():
    """Anhui prints 年度资金总额 0 over 本年财政拨款 90 with 上年结转资金 and 其他资金 blank: wrong as
    printed. A form printing only '其中：财政拨款' gives part of the total, not all of it; a line
    blank in one column only leaves that column unchecked."""
    zero_total = FundLine(
        "年度资金总额",
        budget_initial=Decimal("0"),
        budget_full_year=Decimal("0"),
        budget_executed=Decimal("0"),
    )
    appropriation = FundLine(
        "当年财政拨款",
        budget_initial=Decimal("900000"),
        budget_full_year=Decimal("899740"),
        budget_executed=Decimal("899740"),
    )
    blank = [FundLine("上年结转资金"), FundLine("其他资金")]
    all_three = _variant("all-three", fund_lines=[zero_total, appropriation, *blank])
    only_part = _variant("only-part", fund_lines=[SEED_1.fund_lines[0], appropriation])
    # Xi'an prints 其他资金 1428 | (blank) | 1426.8: that one blank cell is not a 0
    one_cell_blank = _variant(
        "one-cell-blank",
        fund_lines=[
            FundLine("年度资金总额", Decimal("25000000"), Decimal("25000000"), Decimal("24988000")),
            FundLine("当年财政拨款", Decimal("10720000"), Decimal("10720000"), Decimal("10720000")),
            FundLine("上年结转资金"),
            FundLine("其他资金", Decimal("14280000"), None, Decimal("14268000")),
        ],
    )
    found = [
        r
        for r in validate([all_three, only_part, one_cell_blank])
        if r.check_name == "fund_lines_sum"
    ]
    assert sorted((r.form_id, r.observed, r.expected) for r in found) == [
        ("all-three", "0.00", "899,740.00"),  # 全年预算数
        ("all-three", "0.00", "899,740.00"),  # 全年执行数
        ("all-three", "0.00", "900,000.00"),  # 年初预算数
    ]
    assert any(r.detail.endswith("上年结转资金 — + 其他资金 — = 900,000.00 元") for r in found)


def test_levels_known_reports_one_result_per_indicator(results):
    level1, level2 = results["level-unknown"]
    assert (level1.row_ordinal, level2.row_ordinal) == (4, 5)
    assert "一级指标 '社会效益指标' is not a national framework name" in level1.detail
    assert level2.detail == "二级指标 missing on row 5 (远程培训平台的运行)"


def test_required_fields_and_reasons(results):
    [name] = results["name-missing"]
    assert name.detail == "项目名称 / 政策名称 not found on the form"
    [indicators] = results["no-indicators"]
    assert indicators.observed == "0 indicator rows"
    [reason] = results["reason-missing"]
    assert (reason.row_ordinal, reason.severity) == (2, "warning")


def test_form_status():
    error = CheckResult("f", "score_le_weight", "error")
    warning = CheckResult("f", "levels_known", "warning")
    assert form_status([]) == "clean"
    assert form_status([warning]) == "warning"
    assert form_status([warning, error]) == "quarantined"


def test_large_batch_reports_every_failure():
    """More failures than GX returns by default (200), over more forms than one run holds."""
    unknown = {"level1": "未知指标"}
    forms = [
        _variant(f"rounded-{i}", base=SEED_2, rows={1: unknown, 2: unknown}) for i in range(230)
    ]
    results = validate(forms)
    assert [r.form_id for r in results] == [form.form_id for form in forms for _ in range(3)]
    assert sorted({(r.check_name, r.severity, r.row_ordinal) for r in results}) == [
        ("levels_known", "warning", 1),
        ("levels_known", "warning", 2),
        ("total_score_consistent", "warning", None),
    ]


def test_form_ids_must_be_unique():
    with pytest.raises(ValueError, match="form_id"):
        validate([SEED_1, SEED_1])


def test_vocabulary():
    assert canonical_level("产出指标(50分)") == "产出指标"
    assert canonical_level("满意度指标（10分）") == "满意度指标"
    assert canonical_level("满意度指 标") == "满意度指标"
    assert canonical_level("社会效益") == "社会效益指标"
    assert set(LEVEL2_PARENT) == LEVEL2
    assert set(LEVEL2_PARENT.values()) <= LEVEL1
    assert LEVEL2_PARENT["社会效益指标"] == "效益指标"


@pytest.mark.parametrize(
    ("level3", "best"),
    [
        ("职业技能鉴定合格率", {"质量指标"}),
        ("补贴发放准确情况", {"质量指标"}),
        ("就业补贴及时性", {"时效指标"}),
        ("学员满意度", {"服务对象满意度指标", "满意度指标"}),
        ("享受职业技能补贴人数", {"数量指标"}),
        ("长效管理制度建设", {"可持续影响指标"}),
        ("单位成本", {"成本指标"}),
    ],
)
def test_level2_affinity(level3, best):
    evidence = level2_affinity(level3)
    top = max(evidence.values())
    assert {level2 for level2, strength in evidence.items() if strength == top} == best


def test_level2_affinity_weak_and_absent_evidence():
    assert level2_affinity("政策知晓率") == {"社会效益指标": 0.3}
    assert level2_affinity("服务社会化") == {}


def test_uncertain_ocr_cells_are_flagged_for_review(results):
    results = results["ocr-flags"]
    assert [(r.severity, r.row_ordinal, r.observed) for r in results] == [
        ("warning", 2, "4.7"),
        ("warning", 3, "质量指标"),
    ]
    assert "confidence 0.61" in results[0].detail
    assert "corrected" in results[1].detail
