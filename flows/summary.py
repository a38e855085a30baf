"""What one run did: its counts and each file's outcome, and how they read in one line."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from extractors import SUPPORTED_SUFFIXES
from warehouse import RunCounts

UNSUPPORTED = f"not a supported file type ({' '.join(sorted(SUPPORTED_SUFFIXES))})"
REVIEW_PORT = 8421  # where `jixiao review` listens by default: what a run says links to it


def review_link(form_id: str) -> str:
    """The form's page in ``jixiao review`` on its default port."""
    return f"http://127.0.0.1:{REVIEW_PORT}/forms/{form_id}"


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
    ignored: list[str] = field(default_factory=list)  # files of an unsupported type, skipped
    report: str | None = None  # the run's HTML report, when one was written
    check_failures: dict[str, int] = field(default_factory=dict)  # check_name → failed checks
    files_older_reader: int = 0  # unchanged files another reader version read (see --reread)


def display_path(path: str | Path) -> str:
    """A path relative to the working directory when it lies under it; URLs as they are."""
    if "://" in str(path):
        return str(path)
    path = Path(path)
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def skipped_lines(ignored: list[str], listed: int = 3) -> list[str]:
    """The files of an unsupported type, for people: each named when there are at most ``listed``,
    else counted by suffix with the first ``listed`` named."""
    if len(ignored) <= listed:
        return [f"skipped: {display_path(path)}: {UNSUPPORTED}" for path in ignored]
    suffixes = Counter(Path(path).suffix.lower() or "(no suffix)" for path in ignored)
    counts = ", ".join(f"{count} {suffix}" for suffix, count in suffixes.most_common())
    named = ", ".join(display_path(path) for path in ignored[:listed])
    return [
        f"skipped {len(ignored)} files ({counts}): {UNSUPPORTED}",
        f"  among them: {named}, …",
    ]


def summary_line(summary: RunSummary) -> str:
    """One line with the run's counts; files of an unsupported type are counted apart, and the
    skipped files an older reader read are named."""
    unsupported = (
        f" ({len(summary.ignored)} more skipped: not a supported file type)"
        if summary.ignored
        else ""
    )
    older = (
        f"; {summary.files_older_reader} of the skipped were read by an older reader "
        "(--reread reads them again)"
        if summary.files_older_reader
        else ""
    )
    return (
        f"{summary.files_seen} files seen: {summary.files_new} new, "
        f"{summary.files_skipped} skipped, {summary.files_failed} failed{unsupported}; "
        f"{summary.forms_landed} forms landed, {summary.forms_quarantined} quarantined, "
        f"{summary.warnings} warnings{older}"
    )
