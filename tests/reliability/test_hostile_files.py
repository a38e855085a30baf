"""Bad and hostile input: each file fails alone with a message, the rest of the batch lands, and
nothing from outside the inbox reaches the warehouse (tests/data/hostile/README.md)."""

import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from extractors import read_document
from extractors.errors import UnreadableFile
from extractors.forms import parse_forms
from extractors.pdf import PASSWORD_ENV
from warehouse import Warehouse

DATA = Path(__file__).parents[1] / "data"
HOSTILE = DATA / "hostile"
SEED = DATA / "seeds" / "000_47efb21861c60971.txt"
GB2312_HTML = DATA / "rendered" / "html" / "self_eval_wanyuan.html"
PASSWORD = "jixiao-test"  # encrypted.pdf's, see make_hostile.py
OUTSIDE_MARKERS = ("root:x:0:0", "/bin/sh", "境外秘密项目")  # /etc/passwd, outside_secret()

# file → (outcome, what its message must say); outcome 'failed' or 'no_forms'
EXPECTED = {
    "empty.pdf": ("failed", r"empty"),
    "empty.xlsx": ("failed", r"empty"),
    "random_bytes.pdf": ("failed", r"not a PDF"),
    "truncated.pdf": ("failed", r"truncated.*download it again"),
    "encrypted.pdf": ("failed", rf"password.*{PASSWORD_ENV}"),
    "not_a_zip.xlsx": ("failed", r"not a valid \.xlsx"),
    "not_a_zip.docx": ("failed", r"not a valid \.docx"),
    "noise.png": ("no_forms", r"no performance form"),
    "prose.pdf": ("no_forms", r"3 pages, 0 tables, no performance form"),
    "xxe.docx": ("no_forms", r"no performance form"),
    "xxe.xlsx": ("failed", r"xxe\.xlsx"),
    "billion_laughs.docx": ("failed", r"billion_laughs\.docx"),
    "billion_laughs.xlsx": ("failed", r"billion_laughs\.xlsx"),
    "zip_bomb.docx": ("failed", r"zip bomb"),
    "zip_bomb.xlsx": ("failed", r"zip bomb"),
    "script.html": ("no_forms", r"no performance form"),
}


def test_the_corpus_is_what_the_table_says():
    on_disk = {p.name for p in HOSTILE.iterdir() if p.is_file() and p.suffix not in (".py", ".md")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_each_reader_refuses_or_finds_nothing_quickly(name, monkeypatch):
    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    outcome, message = EXPECTED[name]
    started = time.monotonic()
    if outcome == "failed":
        with pytest.raises(UnreadableFile, match=message):
            read_document(HOSTILE / name)
    else:
        assert parse_forms(read_document(HOSTILE / name)) == []
    assert time.monotonic() - started < 30


def test_entities_and_scripts_never_reach_the_text():
    for name in ("xxe.docx", "script.html"):
        text = " ".join(c.text for g in read_document(HOSTILE / name).grids for c in g.cells)
        assert "root:" not in text and "document.write" not in text and "alert" not in text
        assert "项目支出绩效自评表" not in text  # only the scripts print it


def test_a_configured_password_opens_the_encrypted_pdf(monkeypatch):
    monkeypatch.setenv(PASSWORD_ENV, "wrong")
    with pytest.raises(UnreadableFile, match="password given is wrong"):
        read_document(HOSTILE / "encrypted.pdf")
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    forms = parse_forms(read_document(HOSTILE / "encrypted.pdf"))
    plain = parse_forms(
        read_document(DATA.parent.parent / "samples" / "pdf" / "self_eval_wanyuan.pdf")
    )
    assert [f.name for f in forms] == [f.name for f in plain] and forms


def dashed_grid_pdf(path: Path, lines: int = 200, dashes: int = 100) -> Path:
    """One page ruled with ``lines`` dashed lines each way: 40,000 separate short rulings."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    page = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    page.drawString(10, 10, "a pattern, not a table")
    for i in range(lines):
        y, x = 20 + 780 * i / lines, 20 + 540 * i / lines
        for k in range(dashes):
            page.line(20 + 540 * k / dashes, y, 20 + 540 * (k + 0.4) / dashes, y)
            page.line(x, 20 + 780 * k / dashes, x, 20 + 780 * (k + 0.4) / dashes)
    page.showPage()
    page.save()
    return path


def test_pathological_layouts_are_read_or_refused_quickly(tmp_path):
    started = time.monotonic()
    document = read_document(dashed_grid_pdf(tmp_path / "pattern.pdf"))
    assert (document.n_tables, parse_forms(document)) == (0, [])
    wide = tmp_path / "wide.txt"
    wide.write_text(("x" + "\t" * 5000 + "y\n") * 1000, encoding="utf-8")
    with pytest.raises(UnreadableFile, match="1000 lines × 5001 tab-separated columns"):
        read_document(wide)
    assert time.monotonic() - started < 20


def big_pdf(path: Path, pages: int = 300) -> Path:
    """A PDF of ``pages`` pages, each a ruled 30×6 table of budget-like figures."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    page = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for number in range(pages):
        page.setFont("STSong-Light", 9)
        page.drawString(72, 800, f"第{number + 1}页 一般公共预算支出表")
        for r in range(31):
            page.line(72, 780 - r * 22, 522, 780 - r * 22)
        for k in range(7):
            page.line(72 + k * 75, 780, 72 + k * 75, 780 - 30 * 22)
        for r in range(30):
            for k in range(6):
                page.drawString(75 + k * 75, 765 - r * 22, f"科目{r}-{k} {r * k * 1.5:.2f}")
        page.showPage()
    page.save()
    return path


MEASURE = """
import re, sys, time
from pathlib import Path
from extractors import read_document
from extractors.forms import parse_forms
started = time.monotonic()
forms = parse_forms(read_document(Path(sys.argv[1])))
status = Path("/proc/self/status").read_text()
peak_mb = int(re.search(r"VmHWM:\\s+(\\d+) kB", status).group(1)) // 1024  # this process only
print(len(forms), round(time.monotonic() - started), peak_mb)
"""


def test_a_300_page_pdf_is_read_in_bounded_time_and_memory(tmp_path):
    path = big_pdf(tmp_path / "big.pdf")
    result = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path)],
        capture_output=True,
        text=True,
        cwd=DATA.parent.parent,
        env={**os.environ, "PYTHONPATH": str(DATA.parent.parent)},
        timeout=300,
    )
    forms, seconds, peak_mb = map(int, result.stdout.split())
    assert (forms, seconds < 60, peak_mb < 500) == (0, True, True), (seconds, peak_mb)


def scanned_pdf(path: Path, pages: int = 300) -> Path:
    """A PDF of ``pages`` pages of image noise and no text layer: every page goes to OCR."""
    from PIL import Image
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfgen import canvas

    noise = Image.frombytes("L", (400, 560), random.Random(1).randbytes(400 * 560))
    page = canvas.Canvas(str(path), pagesize=A4, invariant=1)
    for _ in range(pages):
        page.drawImage(ImageReader(noise), 0, 0, width=A4[0], height=A4[1])
        page.showPage()
    page.save()
    return path


def warehouse_text(db: Path) -> str:
    """Every value of every analyst view and internal table, as one string."""
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        tables = [
            f"{schema}.{name}"
            for schema, name in con.execute(
                "SELECT schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()"
            ).fetchall()
        ]
        return "\n".join(str(con.execute(f"SELECT * FROM {t}").fetchall()) for t in tables)


@pytest.fixture
def inbox(tmp_path) -> Path:
    """The hostile corpus, a 300-page PDF, GBK text and HTML forms."""
    folder = tmp_path / "inbox"
    shutil.copytree(HOSTILE, folder, ignore=shutil.ignore_patterns("*.py", "*.md", "fuzz"))
    big_pdf(folder / "three_hundred_pages.pdf")
    (folder / "gbk").mkdir()
    (folder / "gbk" / "seed_gbk.txt").write_bytes(SEED.read_text(encoding="utf-8").encode("gbk"))
    shutil.copyfile(GB2312_HTML, folder / "gbk" / "declared_gb2312.html")
    undeclared = re.sub(rb"<meta[^>]*>", b"", GB2312_HTML.read_bytes())
    (folder / "gbk" / "undeclared_gbk.html").write_bytes(undeclared)
    return folder


def outside_secret(folder: Path) -> Path:
    """A form named 境外秘密项目 in ``folder``, which lies outside the inbox."""
    folder.mkdir()
    secret = re.sub(
        r"(项目名称\t)[^\t\n]+", r"\1境外秘密项目", SEED.read_text(encoding="utf-8"), count=1
    )
    assert "境外秘密项目" in secret
    (folder / "secret.txt").write_text(secret, encoding="utf-8")
    return folder / "secret.txt"


@pytest.mark.usefixtures("prefect_harness")
def test_a_hostile_batch_lands_what_it_can_and_records_the_rest(
    inbox, tmp_path, capfd, monkeypatch
):
    from flows.ingest import ingest
    from flows.options import RunOptions

    monkeypatch.delenv(PASSWORD_ENV, raising=False)
    db = tmp_path / "w.duckdb"
    started = time.monotonic()

    summary = ingest(paths=[str(inbox)], options=RunOptions(db=str(db)))

    assert time.monotonic() - started < 300
    with Warehouse.open(db, read_only=True) as warehouse:
        con = warehouse.connection
        files = {
            Path(path).name: (status, error)
            for path, status, error in con.execute(
                "SELECT source_file, status, error FROM source_files"
            ).fetchall()
        }
        names = {
            Path(path).name: sorted(
                n
                for (n,) in con.execute(
                    "SELECT name FROM forms WHERE source_file = ? UNION ALL "
                    "SELECT name FROM quarantine WHERE source_file = ?",
                    [path, path],
                ).fetchall()
            )
            for path in con.execute("SELECT source_file FROM source_files").fetchall()
            for path in path
        }
    for name, (outcome, message) in EXPECTED.items():
        status, error = files[name]
        assert status == outcome, (name, error)
        assert error and re.search(message, error), (name, error)
    assert files["three_hundred_pages.pdf"] == (
        "no_forms",
        "300 pages, 300 tables, no performance form; to see what was read, run: jixiao debug "
        f"{inbox / 'three_hundred_pages.pdf'} --page 1 --png out.png",
    )
    seed_names = sorted(f.name for f in parse_forms(read_document(SEED)))
    assert names["seed_gbk.txt"] == seed_names
    html_names = names["declared_gb2312.html"]
    assert html_names and names["undeclared_gbk.html"] == html_names
    assert all("�" not in n for n in html_names)
    text = warehouse_text(db)
    for marker in OUTSIDE_MARKERS:
        assert marker not in text
    captured = capfd.readouterr()
    assert "Traceback" not in captured.out + captured.err
    assert summary.files_failed == sum(o == "failed" for o, _ in EXPECTED.values())


@pytest.mark.usefixtures("prefect_harness")
def test_nothing_outside_the_inbox_is_read(tmp_path):
    from flows.ingest import ingest
    from flows.options import RunOptions

    secret = outside_secret(tmp_path / "outside")
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    shutil.copyfile(SEED, inbox / SEED.name)
    os.symlink(secret, inbox / "link_out.txt")
    (inbox / "manifest.txt").write_text(
        f"{SEED.name}\n../outside/secret.txt\n{secret}\n{inbox}/../outside/secret.txt\n",
        encoding="utf-8",
    )
    db = tmp_path / "w.duckdb"

    walked = ingest(paths=[str(inbox)], options=RunOptions(db=str(db)))
    listed = ingest(paths=[], manifest=str(inbox / "manifest.txt"), options=RunOptions(db=str(db)))

    assert "境外秘密项目" not in warehouse_text(db)
    refused = [
        outcome
        for outcome in walked.files + listed.files
        if outcome.status == "failed" and (outcome.message or "").startswith("refused:")
    ]
    assert len(refused) == 3, "the link, the ../ entry and the absolute path are refused"
    with Warehouse.open(db, read_only=True) as warehouse:
        recorded = warehouse.connection.execute(
            "SELECT source_file, status, source_sha256 FROM source_files WHERE error LIKE 'refused:%'"
        ).fetchall()
    assert {name for name, _, _ in recorded} == {outcome.path for outcome in refused}
    assert {(status, sha256) for _, status, sha256 in recorded} == {("failed", None)}


@pytest.mark.usefixtures("prefect_harness")
def test_a_300_page_scan_is_stopped_by_the_per_file_timeout(tmp_path):
    from flows.ingest import ingest
    from flows.options import RunOptions

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    scanned_pdf(inbox / "scan.pdf")
    shutil.copyfile(SEED, inbox / SEED.name)
    db = tmp_path / "w.duckdb"
    started = time.monotonic()

    summary = ingest(paths=[str(inbox)], options=RunOptions(db=str(db), timeout=8))

    assert time.monotonic() - started < 120
    assert summary.forms_landed > 0
    with Warehouse.open(db, read_only=True) as warehouse:
        status, error = warehouse.connection.execute(
            "SELECT status, error FROM source_files WHERE source_file LIKE '%scan.pdf'"
        ).fetchone()
    assert status == "failed"
    assert "took longer than 8 s and was stopped" in error


@pytest.mark.usefixtures("prefect_harness")
def test_a_backfill_batch_goes_on_after_the_timeout_stops_one_of_its_files(tmp_path):
    """With one worker a chunk is one batch: read, then checked in one call. The files read before
    and after the stopped one are checked together by the fresh worker, and land."""
    from flows.backfill import backfill
    from flows.options import RunOptions

    year = tmp_path / "archive" / "2023"
    year.mkdir(parents=True)
    shutil.copyfile(SEED, year / "a_before.txt")
    scanned_pdf(year / "b_scan.pdf")
    (year / "c_after.txt").write_bytes(SEED.read_bytes() + b"\n# another copy\n")
    db = tmp_path / "w.duckdb"

    summary = backfill(
        source=str(tmp_path / "archive"), options=RunOptions(db=str(db), workers=1, timeout=8)
    )

    assert (summary.files_new, summary.files_failed, summary.forms_landed) == (3, 1, 6)
    with Warehouse.open(db, read_only=True) as warehouse:
        files = warehouse.connection.execute(
            """
            SELECT regexp_extract(s.source_file, '[^/]+$'), s.status, s.error,
                count(c.check_name) FILTER (WHERE c.severity = 'warning')
            FROM source_files s LEFT JOIN forms f USING (source_file)
            LEFT JOIN check_results c USING (form_id)
            GROUP BY ALL ORDER BY 1
            """
        ).fetchall()
    assert [(name, status, warnings) for name, status, _, warnings in files] == [
        ("a_before.txt", "loaded", 3),  # one missing 偏差原因, two totals printed rounded
        ("b_scan.pdf", "failed", 0),
        ("c_after.txt", "loaded", 3),
    ]
    assert "took longer than 8 s and was stopped" in files[1][2]
