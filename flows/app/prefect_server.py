"""The Prefect server a run records itself on: the one Prefect is configured with, else a local
one jixiao starts in the background and shares between runs.

Starting Prefect's temporary server costs every run 10–15 s. Instead, the first run without a
configured server (``PREFECT_API_URL``, or a Prefect profile's) starts ``prefect server start``
on a free loopback port, detached, under a small keeper process; later runs find it in the state
folder and connect in milliseconds. The keeper stops the server once no jixiao run has used it
for ``JIXIAO_SERVER_IDLE_MINUTES`` (30); the warm worker server the runs start beside it
(:mod:`flows.extraction.warm`) stops with the keeper. One lock makes two runs starting at once
share one server; each run holds a shared lock on ``prefect-server.users`` while it runs, so a
server is never stopped under a run.

The state folder is ``$JIXIAO_STATE_DIR``, else ``$XDG_STATE_HOME/jixiao``, else
``~/.local/state/jixiao``: the server's Prefect home (its database of flow runs) is ``prefect/``
there, its log ``prefect-server.log``.

Run as ``python -m flows.app.prefect_server STATE_DIR PORT`` it is the keeper. The module imports
only the standard library.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from flows.app.errors import Refused

IDLE_MINUTES = 30.0
STARTUP_TIMEOUT = 180.0  # a first start creates Prefect's database: slow on a busy machine
KEEPER_POLL_SECONDS = 15.0


_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


class ServerUnavailable(Refused):
    """The local Prefect server could not be started (the message says why and what to do)."""


def state_dir() -> Path:
    """Where jixiao keeps its own state: the local server's files."""
    if configured := os.environ.get("JIXIAO_STATE_DIR"):
        return Path(configured)
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "jixiao"


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether a Prefect server answers its health check at ``api_url`` (…/api)."""
    try:
        with _DIRECT.open(f"{api_url.rstrip('/')}/health", timeout=timeout) as reply:
            return reply.status == 200
    except (OSError, ValueError):
        return False


class _Files:
    """The local server's files in the state folder."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.record = folder / "prefect-server.json"  # pids of the keeper and server, api_url
        self.lock = folder / "prefect-server.lock"  # held while a server is found or started
        self.users = folder / "prefect-server.users"  # shared-locked by each run; mtime: last use
        self.log = folder / "prefect-server.log"
        self.home = folder / "prefect"

    def read(self) -> dict | None:
        try:
            return json.loads(self.record.read_text())
        except (OSError, ValueError):
            return None


@contextlib.contextmanager
def _locked(path: Path, mode: int) -> Iterator[IO[bytes]]:
    with path.open("a+b") as handle:
        fcntl.flock(handle, mode)
        yield handle


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, exited but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True  # no /proc: signal 0 is all there is


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def connect(say: Callable[[str], None], folder: Path | None = None) -> str:
    """The API URL of the local server, started first if none is running (``say`` tells what
    the run waits for). The calling process then counts as using it until it exits."""
    files = _Files(folder or state_dir())
    try:
        files.folder.mkdir(parents=True, exist_ok=True)
        with files.lock.open("a+b") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                say("waiting for the local Prefect server another run is starting")
                fcntl.flock(lock, fcntl.LOCK_EX)
            _hold_for_this_process(files)
            record = files.read()
            if record and _alive(record["pid"]) and healthy(record["api_url"]):
                return record["api_url"]
            if record and _alive(record["pid"]):
                say(f"waiting for the local Prefect server at {record['api_url']} to answer")
            else:
                _stop_orphan(record)
                record = _start(files)
                say(
                    f"starting a local Prefect server in the background at {record['api_url']} "
                    f"(the first run only: about 15–30 s; it stops after {_idle_minutes():g} "
                    "minutes without a run)"
                )
            _wait_until_up(files, record)
            return record["api_url"]
    except OSError as error:
        raise ServerUnavailable(
            f"could not start a local Prefect server in {files.folder} ({error.strerror or error}); "
            "set JIXIAO_STATE_DIR to a writable folder, or PREFECT_API_URL to a running server"
        ) from error


_USING: list[IO[bytes]] = []  # the shared lock this process holds on the users file


def _hold_for_this_process(files: _Files) -> None:
    if not _USING:
        handle = files.users.open("a+b")
        fcntl.flock(handle, fcntl.LOCK_SH)
        _USING.append(handle)
    os.utime(files.users)


def _start(files: _Files) -> dict:
    port = _free_port()
    with files.log.open("ab") as log:
        keeper = subprocess.Popen(
            [sys.executable, "-m", "flows.app.prefect_server", str(files.folder), str(port)],
            cwd=files.folder,  # not the run's folder, which may go before the server does
            env={**os.environ, "PYTHONPATH": _import_path()},
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,  # not stopped by the run's Ctrl-C, nor its terminal closing
        )
    record = {"pid": keeper.pid, "port": port, "api_url": f"http://127.0.0.1:{port}/api"}
    files.record.write_text(json.dumps(record))
    return record


def _stop_orphan(record: dict | None) -> None:
    """Stop the server of a keeper that was killed before it could stop its server."""
    server = (record or {}).get("server_pid")
    if server and _alive(server):
        os.kill(server, signal.SIGTERM)


def _import_path() -> str:
    """PYTHONPATH for the keeper, which runs from the state folder: where this package is found,
    then what the run was given."""
    package_root = str(Path(__file__).resolve().parents[2])
    return os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")]))


def _wait_until_up(files: _Files, record: dict) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while not healthy(record["api_url"]):
        if not _alive(record["pid"]) or time.monotonic() > deadline:
            raise ServerUnavailable(
                f"the local Prefect server did not start (see {files.log}); run again, or start "
                "one with `prefect server start` and set PREFECT_API_URL"
            )
        time.sleep(0.2)


def _idle_minutes() -> float:
    try:
        return float(os.environ.get("JIXIAO_SERVER_IDLE_MINUTES", IDLE_MINUTES))
    except ValueError:
        return IDLE_MINUTES


def keeper_pid(folder: Path | None = None) -> int | None:
    """The pid of the local server's keeper in ``folder`` (the state folder), if one runs."""
    record = _Files(folder or state_dir()).read()
    return record["pid"] if record and _alive(record["pid"]) else None


def idle_seconds() -> float:
    """How long the local server (and what lives with it) is kept without a run."""
    return _idle_minutes() * 60


def stop(folder: Path | None = None) -> bool:
    """Stop the local server in ``folder`` (the state folder), if one runs, and the warm worker
    server living with it; whether a server ran."""
    from flows.extraction import warm

    files = _Files(folder or state_dir())
    warm.stop(files.folder)
    record = files.read()
    if not record or not _alive(record["pid"]):
        return False
    os.kill(record["pid"], signal.SIGTERM)
    deadline = time.monotonic() + 15
    while _alive(record["pid"]) and time.monotonic() < deadline:
        time.sleep(0.1)
    return True


def _keep(folder: Path, port: int) -> None:
    """The keeper: run the server, and stop it once idle, or when told to (SIGTERM)."""
    files = _Files(folder)
    files.home.mkdir(exist_ok=True)
    environment = {
        **os.environ,
        "PREFECT_HOME": str(files.home),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    }
    environment.pop("PREFECT_API_URL", None)
    signal.signal(signal.SIGTERM, _exit)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    server = subprocess.Popen(
        [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1"]
        + ["--port", str(port), "--no-services", "--no-ui"],
        env=environment,
        stdin=subprocess.DEVNULL,
    )
    idle_seconds = _idle_minutes() * 60
    try:
        with _locked(files.lock, fcntl.LOCK_EX):
            record = files.read()
            if record and record["pid"] == os.getpid():
                files.record.write_text(json.dumps({**record, "server_pid": server.pid}))
        while server.poll() is None:
            time.sleep(min(KEEPER_POLL_SECONDS, idle_seconds / 4))
            with _locked(files.lock, fcntl.LOCK_EX):  # no run can connect meanwhile
                if _idle(files, idle_seconds):
                    _shut(server, files)
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        with _locked(files.lock, fcntl.LOCK_EX):
            _shut(server, files)


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def _shut(server: subprocess.Popen, files: _Files) -> None:
    """Stop the server and forget it (unless another keeper has replaced this one)."""
    if server.poll() is None:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    record = files.read()
    if record and record["pid"] == os.getpid():
        files.record.unlink()


def _idle(files: _Files, idle_seconds: float) -> bool:
    """No run holds the server and none used it for ``idle_seconds``."""
    with files.users.open("a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False  # a run is using it
        return time.time() - os.fstat(handle.fileno()).st_mtime > idle_seconds


if __name__ == "__main__":
    _keep(Path(sys.argv[1]), int(sys.argv[2]))
