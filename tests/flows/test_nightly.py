"""The nightly deployment as Prefect records it, the writer's concurrency limit, and a nightly
run's morning summary."""

import shutil
from pathlib import Path

import pytest
from prefect.client.orchestration import get_client

from flows.nightly import (
    DEFAULT_CRON,
    DEFAULT_TIMEZONE,
    WRITER_LIMIT,
    ensure_writer_limit,
    nightly,
    nightly_deployment,
)
from flows.options import RunOptions
from flows.report import SUMMARY_ARTIFACT
from warehouse import Warehouse

SEEDS = sorted((Path(__file__).parents[1] / "data" / "seeds").glob("*.txt"))
FAULTS = Path(__file__).parents[2] / "samples" / "pdf" / "self_eval_arithmetic_faults.pdf"

pytestmark = pytest.mark.usefixtures("prefect_harness")


def test_the_deployment_schedule_as_prefect_records_it(tmp_path):
    (tmp_path / "inbox").mkdir()
    deployment = nightly_deployment(
        tmp_path / "inbox", RunOptions(db=str(tmp_path / "w.duckdb"), workers=2)
    )

    deployment_id = deployment.apply()

    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment_id)
        assert stored.name == "nightly"
        assert client.read_flow(stored.flow_id).name == "nightly"
        ((schedule,),) = [[s.schedule for s in stored.schedules]]
        assert (schedule.cron, schedule.timezone) == (DEFAULT_CRON, DEFAULT_TIMEZONE)
        assert (DEFAULT_CRON, DEFAULT_TIMEZONE) == ("0 2 * * *", "Asia/Shanghai")
        assert stored.global_concurrency_limit.limit == 1
        assert stored.parameters["inbox"] == str((tmp_path / "inbox").resolve())
        assert stored.parameters["options"]["workers"] == 2
        assert stored.parameters["options"]["db"] == str((tmp_path / "w.duckdb").resolve())
        assert stored.entrypoint == "flows.nightly.nightly"


def test_a_custom_schedule_is_recorded_as_given(tmp_path):
    deployment = nightly_deployment(
        tmp_path,
        RunOptions(db=str(tmp_path / "w.duckdb")),
        cron="30 5 * * 1-5",
        timezone="UTC",
        name="weekdays",
    )
    with get_client(sync_client=True) as client:
        stored = client.read_deployment(deployment.apply())
    assert (stored.schedules[0].schedule.cron, stored.schedules[0].schedule.timezone) == (
        "30 5 * * 1-5",
        "UTC",
    )


def test_the_writer_limit_is_created_once_with_one_slot():
    ensure_writer_limit()
    ensure_writer_limit()
    with get_client(sync_client=True) as client:
        assert client.read_global_concurrency_limit_by_name(WRITER_LIMIT).limit == 1


def test_a_nightly_run_leaves_a_morning_summary(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(SEEDS[1], inbox / SEEDS[1].name)
    shutil.copyfile(FAULTS, inbox / FAULTS.name)
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    db = tmp_path / "w.duckdb"

    deployment = nightly_deployment(
        inbox, RunOptions(db=str(db), report_dir=str(tmp_path / "reports"))
    )

    summary = nightly(**deployment.parameters)  # the options as a deployment stores them: JSON

    assert (summary.flow, summary.status, summary.files_failed) == ("nightly", "completed", 1)
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.connection.execute("SELECT flow FROM ingest_runs").fetchall() == [
            ("nightly",)
        ]
    text = (Path(summary.report).parent / "summary.md").read_text()
    assert "## jixiao nightly run: completed" in text
    assert f"### New quarantines ({summary.forms_quarantined})" in text
    assert "executed_le_budget" in text
    assert "### Failures (1)" in text and "broken.pdf" in text
    with get_client(sync_client=True) as client:
        artifact = client.read_latest_artifacts(artifact_filter=None, limit=50)
    assert any(a.key == SUMMARY_ARTIFACT and "New quarantines" in a.data for a in artifact)
