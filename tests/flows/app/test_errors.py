"""Every error a person can cause, through the real command line in a subprocess on real files:
one line saying what happened and what to do, the exit code the help lists, never a traceback."""

import contextlib
import os
import pty
import resource
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import pytest
from prefect.settings import get_current_settings

from flows.app.errors import EXIT_CODES
from tests.reliability.test_quarantine_review import FAULTS, held, ingest_directly
from warehouse import Warehouse

PROJECT = Path(__file__).parents[3]
SEEDS = sorted((PROJECT / "tests" / "data" / "seeds").glob("*.txt"))
PDFS = sorted((PROJECT / "samples" / "pdf").glob("*.pdf"))
ROOT = os.geteuid() == 0


def jixiao_env(cwd: Path, prefect: bool = False) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "PREFECT_HOME": str(cwd / "prefect-home"),
    }
    for name in ("JIXIAO_DB", "JIXIAO_WAIT", "PREFECT_API_URL", "PREFECT_LOGGING_LEVEL"):
        env.pop(name, None)
    if prefect:  # the session's Prefect server, so that a run starts in seconds
        env["PREFECT_API_URL"] = str(get_current_settings().api.url)
    return env


def jixiao(*args: str, cwd: Path, prefect: bool = False, **popen) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flows.app.cli", *args],
        cwd=cwd,
        env=jixiao_env(cwd, prefect),
        capture_output=True,
        text=True,
        timeout=300,
        **popen,
    )


def start(*args: str, cwd: Path, **popen) -> subprocess.Popen:
    """``jixiao`` in its own process group (as a terminal runs it), on the session's server."""
    return subprocess.Popen(
        [sys.executable, "-m", "flows.app.cli", *args],
        cwd=cwd,
        env=jixiao_env(cwd, prefect=True),
        text=True,
        start_new_session=True,
        **popen,
    )


def says(result: subprocess.CompletedProcess, code: int, *phrases: str) -> str:
    """Assert the exit code, one line on stderr holding ``phrases``, and no traceback."""
    assert "Traceback" not in result.stdout + result.stderr, result.stderr
    assert result.returncode == code, (result.returncode, result.stderr)
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("jixiao: "), result.stderr
    for phrase in phrases:
        assert phrase in lines[0], (phrase, lines[0])
    return lines[0]


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory) -> Path:
    """A warehouse holding the faulty sample's quarantined forms."""
    db = tmp_path_factory.mktemp("errors") / "w.duckdb"
    ingest_directly(db, FAULTS)
    return db


@contextlib.contextmanager
def read_only_folder(folder: Path):
    """``folder`` made read-only: a read-only bind mount for root (who ignores permissions),
    else its permission bits."""
    if ROOT:
        subprocess.run(["mount", "--bind", folder, folder], check=True)
        try:
            subprocess.run(["mount", "-o", "remount,bind,ro", folder, folder], check=True)
            yield folder
        finally:
            subprocess.run(["umount", folder], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield folder
        finally:
            folder.chmod(0o755)


@contextlib.contextmanager
def tiny_disk(folder: Path, kilobytes: int):
    """A file system of ``kilobytes`` mounted on ``folder`` (root only)."""
    if not ROOT:
        pytest.skip("mounting a small file system needs root; the file size limit case covers it")
    folder.mkdir()
    subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={kilobytes}k", "tmpfs", folder], check=True
    )
    try:
        yield folder
    finally:
        subprocess.run(["umount", folder], check=True)


def test_the_help_lists_every_exit_code(tmp_path):
    result = jixiao("--help", cwd=tmp_path)
    assert result.returncode == 0 and EXIT_CODES in result.stdout
    for code in ("0", "1", "2", "3", "130"):
        assert f"\n  {code} " in EXIT_CODES
    assert EXIT_CODES in jixiao("export", "--help", cwd=tmp_path).stdout


def test_paths_that_do_not_exist(tmp_path):
    says(jixiao("ingest", "nowhere", cwd=tmp_path), 2, "no such file or folder: nowhere")
    says(jixiao("backfill", "nowhere", cwd=tmp_path), 2, "no such archive: nowhere")
    says(jixiao("ingest", "--manifest", "urls.txt", cwd=tmp_path), 2, "no such manifest: urls.txt")
    for command in (
        ["sql", "SELECT 1"],
        ["quarantine", "list"],
        ["export", "--parquet", "pq"],
        ["review"],
    ):
        says(jixiao(*command, "--db", "none.duckdb", cwd=tmp_path), 2, "no warehouse at none")
    # a failed command creates nothing: no warehouse, no lock, no export folder
    assert [p.name for p in tmp_path.iterdir() if p.name != "prefect-home"] == []


def test_a_db_that_is_not_a_duckdb_file(tmp_path):
    notes = tmp_path / "notes.txt"
    notes.write_text("not a warehouse")
    (tmp_path / "inbox").mkdir()
    shutil.copyfile(SEEDS[0], tmp_path / "inbox" / SEEDS[0].name)

    says(
        jixiao("sql", "SELECT 1", "--db", "notes.txt", cwd=tmp_path), 2, "notes.txt is not a DuckDB"
    )
    says(jixiao("ingest", "inbox", "--db", "notes.txt", cwd=tmp_path), 2, "notes.txt is not a")
    says(jixiao("ingest", "inbox", "--db", "inbox", cwd=tmp_path), 2, "inbox is a folder")
    assert not list(tmp_path.glob("notes.txt.*"))  # no lock, no working copy


def test_a_review_port_already_taken(tmp_path, warehouse_file):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        result = jixiao("review", "--db", str(warehouse_file), "--port", port, cwd=tmp_path)
    says(result, 3, f"port {port} on 127.0.0.1 is in use", "--port 0")


def newer_duckdb_file(path: Path) -> None:
    """A DuckDB file whose header claims a storage version this DuckDB cannot read."""
    duckdb.connect(str(path)).close()
    data = bytearray(path.read_bytes())
    data[12:20] = struct.pack("<Q", 10_000)  # the storage version, after checksum and magic
    checksum = 5381  # DuckDB's header checksum: each 8-byte word times a constant, xor-ed
    for (word,) in struct.iter_unpack("<Q", bytes(data[8:4096])):
        checksum ^= (word * 0xBF58476D1CE4E5B9) % 2**64
    data[0:8] = struct.pack("<Q", checksum)
    path.write_bytes(bytes(data))


def test_a_warehouse_from_a_newer_version(tmp_path, warehouse_file):
    newer_duckdb_file(tmp_path / "duck.duckdb")
    says(
        jixiao("sql", "SELECT 1", "--db", "duck.duckdb", cwd=tmp_path), 3, "newer version of DuckDB"
    )
    (tmp_path / "inbox").mkdir()
    shutil.copyfile(SEEDS[0], tmp_path / "inbox" / SEEDS[0].name)
    says(jixiao("ingest", "inbox", "--db", "duck.duckdb", cwd=tmp_path), 3, "upgrade jixiao")

    shutil.copyfile(warehouse_file, tmp_path / "schema.duckdb")
    with Warehouse.open(tmp_path / "schema.duckdb") as warehouse:
        warehouse.connection.execute("INSERT INTO store.schema_version (version) VALUES (99)")
    before = (tmp_path / "schema.duckdb").read_bytes()
    form_id = next(iter(held(tmp_path / "schema.duckdb")))
    for command in (
        ["ingest", "inbox"],
        ["quarantine", "release", form_id, "--note", "checked"],
    ):
        says(
            jixiao(*command, "--db", "schema.duckdb", cwd=tmp_path),
            3,
            "written by a newer jixiao (warehouse schema 99",
        )
    assert (tmp_path / "schema.duckdb").read_bytes() == before
    assert not (tmp_path / "schema.duckdb.work").exists()  # nothing copied to work on


def test_read_only_folders(tmp_path, warehouse_file):
    (tmp_path / "inbox").mkdir()
    shutil.copyfile(SEEDS[0], tmp_path / "inbox" / SEEDS[0].name)
    shelf = tmp_path / "shelf"
    shelf.mkdir()
    shutil.copyfile(warehouse_file, shelf / "w.duckdb")
    form_id = next(iter(held(shelf / "w.duckdb")))
    with read_only_folder(shelf):
        says(
            jixiao("ingest", "inbox", "--db", "shelf/new.duckdb", cwd=tmp_path),
            3,
            "shelf/new.duckdb.lock",
            "choose another warehouse file with --db FILE",
        )
        says(
            jixiao(
                "quarantine",
                "release",
                form_id,
                "--note",
                "x",
                "--db",
                "shelf/w.duckdb",
                cwd=tmp_path,
            ),
            3,
            "w.duckdb.lock",
        )
        says(
            jixiao("export", "--db", "shelf/w.duckdb", "--parquet", "shelf/pq", cwd=tmp_path),
            3,
            "shelf/pq",
            "choose another folder with --parquet DIR",
        )
        # reading needs no write access
        listing = jixiao("quarantine", "list", "--db", "shelf/w.duckdb", cwd=tmp_path)
        assert listing.returncode == 0 and form_id in listing.stdout
    assert sorted(p.name for p in shelf.iterdir()) == ["w.duckdb"]


@pytest.mark.skipif(not ROOT, reason="needs root to run a command as another user")
def test_permission_denied(tmp_path, warehouse_file):
    """As a user without write access to the folders (root ignores permission bits)."""
    shared = Path(tempfile.mkdtemp(prefix="jixiao-shared-"))
    home = Path(tempfile.mkdtemp(prefix="jixiao-nobody-"))
    try:
        shared.chmod(0o755)
        shutil.copyfile(warehouse_file, shared / "w.duckdb")
        (shared / "w.duckdb").chmod(0o644)
        os.chown(home, 65534, 65534)
        try:
            result = subprocess.run(
                [sys.executable, "-m", "flows.app.cli", "export", "--db", str(shared / "w.duckdb")]
                + ["--parquet", str(shared / "pq")],
                cwd=home,
                env={**jixiao_env(home), "HOME": str(home)},
                capture_output=True,
                text=True,
                timeout=120,
                user=65534,
                group=65534,
            )
        except PermissionError:
            pytest.skip("the test interpreter is not open to an unprivileged user")
        says(result, 3, "permission denied", str(shared / "pq"))
        assert not (shared / "pq").exists()
    finally:
        shutil.rmtree(shared, ignore_errors=True)
        shutil.rmtree(home, ignore_errors=True)


def test_a_full_disk(tmp_path, warehouse_file):
    with tiny_disk(tmp_path / "small", 8):
        says(
            jixiao("export", "--db", str(warehouse_file), "--parquet", "small/pq", cwd=tmp_path),
            3,
            "the disk is full",
            "choose another folder with --parquet DIR",
        )
    (tmp_path / "inbox").mkdir()
    shutil.copyfile(SEEDS[0], tmp_path / "inbox" / SEEDS[0].name)
    with tiny_disk(tmp_path / "little", 1024):  # room for the lock, not for a run
        says(
            jixiao("ingest", "inbox", "--db", "little/w.duckdb", cwd=tmp_path),
            3,
            "not enough free space for the warehouse in little: 1.0 MB free",
        )


@pytest.mark.usefixtures("prefect_harness")
def test_a_file_size_limit_reached_while_loading(tmp_path):
    """The disk fills in the middle of a run (here: the file size limit): one line, exit 3, and
    the published warehouse untouched."""
    (tmp_path / "inbox").mkdir()
    for pdf in PDFS:
        shutil.copyfile(pdf, tmp_path / "inbox" / pdf.name)

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (600 * 1024, resource.RLIM_INFINITY))

    result = jixiao(
        "ingest",
        "inbox",
        "--db",
        "w.duckdb",
        "--no-report",
        cwd=tmp_path,
        prefect=True,
        preexec_fn=limit,
    )
    assert result.returncode == 3 and "Traceback" not in result.stdout + result.stderr
    errors = [line for line in result.stderr.splitlines() if line.startswith("jixiao: ")]
    assert errors == [
        "jixiao: the disk is full (writing "
        f"{tmp_path / 'w.duckdb.work'}): free some space or choose another warehouse file "
        "with --db FILE, then run again"
    ]
    assert not (tmp_path / "w.duckdb").exists()


def test_a_warehouse_held_by_another_writer(tmp_path, warehouse_file):
    shutil.copyfile(warehouse_file, tmp_path / "w.duckdb")
    (tmp_path / "inbox").mkdir()
    shutil.copyfile(SEEDS[0], tmp_path / "inbox" / SEEDS[0].name)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import duckdb, sys, time; c = duckdb.connect(sys.argv[1]); "
            "print('ok', flush=True); time.sleep(60)",
            str(tmp_path / "w.duckdb"),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        says(
            jixiao("ingest", "inbox", "--db", "w.duckdb", cwd=tmp_path),
            3,
            "in use by another program that opened it for writing",
        )
    finally:
        holder.kill()
        holder.wait()


def interrupt_after(process: subprocess.Popen, marker: str) -> tuple[str, str]:
    """Ctrl-C (SIGINT to the process group, as a terminal sends it) once stderr shows
    ``marker``; returns stdout and stderr."""
    seen = ""
    while marker not in seen:
        line = process.stderr.readline()
        assert line, f"ended before {marker!r}: {seen}"
        seen += line
    os.killpg(process.pid, signal.SIGINT)
    out, rest = process.communicate(timeout=120)
    return out, seen + rest


@pytest.mark.usefixtures("prefect_harness")
@pytest.mark.parametrize("command", ["ingest", "backfill"])
def test_ctrl_c_during_a_run_leaves_the_warehouse_and_the_next_run_resumes(tmp_path, command):
    archive = tmp_path / "archive" / "2023"
    archive.mkdir(parents=True)
    for pdf in PDFS:
        shutil.copyfile(pdf, archive / pdf.name)
    (tmp_path / "first.txt").write_bytes(SEEDS[0].read_bytes())
    first = jixiao("ingest", "first.txt", "--db", "w.duckdb", cwd=tmp_path, prefect=True)
    assert first.returncode == 0, first.stderr
    published = (tmp_path / "w.duckdb").read_bytes()
    source = "archive/2023" if command == "ingest" else "archive"
    args = [command, source, "--db", "w.duckdb", "--chunk", "2", "--workers", "1", "--no-report"]

    process = start(*args, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = interrupt_after(process, f"[3/{len(PDFS)}]")

    assert process.returncode == 130 and "Traceback" not in out + err, err
    errors = [line for line in err.splitlines() if line.startswith("jixiao: ")]
    assert errors == [
        "jixiao: interrupted: the warehouse is as it was before this run, whose files loaded "
        "so far are kept aside; run the same command again to resume"
    ]
    assert (tmp_path / "w.duckdb").read_bytes() == published

    again = jixiao(*args, cwd=tmp_path, prefect=True)
    assert again.returncode == 0, again.stderr
    with Warehouse.open(tmp_path / "w.duckdb", read_only=True) as warehouse:
        runs = warehouse.connection.execute(
            "SELECT status, files_new, files_skipped FROM ingest_runs ORDER BY started_at"
        ).fetchall()
    (interrupted_status, loaded, _), (resumed_status, read, skipped) = runs[1:]
    assert interrupted_status == "crashed" and resumed_status == "completed"
    # the files loaded before Ctrl-C (at least the three reported) are kept, not read again
    assert 3 <= skipped <= loaded and read + skipped == len(PDFS)


def test_ctrl_c_at_the_sql_prompt(tmp_path, warehouse_file):
    controller, terminal = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "flows.app.cli", "sql", "--db", str(warehouse_file)],
        cwd=tmp_path,
        env=jixiao_env(tmp_path),
        stdin=terminal,
        stdout=terminal,
        stderr=subprocess.PIPE,
        text=True,
    )
    os.close(terminal)
    shown = b""
    deadline = time.monotonic() + 60
    while b"jixiao> " not in shown and time.monotonic() < deadline:
        shown += os.read(controller, 1024)
    assert b"jixiao> " in shown
    time.sleep(1)  # a person's Ctrl-C comes while the prompt waits for a line
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    os.close(controller)
    assert process.returncode == 130 and "Traceback" not in err
    assert err.strip() == "jixiao: interrupted; nothing was changed"
