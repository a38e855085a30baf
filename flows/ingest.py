"""The ingest flow, and the pipeline every flow shares: plan, read and check, load.

Files go through in chunks. For each chunk the single writer hashes every file and asks the
warehouse whether it needs reading (same name and sha256: never read again); the new ones are read
in worker processes (`flows.pool`, with a timeout per file) or on a Dask cluster, and each worker
checks its share of the chunk's forms in one Great Expectations call; the writer then loads the
chunk's files in one transaction (one insert per table; should it fail, file by file, so that
only a file that cannot be stored fails). Two chunks are in flight, so the workers read and check
the next chunk while the writer loads the last one. An interrupted run loses at most the chunks in
flight: every loaded chunk is committed, so a rerun skips its files, and the run is marked
'crashed' (or 'failed') in ingest_runs.

Reading can be a Prefect task per file (``extract_file``: cached on the file's content and the
reader code, visible in the Prefect UI), the chunk's forms then checked in shares by the same
workers (local processes, or ``check_batch`` task runs on the Dask workers); or, for large
backfills, each worker gets its share of a chunk to read and check without a task run per file.
:class:`_Workers` is where this is decided.
"""

from __future__ import annotations

import hashlib
import logging
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext
from prefect.runtime import flow_run
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

import flows.pool as pool_module
from extractors import SUPPORTED_SUFFIXES
from flows.pool import (
    DEFAULT_TIMEOUT,
    Checks,
    ExtractionPool,
    ExtractionTimeout,
    WorkerCrashed,
)
from flows.sources import Download, Item, discover_files, read_manifest, resolve
from schemas.records import Form
from warehouse import (
    Extraction,
    FileLoad,
    RunCounts,
    SourceFile,
    Unpulled,
    Warehouse,
    default_db_path,
)

if TYPE_CHECKING:
    from flows.report import ValidationLog

__all__ = ["discover_files", "display_path", "ingest", "summary_line"]

FLOW_LABELS = ("ingest", "nightly", "backfill")
TASK_RUNNERS = ("process", "dask")
CHUNK_FILES = 100
ROOT = Path(__file__).resolve().parents[1]


def _code_version() -> str:
    """A fingerprint of the reader code: cached extractions end when a reader changes."""
    digest = hashlib.sha256()
    paths = [ROOT / "flows" / "pool.py"]  # extract_path: what an extraction holds
    for package in ("extractors", "schemas"):
        paths += sorted((ROOT / package).rglob("*.py"))
    for path in paths:
        digest.update(path.relative_to(ROOT).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


CODE_VERSION = _code_version()


@dataclass
class FileOutcome:
    """What happened to one file in a run.

    ``status`` is a source_files status, or 'skipped' for a file unchanged since its last ingest.
    """

    path: str
    status: str
    forms_landed: int = 0
    forms_quarantined: int = 0
    warnings: int = 0
    message: str | None = None
    year: int | None = None


@dataclass
class RunSummary(RunCounts):
    """The counts of one run (as in ingest_runs), its warning count and each file's outcome.

    ``files_skipped`` counts unchanged files and duplicates of content already ingested;
    ``warnings`` counts failed warning-level checks on the forms loaded in this run.
    """

    run_id: str = ""
    flow: str = "ingest"
    status: str = "running"
    warnings: int = 0
    files: list[FileOutcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # named files of an unsupported type
    report: str | None = None  # the run's HTML report, when one was written
    check_failures: dict[str, int] = field(default_factory=dict)  # check_name → failed checks


@dataclass(frozen=True)
class Engine:
    """How files are read.

    ``task_runner`` 'process': ``workers`` local processes; 'dask': the Dask scheduler at
    ``address`` through Prefect's DaskTaskRunner. ``per_file_tasks`` makes each file a Prefect
    task run (always so on Dask). ``timeout`` is the limit per file, in seconds.
    """

    task_runner: str = "process"
    workers: int = 1
    address: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    per_file_tasks: bool = True

    def __post_init__(self) -> None:
        if self.task_runner not in TASK_RUNNERS:
            raise ValueError(f"task_runner must be one of {TASK_RUNNERS}, not {self.task_runner!r}")
        if self.task_runner == "dask" and not self.address:
            raise ValueError("the dask task runner needs the scheduler's address (tcp://HOST:PORT)")
        if self.workers < 1 or self.timeout <= 0:
            raise ValueError("workers must be at least 1 and the timeout positive")


def _content_key(context: TaskRunContext, parameters: dict[str, Any]) -> str:
    return f"jixiao-extract-{parameters['sha256']}-{CODE_VERSION}"


@task(
    name="extract",
    task_run_name="read {path}",
    cache_key_fn=_content_key,
    cache_expiration=timedelta(days=30),
    persist_result=True,
    retries=0,  # reading is deterministic; timeouts and crashes are reported, not retried
)
def extract_file(path: str, sha256: str, timeout: float = DEFAULT_TIMEOUT) -> Extraction:
    """Read one file and parse its forms (ids from ``sha256``) in a worker process, stopped after
    ``timeout`` s.

    Locally the run's pool reads it; on a Dask worker, a reader process of that worker's own
    (see :func:`flows.pool.read_here_or_in_pool`). Cached on ``sha256`` (the file's content) and
    the reader code's fingerprint.
    """
    return pool_module.read_here_or_in_pool(path, sha256, timeout)


@task(name="check", task_run_name="check forms", cache_policy=NO_CACHE, persist_result=False)
def check_batch(forms: list[Form], keep_gx: bool = False) -> Checks:
    """Check a share of a chunk's forms in one Great Expectations call on a Dask worker (see
    :func:`flows.pool.check_here_or_in_pool`); ``keep_gx`` returns GX's results too."""
    return pool_module.check_here_or_in_pool(forms, keep_gx)


def display_path(path: str | Path) -> str:
    """A path relative to the working directory when it lies under it; URLs as they are."""
    if "://" in str(path):
        return str(path)
    path = Path(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _describe(outcome: FileOutcome) -> str:
    if outcome.status in ("loaded", "partial"):
        forms = outcome.forms_landed + outcome.forms_quarantined
        text = f"{forms} form{'s' if forms != 1 else ''}"
        details = [f"{outcome.forms_quarantined} quarantined"] if outcome.forms_quarantined else []
        if outcome.warnings:
            details.append(f"{outcome.warnings} warning{'s' if outcome.warnings != 1 else ''}")
        return f"{text} ({', '.join(details)})" if details else text
    return f"{outcome.status}: {outcome.message}" if outcome.message else outcome.status


STATUS_STYLES = {"loaded": "green", "partial": "yellow", "failed": "red", "no_forms": "magenta"}


class Reporter:
    """Progress lines to the Prefect run log and, if asked, to stderr under a bar with an ETA."""

    def __init__(self, total: int, to_console: bool) -> None:
        self.total = total
        self.done = 0
        self.logger = get_run_logger()
        self.console = Console(stderr=True, highlight=False, soft_wrap=True) if to_console else None
        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=self.console,
            transient=True,
            disable=not (self.console and self.console.is_terminal),
        )
        self.job = self.bar.add_task("files", total=total)

    def __enter__(self) -> Reporter:
        self.bar.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.bar.stop()

    def chunk_done(self, summary: RunSummary) -> None:
        """A progress line in the run log after each chunk: files done, counts so far."""
        self.logger.info("%d/%d files done: %s", self.done, self.total, summary_line(summary))

    def note(self, message: str) -> None:
        """A line that is not about one file (a download, an ignored file)."""
        self.logger.info("%s", message)
        if self.console:
            self.bar.console.print(Text(message, style="dim"))

    def file_done(self, outcome: FileOutcome) -> None:
        """One file's line: position, path and what happened.

        The run log gets a failed file's line as a warning, the others at debug level (a
        backfill's hundred thousand lines would weigh on Prefect's database); see
        :meth:`chunk_done` for its progress lines.
        """
        self.done += 1
        prefix = f"[{self.done}/{self.total}] {display_path(outcome.path)}: "
        level = logging.WARNING if outcome.status == "failed" else logging.DEBUG
        self.logger.log(level, "%s%s", prefix, _describe(outcome))
        if self.console:
            style = STATUS_STYLES.get(outcome.status, "dim")
            self.bar.console.print(Text.assemble(prefix, (_describe(outcome), style)))
        self.bar.advance(self.job)


def summary_line(summary: RunSummary) -> str:
    """One line with the run's counts."""
    return (
        f"{summary.files_seen} files seen: {summary.files_new} new, "
        f"{summary.files_skipped} skipped, {summary.files_failed} failed; "
        f"{summary.forms_landed} forms landed, {summary.forms_quarantined} quarantined, "
        f"{summary.warnings} warnings"
    )


T = TypeVar("T")
ChunkRead = tuple[dict[str, Extraction], Checks]  # extractions by file name, checks of their forms


def _shares(items: Sequence[T], count: int) -> list[list[T]]:
    """``items`` cut in order into at most ``count`` runs of near-equal length (none if empty)."""
    count = min(count, len(items))
    shares, start = [], 0
    for index in range(count):
        end = start + len(items) // count + (index < len(items) % count)
        shares.append(list(items[start:end]))
        start = end
    return shares


class _Workers:
    """Reads a chunk's files and checks their forms on the chosen engine: the one place that
    decides how.

    - local processes, no task per file: each of the ``workers`` processes gets a share of the
      chunk's files, reads it and checks its forms in one GX call;
    - local processes, a Prefect task per file: the tasks read through the pool; once the chunk
      is read, the same processes check its forms in ``workers`` shares, ahead of any reading;
    - Dask: a Prefect task per file, then ``workers`` ``check_batch`` task runs, on the Dask
      workers too.

    ``keep_gx`` tells whether GX's own results are still wanted (for Data Docs).
    """

    def __init__(self, engine: Engine, keep_gx: Callable[[], bool]) -> None:
        self.engine = engine
        self.keep_gx = keep_gx
        self.pool: ExtractionPool | None = None
        self.runner: Any = None

    def __enter__(self) -> _Workers:
        engine = self.engine
        if engine.task_runner == "dask":
            from prefect_dask import DaskTaskRunner

            self.runner = DaskTaskRunner(address=engine.address)
        else:
            self.pool = ExtractionPool(engine.workers, engine.timeout)
            if engine.per_file_tasks:
                from prefect.task_runners import ThreadPoolTaskRunner

                pool_module.LOCAL_POOL = self.pool
                self.runner = ThreadPoolTaskRunner(max_workers=engine.workers)
        if self.runner is not None:
            try:
                self.runner.__enter__()
            except BaseException:
                self._close_pool()
                raise
        return self

    def __exit__(self, *exc_info: object) -> None:
        try:
            if self.runner is not None:
                self.runner.__exit__(*exc_info)
        finally:
            self._close_pool()

    def _close_pool(self) -> None:
        if self.pool is not None:
            pool_module.LOCAL_POOL = None
            self.pool.close()

    def submit(self, files: dict[str, tuple[str, str]]) -> Callable[[], ChunkRead]:
        """Start reading ``files`` (name → (path, sha256)) and checking their forms; the returned
        function waits for the extractions and the checks."""
        if self.runner is None:
            keep_gx = self.keep_gx()
            batches = [
                (names, self.pool.submit_checked([files[name] for name in names], keep_gx))
                for names in _shares(list(files), self.engine.workers)
            ]
            return lambda: self._gather(batches)
        reads = {
            name: self.runner.submit(
                extract_file, {"path": path, "sha256": sha256, "timeout": self.engine.timeout}
            )
            for name, (path, sha256) in files.items()
        }
        return lambda: self._read_then_check(reads)

    @staticmethod
    def _gather(batches: list[tuple[list[str], Any]]) -> ChunkRead:
        extractions: dict[str, Extraction] = {}
        checks = Checks()
        for names, future in batches:
            batch = future.result()
            extractions.update(zip(names, batch.extractions))
            checks.add(batch.checks)
        return extractions, checks

    def _read_then_check(self, reads: dict[str, Any]) -> ChunkRead:
        extractions = {name: self._settle(future) for name, future in reads.items()}
        forms = [form for extraction in extractions.values() for form in extraction.forms]
        keep_gx = self.keep_gx()
        shares = _shares(forms, self.engine.workers)
        if self.pool is not None:
            futures = [self.pool.submit_checks(share, keep_gx) for share in shares]
        else:
            futures = [
                self.runner.submit(check_batch, {"forms": share, "keep_gx": keep_gx})
                for share in shares
            ]
        checks = Checks()
        for future in futures:
            checks.add(future.result())
        return extractions, checks

    @staticmethod
    def _settle(future: Any) -> Extraction:
        """The extraction of a finished future; a timeout or crash becomes its error message."""
        try:
            return future.result()
        except (ExtractionTimeout, WorkerCrashed) as error:
            return Extraction(error=str(error))
        except Exception as error:
            return Extraction(
                error=f"could not be read ({type(error).__name__}: {error}); run again, or "
                "report this with the file if it persists"
            )


@dataclass
class _Chunk:
    """One chunk in flight: its items and sources, the files that could not be pulled, the
    unchanged files, the reading pending."""

    items: list[Item]
    sources: dict[str, SourceFile] = field(default_factory=dict)
    unpulled: dict[str, str] = field(default_factory=dict)  # name → why it could not be had
    unchanged: dict[str, FileOutcome] = field(default_factory=dict)
    reading: Callable[[], ChunkRead] | None = None


class Pipeline:
    """Plans, reads and checks, and loads the files of one run, filling its summary as it goes.

    ``gx_results``, if given, collects GX's validation results (for Data Docs) while it has room.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        summary: RunSummary,
        reporter: Reporter,
        gx_results: ValidationLog | None = None,
    ) -> None:
        self.warehouse = warehouse
        self.summary = summary
        self.reporter = reporter
        self.gx_results = gx_results
        self.seen: dict[str, str] = {}  # sha256 → the first file holding it in this run

    def run(self, items: list[Item], engine: Engine, chunk_files: int = CHUNK_FILES) -> None:
        """Take ``items`` through in chunks of ``chunk_files``, two chunks in flight."""
        in_flight: deque[_Chunk] = deque()
        with _Workers(engine, self._keep_gx) as workers:
            for start in range(0, len(items), chunk_files):
                in_flight.append(self._plan(items[start : start + chunk_files], workers))
                if len(in_flight) > 1:
                    self._finish(in_flight.popleft())
            while in_flight:
                self._finish(in_flight.popleft())

    def _keep_gx(self) -> bool:
        return self.gx_results is not None and not self.gx_results.full

    def _plan(self, items: list[Item], workers: _Workers) -> _Chunk:
        """Hash each file, decide skip / duplicate / read, and start reading and checking."""
        chunk = _Chunk(items)
        paths: dict[str, str] = {}
        for item in items:
            name = item.source_file
            if item.error is not None:
                chunk.unpulled[name] = item.error
                continue
            try:
                source = replace(SourceFile.from_path(item.path), source_file=name)
            except OSError as error:
                chunk.unpulled[name] = f"cannot read the file: {error}"
                continue
            chunk.sources[name], paths[name] = source, str(item.path)
        to_read: dict[str, tuple[str, str]] = {}
        sources = list(chunk.sources.values())
        for source, check in zip(sources, self.warehouse.check_files(sources), strict=True):
            name = source.source_file
            if check.state == "unchanged":
                chunk.unchanged[name] = FileOutcome(
                    name, "skipped", message="unchanged since last ingest"
                )
            elif check.state in ("new", "changed") and source.sha256 not in self.seen:
                self.seen[source.sha256] = name
                to_read[name] = (paths[name], source.sha256)
            # else: a duplicate, of a stored file or of one read earlier in this run
        if to_read:
            chunk.reading = workers.submit(to_read)
        return chunk

    def _finish(self, chunk: _Chunk) -> None:
        """Wait for the chunk's extractions and checks, then load them in one transaction."""
        extractions, checks = chunk.reading() if chunk.reading else ({}, Checks())
        summary = self.summary
        summary.files_new += len(extractions)
        for results in checks.results.values():
            for result in results:
                failures = summary.check_failures
                failures[result.check_name] = failures.get(result.check_name, 0) + 1
        if self.gx_results is not None:
            self.gx_results.extend(checks.gx_results)
        loads: list[FileLoad | Unpulled] = []
        for item in chunk.items:
            name = item.source_file
            if name in chunk.unpulled:
                loads.append(Unpulled(name, chunk.unpulled[name]))
            elif name not in chunk.unchanged:
                extraction = extractions.get(name)
                forms = extraction.forms if extraction else []
                results = [r for form in forms for r in checks.results.get(form.form_id, [])]
                loads.append(FileLoad(chunk.sources[name], extraction, results))
        outcomes = {**self._load(loads), **chunk.unchanged}
        for item in chunk.items:
            outcome = outcomes[item.source_file]
            outcome.year = item.year
            summary.files.append(outcome)
            summary.files_skipped += outcome.status in ("skipped", "skipped_duplicate")
            summary.files_failed += outcome.status == "failed"
            summary.forms_landed += outcome.forms_landed
            summary.forms_quarantined += outcome.forms_quarantined
            summary.warnings += outcome.warnings
            self.reporter.file_done(outcome)
        self.reporter.chunk_done(summary)

    def _load(self, loads: list[FileLoad | Unpulled]) -> dict[str, FileOutcome]:
        """Load ``loads`` in one transaction; if that fails, file by file, so that a file that
        cannot be stored fails alone (rolled back: it is retried on the next run)."""
        if not loads:
            return {}
        try:
            loaded = self.warehouse.load_files(loads, self.summary.run_id)
        except Exception as error:  # rolled back
            if len(loads) > 1:  # find the file at fault: each in its own transaction
                return {name: o for load in loads for name, o in self._load([load]).items()}
            source_file = loads[0].source_file
            get_run_logger().exception("storing %s failed", source_file)
            message = f"could not be stored ({type(error).__name__}: {error}); nothing was written"
            return {source_file: FileOutcome(source_file, "failed", message=message)}
        return {
            result.source_file: FileOutcome(
                result.source_file,
                result.status,
                result.forms_landed,
                result.forms_quarantined,
                result.warnings,
                result.message,
            )
            for result in loaded
        }


def _run_id() -> str:
    """The flow run's id; a retried flow run gets its attempt number appended."""
    run_id = str(flow_run.get_id())
    attempt = flow_run.get_run_count()
    return run_id if attempt <= 1 else f"{run_id}-{attempt}"


def run_items(
    items: list[Item],
    *,
    db: str | Path | None,
    flow_label: str,
    engine: Engine,
    progress: bool = False,
    ignored: list[str] | None = None,
    report_dir: str | Path | None = None,
    retry_failed: bool = False,
    chunk_files: int = CHUNK_FILES,
    wait: bool | None = None,
) -> RunSummary:
    """Take ``items`` through the pipeline as one run, recorded in ingest_runs.

    The run is 'completed', 'failed' (an error stopped it) or 'crashed' (interrupted); files
    loaded before an interruption stay loaded. With ``report_dir`` an HTML report and GX Data
    Docs are written there; ``retry_failed`` reads files recorded 'failed' again; ``wait``
    waits for another writer instead of failing (default: ``$JIXIAO_WAIT``).
    """
    from flows.report import ValidationLog, publish_summary, write_report

    if flow_label not in FLOW_LABELS:
        raise ValueError(f"flow_label must be one of {FLOW_LABELS}, not {flow_label!r}")
    summary = RunSummary(
        run_id=_run_id(), flow=flow_label, files_seen=len(items), ignored=list(ignored or [])
    )
    gx_log = ValidationLog() if report_dir else None
    with (
        Reporter(len(items), progress) as reporter,
        Warehouse.open(db or default_db_path(), wait=wait) as warehouse,
    ):
        for path in summary.ignored:
            reporter.note(
                f"ignored {path}: not a supported file type ({' '.join(sorted(SUPPORTED_SUFFIXES))})"
            )
        if retry_failed:
            dropped = warehouse.forget_failed([item.source_file for item in items])
            reporter.note(f"reading {dropped} file(s) recorded as failed again")
        warehouse.start_run(summary.run_id, flow_label)
        try:
            Pipeline(warehouse, summary, reporter, gx_log).run(items, engine, chunk_files)
        except Exception:
            summary.status = "failed"
            warehouse.finish_run(summary.run_id, "failed", summary)
            raise
        except BaseException:  # interrupted
            summary.status = "crashed"
            warehouse.finish_run(summary.run_id, "crashed", summary)
            raise
        summary.status = "completed"
        warehouse.finish_run(summary.run_id, "completed", summary)
        try:  # the run's data is committed: a report that cannot be written only warns
            if report_dir:
                summary.report = str(write_report(warehouse, summary, Path(report_dir), gx_log))
            publish_summary(warehouse, summary)
        except Exception as error:
            reporter.logger.warning(
                "the run report could not be written (%s: %s); the run's data is in the warehouse",
                type(error).__name__,
                error,
            )
    reporter.logger.info(summary_line(summary))
    return summary


def collect(
    paths: list[str],
    manifest: str | None,
    db: str | Path | None,
    log: Callable[[str], None],
    max_download_mb: float = 200,
    keep: Callable[[int | None], bool] = lambda year: True,
) -> tuple[list[Item], list[str]]:
    """Items for ``paths`` (files, folders, URLs) and the manifest's lines; the ignored files.

    URLs are downloaded to ``downloads/`` beside the warehouse; ``keep`` filters by year.
    """
    entries = list(paths)
    if manifest:
        entries += read_manifest(manifest)
    download = Download(
        cache_dir=Path(db or default_db_path()).parent / "downloads",
        max_bytes=int(max_download_mb * 2**20),
    )
    items, ignored = resolve(entries, download, log, keep)
    return items, [str(path) for path in ignored]


@flow(name="ingest")
def ingest(
    paths: list[str],
    db: str | None = None,
    flow_label: str = "ingest",
    progress: bool = False,
    manifest: str | None = None,
    workers: int = 1,
    timeout: float = DEFAULT_TIMEOUT,
    task_runner: str = "process",
    address: str | None = None,
    report_dir: str | None = None,
    retry_failed: bool = False,
    max_download_mb: float = 200,
    wait: bool | None = None,
    chunk_files: int = CHUNK_FILES,
) -> RunSummary:
    """Ingest the performance forms in ``paths`` (files, folders, http(s) URLs) and the lines
    of ``manifest`` into the warehouse ``db``.

    ``db`` defaults to ``$JIXIAO_DB`` or ``data/jixiao.duckdb``; ``flow_label`` is recorded in
    ingest_runs ('ingest', 'nightly' or 'backfill'); ``progress`` also prints progress to stderr.
    Files are read by ``workers`` processes (each file a Prefect task run, cached on its content,
    stopped after ``timeout`` seconds), or on the Dask cluster at ``address`` when
    ``task_runner`` is 'dask'; the same workers check the forms, ``chunk_files`` files at a time.
    ``report_dir`` receives the run's HTML report and Data Docs; downloads larger than
    ``max_download_mb`` are refused; ``wait`` waits for another writer.
    """
    engine = Engine(task_runner, workers, address, timeout, per_file_tasks=True)
    logger = get_run_logger()
    items, ignored = collect(
        paths, manifest, db, lambda message: logger.info("%s", message), max_download_mb
    )
    return run_items(
        items,
        db=db,
        flow_label=flow_label,
        engine=engine,
        progress=progress,
        ignored=ignored,
        report_dir=report_dir,
        retry_failed=retry_failed,
        wait=wait,
        chunk_files=chunk_files,
    )
