"""PDF → forms end to end: parse_forms(read_pdf(sample)) gives the records in <name>.expected.json.

The expected files are written by scripts/generate_samples.py from scripts/sample_forms.py; their
conventions are documented there. Money is compared as Decimal 元, rates and scores as floats.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expected_forms import compare, load_expected, normalised

from extractors import read_document
from extractors.forms import parse_forms
from extractors.pdf import read_pdf
from schemas.records import Form

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "pdf"
SAMPLE_PDFS = sorted(SAMPLES.glob("*.pdf"))
REAL = Path(__file__).resolve().parents[1] / "data" / "real"


@pytest.mark.parametrize("pdf", SAMPLE_PDFS, ids=lambda p: p.stem)
def test_parse_forms_matches_expected(pdf: Path):
    forms: list[Form] = parse_forms(read_pdf(pdf))
    expected = load_expected(pdf)
    assert [f.name for f in forms] == [e["name"] for e in expected]
    for want, got in zip(expected, forms):
        assert compare(want, got) == normalised(want), want["name"]


@pytest.mark.parametrize("pdf", sorted(REAL.glob("*.pdf")), ids=lambda p: p.stem)
def test_real_budget_packages_hold_no_form(pdf: Path):
    """Real published budget packages: many tables, no performance form, none invented."""
    document = read_document(pdf)
    assert document.n_tables > 0
    assert parse_forms(document) == []
