"""Compare parsed forms with a sample's <name>.expected.json (written by generate_samples.py)."""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "pdf"
MONEY = {"budget_initial", "budget_full_year", "budget_executed", "project_funds_total"}
NOT_COMPARED = {"checks"}  # what the checks must find, for the expectation tests
PAGES = {"page", "first_page", "last_page"}  # differ between formats and producers


def _value(key: str, value: object) -> object:
    """One field in comparison form: money as Decimal, numbers rounded, dates as ISO text."""
    if value is None:
        return None
    if key in MONEY:
        return Decimal(str(value)).quantize(Decimal("0.01"))
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 6)
    return value


def compare(expected: dict, actual: object, skip: frozenset[str] = frozenset()) -> dict:
    """``actual`` as a dict with ``expected``'s keys, both normalised; lists compared by item."""
    out = {}
    for key, value in expected.items():
        if key in NOT_COMPARED or key in skip:
            continue
        got = getattr(actual, key) if dataclasses.is_dataclass(actual) else actual[key]
        if isinstance(value, list):
            out[key] = [
                compare(item, got[i], skip) if i < len(got) else None
                for i, item in enumerate(value)
            ] + [dataclasses.asdict(extra) for extra in got[len(value) :]]
        else:
            out[key] = _value(key, got)
    return out


def normalised(expected: dict, skip: frozenset[str] = frozenset()) -> dict:
    """``expected`` with the same normalisation and skipped keys as ``compare``."""
    out = {}
    for key, value in expected.items():
        if key in NOT_COMPARED or key in skip:
            continue
        if isinstance(value, list):
            out[key] = [normalised(item, skip) for item in value]
        else:
            out[key] = _value(key, value)
    return out


def load_expected(sample: Path) -> list[dict]:
    """The expected forms of one sample (any format), as plain dicts, from samples/pdf."""
    data = json.loads((SAMPLES / f"{sample.stem}.expected.json").read_text(encoding="utf-8"))
    return data["forms"]
