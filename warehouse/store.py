"""The DuckDB warehouse: open (creating the schema), tell whether a file needs reading, load a
batch of files atomically, record ingest runs and quarantine reviews.

Publishing. A writer never writes the warehouse file ``X`` itself. It takes the lock ``X.lock``
(an OS lock that dies with its process), works on ``X.work`` (a copy of ``X``), and on ``close``
checkpoints it and renames it onto ``X`` in one atomic step. Readers open ``X`` read-only: they see
the last published state, keep their snapshot while a run goes on, and see the run's results when
they reconnect. A run that is killed leaves ``X`` as it was and its ``X.work`` behind; the next
writer resumes that working copy (each batch of files was committed in one transaction), so
nothing is lost and nothing is written twice.

Storage format. The file is written in STORAGE_VERSION's format so that DuckDB 1.x opens it too;
a working copy in a newer format (a file written before that was fixed) is rewritten in it.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import json
import os
import shutil
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from types import TracebackType
from typing import Any, NamedTuple

import duckdb

from schemas.records import CheckResult, Extraction, Form, Indicator, form_id_for, form_status
from warehouse.ddl import (
    FILL_FINGERPRINTS,
    MIGRATIONS,
    SCHEMA_VERSION,
    TABLES,
    view_statements,
)

DEFAULT_DB = Path("data") / "jixiao.duckdb"

FORM_COLUMNS = (
    "form_id",
    "source_file",
    "source_sha256",
    "form_ordinal",
    "form_type",
    "fiscal_year",
    "year_source",
    "name",
    "department",
    "implementing_unit",
    "money_unit",
    "budget_initial",
    "budget_full_year",
    "budget_executed",
    "execution_rate",
    "budget_weight",
    "budget_score",
    "total_weight",
    "total_score",
    "project_funds_total",
    "planned_start",
    "planned_end",
    "goal_planned",
    "goal_actual",
    "goal_overall",
    "first_page",
    "last_page",
    "notes",
    "extra_fields",
    "total_page",
    "total_bbox",
    "status",
    "quarantined_at",
    "loaded_at",
    "run_id",
)
FUND_LINE_COLUMNS = (
    "line",
    "budget_initial",
    "budget_full_year",
    "budget_executed",
    "weight",
    "execution_rate",
    "score",
    "page",
    "bbox",
)
INDICATOR_COLUMNS = (
    "row_ordinal",
    "level1",
    "level2",
    "level3",
    "target_text",
    "target_op",
    "target_value",
    "target_unit",
    "actual_text",
    "actual_value",
    "actual_unit",
    "weight",
    "score",
    "deviation_reason",
    "page",
    "hierarchy_inferred",
    "bbox",
    "extra",
    "level1_weight",
)
CHECK_COLUMNS = (
    "form_id",
    "check_name",
    "severity",
    "row_ordinal",
    "observed",
    "expected",
    "detail",
)
SOURCE_COLUMNS = (
    "source_file",
    "source_sha256",
    "bytes",
    "pulled_at",
    "run_id",
    "extractor",
    "pages",
    "forms_found",
    "status",
    "error",
    "reader_version",
)
STAGED_COLUMNS = {  # the fact tables a load fills, in insert order
    "form": FORM_COLUMNS,
    "fund_line": ("form_id", "line_ordinal", *FUND_LINE_COLUMNS),
    "indicator": ("form_id", *INDICATOR_COLUMNS),
    "check_result": CHECK_COLUMNS,
}


# The storage format the warehouse is written in: DuckDB 1.1 and every later version read it
# (1.0 cannot read the primary-key indexes that DuckDB 2 writes, whatever the format).
STORAGE_VERSION = "v1.1.0"
WAIT_ENV = "JIXIAO_WAIT"  # set (to anything but '' or '0') to queue behind another writer
LOCK_SUFFIX = ".lock"
WORK_SUFFIX = ".work"


class WarehouseBusy(Exception):
    """The warehouse file is locked by another process."""


class NotAWarehouse(Exception):
    """The file named as the warehouse is not one: a folder, another kind of file, or damaged."""


class WarehouseTooNew(Exception):
    """The warehouse was written by a newer DuckDB, or brought to a newer schema by a newer
    jixiao: this one must not change it."""


def db_path(given: str | Path | None = None) -> Path:
    """The warehouse file: ``given``, else ``$JIXIAO_DB`` if set, else ``data/jixiao.duckdb``
    under the cwd."""
    return Path(given or os.environ.get("JIXIAO_DB") or Path.cwd() / DEFAULT_DB)


def _sibling(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _is_lock_error(error: duckdb.Error) -> bool:
    return "lock" in str(error).lower()


def interrupted_query(error: BaseException) -> bool:
    """Whether ``error`` is a DuckDB query cut short by Ctrl-C. DuckDB's Python binding turns the
    KeyboardInterrupt it meets into another exception: ``RuntimeError('Query interrupted')`` while
    a query runs, an error quoting the KeyboardInterrupt while it reads Python or Arrow data."""
    if isinstance(error, duckdb.InterruptException):
        return True
    if type(error) is RuntimeError:
        return str(error) == "Query interrupted"
    return isinstance(error, duckdb.Error) and "KeyboardInterrupt" in str(error)


def _connect(path: Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect``, its refusals told in the warehouse's terms: held by another program
    (WarehouseBusy), not a DuckDB file (NotAWarehouse), from a newer DuckDB (WarehouseTooNew)."""
    if path.is_dir():
        raise NotAWarehouse(
            f"{path} is a folder: --db names the warehouse file, e.g. {path / DEFAULT_DB.name}"
        )
    try:
        if read_only:
            return duckdb.connect(str(path), read_only=True)
        # a file it creates is in the STORAGE_VERSION format
        return duckdb.connect(str(path), config={"storage_compatibility_version": STORAGE_VERSION})
    except duckdb.ConnectionException as error:  # this very process has it open for writing
        raise WarehouseBusy(_writers_elsewhere(path)) from error
    except duckdb.Error as error:
        message = str(error)
        if "newer version" in message or "storage version" in message:
            raise WarehouseTooNew(
                f"{path} was written by a newer version of DuckDB than this jixiao has "
                f"(duckdb {duckdb.__version__}): upgrade jixiao (pip install -U jixiao duckdb)"
            ) from error
        if "not a valid DuckDB database" in message or "Corrupt database" in message:
            raise NotAWarehouse(
                f"{path} is not a DuckDB warehouse (or it is damaged): check --db "
                "or $JIXIAO_DB, which name the warehouse file"
            ) from error
        if isinstance(error, duckdb.IOException) and _is_lock_error(error):
            raise WarehouseBusy(_writers_elsewhere(path)) from error
        raise


def _refuse_unwritable(db: Path) -> None:
    """Refuse, before anything is created, a ``db`` this jixiao cannot write: not a DuckDB
    file, or written by a newer DuckDB or jixiao."""
    if db.exists():
        connection = _connect(db, read_only=True)
        try:
            _refuse_newer_schema(connection, db)
        finally:
            connection.close()


def _refuse_newer_schema(connection: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Raise WarehouseTooNew if a newer jixiao brought the open warehouse past SCHEMA_VERSION."""
    (known,) = connection.execute(
        "SELECT count(*) FROM duckdb_tables() "
        "WHERE schema_name = 'store' AND table_name = 'schema_version'"
    ).fetchone()
    if not known:
        return
    (version,) = connection.execute("SELECT max(version) FROM store.schema_version").fetchone()
    if version is not None and version > SCHEMA_VERSION:
        raise WarehouseTooNew(
            f"{path} was written by a newer jixiao (warehouse schema {version}; this one knows "
            f"up to {SCHEMA_VERSION}): upgrade jixiao to write to it"
        )


def _version(tag: str) -> tuple[int, ...]:
    """'v1.0.0+' → (1, 0, 0)."""
    return tuple(int(part) for part in tag.strip("v+").split(".") if part.isdigit())


def _newer_than_readers(connection: duckdb.DuckDBPyConnection) -> bool:
    """Whether the open file is in a storage format newer than STORAGE_VERSION."""
    (tags,) = connection.execute(
        "SELECT tags FROM duckdb_databases() WHERE database_name = current_database()"
    ).fetchone()
    tag = (tags or {}).get("storage_version")
    return tag is not None and _version(tag) > _version(STORAGE_VERSION)


def _rewrite_for_readers(work: Path) -> None:
    """Copy everything in ``work`` into a new file in the STORAGE_VERSION format, and put it in
    ``work``'s place (a warehouse written before the format was fixed, by a newer DuckDB)."""
    rewritten = _sibling(work, ".rewrite")
    for leftover in (rewritten, _sibling(rewritten, ".wal")):
        leftover.unlink(missing_ok=True)
    connection = _connect(rewritten)
    try:
        (target,) = connection.execute("SELECT current_database()").fetchone()
        source = str(work).replace("'", "''")
        connection.execute(f"ATTACH '{source}' AS newer (READ_ONLY)")
        connection.execute(f'COPY FROM DATABASE newer TO "{target}"')
        connection.execute("DETACH newer")
        connection.execute("CHECKPOINT")
    finally:
        connection.close()
    _fsync(rewritten)
    os.replace(rewritten, work)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _modified(*paths: Path) -> int:
    """The latest modification time (ns) among the files that exist, 0 if none does."""
    return max((p.stat().st_mtime_ns for p in paths if p.exists()), default=0)


class _WriterLock:
    """``X.lock``: held with ``fcntl.lockf`` while a process writes ``X``.

    The kernel drops the lock when its process dies, however it dies, so a lock left by a killed
    run never blocks the next one; a worker process forked meanwhile does not inherit it. The
    holder writes its pid into the file for the message the next writer shows. (Not filelock: its
    ``flock`` lock is shared with forked workers, which would keep it held after the writer died,
    and it records no pid.)
    """

    _held: set[Path] = set()  # POSIX locks do not exclude the same process: track its own

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self.fd = fd

    @classmethod
    def acquire(cls, db: Path, wait: bool) -> _WriterLock:
        path = _sibling(db, LOCK_SUFFIX).resolve()
        if path in cls._held:
            raise WarehouseBusy(f"{db} is already open for writing in this process")
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            cls._take(fd, path, db, wait)
        except BaseException:
            os.close(fd)
            raise
        cls._held.add(path)
        return cls(path, fd)

    @classmethod
    def _take(cls, fd: int, path: Path, db: Path, wait: bool) -> None:
        """Lock ``fd`` (waiting if asked) and write this process's pid into it."""
        try:
            try:
                fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError as error:
                if error.errno not in (errno.EACCES, errno.EAGAIN) or not wait:
                    raise WarehouseBusy(cls._busy_message(db, fd)) from error
                fcntl.lockf(fd, fcntl.LOCK_EX)
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError as error:
            if error.filename is not None:
                raise
            raise OSError(error.errno, error.strerror, str(path)) from error

    @staticmethod
    def _busy_message(db: Path, fd: int) -> str:
        pid = os.pread(fd, 32, 0).decode(errors="replace").strip()
        who = f"another jixiao run (pid {pid})" if pid.isdigit() else "another jixiao run"
        stop = f", or stop it (kill {pid})" if pid.isdigit() else ""
        return (
            f"{who} is writing {db}; wait for it to finish{stop}, or run again with --wait "
            f"(or {WAIT_ENV}=1) to start as soon as it is done"
        )

    def release(self) -> None:
        self._held.discard(self.path)
        os.close(self.fd)  # closing the descriptor drops the lock; the file stays for the next


def _writers_elsewhere(db: Path) -> str:
    return (
        f"{db} is in use by another program that opened it for writing (a DuckDB shell, "
        "DBeaver, a notebook); "
        "close it there, or connect read-only (duckdb.connect(path, read_only=True); DBeaver: "
        "the connection's read-only option), which never blocks an ingest"
    )


def _check_no_other_writer(db: Path) -> None:
    """Raise WarehouseBusy if a program other than jixiao holds ``db`` open for writing.

    Read-only connections do not count: they share the file with this check.
    """
    if not db.exists():
        return
    # written in place by another program when it has a log: fold the log in first
    _connect(db, read_only=not _sibling(db, ".wal").exists()).close()


def check_writable(db: str | Path) -> None:
    """Raise WarehouseBusy now if another jixiao run or another program would keep a writer out.

    Takes and drops the lock without copying anything (waits for it under ``$JIXIAO_WAIT``).
    """
    db = Path(db)
    _refuse_unwritable(db)
    db.parent.mkdir(parents=True, exist_ok=True)
    lock = _WriterLock.acquire(db, os.environ.get(WAIT_ENV, "") not in ("", "0"))
    try:
        _check_no_other_writer(db)
    finally:
        lock.release()


@dataclass(frozen=True)
class SourceFile:
    """One file as pulled: the name it is stored under, its content hash and size."""

    source_file: str
    sha256: str
    size_bytes: int

    @classmethod
    def from_path(cls, path: Path) -> SourceFile:
        """Hash a file on disk; it is stored under its absolute path."""
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            while chunk := handle.read(1 << 20):
                digest.update(chunk)
        return cls(str(path.resolve()), digest.hexdigest(), path.stat().st_size)


@dataclass(frozen=True)
class FileCheck:
    """Whether a file needs reading: 'new', 'changed', 'unchanged', 'reread' (unchanged, read
    again by another reader version) or 'duplicate' (of ``holder``). ``older_reader``: an
    unchanged file that another reader version read."""

    state: str
    holder: str | None = None
    older_reader: bool = False


@dataclass(frozen=True)
class LoadResult:
    """Outcome of one ``load_file``: the source_files status, or 'skipped' when nothing changed."""

    source_file: str
    status: str
    forms_landed: int = 0
    forms_quarantined: int = 0
    warnings: int = 0  # warning-level failed checks on this file's forms
    message: str | None = None


@dataclass(frozen=True)
class FileLoad:
    """One file to load: what was pulled, what reading it gave, and its forms' failed checks."""

    source: SourceFile
    extraction: Extraction | None
    results: list[CheckResult] = field(default_factory=list)

    @property
    def source_file(self) -> str:
        """The name the file is stored under."""
        return self.source.source_file


@dataclass(frozen=True)
class Unpulled:
    """A file whose bytes could not be had: a failed download, a refused path, an unreadable file."""

    source_file: str
    message: str


class _Stored(NamedTuple):
    """What a source_files row says of a file, as far as deciding another file goes."""

    sha256: str | None
    status: str
    error: str | None
    reader_version: str | None = None


def _file_check(
    source: SourceFile,
    known: dict[str, _Stored],
    reader_version: str | None = None,
    reread: bool = False,
) -> FileCheck:
    """Whether ``source`` must be read, given ``known`` source_files rows (its own, if stored,
    and those of the files holding its content). Given the current ``reader_version``, an
    unchanged file another version read is told apart, and with ``reread`` read again."""
    own = known.get(source.source_file)
    holder = min(
        (
            name
            for name, row in known.items()
            if name != source.source_file
            and row.sha256 == source.sha256
            and row.status != "skipped_duplicate"
        ),
        default=None,
    )
    if own is not None and own.sha256 == source.sha256:
        if own.status != "skipped_duplicate" or holder is not None:
            older = (
                reader_version is not None
                and own.status != "skipped_duplicate"
                and own.reader_version != reader_version
            )
            return FileCheck("reread") if older and reread else FileCheck("unchanged", None, older)
        return FileCheck("changed")  # the copy it duplicated is gone: read this one now
    if holder is not None:
        return FileCheck("duplicate", holder)
    return FileCheck("new" if own is None else "changed")


def _duplicate_of(name: str, holder: str | None, known: dict[str, _Stored]) -> LoadResult:
    """The outcome of a file whose content ``holder`` holds."""
    held = known[holder] if holder is not None else None
    if held is not None and held.status == "failed":
        message = f"same content as {holder}, which could not be read: {held.error}"
        return LoadResult(name, "failed", message=message)
    message = f"same content as {holder}, already ingested from there"
    return LoadResult(name, "skipped_duplicate", message=message)


@dataclass
class _StagedRows:
    """The rows of a batch of files, inserted with one statement per table."""

    tables: dict[str, list[list[Any]]] = field(
        default_factory=lambda: {table: [] for table in STAGED_COLUMNS}
    )
    sources: list[list[Any]] = field(default_factory=list)
    # review decisions of forms read again: (form_id, fingerprint, released, rejected)
    decisions: list[tuple[str, str | None, bool, bool]] = field(default_factory=list)

    def add_source(self, values: dict[str, Any], outcome: LoadResult) -> None:
        """Stage a file's source_files row (replacing any stored one); unnamed columns are NULL."""
        values = {**values, "pulled_at": _now(), "status": outcome.status, "error": outcome.message}
        values.setdefault("forms_found", 0)
        self.sources.append([values.get(column) for column in SOURCE_COLUMNS])

    def add(
        self,
        source: SourceFile,
        extraction: Extraction,
        results: list[CheckResult],
        run_id: str,
    ) -> LoadResult:
        """Stage one read file's forms, fund lines, indicators and failed checks."""
        if extraction.error is not None:
            return LoadResult(source.source_file, "failed", message=extraction.error)
        forms = extraction.forms
        if not forms:
            message = _with_notes(no_forms_message(extraction), extraction)
            return LoadResult(source.source_file, "no_forms", message=message)
        results_by_form: dict[str, list[CheckResult]] = defaultdict(list)
        for result in results:
            results_by_form[result.form_id].append(result)
        for form in forms:
            if form.form_id != form_id_for(source.sha256, form.form_ordinal):
                raise ValueError(f"form id {form.form_id!r} is not form_id_for(sha256, ordinal)")
        unknown = set(results_by_form) - {form.form_id for form in forms}
        if unknown:
            raise ValueError(f"check results for forms not in this file: {sorted(unknown)}")

        now = _now()
        statuses = {form.form_id: form_status(results_by_form[form.form_id]) for form in forms}
        tables = self.tables
        tables["form"] += [_form_row(form, source, statuses, now, run_id) for form in forms]
        tables["fund_line"] += [
            [form.form_id, ordinal, *(getattr(line, c) for c in FUND_LINE_COLUMNS)]
            for form in forms
            for ordinal, line in enumerate(form.fund_lines, start=1)
        ]
        tables["indicator"] += [
            [form.form_id, *(_indicator_value(row, c) for c in INDICATOR_COLUMNS)]
            for form in forms
            for row in form.indicators
        ]
        tables["check_result"] += [[getattr(r, c) for c in CHECK_COLUMNS] for r in results]
        quarantined = sum(status == "quarantined" for status in statuses.values())
        warnings = sum(result.severity == "warning" for result in results)
        if quarantined:
            return LoadResult(
                source.source_file,
                "partial",
                len(forms) - quarantined,
                quarantined,
                warnings,
                _with_notes(
                    f"{quarantined} of {_plural(len(forms), 'form')} quarantined: "
                    "see the quarantine and check_results views",
                    extraction,
                ),
            )
        message = _with_notes(None, extraction)
        return LoadResult(source.source_file, "loaded", len(forms), 0, warnings, message)

    def insert_into(self, warehouse: Warehouse) -> None:
        """Insert the staged rows into ``store.<table>``, one statement per table.

        The rows are staged as an Arrow table (each column's type inferred from its values:
        Decimal stays exact) and inserted by column name; DuckDB casts each column to the
        table's type as it would cast query parameters.
        """
        import pyarrow  # imported here: commands that only read need not load it

        con = warehouse.connection
        replace_sources = "ON CONFLICT (source_file) DO UPDATE SET " + ", ".join(
            f"{column} = excluded.{column}" for column in SOURCE_COLUMNS[1:]
        )
        batches = [("source_file", SOURCE_COLUMNS, self.sources, replace_sources)]
        batches += [(t, STAGED_COLUMNS[t], rows, "") for t, rows in self.tables.items()]
        for table, columns, rows, conflict in batches:
            if not rows:
                continue
            staged = pyarrow.table({c: [row[i] for row in rows] for i, c in enumerate(columns)})
            con.register("staged_rows", staged)
            try:
                con.execute(
                    f"INSERT INTO store.{table} BY NAME SELECT * FROM staged_rows {conflict}"
                )
            finally:
                con.unregister("staged_rows")
        if self.tables["form"]:
            con.execute(FILL_FINGERPRINTS)


@dataclass
class RunCounts:
    """The counters of one ingest run (SCHEMA.md ingest_runs)."""

    files_seen: int = 0
    files_new: int = 0
    files_skipped: int = 0
    files_failed: int = 0
    forms_landed: int = 0
    forms_quarantined: int = 0


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


def _with_notes(message: str | None, extraction: Extraction) -> str | None:
    """A file's source_files note: its status message, then what reading it remarked."""
    parts = [message, *extraction.notes] if message else extraction.notes
    return "; ".join(parts) or None


def no_forms_message(extraction: Extraction) -> str:
    """What a readable file held instead of a form, e.g. '31 pages, 12 tables, no performance form'."""
    found = [] if extraction.pages is None else [_plural(extraction.pages, "page")]
    found.append(_plural(extraction.n_tables, "table"))
    return ", ".join([*found, "no performance form"])


def _indicator_value(row: Indicator, column: str) -> Any:
    """An indicator's value for ``column``; ``extra`` as JSON text (header → text as printed)."""
    value = getattr(row, column)
    if column == "extra":
        return json.dumps(value, ensure_ascii=False) if value else None
    return value


def _form_row(
    form: Form, source: SourceFile, statuses: dict[str, str], now: datetime, run_id: str
) -> list[Any]:
    """A form's store.form row, in FORM_COLUMNS order."""
    status = statuses[form.form_id]
    stored = {
        "source_file": source.source_file,
        "source_sha256": source.sha256,
        "status": status,
        "quarantined_at": now if status == "quarantined" else None,
        "loaded_at": now,
        "run_id": run_id,
        "extra_fields": (
            json.dumps(form.extra_fields, ensure_ascii=False) if form.extra_fields else None
        ),
    }
    return [stored[c] if c in stored else getattr(form, c) for c in FORM_COLUMNS]


class Warehouse:
    """A DuckDB warehouse file with the SCHEMA.md views. One writer at a time; any readers.

    Open it with :meth:`open`; a writer's work is published when it is closed (see the module
    docstring).
    """

    def __init__(
        self,
        connection: duckdb.DuckDBPyConnection,
        path: Path,
        lock: _WriterLock | None = None,
        work: Path | None = None,
    ) -> None:
        self.connection = connection
        self.path = path
        self._lock = lock
        self._work = work

    @classmethod
    def open(cls, path: str | Path, read_only: bool = False, wait: bool | None = None) -> Warehouse:
        """Open (or create, with parent folders) a warehouse and bring its schema up to date.

        A writer takes the warehouse's lock; another jixiao writer raises :class:`WarehouseBusy`
        naming it, or is waited for when ``wait`` is true (default: ``$JIXIAO_WAIT`` set). With
        ``read_only`` the published file is opened as it is, without the lock; it must exist.
        """
        path = Path(path)
        if read_only:
            return cls._open_read_only(path)
        if wait is None:
            wait = os.environ.get(WAIT_ENV, "") not in ("", "0")
        _refuse_unwritable(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        lock = _WriterLock.acquire(path, wait)
        try:
            work = cls._working_copy(path)
            connection = _connect(work)
            if _newer_than_readers(connection):
                connection.close()
                _rewrite_for_readers(work)
                connection = _connect(work)
            warehouse = cls(connection, path, lock, work)
        except BaseException:
            lock.release()
            raise
        try:
            warehouse._create_schema()
        except BaseException:
            warehouse.abandon()
            raise
        return warehouse

    @classmethod
    def _open_read_only(cls, path: Path) -> Warehouse:
        if not path.is_file():
            raise FileNotFoundError(
                f"no warehouse at {path}: run `jixiao ingest` first, or pass --db FILE"
            )
        return cls(_connect(path, read_only=True), path)

    @staticmethod
    def _working_copy(path: Path) -> Path:
        """``X.work``: a killed run's copy when it is still current, else a fresh copy of ``X``."""
        work = _sibling(path, WORK_SUFFIX)
        work_wal = _sibling(work, ".wal")
        _check_no_other_writer(path)
        if work.exists() and _modified(work, work_wal) >= _modified(path, _sibling(path, ".wal")):
            return work  # resumed: its committed files stand, its run is marked crashed
        for leftover in (work, work_wal):
            leftover.unlink(missing_ok=True)
        if path.exists():
            partial = _sibling(path, WORK_SUFFIX + ".tmp")
            shutil.copyfile(path, partial)
            _fsync(partial)
            os.replace(partial, work)  # a working copy is always whole
            _fsync(path.parent)
        return work

    @property
    def read_only(self) -> bool:
        """Whether this is a read-only view of the published file."""
        return self._lock is None

    def close(self) -> None:
        """Close the connection; a writer publishes its work onto the warehouse file first."""
        if self._lock is None:
            self.connection.close()
            return
        try:
            self.connection.execute("CHECKPOINT")
            self.connection.close()
            self._publish()
        finally:
            self._lock.release()

    def abandon(self) -> None:
        """Close without publishing: the warehouse file stays as it was, and the next writer
        resumes the working copy (what was committed in it is kept)."""
        try:
            self.connection.close()
        finally:
            if self._lock is not None:
                self._lock.release()

    def _publish(self) -> None:
        assert self._work is not None
        if _sibling(self._work, ".wal").exists():
            raise RuntimeError(
                f"{self._work} was not checkpointed; it is published by the next run"
            )
        _check_no_other_writer(self.path)
        _fsync(self._work)
        os.replace(self._work, self.path)
        _fsync(self.path.parent)

    def __enter__(self) -> Warehouse:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is not None and (not isinstance(exc, Exception) or interrupted_query(exc)):
            self.abandon()  # interrupted (Ctrl-C): leave the warehouse as it was
        else:
            self.close()

    def _create_schema(self) -> None:
        _refuse_newer_schema(self.connection, self.path)
        for statement in [*TABLES, *MIGRATIONS, *view_statements(), FILL_FINGERPRINTS]:
            self.connection.execute(statement)
        (current,) = self.connection.execute(
            "SELECT max(version) FROM store.schema_version"
        ).fetchone()
        if current is None or current < SCHEMA_VERSION:
            self.connection.execute(
                "INSERT INTO store.schema_version (version) VALUES (?)", [SCHEMA_VERSION]
            )

    def schema_version(self) -> int:
        """The schema version this file was last brought up to."""
        (version,) = self.connection.execute(
            "SELECT max(version) FROM store.schema_version"
        ).fetchone()
        return version

    def check_file(self, source: SourceFile) -> FileCheck:
        """Tell whether ``source`` must be read: unchanged files and duplicates never are."""
        (check,) = self.check_files([source])
        return check

    def check_files(
        self,
        sources: Sequence[SourceFile],
        reader_version: str | None = None,
        reread: bool = False,
    ) -> list[FileCheck]:
        """:meth:`check_file` for several files, in one query. Given the current
        ``reader_version``, unchanged files read by another version are marked ``older_reader``
        or, with ``reread``, to be read again ('reread')."""
        known = self._known([s.source_file for s in sources], [s.sha256 for s in sources])
        return [_file_check(source, known, reader_version, reread) for source in sources]

    def _known(self, names: list[str], sha256s: list[str]) -> dict[str, _Stored]:
        """The source_files rows of ``names``, and of the files holding any of ``sha256s``."""
        rows = self.connection.execute(
            """
            SELECT source_file, source_sha256, status, error, reader_version
            FROM store.source_file
            WHERE source_file IN (SELECT unnest(?::VARCHAR[]))
               OR (source_sha256 IN (SELECT unnest(?::VARCHAR[]))
                   AND status <> 'skipped_duplicate')
            """,
            [names, sha256s],
        ).fetchall()
        return {name: _Stored(*rest) for name, *rest in rows}

    def load_file(
        self,
        source: SourceFile,
        extraction: Extraction | None,
        results: list[CheckResult],
        run_id: str,
    ) -> LoadResult:
        """Write one file's source_files row, forms, fund lines, indicators and failed checks in
        one transaction (see :meth:`load_files`)."""
        (outcome,) = self.load_files([FileLoad(source, extraction, results)], run_id)
        return outcome

    def load_files(
        self, loads: Sequence[FileLoad | Unpulled], run_id: str, reread: str | None = None
    ) -> list[LoadResult]:
        """Write several files in one transaction: all of them or, on any error, none.

        An :class:`Unpulled` file is a 'failed' row without sha256 (or, when an earlier version of
        it is stored, that version is kept as it was).

        Per file: unchanged (same path, same sha256): nothing is written ('skipped'). Changed:
        its old rows are replaced. Content already held by another path (stored, or earlier in
        ``loads``): a 'skipped_duplicate' row and no forms (``extraction`` may then be None), or
        'failed' with the other file's message when that one could not be read. Otherwise the
        status is 'failed' (unreadable), 'no_forms' (read, no performance form), 'partial' (at
        least one form quarantined, the rest landed) or 'loaded' (every form landed). Form ids
        must come from :func:`form_id_for`. The facts of all files go in with one statement per
        table, which is what makes a batch cheaper than as many single loads.

        With ``reread`` (the current reader version), an unchanged file that another version
        read has its rows replaced like a changed file's; a review decision on one of its forms
        is kept when the form read again has the same content (fingerprint).
        """
        staged = _StagedRows()
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            known = self._known(
                [load.source_file for load in loads],
                [load.source.sha256 for load in loads if isinstance(load, FileLoad)],
            )
            outcomes = [self._stage(load, run_id, staged, known, reread) for load in loads]
            staged.insert_into(self)
            self._restore_decisions(staged.decisions)
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise
        return outcomes

    def prepare_loading(self) -> None:
        """Load now what :meth:`load_files` needs the first time (pyarrow, and what DuckDB imports
        to scan an Arrow table: about half a second), e.g. while the files are being read; at
        once when loaded already."""
        import pyarrow

        self.connection.register("staged_rows", pyarrow.table({"ready": [True]}))
        self.connection.unregister("staged_rows")

    def _stage(
        self,
        load: FileLoad | Unpulled,
        run_id: str,
        staged: _StagedRows,
        known: dict[str, _Stored],
        reread: str | None = None,
    ) -> LoadResult:
        """Decide one file's outcome and stage its rows; ``known`` (the stored source_files rows
        that matter to this batch) takes the file's new row, for the files after it."""
        name = load.source_file
        if isinstance(load, Unpulled):
            stored = known.get(name)
            if stored is not None and stored.sha256 is not None:
                message = f"{load.message} (the version ingested before is kept)"
                return LoadResult(name, "failed", message=message)
            outcome = LoadResult(name, "failed", message=load.message)
            staged.add_source({"source_file": name, "run_id": run_id}, outcome)
            known[name] = _Stored(None, outcome.status, outcome.message)
            return outcome
        source, extraction = load.source, load.extraction
        check = _file_check(source, known, reread, reread is not None)
        if check.state == "unchanged":
            return LoadResult(name, "skipped", message="unchanged since last ingest")
        if check.state != "duplicate" and extraction is None:
            raise ValueError(f"{name} is {check.state}: it needs an extraction")
        if check.state == "reread":
            staged.decisions += self._decisions_of(name)
        if check.state != "new":  # a new file has no rows yet: nothing to delete
            self._delete_forms_of(name)
        if check.state == "duplicate":
            outcome, extraction = _duplicate_of(name, check.holder, known), None
        else:
            outcome = staged.add(source, extraction, load.results, run_id)
        staged.add_source(
            {
                "source_file": name,
                "source_sha256": source.sha256,
                "bytes": source.size_bytes,
                "run_id": run_id,
                "extractor": extraction.extractor if extraction else None,
                "pages": extraction.pages if extraction else None,
                "forms_found": len(extraction.forms) if extraction and not extraction.error else 0,
                "reader_version": extraction.reader_version if extraction else None,
            },
            outcome,
        )
        known[name] = _Stored(
            source.sha256,
            outcome.status,
            outcome.message,
            extraction.reader_version if extraction else None,
        )
        return outcome

    def _decisions_of(self, source_file: str) -> list[tuple[str, str | None, bool, bool]]:
        """The review decisions on the forms of ``source_file``, with each form's fingerprint."""
        return self.connection.execute(
            """
            SELECT form_id, fingerprint, released, coalesce(rejected, false) FROM store.form
            WHERE source_file = ? AND (released OR coalesce(rejected, false))
            """,
            [source_file],
        ).fetchall()

    def _restore_decisions(self, decisions: list[tuple[str, str | None, bool, bool]]) -> None:
        """Put back the decisions on forms read again whose content did not change; a form whose
        content changed waits for a new review (its earlier ones stay in the reviews log)."""
        for form_id, fingerprint, released, rejected in decisions:
            self.connection.execute(
                """
                UPDATE store.form SET released = ?, rejected = ?
                WHERE form_id = ? AND fingerprint = ? AND status = 'quarantined'
                """,
                [released, rejected, form_id, fingerprint],
            )

    def _delete_forms_of(self, source_file: str) -> None:
        old_forms = "SELECT form_id FROM store.form WHERE source_file = ?"
        for table in ("check_result", "indicator", "fund_line"):
            self.connection.execute(
                f"DELETE FROM store.{table} WHERE form_id IN ({old_forms})", [source_file]
            )
        self.connection.execute("DELETE FROM store.form WHERE source_file = ?", [source_file])

    def forget_failed(self, source_files: list[str]) -> int:
        """Drop the 'failed' records among ``source_files`` so that they are read again.

        Returns how many were dropped. A failed file has no forms, so nothing else goes.
        """
        if not source_files:
            return 0
        (dropped,) = self.connection.execute(
            "DELETE FROM store.source_file WHERE status = 'failed' "
            "AND source_file IN (SELECT unnest(?::VARCHAR[]))",
            [source_files],
        ).fetchone()
        return dropped

    def start_run(self, run_id: str, flow: str) -> None:
        """Record a run as 'running'. Runs still 'running' were cut off: mark them 'crashed'
        (the writer's lock lets one process write at a time, so they cannot still be going)."""
        self.connection.execute(
            "UPDATE store.ingest_run SET status = 'crashed' WHERE status = 'running'"
        )
        self.connection.execute(
            "INSERT INTO store.ingest_run (run_id, flow, started_at, status) "
            "VALUES (?, ?, ?, 'running')",
            [run_id, flow, _now()],
        )

    def finish_run(self, run_id: str, status: str, counts: RunCounts) -> None:
        """Record a run's end: 'completed', 'failed' or 'crashed', with its counts."""
        self.connection.execute(
            """
            UPDATE store.ingest_run SET finished_at = ?, status = ?, files_seen = ?, files_new = ?,
                files_skipped = ?, files_failed = ?, forms_landed = ?, forms_quarantined = ?
            WHERE run_id = ?
            """,
            [
                _now(),
                status,
                counts.files_seen,
                counts.files_new,
                counts.files_skipped,
                counts.files_failed,
                counts.forms_landed,
                counts.forms_quarantined,
                run_id,
            ],
        )

    def review(self, form_id: str, action: str, note: str, by: str) -> None:
        """Release a quarantined form into ``forms`` ('released') or keep it out ('rejected').

        The decision is logged in ``store.review`` with who, when and why. A form is decided
        once: a second decision raises ValueError quoting the first. Raises LookupError for a
        form that is not quarantined, ValueError for an empty note.
        """
        if action not in ("released", "rejected"):
            raise ValueError(f"action must be 'released' or 'rejected', not {action!r}")
        if not note.strip():
            raise ValueError("a review needs a note saying why")
        row = self.connection.execute(
            "SELECT status, released OR coalesce(rejected, false) FROM store.form "
            "WHERE form_id = ?",
            [form_id],
        ).fetchone()
        if row is None:
            raise LookupError(f"no form {form_id} in {self.path}")
        status, decided = row
        if status != "quarantined":
            raise LookupError(
                f"form {form_id} is {status}, not quarantined: it is in forms already"
            )
        if decided:
            raise ValueError(f"form {form_id} was already {self._last_review(form_id)}")
        con = self.connection
        con.execute("BEGIN TRANSACTION")
        try:
            con.execute(
                "UPDATE store.form SET released = ?, rejected = ? WHERE form_id = ?",
                [action == "released", action == "rejected", form_id],
            )
            con.execute(
                "INSERT INTO store.review (form_id, action, note, reviewed_by, reviewed_at) "
                "VALUES (?, ?, ?, ?, ?)",
                [form_id, action, note.strip(), by, _now()],
            )
            con.execute("COMMIT")
        except BaseException:
            con.execute("ROLLBACK")
            raise

    def _last_review(self, form_id: str) -> str:
        """'released by ann on 2024-05-01 09:30 UTC: "totals checked by hand"'."""
        row = self.connection.execute(
            "SELECT action, reviewed_by, reviewed_at, note FROM store.review WHERE form_id = ? "
            "ORDER BY reviewed_at DESC LIMIT 1",
            [form_id],
        ).fetchone()
        if row is None:
            return "decided"
        action, by, at, note = row
        return f'{action} by {by} on {at.astimezone(timezone.utc):%Y-%m-%d %H:%M} UTC: "{note}"'
