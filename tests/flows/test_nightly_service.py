"""The nightly path end to end: ``prefect server start``, ``jixiao serve`` on an inbox, the
deployment triggered with ``prefect deployment run``; the service riding out its server stopping
and starting again, and stopping within seconds on Ctrl-C or SIGTERM."""

import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from flows.report import SUMMARY_ARTIFACT
from warehouse import Warehouse

PROJECT = Path(__file__).parents[2]
SEED = sorted((PROJECT / "tests" / "data" / "seeds").glob("*.txt"))[1]
FAULTS = PROJECT / "samples" / "pdf" / "self_eval_arithmetic_faults.pdf"
PREFECT = [sys.executable, "-m", "prefect"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def environment(tmp_path: Path, api_url: str) -> dict[str, str]:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "PREFECT_HOME": str(tmp_path / "client-home"),
        "PREFECT_API_URL": api_url,
        "PREFECT_RUNNER_POLL_FREQUENCY": "1",  # the runner looks for due runs every second
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    }
    for name in ("JIXIAO_DB", "PREFECT_LOGGING_LEVEL"):
        env.pop(name, None)
    return env


class Lines:
    """A process's stderr, line by line, waited on with a deadline."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.seen: list[str] = []
        self._queue: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, args=(process.stderr,), daemon=True).start()

    def _read(self, stream) -> None:
        for line in stream:
            self._queue.put(line)
        self._queue.put(None)

    def wait_for(self, phrase: str, seconds: float) -> str:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                line = self._queue.get(timeout=max(deadline - time.monotonic(), 0.01))
            except queue.Empty:
                break
            if line is None:
                break
            self.seen.append(line)
            if phrase in line:
                return line
        raise AssertionError(f"no {phrase!r} within {seconds} s; stderr: {''.join(self.seen)}")

    def rest(self) -> str:
        while (line := self._queue.get(timeout=30)) is not None:
            self.seen.append(line)
        return "".join(self.seen)


def start_server(home: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "PREFECT_HOME": str(home), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    server = subprocess.Popen(
        [
            *PREFECT,
            "server",
            "start",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-ui",
            "--no-services",
        ],
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/health", timeout=2).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        assert server.poll() is None, "prefect server start exited"
        time.sleep(0.2)
    raise AssertionError("the Prefect server did not start")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def serve(tmp_path: Path, api_url: str) -> subprocess.Popen:
    """``jixiao serve`` in its own process group, as a terminal runs it."""
    return subprocess.Popen(
        [sys.executable, "-m", "flows.app.cli", "serve", "inbox", "--db", "w.duckdb"],
        cwd=tmp_path,
        env=environment(tmp_path, api_url),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def stops_within(process: subprocess.Popen, signum: int, seconds: float) -> float:
    started = time.monotonic()
    os.killpg(process.pid, signum)
    process.wait(timeout=seconds)
    return time.monotonic() - started


def wait_for_run(api: str, flow_run_id: str, seconds: float) -> str:
    deadline = time.monotonic() + seconds
    state = None
    while time.monotonic() < deadline:
        state = httpx.get(f"{api}/flow_runs/{flow_run_id}", timeout=5).json()["state"]["type"]
        if state in ("COMPLETED", "FAILED", "CRASHED", "CANCELLED"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"flow run {flow_run_id} still {state} after {seconds} s")


def test_a_served_nightly_run_lands_the_inbox_and_survives_its_server_restarting(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(SEED, inbox / SEED.name)
    shutil.copyfile(FAULTS, inbox / FAULTS.name)
    port = free_port()
    api = f"http://127.0.0.1:{port}/api"
    server = start_server(tmp_path / "server-home", port)
    service = serve(tmp_path, api)
    try:
        lines = Lines(service)
        lines.wait_for("serving deployment nightly/nightly", 60)

        triggered = subprocess.run(
            [*PREFECT, "deployment", "run", "nightly/nightly"],
            env=environment(tmp_path, api),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert triggered.returncode == 0, triggered.stdout + triggered.stderr
        (flow_run_id,) = [
            line.split()[-1] for line in triggered.stdout.splitlines() if "UUID" in line
        ]
        assert wait_for_run(api, flow_run_id, 60) == "COMPLETED"

        with Warehouse.open(tmp_path / "w.duckdb", read_only=True) as warehouse:
            sql = warehouse.connection.execute
            assert sql("SELECT flow, status FROM ingest_runs").fetchall() == [
                ("nightly", "completed")
            ]
            assert sql("SELECT count(*) FROM forms").fetchone()[0] >= 1
            assert sql("SELECT count(*) FROM quarantine").fetchone()[0] >= 1
        artifacts = httpx.post(
            f"{api}/artifacts/filter",
            json={"artifacts": {"key": {"any_": [SUMMARY_ARTIFACT]}}},
            timeout=5,
        ).json()
        (artifact,) = artifacts  # the ingest the nightly run ran, as its subflow
        assert "## jixiao nightly run: completed" in artifact["data"]
        (summary,) = (tmp_path / "reports").glob("*/summary.md")
        assert "New quarantines" in summary.read_text()

        stop(server)
        lines.wait_for(f"the Prefect server at {api} stopped answering; waiting", 30)
        server = start_server(tmp_path / "server-home", port)
        lines.wait_for(f"the Prefect server at {api} is back; serving again", 60)

        assert stops_within(service, signal.SIGINT, 15) < 15  # Ctrl-C, server up
        assert service.returncode == 0
        err = lines.rest()
        assert "stopped serving nightly/nightly" in err
        assert "Traceback" not in err and "Error" not in err, err
        assert all(line.startswith("jixiao: ") for line in err.splitlines()), err
    finally:
        stop(service)
        stop(server)


def test_serve_waits_for_a_server_that_does_not_answer_and_stops_on_sigterm(tmp_path):
    (tmp_path / "inbox").mkdir()
    api = f"http://127.0.0.1:{free_port()}/api"  # nothing listens there
    service = serve(tmp_path, api)
    try:
        lines = Lines(service)
        lines.wait_for(f"waiting for the Prefect server at {api} to answer", 60)

        assert stops_within(service, signal.SIGTERM, 10) < 10
        assert service.returncode == 0
        err = lines.rest()
        assert err.splitlines()[-1] == "jixiao: stopped serving nightly/nightly", err
        assert "Traceback" not in err
    finally:
        stop(service)
