"""The Parquet export read back by DuckDB, with the warehouse's row counts."""

import shutil
from pathlib import Path

import duckdb
import pytest

from flows.ingest import ingest
from flows.options import RunOptions
from warehouse import Warehouse
from warehouse.export import export_parquet

ROOT = Path(__file__).parents[2]
UNPARTITIONED = {"ingest_runs"}


def catalogue_views(db: Path) -> set[str]:
    """The views the warehouse file really holds, from DuckDB's catalogue."""
    with Warehouse.open(db, read_only=True) as warehouse:
        return {
            name
            for (name,) in warehouse.connection.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'"
            ).fetchall()
        }


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory, prefect_harness) -> Path:
    folder = tmp_path_factory.mktemp("export")
    inbox = folder / "inbox"
    inbox.mkdir()
    for name in (
        "self_eval_arithmetic_faults.pdf",
        "self_eval_three_forms.pdf",
        "budget_summary_no_forms.pdf",
        "project_target_declaration_2026.pdf",
    ):
        shutil.copyfile(ROOT / "samples" / "pdf" / name, inbox / name)
    for seed in sorted((ROOT / "tests" / "data" / "seeds").glob("*.txt")):
        shutil.copyfile(seed, inbox / seed.name)
    db = folder / "w.duckdb"
    ingest(paths=[str(inbox)], options=RunOptions(db=str(db)))
    return db


def counts(db: Path) -> dict[str, int]:
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        return {
            view: con.execute(f"SELECT count(*) FROM {view}").fetchone()[0]
            for view in catalogue_views(db)
        }


def test_every_view_reads_back_with_the_warehouse_row_counts(warehouse_file, tmp_path):
    exported = export_parquet(warehouse_file, tmp_path / "pq")

    expected = counts(warehouse_file)
    assert {item.view: item.rows for item in exported} == expected  # every view, none missing
    assert {"forms", "reviews", "ingest_runs", "projects", "target_vs_actual"} <= set(expected)
    assert expected["forms"] and expected["quarantine"] and expected["check_results"]
    assert expected["quarantine_indicators"] and expected["projects"]
    con = duckdb.connect()
    for view in expected:
        files = f"{tmp_path / 'pq' / view}/**/*.parquet"
        (rows,) = con.execute(
            f"SELECT count(*) FROM read_parquet('{files}', hive_partitioning = true)"
        ).fetchone()
        assert rows == expected[view], view
        partitions = {p.name for p in (tmp_path / "pq" / view).iterdir() if p.is_dir()}
        if view in UNPARTITIONED or not rows:  # an empty view is one file
            assert partitions == set()
        else:
            assert partitions and all(p.startswith("fiscal_year=") for p in partitions), view
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        by_year = warehouse.connection.execute(
            "SELECT fiscal_year, count(*) FROM forms GROUP BY ALL ORDER BY ALL"
        ).fetchall()
    assert (
        con.execute(
            f"SELECT fiscal_year, count(*) FROM read_parquet('{tmp_path}/pq/forms/**/*.parquet', "
            "hive_partitioning = true) GROUP BY ALL ORDER BY ALL"
        ).fetchall()
        == by_year
    )
    indicators = con.execute(
        f"SELECT * FROM read_parquet('{tmp_path}/pq/indicators/**/*.parquet', "
        "hive_partitioning = true) LIMIT 1"
    ).description
    assert {column[0] for column in indicators} >= {"form_id", "level3", "score", "fiscal_year"}


def test_an_export_replaces_the_last_one_whole(warehouse_file, tmp_path):
    export_parquet(warehouse_file, tmp_path / "pq")
    (tmp_path / "pq" / "forms" / "stale.parquet").write_bytes(b"old")

    export_parquet(warehouse_file, tmp_path / "pq")

    assert not (tmp_path / "pq" / "forms" / "stale.parquet").exists()
    assert not [p for p in (tmp_path / "pq").iterdir() if p.name.startswith(".")]


def test_an_empty_view_keeps_its_schema(tmp_path):
    db = tmp_path / "empty.duckdb"
    Warehouse.open(db).close()
    exported = export_parquet(db, tmp_path / "pq")
    assert {item.rows for item in exported} == {0}
    columns = (
        duckdb.connect()
        .execute(f"DESCRIBE SELECT * FROM read_parquet('{tmp_path}/pq/forms/*.parquet')")
        .fetchall()
    )
    assert "budget_full_year" in {row[0] for row in columns}


def test_a_missing_warehouse_says_what_to_do(tmp_path):
    with pytest.raises(FileNotFoundError, match="jixiao ingest"):
        export_parquet(tmp_path / "nowhere.duckdb", tmp_path / "pq")
    assert not (tmp_path / "pq").exists()  # a failed export creates nothing


def test_the_command_line_lists_every_command_and_exports(warehouse_file, tmp_path):
    from tests.flows.app.test_cli import jixiao

    listing = jixiao("--help", cwd=tmp_path)
    for command in ("ingest", "backfill", "serve", "export", "sql"):
        assert f"\n    {command} " in listing.stdout, command

    result = jixiao("export", "--db", str(warehouse_file), "--parquet", "pq", cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    assert f"forms: {counts(warehouse_file)['forms']} rows → pq/forms" in result.stdout
    missing = jixiao("export", "--db", "none.duckdb", "--parquet", "pq", cwd=tmp_path)
    assert missing.returncode == 2 and "run `jixiao ingest` first" in missing.stderr
