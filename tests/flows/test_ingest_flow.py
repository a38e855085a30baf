"""The ingest flow end to end on the seeds, a corrupt PDF and an empty PDF."""

import random
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from prefect import flow

from extractors import SUPPORTED_SUFFIXES
from flows.extraction.extract import check_forms, extract_path
from flows.ingest import ingest
from flows.options import RunOptions
from flows.pipeline import Pipeline
from flows.progress import Reporter
from flows.sources import discover_files
from flows.summary import RunSummary
from warehouse import FileLoad, SourceFile, Warehouse

SEEDS = sorted((Path(__file__).parents[1] / "data" / "seeds").glob("*.txt"))
DATA_VIEWS = ["forms", "fund_lines", "indicators", "check_results", "quarantine", "source_files"]

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture
def inbox(tmp_path) -> Path:
    """Seeds, a copy of one seed in a subfolder, a corrupt and an empty PDF, a hidden file."""
    folder = tmp_path / "inbox"
    (folder / "copies").mkdir(parents=True)
    for seed in SEEDS:
        shutil.copyfile(seed, folder / seed.name)
    shutil.copyfile(SEEDS[0], folder / "copies" / SEEDS[0].name)
    (folder / "corrupt.pdf").write_bytes(random.Random(7).randbytes(4096))
    (folder / "empty.pdf").write_bytes(b"")
    shutil.copyfile(SEEDS[0], folder / ".hidden.txt")
    return folder


def query(db: Path, sql: str) -> list[tuple]:
    with Warehouse.open(db) as warehouse:
        return warehouse.connection.execute(sql).fetchall()


def snapshot(db: Path) -> dict[str, list[tuple]]:
    with Warehouse.open(db) as warehouse:
        con = warehouse.connection
        return {
            view: con.execute(f"SELECT * FROM {view} ORDER BY ALL").fetchall()
            for view in DATA_VIEWS
        }


def test_discovery_skips_hidden_and_warehouse_files(inbox):
    (inbox / "data.duckdb").write_bytes(b"")
    (inbox / ".git").mkdir()
    (inbox / ".git" / "x.txt").write_text("x")
    (inbox / "notes.md").write_bytes(b"x")
    assert ".md" not in SUPPORTED_SUFFIXES
    found = discover_files([inbox, inbox / "data.duckdb", inbox / "notes.md"])
    assert [path.relative_to(inbox.resolve()).as_posix() for path in found.files] == [
        SEEDS[0].name,
        SEEDS[1].name,
        f"copies/{SEEDS[0].name}",
        "corrupt.pdf",
        "empty.pdf",
    ]
    assert found.ignored == [inbox / "notes.md"]
    with pytest.raises(FileNotFoundError, match="no such file or folder"):
        discover_files([inbox / "missing"])


def test_ingest_then_rerun_changes_nothing(inbox, tmp_path):
    db = tmp_path / "out" / "w.duckdb"
    copy = str((inbox / "copies" / SEEDS[0].name).resolve())

    first = ingest(paths=[str(inbox)], options=RunOptions(db=str(db)))

    assert (first.files_seen, first.files_new, first.files_skipped, first.files_failed) == (
        5,
        4,
        1,
        2,
    )
    statuses = {
        Path(path).relative_to(inbox.resolve()).as_posix(): (status, error)
        for path, status, error in query(db, "SELECT source_file, status, error FROM source_files")
    }
    assert set(statuses) == {
        SEEDS[0].name,
        SEEDS[1].name,
        f"copies/{SEEDS[0].name}",
        "corrupt.pdf",
        "empty.pdf",
    }
    for seed in SEEDS:
        assert statuses[seed.name][0] in ("loaded", "partial")
    duplicate_status, duplicate_error = statuses[f"copies/{SEEDS[0].name}"]
    assert duplicate_status == "skipped_duplicate"
    assert str((inbox / SEEDS[0].name).resolve()) in duplicate_error
    assert statuses["corrupt.pdf"][0] == "failed" and statuses["corrupt.pdf"][1]
    assert statuses["empty.pdf"][0] == "failed" and "empty" in statuses["empty.pdf"][1]
    assert {outcome.status for outcome in first.files if outcome.path == copy} == {
        "skipped_duplicate"
    }

    (landed,) = query(db, "SELECT count(*) FROM forms")[0]
    (held,) = query(db, "SELECT count(*) FROM quarantine")[0]
    (found,) = query(db, "SELECT sum(forms_found) FROM source_files")[0]
    assert landed > 0 and landed + held == found
    assert (first.forms_landed, first.forms_quarantined) == (landed, held)
    assert query(
        db,
        "SELECT count(*) FROM forms f JOIN source_files s USING (source_file) WHERE f.form_id NOT LIKE substr(s.source_sha256, 1, 16) || '-%'",
    ) == [(0,)]
    assert query(db, "SELECT count(*) FROM indicators") != [(0,)]
    assert query(
        db,
        "SELECT run_id, flow, files_seen, files_new, files_skipped, files_failed, forms_landed, forms_quarantined, status, finished_at IS NOT NULL FROM ingest_runs",
    ) == [(first.run_id, "ingest", 5, 4, 1, 2, landed, held, "completed", True)]
    before = snapshot(db)

    second = ingest(paths=[str(inbox)], flow_label="nightly", options=RunOptions(db=str(db)))

    assert (second.files_seen, second.files_new, second.files_skipped, second.files_failed) == (
        5,
        0,
        5,
        0,
    )
    assert (second.forms_landed, second.forms_quarantined) == (0, 0)
    assert snapshot(db) == before
    assert query(
        db, "SELECT flow, files_new, files_skipped, status FROM ingest_runs ORDER BY started_at"
    ) == [
        ("ingest", 4, 1, "completed"),
        ("nightly", 0, 5, "completed"),
    ]


def test_a_file_the_warehouse_cannot_store_fails_alone_and_its_chunk_lands(tmp_path):
    """A chunk's files are loaded in one transaction; when that fails, each in its own."""
    loads = []
    for seed in SEEDS:
        source = SourceFile.from_path(seed)
        extraction = extract_path(str(seed), source.sha256)
        results = [r for rs in check_forms(extraction.forms).results.values() for r in rs]
        loads.append(FileLoad(source, extraction, results))
    unstorable = loads[0].extraction.forms[1]
    unstorable.budget_executed = Decimal("1e20")  # a reader's misread beyond DECIMAL(18,2)
    db = tmp_path / "w.duckdb"

    @flow
    def load_one_chunk() -> dict:
        with Warehouse.open(db) as warehouse:
            summary = RunSummary(run_id="run-1")
            return Pipeline(warehouse, summary, Reporter(len(loads), False))._load(loads)

    outcomes = load_one_chunk()

    bad, good = (outcomes[load.source.source_file] for load in loads)
    assert bad.status == "failed"
    assert bad.message.startswith("could not be stored (") and "nothing was written" in bad.message
    assert good.status in ("loaded", "partial") and good.forms_landed > 0
    stored = query(db, "SELECT source_file FROM source_files")
    assert stored == [(loads[1].source.source_file,)]
    assert query(db, "SELECT count(*) FROM store.form") == [(len(loads[1].extraction.forms),)]


def test_a_cached_reading_names_the_file_at_hand(tmp_path):
    """The same bytes ingested from two folders, one after the other in separate warehouses: the
    second's messages name it, not the first (its reading is not the first one's, cached for the
    same bytes): an empty file under another name, a file without forms under the same name."""
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    (first / "empty.pdf").write_bytes(b"")
    (second / "budget2023.xlsx").write_bytes(b"")
    for folder in (first, second):
        (folder / "minutes.txt").write_text(
            "会议纪要：本次会议讨论了年度工作安排。\n", encoding="utf-8"
        )
    ingest(paths=[str(first)], options=RunOptions(db=str(tmp_path / "a.duckdb")))

    ingest(paths=[str(second)], options=RunOptions(db=str(tmp_path / "b.duckdb")))

    errors = dict(query(tmp_path / "b.duckdb", "SELECT source_file, error FROM source_files"))
    empty = errors[str(second / "budget2023.xlsx")]
    assert empty.startswith("budget2023.xlsx is empty (0 bytes)") and "empty.pdf" not in empty
    no_forms = errors[str(second / "minutes.txt")]
    assert f"jixiao debug {second / 'minutes.txt'}" in no_forms and str(first) not in no_forms
