"""The real publications in tests/data/real/forms against the forms transcribed by hand from their
rendered pages (tests/data/real/expected/<file>.json): the number of forms and blank templates in
each file, every transcribed form field by field, each indicator row included, and the forms the
checks hold back: exactly those whose printed figures disagree, for the values printed.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import replace
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from expectations.checks import validate
from extractors import read_document
from extractors.forms import parse_forms
from schemas.grid import Document
from schemas.records import Form, Indicator
from schemas.vocabulary import canonical_level

REAL = Path(__file__).parents[1] / "data" / "real"
EXPECTED = sorted((REAL / "expected").glob("*.json"))
# One project a row with every indicator packed into one cell: read by extractors.project_lists,
# whose own tests compare its forms with the transcription.
PACKED_LISTS = {"renwu_005_广州_2026年广州市生态环境局部门预算.pdf"}
FORM_FIELDS = (
    "last_page",
    "form_type",
    "fiscal_year",
    "name",
    "department",
    "implementing_unit",
    "money_unit",
    "budget_initial",
    "budget_full_year",
    "budget_executed",
    "execution_rate",
    "budget_weight",
    "budget_score",
    "total_weight",
    "total_score",
)
INDICATOR_FIELDS = (
    "level1",
    "level1_weight",
    "level2",
    "level3",
    "target_text",
    "target_op",
    "target_value",
    "target_unit",
    "actual_text",
    "weight",
    "score",
    "deviation_reason",
)
_OPERATOR = re.compile(r"^\s*[<>=≥≤≧≦＜＞＝]|以上|以下|以内|不(高|低|超)于|大于|小于")


@cache
def _read(file_name: str) -> tuple[Document, tuple[Form, ...]]:
    document = read_document(REAL / "forms" / file_name)
    return document, tuple(parse_forms(document))


def _text(value: Any) -> Any:
    """Text as transcribed: no whitespace, full-width forms folded (NFKC)."""
    if isinstance(value, str):
        folded = re.sub(r"\s+", "", unicodedata.normalize("NFKC", value))
        return folded or None
    return value


def _same(expected: Any, read: Any) -> bool:
    if expected is None or read is None:
        return _text(expected) is None and _text(read) is None
    if (
        isinstance(read, Decimal)
        or isinstance(expected, (int, float))
        and not isinstance(expected, bool)
    ):
        try:
            return abs(Decimal(str(expected)) - Decimal(str(read))) < Decimal("0.0001")
        except ArithmeticError:
            return False
    return _text(expected) == _text(read)


def _indicator_diffs(where: str, expected: dict[str, Any], row: Indicator) -> list[str]:
    diffs = []
    for name in INDICATOR_FIELDS:
        want, got = expected.get(name), getattr(row, name)
        if name == "target_op" and want is None and got == "=":
            # a bare quantity ('16个') reads as '=' (SCHEMA.md target_op): no operator printed
            if not _OPERATOR.search(expected.get("target_text") or ""):
                continue
        if name in ("level1", "level2") and want:
            want = canonical_level(want)  # levels are kept by their national name
        if not _same(want, got):
            diffs.append(f"{where} {name}: expected {want!r}, read {got!r}")
    want_extra = {_text(k): _text(v) for k, v in (expected.get("extra") or {}).items() if v}
    got_extra = {_text(k): _text(v) for k, v in (row.extra or {}).items() if _text(v)}
    if want_extra != got_extra:
        diffs.append(f"{where} extra: expected {want_extra!r}, read {got_extra!r}")
    return diffs


def form_diffs(expected: dict[str, Any], form: Form) -> list[str]:
    """Every field where the form read differs from the transcription."""
    where = f"p{expected['first_page']} {expected.get('name')}"
    diffs = []
    for name in FORM_FIELDS:
        if not _same(expected.get(name), getattr(form, name)):
            diffs.append(
                f"{where} {name}: expected {expected.get(name)!r}, read {getattr(form, name)!r}"
            )
    if expected.get("year_printed_where") != form.year_source:
        diffs.append(
            f"{where} year_source: expected {expected.get('year_printed_where')!r}, "
            f"read {form.year_source!r}"
        )
    rows = expected.get("indicators") or []
    if len(rows) != len(form.indicators):
        diffs.append(f"{where}: {len(rows)} indicator rows expected, {len(form.indicators)} read")
    for k, (want, got) in enumerate(zip(rows, form.indicators, strict=False), start=1):
        diffs += _indicator_diffs(f"{where} row {k}", want, got)
    return diffs


def _match(expected: dict[str, Any], forms: tuple[Form, ...]) -> Form | None:
    """The form read on the transcribed form's first page, by name where several start there."""
    on_page = [f for f in forms if f.first_page == expected["first_page"]]
    named = [f for f in on_page if _text(f.name) == _text(expected.get("name"))]
    return (named or on_page or [None])[0]


def _expected(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _params(skip: set[str] = frozenset()) -> list[Any]:
    return [
        pytest.param(path, id=path.stem) for path in EXPECTED if _expected(path)["file"] not in skip
    ]


@pytest.mark.parametrize("path", _params())
def test_forms_and_blank_templates_counted(path: Path):
    expected = _expected(path)
    document, forms = _read(expected["file"])
    blank = sum(
        int(m.group(1))
        for note in document.notes
        for m in [re.match(r"(\d+) blank template", note)]
        if m
    )
    assert (len(forms), blank) == (expected["forms_total"], expected["blank_templates"])


@pytest.mark.parametrize(
    "path", [p for p in _params(PACKED_LISTS) if _expected(p.values[0]).get("forms")]
)
def test_transcribed_forms_read_as_printed(path: Path):
    expected = _expected(path)
    _, forms = _read(expected["file"])
    diffs = []
    for transcribed in expected["forms"]:
        form = _match(transcribed, forms)
        if form is None:
            diffs.append(f"p{transcribed['first_page']} {transcribed.get('name')}: no form read")
            continue
        diffs += form_diffs(transcribed, form)
    assert not diffs, "\n".join(diffs)


@pytest.mark.parametrize("path", _params())
def test_only_forms_printed_inconsistently_are_quarantined(path: Path):
    """Each error a check finds names a figure as the page prints it ('errors': check → the
    observed value); a form whose source is consistent lands."""
    expected = _expected(path)
    _, read = _read(expected["file"])
    forms = [replace(form, form_id=f"{path.stem}-{k}") for k, form in enumerate(read)]
    by_id = {form.form_id: form for form in forms}
    errors: dict[tuple[int | None, str | None], dict[str, str | None]] = {}
    for result in validate(forms):
        if result.severity == "error":
            form = by_id[result.form_id]
            errors.setdefault((form.first_page, form.name), {})[result.check_name] = result.observed
    want = {(q["first_page"], q["name"]): q["errors"] for q in expected.get("quarantined", [])}
    assert errors == want
    for transcribed in expected.get("forms") or []:
        if check := (transcribed.get("quarantine_expected") or {}).get("check"):
            assert check in want[(transcribed["first_page"], transcribed["name"])]


@pytest.mark.parametrize("path", _params())
def test_every_form_has_its_year_family_name_and_department(path: Path):
    """Where a form prints no 主管部门, the department is the issuer its package's cover names."""
    expected = _expected(path)
    _, forms = _read(expected["file"])
    missing = [
        f"p{form.first_page} {form.name}: {field}"
        for form in forms
        for field in ("fiscal_year", "year_source", "form_type", "name", "department")
        if not _text(getattr(form, field))
    ]
    assert not missing, "\n".join(missing)
    for unprinted in expected.get("department_not_printed", []):
        form = _match(unprinted, forms)
        assert form is not None and form.department == unprinted["department"]
