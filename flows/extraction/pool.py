"""Reading and checking in worker processes: parallel, isolated from the writer, with a timeout per
file.

pdfium is not thread-safe, so parallel reading needs processes. Each worker is a process forked
from a ``forkserver`` that has imported the readers and Great Expectations once (so a worker, or a
fresh one replacing a stopped worker, starts at once), or from the warm worker server that keeps
them imported between runs, when this process uses one (:mod:`flows.extraction.warm`). It runs
in the parent's environment, its OCR on one core or on its share of the idle ones
(:func:`reading_threads`), and takes one job at a time: a file to read
(:meth:`ExtractionPool.submit`) or forms read before, to check in one GX call
(:meth:`ExtractionPool.submit_checks`). Jobs are taken in the order they were submitted, checks
ahead of any reading, by whichever worker is free: a long file keeps one worker busy while the
others go on with the rest. A worker builds its GX context on its first check and reuses it. A
dispatcher thread in the parent hands out jobs, collects results and enforces the per-file
timeout by killing the worker and starting a fresh one. A worker that dies (a reader crashing on
a hostile file) fails only its file. Checking has no timeout. The parent stays the single DuckDB
writer. (Not pebble: this pool's workers are forked with the readers and models already loaded.)
"""

from __future__ import annotations

import multiprocessing
import os
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, field
from multiprocessing.connection import wait
from typing import Any

from flows.extraction import warm
from flows.extraction.extract import WORKER_PRELOAD, Checks, check_forms, extract_path, run_worker
from schemas.records import Extraction, Form

DEFAULT_TIMEOUT = 300.0


class ExtractionTimeout(Exception):
    """A file took longer than the per-file timeout; its worker was stopped."""


class WorkerCrashed(Exception):
    """The worker process reading a file, or checking forms, died."""


class ChecksFailed(Exception):
    """Great Expectations could not check a batch of forms (a bug: the run stops)."""


def timeout_message(seconds: float) -> str:
    """The error recorded for a file stopped by the per-file timeout."""
    return (
        f"reading took longer than {seconds:g} s and was stopped; split the file into smaller "
        "ones, or run again with a larger --timeout and --retry-failed"
    )


@dataclass
class _Job:
    """One job: a file to read (``file``: path and sha256), or ``forms`` to check."""

    future: Future[Any]
    file: tuple[str, str | None] | None = None
    forms: list[Form] = field(default_factory=list)

    def message(self) -> tuple:
        """What the worker taking this job is sent."""
        if self.file is not None:
            return ("read", self.file)
        return ("check", self.forms)


class _Worker:
    def __init__(self, context: Any, threads: int | None) -> None:
        taken = warm.take_worker(dict(os.environ), threads)
        if taken is not None:
            self.connection, self.process = taken
        else:
            self.connection, child = context.Pipe()
            self.process = context.Process(
                target=run_worker, args=(child, dict(os.environ), threads), daemon=True
            )
            self.process.start()
            child.close()
        self.job: _Job | None = None
        self.started: float | None = None  # when its current file was started; None: checking

    def stop(self, kill: bool) -> None:
        if kill:
            self.process.kill()
        else:
            try:
                self.connection.send(None)
            except OSError:
                pass
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()
        self.process.close()
        self.connection.close()


def reading_threads(workers: int, files: int) -> int:
    """The OCR threads of each of ``workers`` processes reading ``files`` files: one (a run reads
    on as many cores as it has workers) unless every file has a worker of its own, in which case
    the machine's cores are shared among the files (a scanned file ingested alone is read on
    all of them)."""
    if files > workers:
        return 1
    return max(1, (os.cpu_count() or 1) // max(files, 1))


class ExtractionPool:
    """``workers`` processes reading files and checking forms; each ``submit…`` gives a future.

    A timed-out or crashed file fails with :class:`ExtractionTimeout` or :class:`WorkerCrashed`;
    an unreadable file is an Extraction whose ``error`` says why. ``threads``: each worker's OCR
    threads (see :func:`reading_threads`; None: the OCR engine's default, a thread per core).
    Use it as a context manager: leaving it stops every worker.
    """

    def __init__(
        self, workers: int, timeout: float = DEFAULT_TIMEOUT, threads: int | None = None
    ) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.timeout = timeout
        self._context = multiprocessing.get_context("forkserver")
        self._context.set_forkserver_preload(WORKER_PRELOAD)
        self._size = workers
        self._threads = threads
        self._workers: list[_Worker] = []  # started with the first job: a run may need none
        self._queue: deque[_Job] = deque()
        self._wake_parent, self._wake = self._context.Pipe(duplex=False)
        self._lock = threading.Lock()
        self._closing = False
        self._thread = threading.Thread(target=self._dispatch, name="extraction-pool", daemon=True)
        self._thread.start()

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, path: str, sha256: str | None = None) -> Future[Extraction]:
        """Queue ``path`` for reading, after the files queued before it (its forms get ids when
        ``sha256`` is given)."""
        return self._put(_Job(Future(), file=(path, sha256)))

    def submit_checks(self, forms: list[Form]) -> Future[Checks]:
        """Queue ``forms`` (with their ids) to be checked in one call, ahead of any reading."""
        return self._put(_Job(Future(), forms=list(forms)), first=True)

    def close(self) -> None:
        """Stop the workers; jobs still queued or under way are cancelled."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._wake.send(None)
        self._thread.join()

    def _put(self, job: _Job, first: bool = False) -> Future[Any]:
        with self._lock:
            if self._closing:
                raise RuntimeError("the extraction pool is closed")
            if first:
                self._queue.appendleft(job)
            else:
                self._queue.append(job)
        self._wake.send(None)
        return job.future

    def _dispatch(self) -> None:
        try:
            while not self._closing:
                self._assign()
                busy = [worker for worker in self._workers if worker.job]
                timed = [w.started + self.timeout for w in busy if w.started is not None]
                wait_for = None if not timed else max(0.0, min(timed) - time.monotonic())
                ready = wait(
                    [self._wake_parent, *(worker.connection for worker in busy)], timeout=wait_for
                )
                if self._wake_parent in ready:
                    while self._wake_parent.poll():
                        self._wake_parent.recv()
                for worker in busy:
                    if worker.connection in ready:
                        self._collect(worker)
                    elif (
                        worker.started is not None
                        and time.monotonic() - worker.started > self.timeout
                    ):
                        self._fail_file(worker, ExtractionTimeout(timeout_message(self.timeout)))
        finally:
            self._shut_down()

    def _assign(self) -> None:
        if not self._workers and self._queue:
            self._workers = [_Worker(self._context, self._threads) for _ in range(self._size)]
        for worker in self._workers:
            if worker.job is not None:
                continue
            with self._lock:
                if not self._queue:
                    return
                job = self._queue.popleft()
            if not job.future.running() and not job.future.set_running_or_notify_cancel():
                continue
            worker.job = job
            worker.started = time.monotonic() if job.file is not None else None
            worker.connection.send(job.message())

    def _collect(self, worker: _Worker) -> None:
        job = worker.job
        try:
            kind, payload = worker.connection.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            exit_code = "" if code is None else f" (worker exit code {code})"
            if job.file is not None:
                self._fail_file(
                    worker,
                    WorkerCrashed(
                        f"the reader crashed on this file{exit_code}; the file may be damaged or "
                        "hostile: check it, or report it with the file"
                    ),
                )
            else:
                self._replace(worker)
                job.future.set_exception(
                    WorkerCrashed(f"the worker checking forms crashed{exit_code}")
                )
            return
        worker.job = None
        if kind in ("read", "checked"):
            job.future.set_result(payload)
        else:
            job.future.set_exception(ChecksFailed(f"the checks could not run: {payload}"))

    def _fail_file(self, worker: _Worker, error: Exception) -> None:
        """The file ``worker`` was reading failed with ``error``; a fresh worker takes its place."""
        job = worker.job
        self._replace(worker)
        job.future.set_exception(error)

    def _replace(self, worker: _Worker) -> None:
        worker.job = None
        worker.stop(kill=True)
        self._workers[self._workers.index(worker)] = _Worker(self._context, self._threads)

    def _shut_down(self) -> None:
        for worker in self._workers:
            if worker.job:
                worker.job.future.set_exception(RuntimeError("the extraction pool was closed"))
            worker.stop(kill=worker.job is not None)
        with self._lock:
            for job in self._queue:
                if job.future.running():
                    job.future.set_exception(RuntimeError("the extraction pool was closed"))
                else:
                    job.future.cancel()
            self._queue.clear()
        self._wake.close()
        self._wake_parent.close()


LOCAL_POOL: ExtractionPool | None = None  # the run's pool, set while a local run reads
_OWN_POOL: ExtractionPool | None = None  # a Dask worker's reader process, started on first use
_OWN_LOCK = threading.Lock()


def _own_pool(timeout: float | None = None) -> ExtractionPool | None:
    """This Dask worker's reader process (reading with ``timeout``, if given), or None on a
    daemonic worker, which may not start one."""
    global _OWN_POOL
    with _OWN_LOCK:
        if multiprocessing.current_process().daemon:
            return None
        if _OWN_POOL is None:
            _OWN_POOL = ExtractionPool(1, timeout or DEFAULT_TIMEOUT)
        if timeout is not None:
            _OWN_POOL.timeout = timeout
        return _OWN_POOL


def read_here_or_in_pool(path: str, sha256: str, timeout: float) -> Extraction:
    """Read ``path`` through the run's pool or, on a Dask worker, a reader process of its own.

    A daemonic Dask worker may not start processes: it then reads in its own process, one file
    at a time (pdfium is not thread-safe) and without the timeout. Start such workers with
    ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` to keep the timeout.
    """
    if LOCAL_POOL is not None:
        return LOCAL_POOL.submit(path, sha256).result()
    pool = _own_pool(timeout)
    if pool is None:
        with _OWN_LOCK:
            return extract_path(path, sha256)
    return pool.submit(path, sha256).result()


def check_here_or_in_pool(forms: list[Form]) -> Checks:
    """Check ``forms`` on a Dask worker: in its reader process, or in its own on a daemonic one."""
    pool = _own_pool()
    if pool is None:
        return check_forms(forms)
    return pool.submit_checks(forms).result()


def start_worker_server() -> None:
    """Start the forkserver the workers are forked from now, so that its imports (the readers,
    Great Expectations) run while the caller starts up; a pool made later forks from it."""
    from multiprocessing import forkserver

    multiprocessing.get_context("forkserver").set_forkserver_preload(WORKER_PRELOAD)
    forkserver.ensure_running()
