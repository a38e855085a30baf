"""The backfill flow: an archive of past years (year folders, or a manifest) into the warehouse.

A file's year is the innermost folder of its path (or URL) named like ``2019``, ``2019年`` or
``2019年度``; ``--from``/``--to`` select on it, before anything is read or downloaded, and files
without such a folder are then left out. Files are read in parallel by worker processes (or on a
Dask cluster) in chunks, oldest year first, with a progress bar and ETA. The run is resumable:
every loaded file is committed, so running the same backfill again reads only what an
interruption left unread (``files_new = 0`` once everything is in).
"""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from prefect import flow, get_run_logger

from flows.options import RunOptions
from flows.pipeline import run_items
from flows.sources import collect, read_manifest
from flows.summary import RunSummary


@dataclass
class YearLine:
    """One line of the per-year summary."""

    year: int | None
    files: int = 0
    read: int = 0
    skipped: int = 0
    failed: int = 0
    forms_landed: int = 0
    forms_quarantined: int = 0


READ_STATUSES = ("loaded", "partial", "no_forms")
BACKFILL_OPTIONS = RunOptions(workers=os.cpu_count() or 1)


def per_year(summary: RunSummary) -> list[YearLine]:
    """The run's counts by archive year, oldest first (files without a year last)."""
    lines: dict[int | None, YearLine] = defaultdict(lambda: YearLine(None))
    for outcome in summary.files:
        line = lines[outcome.year]
        line.year = outcome.year
        line.files += 1
        line.read += outcome.status in READ_STATUSES
        line.skipped += outcome.status in ("skipped", "skipped_duplicate")
        line.failed += outcome.status == "failed"
        line.forms_landed += outcome.forms_landed
        line.forms_quarantined += outcome.forms_quarantined
    return sorted(lines.values(), key=lambda line: (line.year is None, line.year or 0))


def year_table(summary: RunSummary) -> str:
    """The per-year summary as an aligned text table."""
    header = ("year", "files", "read", "skipped", "failed", "forms", "quarantined")
    rows = [header] + [
        (
            str(line.year or "?"),
            *map(
                str,
                (
                    line.files,
                    line.read,
                    line.skipped,
                    line.failed,
                    line.forms_landed,
                    line.forms_quarantined,
                ),
            ),
        )
        for line in per_year(summary)
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.rjust(width) for cell, width in zip(row, widths)) for row in rows
    )


def archive_entries(source: str) -> list[str]:
    """The archive's entries: the folder itself, or the lines of a manifest file."""
    path = Path(source)
    if path.is_dir():
        return [str(path)]
    if path.is_file():
        return read_manifest(path)
    raise FileNotFoundError(
        f"no such archive: {source} (give a folder of year folders, or a manifest file listing "
        "one path or URL per line)"
    )


@flow(name="backfill")
def backfill(
    source: str,
    from_year: int | None = None,
    to_year: int | None = None,
    options: RunOptions = BACKFILL_OPTIONS,
) -> RunSummary:
    """Backfill the archive ``source`` (a folder of year folders, or a manifest) as ``options``
    say (default: a worker process per core).

    Years ``from_year``..``to_year`` (inclusive, by folder name) are taken, oldest first. Files
    are read and their forms checked by the worker processes without a Prefect task run per file
    (on a Dask cluster: a task run per file).
    """
    logger = get_run_logger()

    def keep(year: int | None) -> bool:
        if from_year is None and to_year is None:
            return True
        return year is not None and (from_year or 0) <= year <= (to_year or 9999)

    items, ignored = collect(
        archive_entries(source),
        None,
        options.download(),
        lambda message: logger.info("%s", message),
        keep=keep,
    )
    items.sort(key=lambda item: (item.year is None, item.year or 0, item.source_file))
    summary = run_items(
        items,
        options,
        flow_label="backfill",
        per_file_tasks=options.task_runner == "dask",
        ignored=ignored,
    )
    logger.info("by year:\n%s", year_table(summary))
    return summary
