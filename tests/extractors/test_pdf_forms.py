"""PDF → forms end to end: parse_forms(read_pdf(sample)) gives the records in <name>.expected.json.

The expected files are written by scripts/generate_samples.py from scripts/sample_forms.py; their
conventions are documented there. Money is compared as Decimal 元, rates and scores as floats.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from extractors.pdf import read_pdf
from schemas.records import Form

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "pdf"
SAMPLE_PDFS = sorted(SAMPLES.glob("*.pdf"))

MONEY = {"budget_initial", "budget_full_year", "budget_executed", "project_funds_total"}
NOT_COMPARED = {"checks"}  # what the checks must find, for the expectation tests


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


def _compare(expected: dict, actual: object) -> dict:
    """``actual`` as a dict with ``expected``'s keys, both normalised; lists compared by item."""
    out = {}
    for key, value in expected.items():
        if key in NOT_COMPARED:
            continue
        got = getattr(actual, key) if dataclasses.is_dataclass(actual) else actual[key]
        if isinstance(value, list):
            out[key] = [
                _compare(item, got[i]) if i < len(got) else None for i, item in enumerate(value)
            ] + [dataclasses.asdict(extra) for extra in got[len(value) :]]
        else:
            out[key] = _value(key, got)
    return out


def _normalised(expected: dict) -> dict:
    out = {}
    for key, value in expected.items():
        if key in NOT_COMPARED:
            continue
        if isinstance(value, list):
            out[key] = [_normalised(item) for item in value]
        else:
            out[key] = _value(key, value)
    return out


def load_expected(pdf: Path) -> list[dict]:
    """The expected forms of one sample, as plain dicts."""
    data = json.loads(pdf.with_suffix(".expected.json").read_text(encoding="utf-8"))
    return data["forms"]


@pytest.mark.parametrize("pdf", SAMPLE_PDFS, ids=lambda p: p.stem)
def test_parse_forms_matches_expected(pdf: Path):
    from extractors.forms import parse_forms

    forms: list[Form] = parse_forms(read_pdf(pdf))
    expected = load_expected(pdf)
    assert [f.name for f in forms] == [e["name"] for e in expected]
    for want, got in zip(expected, forms):
        assert _compare(want, got) == _normalised(want), want["name"]
