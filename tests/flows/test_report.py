"""The run report: one self-contained page a person acts on."""

import re
import shutil
from pathlib import Path

import lxml.html
import pytest

from flows.ingest import ingest
from flows.options import RunOptions
from flows.report import TEMPLATES
from flows.summary import REVIEW_PORT, UNSUPPORTED, skipped_lines
from warehouse import Warehouse

ROOT = Path(__file__).parents[2]
SAMPLES = ROOT / "samples" / "pdf"
REVIEW = f"http://127.0.0.1:{REVIEW_PORT}/forms/"
SECTIONS = ("quarantined", "warnings", "no-forms", "failed", "by-department", "by-year", "charts")


@pytest.fixture(scope="module")
def run(tmp_path_factory, prefect_harness):
    folder = tmp_path_factory.mktemp("report")
    inbox = folder / "inbox"
    inbox.mkdir()
    for name in (
        "self_eval_arithmetic_faults.pdf",  # five forms quarantined
        "self_eval_three_forms.pdf",  # landed, with warnings
        "budget_summary_no_forms.pdf",  # no forms
    ):
        shutil.copyfile(SAMPLES / name, inbox / name)
    (inbox / "broken.pdf").write_bytes(b"%PDF-1.7 truncated")
    db = folder / "w.duckdb"
    summary = ingest(
        paths=[str(inbox)], options=RunOptions(db=str(db), report_dir=str(folder / "reports"))
    )
    report = Path(summary.report)
    assert report == folder / "reports" / summary.run_id / "report.html"
    return report, lxml.html.parse(str(report)).getroot(), db


def section(page, name):
    (found,) = page.xpath(f"//section[@id='{name}']")
    return found


def test_every_section_is_there_and_filled(run):
    _, page, _ = run
    for name in SECTIONS:
        assert section(page, name).xpath(".//table | .//svg"), name
    assert len(section(page, "charts").xpath(".//svg")) == 3


def test_every_quarantined_form_links_to_its_review_page(run):
    report, page, db = run
    with Warehouse.open(db, read_only=True) as warehouse:
        held = {
            row[0]
            for row in warehouse.connection.execute("SELECT form_id FROM quarantine").fetchall()
        }
    assert len(held) == 5
    links = {a.get("href"): a.text for a in section(page, "quarantined").xpath(".//a")}
    assert links == {REVIEW + form_id: form_id for form_id in held}
    assert "jixiao review --db" in section(page, "quarantined").text_content()
    morning = (report.parent / "summary.md").read_text()  # the summary artifact's text
    for form_id in held:
        assert f"| [{form_id}]({REVIEW}{form_id}) |" in morning


def test_forms_with_warnings_and_files_without_forms_are_listed(run):
    _, page, db = run
    with Warehouse.open(db, read_only=True) as warehouse:
        warned = {
            row[0]
            for row in warehouse.connection.execute(
                "SELECT form_id FROM forms WHERE status = 'warning'"
            ).fetchall()
        }
    assert warned
    assert {a.text for a in section(page, "warnings").xpath(".//a")} == warned
    assert "budget_summary_no_forms.pdf" in section(page, "no-forms").text_content()
    assert "broken.pdf" in section(page, "failed").text_content()


def test_breakdowns_and_charts_agree_with_the_warehouse(run):
    _, page, db = run
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        department, landed, budget, executed = con.execute(
            """
            SELECT department, count(*), sum(budget_full_year), sum(budget_executed)
            FROM forms WHERE duplicate_of IS NULL GROUP BY ALL
            """
        ).fetchone()
        (held_department,) = con.execute(
            "SELECT DISTINCT department FROM store.form WHERE status = 'quarantined'"
        ).fetchone()
    rows = {
        tr.xpath("td")[0].text_content(): [td.text_content() for td in tr.xpath("td")]
        for tr in section(page, "by-department").xpath(".//tr[td]")
    }
    assert rows[held_department][1:3] == ["0", "5"]
    cells = rows[department]
    assert cells[1:3] == [str(landed), "0"]
    assert cells[4:6] == [f"{budget / 10000:,.2f}", f"{executed / 10000:,.2f}"]
    assert cells[6] == f"{executed / budget * 100:.1f}%"

    charts = section(page, "charts").xpath(".//svg")
    executed_chart = " ".join(charts[0].xpath(".//text()"))
    assert f"({executed / budget:.0%})" in executed_chart
    levels = charts[1].xpath(".//text()")
    for level in ("产出指标", "效益指标", "满意度指标", "预算执行率"):
        assert level in levels
    for chart in charts:  # every bar stands for something: no empty bins
        widths = [float(r.get("width")) for r in chart.xpath(".//rect[@height > 10]")]
        assert widths and all(width > 0 for width in widths)


def test_nothing_is_loaded_from_the_internet(run):
    report, page, _ = run
    assert not page.xpath("//script | //link | //iframe | //img")
    outside = [
        value
        for value in page.xpath("//@src | //@href")
        if re.match(r"https?:", value) and not value.startswith(REVIEW)
    ]
    assert outside == []
    assert "url(" not in report.read_text()
    style = " ".join(page.xpath("//style/text()"))
    assert "Noto Sans CJK SC" in style and "WenQuanYi Micro Hei" in style
    assert page.get("lang") == "zh-CN"


def test_charts_escape_labels_and_handle_nothing():
    charts = TEMPLATES.get_template("charts.html").module
    assert "&lt;b&gt;" in str(charts.bar_chart("t", [("<b>", 3)]))
    assert "nothing to show" in str(charts.bar_chart("t", []))
    assert "nothing to show" in str(charts.against_chart("t", [], "budget", "executed"))


def test_many_skipped_files_are_counted_by_suffix_and_a_few_named():
    few = ["inbox/notes.csv"]
    many = [f"inbox/{n}.expected.json" for n in range(9)] + ["inbox/a.csv", "inbox/README"]

    assert skipped_lines(few) == [f"skipped: inbox/notes.csv: {UNSUPPORTED}"]
    assert skipped_lines(many) == [
        f"skipped 11 files (9 .json, 1 .csv, 1 (no suffix)): {UNSUPPORTED}",
        "  among them: inbox/0.expected.json, inbox/1.expected.json, inbox/2.expected.json, …",
    ]
