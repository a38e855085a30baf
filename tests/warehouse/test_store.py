"""The warehouse: SCHEMA.md views, idempotent loads, replacement, duplicates, rollback, quarantine."""

import os
import signal
import subprocess
import sys
import threading
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from schemas.records import CheckResult, Extraction, Form, FundLine, Indicator, form_id_for
from warehouse import (
    FileLoad,
    RunCounts,
    SourceFile,
    Unpulled,
    Warehouse,
    WarehouseBusy,
    db_path,
    interrupted_query,
)
from warehouse.ddl import SCHEMA_VERSION

MONEY = "DECIMAL(18,2)"

FUND_LINE_COLUMNS = [
    ("form_id", "VARCHAR"),
    ("line", "VARCHAR"),
    ("budget_initial", MONEY),
    ("budget_full_year", MONEY),
    ("budget_executed", MONEY),
    ("weight", "DOUBLE"),
    ("execution_rate", "DOUBLE"),
    ("score", "DOUBLE"),
    # additions
    ("line_ordinal", "INTEGER"),
]
INDICATOR_COLUMNS = [
    ("form_id", "VARCHAR"),
    ("row_ordinal", "INTEGER"),
    ("level1", "VARCHAR"),
    ("level2", "VARCHAR"),
    ("level3", "VARCHAR"),
    ("target_text", "VARCHAR"),
    ("target_op", "VARCHAR"),
    ("target_value", "DOUBLE"),
    ("target_unit", "VARCHAR"),
    ("actual_text", "VARCHAR"),
    ("actual_value", "DOUBLE"),
    ("actual_unit", "VARCHAR"),
    ("weight", "DOUBLE"),
    ("score", "DOUBLE"),
    ("deviation_reason", "VARCHAR"),
    ("page", "INTEGER"),
    # additions
    ("hierarchy_inferred", "BOOLEAN"),
    ("extra", "JSON"),
    ("level1_weight", "DOUBLE"),
]
# Written out from the schema contract (SCHEMA.md) (contract columns first, in order), then our additions.
EXPECTED_VIEWS = {
    "forms": [
        ("form_id", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("source_sha256", "VARCHAR"),
        ("form_ordinal", "INTEGER"),
        ("form_type", "VARCHAR"),
        ("fiscal_year", "INTEGER"),
        ("name", "VARCHAR"),
        ("department", "VARCHAR"),
        ("implementing_unit", "VARCHAR"),
        ("money_unit", "VARCHAR"),
        ("budget_initial", MONEY),
        ("budget_full_year", MONEY),
        ("budget_executed", MONEY),
        ("execution_rate", "DOUBLE"),
        ("budget_weight", "DOUBLE"),
        ("budget_score", "DOUBLE"),
        ("total_weight", "DOUBLE"),
        ("total_score", "DOUBLE"),
        ("project_funds_total", MONEY),
        ("planned_start", "DATE"),
        ("planned_end", "DATE"),
        ("goal_planned", "VARCHAR"),
        ("goal_actual", "VARCHAR"),
        ("status", "VARCHAR"),
        # additions
        ("goal_overall", "VARCHAR"),
        ("first_page", "INTEGER"),
        ("last_page", "INTEGER"),
        ("released", "BOOLEAN"),
        ("year_source", "VARCHAR"),
        ("duplicate_of", "VARCHAR"),
        ("extra_fields", "JSON"),
    ],
    "fund_lines": FUND_LINE_COLUMNS,
    "indicators": INDICATOR_COLUMNS,
    "quarantine_fund_lines": FUND_LINE_COLUMNS,
    "quarantine_indicators": INDICATOR_COLUMNS,
    "check_results": [
        ("form_id", "VARCHAR"),
        ("check_name", "VARCHAR"),
        ("severity", "VARCHAR"),
        ("row_ordinal", "INTEGER"),
        ("observed", "VARCHAR"),
        ("expected", "VARCHAR"),
        ("detail", "VARCHAR"),
    ],
    "quarantine": [
        ("form_id", "VARCHAR"),
        ("source_file", "VARCHAR"),
        ("form_ordinal", "INTEGER"),
        ("name", "VARCHAR"),
        ("fiscal_year", "INTEGER"),
        ("reasons", "VARCHAR[]"),
        ("quarantined_at", "TIMESTAMP WITH TIME ZONE"),
        # additions
        ("rejected", "BOOLEAN"),
        ("year_source", "VARCHAR"),
    ],
    "source_files": [
        ("source_file", "VARCHAR"),
        ("source_sha256", "VARCHAR"),
        ("bytes", "BIGINT"),
        ("pulled_at", "TIMESTAMP WITH TIME ZONE"),
        ("run_id", "VARCHAR"),
        ("extractor", "VARCHAR"),
        ("pages", "INTEGER"),
        ("forms_found", "INTEGER"),
        ("status", "VARCHAR"),
        ("error", "VARCHAR"),
        ("reader_version", "VARCHAR"),
    ],
    "ingest_runs": [
        ("run_id", "VARCHAR"),
        ("flow", "VARCHAR"),
        ("started_at", "TIMESTAMP WITH TIME ZONE"),
        ("finished_at", "TIMESTAMP WITH TIME ZONE"),
        ("files_seen", "INTEGER"),
        ("files_new", "INTEGER"),
        ("files_skipped", "INTEGER"),
        ("files_failed", "INTEGER"),
        ("forms_landed", "INTEGER"),
        ("forms_quarantined", "INTEGER"),
        ("status", "VARCHAR"),
    ],
    "projects": [
        ("project_id", "VARCHAR"),
        ("department", "VARCHAR"),
        ("name", "VARCHAR"),
        ("fiscal_year", "INTEGER"),
        ("form_type", "VARCHAR"),
        ("form_id", "VARCHAR"),
    ],
    "target_vs_actual": [
        ("project_id", "VARCHAR"),
        ("fiscal_year", "INTEGER"),
        ("level1", "VARCHAR"),
        ("level2", "VARCHAR"),
        ("level3", "VARCHAR"),
        ("declared_target_text", "VARCHAR"),
        ("evaluated_target_text", "VARCHAR"),
        ("actual_text", "VARCHAR"),
        ("weight", "DOUBLE"),
        ("score", "DOUBLE"),
        ("status", "VARCHAR"),
        # additions
        ("declaration_form_id", "VARCHAR"),
        ("self_evaluation_form_id", "VARCHAR"),
        ("declared_row_ordinal", "INTEGER"),
        ("evaluated_row_ordinal", "INTEGER"),
    ],
}
DATA_VIEWS = [view for view in EXPECTED_VIEWS if view != "ingest_runs"]


@pytest.fixture
def warehouse(tmp_path):
    with Warehouse.open(tmp_path / "nested" / "w.duckdb") as opened:
        yield opened


def make_file(folder: Path, name: str, content: str) -> SourceFile:
    path = folder / name
    path.write_text(content, encoding="utf-8")
    return SourceFile.from_path(path)


def make_form(sha256: str, ordinal: int, name: str = "职业培训基础能力建设资助") -> Form:
    return Form(
        form_type="project_self_evaluation",
        form_ordinal=ordinal,
        form_id=form_id_for(sha256, ordinal),
        fiscal_year=2020,
        name=name,
        department="上海市人力资源和社会保障局",
        implementing_unit="上海市就业促进中心",
        money_unit="万元",
        budget_initial=Decimal("119979860.00"),
        budget_full_year=Decimal("18562710.00"),
        budget_executed=Decimal("13303150.10"),
        execution_rate=0.7167,
        budget_weight=10,
        budget_score=7.2,
        total_weight=100,
        total_score=93.2,
        planned_start=date(2020, 1, 1),
        planned_end=date(2020, 12, 31),
        goal_planned="推进师资进修",
        goal_actual="完成年度计划",
        notes=["hierarchy inferred from vocabulary"],
        fund_lines=[
            FundLine(
                "年度资金总额",
                None,
                Decimal("18562710.00"),
                Decimal("13303150.10"),
                10,
                0.7167,
                7.2,
            ),
            FundLine("当年财政拨款"),
        ],
        indicators=[
            Indicator(
                1,
                "产出指标",
                "数量指标",
                "享受见习补贴人数",
                ">5000人",
                ">",
                5000,
                "人",
                "9210",
                9210,
                "人",
                5,
                5,
            ),
            Indicator(
                2,
                "满意度指标",
                "服务对象满意度指标",
                "实训机构满意度",
                ">90%",
                ">",
                90,
                "%",
                "90",
                90,
                "%",
                7,
                7,
                page=3,
            ),
        ],
    )


def extraction_of(source: SourceFile, *names: str) -> Extraction:
    forms = [make_form(source.sha256, i, name) for i, name in enumerate(names, start=1)]
    return Extraction(forms=forms, pages=None, extractor="text", n_tables=len(forms))


def snapshot(warehouse: Warehouse, views=DATA_VIEWS) -> dict[str, list[tuple]]:
    con = warehouse.connection
    return {view: con.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall() for view in views}


def rows(warehouse: Warehouse, sql: str, params=()) -> list[tuple]:
    return warehouse.connection.execute(sql, list(params)).fetchall()


def test_open_creates_every_view_with_exactly_its_columns(warehouse):
    for view, expected in EXPECTED_VIEWS.items():
        columns = rows(
            warehouse,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'main' AND table_name = ? ORDER BY ordinal_position",
            [view],
        )
        assert columns == expected, view
    assert {
        name
        for (name,) in rows(warehouse, "SELECT view_name FROM duckdb_views() WHERE NOT internal")
    } >= set(EXPECTED_VIEWS)


def test_reopening_is_idempotent_and_keeps_one_schema_version(tmp_path):
    path = tmp_path / "w.duckdb"
    for _ in range(2):
        with Warehouse.open(path) as opened:
            assert opened.schema_version() == SCHEMA_VERSION
    with Warehouse.open(path) as opened:
        assert rows(opened, "SELECT count(*) FROM store.schema_version") == [(1,)]


def test_a_version_2_file_takes_files_that_could_not_be_pulled(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:  # source_file as version 2 created it
        con.execute("CREATE SCHEMA store")
        con.execute(
            "CREATE TABLE store.source_file (source_file VARCHAR PRIMARY KEY, "
            "source_sha256 VARCHAR NOT NULL, bytes BIGINT, pulled_at TIMESTAMPTZ NOT NULL, "
            "run_id VARCHAR, extractor VARCHAR, pages INTEGER, "
            "forms_found INTEGER NOT NULL DEFAULT 0, status VARCHAR NOT NULL, error VARCHAR)"
        )
        con.execute(
            "INSERT INTO store.source_file VALUES "
            "('a.txt', 'ab', 1, now(), 'r', 'text', 1, 0, 'no_forms', 'nothing')"
        )

    with Warehouse.open(path) as opened:
        (result,) = opened.load_files([Unpulled("http://h/b.pdf", "HTTP 404")], "run-1")
        assert opened.schema_version() == SCHEMA_VERSION
        assert rows(
            opened, "SELECT source_file, status, source_sha256 FROM source_files ORDER BY 1"
        ) == [
            ("a.txt", "no_forms", "ab"),
            ("http://h/b.pdf", "failed", None),
        ]
    assert (result.status, result.message) == ("failed", "HTTP 404")


def test_loading_the_same_file_twice_changes_no_row(warehouse, tmp_path):
    source = make_file(tmp_path, "a.txt", "form a")
    first = warehouse.load_file(source, extraction_of(source, "甲", "乙"), [], "run-1")
    assert (first.status, first.forms_landed) == ("loaded", 2)
    before = snapshot(warehouse)
    assert warehouse.check_file(source).state == "unchanged"

    again = warehouse.load_file(source, extraction_of(source, "甲", "乙"), [], "run-2")
    assert again.status == "skipped"
    assert snapshot(warehouse) == before
    assert rows(warehouse, "SELECT run_id, status, forms_found FROM source_files") == [
        ("run-1", "loaded", 2)
    ]
    assert rows(warehouse, "SELECT count(*) FROM fund_lines") == [(4,)]
    assert rows(warehouse, "SELECT count(*) FROM indicators") == [(4,)]


def test_values_round_trip(warehouse, tmp_path):
    source = make_file(tmp_path, "a.txt", "form a")
    warehouse.load_file(source, extraction_of(source, "甲"), [], "run-1")
    form_id, budget, rate, start, status = rows(
        warehouse,
        "SELECT form_id, budget_executed, execution_rate, planned_start, status FROM forms",
    )[0]
    assert form_id == f"{source.sha256[:16]}-1"
    assert (budget, rate, start, status) == (
        Decimal("13303150.10"),
        0.7167,
        date(2020, 1, 1),
        "clean",
    )
    assert rows(
        warehouse, "SELECT level3, target_op, page FROM indicators ORDER BY row_ordinal"
    ) == [
        ("享受见习补贴人数", ">", None),
        ("实训机构满意度", ">", 3),
    ]


def test_changed_file_replaces_its_forms(warehouse, tmp_path):
    old = make_file(tmp_path, "a.txt", "version 1")
    warehouse.load_file(
        old,
        extraction_of(old, "甲", "乙"),
        [CheckResult(form_id_for(old.sha256, 2), "levels_known", "warning", 1)],
        "run-1",
    )
    new = make_file(tmp_path, "a.txt", "version 2, longer")
    assert warehouse.check_file(new).state == "changed"

    result = warehouse.load_file(new, extraction_of(new, "丙"), [], "run-2")

    assert result.status == "loaded"
    assert rows(warehouse, "SELECT form_id, name FROM forms") == [
        (form_id_for(new.sha256, 1), "丙")
    ]
    for view in ("fund_lines", "indicators", "check_results"):
        assert rows(warehouse, f"SELECT DISTINCT form_id FROM {view}") in (
            [],
            [(form_id_for(new.sha256, 1),)],
        )
    assert rows(warehouse, "SELECT count(*) FROM check_results") == [(0,)]
    assert rows(warehouse, "SELECT source_sha256, bytes, run_id FROM source_files") == [
        (new.sha256, new.size_bytes, "run-2")
    ]


def test_same_content_under_another_path_is_a_skipped_duplicate(warehouse, tmp_path):
    original = make_file(tmp_path, "a.txt", "same bytes")
    (tmp_path / "copy").mkdir()
    copy = make_file(tmp_path / "copy", "a.txt", "same bytes")
    warehouse.load_file(original, extraction_of(original, "甲"), [], "run-1")
    assert warehouse.check_file(copy).state == "duplicate"

    result = warehouse.load_file(copy, None, [], "run-1")

    assert result.status == "skipped_duplicate"
    status, forms_found, error = rows(
        warehouse,
        "SELECT status, forms_found, error FROM source_files WHERE source_file = ?",
        [copy.source_file],
    )[0]
    assert (status, forms_found) == ("skipped_duplicate", 0)
    assert original.source_file in error
    assert rows(warehouse, "SELECT source_file FROM forms") == [(original.source_file,)]
    assert warehouse.check_file(copy).state == "unchanged"


def test_a_failing_load_rolls_back_everything(warehouse, tmp_path):
    old = make_file(tmp_path, "a.txt", "version 1")
    warehouse.load_file(old, extraction_of(old, "甲"), [], "run-1")
    before = snapshot(warehouse)
    new = make_file(tmp_path, "a.txt", "version 2")
    extraction = extraction_of(new, "乙", "丙")
    extraction.forms[1].fund_lines[0].budget_executed = Decimal("1e20")  # beyond DECIMAL(18,2)

    with pytest.raises(duckdb.Error):
        warehouse.load_file(new, extraction, [], "run-2")

    assert snapshot(warehouse) == before
    assert rows(warehouse, "SELECT count(*) FROM store.form") == [(1,)]
    assert warehouse.check_file(new).state == "changed"


def test_a_batch_loads_every_file_with_duplicates_seen_within_it(warehouse, tmp_path):
    first = make_file(tmp_path, "a.txt", "first")
    (tmp_path / "copy").mkdir()
    copy = make_file(tmp_path / "copy", "a.txt", "first")
    empty = make_file(tmp_path, "b.txt", "no forms here")

    results = warehouse.load_files(
        [
            FileLoad(first, extraction_of(first, "甲", "乙")),
            FileLoad(copy, None),
            FileLoad(empty, Extraction(pages=1, extractor="text")),
        ],
        "run-1",
    )

    assert [(r.source_file, r.status, r.forms_landed) for r in results] == [
        (
            first.source_file,
            "loaded",
            2,
        ),
        (copy.source_file, "skipped_duplicate", 0),
        (empty.source_file, "no_forms", 0),
    ]
    assert rows(warehouse, "SELECT name FROM forms ORDER BY form_ordinal") == [("甲",), ("乙",)]
    assert rows(warehouse, "SELECT count(*) FROM indicators") == [(4,)]
    again = warehouse.load_files([FileLoad(first, extraction_of(first, "甲", "乙"))], "run-2")
    assert [r.status for r in again] == ["skipped"]


def test_a_batch_with_one_unstorable_file_writes_none_of_them(warehouse, tmp_path):
    good = make_file(tmp_path, "a.txt", "good")
    bad = make_file(tmp_path, "b.txt", "bad")
    broken = extraction_of(bad, "乙")
    broken.forms[0].budget_initial = Decimal("1e20")  # beyond DECIMAL(18,2)
    before = snapshot(warehouse)

    with pytest.raises(duckdb.Error):
        warehouse.load_files(
            [FileLoad(good, extraction_of(good, "甲")), FileLoad(bad, broken)], "run-1"
        )

    assert snapshot(warehouse) == before
    assert warehouse.check_file(good).state == "new"


def test_quarantined_form_is_in_quarantine_not_in_forms(warehouse, tmp_path):
    source = make_file(tmp_path, "a.txt", "two forms")
    bad = form_id_for(source.sha256, 2)
    results = [
        CheckResult(bad, "score_le_weight", "error", 2, "8", "<= 7", "得分 exceeds 分值"),
        CheckResult(bad, "total_weight_100", "error", None, "95", "100"),
        CheckResult(form_id_for(source.sha256, 1), "levels_known", "warning", 1),
    ]

    result = warehouse.load_file(source, extraction_of(source, "甲", "乙"), results, "run-1")

    assert (result.status, result.forms_landed, result.forms_quarantined, result.warnings) == (
        "partial",
        1,
        1,
        1,
    )
    assert rows(warehouse, "SELECT name, status FROM forms") == [("甲", "warning")]
    assert rows(warehouse, "SELECT form_id, name, fiscal_year, reasons FROM quarantine") == [
        (bad, "乙", 2020, ["score_le_weight", "total_weight_100"])
    ]
    assert rows(warehouse, "SELECT quarantined_at IS NOT NULL FROM quarantine") == [(True,)]
    assert rows(warehouse, "SELECT count(*) FROM indicators WHERE form_id = ?", [bad]) == [(0,)]
    assert rows(warehouse, "SELECT count(*) FROM fund_lines WHERE form_id = ?", [bad]) == [(0,)]
    assert rows(warehouse, "SELECT count(*) FROM check_results") == [(3,)]
    assert rows(warehouse, "SELECT status, forms_found FROM source_files") == [("partial", 2)]
    assert "1 of 2 forms quarantined" in rows(warehouse, "SELECT error FROM source_files")[0][0]


def test_unreadable_and_formless_files(warehouse, tmp_path):
    broken = make_file(tmp_path, "broken.txt", "x")
    notice = make_file(tmp_path, "notice.txt", "y")
    warehouse.load_file(
        broken, Extraction(error="broken.pdf is encrypted; ask for an open copy"), [], "r"
    )
    warehouse.load_file(notice, Extraction(pages=31, extractor="pdfplumber", n_tables=12), [], "r")

    assert rows(
        warehouse, "SELECT status, error, forms_found FROM source_files ORDER BY source_file"
    ) == [
        ("failed", "broken.pdf is encrypted; ask for an open copy", 0),
        ("no_forms", "31 pages, 12 tables, no performance form", 0),
    ]
    assert rows(
        warehouse, "SELECT pages, extractor FROM source_files WHERE status = 'no_forms'"
    ) == [(31, "pdfplumber")]


def test_runs_are_recorded_and_cut_off_runs_marked_crashed(warehouse):
    warehouse.start_run("run-1", "ingest")
    assert rows(warehouse, "SELECT status, finished_at FROM ingest_runs") == [("running", None)]
    warehouse.start_run("run-2", "nightly")
    warehouse.finish_run("run-2", "completed", RunCounts(5, 3, 1, 1, 7, 2))

    assert rows(
        warehouse,
        "SELECT run_id, flow, status, files_seen, files_new, files_skipped, files_failed, forms_landed, forms_quarantined FROM ingest_runs ORDER BY run_id",
    ) == [
        ("run-1", "ingest", "crashed", 0, 0, 0, 0, 0, 0),
        ("run-2", "nightly", "completed", 5, 3, 1, 1, 7, 2),
    ]
    assert rows(
        warehouse, "SELECT finished_at >= started_at FROM ingest_runs WHERE run_id = 'run-2'"
    ) == [(True,)]


def test_default_path_and_env_override(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("JIXIAO_DB", raising=False)
    assert db_path() == tmp_path / "data" / "jixiao.duckdb"
    monkeypatch.setenv("JIXIAO_DB", str(tmp_path / "elsewhere.duckdb"))
    assert db_path() == tmp_path / "elsewhere.duckdb"
    assert db_path(tmp_path / "given.duckdb") == tmp_path / "given.duckdb"


def test_a_file_held_by_another_process_is_reported_as_busy(tmp_path):
    path = tmp_path / "w.duckdb"
    Warehouse.open(path).close()
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(path)!r}); print('ready', flush=True); time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(WarehouseBusy, match="in use by another program"):
            Warehouse.open(path)
    finally:
        holder.kill()
        holder.wait()


def test_a_copy_of_an_unreadable_file_fails_with_its_message(warehouse, tmp_path):
    broken = make_file(tmp_path, "a.pdf", "")
    (tmp_path / "copy").mkdir()
    copy = make_file(tmp_path / "copy", "a.xlsx", "")
    warehouse.load_file(broken, Extraction(error="a.pdf is empty (0 bytes)"), [], "run-1")

    result = warehouse.load_file(copy, None, [], "run-1")

    assert result.status == "failed"
    assert (
        result.message
        == f"same content as {broken.source_file}, which could not be read: a.pdf is empty (0 bytes)"
    )
    assert warehouse.check_file(copy).state == "unchanged"


def test_review_releases_or_rejects_a_quarantined_form_only(warehouse, tmp_path):
    source = make_file(tmp_path, "a.txt", "two forms")
    bad = form_id_for(source.sha256, 2)
    results = [CheckResult(bad, "total_weight_100", "error", None, "95", "100")]
    warehouse.load_file(source, extraction_of(source, "甲", "乙"), results, "run-1")

    with pytest.raises(LookupError, match="not quarantined"):
        warehouse.review(form_id_for(source.sha256, 1), "released", "why", "me")
    with pytest.raises(ValueError, match="needs a note"):
        warehouse.review(bad, "released", "  ", "me")
    warehouse.review(bad, "released", "publisher confirmed", "you")

    assert rows(warehouse, "SELECT name, status, released FROM forms ORDER BY name") == [
        ("乙", "warning", True),
        ("甲", "clean", False),
    ]
    assert rows(warehouse, "SELECT count(*) FROM quarantine") == [(0,)]
    # a form is decided once: a second decision is refused, quoting the first
    with pytest.raises(
        ValueError, match='already released by you on .* UTC: "publisher confirmed"'
    ):
        warehouse.review(bad, "rejected", "not a real form", "me")
    assert rows(warehouse, "SELECT action, note, reviewed_by FROM reviews") == [
        ("released", "publisher confirmed", "you")
    ]


def test_ctrl_c_during_a_query_leaves_the_published_file_as_it_was(tmp_path):
    """DuckDB turns a Ctrl-C met mid-query into RuntimeError('Query interrupted'): the writer
    still abandons its work instead of publishing it."""
    path = tmp_path / "w.duckdb"
    Warehouse.open(path).close()
    published = path.read_bytes()

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    timer = threading.Timer(0.5, os.kill, (os.getpid(), signal.SIGINT))
    try:
        with pytest.raises(RuntimeError) as raised, Warehouse.open(path) as warehouse:
            warehouse.connection.execute("CREATE TABLE store.scratch (n BIGINT)")
            timer.start()
            warehouse.connection.execute(
                "INSERT INTO store.scratch SELECT count(*) FROM range(1000000000000)"
            )
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, previous)
    assert interrupted_query(raised.value)
    assert not interrupted_query(RuntimeError("something else"))
    assert path.read_bytes() == published


def test_ctrl_c_while_duckdb_reads_arrow_data_is_an_interruption(tmp_path):
    """Met while DuckDB scans an Arrow stream (how a chunk's rows are staged), the
    KeyboardInterrupt comes back quoted in DuckDB's own error."""
    schema = pa.schema([("n", pa.int64())])

    def batches():
        yield pa.record_batch([pa.array([1])], schema=schema)
        raise KeyboardInterrupt

    path = tmp_path / "w.duckdb"
    Warehouse.open(path).close()
    published = path.read_bytes()
    with pytest.raises(duckdb.Error) as raised, Warehouse.open(path) as warehouse:
        cursor = warehouse.connection.cursor()
        cursor.register("staged_rows", pa.RecordBatchReader.from_batches(schema, batches()))
        cursor.execute("CREATE TABLE store.scratch AS FROM staged_rows")
    assert interrupted_query(raised.value)
    assert not interrupted_query(duckdb.InvalidInputException("no such column"))
    assert path.read_bytes() == published
