"""Consistency checks over a batch of parsed forms (SCHEMA.md check_results), run as GX validations.

`validate` stages the batch in DuckDB and runs one Great Expectations Checkpoint over it (see
`expectations.gx_suite`, built from the rule table in `expectations.rules`); this module turns
GX's failures into CheckResults a person can act on. great_expectations is imported on the first `validate` call.
"""

from __future__ import annotations

import functools
import re
import threading
from collections.abc import Callable
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NamedTuple

from expectations.rules import (
    BUDGET_SCORE_TOLERANCE,
    RATE_PRINTED_DECIMALS,
    SEVERITY,
    TOTAL_SCORE_BANDS,
)
from schemas.records import CheckResult, Form, Indicator
from schemas.vocabulary import canonical_level

if TYPE_CHECKING:
    from expectations.gx_suite import Failure, Validator

_BLANK = {"", "—", "-", "/", "*", "无"}
_SPACE = re.compile(r"\s+")
_FUND_LINE_ALIASES = {"本年财政拨款": "当年财政拨款", "年度资金申请总额": "年度资金总额"}
_AMOUNT_COLUMNS = {
    "budget_initial": "年初预算数",
    "budget_full_year": "全年预算数",
    "budget_executed": "全年执行数",
}
_LOCK = threading.Lock()


def validate(forms: list[Form], gx_results: list[Any] | None = None) -> list[CheckResult]:
    """Run every check on the batch; one CheckResult per failure (per failing row for row checks).

    Forms need unique, non-empty form_ids. The GX context and suites are built on the first call
    and reused; batches larger than one GX run can report completely are split. ``gx_results``,
    if given, receives GX's own validation results (for Data Docs).
    """
    ids = [form.form_id for form in forms]
    if not all(ids) or len(set(ids)) != len(ids):
        raise ValueError("validate() needs a unique, non-empty form_id on every form")
    if not forms:
        return []
    from expectations.gx_suite import FORMS_PER_RUN

    results: list[CheckResult] = []
    with _LOCK:
        for start in range(0, len(forms), FORMS_PER_RUN):
            chunk = forms[start : start + FORMS_PER_RUN]
            failures, form_rows = _validator().run(_stage(chunk), gx_results)
            results += _results(chunk, failures, form_rows)
    return results


@functools.cache
def _validator() -> Validator:
    from expectations.gx_suite import Validator

    return Validator()


# --- staging: Form objects → rows of the DuckDB tables in gx_suite._SCHEMA ---------------------


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    text = value.strip()
    return None if text in _BLANK else text


def _money(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _printed_decimals(rate: float | None) -> int | None:
    if rate is None:
        return None
    percent = rate * 100
    for decimals in range(RATE_PRINTED_DECIMALS):
        if abs(percent - round(percent, decimals)) < 1e-7:
            return decimals
    return RATE_PRINTED_DECIMALS


def _level(name: str | None) -> str | None:
    return (canonical_level(name) or None) if name else None


def _fund_line(name: str) -> str:
    text = re.sub(r"^其中[:：]?", "", _SPACE.sub("", name)).rstrip(":：")
    return _FUND_LINE_ALIASES.get(text, text)


def _stage(forms: list[Form]) -> dict[str, tuple[tuple[str, ...], list[tuple]]]:
    form_rows = [
        (
            form.form_id,
            _text(form.name),
            form.fiscal_year,
            10000 if form.money_unit == "万元" else 1,
            _money(form.budget_initial),
            _money(form.budget_full_year),
            _money(form.budget_executed),
            form.execution_rate,
            _printed_decimals(form.execution_rate),
            form.budget_weight,
            form.budget_score,
            form.total_score,
        )
        for form in forms
    ]
    indicator_rows = [
        (
            form.form_id,
            row.row_ordinal,
            _level(row.level1),
            _level(row.level2),
            row.weight,
            row.score,
            _text(row.deviation_reason),
        )
        for form in forms
        for row in form.indicators
    ]
    fund_rows = [
        (
            form.form_id,
            line_no,
            _fund_line(line.line),
            _money(line.budget_initial),
            _money(line.budget_full_year),
            _money(line.budget_executed),
        )
        for form in forms
        for line_no, line in enumerate(form.fund_lines, 1)
    ]
    flagged_rows = [
        (
            form.form_id,
            cell.row_ordinal,
            cell.field,
            cell.text,
            cell.confidence,
            cell.note,
            cell.page,
            cell.unreadable,
        )
        for form in forms
        for cell in form.flagged_cells
    ]
    return {
        "flagged_cells": (
            ("form_id", "row_ordinal", "field", "text", "confidence", "note", "page", "unreadable"),
            flagged_rows,
        ),
        "forms": (
            ("form_id", "name", "fiscal_year", "money_factor", "budget_initial", "budget_full_year")
            + ("budget_executed", "execution_rate", "rate_decimals", "budget_weight")
            + ("budget_score", "total_score"),
            form_rows,
        ),
        "indicators": (
            ("form_id", "row_ordinal", "level1_canonical", "level2_canonical", "weight", "score")
            + ("deviation_reason",),
            indicator_rows,
        ),
        "fund_lines": (
            ("form_id", "line_no", "line", "budget_initial", "budget_full_year", "budget_executed"),
            fund_rows,
        ),
    }


# --- GX failures → CheckResults -----------------------------------------------------------------


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


Message = tuple[str, str, str]  # observed, expected, detail


class Context(NamedTuple):
    """What a message is built from."""

    values: dict[str, Any]  # the failing row as GX reported it
    form: dict[str, Any]  # the form's row of the form_checks table
    row: Indicator | None  # the indicator, for row-level checks


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
    band = f"±{0.5 * 10**-decimals:g} pp"
    return (
        _percent(printed, decimals),
        f"{_percent(computed, decimals)} ({band})",
        f"执行率 printed {_percent(printed, decimals)}, but 全年执行数 / 全年预算数 = "
        f"{_yuan(form['budget_executed'])} / {_yuan(form['budget_full_year'])} = "
        f"{_percent(computed, 4)}: off by {abs(printed - computed) * 100:.4f} pp, more than the "
        f"{band} rounding of a rate printed to {decimals} dp",
    )


def _budget_score_consistent(ctx: Context) -> Message:
    form = ctx.form
    expected, weight = _num(form["budget_score_expected"]), _num(form["budget_weight"])
    source = (
        "" if form["rate_used"] == form["execution_rate"] else " computed from 执行数/全年预算数"
    )
    return (
        _num(form["budget_score"]),
        f"{expected} ± {BUDGET_SCORE_TOLERANCE:g}",
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
    why = "more than 1" if off > TOTAL_SCORE_BANDS[0][0] else "the printed total looks rounded"
    return (
        _num(total),
        _num(computed),
        f"总分 得分 {_num(total)} ≠ 年度资金总额 得分 {_num(values['budget_score'])} + Σ "
        f"{values['scored_rows']} 指标得分 {_num(values['indicator_score_sum'])} = "
        f"{_num(computed)}: off by {_num(off)}, {why}",
    )


def _total_weight_100(ctx: Context) -> Message:
    values = ctx.values
    total = _num(values["weight_total"])
    return (
        total,
        "100",
        f"分值 total {total} = 年度资金总额 分值 {_num(values['budget_weight'])} + Σ "
        f"{values['weighted_rows']} 指标分值 {_num(values['indicator_weight_sum'])}; expected 100",
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


_MESSAGES: dict[str, Callable[[Context], Message]] = {
    "row_score_le_weight": _row_score_le_weight,
    "row_score_ge_0": _row_score_ge_0,
    "funds_score_le_weight": _funds_score_le_weight,
    "funds_score_ge_0": _funds_score_ge_0,
    "executed_le_budget": _executed_le_budget,
    "execution_rate_consistent": _execution_rate_consistent,
    "budget_score_consistent": _budget_score_consistent,
    "name_present": _name_present,
    "fiscal_year_present": _fiscal_year_present,
    "has_indicators": _has_indicators,
    "total_score_off": _total_score,
    "total_score_rounded": _total_score,
    "total_weight_100": _total_weight_100,
    "deviation_reason_present": _deviation_reason_present,
    "fund_lines_sum": _fund_lines_sum,
    "ocr_low_confidence": _ocr_low_confidence,
    "value_unreadable": _value_unreadable,
}
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


def _results(
    forms: list[Form], failures: list[Failure], form_rows: dict[str, dict[str, Any]]
) -> list[CheckResult]:
    indicators = {(form.form_id, row.row_ordinal): row for form in forms for row in form.indicators}
    total_score_errors = {f.form_id for f in failures if f.rule == "total_score_off"}
    levels: dict[tuple[str, int | None], list[Failure]] = {}
    results: list[CheckResult] = []
    for failure in failures:
        key = (failure.form_id, failure.row_ordinal)
        if failure.check == "levels_known":
            levels.setdefault(key, []).append(failure)
            continue
        if failure.rule == "total_score_rounded" and failure.form_id in total_score_errors:
            continue
        instances = failure.values.get("mismatches") or [failure.values]
        for values in instances:
            context = Context(
                failure.values | values, form_rows[failure.form_id], indicators.get(key)
            )
            observed, expected, detail = _MESSAGES[failure.rule](context)
            results.append(
                CheckResult(
                    failure.form_id,
                    failure.check,
                    failure.severity,
                    values.get("row_ordinal", failure.row_ordinal),
                    observed,
                    expected,
                    detail,
                )
            )
    results += [_levels_known(group, indicators[key]) for key, group in levels.items()]
    order = {form.form_id: i for i, form in enumerate(forms)}
    checks = list(SEVERITY)
    return sorted(
        results,
        key=lambda r: (order[r.form_id], checks.index(r.check_name), r.row_ordinal or 0),
    )
