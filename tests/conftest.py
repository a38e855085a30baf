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
