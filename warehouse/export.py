"""Export the analyst views as Parquet for engines beyond DuckDB (Spark, Trino, Polars, pandas).

Every SCHEMA.md view goes to ``DIR/<view>/``, hive-partitioned by ``fiscal_year``
(``DIR/forms/fiscal_year=2023/data_0.parquet``; forms without a year under
``fiscal_year=__HIVE_DEFAULT_PARTITION__``, read back as NULL). Views without a fiscal_year
column get their form's: fund_lines, indicators, check_results and the quarantined forms' fund
lines and indicators by form_id, source_files the earliest year among the file's forms.
ingest_runs is about runs, not years: one unpartitioned file. A view with no rows is written as one empty file, so its schema is still there. Each view
is written beside its old export and swapped in by renaming, so a reader never sees half of one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from warehouse.store import Warehouse

# every form with its year, landed or held back (check_results covers both)
_FORM_YEARS = """
    SELECT form_id, fiscal_year FROM forms
    UNION ALL
    SELECT form_id, fiscal_year FROM quarantine
"""

QUERIES: dict[str, str] = {
    "forms": "SELECT * FROM forms",
    "fund_lines": f"SELECT v.*, y.fiscal_year FROM fund_lines v LEFT JOIN ({_FORM_YEARS}) y USING (form_id)",
    "indicators": f"SELECT v.*, y.fiscal_year FROM indicators v LEFT JOIN ({_FORM_YEARS}) y USING (form_id)",
    "check_results": (
        f"SELECT v.*, y.fiscal_year FROM check_results v LEFT JOIN ({_FORM_YEARS}) y USING (form_id)"
    ),
    "quarantine": "SELECT * FROM quarantine",
    "quarantine_fund_lines": (
        f"SELECT v.*, y.fiscal_year FROM quarantine_fund_lines v LEFT JOIN ({_FORM_YEARS}) y "
        "USING (form_id)"
    ),
    "quarantine_indicators": (
        f"SELECT v.*, y.fiscal_year FROM quarantine_indicators v LEFT JOIN ({_FORM_YEARS}) y "
        "USING (form_id)"
    ),
    "source_files": """
        SELECT v.*, y.fiscal_year FROM source_files v LEFT JOIN (
            SELECT source_file, min(fiscal_year) AS fiscal_year FROM (
                SELECT source_file, fiscal_year FROM forms
                UNION ALL SELECT source_file, fiscal_year FROM quarantine
            ) GROUP BY source_file
        ) y USING (source_file)
    """,
    "ingest_runs": "SELECT * FROM ingest_runs",
    "projects": "SELECT * FROM projects",
    "target_vs_actual": "SELECT * FROM target_vs_actual",
}
UNPARTITIONED = frozenset({"ingest_runs"})


@dataclass(frozen=True)
class Exported:
    """One view's export: its folder and row count."""

    view: str
    folder: Path
    rows: int


def export_parquet(db: str | Path, target: str | Path) -> list[Exported]:
    """Write every analyst view of the warehouse ``db`` under ``target``; read-only on ``db``."""
    target = Path(target)
    target.mkdir(parents=True, exist_ok=True)
    exported = []
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        for view, query in QUERIES.items():
            (rows,) = con.execute(f"SELECT count(*) FROM ({query})").fetchone()
            folder = target / view
            staging = target / f".{view}.partial"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            if rows and view not in UNPARTITIONED:
                con.execute(
                    f"COPY ({query}) TO '{_quoted(staging)}' "
                    "(FORMAT parquet, PARTITION_BY (fiscal_year), OVERWRITE)"
                )
            else:
                con.execute(
                    f"COPY ({query}) TO '{_quoted(staging / 'data_0.parquet')}' (FORMAT parquet)"
                )
            old = target / f".{view}.old"
            shutil.rmtree(old, ignore_errors=True)
            if folder.exists():
                folder.rename(old)
            staging.rename(folder)
            shutil.rmtree(old, ignore_errors=True)
            exported.append(Exported(view, folder, rows))
    return exported


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
