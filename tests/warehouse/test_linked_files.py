"""Forms linked across real files through the real ingest flow: the seeds as text and as PDF
count once; a target declaration and the self-evaluation of the same project and year, printed
as files the readers read, meet in target_vs_actual; the columns beyond the contract land from
real pages; DuckDB 1.x opens the file the run wrote."""

import dataclasses
import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pypdfium2 as pdfium
import pytest
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont

from flows.extraction.extract import extract_path
from flows.ingest import ingest
from flows.options import RunOptions
from schemas.records import Indicator
from warehouse import Warehouse

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "scripts"))

import sample_forms as sf  # noqa: E402
from generate_samples import (  # noqa: E402
    PageBreak,
    Renderer,
    Style,
    Variant,
    project_declaration_flow,
    self_evaluation_flow,
)
from render_formats import write_html  # noqa: E402

SEED = ROOT / "tests" / "data" / "seeds" / "000_47efb21861c60971.txt"
REAL = ROOT / "tests" / "data" / "real"
EXTRAS = (
    "renwu_015_长沙_教育局_2026年部门预算"  # its indicator table prints 评（扣）分标准, 备注, …
)
# a self-evaluation printing each 一级 weight in its cell (产出指标（50分）), and 执行率 99.99%
WEIGHTED = ("renwu_020_西安_卫生健康委员会_2022年度部门决算_p1-99", 63)
FONT = "STSong-Light"  # reportlab's built-in CJK font: no font files needed
PROJECT = "兰溪路-真南路下立交工程"
DEPARTMENT = "上海市普陀区建设和管理委员会"
# (三级, declared target, evaluated target, actual): None where a side does not have the row
PAIR = [
    ("道路建设长度", "985米", "985米", "985米"),
    ("项目验收达标率", "=100%", "≥95%", "96%"),
    ("项目完成及时性", "及时", "及时", "及时"),
    ("道路景观提升情况", "提升", None, None),
    ("居民群众满意度", "≥90%", "≥90%", "93%"),
    ("道路通行能力提升情况", None, "提升", "提升"),
]
OLDER_DUCKDBS = ["duckdb==1.1.3", "duckdb<2"]  # the first 1.x that reads it, and the last


def render_pdf(flow: list[object], path: Path) -> None:
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    Renderer(path, Style(font=FONT)).render(flow)


def seed_as_pdf(path: Path) -> int:
    """Print the seed's forms, as read from its text export, into a PDF; returns their number."""
    forms = extract_path(str(SEED)).forms
    flow: list[object] = []
    for key, form in enumerate(forms):
        flow += [PageBreak()] if key else []
        flow += self_evaluation_flow(form, Variant(money="plain"), key)
    render_pdf(flow, path)
    return len(forms)


def page_of(name: str, page: int, path: Path) -> None:
    """One page of a real publication as a PDF of its own."""
    source = pdfium.PdfDocument(REAL / "forms" / f"{name}.pdf")
    excerpt = pdfium.PdfDocument.new()
    excerpt.import_pages(source, [page - 1])
    excerpt.save(path)


def levels(level3: str) -> tuple[str, str]:
    if level3.endswith("满意度"):
        return "满意度指标", "服务对象满意度指标"
    if level3.endswith("情况"):
        return "效益指标", "社会效益指标"
    return "产出指标", "数量指标" if level3.endswith("长度") else "质量指标"


def declaration_and_self_evaluation(folder: Path) -> None:
    """The 2025 declaration of a project as a PDF, its 2025 self-evaluation as an HTML page,
    each naming the project a little differently."""
    declared = [(name, target) for name, target, _, _ in PAIR if target]
    declaration = dataclasses.replace(
        sf.project_declaration(),
        name=f"2025年{PROJECT}",
        fiscal_year=2025,
        indicators=[
            Indicator(number, *levels(name), name, target_text=target)
            for number, (name, target) in enumerate(declared, start=1)
        ],
    )
    render_pdf(project_declaration_flow(declaration, 0), folder / "declaration_2025.pdf")
    evaluated = [row for row in PAIR if row[2]]
    evaluation = sf.self_evaluation(
        name=f"{PROJECT}项目",
        department=DEPARTMENT,
        unit="上海市普陀区市政工程建设中心",
        year=2025,
        initial="226,145,100.00",
        full_year="226,145,100.00",
        executed="220,000,000.00",
        rows=[
            (*levels(name), name, target, actual, 18, 18, "")
            for name, _, target, actual in evaluated
        ],
        goal_planned="积极推进项目前期征收工作",
        goal_actual="完成管线搬迁",
    )
    flow = self_evaluation_flow(evaluation, Variant(), 0)
    write_html(flow, folder / "self_evaluation_2025.html", "utf-8")


@pytest.fixture(scope="module")
def run(tmp_path_factory, prefect_harness) -> tuple[Path, Path, int]:
    """One ingest of: the seed as text and as PDF, the declaration / self-evaluation pair, a
    real budget package whose indicator tables print columns beyond the contract's, and a real
    self-evaluation page printing its 一级 weights."""
    folder = tmp_path_factory.mktemp("linked")
    inbox = folder / "inbox"
    inbox.mkdir()
    shutil.copyfile(SEED, inbox / SEED.name)
    seed_forms = seed_as_pdf(inbox / "seed_printed.pdf")
    declaration_and_self_evaluation(inbox)
    shutil.copyfile(REAL / "forms" / f"{EXTRAS}.pdf", inbox / f"{EXTRAS}.pdf")
    page_of(*WEIGHTED, inbox / "weighted.pdf")
    db = folder / "w.duckdb"
    summary = ingest(paths=[str(inbox)], options=RunOptions(db=str(db)))
    assert (summary.files_failed, summary.forms_quarantined) == (0, 0)
    return db, inbox, seed_forms


def query(db: Path, sql: str) -> list[tuple]:
    with Warehouse.open(db, read_only=True) as warehouse:
        return warehouse.connection.execute(sql).fetchall()


def test_the_seed_as_text_and_as_pdf_counts_each_form_once(run):
    db, inbox, seed_forms = run
    text, pdf = str(inbox / SEED.name), str(inbox / "seed_printed.pdf")
    pairs = query(
        db,
        f"""SELECT t.name, p.form_id = t.duplicate_of OR t.form_id = p.duplicate_of
            FROM forms t JOIN forms p USING (form_ordinal)
            WHERE t.source_file = '{text}' AND p.source_file = '{pdf}' ORDER BY t.form_ordinal""",
    )
    assert [linked for _, linked in pairs] == [True] * seed_forms == [True] * 3
    assert query(
        db,
        "SELECT count(*), count(DISTINCT name) FROM forms "
        f"WHERE duplicate_of IS NULL AND source_file IN ('{text}', '{pdf}')",
    ) == [(3, 3)]
    # the README's first example query, counting each form once
    assert query(
        db,
        "SELECT department, count(*), sum(budget_full_year) FROM forms "
        "WHERE form_type = 'project_self_evaluation' AND duplicate_of IS NULL "
        "AND department = '上海市人力资源和社会保障局' GROUP BY ALL",
    ) == query(
        db,
        "SELECT department, count(*), sum(budget_full_year) FROM forms "
        f"WHERE source_file = '{text}' GROUP BY ALL",
    )


def test_a_declared_project_meets_its_self_evaluation_of_the_same_year(run):
    db, _, _ = run
    assert query(db, "SELECT DISTINCT project_id, fiscal_year FROM target_vs_actual") == [
        (f"{DEPARTMENT}/兰溪路真南路下立交工程", 2025)
    ]
    got = query(
        db,
        "SELECT level3, declared_target_text, evaluated_target_text, actual_text, status "
        "FROM target_vs_actual",
    )
    expected = [
        (name, declared, evaluated, actual, status)
        for (name, declared, evaluated, actual), status in zip(
            PAIR, ["kept", "changed", "kept", "dropped", "kept", "added"]
        )
    ]
    assert sorted(got, key=str) == sorted(expected, key=str)
    assert query(
        db, "SELECT fiscal_year, form_type FROM projects WHERE name LIKE '%下立交%' ORDER BY 2"
    ) == [(2025, "project_self_evaluation"), (2025, "project_target_declaration")]


def test_extra_indicator_columns_and_the_years_provenance_land_from_a_real_package(run):
    db, inbox, _ = run
    transcribed = json.loads((REAL / "expected" / f"{EXTRAS}.json").read_text(encoding="utf-8"))
    package = str(inbox / f"{EXTRAS}.pdf")
    landed = query(
        db,
        "SELECT i.level3, i.extra->>'评（扣）分标准' FROM indicators i JOIN forms f USING (form_id) "
        f"WHERE f.source_file = '{package}'",
    )
    assert sorted(landed) == sorted(
        (row["level3"], row["extra"]["评（扣）分标准"])
        for form in transcribed["forms"]
        for row in form["indicators"]
    )
    assert query(db, f"SELECT DISTINCT year_source FROM forms WHERE source_file = '{package}'") == [
        (form["year_printed_where"],) for form in transcribed["forms"][:1]
    ]


def test_the_weight_printed_in_a_level1_cell_lands(run):
    db, inbox, _ = run
    landed = query(
        db,
        "SELECT i.level1, i.level1_weight, count(*) FROM indicators i JOIN forms f USING (form_id) "
        f"WHERE f.source_file = '{inbox / 'weighted.pdf'}' GROUP BY ALL ORDER BY 2 DESC",
    )
    # 产出指标（50分） over 4 rows, 效益指标（30分） over 2, 满意度指标（10分） over 1
    assert landed == [("产出指标", 50, 4), ("效益指标", 30, 2), ("满意度指标", 10, 1)]


def test_ingesting_again_changes_no_link(run, prefect_harness):
    db, inbox, _ = run
    views = ("forms", "projects", "target_vs_actual")
    before = {view: query(db, f"SELECT * FROM {view} ORDER BY ALL") for view in views}
    ingest(paths=[str(inbox)], options=RunOptions(db=str(db)))
    assert {view: query(db, f"SELECT * FROM {view} ORDER BY ALL") for view in views} == before


def older_duckdb(spec: str) -> Path:
    """A Python environment with ``spec`` of DuckDB, made once and kept under .venv."""
    packages = [spec, "pytz"]  # duckdb 1.x's Python client returns TIMESTAMPTZ values with pytz
    slug = "".join(c if c.isalnum() else "_" for c in " ".join(packages))
    home = ROOT / ".venv" / "older-duckdb" / slug
    python = home / "bin" / "python"
    home.parent.mkdir(parents=True, exist_ok=True)
    with open(home.parent / ".lock", "w") as lock:
        fcntl.lockf(lock, fcntl.LOCK_EX)
        if not (home / ".installed").exists():
            shutil.rmtree(home, ignore_errors=True)
            subprocess.run([sys.executable, "-m", "venv", str(home)], check=True)
            subprocess.run(
                [str(python), "-m", "pip", "install", "--quiet", *packages],
                check=True,
                timeout=600,
            )
            (home / ".installed").touch()
    return python


READ_EVERY_VIEW = """
import duckdb, json, sys
con = duckdb.connect(sys.argv[1], read_only=True)
views = [v for (v,) in con.execute(
    "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'").fetchall()]
counts = {v: len(con.execute(f'SELECT * FROM "{v}"').fetchall()) for v in views}  # every value read
print(json.dumps({"version": duckdb.__version__, "counts": counts}))
"""


@pytest.mark.parametrize("spec", OLDER_DUCKDBS)
def test_duckdb_1_opens_the_warehouse_a_run_wrote_and_reads_every_view(run, spec):
    db, _, _ = run
    python = older_duckdb(spec)
    done = subprocess.run(
        [str(python), "-c", READ_EVERY_VIEW, str(db)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["version"].startswith("1.")
    with Warehouse.open(db, read_only=True) as warehouse:
        views = warehouse.connection.execute(
            "SELECT view_name FROM duckdb_views() WHERE NOT internal AND schema_name = 'main'"
        ).fetchall()
        expected = {
            view: warehouse.connection.execute(f'SELECT count(*) FROM "{view}"').fetchone()[0]
            for (view,) in views
        }
    assert answer["counts"] == expected
    assert expected["target_vs_actual"] == len(PAIR) and expected["forms"] == 11


def test_a_file_written_in_a_newer_format_is_rewritten_for_duckdb_1_on_the_next_run(tmp_path):
    path = tmp_path / "w.duckdb"
    with duckdb.connect(str(path)) as con:  # DuckDB 2's own format, as files were written before
        con.execute("CREATE SCHEMA store")
        con.execute("CREATE TABLE store.keep (note VARCHAR PRIMARY KEY)")
        con.execute("INSERT INTO store.keep VALUES ('written before')")
    Warehouse.open(path).close()

    done = subprocess.run(
        [str(older_duckdb(OLDER_DUCKDBS[0])), "-c", READ_EVERY_VIEW, str(path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"]["forms"] == 0
    with Warehouse.open(path, read_only=True) as warehouse:
        assert warehouse.connection.execute("SELECT note FROM store.keep").fetchall() == [
            ("written before",)
        ]
