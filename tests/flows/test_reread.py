"""Re-reading after an upgrade: source_files keeps the reader version of each file; without
--reread a run says how many unchanged files an older reader read, with it they are read again,
their forms replaced in one transaction and review decisions kept where the content is the same."""

import shutil
from pathlib import Path

import pytest

from flows.extraction.extract import READER_VERSION
from flows.ingest import ingest
from flows.options import RunOptions
from flows.summary import summary_line
from warehouse import Warehouse
from warehouse.ddl import FILL_FINGERPRINTS

PROJECT = Path(__file__).parents[2]
FAULTS = PROJECT / "samples" / "pdf" / "self_eval_arithmetic_faults.pdf"
SEED = sorted((PROJECT / "tests" / "data" / "seeds").glob("*.txt"))[0]

pytestmark = pytest.mark.usefixtures("prefect_harness")


def run(inbox: Path, db: Path, reread: bool = False):
    return ingest(paths=[str(inbox)], options=RunOptions(db=str(db), reread=reread))


def rows(db: Path, sql: str, parameters: list | None = None) -> list[tuple]:
    with Warehouse.open(db, read_only=True) as warehouse:
        return warehouse.connection.execute(sql, parameters or []).fetchall()


def test_an_older_readers_files_are_counted_then_read_again_keeping_unchanged_decisions(
    tmp_path,
):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(FAULTS, inbox / FAULTS.name)
    shutil.copyfile(SEED, inbox / SEED.name)
    db = tmp_path / "w.duckdb"
    run(inbox, db)
    assert rows(db, "SELECT DISTINCT reader_version FROM source_files") == [(READER_VERSION,)]
    kept, changed = [form_id for (form_id,) in rows(db, "SELECT form_id FROM quarantine")][:2]
    with Warehouse.open(db) as warehouse:
        for form_id in (kept, changed):
            warehouse.review(form_id, "released", "totals checked by hand", "auditor")
        con = warehouse.connection
        # as an older reader left it: no version recorded, and one form read differently
        con.execute("UPDATE store.source_file SET reader_version = NULL")
        con.execute("UPDATE store.indicator SET score = 0 WHERE form_id = ?", [changed])
        con.execute("UPDATE store.form SET fingerprint = NULL WHERE form_id = ?", [changed])
        con.execute(FILL_FINGERPRINTS)
    counts = rows(db, "SELECT count(*) FROM forms UNION ALL SELECT count(*) FROM quarantine")

    without = run(inbox, db)

    assert (without.files_new, without.files_skipped, without.files_older_reader) == (0, 2, 2)
    assert "2 of the skipped were read by an older reader (--reread reads them again)" in (
        summary_line(without)
    )

    again = run(inbox, db, reread=True)

    assert (again.files_new, again.files_skipped, again.files_older_reader) == (2, 0, 0)
    assert rows(db, "SELECT DISTINCT reader_version FROM source_files") == [(READER_VERSION,)]
    released = dict(rows(db, "SELECT form_id, released FROM store.form"))
    assert released[kept] and not released[changed]  # the changed form waits for a new review
    assert rows(db, "SELECT form_id FROM reviews ORDER BY form_id") == sorted([(kept,), (changed,)])
    # the same forms and facts, once: the re-read replaced them
    assert rows(db, "SELECT count(*) FROM forms UNION ALL SELECT count(*) FROM quarantine") == [
        (counts[0][0] - 1,),
        (counts[1][0] + 1,),
    ]
    assert rows(db, "SELECT count(*) - count(DISTINCT form_id) FROM store.form") == [(0,)]
    zeroed = "SELECT bool_and(score = 0) FROM store.indicator WHERE form_id = ?"
    assert rows(db, zeroed, [changed]) == [(False,)]  # the older reading is gone

    assert run(inbox, db).files_older_reader == 0


def test_a_warehouse_from_before_reader_versions_gains_the_column(tmp_path):
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db) as warehouse:
        warehouse.connection.execute("DROP VIEW source_files")
        warehouse.connection.execute("ALTER TABLE store.source_file DROP COLUMN reader_version")
    with Warehouse.open(db) as warehouse:
        columns = warehouse.connection.execute("DESCRIBE source_files").fetchall()
    assert "reader_version" in {column[0] for column in columns}
