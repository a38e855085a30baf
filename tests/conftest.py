"""Shared fixtures."""

import os

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_harness():
    """Run flows against a throwaway Prefect server and database for the whole session."""
    analytics = os.environ.get("PREFECT_SERVER_ANALYTICS_ENABLED")
    os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = "false"  # no telemetry writes to the temp DB
    try:
        with prefect_test_harness(server_startup_timeout=60):
            yield
    finally:
        if analytics is None:
            os.environ.pop("PREFECT_SERVER_ANALYTICS_ENABLED")
        else:
            os.environ["PREFECT_SERVER_ANALYTICS_ENABLED"] = analytics


@pytest.fixture(scope="session", autouse=True)
def jixiao_state(tmp_path_factory):
    """Command-line runs without a Prefect server start jixiao's local one: in a throwaway state
    folder, stopped when the session ends."""
    from flows.app.prefect_server import stop

    folder = tmp_path_factory.mktemp("jixiao-state")
    previous = os.environ.get("JIXIAO_STATE_DIR")
    os.environ["JIXIAO_STATE_DIR"] = str(folder)
    try:
        yield folder
    finally:
        stop(folder)
        if previous is None:
            os.environ.pop("JIXIAO_STATE_DIR")
        else:
            os.environ["JIXIAO_STATE_DIR"] = previous
