"""The ingest flow: files, folders, URLs and a manifest's lines into the warehouse, once."""

from __future__ import annotations

from prefect import flow, get_run_logger

from flows.engine import Engine
from flows.extraction.pool import DEFAULT_TIMEOUT
from flows.pipeline import CHUNK_FILES, run_items
from flows.sources import collect
from flows.summary import RunSummary


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
    Files are read by ``workers`` processes (each file a Prefect task run, cached on its content
    and name, stopped after ``timeout`` seconds), or on the Dask cluster at ``address`` when
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
