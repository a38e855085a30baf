"""``jixiao serve``: the nightly deployment served until stopped, riding out its Prefect server
going away and coming back.

Prefect's runner does not survive its server stopping (its loops fail with tracebacks and it then
ignores Ctrl-C and SIGTERM), so it runs in a child process (``python -m flows.app.service``) that
this one watches: while the server answers its health check, a runner serves the deployment;
when the server stops answering, the runner is stopped and one line says so; when the server is
back, a fresh runner registers the deployment again. Ctrl-C or SIGTERM stops the runner (and the
flow run it may be running) within seconds, whatever the server's state. The runner's console
lines are passed on while the server is up; what it prints as its server goes away is dropped.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from flows.app.prefect_server import healthy
from flows.options import RunOptions

POLL_SECONDS = 1.0
MISSES_DOWN = 3  # health checks missed in a row that mean the server is gone
STOP_GRACE_SECONDS = 5.0
RESTART_SECONDS = 10.0  # before starting a runner again after one stopped by itself
READY = "jixiao-runner-ready"  # what the runner prints once its deployment is registered


class Service:
    """The nightly deployment's runner, kept serving while the Prefect server at ``api_url``
    answers; ``say`` prints one line about the service, ``ready`` is called once the deployment
    is first registered."""

    def __init__(
        self,
        api_url: str,
        deployment: dict,
        say: Callable[[str], None],
        ready: Callable[[], None],
        verbose: bool = False,
    ) -> None:
        self.api_url = api_url
        self.deployment = deployment  # the keyword arguments of nightly_deployment, as JSON
        self.say = say
        self.ready = ready
        self.verbose = verbose  # pass on the runner's INFO lines too
        self.runner: subprocess.Popen | None = None
        self._relaying = threading.Event()
        self._served = False  # a runner has registered the deployment
        self._back = False  # the server came back: the next ready runner says so

    def run(self) -> None:
        """Serve until interrupted (KeyboardInterrupt, raised on SIGINT or SIGTERM)."""
        previous = signal.signal(signal.SIGTERM, _terminated)
        try:
            self._watch()
        finally:
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            self._stop_runner()
            signal.signal(signal.SIGTERM, previous)

    def _watch(self) -> None:
        up = healthy(self.api_url)
        if not up:
            self.say(f"waiting for the Prefect server at {self.api_url} to answer")
        misses = 0  # health checks missed in a row: a busy server may miss one
        while True:
            if up:
                self._relaying.set()
                if self.runner is None:
                    self._start_runner()
                elif self.runner.poll() is not None:
                    self.say(
                        f"the runner stopped (exit {self.runner.returncode}); starting another "
                        f"in {RESTART_SECONDS:g} s"
                    )
                    self.runner = None
                    time.sleep(RESTART_SECONDS)
                    continue
            time.sleep(POLL_SECONDS)
            misses = 0 if healthy(self.api_url) else misses + 1
            now_up = misses < MISSES_DOWN if up else misses == 0
            if up and not now_up:
                self._relaying.clear()
                self.say(
                    f"the Prefect server at {self.api_url} stopped answering; waiting for it to "
                    "come back (Ctrl-C to stop)"
                )
                self._stop_runner()
            elif now_up and not up:
                self._back = self._served
            up = now_up

    def _start_runner(self) -> None:
        self.runner = subprocess.Popen(
            [sys.executable, "-m", "flows.app.service", json.dumps(self.deployment)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,  # Ctrl-C at the terminal is this process's to pass on
        )
        threading.Thread(target=self._relay, args=(self.runner,), daemon=True).start()

    def _relay(self, runner: subprocess.Popen) -> None:
        """Pass the runner's lines on while the server is up; say when it is ready."""
        for line in runner.stdout:
            if line.strip() == READY:
                if self._back:
                    self.say(f"the Prefect server at {self.api_url} is back; serving again")
                else:
                    self.ready()
                self._back, self._served = False, True
            elif (
                self._relaying.is_set()
                and (self.verbose or not _routine(line))
                and healthy(self.api_url, timeout=1.0)
            ):
                sys.stderr.write(line)
                sys.stderr.flush()

    def _stop_runner(self) -> None:
        """Stop the runner and the flow run it may be running: SIGTERM, then SIGKILL."""
        runner, self.runner = self.runner, None
        self._relaying.clear()  # what a runner says while it stops is not news
        if runner is None or runner.poll() is not None:
            return
        for signum, grace in ((signal.SIGTERM, STOP_GRACE_SECONDS), (signal.SIGKILL, 5.0)):
            try:
                os.killpg(runner.pid, signum)
            except ProcessLookupError:
                return
            try:
                runner.wait(timeout=grace)
                return
            except subprocess.TimeoutExpired:
                continue


def _routine(line: str) -> bool:
    """A log line below WARNING (a library that sets its own logger to INFO): the run's log in
    Prefect has it; the console does not need it."""
    return " | INFO " in line or " | DEBUG " in line


def _terminated(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def deployment_arguments(
    inbox: Path,
    options: RunOptions,
    manifest: str | None,
    cron: str,
    timezone: str,
    name: str,
) -> dict:
    """The arguments of :func:`flows.nightly.nightly_deployment` the runner is started with."""
    return {
        "inbox": str(inbox.resolve()),
        "options": asdict(options),
        "manifest": str(Path(manifest).resolve()) if manifest else None,
        "cron": cron,
        "timezone": timezone,
        "name": name,
    }


def _run_runner(arguments: dict) -> None:
    """The runner's process: register the deployment, say so, serve its runs."""
    from flows.nightly import nightly_deployment, serve

    threading.Thread(target=_stop_when_orphaned, args=(os.getppid(),), daemon=True).start()
    arguments["options"] = RunOptions(**arguments["options"])
    deployment = nightly_deployment(**arguments)
    serve(deployment, ready=lambda: print(READY, flush=True))


def _stop_when_orphaned(parent: int) -> None:
    """Stop this runner if ``jixiao serve`` was killed without stopping it."""
    while os.getppid() == parent:
        time.sleep(POLL_SECONDS)
    os.kill(os.getpid(), signal.SIGTERM)


if __name__ == "__main__":
    _run_runner(json.loads(sys.argv[1]))
