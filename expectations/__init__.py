"""Consistency checks on parsed forms, run as Great Expectations validations (SCHEMA.md check_results).

Importing this package is cheap: great_expectations is imported on the first `validate` call.
"""

from expectations.checks import validate
from expectations.registry import CHECKS, SEVERITY

__all__ = ["CHECKS", "SEVERITY", "validate"]
