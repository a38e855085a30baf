"""The pipeline every flow shares: plan, read and check, load.

Files go through in chunks. For each chunk the single writer hashes every file and asks the
warehouse whether it needs reading (same name and sha256: never read again); the new ones are read
in worker processes (`flows.extraction.pool`, with a timeout per file) or on a Dask cluster, and
each worker checks its share of the chunk's forms in one Great Expectations call (`flows.engine`);
the writer then loads the chunk's files in one transaction (one insert per table; should it fail,
file by file, so that only a file that cannot be stored fails). Two chunks are in flight, so the
workers read and check the next chunk while the writer loads the last one. An interrupted run
loses at most the chunks in flight: every loaded chunk is committed, so a rerun skips its files,
and the run is marked 'crashed' (or 'failed') in ingest_runs.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

from prefect import get_run_logger
from prefect.runtime import flow_run

from flows.engine import ChunkRead, Engine, Workers
from flows.extraction.extract import READER_VERSION, Checks
from flows.options import CHUNK_FILES, RunOptions
from flows.progress import Reporter
from flows.report import publish_summary, write_report
from flows.sources import Item
from flows.summary import UNSUPPORTED, FileOutcome, RunSummary, summary_line
from warehouse import FileLoad, SourceFile, Unpulled, Warehouse, interrupted_query

FLOW_LABELS = ("ingest", "nightly", "backfill")


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

    With ``reread``, unchanged files that another reader version read are read again.
    """

    def __init__(
        self,
        warehouse: Warehouse,
        summary: RunSummary,
        reporter: Reporter,
        reread: bool = False,
    ) -> None:
        self.warehouse = warehouse
        self.reread = reread
        self.summary = summary
        self.reporter = reporter
        self.seen: dict[str, str] = {}  # sha256 → the first file holding it in this run

    def run(self, items: list[Item], engine: Engine, chunk_files: int = CHUNK_FILES) -> None:
        """Take ``items`` through in chunks of ``chunk_files``, two chunks in flight."""
        in_flight: deque[_Chunk] = deque()
        with Workers(engine, len(items)) as workers:
            for start in range(0, len(items), chunk_files):
                in_flight.append(self._plan(items[start : start + chunk_files], workers))
                if len(in_flight) > 1:
                    self._finish(in_flight.popleft())
            while in_flight:
                self._finish(in_flight.popleft())

    def _plan(self, items: list[Item], workers: Workers) -> _Chunk:
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
        checks = self.warehouse.check_files(sources, READER_VERSION, self.reread)
        for source, check in zip(sources, checks, strict=True):
            name = source.source_file
            if check.state == "unchanged":
                chunk.unchanged[name] = FileOutcome(
                    name, "skipped", message="unchanged since last ingest"
                )
                self.summary.files_older_reader += check.older_reader
            elif check.state in ("new", "changed", "reread") and source.sha256 not in self.seen:
                self.seen[source.sha256] = name
                to_read[name] = (paths[name], source.sha256)
            # else: a duplicate, of a stored file or of one read earlier in this run
        if to_read:
            chunk.reading = workers.submit(to_read)
            self.warehouse.prepare_loading()  # while the workers read
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
            reread = READER_VERSION if self.reread else None
            loaded = self.warehouse.load_files(loads, self.summary.run_id, reread=reread)
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
    options: RunOptions,
    *,
    flow_label: str,
    per_file_tasks: bool,
    ignored: list[str] | None = None,
) -> RunSummary:
    """Take ``items`` through the pipeline as one run, recorded in ingest_runs.

    The run is 'completed', 'failed' (an error stopped it) or 'crashed' (interrupted); files
    loaded before an interruption stay loaded. ``per_file_tasks`` makes each file a Prefect task
    run; ``ignored`` are named files of an unsupported type, noted in the run log.
    """
    engine = options.engine(per_file_tasks)
    report_dir = options.report_dir
    if flow_label not in FLOW_LABELS:
        raise ValueError(f"flow_label must be one of {FLOW_LABELS}, not {flow_label!r}")
    summary = RunSummary(
        run_id=_run_id(), flow=flow_label, files_seen=len(items), ignored=list(ignored or [])
    )
    with (
        Reporter(len(items), options.progress) as reporter,
        Warehouse.open(options.warehouse(), wait=options.wait) as warehouse,
    ):
        for path in summary.ignored:  # listed with the summary
            reporter.logger.info("skipped %s: %s", path, UNSUPPORTED)
        if options.retry_failed:
            dropped = warehouse.forget_failed([item.source_file for item in items])
            reporter.note(f"reading {dropped} file(s) recorded as failed again")
        warehouse.start_run(summary.run_id, flow_label)
        try:
            pipeline = Pipeline(warehouse, summary, reporter, options.reread)
            pipeline.run(items, engine, options.chunk_files)
        except Exception as error:
            if interrupted_query(error):  # Ctrl-C met a DuckDB query: an interruption
                summary.status = "crashed"
                warehouse.finish_run(summary.run_id, "crashed", summary)
                raise KeyboardInterrupt from error
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
                summary.report = str(write_report(warehouse, summary, Path(report_dir)))
            publish_summary(warehouse, summary)
        except Exception as error:
            reporter.logger.warning(
                "the run report could not be written (%s: %s); the run's data is in the warehouse",
                type(error).__name__,
                error,
            )
    reporter.logger.info(summary_line(summary))
    return summary
