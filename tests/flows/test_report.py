"""The run report: counts, charts, failures, and GX Data Docs for the run."""

import shutil
from pathlib import Path

import pytest

from flows.ingest import ingest
from flows.options import RunOptions
from flows.report import ValidationLog, _histogram, bar_chart

ROOT = Path(__file__).parents[2]


@pytest.mark.usefixtures("prefect_harness")
def test_an_ingest_writes_its_report_with_charts_and_data_docs(tmp_path):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for name in ("self_eval_arithmetic_faults.pdf", "self_eval_three_forms.pdf"):
        shutil.copyfile(ROOT / "samples" / "pdf" / name, inbox / name)
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")

    summary = ingest(
        paths=[str(inbox)],
        options=RunOptions(db=str(tmp_path / "w.duckdb"), report_dir=str(tmp_path / "reports")),
    )

    report = Path(summary.report)
    assert report == tmp_path / "reports" / summary.run_id / "report.html"
    page = report.read_text()
    assert page.count("<svg") == 3
    for title in ("Execution rate", "Total score", "Failed checks by type"):
        assert title in page
    assert "executed_le_budget (error)" in page
    assert (
        "broken.pdf" in page
        and f"Forms quarantined by this run ({summary.forms_quarantined})" in page
    )
    assert 'href="data_docs/index.html"' in page
    docs = report.parent / "data_docs"
    assert (docs / "index.html").is_file()
    pages = list((docs / "validations").rglob("*.html"))
    assert len(pages) == 2  # the form and indicator suites of the one chunk
    assert any("form_checks" in p.read_text() for p in pages)
    assert (report.parent / "summary.md").read_text().startswith("## jixiao ingest run")


def test_histogram_bins_and_overflow():
    bins = [(0, 10, "0–10"), (10, 20, "10–20")]
    assert _histogram([0, 9.9, 10, 20, 25], bins) == [("0–10", 2), ("10–20", 2), ("> 20", 1)]


def test_bar_chart_escapes_labels_and_handles_nothing():
    assert "&lt;b&gt;" in bar_chart("t", [("<b>", 3)])
    assert "nothing to show" in bar_chart("t", [])


def test_validation_log_keeps_the_first_results():
    log = ValidationLog(limit=3)
    log.extend([1, 2])
    log.extend([3, 4, 5])
    assert list(log) == [1, 2, 3] and log.dropped == 2
