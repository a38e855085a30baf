"""Export the analyst views as Parquet for engines beyond DuckDB (Spark, Trino, Polars, pandas).

Every analyst view (``warehouse.ddl.VIEW_NAMES``) goes to ``DIR/<view>/``, hive-partitioned by
``fiscal_year`` (``DIR/forms/fiscal_year=2023/data_0.parquet``; forms without a year under
``fiscal_year=__HIVE_DEFAULT_PARTITION__``, read back as NULL). Views without a fiscal_year
column get their form's (fund_lines, indicators, check_results, reviews: by form_id), or the
earliest year among their file's forms (source_files). ingest_runs is about runs, not years: one
unpartitioned file. A view with no rows is written as one empty file, so its schema is still
there. Each view is written beside its old export and swapped in by renaming, so a reader never sees half of one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.ddl import VIEW_NAMES
from warehouse.store import Warehouse

# every form with its year, landed or held back (check_results covers both)
_FORM_YEARS = """
    SELECT form_id, fiscal_year FROM forms
    UNION ALL
    SELECT form_id, fiscal_year FROM quarantine
"""
_FILE_YEARS = """
    SELECT source_file, min(fiscal_year) AS fiscal_year FROM (
        SELECT source_file, fiscal_year FROM forms
        UNION ALL SELECT source_file, fiscal_year FROM quarantine
    ) GROUP BY source_file
"""


def view_query(connection: duckdb.DuckDBPyConnection, view: str) -> str | None:
    """The query exporting ``view`` with its fiscal_year: its own column, else its form's (by
    form_id), else the earliest among its file's forms (by source_file); None when the view
    is about neither forms nor files (ingest_runs): it is written unpartitioned."""
    columns = {row[0] for row in connection.execute(f"DESCRIBE {view}").fetchall()}
    if "fiscal_year" in columns:
        return f"SELECT * FROM {view}"
    if "form_id" in columns:
        return (
            f"SELECT v.*, y.fiscal_year FROM {view} v LEFT JOIN ({_FORM_YEARS}) y USING (form_id)"
        )
    if "source_file" in columns:
        return f"SELECT v.*, y.fiscal_year FROM {view} v LEFT JOIN ({_FILE_YEARS}) y USING (source_file)"
    return None


@dataclass(frozen=True)
class Exported:
    """One view's export: its folder and row count."""

    view: str
    folder: Path
    rows: int


def export_parquet(db: str | Path, target: str | Path) -> list[Exported]:
    """Write every analyst view of the warehouse ``db`` under ``target``; read-only on ``db``.

    Nothing is created when ``db`` cannot be opened; a view that cannot be written (a full
    disk) leaves its earlier export as it was and nothing of its own.
    """
    target = Path(target)
    exported = []
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        created = not target.exists()
        target.mkdir(parents=True, exist_ok=True)
        try:
            for view in VIEW_NAMES:
                exported.append(_export_view(con, view, target))
        except BaseException:
            if created and not exported:
                shutil.rmtree(target, ignore_errors=True)
            raise
    return exported


def _export_view(con: duckdb.DuckDBPyConnection, view: str, target: Path) -> Exported:
    """Write ``view`` beside its old export under ``target``, then swap it in."""
    query = view_query(con, view)
    partitioned = query is not None
    query = query or f"SELECT * FROM {view}"
    (rows,) = con.execute(f"SELECT count(*) FROM ({query})").fetchone()
    folder = target / view
    staging = target / f".{view}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir()
        if rows and partitioned:
            con.execute(
                f"COPY ({query}) TO '{_quoted(staging)}' "
                "(FORMAT parquet, PARTITION_BY (fiscal_year), OVERWRITE)"
            )
        else:
            con.execute(
                f"COPY ({query}) TO '{_quoted(staging / 'data_0.parquet')}' (FORMAT parquet)"
            )
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    old = target / f".{view}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return Exported(view, folder, rows)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
