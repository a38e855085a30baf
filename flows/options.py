"""Run options: how a run reads and checks its files, what it reports and which warehouse it
writes. One value, from the command line (or a deployment's parameters) to every flow."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flows.engine import Engine
from flows.extraction.pool import DEFAULT_TIMEOUT
from flows.sources import Download, download_dir
from warehouse import db_path

CHUNK_FILES = 100


@dataclass(frozen=True)
class RunOptions:
    """What a run is asked to do besides its files.

    ``db``: the warehouse (default ``$JIXIAO_DB`` or ``data/jixiao.duckdb``). Files are read by
    ``workers`` processes (stopped after ``timeout`` seconds a file), or on the Dask cluster at
    ``address`` when ``task_runner`` is 'dask'; the same workers check the forms, ``chunk_files``
    files at a time. ``report_dir`` receives each run's HTML report;
    ``retry_failed`` reads files recorded as failed again; ``reread`` reads again the unchanged
    files another reader version read (replacing their forms); ``progress`` also prints progress to
    stderr; downloads larger than ``max_download_mb`` are refused; ``wait`` waits for another
    writer instead of failing (default: ``$JIXIAO_WAIT``).
    """

    db: str | None = None
    workers: int = 1
    timeout: float = DEFAULT_TIMEOUT
    chunk_files: int = CHUNK_FILES
    task_runner: str = "process"
    address: str | None = None
    report_dir: str | None = None
    retry_failed: bool = False
    reread: bool = False
    progress: bool = False
    max_download_mb: float = 200
    wait: bool | None = None

    def warehouse(self) -> Path:
        """The warehouse file the run writes."""
        return db_path(self.db)

    def engine(self, per_file_tasks: bool) -> Engine:
        """How the run's files are read (``per_file_tasks``: a Prefect task run per file)."""
        return Engine(self.task_runner, self.workers, self.address, self.timeout, per_file_tasks)

    def download(self) -> Download:
        """Where and how much the run downloads: ``downloads/`` beside the warehouse."""
        return Download(
            cache_dir=download_dir(self.warehouse()),
            max_bytes=int(self.max_download_mb * 2**20),
        )


DEFAULT_OPTIONS = RunOptions()
