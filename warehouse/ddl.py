"""DDL: internal tables in schema ``store`` and the SCHEMA.md views in ``main``.

Every form read is kept in ``store.form`` whatever its checks said (``status`` clean / warning /
quarantined, plus a ``released`` flag a reviewer sets). The analyst views show only landed forms
(clean, warning, or released) and the ``quarantine`` views for the rest; ``store.review`` logs
every release and rejection (who, when, why). Forms are linked across files by a content
fingerprint (``forms.duplicate_of``) and across years by a normalised project name (``projects``,
``target_vs_actual``); the normalisations are the ``*_key`` functions below. Cell boxes (``bbox``: x0, top, x1, bottom in points, origin
top-left) locate indicator rows, fund lines and the total row on their page for review. All
statements are idempotent and run on every open; ``MIGRATIONS`` bring older files up to date.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from schemas.families import FAMILIES, Family

SCHEMA_VERSION = 5

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
        error VARCHAR,
        reader_version VARCHAR  -- the reader code that read it; NULL: read before it was kept
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
        year_source VARCHAR,
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
        run_id VARCHAR,
        fingerprint VARCHAR,
        extra_fields JSON
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
        bbox DOUBLE[],
        extra JSON,
        level1_weight DOUBLE
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
    "ALTER TABLE store.form ADD COLUMN IF NOT EXISTS year_source VARCHAR",  # version 4
    "ALTER TABLE store.form ADD COLUMN IF NOT EXISTS fingerprint VARCHAR",
    "ALTER TABLE store.indicator ADD COLUMN IF NOT EXISTS extra JSON",
    "ALTER TABLE store.source_file ADD COLUMN IF NOT EXISTS reader_version VARCHAR",
    "ALTER TABLE store.indicator ADD COLUMN IF NOT EXISTS level1_weight DOUBLE",
    "ALTER TABLE store.form ADD COLUMN IF NOT EXISTS extra_fields JSON",  # version 5
]

# A form is landed when its checks let it through or a reviewer released it; held back otherwise.
LANDED = "(f.status IN ('clean', 'warning') OR f.released)"
HELD = "(f.status = 'quarantined' AND NOT f.released)"

# --- normalised text: how values are compared across files, formats and years ----------------

YEAR = r"(19|20)\d{2}"
# Endings a department adds to or drops from a project's name between years; a run of them is
# one ending (专项资金 = 专项 + 资金).
PROJECT_NAME_SUFFIXES = ("专项", "经费", "资金", "项目", "补助资金", "补助经费")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def text_key(expr: str) -> str:
    """SQL: ``expr`` as compared across files: lower case, whitespace dropped (a line wrapped in a
    PDF cell reads the same as the text export). The readers have already made full-width digits,
    letters and operators ASCII."""
    return f"regexp_replace(lower({expr}), '[\\s\\p{{Z}}]+', '', 'g')"


def label_key(expr: str) -> str:
    """SQL: :func:`text_key` without punctuation, for names and 三级 labels (（市级） = (市级) =
    市级)."""
    return f"regexp_replace({text_key(expr)}, '\\p{{P}}+', '', 'g')"


# A code printed before a department's or a project's name: '266_', '219-', '[101001]',
# '51000021R000000019951-' (letters and digits, then a separator, or in brackets).
CODE_PREFIX = r"^\s*([\[【(（]\s*[0-9A-Za-z]{2,}\s*[\]】)）]|[0-9A-Za-z]*[0-9][0-9A-Za-z]*\s*[-_—–－:：、])\s*"


def without_code(expr: str) -> str:
    """SQL: ``expr`` without a code printed before the name (see CODE_PREFIX)."""
    return f"regexp_replace({expr}, '{CODE_PREFIX}', '')"


def department_key(expr: str) -> str:
    """SQL: a department as compared across files: its :func:`label_key` without a leading code
    and without the 本级 / 部门 a budget system appends ('266_烟台市交通运输局', '烟台市交通运输局本级',
    '福州市民政局（本级）' and '烟台市交通运输局部门' = '烟台市交通运输局')."""
    key = label_key(without_code(expr))
    return f"coalesce(nullif(regexp_replace({key}, '(本级|部门)+$', ''), ''), {key})"


def project_name_key(expr: str) -> str:
    """SQL: a project name without what changes between years and files: a leading code, years
    (2023年, 2023年度, 2021-2023年, a leading 2023), brackets and other punctuation, whitespace,
    and the run of PROJECT_NAME_SUFFIXES it ends with (专项资金, 专项经费, 资金, 项目 …); a name
    that is nothing but such endings keeps them."""
    label = label_key(without_code(expr))
    years = f"regexp_replace({label}, '({YEAR}(至|到)?)?{YEAR}年度?', '', 'g')"
    key = f"regexp_replace({years}, '^{YEAR}(\\D)', '\\2')"
    suffixes = "|".join(PROJECT_NAME_SUFFIXES)
    return f"coalesce(nullif(regexp_replace({key}, '({suffixes})+$', ''), ''), {key})"


def _by_family(expr: str, value_of: Callable[[Family], str]) -> str:
    """SQL: the value ``value_of`` gives the family whose form_type is ``expr``."""
    cases = " ".join(f"WHEN {_literal(f.form_type)} THEN {_literal(value_of(f))}" for f in FAMILIES)
    return f"CASE {expr} {cases} END"


def _role(expr: str) -> str:
    """SQL: 'evaluated' for a self-evaluation's form_type, 'monitored' for a monitoring form's,
    else 'declared'."""
    return _by_family(
        expr,
        lambda f: "evaluated" if f.self_evaluation else "monitored" if f.monitoring else "declared",
    )


def _scope(expr: str) -> str:
    """SQL: 'department' for a department-wide family's form_type, else 'project'."""
    return _by_family(expr, lambda f: "department" if f.department_wide else "project")


def _part(expr: str) -> str:
    return f"coalesce(CAST({expr} AS VARCHAR), '')"


def _joined(*exprs: str) -> str:
    return " || chr(31) || ".join(_part(expr) for expr in exprs)


# What a form's fingerprint is made of: its family, year, department, name and amounts; each fund
# line with an amount; each indicator row. Names and 三级 labels compared as label_key, targets and
# actuals as text_key; weights, scores and amounts are numbers, compared exactly.
_FORM_CONTENT = _joined(
    "f.form_type",
    "f.fiscal_year",
    label_key("f.department"),
    label_key("f.name"),
    "f.budget_initial",
    "f.budget_full_year",
    "f.budget_executed",
    "f.project_funds_total",
)
_FUND_LINE_CONTENT = _joined(
    label_key("line"), "budget_initial", "budget_full_year", "budget_executed"
)
_INDICATOR_CONTENT = _joined(
    label_key("level3"), text_key("target_text"), text_key("actual_text"), "weight", "score"
)
_UNFINGERPRINTED = "form_id IN (SELECT form_id FROM store.form WHERE fingerprint IS NULL)"

# Fill in the content fingerprint of every form that has none (the forms a load just wrote; every
# form of a file from before version 4), so that the same form read from another file or format
# has the same one. Fund lines and indicators are taken in sorted order: their order on the page
# does not matter.
FILL_FINGERPRINTS = f"""
    UPDATE store.form AS f SET fingerprint = sha256(content.text)
    FROM (
        SELECT f.form_id,
               {_FORM_CONTENT}
               || chr(30) || coalesce(l.lines, '') || chr(30) || coalesce(i.rows, '') AS text
        FROM store.form AS f
        LEFT JOIN (
            SELECT form_id, string_agg(line, chr(29) ORDER BY line) AS lines
            FROM (
                SELECT form_id, {_FUND_LINE_CONTENT} AS line
                FROM store.fund_line
                WHERE coalesce(budget_initial, budget_full_year, budget_executed) IS NOT NULL
                  AND {_UNFINGERPRINTED}
            )
            GROUP BY form_id
        ) AS l USING (form_id)
        LEFT JOIN (
            SELECT form_id, string_agg(indicator, chr(29) ORDER BY indicator) AS rows
            FROM (
                SELECT form_id, {_INDICATOR_CONTENT} AS indicator
                FROM store.indicator
                WHERE {_UNFINGERPRINTED}
            )
            GROUP BY form_id
        ) AS i USING (form_id)
        WHERE f.fingerprint IS NULL
    ) AS content
    WHERE f.form_id = content.form_id
"""

# --- the analyst views --------------------------------------------------------------------------

_FUND_LINE_COLUMNS = """
    l.form_id, l.line, l.budget_initial, l.budget_full_year, l.budget_executed, l.weight,
    l.execution_rate, l.score, l.line_ordinal
"""
_INDICATOR_COLUMNS = """
    i.form_id, i.row_ordinal, i.level1, i.level2, i.level3, i.target_text, i.target_op,
    i.target_value, i.target_unit, i.actual_text, i.actual_value, i.actual_unit, i.weight,
    i.score, i.deviation_reason, i.page, i.hierarchy_inferred, i.extra, i.level1_weight
"""


@dataclass(frozen=True)
class View:
    """One analyst view: its query, and where its export finds each row's fiscal year.

    ``year``: 'own' (the view has a fiscal_year column), 'form' (its form's, by form_id),
    'file' (the earliest year among the file's forms, by source_file), or None (not about a year:
    exported unpartitioned).
    """

    query: str
    year: str | None


def _facts(columns: str, table: str, alias: str, forms: str) -> View:
    """The rows of ``store.<table>`` whose form is in ``forms`` (LANDED or HELD)."""
    return View(
        f"""
        SELECT {columns}
        FROM store.{table} AS {alias}
        JOIN store.form AS f USING (form_id)
        WHERE {forms}
        """,
        year="form",
    )


# The analyst views (SCHEMA.md, then our additions): DDL, Parquet export and the SQL prompt all
# read this one mapping.
VIEWS: dict[str, View] = {
    "forms": View(
        f"""
        SELECT f.form_id, f.source_file, f.source_sha256, f.form_ordinal, f.form_type,
               f.fiscal_year, f.name, f.department, f.implementing_unit, f.money_unit,
               f.budget_initial, f.budget_full_year, f.budget_executed, f.execution_rate,
               f.budget_weight, f.budget_score, f.total_weight, f.total_score,
               f.project_funds_total, f.planned_start, f.planned_end, f.goal_planned,
               f.goal_actual,
               -- a released form keeps its failed checks: it lands as 'warning'
               CASE WHEN f.status = 'quarantined' THEN 'warning' ELSE f.status END AS status,
               f.goal_overall, f.first_page, f.last_page, f.released, f.year_source,
               -- the first landed form with the same content: loaded first, then by file and place
               CASE WHEN f.fingerprint IS NOT NULL AND first_value(f.form_id) OVER same <> f.form_id
                    THEN first_value(f.form_id) OVER same END AS duplicate_of,
               f.extra_fields
        FROM store.form AS f
        WHERE {LANDED}
        WINDOW same AS (
            PARTITION BY f.fingerprint ORDER BY f.loaded_at, f.source_file, f.form_ordinal
        )
        """,
        year="own",
    ),
    "fund_lines": _facts(_FUND_LINE_COLUMNS, "fund_line", "l", LANDED),
    "indicators": _facts(_INDICATOR_COLUMNS, "indicator", "i", LANDED),
    "check_results": View(
        """
        SELECT form_id, check_name, severity, row_ordinal, observed, expected, detail
        FROM store.check_result
        """,
        year="form",
    ),
    "quarantine": View(
        f"""
        SELECT f.form_id, f.source_file, f.form_ordinal, f.name, f.fiscal_year,
               coalesce((SELECT list(DISTINCT c.check_name ORDER BY c.check_name)
                         FROM store.check_result AS c
                         WHERE c.form_id = f.form_id AND c.severity = 'error'),
                        []::VARCHAR[]) AS reasons,
               f.quarantined_at,
               coalesce(f.rejected, false) AS rejected,
               f.year_source
        FROM store.form AS f
        WHERE {HELD}
        """,
        year="own",
    ),
    "quarantine_fund_lines": _facts(_FUND_LINE_COLUMNS, "fund_line", "l", HELD),
    "quarantine_indicators": _facts(_INDICATOR_COLUMNS, "indicator", "i", HELD),
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
               status, error, reader_version
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
    # One row per landed form counted once (duplicate_of IS NULL) that has a name; name is the
    # project's as printed on its latest form (latest year; in a year, the self-evaluation).
    "projects": View(
        f"""
        WITH keyed AS (
            SELECT f.form_id, f.department, f.name, f.fiscal_year, f.form_type, s.loaded_at,
                   coalesce({department_key("f.department")}, '') || '/' || {project_name_key("f.name")}
                       AS project_id
            FROM forms AS f
            JOIN store.form AS s USING (form_id)
            WHERE f.duplicate_of IS NULL AND f.name IS NOT NULL
        )
        SELECT project_id, department,
               first_value(name) OVER (
                   PARTITION BY project_id
                   ORDER BY fiscal_year DESC NULLS LAST, {_role("form_type")} = 'evaluated' DESC,
                            loaded_at DESC
               ) AS name,
               fiscal_year, form_type, form_id
        FROM keyed
        """,
        year="own",
    ),
    # A project's target declaration for a year beside its self-evaluation of the same year (the
    # families of schemas/families.py: a self-evaluation or not, department-wide or one project),
    # the latest loaded of each; indicators matched by normalised 三级 text, the n-th occurrence
    # with the n-th.
    "target_vs_actual": View(
        f"""
        WITH roles AS (
            SELECT p.project_id, p.fiscal_year, p.form_id, s.loaded_at,
                   {_role("p.form_type")} AS role, {_scope("p.form_type")} AS scope
            FROM projects AS p
            JOIN store.form AS s USING (form_id)
            WHERE p.fiscal_year IS NOT NULL
        ), latest AS (
            SELECT *, row_number() OVER (
                          PARTITION BY project_id, fiscal_year, scope, role
                          ORDER BY loaded_at DESC, form_id
                      ) AS recency
            FROM roles
            WHERE role IS NOT NULL
        ), pairs AS (
            SELECT d.project_id, d.fiscal_year, d.scope, d.form_id AS declaration_form_id,
                   e.form_id AS self_evaluation_form_id
            FROM latest AS d
            JOIN latest AS e USING (project_id, fiscal_year, scope)
            WHERE d.role = 'declared' AND d.recency = 1 AND e.role = 'evaluated' AND e.recency = 1
        ), declared AS (
            SELECT p.*, i.*, row_number() OVER (
                                 PARTITION BY i.form_id, i.level3_key ORDER BY i.row_ordinal
                             ) AS occurrence
            FROM pairs AS p
            JOIN (SELECT *, {label_key("level3")} AS level3_key FROM indicators) AS i
              ON i.form_id = p.declaration_form_id
        ), evaluated AS (
            SELECT p.*, i.*, row_number() OVER (
                                 PARTITION BY i.form_id, i.level3_key ORDER BY i.row_ordinal
                             ) AS occurrence
            FROM pairs AS p
            JOIN (SELECT *, {label_key("level3")} AS level3_key FROM indicators) AS i
              ON i.form_id = p.self_evaluation_form_id
        )
        SELECT coalesce(d.project_id, e.project_id) AS project_id,
               coalesce(d.fiscal_year, e.fiscal_year) AS fiscal_year,
               coalesce(d.level1, e.level1) AS level1,
               coalesce(d.level2, e.level2) AS level2,
               coalesce(d.level3, e.level3) AS level3,
               d.target_text AS declared_target_text,
               e.target_text AS evaluated_target_text,
               e.actual_text, e.weight, e.score,
               CASE WHEN e.form_id IS NULL THEN 'dropped'
                    WHEN d.form_id IS NULL THEN 'added'
                    WHEN d.target_value IS NOT NULL AND e.target_value IS NOT NULL
                         AND coalesce(d.target_op, '=') = coalesce(e.target_op, '=')
                         AND d.target_value = e.target_value
                         AND d.target_unit IS NOT DISTINCT FROM e.target_unit THEN 'kept'
                    WHEN {text_key("d.target_text")} IS NOT DISTINCT FROM {text_key("e.target_text")}
                         THEN 'kept'
                    ELSE 'changed' END AS status,
               coalesce(d.declaration_form_id, e.declaration_form_id) AS declaration_form_id,
               coalesce(d.self_evaluation_form_id, e.self_evaluation_form_id)
                   AS self_evaluation_form_id,
               d.row_ordinal AS declared_row_ordinal,
               e.row_ordinal AS evaluated_row_ordinal
        FROM declared AS d
        FULL JOIN evaluated AS e
          ON d.project_id = e.project_id AND d.fiscal_year = e.fiscal_year AND d.scope = e.scope
         AND d.level3_key = e.level3_key AND d.occurrence = e.occurrence
        """,
        year="own",
    ),
}


def view_statements() -> list[str]:
    """The CREATE OR REPLACE VIEW statement of every analyst view."""
    return [f"CREATE OR REPLACE VIEW {name} AS {view.query}" for name, view in VIEWS.items()]
