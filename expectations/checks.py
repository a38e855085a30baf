"""Consistency checks over a batch of parsed forms (SCHEMA.md check_results), run as GX validations.

`validate` stages the batch in DuckDB and runs one Great Expectations Checkpoint over it (see
`expectations.gx_suite`), built from the checks of `expectations.registry`; this module stages the
forms and turns GX's failures into CheckResults with each rule's message. great_expectations is
imported on the first `validate` call.
"""

from __future__ import annotations

import functools
import re
import threading
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from expectations.registry import BY_NAME, CHECKS, Context, Failure
from schemas.families import BY_FORM_TYPE, DEFAULT_FAMILY, WeightRule
from schemas.records import CheckResult, Form
from schemas.vocabulary import canonical_level

if TYPE_CHECKING:
    from expectations.gx_suite import Validator

_BLANK = {"", "—", "-", "/", "*", "无"}
_SPACE = re.compile(r"\s+")
_FUND_LINE_ALIASES = {"本年财政拨款": "当年财政拨款", "年度资金申请总额": "年度资金总额"}
# execution_rate_consistent judges the printed 执行率 at the decimals it was printed with
# (Form.execution_rate_decimals). Where the reader did not record them they are read back from the
# float: 2 decimals of percent (71.67%), fewer where the value has fewer (72%).
RATE_PRINTED_DECIMALS = 2
_LOCK = threading.Lock()


def validate(forms: list[Form]) -> list[CheckResult]:
    """Run the checks on the batch; one CheckResult per failure (per failing row for row checks).

    A form is judged by the checks its family applies (``schemas.families``; a form of no known
    family by every check).

    Forms need unique, non-empty form_ids. The GX context and suites are built on the first call
    and reused; batches larger than one GX run can report completely are split.
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
            failures, form_rows = _validator().run(_stage(chunk))
            results += _results(chunk, failures, form_rows)
    return results


def prepare() -> None:
    """Build the GX context and suites now rather than on the first `validate` call."""
    _validator()


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


def _printed_decimals(form: Form) -> int | None:
    rate = form.execution_rate
    if rate is None:
        return None
    if form.execution_rate_decimals is not None:
        return form.execution_rate_decimals
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
            _printed_decimals(form),
            form.budget_weight,
            form.budget_score,
            form.total_score,
            _weights(form).full_marks,
            _weights(form).row_sum(form.budget_weight, form.total_weight),
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
            row.level1_weight,
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
            + ("budget_score", "total_score", "full_marks", "row_weight_expected"),
            form_rows,
        ),
        "indicators": (
            ("form_id", "row_ordinal", "level1_canonical", "level2_canonical", "weight", "score")
            + ("deviation_reason", "level1_weight"),
            indicator_rows,
        ),
        "fund_lines": (
            ("form_id", "line_no", "line", "budget_initial", "budget_full_year", "budget_executed"),
            fund_rows,
        ),
    }


# --- GX failures → CheckResults -----------------------------------------------------------------


def _results(
    forms: list[Form], failures: list[Failure], form_rows: dict[str, dict[str, Any]]
) -> list[CheckResult]:
    indicators = {(form.form_id, row.row_ordinal): row for form in forms for row in form.indicators}
    failed_rules = {(f.form_id, f.rule) for f in failures}
    per_row: dict[tuple[str, str, int | None], list[Failure]] = {}
    results: list[CheckResult] = []
    for failure in failures:
        check = BY_NAME[failure.check]
        rule = next(rule for rule in check.rules if rule.name == failure.rule)
        key = (failure.form_id, failure.row_ordinal)
        if check.per_row is not None:
            per_row.setdefault((check.name, *key), []).append(failure)
            continue
        if (failure.form_id, rule.superseded_by) in failed_rules:
            continue
        instances = failure.values.get("mismatches") or [failure.values]
        for values in instances:
            context = Context(
                failure.values | values,
                form_rows[failure.form_id],
                indicators.get(key),
                rule.tolerance or check.tolerance,
            )
            observed, expected, detail = rule.message(context)
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
    results += [
        BY_NAME[name].per_row(group, indicators[(form_id, row_ordinal)])
        for (name, form_id, row_ordinal), group in per_row.items()
    ]
    applying = {form.form_id: _applying_checks(form) for form in forms}
    order = {form.form_id: i for i, form in enumerate(forms)}
    checks = [check.name for check in CHECKS]
    return sorted(
        (r for r in results if r.check_name in applying[r.form_id]),
        key=lambda r: (order[r.form_id], checks.index(r.check_name), r.row_ordinal or 0),
    )


def _weights(form: Form) -> WeightRule:
    """How ``form``'s 分值 add up: its family's rule, a self-evaluation's for no known family."""
    return BY_FORM_TYPE.get(form.form_type, DEFAULT_FAMILY).weights


def _applying_checks(form: Form) -> frozenset[str]:
    """The names of the checks that judge ``form``: its family's, or all for no known family."""
    family = BY_FORM_TYPE.get(form.form_type)
    return family.checks if family else frozenset(BY_NAME)
