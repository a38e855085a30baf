"""kill -9 in the middle of a batch, then a rerun: the same forms as an uninterrupted run, no
duplicate, the interrupted runs marked 'crashed'; an analyst's read-only connection held open
through an ingest sees no error and does not stop it."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from prefect.settings import get_current_settings

from warehouse import Warehouse

PROJECT = Path(__file__).parents[2]
SAMPLES = sorted((PROJECT / "samples" / "pdf").glob("*.pdf")) + sorted(
    (PROJECT / "samples" / "seeds").glob("*.txt")
)

pytestmark = pytest.mark.usefixtures("prefect_harness")


@pytest.fixture(scope="module")
def inbox(tmp_path_factory) -> Path:
    """16 files: the samples, four of them twice, each made unique by bytes after its end."""
    folder = tmp_path_factory.mktemp("crash") / "inbox"
    folder.mkdir()
    for copy, path in enumerate(SAMPLES + SAMPLES[:4]):
        target = folder / f"{copy:02d}_{path.name}"
        target.write_bytes(path.read_bytes() + f"\n% copy {copy}\n".encode())
    return folder


def start_ingest(inbox: Path, db: Path, cwd: Path) -> subprocess.Popen:
    """``jixiao ingest`` in its own process group, on the session's Prefect server; chunks of 4
    files, each loaded in one transaction, so that a kill can land between two of them."""
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "PREFECT_API_URL": str(get_current_settings().api.url),
        "PREFECT_HOME": str(cwd / "prefect-home"),
    }
    for name in ("JIXIAO_DB", "JIXIAO_WAIT"):
        env.pop(name, None)
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "flows.app.cli",
            "ingest",
            str(inbox),
            "--db",
            str(db),
            "--chunk",
            "4",
        ],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def kill_group(process: subprocess.Popen) -> None:
    """SIGKILL the run and any worker it started (they share its process group)."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    process.wait()


def kill_after_loads(inbox: Path, db: Path, cwd: Path, loads: int) -> None:
    """Start an ingest and SIGKILL it once it has reported ``loads`` more files loaded."""
    process = start_ingest(inbox, db, cwd)
    seen = 0
    try:
        for line in process.stderr:
            if line.startswith("[") and "skipped" not in line:
                seen += 1
                if seen >= loads:
                    break
        assert seen >= loads, "the run ended before the moment to kill it"
    finally:
        kill_group(process)
    assert process.returncode == -signal.SIGKILL


def kill_after(inbox: Path, db: Path, cwd: Path, seconds: float) -> bool:
    """Start an ingest and SIGKILL it after ``seconds``; whether it was still running then (a warm
    run may finish what two earlier runs left before the moment comes)."""
    process = start_ingest(inbox, db, cwd)
    time.sleep(seconds)
    running = process.poll() is None
    kill_group(process)
    return running


def finish(inbox: Path, db: Path, cwd: Path) -> str:
    process = start_ingest(inbox, db, cwd)
    try:
        out, err = process.communicate(timeout=600)
    finally:
        kill_group(process)
    assert process.returncode == 0, err
    assert "Traceback" not in err
    return out


def state(db: Path) -> dict[str, object]:
    """What a rerun must reproduce: form ids with their facts, and no duplicates anywhere."""
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection

        def rows(sql: str) -> list[tuple]:
            return sorted(con.execute(sql).fetchall(), key=repr)

        duplicates = con.execute(
            "SELECT count(*) - count(DISTINCT form_id) FROM store.form "
            "UNION ALL SELECT count(*) - count(DISTINCT source_file) FROM store.source_file "
            "UNION ALL SELECT count(*) FROM (SELECT form_id, row_ordinal FROM store.indicator "
            "GROUP BY ALL HAVING count(*) > 1)"
        ).fetchall()
        assert duplicates == [(0,), (0,), (0,)]
        return {
            "forms": rows("SELECT form_id, name, status, budget_executed FROM store.form"),
            "indicators": rows("SELECT form_id, row_ordinal, level3, score FROM store.indicator"),
            "fund_lines": rows("SELECT form_id, line, budget_full_year FROM store.fund_line"),
            "checks": rows("SELECT form_id, check_name, row_ordinal FROM store.check_result"),
            "files": rows(
                "SELECT source_file, source_sha256, status, forms_found FROM source_files"
            ),
        }


def assert_consistent(db: Path) -> None:
    """The published warehouse, if any, holds every form of each file it lists, and no other."""
    if not db.exists():
        return
    with Warehouse.open(db, read_only=True) as warehouse:
        (mismatched,) = warehouse.connection.execute(
            """
            SELECT count(*) FROM store.source_file s
            WHERE s.forms_found <> (SELECT count(*) FROM store.form f
                                    WHERE f.source_file = s.source_file)
            """
        ).fetchone()
        (orphans,) = warehouse.connection.execute(
            "SELECT count(*) FROM store.form f ANTI JOIN store.source_file s USING (source_file)"
        ).fetchone()
    assert (mismatched, orphans) == (0, 0)


def test_sigkill_mid_batch_then_rerun_gives_the_uninterrupted_result(inbox, tmp_path):
    baseline_db = tmp_path / "baseline" / "w.duckdb"
    finish(inbox, baseline_db, tmp_path)
    expected = state(baseline_db)
    assert len(expected["forms"]) >= 15 and len(expected["files"]) == 16

    db = tmp_path / "crashed" / "w.duckdb"
    kill_after_loads(inbox, db, tmp_path, loads=3)  # in the middle of loading
    assert_consistent(db)
    kill_after_loads(inbox, db, tmp_path, loads=4)  # again, after the first kill was resumed
    assert_consistent(db)
    killed = kill_after(inbox, db, tmp_path, seconds=4.0)  # whatever it was doing then
    assert_consistent(db)
    out = finish(inbox, db, tmp_path)

    assert "16 files seen" in out
    assert state(db) == expected
    with Warehouse.open(db, read_only=True) as warehouse:
        statuses = [
            status
            for (status,) in warehouse.connection.execute(
                "SELECT status FROM ingest_runs ORDER BY started_at"
            ).fetchall()
        ]
    assert statuses[:2] == ["crashed", "crashed"] and statuses[-1] == "completed"
    # the timed kill: crashed if it landed mid-run, completed if the run was done by then,
    # absent if it landed before the run was recorded
    timed = set(statuses[2:-1])
    assert len(statuses) <= 4 and timed <= ({"crashed", "completed"} if killed else {"completed"})
    assert not Path(f"{db}.work").exists()


READER = """
import sys, time, duckdb
db, stop = sys.argv[1], sys.argv[2]
con = duckdb.connect(db, read_only=True)
print("open", flush=True)
seen = set()
while not __import__("os").path.exists(stop):
    seen.add(con.execute("SELECT count(*) FROM forms").fetchone()[0])
    con.execute("SELECT * FROM indicators JOIN forms USING (form_id)").fetchall()
    time.sleep(0.05)
print(sorted(seen), flush=True)
"""


def test_a_reader_held_open_through_an_ingest_sees_no_error(inbox, tmp_path):
    from flows.ingest import ingest
    from flows.options import RunOptions

    db = tmp_path / "w.duckdb"
    first = sorted(inbox.iterdir())[:3]
    ingest(paths=[str(path) for path in first], options=RunOptions(db=str(db)))
    with Warehouse.open(db, read_only=True) as warehouse:
        (before,) = warehouse.connection.execute("SELECT count(*) FROM forms").fetchone()
    stop = tmp_path / "stop"
    reader = subprocess.Popen(
        [sys.executable, "-c", READER, str(db), str(stop)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert reader.stdout.readline().strip() == "open", reader.stderr.read()

        summary = ingest(paths=[str(inbox)], options=RunOptions(db=str(db)))

        assert summary.files_failed == 0 and summary.forms_landed > 0
    finally:
        stop.touch()
        out, err = reader.communicate(timeout=60)
    assert reader.returncode == 0, err
    assert out.strip() == f"[{before}]"  # its snapshot, unchanged while the ingest ran
    with Warehouse.open(db, read_only=True) as warehouse:
        (after,) = warehouse.connection.execute("SELECT count(*) FROM forms").fetchone()
    assert after == before + summary.forms_landed
