"""The nightly run: a Prefect deployment that runs the ingest flow on a cron schedule.

``jixiao serve`` registers the deployment with a running Prefect server (``prefect server
start``) and serves it until stopped. Each run ingests the inbox folder (and a manifest's paths
and URLs, if given) with the flow label 'nightly':

- retries: the run is retried twice, 15 minutes apart, if it fails as a whole; downloads are
  retried with backoff; reading is deterministic, so a file is never retried within a run;
- a timeout per file (its worker process is stopped and the file recorded 'failed');
- task caching keyed on content: each file's extraction is cached on its sha256 and the reader
  code, so a retried run reads nothing twice;
- one writer: the deployment runs one flow run at a time, the writing part holds the global
  concurrency limit ``jixiao-warehouse-writer`` (1 slot), and a run waits for any other jixiao
  writer (a manual ``jixiao ingest``) instead of failing;
- a summary for the morning: counts, new quarantines, failures with their messages, as the run's
  ``jixiao-run-summary`` artifact, in its log, and as ``summary.md`` beside its HTML report.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path

from prefect import flow
from prefect.concurrency.sync import concurrency
from prefect.deployments.runner import RunnerDeployment
from prefect.schedules import Cron
from prefect.types.entrypoint import EntrypointType

from flows.ingest import ingest
from flows.options import DEFAULT_OPTIONS, RunOptions
from flows.summary import RunSummary

DEFAULT_CRON = "0 2 * * *"
DEFAULT_TIMEZONE = "Asia/Shanghai"
DEPLOYMENT = "nightly"
WRITER_LIMIT = "jixiao-warehouse-writer"


@flow(name="nightly", retries=2, retry_delay_seconds=900)
def nightly(
    inbox: str, manifest: str | None = None, options: RunOptions = DEFAULT_OPTIONS
) -> RunSummary:
    """Ingest ``inbox`` (and ``manifest``'s lines) as the nightly run; one writer at a time."""
    with concurrency(WRITER_LIMIT, occupy=1):
        return ingest(
            paths=[inbox],
            manifest=manifest,
            options=replace(options, wait=True),
            flow_label="nightly",
        )


def nightly_deployment(
    inbox: str | Path,
    options: RunOptions,
    manifest: str | Path | None = None,
    cron: str = DEFAULT_CRON,
    timezone: str = DEFAULT_TIMEZONE,
    name: str = DEPLOYMENT,
) -> RunnerDeployment:
    """The nightly deployment: the flow, its parameters and its cron schedule (not yet served).

    Paths are made absolute: the served runs may start in another folder.
    """
    report_dir = options.report_dir
    options = replace(
        options,
        db=str(options.warehouse().resolve()),
        report_dir=str(Path(report_dir).resolve()) if report_dir else None,
    )
    parameters = {
        "inbox": str(Path(inbox).resolve()),
        "manifest": str(Path(manifest).resolve()) if manifest else None,
        "options": asdict(options),
    }
    return nightly.to_deployment(
        name=name,
        schedule=Cron(cron, timezone=timezone),
        concurrency_limit=1,
        parameters=parameters,
        description=f"jixiao nightly ingest of {parameters['inbox']} into {options.db}",
        tags=["jixiao"],
        entrypoint_type=EntrypointType.MODULE_PATH,
    )


def ensure_writer_limit() -> None:
    """Create the one-slot global concurrency limit the writing part holds, if missing."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate
    from prefect.exceptions import ObjectNotFound

    with get_client(sync_client=True) as client:
        try:
            client.read_global_concurrency_limit_by_name(WRITER_LIMIT)
        except ObjectNotFound:
            client.create_global_concurrency_limit(
                GlobalConcurrencyLimitCreate(name=WRITER_LIMIT, limit=1)
            )


def serve(deployment: RunnerDeployment, ready: Callable[[], None] | None = None) -> None:
    """Register ``deployment``, call ``ready``, and run its scheduled flow runs until stopped."""
    from prefect.runner import Runner

    ensure_writer_limit()
    runner = Runner()
    runner.add_deployment(deployment)
    if ready is not None:
        ready()
    asyncio.run(runner.start())
