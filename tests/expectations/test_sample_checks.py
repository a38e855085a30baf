"""The checks on real documents: the bundled sample PDFs and the two seed documents.

Each sample's expected.json lists the checks its forms must fail (none for the consistent ones);
the seeds print totals of 97 and 95 for rows summing to 97.2 and 95.4: warnings, not errors.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from expectations import validate
from extractors import read_document
from extractors.forms import parse_forms

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = sorted((ROOT / "samples" / "pdf").glob("*.pdf"))
SEEDS = ROOT / "tests" / "data" / "seeds"


def _found(path: Path) -> list[set[tuple[str, str]]]:
    forms = parse_forms(read_document(path))
    for form in forms:
        form.form_id = f"{path.stem}-{form.form_ordinal}"
    results = validate(forms)
    return [
        {(r.check_name, r.severity) for r in results if r.form_id == form.form_id} for form in forms
    ]


@pytest.mark.parametrize("pdf", SAMPLES, ids=lambda p: p.stem)
def test_sample_checks(pdf: Path):
    expected = json.loads(pdf.with_suffix(".expected.json").read_text(encoding="utf-8"))["forms"]
    assert _found(pdf) == [{tuple(c) for c in form["checks"]} for form in expected]


def test_seed_checks():
    assert _found(SEEDS / "000_47efb21861c60971.txt") == [
        {("deviation_reason_present", "warning")},  # 提高劳动者技能水平 scored 4 of 5, no reason
        {("total_score_consistent", "warning")},  # printed 97, rows sum to 97.2
        {("total_score_consistent", "warning")},  # printed 95, rows sum to 95.4
    ]
    assert _found(SEEDS / "004_52c260094030f1a0.txt") == [set()]


RENDERED = ROOT / "tests" / "data" / "rendered"


@pytest.mark.parametrize(
    "path",
    sorted(RENDERED.glob("*/self_eval_arithmetic_faults.*")),
    ids=lambda p: p.parent.name,
)
def test_faulty_forms_fail_the_same_checks_in_every_format(path: Path):
    """DOCX, XLSX, HTML and LibreOffice PDF renderings of the faulty forms: same check names."""
    pdf = ROOT / "samples" / "pdf" / "self_eval_arithmetic_faults.pdf"
    expected = json.loads(pdf.with_suffix(".expected.json").read_text(encoding="utf-8"))["forms"]
    assert _found(path) == [{tuple(c) for c in form["checks"]} for form in expected]
