"""Real negative controls: published budget packages hold many tables and no performance form.
Every one must be read in bounded time and yield no form."""

import re
import time
from pathlib import Path

import pytest

from extractors import read_document
from extractors.forms import parse_forms

REAL = Path(__file__).parents[1] / "data" / "real"
# every real package published with the project's domain notes (packages/SOURCES.md), and the two
# renamed copies the PDF reader's tests use
PACKAGES = sorted(REAL.glob("packages/*.pdf")) + sorted(REAL.glob("*.pdf"))


def test_all_the_real_packages_are_there():
    assert len(list(REAL.glob("packages/*.pdf"))) == 22


@pytest.mark.parametrize("path", PACKAGES, ids=lambda path: path.name)
def test_a_budget_package_yields_no_form(path):
    started = time.monotonic()
    document = read_document(path)
    forms = parse_forms(document)
    assert time.monotonic() - started < 60
    assert forms == [], [form.name for form in forms]
    assert document.pages and document.pages >= 10


@pytest.mark.usefixtures("prefect_harness")
def test_an_ingest_of_the_packages_records_each_as_no_forms(tmp_path):
    from flows.ingest import ingest
    from flows.options import RunOptions
    from warehouse import Warehouse

    unique = {path.read_bytes(): path for path in reversed(PACKAGES)}  # tests/data has copies
    db = tmp_path / "w.duckdb"
    summary = ingest(paths=[str(path) for path in unique.values()], options=RunOptions(db=str(db)))

    assert (summary.files_failed, summary.forms_landed, summary.forms_quarantined) == (0, 0, 0)
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        files = con.execute("SELECT status, forms_found, error FROM source_files").fetchall()
        assert con.execute("SELECT count(*) FROM store.form").fetchone() == (0,)
    assert len(files) == len(unique)
    for status, found, error in files:
        assert (status, found) == ("no_forms", 0)
        assert re.match(r"\d+ pages, \d+ tables?, no performance form; ", error), error
        assert "to see what was read, run: jixiao debug " in error
