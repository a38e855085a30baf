"""The Great Expectations side of the checks: one ephemeral context per process, a DuckDB SQL data
source holding the staged batch, two suites built from `expectations.registry` and one Checkpoint.

Imported lazily by `expectations.checks.validate` (great_expectations takes seconds to import).

Why a DuckDB data source subclass: GX 1.24 has no DuckDB dialect. Its SqlAlchemyExecutionEngine
returns a query's cursor after handing the connection back to the pool, and duckdb-engine (0.17)
rolls back on that hand-back on the very DuckDB connection the cursor reads from, so every metric
query comes back empty. `_DuckDBExecutionEngine.execute_query` reads the rows before the hand-back;
nothing else is overridden.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, Literal
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

from expectations.registry import CHECKS, EPSILON, FORM, INDICATOR, Failure

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
    total_score DOUBLE, full_marks DOUBLE, row_weight_expected DOUBLE
);
CREATE TABLE indicators (
    form_id VARCHAR, row_ordinal INTEGER, level1_canonical VARCHAR, level2_canonical VARCHAR,
    weight DOUBLE, score DOUBLE, deviation_reason VARCHAR, level1_weight DOUBLE
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
    -- a rate is printed rounded to its decimals or cut to them (99.99% for 99.9994%: a form
    -- that never prints 100% while money is left): half a unit above, a whole unit below
    CASE WHEN execution_rate < rate_computed THEN 1.0 ELSE 0.5 END
        / power(10, rate_decimals + 2) + {EPSILON} AS rate_tolerance,
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


def _suite_expectations(table: str) -> list[gxe.Expectation]:
    """The expectations of every check's rules on ``table``, tagged with rule and check."""
    expectations = []
    for check in CHECKS:
        for rule in check.rules:
            if rule.table != table:
                continue
            expectation = rule.expectation(rule.tolerance or check.tolerance)
            expectation.meta = {"rule": rule.name, "check": check.name}
            severity = rule.severity or check.severity
            expectation.severity = (
                FailureSeverity.CRITICAL if severity == "error" else FailureSeverity.WARNING
            )
            expectations.append(expectation)
    return expectations


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
        # from the Checkpoint's result: keep none, save the serialising.
        context.validation_results_store.store_validation_results = _keep_nothing
        definitions = []
        for table in (FORM, INDICATOR):
            expectations = _suite_expectations(table)
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
    ) -> tuple[list[Failure], dict[str, dict[str, Any]]]:
        """Stage `tables` (name → (columns, rows)), run every expectation once.

        Returns the failures and the form_checks table's rows by form_id (for messages).
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
