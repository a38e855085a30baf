"""``jixiao quarantine list | show | release | reject`` on a warehouse holding the faulty samples."""

import getpass
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy
import pytest
from PIL import Image

from expectations import validate
from extractors import read_document
from extractors.forms import parse_forms
from schemas.records import Extraction, form_id_for
from warehouse import SourceFile, Warehouse

PROJECT = Path(__file__).parents[2]
FAULTS = PROJECT / "samples" / "pdf" / "self_eval_arithmetic_faults.pdf"
SEED = PROJECT / "tests" / "data" / "seeds" / "000_47efb21861c60971.txt"


def ingest_directly(db: Path, *paths: Path) -> None:
    """Read, check and load ``paths`` through the library, without a flow."""
    with Warehouse.open(db) as warehouse:
        for path in paths:
            source = SourceFile.from_path(path)
            document = read_document(path)
            forms = parse_forms(document)
            for form in forms:
                form.form_id = form_id_for(source.sha256, form.form_ordinal)
            extraction = Extraction(forms, document.pages, document.extractor, document.n_tables)
            warehouse.load_file(source, extraction, validate(forms) if forms else [], "run")


def jixiao(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(PROJECT)}
    env.pop("JIXIAO_DB", None)
    return subprocess.run(
        [sys.executable, "-m", "flows.app.cli", "quarantine", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture(scope="module")
def warehouse_file(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("quarantine")
    db = folder / "w.duckdb"
    ingest_directly(db, FAULTS)
    return db


@pytest.fixture
def db(warehouse_file, tmp_path) -> Path:
    copy = tmp_path / "w.duckdb"
    copy.write_bytes(warehouse_file.read_bytes())
    return copy


def held(db: Path) -> dict[str, tuple]:
    with Warehouse.open(db, read_only=True) as warehouse:
        rows = warehouse.connection.execute(
            "SELECT form_id, name, reasons, rejected FROM quarantine"
        ).fetchall()
    return {row[0]: row[1:] for row in rows}


def test_list_names_each_held_form_and_its_reasons(db, tmp_path):
    result = jixiao("list", "--db", str(db), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for form_id, (name, reasons, _) in held(db).items():
        assert f"{form_id}  2022  {name}" in result.stdout
        assert ", ".join(reasons) in result.stdout
    assert "5 quarantined forms" in result.stdout


def test_show_puts_values_beside_the_failed_check_and_draws_the_cells(db, tmp_path):
    form_id = next(fid for fid, (name, *_) in held(db).items() if "得分超分值" in name)
    png = tmp_path / "out" / "form.png"

    result = jixiao("show", form_id, "--db", str(db), "--png", str(png), cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "score_le_weight: observed 22, expected <= 20" in out
    assert "row 2 (培训合格率), page 1, cells (" in out
    assert "培训合格率 | 指标值 >=90% | 实际 92% | 分值 20.0 | 得分 22.0" in out
    assert f"wrote {png}" in out
    image = Image.open(png).convert("RGB")
    pixels = numpy.asarray(image).reshape(-1, 3)
    red = int(((pixels[:, 0] > 200) & (pixels[:, 1] < 40) & (pixels[:, 2] < 40)).sum())
    assert red > 500  # the outline of the offending row
    assert image.width < 1000 and image.height < 1200  # the form's region, not the whole page


def test_funds_and_total_checks_point_at_their_rows(db, tmp_path):
    names = {name: fid for fid, (name, *_) in held(db).items()}
    executed = jixiao(
        "show", names["预算管理一体化运维（执行数超预算）"], "--db", str(db), cwd=tmp_path
    )
    assert "funds line 年度资金总额, page 1, cells (" in executed.stdout
    total = jixiao("show", names["国库集中支付运行保障（总分不符）"], "--db", str(db), cwd=tmp_path)
    assert re.search(r"total row, page \d, cells \(", total.stdout)


def test_release_lands_the_form_and_records_who_when_why(db, tmp_path):
    form_id = next(iter(held(db)))

    result = jixiao(
        "release", form_id, "--note", "publisher confirmed the typo", "--db", str(db), cwd=tmp_path
    )

    assert result.returncode == 0, result.stderr
    assert form_id not in held(db)
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        assert con.execute(
            "SELECT status, released FROM forms WHERE form_id = ?", [form_id]
        ).fetchall() == [("warning", True)]
        assert (
            con.execute("SELECT count(*) FROM indicators WHERE form_id = ?", [form_id]).fetchone()[
                0
            ]
            > 0
        )
        (action, note, by, at) = con.execute(
            "SELECT action, note, reviewed_by, reviewed_at FROM reviews WHERE form_id = ?",
            [form_id],
        ).fetchone()
    assert (action, note, by) == ("released", "publisher confirmed the typo", getpass.getuser())
    assert at is not None
    shown = jixiao("show", form_id, "--db", str(db), cwd=tmp_path).stdout
    assert "released (landed in forms)" in shown and "publisher confirmed the typo" in shown


def test_reject_keeps_the_form_out_and_off_the_default_list(db, tmp_path):
    form_id = next(iter(held(db)))

    result = jixiao(
        "reject",
        form_id,
        "--note",
        "not a real form",
        "--by",
        "auditor-7",
        "--db",
        str(db),
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr
    assert held(db)[form_id][2] is True
    assert form_id not in jixiao("list", "--db", str(db), cwd=tmp_path).stdout
    assert f"{form_id}" in jixiao("list", "--all", "--db", str(db), cwd=tmp_path).stdout
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.connection.execute(
            "SELECT reviewed_by FROM reviews WHERE form_id = ?", [form_id]
        ).fetchall() == [("auditor-7",)]
        assert warehouse.connection.execute(
            "SELECT count(*) FROM forms WHERE form_id = ?", [form_id]
        ).fetchone() == (0,)


def test_mistakes_are_usage_errors_with_a_message(db, tmp_path):
    unknown = jixiao("release", "nope-1", "--note", "x", "--db", str(db), cwd=tmp_path)
    assert unknown.returncode == 2 and "no form nope-1" in unknown.stderr
    blank = jixiao("reject", next(iter(held(db))), "--note", " ", "--db", str(db), cwd=tmp_path)
    assert blank.returncode == 2 and "needs a note" in blank.stderr
    missing = jixiao("list", "--db", str(tmp_path / "none.duckdb"), cwd=tmp_path)
    assert missing.returncode == 2 and "no warehouse at" in missing.stderr
    assert "Traceback" not in unknown.stderr + blank.stderr + missing.stderr


def test_a_source_without_pages_has_no_picture(tmp_path):
    db = tmp_path / "w.duckdb"
    ingest_directly(db, SEED)
    with Warehouse.open(db, read_only=True) as warehouse:
        form_id = warehouse.connection.execute(
            "SELECT form_id FROM store.form ORDER BY form_id LIMIT 1"
        ).fetchone()[0]
    result = jixiao(
        "show", form_id, "--db", str(db), "--png", str(tmp_path / "x.png"), cwd=tmp_path
    )
    assert result.returncode == 2
    assert "no cell positions to draw" in result.stderr
    assert not (tmp_path / "x.png").exists()


def test_a_review_while_another_run_writes_says_so(db, tmp_path):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"from warehouse import Warehouse; import time; w = Warehouse.open({str(db)!r}); print('ok', flush=True); time.sleep(60)",
        ],
        cwd=PROJECT,
        env={**os.environ, "PYTHONPATH": str(PROJECT)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ok"
        result = jixiao(
            "release", next(iter(held(db))), "--note", "x", "--db", str(db), cwd=tmp_path
        )
        assert result.returncode == 3
        assert f"another jixiao run (pid {holder.pid}) is writing" in result.stderr
        assert jixiao("list", "--db", str(db), cwd=tmp_path).returncode == 0  # reading still works
    finally:
        holder.kill()
        holder.wait()


def test_a_form_is_decided_once(db, tmp_path):
    form_id = next(iter(held(db)))
    first = jixiao(
        "release", form_id, "--note", "totals checked", "--by", "ann", "--db", str(db), cwd=tmp_path
    )
    assert first.returncode == 0, first.stderr
    for action in ("release", "reject"):
        again = jixiao(
            action, form_id, "--note", "again", "--by", "bob", "--db", str(db), cwd=tmp_path
        )
        assert again.returncode == 2 and "Traceback" not in again.stderr
        assert re.fullmatch(
            f"jixiao: form {form_id} was already released by ann on "
            r'\d{4}-\d\d-\d\d \d\d:\d\d UTC: "totals checked"\n',
            again.stderr,
        ), again.stderr
    with Warehouse.open(db, read_only=True) as warehouse:
        assert warehouse.connection.execute(
            "SELECT reviewed_by, note FROM reviews WHERE form_id = ?", [form_id]
        ).fetchall() == [("ann", "totals checked")]
