"""Shared fixtures."""

import pytest
from prefect.testing.utilities import prefect_test_harness


@pytest.fixture(scope="session")
def prefect_harness():
    """Run flows against a throwaway Prefect server and database for the whole session."""
    with prefect_test_harness(server_startup_timeout=60):
        yield
