"""DDL: internal tables in schema ``store`` and the SCHEMA.md views in ``main``.

Every form read is kept in ``store.form`` whatever its checks said (``status`` clean / warning /
quarantined, plus a ``released`` flag a reviewer sets). The analyst views show only landed forms
(clean, warning, or released) and a ``quarantine`` view for the rest; ``store.review`` logs every
release and rejection (who, when, why). Cell boxes (``bbox``: x0, top, x1, bottom in points, origin
top-left) locate indicator rows, fund lines and the total row on their page for review. All
statements are idempotent and run on every open; ``MIGRATIONS`` bring older files up to date.
"""

from __future__ import annotations

from dataclasses import dataclass

SCHEMA_VERSION = 3

MONEY = "DECIMAL(18,2)"

TABLES = [
    "CREATE SCHEMA IF NOT EXISTS store",
    """
    CREATE TABLE IF NOT EXISTS store.schema_version (
        version INTEGER NOT NULL,
        applied_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS store.source_file (
        source_file VARCHAR PRIMARY KEY,
        source_sha256 VARCHAR,  -- NULL: the file could not be pulled
        bytes BIGINT,
        pulled_at TIMESTAMPTZ NOT NULL,
        run_id VARCHAR,
        extractor VARCHAR,
        pages INTEGER,
        forms_found INTEGER NOT NULL DEFAULT 0,
        status VARCHAR NOT NULL
            CHECK (status IN ('loaded', 'partial', 'no_forms', 'failed', 'skipped_duplicate')),
        error VARCHAR
    )
    """,
    f"""
    CREATE TABLE IF NOT EXISTS store.form (
        form_id VARCHAR NOT NULL,
        source_file VARCHAR NOT NULL,
        source_sha256 VARCHAR NOT NULL,
        form_ordinal INTEGER NOT NULL,
        form_type VARCHAR NOT NULL,
        fiscal_year INTEGER,
        name VARCHAR,
        department VARCHAR,
        implementing_unit VARCHAR,
        money_unit VARCHAR,
        budget_initial {MONEY},
        budget_full_year {MONEY},
        budget_executed {MONEY},
        execution_rate DOUBLE,
        budget_weight DOUBLE,
        budget_score DOUBLE,
        total_weight DOUBLE,
        total_score DOUBLE,
        project_funds_total {MONEY},
        planned_start DATE,
        planned_end DATE,
        goal_planned VARCHAR,
        goal_actual VARCHAR,
        goal_overall VARCHAR,
        first_page INTEGER,
        last_page INTEGER,
        notes VARCHAR[],
        status VARCHAR NOT NULL CHECK (status IN ('clean', 'warning', 'quarantined')),
        released BOOLEAN NOT NULL DEFAULT false,
        rejected BOOLEAN DEFAULT false,
        total_page INTEGER,
        total_bbox DOUBLE[],
        quarantined_at TIMESTAMPTZ,
        loaded_at TIMESTAMPTZ NOT NULL,
        run_id VARCHAR
    )
    """,
    f"""
    CREATE TABLE IF NOT EXISTS store.fund_line (
        form_id VARCHAR NOT NULL,
        line_ordinal INTEGER NOT NULL,
        line VARCHAR,
        budget_initial {MONEY},
        budget_full_year {MONEY},
        budget_executed {MONEY},
        weight DOUBLE,
        execution_rate DOUBLE,
        score DOUBLE,
        page INTEGER,
        bbox DOUBLE[]
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS store.indicator (
        form_id VARCHAR NOT NULL,
        row_ordinal INTEGER NOT NULL,
        level1 VARCHAR,
        level2 VARCHAR,
        level3 VARCHAR,
        target_text VARCHAR,
        target_op VARCHAR,
        target_value DOUBLE,
        target_unit VARCHAR,
        actual_text VARCHAR,
        actual_value DOUBLE,
        actual_unit VARCHAR,
        weight DOUBLE,
        score DOUBLE,
        deviation_reason VARCHAR,
        page INTEGER,
        hierarchy_inferred BOOLEAN,
        bbox DOUBLE[]
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS store.check_result (
        form_id VARCHAR NOT NULL,
        check_name VARCHAR NOT NULL,
        severity VARCHAR NOT NULL CHECK (severity IN ('error', 'warning')),
        row_ordinal INTEGER,
        observed VARCHAR,
        expected VARCHAR,
        detail VARCHAR
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS store.ingest_run (
        run_id VARCHAR PRIMARY KEY,
        flow VARCHAR NOT NULL CHECK (flow IN ('ingest', 'nightly', 'backfill')),
        started_at TIMESTAMPTZ NOT NULL,
        finished_at TIMESTAMPTZ,
        files_seen INTEGER NOT NULL DEFAULT 0,
        files_new INTEGER NOT NULL DEFAULT 0,
        files_skipped INTEGER NOT NULL DEFAULT 0,
        files_failed INTEGER NOT NULL DEFAULT 0,
        forms_landed INTEGER NOT NULL DEFAULT 0,
        forms_quarantined INTEGER NOT NULL DEFAULT 0,
        status VARCHAR NOT NULL CHECK (status IN ('running', 'completed', 'failed', 'crashed'))
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS store.review (
        form_id VARCHAR NOT NULL,
        action VARCHAR NOT NULL CHECK (action IN ('released', 'rejected')),
        note VARCHAR NOT NULL,
        reviewed_by VARCHAR NOT NULL,
        reviewed_at TIMESTAMPTZ NOT NULL
    )
    """,
]

# Changes after version 1, for warehouse files created before them.
MIGRATIONS = [
    "ALTER TABLE store.source_file ALTER COLUMN source_sha256 DROP NOT NULL",  # version 3
    "ALTER TABLE store.form ADD COLUMN IF NOT EXISTS rejected BOOLEAN DEFAULT false",
    "ALTER TABLE store.form ADD COLUMN IF NOT EXISTS total_page INTEGER",
    "ALTER TABLE store.form ADD COLUMN IF NOT EXISTS total_bbox DOUBLE[]",
    "ALTER TABLE store.fund_line ADD COLUMN IF NOT EXISTS page INTEGER",
    "ALTER TABLE store.fund_line ADD COLUMN IF NOT EXISTS bbox DOUBLE[]",
    "ALTER TABLE store.indicator ADD COLUMN IF NOT EXISTS bbox DOUBLE[]",
]

# A form is landed when its checks let it through or a reviewer released it.
LANDED = "(f.status IN ('clean', 'warning') OR f.released)"


@dataclass(frozen=True)
class View:
    """One analyst view: its query, and where its export finds each row's fiscal year.

    ``year``: 'own' (the view has a fiscal_year column), 'form' (its form's, by form_id),
    'file' (the earliest year among the file's forms, by source_file), or None (not about a year:
    exported unpartitioned).
    """

    query: str
    year: str | None


# The analyst views (SCHEMA.md, then our additions): DDL, Parquet export and the SQL prompt all
# read this one mapping.
VIEWS: dict[str, View] = {
    "forms": View(
        f"""
        SELECT f.form_id, f.source_file, f.source_sha256, f.form_ordinal, f.form_type, f.fiscal_year,
               f.name, f.department, f.implementing_unit, f.money_unit, f.budget_initial,
               f.budget_full_year, f.budget_executed, f.execution_rate, f.budget_weight,
               f.budget_score, f.total_weight, f.total_score, f.project_funds_total,
               f.planned_start, f.planned_end, f.goal_planned, f.goal_actual,
               -- a released form keeps its failed checks: it lands as 'warning'
               CASE WHEN f.status = 'quarantined' THEN 'warning' ELSE f.status END AS status,
               f.goal_overall, f.first_page, f.last_page, f.released
        FROM store.form AS f
        WHERE {LANDED}
        """,
        year="own",
    ),
    "fund_lines": View(
        f"""
        SELECT l.form_id, l.line, l.budget_initial, l.budget_full_year, l.budget_executed, l.weight,
               l.execution_rate, l.score, l.line_ordinal
        FROM store.fund_line AS l
        JOIN store.form AS f USING (form_id)
        WHERE {LANDED}
        """,
        year="form",
    ),
    "indicators": View(
        f"""
        SELECT i.form_id, i.row_ordinal, i.level1, i.level2, i.level3, i.target_text, i.target_op,
               i.target_value, i.target_unit, i.actual_text, i.actual_value, i.actual_unit, i.weight,
               i.score, i.deviation_reason, i.page, i.hierarchy_inferred
        FROM store.indicator AS i
        JOIN store.form AS f USING (form_id)
        WHERE {LANDED}
        """,
        year="form",
    ),
    "check_results": View(
        """
        SELECT form_id, check_name, severity, row_ordinal, observed, expected, detail
        FROM store.check_result
        """,
        year="form",
    ),
    "quarantine": View(
        """
        SELECT f.form_id, f.source_file, f.form_ordinal, f.name, f.fiscal_year,
               coalesce((SELECT list(DISTINCT c.check_name ORDER BY c.check_name)
                         FROM store.check_result AS c
                         WHERE c.form_id = f.form_id AND c.severity = 'error'),
                        []::VARCHAR[]) AS reasons,
               f.quarantined_at,
               coalesce(f.rejected, false) AS rejected
        FROM store.form AS f
        WHERE f.status = 'quarantined' AND NOT f.released
        """,
        year="own",
    ),
    "reviews": View(
        """
        SELECT form_id, action, note, reviewed_by, reviewed_at
        FROM store.review
        """,
        year="form",
    ),
    "source_files": View(
        """
        SELECT source_file, source_sha256, bytes, pulled_at, run_id, extractor, pages, forms_found,
               status, error
        FROM store.source_file
        """,
        year="file",
    ),
    "ingest_runs": View(
        """
        SELECT run_id, flow, started_at, finished_at, files_seen, files_new, files_skipped,
               files_failed, forms_landed, forms_quarantined, status
        FROM store.ingest_run
        """,
        year=None,
    ),
}


def view_statements() -> list[str]:
    """The CREATE OR REPLACE VIEW statement of every analyst view."""
    return [f"CREATE OR REPLACE VIEW {name} AS {view.query}" for name, view in VIEWS.items()]
