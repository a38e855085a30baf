"""``jixiao review`` driven in a real headless Chromium: list, filter, form page, release."""

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.reliability.test_quarantine_review import FAULTS, PROJECT, SEED, ingest_directly
from warehouse import Warehouse

playwright = pytest.importorskip("playwright.sync_api", reason="pip install -e '.[dev]'")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="needs chromium (scripts/setup)")
THREE_FORMS = PROJECT / "samples" / "pdf" / "self_eval_three_forms.pdf"
SICHUAN = PROJECT / "tests" / "data" / "real" / "web" / "sichuan_qingshen_2023_self_evaluation.html"
OVER_BUDGET = "预算管理一体化运维（执行数超预算）"


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("review") / "w.duckdb"
    ingest_directly(db, FAULTS, THREE_FORMS, SEED, SICHUAN)
    return db


@pytest.fixture
def db(warehouse_file, tmp_path) -> Path:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse_file.read_bytes())
    return copy


@pytest.fixture
def site(db, tmp_path):
    """``jixiao review`` serving ``db`` on a free port, as a person starts it."""
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "PREFECT_HOME": str(tmp_path / "prefect")}
    server = subprocess.Popen(
        [sys.executable, "-m", "flows.app.cli", "review", "--db", str(db), "--port", "0"]
        + ["--by", "ann"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = server.stdout.readline()  # 'reviewing … on http://127.0.0.1:PORT/forms (…)'
        assert "http://127.0.0.1:" in line, server.stderr.read()
        yield line.split(" on ")[1].split("/forms")[0]
    finally:
        server.send_signal(signal.SIGINT)
        assert server.wait(timeout=30) == 0  # Ctrl-C stops it cleanly
        assert "Traceback" not in server.stderr.read()


@pytest.fixture
def browser():
    with playwright.sync_playwright() as driver:
        chromium = driver.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            yield chromium.new_page()
        finally:
            chromium.close()


def image_shown(page) -> bool:
    """Whether the form's first source image loaded and has pixels."""
    page.wait_for_function("document.querySelector('.source img').complete")
    return page.evaluate("document.querySelector('.source img').naturalWidth") > 0


def test_filter_open_and_release_a_held_form(db, site, browser):
    page = browser
    page.goto(f"{site}/forms")
    rows = page.locator("#forms tr:has(td)")
    assert rows.count() == 5  # the faulty sample's five forms await review

    page.select_option("#filter-check", "executed_le_budget")
    page.click("#apply")
    assert rows.count() == 1 and OVER_BUDGET in rows.first.inner_text()
    page.select_option("#filter-year", "2022")
    page.select_option("#filter-department", "上海市普陀区财政局")
    page.click("#apply")
    assert rows.count() == 1

    page.click(f"#forms a:has-text('{OVER_BUDGET}')")
    assert image_shown(page)
    checks = page.locator("#checks").inner_text()
    assert "executed_le_budget" in checks and "1,032,500.00" in checks
    assert page.locator("#funds tr.fail").count() == 1  # the line the check concerns
    assert "1032500.00" in page.locator("#funds").inner_text()

    page.fill("#note", "执行数含上年结转资金，已与决算核对")
    page.click("#release")
    assert "released by ann" in page.locator("#decided").inner_text()
    assert page.locator("#state").inner_text() == "landed in forms"
    assert page.locator("#release").count() == 0  # decided once
    page.click("#next")  # on to the next form awaiting review
    assert page.locator("#state").inner_text() == "awaiting review"
    assert page.locator("#release").count() == 1

    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        (form_id,) = con.execute(
            "SELECT form_id FROM forms WHERE name = ?", [OVER_BUDGET]
        ).fetchone()
        assert con.execute(
            "SELECT action, reviewed_by, note FROM reviews WHERE form_id = ?", [form_id]
        ).fetchall() == [("released", "ann", "执行数含上年结转资金，已与决算核对")]
        assert con.execute("SELECT count(*) FROM quarantine").fetchone() == (4,)
    page.goto(f"{site}/forms")
    assert rows.count() == 4
    assert "awaiting review (4)" in page.locator("nav").inner_text()


def test_a_decision_while_an_ingest_writes_says_so_and_keeps_the_note(db, site, browser):
    page = browser
    page.goto(f"{site}/forms")
    page.click("#forms a >> nth=0")
    with Warehouse.open(db):  # what an ingest holds while it writes
        page.fill("#note", "总分核对无误")
        page.click("#reject")
        assert "another jixiao run" in page.locator("#message").inner_text()
        assert page.locator("#note").input_value() == "总分核对无误"
        assert page.locator("#state").inner_text() == "awaiting review"
    page.click("#reject")
    assert "rejected by ann" in page.locator("#decided").inner_text()
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.connection.execute("SELECT action, note FROM reviews").fetchall() == [
            ("rejected", "总分核对无误")
        ]


def test_landed_forms_are_browsed_the_same_way(site, browser):
    page = browser
    page.goto(f"{site}/forms?state=landed")
    rows = page.locator("#forms tr:has(td)")
    assert rows.count() == 7  # the three forms of the clean sample and of the text seed, Sichuan's
    page.click(f"#forms tr:has-text('{THREE_FORMS.name}') a >> nth=0")
    assert image_shown(page)
    assert page.locator("#indicators tr:has(td)").count() > 0
    assert page.locator("#release").count() == 0
    assert page.locator("#state").inner_text() == "landed in forms"

    page.goto(f"{site}/forms?state=landed")
    page.click(f"#forms tr:has-text('{SEED.name}') a >> nth=0")
    assert "has no pages to draw" in page.locator("#no-picture").inner_text()
    assert page.locator(".source img").count() == 0
    assert page.locator("#indicators tr:has(td)").count() > 0

    page.goto(f"{site}/forms?state=landed")
    page.click(f"#forms tr:has-text('{SICHUAN.name}') a >> nth=0")
    conclusion = page.locator("#header tr:has(th:text-is('评价结论')) td").inner_text()
    assert conclusion.startswith("结合自评情况")  # a label no column holds, shown as printed


def test_other_sites_can_neither_read_the_pages_nor_decide(site, db):
    (form_id,) = held_ids(db)[:1]
    assert httpx.get(f"{site}/forms", headers={"Host": "attacker.example"}).status_code == 421
    answer = httpx.post(
        f"{site}/forms/{form_id}/review",
        content="action=release&note=x",
        headers={"Origin": "http://attacker.example"},
    )
    assert answer.status_code == 403
    assert len(held_ids(db)) == 5


def test_a_warehouse_gone_while_serving_is_one_line(site, db):
    db.rename(db.with_suffix(".moved"))
    answer = httpx.get(f"{site}/forms")
    assert answer.status_code == 503 and "no warehouse at" in answer.text


def held_ids(db: Path) -> list[str]:
    with Warehouse.open(db, read_only=True) as warehouse:
        return [
            row[0]
            for row in warehouse.connection.execute("SELECT form_id FROM quarantine").fetchall()
        ]


def test_nothing_is_loaded_from_elsewhere(site, browser):
    page = browser
    requests = []
    page.on("request", lambda request: requests.append(request.url))
    page.goto(f"{site}/forms")
    page.click("#forms a >> nth=0")
    assert image_shown(page)
    assert requests and all(url.startswith(site) for url in requests)
