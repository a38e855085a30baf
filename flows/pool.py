"""Extraction in worker processes: parallel, isolated from the writer, with a timeout per file.

pdfium is not thread-safe, so parallel reading needs processes. Each worker is a ``spawn``ed
process that reads one file at a time; a dispatcher thread in the parent hands out files, collects
results and enforces the per-file timeout by killing the worker and starting a fresh one. A worker
that dies (a reader crashing on a hostile file) fails only its file. The parent stays the single
DuckDB writer.
"""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections import deque
from concurrent.futures import Future
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import Any

from extractors import read_document
from extractors.errors import UnreadableFile
from extractors.forms import parse_forms
from warehouse import Extraction

DEFAULT_TIMEOUT = 300.0


class ExtractionTimeout(Exception):
    """A file took longer than the per-file timeout; its worker was stopped."""


class WorkerCrashed(Exception):
    """The worker process reading a file died."""


def extract_path(path: str) -> Extraction:
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
        extraction.forms = []
        extraction.error = (
            f"could not extract forms ({type(error).__name__}: {error}); "
            "this is a bug in jixiao: please report it with the file"
        )
    return extraction


def timeout_message(seconds: float) -> str:
    """The error recorded for a file stopped by the per-file timeout."""
    return (
        f"reading took longer than {seconds:g} s and was stopped; split the file into smaller "
        "ones, or run again with a larger --timeout and --retry-failed"
    )


def _serve(connection: Connection) -> None:
    """A worker's loop: receive a path, send back its extraction, until told to stop."""
    while True:
        try:
            path = connection.recv()
        except (EOFError, KeyboardInterrupt):
            return
        if path is None:
            return
        connection.send(extract_path(path))


class _Worker:
    def __init__(self, context: Any) -> None:
        self.connection, child = context.Pipe()
        self.process = context.Process(target=_serve, args=(child,), daemon=True)
        self.process.start()
        child.close()
        self.job: tuple[str, Future[Extraction]] | None = None
        self.started = 0.0

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
        self.connection.close()


class ExtractionPool:
    """``workers`` processes reading files; :meth:`submit` returns a future of the extraction.

    The future fails with :class:`ExtractionTimeout` or :class:`WorkerCrashed`; otherwise it holds
    an :class:`Extraction` (whose ``error`` says why an unreadable file could not be read).
    Use it as a context manager: leaving it stops every worker.
    """

    def __init__(self, workers: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.timeout = timeout
        self._context = multiprocessing.get_context("spawn")
        self._workers = [_Worker(self._context) for _ in range(workers)]
        self._queue: deque[tuple[str, Future[Extraction]]] = deque()
        self._wake_parent, self._wake = self._context.Pipe(duplex=False)
        self._lock = threading.Lock()
        self._closing = False
        self._thread = threading.Thread(target=self._dispatch, name="extraction-pool", daemon=True)
        self._thread.start()

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def submit(self, path: str) -> Future[Extraction]:
        """Queue ``path`` for reading."""
        future: Future[Extraction] = Future()
        with self._lock:
            if self._closing:
                raise RuntimeError("the extraction pool is closed")
            self._queue.append((path, future))
        self._wake.send(None)
        return future

    def close(self) -> None:
        """Stop the workers; files still queued or being read are cancelled."""
        with self._lock:
            if self._closing:
                return
            self._closing = True
        self._wake.send(None)
        self._thread.join()

    def _dispatch(self) -> None:
        try:
            while not self._closing:
                self._assign()
                busy = [worker for worker in self._workers if worker.job]
                deadline = min((w.started + self.timeout for w in busy), default=None)
                wait_for = None if deadline is None else max(0.0, deadline - time.monotonic())
                ready = wait(
                    [self._wake_parent, *(worker.connection for worker in busy)], timeout=wait_for
                )
                if self._wake_parent in ready:
                    while self._wake_parent.poll():
                        self._wake_parent.recv()
                for worker in busy:
                    if worker.connection in ready:
                        self._collect(worker)
                    elif time.monotonic() - worker.started > self.timeout:
                        self._replace(worker, ExtractionTimeout(timeout_message(self.timeout)))
        finally:
            self._shut_down()

    def _assign(self) -> None:
        for worker in self._workers:
            if worker.job is not None:
                continue
            with self._lock:
                if not self._queue:
                    return
                path, future = self._queue.popleft()
            if not future.set_running_or_notify_cancel():
                continue
            worker.job, worker.started = (path, future), time.monotonic()
            worker.connection.send(path)

    def _collect(self, worker: _Worker) -> None:
        path, future = worker.job
        try:
            extraction = worker.connection.recv()
        except (EOFError, OSError):
            worker.process.join(timeout=5)
            code = worker.process.exitcode
            self._replace(
                worker,
                WorkerCrashed(
                    f"the reader crashed on this file (worker exit code {code}); the file may be "
                    "damaged or hostile: check it, or report it with the file"
                ),
            )
            return
        worker.job = None
        future.set_result(extraction)

    def _replace(self, worker: _Worker, error: Exception) -> None:
        _, future = worker.job
        worker.job = None
        worker.stop(kill=True)
        future.set_exception(error)
        self._workers[self._workers.index(worker)] = _Worker(self._context)

    def _shut_down(self) -> None:
        for worker in self._workers:
            if worker.job:
                worker.job[1].set_exception(RuntimeError("the extraction pool was closed"))
            worker.stop(kill=worker.job is not None)
        with self._lock:
            for _, future in self._queue:
                future.cancel()
            self._queue.clear()
        self._wake.close()
        self._wake_parent.close()


LOCAL_POOL: ExtractionPool | None = None  # the run's pool, set while a local run reads
_OWN_POOL: ExtractionPool | None = None  # a Dask worker's reader process, started on first use
_OWN_LOCK = threading.Lock()


def read_here_or_in_pool(path: str, timeout: float) -> Extraction:
    """Read ``path`` through the run's pool or, on a Dask worker, a reader process of its own.

    A daemonic Dask worker may not start processes: it then reads in its own process, one file
    at a time (pdfium is not thread-safe) and without the timeout. Start such workers with
    ``DASK_DISTRIBUTED__WORKER__DAEMON=False`` to keep the timeout.
    """
    global _OWN_POOL
    if LOCAL_POOL is not None:
        return LOCAL_POOL.submit(path).result()
    with _OWN_LOCK:
        if multiprocessing.current_process().daemon:
            return extract_path(path)
        if _OWN_POOL is None or _OWN_POOL.timeout != timeout:
            if _OWN_POOL is not None:
                _OWN_POOL.close()
            _OWN_POOL = ExtractionPool(1, timeout)
        pool = _OWN_POOL
    return pool.submit(path).result()
