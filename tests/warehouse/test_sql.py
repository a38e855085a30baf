"""``jixiao sql``: formats, read-only, the interactive prompt fed through a pipe."""

import csv
import io
import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest

from flows.ingest import ingest
from flows.options import RunOptions
from warehouse import Warehouse
from warehouse.sql import QueryError, format_rows, interactive, main, run_query

SEEDS = sorted((Path(__file__).parents[1] / "data" / "seeds").glob("*.txt"))


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory, prefect_harness) -> Path:
    folder = tmp_path_factory.mktemp("sql")
    for seed in SEEDS:
        shutil.copyfile(seed, folder / seed.name)
    db = folder / "w.duckdb"
    ingest(paths=[str(folder)], options=RunOptions(db=str(db)))
    return db


def test_formats():
    columns, rows = ["name", "budget"], [("职业培训", 1.5), ("x,y", None)]
    table = format_rows(columns, rows)
    assert table.splitlines()[0].startswith("name") and table.endswith("(2 rows)\n")
    assert format_rows(columns, rows, "csv") == 'name,budget\n职业培训,1.5\n"x,y",\n'
    assert [json.loads(line) for line in format_rows(columns, rows, "json").splitlines()] == [
        {"name": "职业培训", "budget": 1.5},
        {"name": "x,y", "budget": None},
    ]


def test_a_query_against_the_views(warehouse_file):
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        text = run_query(warehouse, "SELECT count(*) AS n FROM forms", "csv")
        (landed,) = warehouse.connection.execute("SELECT count(*) FROM forms").fetchone()
    assert text == f"n\n{landed}\n" and landed > 0


def test_the_warehouse_cannot_be_changed(warehouse_file):
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        with pytest.raises(QueryError, match="read-only"):
            run_query(warehouse, "CREATE TABLE mine AS SELECT 1")
        with pytest.raises(QueryError, match="The views are"):
            run_query(warehouse, "SELECT * FROM nosuchview")


def test_max_rows_says_how_to_see_more(warehouse_file):
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        text = run_query(warehouse, "SELECT * FROM range(10)", max_rows=3)
    assert "(3 rows)" in text and "raise --max-rows" in text


def test_interactive_statements_span_lines_and_dot_commands(warehouse_file):
    stdin = io.StringIO(
        ".tables\nSELECT count(*)\n  AS n FROM forms;\n.format csv\nSELECT 1 AS one;\n"
        "SELECT * FROM nope;\n.schema forms\n.quit\nSELECT 2;\n"
    )
    stdout = io.StringIO()
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        interactive(warehouse, "table", stdin, stdout)
    out = stdout.getvalue()
    assert "ingest_runs" in out and f"({len(catalogue_views(warehouse_file))} rows)" in out
    assert "one\n1\n" in out
    assert "error: " in out and "nope" in out
    assert "budget_full_year" in out
    assert "2\n" not in out.split("budget_full_year")[-1]  # nothing after .quit


def catalogue_views(db: Path) -> list[str]:
    """The views the warehouse file really holds, from DuckDB's catalogue."""
    with Warehouse.open(db, read_only=True) as warehouse:
        return [
            name
            for (name,) in warehouse.connection.execute(
                "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'"
            ).fetchall()
        ]


def test_the_prompt_lists_every_view_of_the_warehouse(warehouse_file):
    stdout = io.StringIO()
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        interactive(warehouse, "table", io.StringIO(".tables\n.help\n"), stdout)
    tables, help_text = stdout.getvalue().split("Statements end with")
    listed = {line.split()[0] for line in tables.splitlines()[2:-1]}
    named = set(help_text.split("Views: ")[1].split(".")[0].split(", "))
    views = set(catalogue_views(warehouse_file))
    assert "reviews" in views
    assert listed == views and named == views


def test_main_exit_codes(warehouse_file, capsys):
    assert main(str(warehouse_file), "SELECT 42 AS answer", "table", None) == 0
    assert "42" in capsys.readouterr().out
    assert main(str(warehouse_file), "SELEC 1", "table", None) == 2
    assert "jixiao: Parser Error" in capsys.readouterr().err


def test_csv_for_excel_starts_with_a_bom_and_writes_lists_and_structs_as_json(
    warehouse_file, capsys
):
    query = (
        "SELECT f.name, list(i.level3 ORDER BY i.row_ordinal) AS level3, "
        "{'weight': 5, 'unit': '分'} AS extra, NULL AS nothing "
        "FROM forms f JOIN indicators i USING (form_id) GROUP BY f.form_id, f.name "
        "ORDER BY f.form_id LIMIT 1"
    )
    assert main(str(warehouse_file), query, "csv", None) == 0
    out = capsys.readouterr().out
    assert out.startswith("\ufeffname,level3,extra,nothing\n") and out.count("\ufeff") == 1
    (header, (name, level3, extra, nothing)) = csv.reader(io.StringIO(out[1:]))
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        expected = warehouse.connection.execute(query).fetchone()
    assert (name, json.loads(level3)) == expected[:2] and len(expected[1]) > 1
    assert json.loads(extra) == {"weight": 5, "unit": "分"}
    assert nothing == ""
    assert main(str(warehouse_file), "SELECT 1 AS one", "table", None) == 0
    assert "\ufeff" not in capsys.readouterr().out


def test_each_statement_prints_its_result(warehouse_file, capsys):
    assert main(str(warehouse_file), "select 1 AS one; select 2 AS two", "table", None) == 0
    assert capsys.readouterr().out == "one\n---\n  1\n(1 row)\n\ntwo\n---\n  2\n(1 row)\n"
    # a failing statement stops the rest; what ran before it is printed
    assert (
        main(str(warehouse_file), "SELECT 1 AS one; SELECT * FROM nope; SELECT 3", "csv", None) == 2
    )
    captured = capsys.readouterr()
    assert captured.out == "\ufeffone\n1\n" and "nope" in captured.err


def test_a_table_right_aligns_numbers_and_shows_null():
    table = format_rows(
        ["name", "budget", "score"],
        [("职业培训", Decimal("1234.50"), None), ("x", Decimal("7.00"), 3)],
    )
    assert table.splitlines() == [
        "name       budget  score",
        "--------  -------  -----",
        "职业培训  1234.50   NULL",
        "x            7.00      3",
        "(2 rows)",
    ]
    assert format_rows(["a", "b"], [(None, 1)], "csv") == "a,b\n,1\n"  # NULL: empty in CSV


def test_an_unknown_dot_command_says_so(warehouse_file):
    stdout = io.StringIO()
    with Warehouse.open(warehouse_file, read_only=True) as warehouse:
        interactive(warehouse, "table", io.StringIO(".tabels\n.schema\n"), stdout)
    first, second = stdout.getvalue().splitlines()
    assert first.startswith("error: .tabels is not a command; .help lists them")
    assert second.startswith("error: .schema needs a view, e.g. .schema forms")
