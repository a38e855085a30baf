"""jixiao's local Prefect server: started once by the first run that needs it, shared by runs
that start at the same time and by later ones, kept while a run uses it, stopped by itself once
idle."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from flows.app.prefect_server import healthy, stop

PROJECT = Path(__file__).parents[3]
IDLE_MINUTES = 0.1  # 6 s
SEED = sorted((PROJECT / "tests" / "data" / "seeds").glob("*.txt"))[0]


def run(state: Path, hold_seconds: float = 0) -> subprocess.Popen:
    """A process connecting as a run does; it prints what it was told, then the URL and how
    long connecting took, then holds the server ``hold_seconds``."""
    code = (
        "import sys, time; from flows.app.prefect_server import connect; "
        "started = time.monotonic(); url = connect(lambda line: print('said:', line)); "
        "print(url, round(time.monotonic() - started, 2), flush=True); "
        f"time.sleep({hold_seconds})"
    )
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "JIXIAO_STATE_DIR": str(state),
        "JIXIAO_SERVER_IDLE_MINUTES": str(IDLE_MINUTES),
    }
    return subprocess.Popen(
        [sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, text=True
    )


def test_runs_share_one_local_server_kept_while_used_and_stopped_once_idle(tmp_path):
    state = tmp_path / "state"
    try:
        first, second = run(state), run(state)
        outputs = [process.communicate(timeout=180)[0] for process in (first, second)]

        said = [line for output in outputs for line in output.splitlines() if "said:" in line]
        assert len([line for line in said if "starting a local Prefect server" in line]) == 1
        urls = {output.splitlines()[-1].split()[0] for output in outputs}
        assert len(urls) == 1
        (url,) = urls
        record = json.loads((state / "prefect-server.json").read_text())
        assert record["api_url"] == url and url.startswith("http://127.0.0.1:")

        holder = run(state, hold_seconds=3 * IDLE_MINUTES * 60)
        found = holder.stdout.readline().split()
        assert found[0] == url and float(found[1]) < 2  # running: nothing said, nothing waited
        time.sleep(2 * IDLE_MINUTES * 60)
        assert healthy(url)  # idle time passed, but a run holds it
        holder.wait(timeout=60)

        keeper = Path(f"/proc/{record['pid']}")
        deadline = time.monotonic() + 60
        while (keeper.exists() or healthy(url)) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert not keeper.exists() and not healthy(url)
        assert not (state / "prefect-server.json").exists()
    finally:
        stop(state)


def test_a_state_folder_that_cannot_be_made_is_one_line_and_exit_3(tmp_path):
    (tmp_path / "inbox").mkdir()
    (tmp_path / "inbox" / "a.txt").write_text(SEED.read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "state").write_text("a file where the state folder would be")
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT),
        "JIXIAO_STATE_DIR": str(tmp_path / "state" / "jixiao"),
        "PREFECT_HOME": str(tmp_path / "prefect-home"),
    }
    env.pop("PREFECT_API_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "flows.app.cli", "ingest", "inbox", "--db", "w.duckdb"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"jixiao: could not start a local Prefect server in {tmp_path / 'state' / 'jixiao'} "
        "(Not a directory); set JIXIAO_STATE_DIR to a writable folder, or PREFECT_API_URL to a "
        "running server"
    ]
    assert not (tmp_path / "w.duckdb").exists()
