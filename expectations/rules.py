"""The checks' rule table: each check's severity and the tolerances its expectation allows."""

from __future__ import annotations

# check_name → severity of its failures: the one table the GX suites are built from. SCHEMA.md's
# eight checks first, then two auditor warnings and the review flag for uncertain OCR cells.
SEVERITY: dict[str, str] = {
    "required_fields": "error",
    "score_le_weight": "error",
    "executed_le_budget": "error",
    "execution_rate_consistent": "error",
    "budget_score_consistent": "warning",
    "total_score_consistent": "error",
    "total_weight_100": "error",
    "levels_known": "warning",
    "deviation_reason_present": "warning",
    "fund_lines_sum": "warning",
    "ocr_low_confidence": "warning",
    "value_unreadable": "warning",
}
# total_score_consistent: |printed total − (funds score + Σ row scores)| beyond a band's tolerance
# fails with that band's severity; only the most severe band is reported. A total off by at most 1
# is a printed total rounded to an integer (seed 000 prints 97 for 97.2): a warning.
TOTAL_SCORE_BANDS: tuple[tuple[float, str], tuple[float, str]] = (
    (1.0, SEVERITY["total_score_consistent"]),
    (1e-6, "warning"),
)
EPSILON = 1e-9  # float slack added to the tolerances below
# execution_rate_consistent: the printed 执行率 must lie within half a unit of its last printed
# digit of 执行数 / 全年预算数. The Form keeps only the float, so the digits are read back from it:
# 2 decimals of percent (71.67% → ±0.005 pp), fewer where the value has fewer (72% → ±0.5 pp).
RATE_PRINTED_DECIMALS = 2
BUDGET_SCORE_TOLERANCE = 0.05  # budget_score_consistent, around round(min(rate, 1) × weight, 1)
WEIGHT_TOLERANCE = 1e-6  # total_weight_100
FUND_SUM_TOLERANCE = 0.015  # fund_lines_sum, in the printed unit: three sub-lines rounded to 2 dp
