"""The Great Expectations side of the checks: one ephemeral context per process, a DuckDB SQL data
source holding the staged batch, two suites and one Checkpoint.

Imported lazily by `expectations.checks.validate` (great_expectations takes seconds to import).

Why a DuckDB data source subclass: GX 1.24 has no DuckDB dialect. Its SqlAlchemyExecutionEngine
returns a query's cursor after handing the connection back to the pool, and duckdb-engine (0.17)
rolls back on that hand-back on the very DuckDB connection the cursor reads from, so every metric
query comes back empty. `_DuckDBExecutionEngine.execute_query` reads the rows before the hand-back;
nothing else is overridden.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal, NamedTuple
from uuid import uuid4

import great_expectations as gx
import great_expectations.expectations as gxe
import pandas as pd
import sqlalchemy as sa
from great_expectations.constants import MAX_RESULT_RECORDS
from great_expectations.data_context.types.base import ProgressBarsConfig
from great_expectations.datasource.fluent import SQLDatasource
from great_expectations.execution_engine import SqlAlchemyExecutionEngine
from great_expectations.expectations.metadata_types import FailureSeverity
from great_expectations.expectations.row_conditions import Column

from expectations.rules import (
    BUDGET_SCORE_TOLERANCE,
    EPSILON,
    FUND_SUM_TOLERANCE,
    SEVERITY,
    TOTAL_SCORE_BANDS,
    WEIGHT_TOLERANCE,
)
from schemas.vocabulary import LEVEL1, LEVEL2

# UnexpectedRowsExpectation returns at most this many rows, and each of its queries yields at most
# one row per form: a run holding no more forms than this never loses a failure.
FORMS_PER_RUN = MAX_RESULT_RECORDS

_RESULT_FORMAT = {
    "result_format": "COMPLETE",
    "unexpected_index_column_names": ["form_id", "row_ordinal"],
    "partial_unexpected_count": 10**9,  # SQL map expectations cap the index list at this count
}

_SCHEMA = """
CREATE TABLE forms (
    form_id VARCHAR, name VARCHAR, fiscal_year INTEGER, money_factor INTEGER,
    budget_initial DECIMAL(18, 2), budget_full_year DECIMAL(18, 2), budget_executed DECIMAL(18, 2),
    execution_rate DOUBLE, rate_decimals INTEGER, budget_weight DOUBLE, budget_score DOUBLE,
    total_score DOUBLE
);
CREATE TABLE indicators (
    form_id VARCHAR, row_ordinal INTEGER, level1_canonical VARCHAR, level2_canonical VARCHAR,
    weight DOUBLE, score DOUBLE, deviation_reason VARCHAR
);
CREATE TABLE flagged_cells (
    form_id VARCHAR, row_ordinal INTEGER, field VARCHAR, text VARCHAR, confidence DOUBLE,
    note VARCHAR, page INTEGER, unreadable BOOLEAN
);
CREATE TABLE fund_lines (
    form_id VARCHAR, line_no INTEGER, line VARCHAR, budget_initial DECIMAL(18, 2),
    budget_full_year DECIMAL(18, 2), budget_executed DECIMAL(18, 2)
);
"""

# The tables the suites validate, computed from the staged ones once per batch (GX queries each a
# few dozen times: as views they would be computed again by every query).
_CHECK_TABLES = {
    # one row per form, with the per-form figures the column expectations test
    "form_checks": f"""
SELECT *,
    CAST(NULL AS INTEGER) AS row_ordinal,
    CASE WHEN budget_full_year <> 0
        THEN CAST(budget_executed AS DOUBLE) / CAST(budget_full_year AS DOUBLE) END AS rate_computed,
    abs(execution_rate - rate_computed) AS rate_abs_diff,
    0.5 / power(10, rate_decimals + 2) + {EPSILON} AS rate_tolerance,
    -- the printed 执行率 or the one computed from the amounts, whichever the printed 得分 follows:
    -- a misprinted rate is execution_rate_consistent's finding, not this check's
    coalesce(execution_rate, rate_computed) AS rate_printed_first,
    coalesce(rate_computed, execution_rate) AS rate_computed_first,
    CASE WHEN abs(budget_score - round(least(rate_printed_first, 1) * budget_weight, 1))
            <= abs(budget_score - round(least(rate_computed_first, 1) * budget_weight, 1))
        THEN rate_printed_first ELSE rate_computed_first END AS rate_used,
    round(least(rate_used, 1) * budget_weight, 1) AS budget_score_expected,
    budget_score - budget_score_expected AS budget_score_diff
FROM forms
""",
    "indicator_checks": "SELECT *, score < weight AS reason_required FROM indicators",
}

_SCORE_SUMS = """
SELECT f.form_id, f.total_score, f.budget_score,
    coalesce(i.score_sum, 0) AS indicator_score_sum, coalesce(i.scored_rows, 0) AS scored_rows,
    coalesce(f.budget_score, 0) + coalesce(i.score_sum, 0) AS computed_total
FROM {{batch}} f
LEFT JOIN (
    SELECT form_id, sum(score) AS score_sum, count(score) AS scored_rows
    FROM indicators GROUP BY form_id
) i ON i.form_id = f.form_id
WHERE f.total_score IS NOT NULL
    AND abs(f.total_score - (coalesce(f.budget_score, 0) + coalesce(i.score_sum, 0))) > {tolerance}
ORDER BY f.form_id
"""

_WEIGHT_SUM = f"""
SELECT f.form_id, f.budget_weight,
    coalesce(w.weight_sum, 0) AS indicator_weight_sum, coalesce(w.weighted_rows, 0) AS weighted_rows,
    coalesce(f.budget_weight, 0) + coalesce(w.weight_sum, 0) AS weight_total
FROM {{batch}} f
LEFT JOIN (
    SELECT form_id, sum(weight) AS weight_sum, count(weight) AS weighted_rows
    FROM indicators GROUP BY form_id
) w ON w.form_id = f.form_id
WHERE (f.budget_weight IS NOT NULL OR w.weighted_rows > 0)
    AND abs(coalesce(f.budget_weight, 0) + coalesce(w.weight_sum, 0) - 100) > {WEIGHT_TOLERANCE}
ORDER BY f.form_id
"""

# A query without a JOIN gets {batch} as an aliased subquery: no alias of its own.
_HAS_INDICATORS = """
SELECT form_id, 0 AS indicator_rows
FROM {batch}
WHERE form_id NOT IN (SELECT form_id FROM indicators)
ORDER BY form_id
"""

# Per amount column: 年度资金总额 (its own line, else the form's money block) against the sum of
# the three sub-lines, where all three are filled; one row per form listing the columns that differ.
# A line printed twice (其他资金 on a 申报表, once per block) counts once: its last printing, which
# belongs to the annual block.
_FUND_LINES_SUM = f"""
WITH last_lines AS (
    SELECT * FROM fund_lines
    QUALIFY row_number() OVER (PARTITION BY form_id, line ORDER BY line_no DESC) = 1
),
amounts AS (
    UNPIVOT (SELECT form_id, line, budget_initial, budget_full_year, budget_executed FROM last_lines)
    ON budget_initial, budget_full_year, budget_executed INTO NAME amount_column VALUE amount
),
form_amounts AS (
    UNPIVOT (SELECT form_id, budget_initial, budget_full_year, budget_executed FROM {{batch}})
    ON budget_initial, budget_full_year, budget_executed INTO NAME amount_column VALUE amount
),
parts AS (
    SELECT form_id, amount_column,
        max(amount) FILTER (WHERE line = '年度资金总额') AS total_line,
        max(amount) FILTER (WHERE line = '当年财政拨款') AS appropriation,
        max(amount) FILTER (WHERE line = '上年结转资金') AS carried_over,
        max(amount) FILTER (WHERE line = '其他资金') AS other
    FROM amounts GROUP BY form_id, amount_column
),
compared AS (
    SELECT p.form_id, p.amount_column, coalesce(p.total_line, fa.amount) AS total,
        p.appropriation, p.carried_over, p.other,
        p.appropriation + p.carried_over + p.other AS parts_sum
    FROM parts p
    LEFT JOIN form_amounts fa ON fa.form_id = p.form_id AND fa.amount_column = p.amount_column
    WHERE p.appropriation IS NOT NULL AND p.carried_over IS NOT NULL AND p.other IS NOT NULL
)
SELECT f.form_id, list(struct_pack(
        amount_column := c.amount_column, total := c.total, appropriation := c.appropriation,
        carried_over := c.carried_over, other := c.other, parts_sum := c.parts_sum
    ) ORDER BY c.amount_column) AS mismatches
FROM compared c
JOIN {{batch}} f ON f.form_id = c.form_id
WHERE abs(c.total - c.parts_sum) > {FUND_SUM_TOLERANCE} * f.money_factor
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
JOIN {{batch}} f ON f.form_id = c.form_id
WHERE c.unreadable = {unreadable}
GROUP BY f.form_id
ORDER BY f.form_id
"""


class Failure(NamedTuple):
    """One failing row of one expectation, as GX reported it."""

    rule: str
    check: str
    severity: str
    form_id: str
    row_ordinal: int | None
    values: dict[str, Any]


class _DuckDBExecutionEngine(SqlAlchemyExecutionEngine):
    """GX's SQL execution engine, reading each result before its connection goes back."""

    def execute_query(self, query: sa.Selectable | sa.TextClause) -> Any:
        """Run `query` on a pooled connection; rows are buffered (see the module docstring)."""
        with self.engine.connect() as connection:
            result = connection.execute(query)
            return result.freeze()() if result.returns_rows else result


class DuckDBDatasource(SQLDatasource):
    """A fluent SQL data source over DuckDB (registers `context.data_sources.add_duckdb`)."""

    type: Literal["duckdb"] = "duckdb"  # type: ignore[assignment]

    @property
    def execution_engine_type(self) -> type[SqlAlchemyExecutionEngine]:
        """The engine class GX builds for this data source."""
        return _DuckDBExecutionEngine


def _expectation(
    expectation: gxe.Expectation, rule: str, check: str, severity: str | None = None
) -> gxe.Expectation:
    expectation.meta = {"rule": rule, "check": check}
    level = severity or SEVERITY[check]
    expectation.severity = FailureSeverity.CRITICAL if level == "error" else FailureSeverity.WARNING
    return expectation


def _indicator_expectations() -> list[gxe.Expectation]:
    return [
        _expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="weight",
                column_B="score",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            "row_score_le_weight",
            "score_le_weight",
        ),
        _expectation(
            gxe.ExpectColumnValuesToBeBetween(column="score", min_value=0),
            "row_score_ge_0",
            "score_le_weight",
        ),
        _expectation(
            gxe.ExpectColumnValuesToNotBeNull(column="level1_canonical"),
            "level1_present",
            "levels_known",
        ),
        _expectation(
            gxe.ExpectColumnValuesToBeInSet(column="level1_canonical", value_set=sorted(LEVEL1)),
            "level1_known",
            "levels_known",
        ),
        _expectation(
            gxe.ExpectColumnValuesToNotBeNull(column="level2_canonical"),
            "level2_present",
            "levels_known",
        ),
        _expectation(
            gxe.ExpectColumnValuesToBeInSet(column="level2_canonical", value_set=sorted(LEVEL2)),
            "level2_known",
            "levels_known",
        ),
        _expectation(
            gxe.ExpectColumnValuesToNotBeNull(
                column="deviation_reason",
                row_condition=Column("reason_required") == True,  # noqa: E712
            ),
            "deviation_reason_present",
            "deviation_reason_present",
        ),
    ]


def _form_expectations() -> list[gxe.Expectation]:
    (error_band, _), (exact_band, exact_severity) = TOTAL_SCORE_BANDS
    return [
        _expectation(
            gxe.ExpectColumnValuesToNotBeNull(column="name"), "name_present", "required_fields"
        ),
        _expectation(
            gxe.ExpectColumnValuesToNotBeNull(column="fiscal_year"),
            "fiscal_year_present",
            "required_fields",
        ),
        _expectation(
            gxe.UnexpectedRowsExpectation(unexpected_rows_query=_HAS_INDICATORS),
            "has_indicators",
            "required_fields",
        ),
        _expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="budget_weight",
                column_B="budget_score",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            "funds_score_le_weight",
            "score_le_weight",
        ),
        _expectation(
            gxe.ExpectColumnValuesToBeBetween(column="budget_score", min_value=0),
            "funds_score_ge_0",
            "score_le_weight",
        ),
        _expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="budget_full_year",
                column_B="budget_executed",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            "executed_le_budget",
            "executed_le_budget",
        ),
        _expectation(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="rate_tolerance",
                column_B="rate_abs_diff",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
            ),
            "execution_rate_consistent",
            "execution_rate_consistent",
        ),
        _expectation(
            gxe.ExpectColumnValuesToBeBetween(
                column="budget_score_diff",
                min_value=-BUDGET_SCORE_TOLERANCE - EPSILON,
                max_value=BUDGET_SCORE_TOLERANCE + EPSILON,
            ),
            "budget_score_consistent",
            "budget_score_consistent",
        ),
        _expectation(
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=_SCORE_SUMS.format(tolerance=error_band + EPSILON)
            ),
            "total_score_off",
            "total_score_consistent",
        ),
        _expectation(
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=_SCORE_SUMS.format(tolerance=exact_band)
            ),
            "total_score_rounded",
            "total_score_consistent",
            exact_severity,
        ),
        _expectation(
            gxe.UnexpectedRowsExpectation(unexpected_rows_query=_WEIGHT_SUM),
            "total_weight_100",
            "total_weight_100",
        ),
        _expectation(
            gxe.UnexpectedRowsExpectation(unexpected_rows_query=_FUND_LINES_SUM),
            "fund_lines_sum",
            "fund_lines_sum",
        ),
        _expectation(
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=_FLAGGED_CELLS.format(unreadable="false")
            ),
            "ocr_low_confidence",
            "ocr_low_confidence",
        ),
        _expectation(
            gxe.UnexpectedRowsExpectation(
                unexpected_rows_query=_FLAGGED_CELLS.format(unreadable="true")
            ),
            "value_unreadable",
            "value_unreadable",
        ),
    ]


class Validator:
    """The process's GX objects, built once; `run` stages a batch and runs the Checkpoint."""

    def __init__(self) -> None:
        context = gx.get_context(mode="ephemeral")
        context.enable_analytics(False)
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        # A named in-memory database, so the data source's own engine sees the same tables.
        self._datasource = context.data_sources.add_duckdb(
            "jixiao_staging",
            connection_string=f"duckdb:///:memory:jixiao_{uuid4().hex}",
            create_temp_table=False,
        )
        # Staging goes through a connection of its own, held open: it also keeps the named
        # in-memory database alive.
        self._staging = self._datasource.get_execution_engine().engine.connect()
        self._staging.exec_driver_sql(_SCHEMA)
        for table, query in _CHECK_TABLES.items():
            self._staging.exec_driver_sql(f"CREATE TABLE {table} AS {query}")
        self._staging.commit()
        # GX keeps every validation result in its store, serialised to JSON; ours are read once,
        # from the Checkpoint's result (as are the Data Docs'): keep none, save the serialising.
        context.validation_results_store.store_validation_results = _keep_nothing
        definitions = []
        for table, expectations in (
            ("form_checks", _form_expectations()),
            ("indicator_checks", _indicator_expectations()),
        ):
            batch = self._datasource.add_table_asset(table, table_name=table)
            suite = context.suites.add(gx.ExpectationSuite(name=table, expectations=expectations))
            definitions.append(
                context.validation_definitions.add(
                    gx.ValidationDefinition(
                        name=table,
                        data=batch.add_batch_definition_whole_table("whole_table"),
                        suite=suite,
                    )
                )
            )
        self._checkpoint = context.checkpoints.add(
            gx.Checkpoint(
                name="jixiao_checks",
                validation_definitions=definitions,
                result_format=_RESULT_FORMAT,
            )
        )

    def run(
        self,
        tables: dict[str, tuple[Sequence[str], list[tuple]]],
        gx_results: list[Any] | None = None,
    ) -> tuple[list[Failure], dict[str, dict[str, Any]]]:
        """Stage `tables` (name → (columns, rows)), run every expectation once.

        Returns the failures and the form_checks table's rows by form_id (for messages);
        ``gx_results``, if given, receives the (identifier, validation result) pairs.
        """
        try:
            duck = self._staging.connection.driver_connection
            for table, (columns, rows) in tables.items():
                duck.register("staged", pd.DataFrame(rows, columns=list(columns)))
                duck.execute(
                    f"DELETE FROM {table}; INSERT INTO {table} BY NAME SELECT * FROM staged"
                )
                duck.unregister("staged")
            for table, query in _CHECK_TABLES.items():
                duck.execute(f"DELETE FROM {table}; INSERT INTO {table} {query}")
            self._staging.commit()
            result = self._checkpoint.run()
            forms = {
                row["form_id"]: dict(row)
                for row in self._staging.exec_driver_sql("SELECT * FROM form_checks").mappings()
            }
        finally:
            self._staging.rollback()
        if gx_results is not None:
            gx_results.extend(result.run_results.items())
        failures = [
            failure
            for validation in result.run_results.values()
            for outcome in validation.results
            if not outcome.success
            for failure in _failures(outcome)
        ]
        return failures, forms


def _keep_nothing(**_: Any) -> None:
    """Stands in for the results store's ``store_validation_results``."""


def _failures(outcome: Any) -> Iterator[Failure]:
    config = outcome.expectation_config
    rule, check = config.meta["rule"], config.meta["check"]
    info = outcome.exception_info  # {"raised_exception": …} or one such dict per failed metric
    errors = [
        e.get("exception_message")
        for e in (info, *info.values())
        if isinstance(e, dict) and e.get("raised_exception")
    ]
    if errors:
        raise RuntimeError(f"GX could not evaluate {rule}: {errors}")
    result = outcome.result
    if "details" in result:  # UnexpectedRowsExpectation
        rows = result["details"]["unexpected_rows"]
        expected_count = result["observed_value"]
    else:
        rows = result["unexpected_index_list"]
        expected_count = result["unexpected_count"]
    if len(rows) != expected_count:
        raise RuntimeError(f"GX returned {len(rows)} of {expected_count} failing rows for {rule}")
    severity = "error" if config.severity == FailureSeverity.CRITICAL else "warning"
    for row in rows:
        yield Failure(rule, check, severity, row["form_id"], row.get("row_ordinal"), dict(row))
