"""The warm worker server: a run takes its pool's workers from it (reading with the run's working
folder, checking with real GX, stopped on a timeout), only when the code is the same; one server
per code, gone with the keeper, after an idle time, or once newer code has its own."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from flows.extraction import warm

PROJECT = Path(__file__).parents[2]
SEED = sorted((PROJECT / "tests" / "data" / "seeds").glob("*.txt"))[0]
THREE_FORMS = PROJECT / "samples" / "pdf" / "self_eval_three_forms.pdf"
STARTUP = 180  # the server imports Great Expectations: slow on a busy machine

# A run's side, in a process of its own: take workers from the server in STATE (if one runs
# for this code), read a file given relative to the working folder, check its forms, time out
# once; print what happened and which processes forked the workers.
RUN = """
import json, os, sys
from pathlib import Path
from expectations import validate
from flows.extraction import warm
from flows.extraction.pool import ExtractionPool, ExtractionTimeout

def children(pid):
    tasks = Path(f"/proc/{pid}/task").glob("*/children")  # each thread's
    return [child for task in tasks for child in task.read_text().split()]

used = warm.use(Path(sys.argv[1]))
with ExtractionPool(1) as pool:
    extraction = pool.submit(sys.argv[2], "a" * 64).result()
    checks = pool.submit_checks(extraction.forms).result()
    own_children = children(os.getpid())
    pool.timeout = 0.001
    try:
        pool.submit(sys.argv[3]).result()
        timed_out = False
    except ExtractionTimeout:
        timed_out = True
    pool.timeout = 300
    again = pool.submit(sys.argv[2], "a" * 64).result()
expected = {}
for result in validate(extraction.forms):
    expected.setdefault(result.form_id, []).append(result)
print(json.dumps({
    "used": used,
    "forms": len(extraction.forms),
    "error": extraction.error,
    "checks_as_in_process": checks.results == expected,
    "failed_checks": sum(map(len, checks.results.values())),
    "timed_out": timed_out,
    "read_again": len(again.forms),
    "own_children": own_children,
}))
"""


def environment(**extra: str) -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT), **extra}


def wait_for(condition, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return condition()


def server_pid(state: Path) -> int:
    return json.loads((state / warm.LATEST).read_text())["pid"]


def alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def serve(state: Path, keeper: int, idle: float = 600, **env: str) -> tuple[subprocess.Popen, str]:
    """Start a server for the code as the environment ``env`` sees it; wait until it serves.
    The server, and the fingerprint of that code."""
    code = subprocess.run(
        [
            sys.executable,
            "-c",
            "from flows.extraction.warm import fingerprint; print(fingerprint())",
        ],
        env=environment(**env),
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.extraction.warm", str(state), code, str(keeper), str(idle)],
        env=environment(**env),
    )
    assert wait_for(lambda: (state / f"workers-{code}.sock").exists(), STARTUP)
    return server, code


def run(state: Path, cwd: Path, **env: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", RUN, str(state), "forms/seed.txt", str(THREE_FORMS)],
        cwd=cwd,
        env=environment(**env),
        capture_output=True,
        text=True,
        timeout=STARTUP,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


@pytest.fixture()
def keeper():
    """Stands in for the local Prefect server's keeper, which a server lives no longer than."""
    process = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(900)"])
    yield process
    process.kill()
    process.wait()


@pytest.fixture()
def folders(tmp_path):
    state, cwd = tmp_path / "state", tmp_path / "run"
    state.mkdir()
    (cwd / "forms").mkdir(parents=True)
    (cwd / "forms" / "seed.txt").write_bytes(SEED.read_bytes())
    return state, cwd


pytestmark = pytest.mark.skipif(not warm.supported(), reason="needs pidfds (Linux)")


def test_a_run_takes_its_workers_from_the_warm_server_of_its_code(folders, keeper):
    state, cwd = folders
    server, code = serve(state, keeper.pid)
    try:
        outcome = run(state, cwd)
        assert outcome["used"] is True
        assert outcome["own_children"] == []  # neither a forkserver nor a worker of its own
        assert outcome["forms"] >= 1 and outcome["error"] is None  # read from the run's folder
        assert outcome["checks_as_in_process"] and outcome["failed_checks"] > 0
        assert outcome["timed_out"] and outcome["read_again"] == outcome["forms"]

        # other code (here: another import path) does not get it, and forks its own workers
        other = run(state, cwd, PYTHONPATH=f"{PROJECT}{os.pathsep}{cwd}")
        assert other["used"] is False and other["own_children"] != []
        assert other["forms"] == outcome["forms"] and other["timed_out"]

        # a second server for the same code leaves at once
        second = subprocess.run(
            [sys.executable, "-m", "flows.extraction.warm", str(state), code, str(keeper.pid)]
            + ["600"],
            env=environment(),
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 0 and second.stdout == "" and server.poll() is None
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert not list(state.glob("*.sock"))  # it takes its socket with it


def test_a_server_stops_with_the_keeper_when_idle_and_when_newer_code_serves(folders, keeper):
    state, cwd = folders
    (state / "workers-0123456789abcdef.lock").touch()  # a killed server's, held by none
    first, _ = serve(state, keeper.pid)
    assert not (state / "workers-0123456789abcdef.lock").exists()
    newer, _ = serve(state, keeper.pid, PYTHONPATH=f"{PROJECT}{os.pathsep}{cwd}")
    assert first.wait(timeout=60) == 0  # superseded
    keeper.kill()
    assert newer.wait(timeout=30) == 0  # its keeper is gone
    assert not list(state.glob("*.sock"))

    with subprocess.Popen([sys.executable, "-c", "import time; time.sleep(900)"]) as other:
        idle, _ = serve(state, other.pid, idle=2)
        assert idle.wait(timeout=30) == 0
        other.kill()
    assert not list(state.glob("*.lock"))  # each server removed its own


def test_a_server_asked_for_other_code_does_not_serve(folders, keeper):
    state, _ = folders
    done = subprocess.run(
        [sys.executable, "-m", "flows.extraction.warm", str(state), "0" * 16, str(keeper.pid)]
        + ["600"],
        env=environment(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0 and "code changed" in done.stdout
    assert not list(state.glob("*.sock"))


def test_stopping_the_local_server_stops_the_warm_one(folders, keeper):
    from flows.app.prefect_server import stop

    state, _ = folders
    server, _ = serve(state, keeper.pid)
    pid = server_pid(state)
    stop(state)  # no Prefect server runs here: the warm one is stopped all the same
    assert server.wait(timeout=30) == 0 and not alive(pid)
    os.kill(keeper.pid, signal.SIGKILL)
