"""Round trip: random forms (scripts/fuzz_forms.py) printed by each producer read back as generated.

A seed makes a form of any family with varied columns, labels, money units, level layouts and
page breaks, and the records it was made from; the form is printed to PDF by ReportLab (many
seeds, it is fast), LibreOffice Writer and Calc and headless Chromium (a few seeds each: every
conversion starts the program), read by the PDF reader and the form parser, and every printed
cell and every indicator's 一级/二级 must come back. Scanned and photographed pages are read
by OCR. scripts/benchmark.py --fuzz runs the same round trip at scale.
"""

from __future__ import annotations

import importlib.util
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
from expected_forms import load_expected
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from extractors import read_document
from extractors.evidence import unread_forms_message
from extractors.forms import parse_forms

ROOT = Path(__file__).resolve().parents[2]
_spec = importlib.util.spec_from_file_location("fuzz_forms", ROOT / "scripts" / "fuzz_forms.py")
fz = importlib.util.module_from_spec(_spec)
sys.modules["fuzz_forms"] = fz
_spec.loader.exec_module(fz)


FONTS = all((fz.WQY / name).exists() for name in fz.FONTS.values())
needs_fonts = pytest.mark.skipif(
    not FONTS, reason="ReportLab prints with fonts-wqy-zenhei/microhei"
)
OFFICE = shutil.which("soffice") or shutil.which("libreoffice")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def assert_round_trip(
    seed: int, producer: str, degradation: str, out: Path, rulings: str = "full"
) -> None:
    case, score, what = fz.run_case(seed, producer, degradation, out, rulings)
    assert score.perfect, (
        f"seed {seed} ({case.family}: {', '.join(case.traits)}), {producer}, {what}: "
        f"cells {score.cells}/{score.cells_total}, hierarchy {score.hierarchy}/"
        f"{score.hierarchy_total}\n" + "\n".join(score.differences[:20])
    )


@needs_fonts
@settings(
    max_examples=12,
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(seed=st.integers(0, 2**31))
def test_reportlab_forms_read_back_as_generated(tmp_path, seed):
    assert_round_trip(seed, "reportlab", "none", tmp_path / str(seed))


@pytest.mark.parametrize(
    "producer, seed",
    [
        # one table, merged 一级/二级 cells whose rules stop at them: the hierarchy is seen
        pytest.param("reportlab", 3, marks=needs_fonts),
        # a header table over an indicator table, continued on the next page with its header
        pytest.param("reportlab", 5, marks=needs_fonts),
        # a browser pads cells by two pixels: texts of two cells stand closer than a word space
        pytest.param("chromium", 0, marks=pytest.mark.skipif(not CHROMIUM, reason="no Chromium")),
    ],
)
def test_tables_ruled_by_rows_only_read_back_as_generated(tmp_path, producer, seed):
    """Horizontal rules only: columns where the text lines up, merged cells where a rule stops."""
    assert_round_trip(seed, producer, "none", tmp_path, "horizontal")


@needs_fonts
def test_a_scanned_table_ruled_by_rows_only_fails_loudly(tmp_path):
    """A scan of a table without column rulings gives no lattice to read: the page's text lines
    print the indicator header words, so the file fails with the form-words message (it never
    lands as holding no form)."""
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the forms' CJK text")
    case = fz.random_case(6, "horizontal")
    scan, _ = fz.degrade_pdf(fz.produce(case, "reportlab", tmp_path), "scan", 6, tmp_path)
    document = read_document(scan)
    assert parse_forms(document) == []
    message = unread_forms_message(scan, document)
    assert message is not None and "on page 1" in message and "jixiao debug" in message


def test_the_generator_varies_every_dimension():
    """The seeds the tests and the benchmark use cover every family and every layout trait."""
    cases = [fz.random_case(seed) for seed in range(40)]
    assert {c.family for c in cases} == set(fz.FAMILIES)
    traits = {t for c in cases for t in c.traits}
    for trait in ("万元", "元", "levels merged", "levels on every row", "outer column"):
        assert trait in traits
    assert {"value columns shuffled", "no reason column", "header repeated"} <= traits
    assert "sheet in small print" in traits
    other_templates = {  # traits of the Sichuan and Anhui templates (tests/data/real/web)
        "target over three columns",
        "target over three columns (定量/定性)",
        "Sichuan funds block",
        "项目年度目标 / 年度目标完成情况",
        "template numbering, placeholder rows",
        "a 二级 not applied",
        "一级 printed with its weight",
        "一级 printed as its weight only",
        "code before the project name",
        "报表编号 above the title",
        "合计",
        "评价结论 and signatures below",
    }
    assert other_templates <= traits
    assert any(t.startswith("实施单位") for t in traits)
    assert any(c.style.split_rows for c in cases) and any(c.landscape for c in cases)
    assert {c.rulings for c in cases} == set(fz.RULINGS)
    assert sum(c.rulings == "full" for c in cases) > len(cases) / 3


@pytest.mark.parametrize(
    "producer, seed",
    [
        pytest.param("writer", 2, marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")),
        pytest.param("writer", 11, marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")),
        # merged 一级/二级 cells cut by the page break: Calc prints each label on one side only
        pytest.param("calc", 1, marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")),
        pytest.param("calc", 19, marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")),
        pytest.param("calc", 16, marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")),
        pytest.param("chromium", 4, marks=pytest.mark.skipif(not CHROMIUM, reason="no Chromium")),
        pytest.param("chromium", 9, marks=pytest.mark.skipif(not CHROMIUM, reason="no Chromium")),
        # Chromium closes a merged 二级 cell cut by the page break with a ruling: the row under
        # it on the next page has an empty 二级 cell of its own, under the same merged 一级
        pytest.param("chromium", 1, marks=pytest.mark.skipif(not CHROMIUM, reason="no Chromium")),
    ],
)
def test_other_producers_read_back_as_generated(tmp_path, producer, seed):
    assert_round_trip(seed, producer, "none", tmp_path)


@needs_fonts
def test_a_scanned_form_reads_back_as_generated(tmp_path):
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the forms' CJK text")
    assert_round_trip(3, "reportlab", "scan", tmp_path)


@needs_fonts
def test_a_form_photographed_page_by_page_is_joined_again(tmp_path):
    """Three photos of one landscape form (a table continued on the next page, its 总分 row alone
    on the last): each flattened to one scale, so the table is joined across the photos."""
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the forms' CJK text")
    assert_round_trip(1, "reportlab", "photo", tmp_path)


@pytest.mark.parametrize(
    "producer, seed, degradation",
    [
        # a sheet in small print (6 pt), scanned at 300 dpi: read from the page rendered again at
        # its image's resolution, not the 200-dpi work copy
        pytest.param(
            "calc", 2, "scan", marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")
        ),
        # a sheet in small print (7.6 pt) fitted to a portrait page, scanned at 200 dpi, sealed
        pytest.param(
            "calc", 16, "scan", marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")
        ),
        # Writer's rows as high as their text, scanned at 150 dpi: a glyph's stroke reaching the
        # rulings above and below is no column ruling, and text pressed against a faint ruling
        # from both sides does not join the two rows' cells
        pytest.param(
            "writer", 14, "scan", marks=pytest.mark.skipif(not OFFICE, reason="no LibreOffice")
        ),
        # Chromium draws no bottom ruling above the page break: the last row is still whole
        pytest.param(
            "chromium", 0, "photo", marks=pytest.mark.skipif(not CHROMIUM, reason="no Chromium")
        ),
        # a photographed landscape form: its title (the year) read, two column rulings a few
        # pixels apart not taken for a column that splits the merged 二级 cells
        pytest.param("reportlab", 2, "photo", marks=needs_fonts),
        # the target over an operator column, 指标值 and a unit column, scanned: a lone '≥' or
        # '>' in its cell is read
        pytest.param("reportlab", 5, "scan", marks=needs_fonts),
    ],
)
def test_scanned_and_photographed_producers_read_back_as_generated(
    tmp_path, producer, seed, degradation
):
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the forms' CJK text")
    assert_round_trip(seed, producer, degradation, tmp_path)


@pytest.mark.skipif(not CHROMIUM, reason="no Chromium")
def test_cells_of_a_continuation_page_keep_their_column(tmp_path):
    """A photographed continuation page whose column rulings sit a little apart from the header
    page's: its 偏差原因 cells start in a sliver column with no header and are still the reasons."""
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the forms' CJK text")
    case = fz.random_case(1, "full")
    pdf = fz.produce(case, "chromium", tmp_path)
    photo, _ = fz.degrade_pdf(pdf, "photo", 1, tmp_path)
    (got,) = parse_forms(read_document(photo))
    want = [bool(i.deviation_reason) for i in case.forms[0].indicators]
    assert [bool(i.deviation_reason) for i in got.indicators] == want


def test_a_phone_photo_of_a_form_is_flattened_and_read(tmp_path):
    """A sample form photographed on a desk (perspective, a margin of desk, light falling off
    across the page) gives the same form as the born-digital PDF."""
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the forms' CJK text")
    pdf = ROOT / "samples" / "pdf" / "self_eval_wanyuan.pdf"
    (page, _) = fz.rasterise(pdf, 200)
    photo = fz.photograph(page, np.random.default_rng(7))
    path = tmp_path / "photo.jpg"
    Image.fromarray(photo).save(path, quality=88)
    (want, _) = load_expected(pdf)
    forms = parse_forms(read_document(path))
    assert forms, "no form read from the photo"
    got = forms[0]
    assert (got.name, got.department, got.money_unit) == (
        want["name"],
        want["department"],
        want["money_unit"],
    )
    assert str(got.budget_executed) == want["budget_executed"]
    levels = [(i.level1, i.level2, i.level3) for i in got.indicators]
    assert levels == [(i["level1"], i["level2"], i["level3"]) for i in want["indicators"]]
    rows = [(i.target_text, i.actual_text, i.weight, i.score) for i in got.indicators]
    wanted = [
        (i["target_text"], i["actual_text"], i["weight"], i["score"]) for i in want["indicators"]
    ]
    assert rows == wanted
