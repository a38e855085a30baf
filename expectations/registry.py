"""Every check, in one place: its name, severity and tolerance, the Great Expectations expectations
that find its failures, and the message a failure gets (SCHEMA.md check_results).

Adding a check is one `Check` in `CHECKS`; its expectations run over the tables the batch is
staged in (`expectations.gx_suite`: ``form_checks``, one row per form with its computed figures;
``indicator_checks``, one row per indicator; and, for ``unexpected_rows`` queries, the staged
``forms``, ``indicators``, ``fund_lines`` and ``flagged_cells``). great_expectations itself is
imported only when the suites are built.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, NamedTuple

from schemas.records import CheckResult, Indicator
from schemas.vocabulary import LEVEL1, LEVEL2

EPSILON = 1e-9  # float slack added to the tolerances
FORM = "form_checks"
INDICATOR = "indicator_checks"
# total_score_consistent: a printed total off by at most 1 is a total rounded to an integer (seed
# 000 prints 97 for 97.2): a warning; beyond that, an error. Only the most severe band is reported.
TOTAL_SCORE_ERROR_BAND = 1.0

Message = tuple[str, str, str]  # observed, expected, detail


class Failure(NamedTuple):
    """One failing row of one expectation, as GX reported it."""

    rule: str
    check: str
    severity: str
    form_id: str
    row_ordinal: int | None
    values: dict[str, Any]


class Context(NamedTuple):
    """What a message is built from."""

    values: dict[str, Any]  # the failing row as GX reported it
    form: dict[str, Any]  # the form's row of the form_checks table
    row: Indicator | None  # the indicator, for row-level checks
    tolerance: float | None  # the rule's tolerance


Build = Callable[[float | None], Any]  # the tolerance → a GX expectation


def expect(kind: str, **arguments: Any) -> Build:
    """GX's expectation class ``kind`` with ``arguments``; an argument that is a function is called
    with the rule's tolerance, and ``{tolerance}`` in a query is replaced by it."""

    def build(tolerance: float | None) -> Any:
        import great_expectations.expectations as gxe

        values = {
            name: value(tolerance)
            if callable(value)
            else value.replace("{tolerance}", repr(tolerance))
            if isinstance(value, str)
            else value
            for name, value in arguments.items()
        }
        return getattr(gxe, kind)(**values)

    return build


def unexpected_rows(query: str) -> Build:
    """Fail the form of every row ``query`` returns (``{batch}``: the table the suite checks)."""
    return expect("UnexpectedRowsExpectation", unexpected_rows_query=query)


def at_most(column_a: str, column_b: str) -> Build:
    """``column_b`` <= ``column_a`` wherever both are filled."""
    return expect(
        "ExpectColumnPairValuesAToBeGreaterThanB",
        column_A=column_a,
        column_B=column_b,
        or_equal=True,
        ignore_row_if="either_value_is_missing",
    )


def _column_true(name: str) -> Callable[[float | None], Any]:
    def condition(_: float | None) -> Any:
        from great_expectations.expectations.row_conditions import Column

        return Column(name) == True  # noqa: E712

    return condition


@dataclass(frozen=True)
class Rule:
    """One expectation of a check and the message of a row failing it.

    ``severity`` and ``tolerance`` default to the check's; a rule ``superseded_by`` another rule of
    its check is not reported for a form that rule failed.
    """

    name: str
    table: str  # FORM or INDICATOR
    expectation: Build
    message: Callable[[Context], Message] | None = None
    severity: str | None = None
    tolerance: float | None = None
    superseded_by: str | None = None


@dataclass(frozen=True)
class Check:
    """One check (check_results.check_name): its severity, tolerance and rules.

    ``per_row``, if given, makes one result of all the check's failures on one indicator row.
    """

    name: str
    severity: str
    rules: tuple[Rule, ...]
    tolerance: float | None = None
    per_row: Callable[[list[Failure], Indicator], CheckResult] | None = None


# ---------------------------------------------------------------- queries

_SCORE_SUMS = """
SELECT f.form_id, f.total_score, f.budget_score,
    coalesce(i.score_sum, 0) AS indicator_score_sum, coalesce(i.scored_rows, 0) AS scored_rows,
    coalesce(f.budget_score, 0) + coalesce(i.score_sum, 0) AS computed_total
FROM {batch} f
LEFT JOIN (
    SELECT form_id, sum(score) AS score_sum, count(score) AS scored_rows
    FROM indicators GROUP BY form_id
) i ON i.form_id = f.form_id
WHERE f.total_score IS NOT NULL
    AND abs(f.total_score - (coalesce(f.budget_score, 0) + coalesce(i.score_sum, 0))) > {tolerance}
ORDER BY f.form_id
"""

# The rows' 分值 against what the form's family has them add up to (schemas/families.py, staged
# as row_weight_expected): funds 分值 + rows = the full marks, a 执行率分值 the form does not
# print counting as its funds 分值.
_WEIGHT_SUM = """
SELECT f.form_id, f.budget_weight, f.full_marks, f.row_weight_expected,
    f.full_marks - f.row_weight_expected AS funds_weight,
    coalesce(w.weight_sum, 0) AS indicator_weight_sum, coalesce(w.weighted_rows, 0) AS weighted_rows,
    f.full_marks - f.row_weight_expected + coalesce(w.weight_sum, 0) AS weight_total
FROM {batch} f
LEFT JOIN (
    SELECT form_id, sum(weight) AS weight_sum, count(weight) AS weighted_rows
    FROM indicators GROUP BY form_id
) w ON w.form_id = f.form_id
WHERE (f.budget_weight IS NOT NULL OR w.weighted_rows > 0)
    AND abs(coalesce(w.weight_sum, 0) - f.row_weight_expected) > {tolerance}
ORDER BY f.form_id
"""

# Per 一级 that prints its weight ('产出指标（50分）'), the 分值 of its rows, where every row has one.
_LEVEL_WEIGHTS = """
WITH levels AS (
    SELECT i.form_id, i.level1_canonical AS level1, i.level1_weight,
        sum(i.weight) AS weight_sum, count(*) AS level_rows, min(i.row_ordinal) AS first_row
    FROM indicators i
    JOIN {batch} f ON f.form_id = i.form_id
    WHERE i.level1_weight IS NOT NULL
    GROUP BY i.form_id, i.level1_canonical, i.level1_weight
    HAVING count(i.weight) = count(*) AND abs(sum(i.weight) - i.level1_weight) > {tolerance}
)
SELECT form_id, list(struct_pack(
        row_ordinal := first_row, level1 := level1, level1_weight := level1_weight,
        weight_sum := weight_sum, level_rows := level_rows
    ) ORDER BY first_row) AS mismatches
FROM levels
GROUP BY form_id
ORDER BY form_id
"""

# A query without a JOIN gets {batch} as an aliased subquery: no alias of its own.
_HAS_INDICATORS = """
SELECT form_id, 0 AS indicator_rows
FROM {batch}
WHERE form_id NOT IN (SELECT form_id FROM indicators)
ORDER BY form_id
"""

# Per amount column: 年度资金总额 (its own line, else the form's money block) against the sum of
# the three sub-lines, where the form prints all three and fills one or more of them in that column;
# one row per form listing the columns that differ. A line printed blank in every column is 0 (no
# such money); a line blank in this column only leaves the column unchecked. A line printed twice
# (其他资金 on a 申报表, once per block) counts once: its last printing, the annual block's.
_FUND_LINES_SUM = """
WITH last_lines AS (
    SELECT * FROM fund_lines
    QUALIFY row_number() OVER (PARTITION BY form_id, line ORDER BY line_no DESC) = 1
),
all_three_printed AS (
    SELECT form_id FROM last_lines
    WHERE line IN ('当年财政拨款', '上年结转资金', '其他资金')
    GROUP BY form_id HAVING count(*) = 3
),
amounts AS (
    SELECT * FROM (
        SELECT form_id, line, budget_initial, budget_full_year, budget_executed,
            coalesce(budget_initial, budget_full_year, budget_executed) IS NULL AS blank_line
        FROM last_lines
    ) UNPIVOT INCLUDE NULLS (
        amount FOR amount_column IN (budget_initial, budget_full_year, budget_executed)
    )
),
form_amounts AS (
    UNPIVOT (SELECT form_id, budget_initial, budget_full_year, budget_executed FROM {batch})
    ON budget_initial, budget_full_year, budget_executed INTO NAME amount_column VALUE amount
),
parts AS (
    SELECT form_id, amount_column,
        max(amount) FILTER (WHERE line = '年度资金总额') AS total_line,
        max(amount) FILTER (WHERE line = '当年财政拨款') AS appropriation,
        max(amount) FILTER (WHERE line = '上年结转资金') AS carried_over,
        max(amount) FILTER (WHERE line = '其他资金') AS other,
        bool_and(amount IS NOT NULL OR blank_line)
            FILTER (WHERE line IN ('当年财政拨款', '上年结转资金', '其他资金')) AS parts_known
    FROM amounts GROUP BY form_id, amount_column
),
compared AS (
    SELECT p.form_id, p.amount_column, coalesce(p.total_line, fa.amount) AS total,
        p.appropriation, p.carried_over, p.other,
        coalesce(p.appropriation, 0) + coalesce(p.carried_over, 0) + coalesce(p.other, 0)
            AS parts_sum
    FROM parts p
    LEFT JOIN form_amounts fa ON fa.form_id = p.form_id AND fa.amount_column = p.amount_column
    WHERE p.form_id IN (SELECT form_id FROM all_three_printed) AND p.parts_known
        AND coalesce(p.appropriation, p.carried_over, p.other) IS NOT NULL
)
SELECT f.form_id, list(struct_pack(
        amount_column := c.amount_column, total := c.total, appropriation := c.appropriation,
        carried_over := c.carried_over, other := c.other, parts_sum := c.parts_sum
    ) ORDER BY c.amount_column) AS mismatches
FROM compared c
JOIN {batch} f ON f.form_id = c.form_id
WHERE abs(c.total - c.parts_sum) > {tolerance} * f.money_factor
GROUP BY f.form_id
ORDER BY f.form_id
"""


# OCR cells read with low confidence or corrected by a domain rule: one row per form listing them
# ocr_low_confidence (unreadable = false) and value_unreadable (true): one row per form
_FLAGGED_CELLS = """
SELECT f.form_id, list(struct_pack(
        row_ordinal := c.row_ordinal, field := c.field, text := c.text,
        confidence := c.confidence, note := c.note, page := c.page
    ) ORDER BY c.page, c.row_ordinal, c.field) AS mismatches
FROM flagged_cells c
JOIN {batch} f ON f.form_id = c.form_id
WHERE c.unreadable = {unreadable}
GROUP BY f.form_id
ORDER BY f.form_id
"""


# ---------------------------------------------------------------- messages

_AMOUNT_COLUMNS = {
    "budget_initial": "年初预算数",
    "budget_full_year": "全年预算数",
    "budget_executed": "全年执行数",
}


def _num(value: float | Decimal | None) -> str:
    if value is None:
        return "—"
    text = f"{float(value):.6f}".rstrip("0").rstrip(".")
    return "0" if text == "-0" else text


def _yuan(value: Decimal | float | None) -> str:
    return "—" if value is None else f"{Decimal(value):,.2f}"


def _percent(rate: float, decimals: int) -> str:
    return f"{rate * 100:.{decimals}f}%"


def _row(indicator: Indicator | None, row_ordinal: int | None) -> str:
    name = indicator.level3 if indicator and indicator.level3 else ""
    if len(name) > 40:
        name = name[:40] + "…"
    return f"row {row_ordinal} ({name})" if name else f"row {row_ordinal}"


def _row_score_le_weight(ctx: Context) -> Message:
    score, weight = _num(ctx.values["score"]), _num(ctx.values["weight"])
    where = _row(ctx.row, ctx.values["row_ordinal"])
    return score, f"<= {weight}", f"得分 {score} > 分值 {weight} on {where}"


def _row_score_ge_0(ctx: Context) -> Message:
    score = _num(ctx.values["score"])
    return score, ">= 0", f"得分 {score} < 0 on {_row(ctx.row, ctx.values['row_ordinal'])}"


def _funds_score_le_weight(ctx: Context) -> Message:
    score, weight = _num(ctx.values["budget_score"]), _num(ctx.values["budget_weight"])
    return score, f"<= {weight}", f"年度资金总额 得分 {score} > 分值 {weight}"


def _funds_score_ge_0(ctx: Context) -> Message:
    score = _num(ctx.values["budget_score"])
    return score, ">= 0", f"年度资金总额 得分 {score} < 0"


def _executed_le_budget(ctx: Context) -> Message:
    executed, budget = _yuan(ctx.values["budget_executed"]), _yuan(ctx.values["budget_full_year"])
    return executed, f"<= {budget}", f"全年执行数 {executed} 元 > 全年预算数 {budget} 元"


def _execution_rate_consistent(ctx: Context) -> Message:
    form = ctx.form
    decimals, printed, computed = (
        form["rate_decimals"],
        form["execution_rate"],
        form["rate_computed"],
    )
    if printed < computed:
        band, how = f"−{10**-decimals:g} pp", "cut"
    else:
        band, how = f"±{0.5 * 10**-decimals:g} pp", "rounding"
    return (
        _percent(printed, decimals),
        f"{_percent(computed, decimals)} ({band})",
        f"执行率 printed {_percent(printed, decimals)}, but 全年执行数 / 全年预算数 = "
        f"{_yuan(form['budget_executed'])} / {_yuan(form['budget_full_year'])} = "
        f"{_percent(computed, 4)}: off by {abs(printed - computed) * 100:.4f} pp, more than the "
        f"{band} {how} of a rate printed to {decimals} dp",
    )


def _budget_score_consistent(ctx: Context) -> Message:
    form = ctx.form
    expected, weight = _num(form["budget_score_expected"]), _num(form["budget_weight"])
    source = (
        "" if form["rate_used"] == form["execution_rate"] else " computed from 执行数/全年预算数"
    )
    return (
        _num(form["budget_score"]),
        f"{expected} ± {ctx.tolerance:g}",
        f"年度资金总额 得分 {_num(form['budget_score'])}, but round(min(执行率 "
        f"{_percent(form['rate_used'], 2)}{source}, 1) × 分值 {weight}, 1) = {expected}",
    )


def _name_present(_: Context) -> Message:
    return "missing", "项目名称 / 政策名称", "项目名称 / 政策名称 not found on the form"


def _fiscal_year_present(_: Context) -> Message:
    return "missing", "年度", "年度 / 评价时段 year not found on the form"


def _has_indicators(_: Context) -> Message:
    return "0 indicator rows", ">= 1", "no 三级指标 rows were found on the form"


def _total_score(ctx: Context) -> Message:
    values = ctx.values
    total, computed = values["total_score"], values["computed_total"]
    off = abs(total - computed)
    why = "more than 1" if off > TOTAL_SCORE_ERROR_BAND else "the printed total looks rounded"
    return (
        _num(total),
        _num(computed),
        f"总分 得分 {_num(total)} ≠ 年度资金总额 得分 {_num(values['budget_score'])} + Σ "
        f"{values['scored_rows']} 指标得分 {_num(values['indicator_score_sum'])} = "
        f"{_num(computed)}: off by {_num(off)}, {why}",
    )


def _total_weight_100(ctx: Context) -> Message:
    values = ctx.values
    total, full = _num(values["weight_total"]), _num(values["full_marks"])
    if values["budget_weight"] is not None:
        funds = f"年度资金总额 分值 {_num(values['budget_weight'])}"
    elif values["funds_weight"]:
        funds = f"执行率分值 {_num(values['funds_weight'])} (not printed on a target declaration)"
    else:
        funds = "年度资金总额 分值 — (blank)"
    return (
        total,
        full,
        f"分值 total {total} = {funds} + Σ {values['weighted_rows']} 指标分值 "
        f"{_num(values['indicator_weight_sum'])}; expected {full}",
    )


def _level_weight_consistent(ctx: Context) -> Message:
    values = ctx.values
    weight, rows = _num(values["level1_weight"]), _num(values["weight_sum"])
    return (
        rows,
        weight,
        f"一级 {values['level1']} prints {weight}分, but the 分值 of its "
        f"{values['level_rows']} rows add up to {rows}",
    )


def _deviation_reason_present(ctx: Context) -> Message:
    score, weight = _num(ctx.row.score), _num(ctx.row.weight)
    return (
        f"得分 {score} < 分值 {weight}, no reason",
        "偏差原因分析及改进措施 filled",
        f"得分 {score} < 分值 {weight} on {_row(ctx.row, ctx.values['row_ordinal'])} but "
        "偏差原因分析及改进措施 is empty",
    )


def _fund_lines_sum(ctx: Context) -> Message:
    mismatch = ctx.values
    total, parts = _yuan(mismatch["total"]), _yuan(mismatch["parts_sum"])
    return (
        total,
        parts,
        f"{_AMOUNT_COLUMNS[mismatch['amount_column']]}: 年度资金总额 {total} ≠ 当年财政拨款 "
        f"{_yuan(mismatch['appropriation'])} + 上年结转资金 {_yuan(mismatch['carried_over'])} + "
        f"其他资金 {_yuan(mismatch['other'])} = {parts} 元",
    )


def _cell_place(cell: dict[str, Any]) -> str:
    """'page 2, row 4, ' for a flagged cell: as much as is known of where it is."""
    where = f"page {cell['page']}, " if cell["page"] is not None else ""
    return where + (f"row {cell['row_ordinal']}, " if cell["row_ordinal"] is not None else "")


def _ocr_low_confidence(ctx: Context) -> Message:
    cell = ctx.values
    where = _cell_place(cell)
    why = cell["note"] or f"OCR confidence {cell['confidence']:.2f}"
    return (
        cell["text"],
        "the printed text, checked by a person",
        f"{where}{cell['field']} cell read as '{cell['text']}': {why}",
    )


def _value_unreadable(ctx: Context) -> Message:
    cell = ctx.values
    return (
        cell["text"],
        "a number, or the cell left blank",
        f"{_cell_place(cell)}{cell['field']} cell reads '{cell['text']}', which is not a number: the value "
        "is left empty; check the printed form",
    )


_LEVEL_PROBLEMS = {
    "level1_present": "一级指标 missing",
    "level1_known": "一级指标 '{level1}' is not a national framework name",
    "level2_present": "二级指标 missing",
    "level2_known": "二级指标 '{level2}' is not a national framework name",
}


def _levels_known(failures: list[Failure], row: Indicator) -> CheckResult:
    """One result per offending indicator, naming each of its unknown or missing levels."""
    rules = {failure.rule for failure in failures}
    problems = [
        template.format(level1=row.level1, level2=row.level2)
        for rule, template in _LEVEL_PROBLEMS.items()
        if rule in rules
    ]
    first = failures[0]
    return CheckResult(
        form_id=first.form_id,
        check_name="levels_known",
        severity=first.severity,
        row_ordinal=first.row_ordinal,
        observed=f"{row.level1 or '—'} / {row.level2 or '—'}",
        expected="一级 / 二级 names of the national framework (schemas.vocabulary)",
        detail=f"{'; '.join(problems)} on {_row(row, first.row_ordinal)}",
    )


# ---------------------------------------------------------------- the checks

# SCHEMA.md's eight checks first, then two auditor warnings and the review flags of uncertain or
# unreadable OCR cells. Results are ordered as here.
CHECKS: tuple[Check, ...] = (
    Check(
        "required_fields",
        "error",
        (
            Rule(
                "name_present",
                FORM,
                expect("ExpectColumnValuesToNotBeNull", column="name"),
                _name_present,
            ),
            Rule(
                "fiscal_year_present",
                FORM,
                expect("ExpectColumnValuesToNotBeNull", column="fiscal_year"),
                _fiscal_year_present,
            ),
            Rule("has_indicators", FORM, unexpected_rows(_HAS_INDICATORS), _has_indicators),
        ),
    ),
    Check(
        "score_le_weight",
        "error",
        (
            Rule(
                "row_score_le_weight", INDICATOR, at_most("weight", "score"), _row_score_le_weight
            ),
            Rule(
                "row_score_ge_0",
                INDICATOR,
                expect("ExpectColumnValuesToBeBetween", column="score", min_value=0),
                _row_score_ge_0,
            ),
            Rule(
                "funds_score_le_weight",
                FORM,
                at_most("budget_weight", "budget_score"),
                _funds_score_le_weight,
            ),
            Rule(
                "funds_score_ge_0",
                FORM,
                expect("ExpectColumnValuesToBeBetween", column="budget_score", min_value=0),
                _funds_score_ge_0,
            ),
        ),
    ),
    Check(
        "executed_le_budget",
        "error",
        (
            Rule(
                "executed_le_budget",
                FORM,
                at_most("budget_full_year", "budget_executed"),
                _executed_le_budget,
            ),
        ),
    ),
    # the printed 执行率 is 执行数 / 全年预算数 rounded or cut to its printed decimals
    # (form_checks.rate_tolerance)
    Check(
        "execution_rate_consistent",
        "error",
        (
            Rule(
                "execution_rate_consistent",
                FORM,
                at_most("rate_tolerance", "rate_abs_diff"),
                _execution_rate_consistent,
            ),
        ),
    ),
    # 得分 within the tolerance of round(min(执行率, 1) × 分值, 1)
    Check(
        "budget_score_consistent",
        "warning",
        (
            Rule(
                "budget_score_consistent",
                FORM,
                expect(
                    "ExpectColumnValuesToBeBetween",
                    column="budget_score_diff",
                    min_value=lambda tolerance: -tolerance - EPSILON,
                    max_value=lambda tolerance: tolerance + EPSILON,
                ),
                _budget_score_consistent,
            ),
        ),
        tolerance=0.05,
    ),
    # |printed total − (funds score + Σ row scores)|
    Check(
        "total_score_consistent",
        "error",
        (
            Rule(
                "total_score_off",
                FORM,
                unexpected_rows(_SCORE_SUMS),
                _total_score,
                tolerance=TOTAL_SCORE_ERROR_BAND + EPSILON,
            ),
            Rule(
                "total_score_rounded",
                FORM,
                unexpected_rows(_SCORE_SUMS),
                _total_score,
                severity="warning",
                tolerance=1e-6,
                superseded_by="total_score_off",
            ),
        ),
    ),
    Check(
        "total_weight_100",
        "error",
        (Rule("total_weight_100", FORM, unexpected_rows(_WEIGHT_SUM), _total_weight_100),),
        tolerance=1e-6,
    ),
    Check(
        "level_weight_consistent",
        "warning",
        (
            Rule(
                "level_weight_consistent",
                FORM,
                unexpected_rows(_LEVEL_WEIGHTS),
                _level_weight_consistent,
            ),
        ),
        tolerance=1e-6,
    ),
    Check(
        "levels_known",
        "warning",
        (
            Rule(
                "level1_present",
                INDICATOR,
                expect("ExpectColumnValuesToNotBeNull", column="level1_canonical"),
            ),
            Rule(
                "level1_known",
                INDICATOR,
                expect(
                    "ExpectColumnValuesToBeInSet",
                    column="level1_canonical",
                    value_set=sorted(LEVEL1),
                ),
            ),
            Rule(
                "level2_present",
                INDICATOR,
                expect("ExpectColumnValuesToNotBeNull", column="level2_canonical"),
            ),
            Rule(
                "level2_known",
                INDICATOR,
                expect(
                    "ExpectColumnValuesToBeInSet",
                    column="level2_canonical",
                    value_set=sorted(LEVEL2),
                ),
            ),
        ),
        per_row=_levels_known,
    ),
    Check(
        "deviation_reason_present",
        "warning",
        (
            Rule(
                "deviation_reason_present",
                INDICATOR,
                expect(
                    "ExpectColumnValuesToNotBeNull",
                    column="deviation_reason",
                    row_condition=_column_true("reason_required"),
                ),
                _deviation_reason_present,
            ),
        ),
    ),
    # in the printed unit: three sub-lines rounded to 2 dp
    Check(
        "fund_lines_sum",
        "warning",
        (Rule("fund_lines_sum", FORM, unexpected_rows(_FUND_LINES_SUM), _fund_lines_sum),),
        tolerance=0.015,
    ),
    Check(
        "ocr_low_confidence",
        "warning",
        (
            Rule(
                "ocr_low_confidence",
                FORM,
                unexpected_rows(_FLAGGED_CELLS.replace("{unreadable}", "false")),
                _ocr_low_confidence,
            ),
        ),
    ),
    Check(
        "value_unreadable",
        "warning",
        (
            Rule(
                "value_unreadable",
                FORM,
                unexpected_rows(_FLAGGED_CELLS.replace("{unreadable}", "true")),
                _value_unreadable,
            ),
        ),
    ),
)
BY_NAME: dict[str, Check] = {check.name: check for check in CHECKS}
SEVERITY: dict[str, str] = {check.name: check.severity for check in CHECKS}
