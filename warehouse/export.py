"""Export the analyst views as Parquet for engines beyond DuckDB (Spark, Trino, Polars, pandas).

Every analyst view (``warehouse.ddl.VIEWS``) goes to ``DIR/<view>/``, hive-partitioned by
``fiscal_year`` (``DIR/forms/fiscal_year=2023/data_0.parquet``; forms without a year under
``fiscal_year=__HIVE_DEFAULT_PARTITION__``, read back as NULL). Views without a fiscal_year
column get their form's (fund_lines, indicators, check_results, reviews and the quarantined
forms' fund lines and indicators: by form_id) or, for source_files, the earliest year among the
file's forms. ingest_runs is about runs, not years: one unpartitioned file. A view with no rows
is written as one empty file, so its schema is still there. Each view is written beside its old
export and swapped in by renaming, so a reader never sees half of one.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

import duckdb

from warehouse.ddl import VIEWS, View
from warehouse.store import Warehouse

# every form with its year, landed or held back (check_results covers both)
_FORM_YEARS = """
    SELECT form_id, fiscal_year FROM forms
    UNION ALL
    SELECT form_id, fiscal_year FROM quarantine
"""
# each file's earliest year among its forms
_FILE_YEARS = """
    SELECT source_file, min(fiscal_year) AS fiscal_year FROM (
        SELECT source_file, fiscal_year FROM forms
        UNION ALL SELECT source_file, fiscal_year FROM quarantine
    ) GROUP BY source_file
"""
_YEAR_JOINS = {"form": (_FORM_YEARS, "form_id"), "file": (_FILE_YEARS, "source_file")}


def export_query(name: str, view: View) -> str:
    """The rows of ``view`` as exported: with the fiscal_year its partitions are named by."""
    if view.year in _YEAR_JOINS:
        years, key = _YEAR_JOINS[view.year]
        return f"SELECT v.*, y.fiscal_year FROM {name} v LEFT JOIN ({years}) y USING ({key})"
    return f"SELECT * FROM {name}"


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
        created = not target.exists()
        target.mkdir(parents=True, exist_ok=True)
        try:
            for name, view in VIEWS.items():
                exported.append(_export_view(warehouse.connection, name, view, target))
        except BaseException:
            if created and not exported:
                shutil.rmtree(target, ignore_errors=True)
            raise
    return exported


def _export_view(con: duckdb.DuckDBPyConnection, name: str, view: View, target: Path) -> Exported:
    """Write one view beside its old export under ``target``, then swap it in."""
    query = export_query(name, view)
    (rows,) = con.execute(f"SELECT count(*) FROM ({query})").fetchone()
    folder = target / name
    staging = target / f".{name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    try:
        staging.mkdir()
        if rows and view.year is not None:
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
    old = target / f".{name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if folder.exists():
        folder.rename(old)
    staging.rename(folder)
    shutil.rmtree(old, ignore_errors=True)
    return Exported(name, folder, rows)


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")
