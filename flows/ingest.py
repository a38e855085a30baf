"""The ingest flow: find files, read the new ones, check every form at once, load file by file.

Reading runs one Prefect task per file, one after another: extraction is deterministic (no
retries) and pdfium is not thread-safe. A file that cannot be read is recorded as 'failed' with
its message; it never stops the batch. One connection writes the warehouse.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.runtime import flow_run
from rich.console import Console
from rich.progress import Progress
from rich.text import Text

from expectations import validate
from extractors import SUPPORTED_SUFFIXES, read_document
from extractors.errors import UnreadableFile
from extractors.forms import parse_forms
from schemas.records import CheckResult
from warehouse import (
    Extraction,
    RunCounts,
    SourceFile,
    Warehouse,
    default_db_path,
    form_id_for,
)

FLOW_LABELS = ("ingest", "nightly", "backfill")
WAREHOUSE_SUFFIXES = frozenset({".duckdb", ".wal"})  # our own files: never ingested, never reported


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


@dataclass
class RunSummary(RunCounts):
    """The counts of one run (as in ingest_runs), its warning count and each file's outcome.

    ``files_skipped`` counts unchanged files and duplicates of content already ingested;
    ``warnings`` counts failed warning-level checks on the forms loaded in this run.
    """

    run_id: str = ""
    warnings: int = 0
    files: list[FileOutcome] = field(default_factory=list)
    ignored: list[str] = field(default_factory=list)  # named files of an unsupported type


@dataclass
class Discovery:
    """Files found under the given paths, and named files that are not of a supported type."""

    files: list[Path]
    ignored: list[Path]


def discover_files(paths: Iterable[str | Path]) -> Discovery:
    """Supported files among ``paths`` and, recursively, inside folders among them.

    Hidden files and folders are skipped while walking; warehouse files are always skipped.
    Raises FileNotFoundError naming the first path that does not exist.
    """
    found: dict[Path, None] = {}
    ignored: list[Path] = []
    for given in map(Path, paths):
        if not given.exists():
            raise FileNotFoundError(
                f"no such file or folder: {given} (check the spelling; relative paths are "
                f"taken from {Path.cwd()})"
            )
        if given.is_file():
            suffix = given.suffix.lower()
            if suffix in SUPPORTED_SUFFIXES:
                found[given.resolve()] = None
            elif suffix not in WAREHOUSE_SUFFIXES:
                ignored.append(given)
            continue
        for folder, subfolders, names in os.walk(given):
            subfolders[:] = sorted(name for name in subfolders if not name.startswith("."))
            for name in sorted(names):
                path = Path(folder) / name
                if not name.startswith(".") and path.suffix.lower() in SUPPORTED_SUFFIXES:
                    found[path.resolve()] = None
    return Discovery(sorted(found), ignored)


def display_path(path: str | Path) -> str:
    """A path relative to the working directory when it lies under it."""
    path = Path(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


@task(retries=0, cache_policy=NO_CACHE, task_run_name="read {path}")
def extract_file(path: str) -> Extraction:
    """Read one file and parse its forms; any failure becomes the extraction's error message."""
    extraction = Extraction()
    try:
        document = read_document(Path(path))
        extraction.pages = document.pages
        extraction.extractor = document.extractor
        extraction.n_tables = document.n_tables
        extraction.forms = parse_forms(document)
    except UnreadableFile as error:
        extraction.error = str(error)
    except Exception as error:  # a reader or parser bug must not stop the batch
        get_run_logger().exception("extracting %s failed", path)
        extraction.forms = []
        extraction.error = (
            f"could not extract forms ({type(error).__name__}: {error}); "
            "this is a bug in jixiao: please report it with the file"
        )
    return extraction


def _validate(extractions: dict[str, Extraction]) -> dict[str, list[CheckResult]]:
    """Check every form of the batch in one call; results grouped by form id."""
    forms = [form for extraction in extractions.values() for form in extraction.forms]
    if not forms:
        return {}
    grouped: dict[str, list[CheckResult]] = defaultdict(list)
    for result in validate(forms):
        grouped[result.form_id].append(result)
    return grouped


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


class _Reporter:
    """Progress lines to the Prefect run log and, if asked, to stderr."""

    def __init__(self, total: int, to_console: bool) -> None:
        self.total = total
        self.logger = get_run_logger()
        self.console = Console(stderr=True, highlight=False, soft_wrap=True) if to_console else None

    def file_done(self, index: int, outcome: FileOutcome) -> None:
        prefix = f"[{index}/{self.total}] {display_path(outcome.path)}: "
        self.logger.info("%s%s", prefix, _describe(outcome))
        if self.console:
            style = STATUS_STYLES.get(outcome.status, "dim")
            self.console.print(Text.assemble(prefix, (_describe(outcome), style)))

    def summary(self, summary: RunSummary) -> None:
        self.logger.info(summary_line(summary))


def summary_line(summary: RunSummary) -> str:
    """One line with the run's counts."""
    return (
        f"{summary.files_seen} files seen: {summary.files_new} new, "
        f"{summary.files_skipped} skipped, {summary.files_failed} failed; "
        f"{summary.forms_landed} forms landed, {summary.forms_quarantined} quarantined, "
        f"{summary.warnings} warnings"
    )


def _read_all(paths: list[str], reporter: _Reporter) -> dict[str, Extraction]:
    extractions: dict[str, Extraction] = {}
    with Progress(
        console=reporter.console,
        transient=True,
        disable=not (reporter.console and reporter.console.is_terminal),
    ) as bar:
        job = bar.add_task("reading", total=len(paths))
        for path in paths:
            bar.update(job, description=f"reading {display_path(path)}")
            extractions[path] = extract_file(path)
            bar.advance(job)
    return extractions


def _run(warehouse: Warehouse, files: list[Path], summary: RunSummary, reporter: _Reporter) -> None:
    """Hash, read, check and load ``files``, filling ``summary`` as it goes."""
    run_id = summary.run_id
    sources: dict[str, SourceFile] = {}
    to_read: list[str] = []
    outcomes: dict[str, FileOutcome] = {}
    first_with_content: dict[str, str] = {}
    for path in map(str, files):
        try:
            source = sources[path] = SourceFile.from_path(Path(path))
        except OSError as error:
            outcomes[path] = FileOutcome(path, "failed", message=f"cannot read the file: {error}")
            continue
        state = warehouse.check_file(source).state
        if state == "unchanged":
            outcomes[path] = FileOutcome(path, "skipped", message="unchanged since last ingest")
        elif state in ("new", "changed") and source.sha256 not in first_with_content:
            first_with_content[source.sha256] = path
            to_read.append(path)
        # else: a duplicate, of a stored file or of one read earlier in this batch
    summary.files_new = len(to_read)

    extractions = _read_all(to_read, reporter)
    for path in to_read:
        for form in extractions[path].forms:
            form.form_id = form_id_for(sources[path].sha256, form.form_ordinal)
    results = _validate(extractions)

    for index, path in enumerate(map(str, files), start=1):
        if path not in outcomes:
            outcomes[path] = _load(warehouse, sources[path], extractions.get(path), results, run_id)
        outcome = outcomes[path]
        summary.files.append(outcome)
        summary.files_skipped += outcome.status in ("skipped", "skipped_duplicate")
        summary.files_failed += outcome.status == "failed"
        summary.forms_landed += outcome.forms_landed
        summary.forms_quarantined += outcome.forms_quarantined
        summary.warnings += outcome.warnings
        reporter.file_done(index, outcome)


def _load(
    warehouse: Warehouse,
    source: SourceFile,
    extraction: Extraction | None,
    results: dict[str, list[CheckResult]],
    run_id: str,
) -> FileOutcome:
    forms = extraction.forms if extraction else []
    file_results = [result for form in forms for result in results.get(form.form_id, [])]
    try:
        loaded = warehouse.load_file(source, extraction, file_results, run_id)
    except Exception as error:  # rolled back: the file is retried on the next run
        get_run_logger().exception("storing %s failed", source.source_file)
        return FileOutcome(
            source.source_file,
            "failed",
            message=f"could not be stored ({type(error).__name__}: {error}); nothing was written",
        )
    return FileOutcome(
        source.source_file,
        loaded.status,
        loaded.forms_landed,
        loaded.forms_quarantined,
        loaded.warnings,
        loaded.message,
    )


@flow(name="ingest")
def ingest(
    paths: list[str],
    db: str | None = None,
    flow_label: str = "ingest",
    progress: bool = False,
) -> RunSummary:
    """Ingest the performance forms in ``paths`` (files or folders) into the warehouse ``db``.

    ``db`` defaults to ``$JIXIAO_DB`` or ``data/jixiao.duckdb``; ``flow_label`` is recorded in
    ingest_runs ('ingest', 'nightly' or 'backfill'); ``progress`` also prints progress to stderr.
    """
    if flow_label not in FLOW_LABELS:
        raise ValueError(f"flow_label must be one of {FLOW_LABELS}, not {flow_label!r}")
    discovery = discover_files(paths)
    reporter = _Reporter(len(discovery.files), progress)
    for path in discovery.ignored:
        reporter.logger.info(
            "ignored %s: not a supported file type (%s)", path, " ".join(sorted(SUPPORTED_SUFFIXES))
        )
    summary = RunSummary(
        run_id=str(flow_run.get_id()),
        files_seen=len(discovery.files),
        ignored=[str(path) for path in discovery.ignored],
    )
    with Warehouse.open(db or default_db_path()) as warehouse:
        warehouse.start_run(summary.run_id, flow_label)
        try:
            _run(warehouse, discovery.files, summary, reporter)
        except Exception:
            warehouse.finish_run(summary.run_id, "failed", summary)
            raise
        except BaseException:  # interrupted
            warehouse.finish_run(summary.run_id, "crashed", summary)
            raise
        warehouse.finish_run(summary.run_id, "completed", summary)
    reporter.summary(summary)
    return summary
