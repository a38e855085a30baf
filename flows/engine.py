"""How a run's files are read and their forms checked: local worker processes or a Dask cluster,
with or without a Prefect task run per file.

Each file is read on its own, the largest first (its size in bytes is the estimate of its work),
by whichever worker is free: a Prefect task per file (``extract_file``: cached on the file's
content and the reader code, visible in the Prefect UI) or, for large backfills, a job of the
local worker pool without a task run. Once a chunk is read, its forms are checked in shares by
the same workers (local processes, ahead of their reading, or ``check_batch`` task runs on the
Dask workers). :class:`Workers` is where this is decided.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any, TypeVar

from prefect import task
from prefect.cache_policies import NO_CACHE
from prefect.context import TaskRunContext

import flows.extraction.pool as pool_module
from flows.extraction.extract import READER_VERSION, Checks
from flows.extraction.pool import (
    DEFAULT_TIMEOUT,
    ExtractionPool,
    ExtractionTimeout,
    WorkerCrashed,
    reading_threads,
)
from schemas.records import Extraction, Form

TASK_RUNNERS = ("process", "dask")


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
    """What an extraction depends on: the bytes, the reader code, and the file's path (its
    suffix picks the reader, and messages name the file and the command to debug it)."""
    name = hashlib.sha256(str(Path(parameters["path"]).absolute()).encode()).hexdigest()[:16]
    return f"jixiao-extract-{parameters['sha256']}-{name}-{READER_VERSION}"


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
    (see :func:`flows.extraction.pool.read_here_or_in_pool`). Cached on ``sha256`` (the file's
    content), the file's path and the reader code's fingerprint.
    """
    return pool_module.read_here_or_in_pool(path, sha256, timeout)


@task(name="check", task_run_name="check forms", cache_policy=NO_CACHE, persist_result=False)
def check_batch(forms: list[Form]) -> Checks:
    """Check a share of a chunk's forms in one Great Expectations call on a Dask worker (see
    :func:`flows.extraction.pool.check_here_or_in_pool`)."""
    return pool_module.check_here_or_in_pool(forms)


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


def largest_first(files: dict[str, tuple[str, str]]) -> list[str]:
    """The names of ``files`` (name → (path, sha256)), the largest file first: read in this order,
    a long file starts early instead of keeping one worker busy after the others are done."""

    def size(name: str) -> int:
        try:
            return os.stat(files[name][0]).st_size
        except OSError:  # gone since it was hashed: its reading says so
            return 0

    return sorted(files, key=size, reverse=True)


class Workers:
    """Reads a chunk's files and checks their forms on the chosen engine: the one place that
    decides how.

    Each file is read on its own, largest first, by the next free worker; once the chunk is
    read, its forms are checked in ``workers`` shares of one GX call each:

    - local processes, no task per file: the pool's jobs, checks ahead of the reading of the
      next chunk (queued behind this one, so no worker waits for the chunk's last file);
    - local processes, a Prefect task per file: the tasks read through the pool, checked the same;
    - Dask: a Prefect task per file, then ``workers`` ``check_batch`` task runs, on the Dask
      workers too.

    ``files``: how many files the run may read (:func:`flows.extraction.pool.reading_threads`).
    """

    def __init__(self, engine: Engine, files: int) -> None:
        self.engine = engine
        self.files = files
        self.pool: ExtractionPool | None = None
        self.runner: Any = None

    def __enter__(self) -> Workers:
        engine = self.engine
        if engine.task_runner == "dask":
            from prefect_dask import DaskTaskRunner

            self.runner = DaskTaskRunner(address=engine.address)
        else:
            threads = reading_threads(engine.workers, self.files)
            self.pool = ExtractionPool(engine.workers, engine.timeout, threads)
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
        reads = {}
        for name in largest_first(files):
            path, sha256 = files[name]
            if self.runner is None:
                reads[name] = self.pool.submit(path, sha256)
            else:
                parameters = {"path": path, "sha256": sha256, "timeout": self.engine.timeout}
                reads[name] = self.runner.submit(extract_file, parameters)
        return lambda: self._read_then_check(reads)

    def _read_then_check(self, reads: dict[str, Any]) -> ChunkRead:
        extractions = {name: self._settle(future) for name, future in reads.items()}
        forms = [form for extraction in extractions.values() for form in extraction.forms]
        shares = _shares(forms, self.engine.workers)
        if self.pool is not None:
            futures = [self.pool.submit_checks(share) for share in shares]
        else:
            futures = [self.runner.submit(check_batch, {"forms": share}) for share in shares]
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
