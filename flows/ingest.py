"""The ingest flow: files, folders, URLs and a manifest's lines into the warehouse, once."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.options import DEFAULT_OPTIONS, RunOptions
from flows.pipeline import run_items
from flows.sources import collect
from flows.summary import RunSummary


@flow(name="ingest")
def ingest(
    paths: list[str],
    manifest: str | None = None,
    options: RunOptions = DEFAULT_OPTIONS,
    flow_label: str = "ingest",
) -> RunSummary:
    """Ingest the performance forms in ``paths`` (files, folders, http(s) URLs) and the lines
    of ``manifest`` as ``options`` say (see :class:`flows.options.RunOptions`).

    Each file is a Prefect task run, cached on its content and name; ``flow_label`` is recorded
    in ingest_runs ('ingest', 'nightly' or 'backfill').
    """
    logger = get_run_logger()
    items, ignored = collect(
        paths, manifest, options.download(), lambda message: logger.info("%s", message)
    )
    return run_items(items, options, flow_label=flow_label, per_file_tasks=True, ignored=ignored)
