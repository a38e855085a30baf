"""The writer's lock and the publish step: one writer at a time, a killed writer's lock and working
copy handled by the next, and readers never in the way (warehouse/store.py's docstring)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from schemas.records import Extraction, Form, Indicator, form_id_for
from warehouse import SourceFile, Warehouse, WarehouseBusy

PROJECT = Path(__file__).parents[2]


def python(code: str) -> subprocess.Popen:
    """Run ``code`` in a fresh interpreter with the project importable; stdout is piped."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    env.pop("JIXIAO_WAIT", None)
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=PROJECT,
    )


def load(warehouse: Warehouse, folder: Path, name: str, run_id: str = "run") -> SourceFile:
    """Load a file holding one made-up form."""
    path = folder / f"{name}.txt"
    path.write_text(name, encoding="utf-8")
    source = SourceFile.from_path(path)
    form = Form(
        form_type="project_self_evaluation",
        form_ordinal=1,
        form_id=form_id_for(source.sha256, 1),
        fiscal_year=2024,
        name=name,
        indicators=[Indicator(1, "产出指标", "数量指标", "培训人数", ">=10人", ">=", 10, "人")],
    )
    warehouse.load_file(source, Extraction(forms=[form], extractor="text"), [], run_id)
    return source


def names(db: Path) -> list[str]:
    with Warehouse.open(db, read_only=True) as warehouse:
        rows = warehouse.connection.execute("SELECT name FROM forms").fetchall()
    return sorted(name for (name,) in rows)


HOLD_WRITER = """
    import sys, time
    from warehouse import Warehouse
    warehouse = Warehouse.open(sys.argv[1])
    print("holding", flush=True)
    time.sleep(float(sys.argv[2]))
    warehouse.close()
"""


def hold(db: Path, seconds: float) -> subprocess.Popen:
    process = python(
        HOLD_WRITER.replace("sys.argv[1]", repr(str(db))).replace("sys.argv[2]", repr(str(seconds)))
    )
    assert process.stdout.readline().strip() == "holding", process.stderr.read()
    return process


def test_a_second_writer_is_told_who_holds_the_warehouse(tmp_path):
    db = tmp_path / "w.duckdb"
    holder = hold(db, 60)
    try:
        with pytest.raises(WarehouseBusy) as busy:
            Warehouse.open(db)
        message = str(busy.value)
        assert f"another jixiao run (pid {holder.pid}) is writing {db}" in message
        assert f"kill {holder.pid}" in message and "--wait" in message
    finally:
        holder.kill()
        holder.wait()


def test_with_wait_a_second_writer_starts_when_the_first_is_done(tmp_path):
    db = tmp_path / "w.duckdb"
    holder = hold(db, 2)
    started = time.monotonic()
    with Warehouse.open(db, wait=True) as warehouse:
        waited = time.monotonic() - started
        load(warehouse, tmp_path, "甲")
    holder.wait()
    assert waited > 1
    assert names(db) == ["甲"]


def test_a_killed_writers_lock_does_not_block_the_next(tmp_path):
    db = tmp_path / "w.duckdb"
    holder = hold(db, 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    with Warehouse.open(db) as warehouse:  # no wait: the kernel dropped the lock with the process
        load(warehouse, tmp_path, "甲")
    assert names(db) == ["甲"]


def test_the_same_process_cannot_open_two_writers(tmp_path):
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db):
        with pytest.raises(WarehouseBusy, match="already open for writing in this process"):
            Warehouse.open(db)
    Warehouse.open(db).close()  # released on close


KILLED_MID_RUN = """
    import os, signal
    from pathlib import Path
    from tests.reliability.test_publish_and_lock import load
    from warehouse import Warehouse
    warehouse = Warehouse.open({db!r})
    warehouse.start_run("killed-run", "ingest")
    load(warehouse, Path({folder!r}), "乙", "killed-run")
    print("loaded", flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_run_leaves_the_warehouse_as_it_was_and_the_next_resumes_it(tmp_path):
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db) as warehouse:
        load(warehouse, tmp_path, "甲")
    before = db.read_bytes()

    killed = python(KILLED_MID_RUN.format(db=str(db), folder=str(tmp_path)))
    assert killed.stdout.readline().strip() == "loaded", killed.stderr.read()
    assert killed.wait() == -signal.SIGKILL

    assert db.read_bytes() == before  # readers still see the last published state
    assert names(db) == ["甲"]
    assert Path(f"{db}.work").exists()
    with Warehouse.open(db) as warehouse:
        con = warehouse.connection
        assert sorted(con.execute("SELECT name FROM forms").fetchall()) == [("乙",), ("甲",)]
        warehouse.start_run("next-run", "ingest")
        load(warehouse, tmp_path, "乙", "next-run")  # unchanged: not written twice
        runs = con.execute("SELECT run_id, status FROM ingest_runs ORDER BY run_id").fetchall()
        assert runs == [("killed-run", "crashed"), ("next-run", "running")]
    assert names(db) == ["乙", "甲"]
    assert not Path(f"{db}.work").exists()


def test_a_working_copy_older_than_the_warehouse_is_discarded(tmp_path):
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db) as warehouse:
        load(warehouse, tmp_path, "甲")
    work = Path(f"{db}.work")
    stale = duckdb.connect(str(work))
    stale.execute("CREATE TABLE marker (x INTEGER)")
    stale.close()
    os.utime(work, ns=(0, 0))  # made before the warehouse's last publish

    with Warehouse.open(db) as warehouse:
        tables = warehouse.connection.execute(
            "SELECT table_name FROM duckdb_tables() WHERE table_name = 'marker'"
        ).fetchall()
    assert tables == []
    assert names(db) == ["甲"]


READER = """
    import sys, time, duckdb
    con = duckdb.connect({db!r}, read_only=True)
    print("open", flush=True)
    counts = set()
    deadline = time.monotonic() + {seconds}
    while time.monotonic() < deadline:
        counts.add(con.execute("SELECT count(*) FROM forms").fetchone()[0])
        time.sleep(0.05)
    con.close()
    con = duckdb.connect({db!r}, read_only=True)
    print(sorted(counts), con.execute("SELECT count(*) FROM forms").fetchone()[0], flush=True)
"""


def test_a_reader_holding_the_file_open_neither_blocks_nor_sees_a_half_written_run(tmp_path):
    db = tmp_path / "w.duckdb"
    with Warehouse.open(db) as warehouse:
        load(warehouse, tmp_path, "甲")
    reader = python(READER.format(db=str(db), seconds=4))
    assert reader.stdout.readline().strip() == "open", reader.stderr.read()

    with Warehouse.open(db) as warehouse:  # the reader holds db read-only all along
        for name in ("乙", "丙", "丁"):
            load(warehouse, tmp_path, name)

    out, err = reader.communicate(timeout=30)
    assert reader.returncode == 0, err
    assert out.split("] ") == ["[1", "4\n"]  # its snapshot all along; the new state on reconnect
    assert names(db) == sorted(["甲", "乙", "丙", "丁"])


def test_a_program_writing_the_file_in_place_is_named(tmp_path):
    db = tmp_path / "w.duckdb"
    Warehouse.open(db).close()
    shell = python(  # e.g. a DuckDB shell opened without -readonly
        f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('open', flush=True); "
        "time.sleep(60)"
    )
    try:
        assert shell.stdout.readline().strip() == "open"
        with pytest.raises(WarehouseBusy, match="opened it for writing.*read-only"):
            Warehouse.open(db)
    finally:
        shell.kill()
        shell.wait()


def test_read_only_needs_an_existing_warehouse(tmp_path):
    with pytest.raises(FileNotFoundError, match="no warehouse at .*jixiao ingest"):
        Warehouse.open(tmp_path / "missing.duckdb", read_only=True)
    assert not (tmp_path / "missing.duckdb").exists()


def test_jixiao_ingest_names_the_run_it_would_collide_with(tmp_path):
    db = tmp_path / "w.duckdb"
    seed = PROJECT / "tests" / "data" / "seeds" / "000_47efb21861c60971.txt"
    holder = hold(db, 60)
    try:
        env = {**os.environ, "PYTHONPATH": str(PROJECT)}
        env.pop("JIXIAO_WAIT", None)
        result = subprocess.run(
            [sys.executable, "-m", "flows.app.cli", "ingest", str(seed), "--db", str(db)],
            capture_output=True,
            text=True,
            env=env,
            cwd=tmp_path,
            timeout=120,
        )
    finally:
        holder.kill()
        holder.wait()
    assert result.returncode == 3
    assert f"another jixiao run (pid {holder.pid}) is writing {db}" in result.stderr
    assert "Traceback" not in result.stderr
