"""The warm worker server: the readers and Great Expectations imported once and kept between
runs, so that a run's workers start in milliseconds instead of seconds.

A run's own forkserver imports Great Expectations (about 3 s of CPU) before its first worker can
read, on every run. With jixiao's local Prefect server (:mod:`flows.app.prefect_server`), a run
that finds no warm server for its code starts one in the background, in the same state folder.
Later runs of the same code connect to its socket at once: the server forks a worker for the
connection, which builds its GX context while the run starts its flow, then takes the run's
environment, working folder, stdout and stderr and serves the run's pool as a forkserver's
worker would (:func:`flows.extraction.extract.run_worker`).

- Versions: the socket is named by a fingerprint of the code a worker runs (jixiao's modules,
  the interpreter, the import path and the folders packages are installed in): a run of other
  code never gets it, and starts a server of its own; a server stops once one for newer code is
  ready (``workers.json`` names the latest).
- Locking: a server holds ``workers-FINGERPRINT.lock`` while it lives; a second one started for
  the same code exits at once, and a socket whose lock is free is a dead server's. A server
  removes its lock file when it stops, and on starting the lock files no server holds.
- Crashes: a worker comes with a pidfd, so the run can stop it on a timeout and see it die
  whoever its parent is; a run that cannot get a worker from the server forks its own.
- Idle: the server stops after ``JIXIAO_SERVER_IDLE_MINUTES`` without a run, and as soon as the
  keeper of the local Prefect server stops.

Linux only (pidfds); elsewhere runs fork their own workers. Run as ``python -m
flows.extraction.warm STATE_DIR FINGERPRINT KEEPER_PID IDLE_SECONDS`` it is the server. The
module imports only the standard library until it serves.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib
import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path
from typing import BinaryIO

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("extractors", "schemas", "expectations", "flows")
CONNECT_TIMEOUT = 5.0
POLL_SECONDS = 15.0
LATEST = "workers.json"  # the fingerprint and pid of the newest server in a state folder


def fingerprint() -> str:
    """What a worker's behaviour depends on: jixiao's modules (path, size, modification time),
    the interpreter, the import path, and the folders packages are installed in (a package
    installed or removed changes its folder's modification time)."""
    digest = hashlib.sha256(f"{os.path.realpath(sys.executable)}\0{sys.version}\0".encode())
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            stat = path.stat()
            digest.update(f"{path}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    # sys.path[0] is the script's folder (the same code runs from any); jixiao's own folder is
    # in the digest above, however it is found
    for entry in dict.fromkeys(os.path.realpath(entry or ".") for entry in sys.path[1:]):
        with contextlib.suppress(OSError):
            if entry != str(ROOT):
                digest.update(f"{entry}\0{os.stat(entry).st_mtime_ns}\0".encode())
    return digest.hexdigest()[:16]


def _socket(folder: Path, code: str) -> Path:
    return folder / f"workers-{code}.sock"


def _lock(folder: Path, code: str) -> Path:
    return folder / f"workers-{code}.lock"


def supported() -> bool:
    """Whether this system has what the server needs (pidfds, passing descriptors)."""
    return hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")


def running(folder: Path, code: str) -> bool:
    """Whether a server for ``code`` lives in ``folder`` (it holds its lock)."""
    try:
        with _lock(folder, code).open("rb") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    except OSError:
        return False
    return False


# --- the run's side ----------------------------------------------------------------------------

_SERVER: Path | None = None  # the socket this process's pools take their workers from
_RESERVED: list[tuple[socket.socket, int]] = []  # a worker forked ahead, warming up
_GUARD = threading.Lock()


class WarmProcess:
    """A worker forked by the warm server (not this process's child), known by its pidfd: what
    the pool needs of a process, without its exit code."""

    exitcode = None

    def __init__(self, pidfd: int) -> None:
        self._pidfd = pidfd

    def is_alive(self) -> bool:
        """Whether the worker still runs."""
        return not select.select([self._pidfd], [], [], 0)[0]

    def join(self, timeout: float | None = None) -> None:
        """Wait for the worker to end, at most ``timeout`` s."""
        select.select([self._pidfd], [], [], timeout)

    def kill(self) -> None:
        """Stop the worker at once."""
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    def close(self) -> None:
        """Release the pidfd (once the worker has ended)."""
        os.close(self._pidfd)


def use(folder: Path) -> bool:
    """Take this process's pool workers from the warm server of this code in ``folder``, if one
    runs; one worker is forked now, to be ready when the first file is. Whether one runs."""
    global _SERVER
    code = fingerprint()
    if not supported() or not running(folder, code):
        return False
    try:
        reserved = _fork(_socket(folder, code))
    except OSError:
        return False
    with _GUARD:
        _SERVER = _socket(folder, code)
        _RESERVED.append(reserved)
    return True


def take_worker(
    environment: dict[str, str], threads: int | None
) -> tuple[Connection, WarmProcess] | None:
    """A worker for a pool, serving in ``environment`` with ``threads`` OCR threads from this
    process's working folder, stdout and stderr; None if there is no warm server to fork it."""
    with _GUARD:
        if _SERVER is None:
            return None
        reserved = _RESERVED.pop() if _RESERVED else None
    try:
        sock, pidfd = reserved or _fork(_SERVER)
    except OSError:
        return None
    try:
        socket.send_fds(sock, [b"w"], [1, 2])  # what a worker forked here would inherit
        sock.settimeout(None)
        connection = Connection(sock.detach())
    except OSError:  # the worker forked ahead has died
        sock.close()
        os.close(pidfd)
        return None
    try:
        connection.send((environment, os.getcwd(), threads))
    except OSError:
        connection.close()
        os.close(pidfd)
        return None
    return connection, WarmProcess(pidfd)


def _fork(path: Path) -> tuple[socket.socket, int]:
    """Ask the server at ``path`` for a worker: its socket and pidfd."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.settimeout(CONNECT_TIMEOUT)
        sock.connect(str(path))
        _, fds, _, _ = socket.recv_fds(sock, 1, 1)
    except OSError:
        sock.close()
        raise
    if len(fds) != 1:
        sock.close()
        raise ConnectionError("the warm worker server sent no worker")
    return sock, fds[0]


def start(folder: Path, keeper: int, idle_seconds: float) -> None:
    """Start a warm server for this code in ``folder`` in the background, unless one runs; it
    lives while process ``keeper`` (the local Prefect server's keeper) does. A server that
    cannot be started is no error: runs fork their own workers."""
    code = fingerprint()
    if not supported() or running(folder, code):
        return
    import_path = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))
    with contextlib.suppress(OSError), (folder / "workers.log").open("ab") as log:
        subprocess.Popen(
            [sys.executable, "-m", "flows.extraction.warm", str(folder), code]
            + [str(keeper), str(idle_seconds)],
            cwd=folder,
            env={**os.environ, "PYTHONPATH": import_path},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not stopped by the run's Ctrl-C, nor its terminal closing
        )


def stop(folder: Path) -> None:
    """Stop the newest warm server in ``folder``, if one runs (older ones stop by themselves)."""
    try:
        pid = json.loads((folder / LATEST).read_text())["pid"]
        os.kill(pid, signal.SIGTERM)
    except (OSError, ValueError, KeyError, TypeError):
        return


# --- the server --------------------------------------------------------------------------------


def _serve_forever(folder: Path, code: str, keeper: int, idle_seconds: float) -> None:
    """The server: preload, listen, fork a worker per connection until idle, superseded, told
    to stop (SIGTERM) or the keeper is gone."""
    lock_path = _lock(folder, code)
    lock = lock_path.open("ab")
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return  # another server for this code runs
    if not _same_file(lock, lock_path):
        return  # removed by a stopping server meanwhile: the next start takes a new one
    _remove_free_locks(folder)
    if fingerprint() != code:
        print(f"not serving {code}: the code changed since a run asked for it", flush=True)
        return
    try:
        keeper_fd = os.pidfd_open(keeper)
    except OSError:
        return  # the keeper has already stopped
    from flows.extraction.extract import WORKER_PRELOAD

    for module in WORKER_PRELOAD:
        importlib.import_module(module)
    path = _socket(folder, code)
    path.unlink(missing_ok=True)  # a dead server's: the lock was free
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    old_umask = os.umask(0o077)  # the socket is for this user only
    try:
        listener.bind(str(path))
    finally:
        os.umask(old_umask)
    bound = path.stat().st_ino
    listener.listen(8)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # workers are reaped by the kernel
    _write_latest(folder, code)

    def close_server_files() -> None:  # in a worker: the lock, above all, goes with the server
        listener.close()
        lock.close()
        os.close(keeper_fd)

    last_used = time.monotonic()
    try:
        while True:
            poll = min(POLL_SECONDS, idle_seconds / 4)
            ready, _, _ = select.select([listener, keeper_fd], [], [], poll)
            if keeper_fd in ready:
                return
            if listener in ready:
                connection, _ = listener.accept()
                if _peer_uid(connection) == os.getuid():
                    _fork_worker(connection, close_server_files)
                connection.close()
                last_used = time.monotonic()
            elif time.monotonic() - last_used > idle_seconds or _superseded(folder, code):
                return
    finally:
        listener.close()
        with contextlib.suppress(OSError):
            if path.stat().st_ino == bound:  # not a newer server's socket
                path.unlink()
        if not _superseded(folder, code):
            (folder / LATEST).unlink(missing_ok=True)
        lock_path.unlink(missing_ok=True)  # still held: no other server has it


def _same_file(handle: BinaryIO, path: Path) -> bool:
    try:
        return os.fstat(handle.fileno()).st_ino == path.stat().st_ino
    except FileNotFoundError:
        return False


def _remove_free_locks(folder: Path) -> None:
    """Remove the lock files of servers that have stopped without removing theirs (killed),
    each while holding it, so that no server starting meanwhile can take it."""
    for path in folder.glob("workers-*.lock"):
        try:
            with path.open("rb") as handle:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                if _same_file(handle, path):
                    path.unlink()
        except OSError:  # held by a live server (BlockingIOError), or already gone
            continue


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _write_latest(folder: Path, code: str) -> None:
    partial = folder / f"{LATEST}.{os.getpid()}"
    partial.write_text(json.dumps({"fingerprint": code, "pid": os.getpid()}))
    os.replace(partial, folder / LATEST)


def _superseded(folder: Path, code: str) -> bool:
    try:
        return json.loads((folder / LATEST).read_text())["fingerprint"] != code
    except (OSError, ValueError, KeyError, TypeError):
        return False


def _peer_uid(connection: socket.socket) -> int:
    credentials = connection.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
    return int.from_bytes(credentials[4:8], sys.byteorder)


def _fork_worker(connection: socket.socket, close_server_files: Callable[[], None]) -> None:
    """Fork a worker for ``connection`` and send the run its pidfd."""
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            close_server_files()
            signal.signal(signal.SIGTERM, signal.SIG_DFL)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            _work(connection)
            code = 0
        finally:
            with contextlib.suppress(Exception):
                sys.stdout.flush()
                sys.stderr.flush()
            os._exit(code)
    try:
        pidfd = os.pidfd_open(pid)
    except OSError:
        return  # it has already ended
    try:
        socket.send_fds(connection, [b"p"], [pidfd])
    except OSError:  # the run went away
        with contextlib.suppress(ProcessLookupError):
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)


def _work(sock: socket.socket) -> None:
    """A worker: build the GX context while the run starts, then take the run's stdout, stderr,
    environment and working folder, and serve its pool."""
    from expectations.checks import prepare
    from flows.extraction.extract import run_worker

    with contextlib.suppress(Exception):  # the first check builds it again, and says what fails
        prepare()
    _, fds, _, _ = socket.recv_fds(sock, 1, 2)
    if len(fds) != 2:
        return  # the run ended without needing this worker
    for target, fd in zip((1, 2), fds, strict=True):
        os.dup2(fd, target)
        os.close(fd)
    connection = Connection(sock.detach())
    environment, cwd, threads = connection.recv()
    os.chdir(cwd)
    run_worker(connection, environment, threads)


if __name__ == "__main__":
    _serve_forever(Path(sys.argv[1]), sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
