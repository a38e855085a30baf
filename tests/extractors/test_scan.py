"""Scanned pages → grids → forms, on degraded renderings of the born-digital samples.

The scans are made at test time (deterministic seeds): sample pages rendered at 150-200 dpi
(tests/data/scans/rasterize.py), rotated by about 1°, blurred, given noise and JPEG-compressed,
then written as a JPEG image and as an image-only PDF mixed with a born-digital page. OCR is slow,
so only three pages are read by OCR, and the JPEG page again turned a quarter, a half and three
quarters of a turn; the orientation tests read a few lines at most, the geometry and error tests
use synthetic pages that need no recognition. Run with ``-s`` to see the measured accuracy and
seconds per page.
"""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
import time
import unicodedata
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pytest
from expected_forms import load_expected
from PIL import Image

from extractors import ocr_engine, read_document, scan
from extractors.errors import UnreadableFile
from extractors.forms import parse_forms
from extractors.ocr_corrections import correct, edit_distance, fix_number, snap_label
from extractors.scan import ScannedPages, read_image
from extractors.values import compact, normalize_text
from schemas.grid import Document, Grid

SAMPLES = Path(__file__).resolve().parents[2] / "samples" / "pdf"
RASTERIZE = Path(__file__).resolve().parents[1] / "data" / "scans" / "rasterize.py"
_spec = importlib.util.spec_from_file_location("rasterize", RASTERIZE)
rasterize = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rasterize)
degrade = rasterize.degrade
THREE = SAMPLES / "self_eval_three_forms.pdf"
MULTIPAGE = SAMPLES / "self_eval_multipage_repeated_header.pdf"


def render(pdf: Path, out: Path, dpi: int, pages: list[int]) -> list[np.ndarray]:
    subprocess.run(
        [sys.executable, str(RASTERIZE), str(pdf), str(out), str(dpi), *map(str, pages)],
        check=True,
    )
    return [np.asarray(Image.open(out / f"{pdf.stem}_p{p}.png").convert("L")) for p in pages]


@pytest.fixture(scope="module")
def scans(tmp_path_factory) -> dict[str, Path]:
    """A 150-dpi JPEG of self_eval_three_forms p1, and the multi-page sample as a PDF whose
    first page is born-digital and whose other pages are scans."""
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the samples' CJK text")
    out = tmp_path_factory.mktemp("scans")
    (page,) = render(THREE, out, 150, [1])
    jpeg = out / "three_forms_p1.jpg"
    Image.fromarray(degrade(page, seed=1, angle=1.3, quality=65)).save(
        jpeg, quality=90, dpi=(150, 150)
    )
    source = pdfium.PdfDocument(MULTIPAGE)
    rest = list(range(2, len(source) + 1))
    scanned = [
        Image.fromarray(degrade(p, seed=number, angle=(-1.2, 0.9)[number % 2], quality=70))
        for number, p in zip(rest, render(MULTIPAGE, out, 200, rest))
    ]
    image_pdf = out / "images.pdf"
    scanned[0].save(image_pdf, save_all=True, append_images=scanned[1:], resolution=200)
    mixed = pdfium.PdfDocument.new()
    mixed.import_pages(source, [0])  # the form starts on a born-digital page
    mixed.import_pages(pdfium.PdfDocument(image_pdf))
    mixed.save(out / "mixed.pdf")
    return {"jpeg": jpeg, "mixed": out / "mixed.pdf"}


def timed_read(path: Path) -> tuple[Document, list, float]:
    from extractors import ocr_engine

    ocr_engine.engine()  # model load is once per process: not part of the per-page time
    start = time.perf_counter()
    document = read_document(path)
    forms = parse_forms(document)
    return document, forms, time.perf_counter() - start


@pytest.fixture(scope="module")
def jpeg_read(scans):
    return timed_read(scans["jpeg"])


def _norm(text: str) -> str:
    return compact(normalize_text(text))


def _chars(text: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def test_jpeg_scan_recovers_the_table_grid(jpeg_read):
    document, _, seconds = jpeg_read
    truth = next(g for g in read_document(THREE).grids if g.is_table)
    (table,) = [g for g in document.grids if g.is_table]
    assert (table.n_rows, table.n_cols) == (truth.n_rows, truth.n_cols)
    expected = {(c.row, c.col, c.rowspan, c.colspan): c.text for c in truth.cells}
    got = {(c.row, c.col, c.rowspan, c.colspan): c for c in table.cells}
    assert set(got) == set(expected)  # every merged cell, the 一级/二级 spans included
    levels = [k for k, t in expected.items() if t in ("产出指标", "效益指标", "满意度指标")]
    assert levels and all(got[k].rowspan > 1 for k in levels)
    right = sum(_norm(got[k].text) == _norm(t) for k, t in expected.items())
    errors = sum(edit_distance(_chars(got[k].text), _chars(t)) for k, t in expected.items())
    total = sum(len(_chars(t)) for t in expected.values())
    print(
        f"\nscan JPEG 150 dpi: {right}/{len(expected)} cells right, "
        f"CER {errors}/{total} = {errors / total:.2%}, {seconds:.2f} s/page"
    )
    assert right / len(expected) >= 0.95
    assert all(c.page == 1 and c.bbox is not None for c in table.cells)
    assert all(c.confidence is not None for c in table.cells if c.text)
    x0, top, x1, bottom = got[(0, 0, 1, 1)].bbox  # 项目名称, in points like the PDF reader
    assert abs(x0 - truth.cells[0].bbox[0]) < 12 and abs(top - truth.cells[0].bbox[1]) < 12
    assert document.extractor == "scan" and document.scanned_pages == [1]
    titles = [c.text for g in document.grids if not g.is_table for c in g.cells]
    assert titles[0] == "财政项目支出绩效自评表"


def _indicator_scores(expected: dict, form) -> tuple[float, float]:
    """Share of indicator rows with the right 一级/二级/三级, and with the right weight and score."""
    want = expected["indicators"]
    got = form.indicators
    levels = sum(
        i < len(got)
        and (got[i].level1, got[i].level2, got[i].level3) == (w["level1"], w["level2"], w["level3"])
        for i, w in enumerate(want)
    )
    numbers = sum(
        i < len(got) and (got[i].weight, got[i].score) == (w["weight"], w["score"])
        for i, w in enumerate(want)
    )
    assert len(got) == len(want)
    return levels / len(want), numbers / len(want)


def test_jpeg_scan_form_matches_expected(jpeg_read):
    _, forms, _ = jpeg_read
    expected = load_expected(THREE)[0]
    (form,) = forms
    assert (form.name, form.fiscal_year, form.form_type) == (
        expected["name"],
        expected["fiscal_year"],
        expected["form_type"],
    )
    hierarchy, numbers = _indicator_scores(expected, form)
    print(f"\nscan JPEG form: hierarchy {hierarchy:.1%}, weights/scores {numbers:.1%}")
    assert hierarchy >= 0.98 and numbers >= 0.98
    assert (form.total_weight, form.total_score) == (100, 93.2)
    assert str(form.budget_full_year) == expected["budget_full_year"]


def test_image_pdf_mixing_text_and_scanned_pages(scans):
    document, forms, seconds = timed_read(scans["mixed"])
    scanned = list(range(2, document.pages + 1))
    print(f"\nscanned PDF pages: {seconds / len(scanned):.2f} s/page (+ a born-digital page)")
    assert document.scanned_pages == scanned and len(scanned) >= 1
    assert "read by OCR" in document.notes[0]
    expected = load_expected(MULTIPAGE)[0]
    (form,) = forms
    assert form.name == expected["name"]
    hierarchy, numbers = _indicator_scores(expected, form)
    print(f"scanned PDF form: hierarchy {hierarchy:.1%}, weights/scores {numbers:.1%}")
    assert hierarchy >= 0.98 and numbers >= 0.98
    assert (form.total_weight, form.total_score) == (100, expected["total_score"])


# --- geometry and errors, without recognition -------------------------------------------------


XS = [150, 450, 750, 1100, 1500]


def ruled_page(ys=(400, 480, 560, 640, 720, 800), no_h=(), no_v=(), open_top=0, seed=7, angle=1.5):
    """A blank ruled table at 200 dpi, degraded. ``no_h``: (ruling, column) segments left out,
    ``no_v``: (ruling, row) segments left out; ``open_top``: verticals run this far above."""
    page = np.full((2339, 1654), 255, np.uint8)
    for i, y in enumerate(ys):
        for c in range(len(XS) - 1):
            if (i, c) not in no_h:
                cv2.line(page, (XS[c], y), (XS[c + 1], y), 0, 3)
    for j, x in enumerate(XS):
        cv2.line(page, (x, ys[0] - open_top), (x, ys[0]), 0, 3)
        for r in range(len(ys) - 1):
            if (j, r) not in no_v:
                cv2.line(page, (x, ys[r]), (x, ys[r + 1]), 0, 3)
    return degrade(page, seed, angle, quality=70)


def page_grids(*pages: tuple[np.ndarray, int, int]) -> list[Grid]:
    """The grids of consecutive page images ``(image, page, dpi)``, as a scanned run reads them."""
    scanned = ScannedPages()
    for image, page, dpi in pages:
        scanned.add(image, page, dpi)
    return scanned.grids()


MERGED = {"no_h": {(2, 0), (3, 0), (4, 0)}, "no_v": {(2, 3)}}  # col 0 rows 1-4; row 3 cols 1-2


def test_ruled_grid_spans_from_missing_rulings():
    (grid,) = page_grids((ruled_page(**MERGED), 3, 200))
    assert (grid.n_rows, grid.n_cols, grid.spans_known) == (5, 4, True)
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in grid.cells}
    assert spans[(1, 0)] == (4, 1)
    assert spans[(3, 1)] == (1, 2)
    assert len(grid.cells) == 4 + 1 + 3 * 3 + 2
    assert all(c.text == "" and c.page == 3 for c in grid.cells)
    x0, top, x1, bottom = next(c.bbox for c in grid.cells if (c.row, c.col) == (0, 0))
    assert abs(x0 - 150 * 72 / 200) < 3 and abs(bottom - top - 80 * 72 / 200) < 2


def test_tall_glyph_strokes_are_not_rulings():
    """A glyph's vertical stroke as tall as a short ruling, its top near the row's ruling (市 or
    中 in a large font), neither splits the cell nor is erased: it is text."""
    page = np.full((2339, 1654), 255, np.uint8)
    for y in (400, 480, 560, 640, 720, 800):
        cv2.line(page, (XS[0], y), (XS[-1], y), 0, 3)
    for x in XS:
        cv2.line(page, (x, 400), (x, 800), 0, 3)
    for x in (600, 640, 900):  # strokes in rows 1 and 2, from just under the ruling
        cv2.line(page, (x, 485), (x, 538), 0, 4)
        cv2.line(page, (x, 565), (x, 618), 0, 4)
    (grid,) = page_grids((degrade(page, 5, 0.8, quality=75), 1, 200))
    assert (grid.n_rows, grid.n_cols) == (5, 4)
    assert all((c.rowspan, c.colspan) == (1, 1) for c in grid.cells)


def test_red_seal_over_the_rulings_is_ignored():
    rgb = cv2.cvtColor(ruled_page(**MERGED, seed=11), cv2.COLOR_GRAY2RGB).astype(np.float32)
    seal = np.full_like(rgb, 255)
    cv2.circle(seal, (760, 600), 170, (220, 30, 30), 9)  # translucent: the rulings show through
    cv2.line(seal, (600, 560), (920, 640), (220, 30, 30), 9)
    page = (rgb * seal / 255).astype(np.uint8)
    (grid,) = page_grids((page, 1, 200))
    spans = {(c.row, c.col): (c.rowspan, c.colspan) for c in grid.cells}
    assert (grid.n_rows, grid.n_cols, spans[(1, 0)], spans[(3, 1)]) == (5, 4, (4, 1), (1, 2))
    assert all(c.text == "" for c in grid.cells)


def test_a_glyph_with_a_gap_across_its_ink_is_read_once():
    """高 printed alone in a cell: its top part stands over its bottom part with paper between, so
    its ink is two runs, each lower than a line; they are one line, read once, not '高高'."""
    noto = pytest.importorskip("noto_cjk_sans_otc", reason="renders the CJK glyphs")
    from PIL import ImageDraw, ImageFont

    image = Image.fromarray(ruled_page(seed=16, angle=0))
    font = ImageFont.truetype(str(Path(noto.__file__).parent / "NotoSansCJK-Regular.ttc"), 36)
    draw = ImageDraw.Draw(image)
    for row, text in enumerate(("良好", "高", "提升", "及时", "良好")):
        draw.text((XS[1] + 12, 400 + 80 * row + 16), text, fill=0, font=font)
    (grid,) = page_grids((np.asarray(image), 1, 200))
    assert [c.text for c in grid.cells if c.col == 1] == ["良好", "高", "提升", "及时", "良好"]


def test_table_continued_on_the_next_scanned_page_is_joined():
    first = ruled_page(ys=(1900, 1980, 2060, 2140, 2220), no_h={(4, 0)}, seed=12, angle=0.8)
    second = ruled_page(ys=(300, 380, 460), open_top=60, seed=13, angle=-1.1)
    grids = page_grids((first, 1, 200), (second, 2, 200))
    (grid,) = grids  # the row cut by the page break continues: 4 + 3 - 1 rows
    assert (grid.n_rows, grid.n_cols) == (6, 4)
    assert grid.row_pages == [1, 1, 1, 1, 2, 2]
    assert [len(page_grids((p, 1, 200))) for p in (first, second)] == [1, 1]


def test_pages_read_side_by_side_as_one_at_a_time(monkeypatch):
    """Pages read side by side (one per OCR thread) are stitched in page order, as when they are
    read one at a time: a table continued over the break joined, the next page's table apart."""
    first = ruled_page(ys=(1900, 1980, 2060, 2140, 2220), no_h={(4, 0)}, seed=12, angle=0.8)
    second = ruled_page(ys=(300, 380, 460), open_top=60, seed=13, angle=-1.1)
    third = ruled_page(**MERGED, seed=14)
    pages = [(first, 1, 200), (second, 2, 200), (third, 3, 200)]
    read = {}
    for threads in (1, 2, 3):
        monkeypatch.setattr(ocr_engine, "THREADS", threads)
        read[threads] = [
            (g.row_pages, [(c.row, c.col, c.rowspan, c.colspan, c.bbox) for c in g.cells])
            for g in page_grids(*pages)
        ]
    assert [row_pages for row_pages, _ in read[1]] == [[1, 1, 1, 1, 2, 2], [3] * 5]
    assert read[2] == read[1] and read[3] == read[1]


def test_png_and_multipage_tiff(tmp_path):
    first, second = ruled_page(seed=8, angle=-1.0), ruled_page(seed=9, angle=0.7)
    Image.fromarray(first).save(tmp_path / "page.png", dpi=(200, 200))
    Image.fromarray(first).save(
        tmp_path / "pages.tiff", save_all=True, append_images=[Image.fromarray(second)]
    )
    png = read_document(tmp_path / "page.png")
    assert png.pages == 1 and png.n_tables == 1
    tiff = read_image(tmp_path / "pages.tiff")
    assert tiff.pages == 2 and tiff.scanned_pages == [1, 2]
    assert [g.row_pages[0] for g in tiff.grids] == [1, 2]
    assert all(isinstance(g, Grid) and (g.n_rows, g.n_cols) == (5, 4) for g in tiff.grids)


@pytest.mark.parametrize("layer", ["invisible", "under the image"])
def test_a_searchable_scan_is_read_from_its_image_not_its_text_layer(scans, tmp_path, layer):
    """A scanner's OCR writes its text invisibly (render mode 3) or under the page's image; that
    layer may be poor (here it is) and the table's rulings are only in the image."""
    from reportlab.lib.utils import ImageReader
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Layer", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"))
    path = tmp_path / "searchable.pdf"
    width, height = pdfium.PdfDocument(THREE)[0].get_size()
    page = canvas.Canvas(str(path), pagesize=(width, height))

    def poor_layer() -> None:
        for n in range(30):
            text = page.beginText(40, height - 40 - 20 * n)
            text.setFont("Layer", 9)
            text.setTextRenderMode(3 if layer == "invisible" else 0)
            text.textOut("项目名称 口口口 一级指标 口口 得分 口口口口")
            page.drawText(text)

    if layer == "invisible":
        page.drawImage(ImageReader(str(scans["jpeg"])), 0, 0, width=width, height=height)
        poor_layer()
    else:
        poor_layer()
        page.drawImage(ImageReader(str(scans["jpeg"])), 0, 0, width=width, height=height)
    page.showPage()
    page.save()

    document = read_document(path)
    assert document.scanned_pages == [1]
    (form,) = parse_forms(document)
    want = load_expected(THREE)[0]
    assert (form.name, form.total_weight, form.total_score) == (want["name"], 100, 93.2)
    hierarchy, numbers = _indicator_scores(want, form)
    assert hierarchy >= 0.98 and numbers >= 0.98


def test_text_in_fonts_without_a_unicode_map_is_read_by_ocr(tmp_path):
    """A font embedded without its ToUnicode map decodes to glyph codes (here control codes):
    the page is read from what it shows."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(TTFont("Subset", "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"))
    rows = [
        ["项目名称", "乡村道路养护", "", "", "", ""],
        ["一级指标", "二级指标", "三级指标", "年度指标值", "分值", "得分"],
        ["产出指标", "数量指标", "养护里程", "≥120公里", "50", "50"],
        ["效益指标", "社会效益指标", "群众出行便利度", "提高", "40", "40"],
        ["满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", "10", "10"],
    ]
    mapped = tmp_path / "mapped.pdf"
    page = canvas.Canvas(str(mapped), pageCompression=0)
    page.setFont("Subset", 14)
    page.drawCentredString(297, 780, "项目支出绩效自评表（2025年度）")
    xs = [50, 130, 230, 340, 430, 480, 540]
    for r, row in enumerate(rows):
        top = 750 - 24 * r
        for k, text in enumerate(row):
            page.rect(xs[k], top - 24, xs[k + 1] - xs[k], 24)
            page.setFont("Subset", 9)
            page.drawString(xs[k] + 3, top - 15, text)
    page.save()
    unmapped = tmp_path / "unmapped.pdf"  # the same bytes with the map blanked out
    unmapped.write_bytes(
        re.sub(rb"/ToUnicode \d+ 0 R", lambda m: b" " * len(m.group(0)), mapped.read_bytes())
    )
    assert pdfium.PdfDocument(unmapped)[0].get_textpage().get_text_range()[0] < " "

    document = read_document(unmapped)
    assert document.scanned_pages == [1]
    assert "fonts without a Unicode map" in document.notes[0]
    (form,) = parse_forms(document)
    assert (form.name, form.fiscal_year) == ("乡村道路养护", 2025)
    assert [
        (i.level1, i.level2, i.level3, i.target_text, i.weight, i.score) for i in form.indicators
    ] == [
        ("产出指标", "数量指标", "养护里程", "≥120公里", 50, 50),
        ("效益指标", "社会效益指标", "群众出行便利度", "提高", 40, 40),
        ("满意度指标", "服务对象满意度指标", "群众满意度", "≥90%", 10, 10),
    ]
    assert read_document(mapped).scanned_pages == []


@pytest.mark.parametrize("suffix", [".heic", ".webp"])
def test_phone_photo_formats_read_like_the_jpeg(scans, jpeg_read, tmp_path, suffix):
    """HEIC (an iPhone's camera) and WEBP (saved from a chat app or a browser) are images too."""
    path = tmp_path / f"page{suffix}"
    Image.open(scans["jpeg"]).save(path, quality=90)
    document = read_document(path)
    (upright_table,) = [g for g in jpeg_read[0].grids if g.is_table]
    (table,) = [g for g in document.grids if g.is_table]
    assert (table.n_rows, table.n_cols) == (upright_table.n_rows, upright_table.n_cols)
    same = sum(a.text == b.text for a, b in zip(upright_table.cells, table.cells))
    assert same >= 0.95 * len(table.cells)
    (form,) = parse_forms(document)
    assert (form.total_weight, form.total_score) == (100, 93.2)


def test_noise_only_image_gives_no_grids(tmp_path):
    rng = np.random.default_rng(3)
    noise = np.clip(255 - np.abs(rng.normal(0, 12, (1600, 1200))), 0, 255).astype(np.uint8)
    Image.fromarray(noise).save(tmp_path / "noise.png")
    document = read_image(tmp_path / "noise.png")
    assert document.grids == [] and document.pages == 1


def test_undecodable_and_oversized_images(tmp_path):
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"not an image" * 10)
    with pytest.raises(UnreadableFile, match="cannot be decoded"):
        read_document(tmp_path / "broken.png")
    Image.new("1", (9500, 9000), 1).save(tmp_path / "huge.png")
    with pytest.raises(UnreadableFile, match="megapixels"):
        read_image(tmp_path / "huge.png")
    with pytest.raises(UnreadableFile, match="does not exist"):
        read_image(tmp_path / "missing.jpg")


# --- pages scanned sideways or upside down ---------------------------------------------------


LANDSCAPE = SAMPLES / "self_eval_wanyuan.pdf"


@pytest.fixture(scope="module")
def rendered(tmp_path_factory) -> dict[str, np.ndarray]:
    """Degraded 200-dpi scans of a portrait page (three forms p2) and a landscape one (wanyuan p1)."""
    pytest.importorskip("noto_cjk_sans_otc", reason="renders the samples' CJK text")
    out = tmp_path_factory.mktemp("rendered")
    (portrait,) = render(THREE, out, 200, [2])
    (landscape,) = render(LANDSCAPE, out, 200, [1])
    return {
        "portrait": degrade(portrait, seed=4, angle=-0.8, quality=70),
        "landscape": degrade(landscape, seed=5, angle=1.1, quality=70),
    }


def upright_turns(page: np.ndarray) -> int:
    return scan._upright(page, scan._binarise(page))


@pytest.fixture
def reads_well(monkeypatch) -> list[int]:
    """Recognition stubbed to read every crop well, so ``_upright`` only decides whether the text
    runs up the page (1) or across it (0); the sizes of the batches it was asked to read."""
    calls: list[int] = []

    def recognize(crops: list[np.ndarray]) -> list[tuple[str, float]]:
        calls.append(len(crops))
        return [("字", 1.0)] * len(crops)

    monkeypatch.setattr(ocr_engine, "recognize", recognize)
    return calls


@pytest.mark.parametrize("turns", [0, 1, 2, 3])
@pytest.mark.parametrize("name", ["portrait", "landscape"])
def test_text_running_up_the_page_is_told_from_line_shapes(rendered, reads_well, name, turns):
    page = np.ascontiguousarray(np.rot90(rendered[name], turns))
    assert upright_turns(page) == turns % 2
    assert reads_well == [scan.PROBE_LINES]  # one probe of the longest lines, read as they are


def few_words_page() -> np.ndarray:
    """A ruled table (as ``ruled_page``) with a handful of short Latin words in its cells."""
    page = np.full((2339, 1654), 255, np.uint8)
    ys = (400, 480, 560, 640, 720, 800)
    for y in ys:
        cv2.line(page, (XS[0], y), (XS[-1], y), 0, 3)
    for x in XS:
        cv2.line(page, (x, ys[0]), (x, ys[-1]), 0, 3)
    for text, origin in (("Budget", (170, 455)), ("Total 100", (470, 615)), ("Score", (770, 775))):
        cv2.putText(page, text, origin, cv2.FONT_HERSHEY_SIMPLEX, 1.0, 0, 2, cv2.LINE_AA)
    return degrade(page, seed=21, angle=0.6, quality=70)


def test_bare_rulings_and_few_words_are_not_turned(reads_well):
    bare = ruled_page(**MERGED)
    for page in (bare, np.ascontiguousarray(np.rot90(bare))):
        assert upright_turns(page) == 0
    assert reads_well == []  # no text: nothing recognised, the models are not even loaded
    assert upright_turns(few_words_page()) == 0
    assert reads_well == [3]  # Budget, Total and Score read as they are ("100" is too short)


@pytest.mark.parametrize(("name", "turns"), [("landscape", 0), ("landscape", 2), ("portrait", 1)])
def test_upside_down_is_told_by_reading_a_few_lines(rendered, name, turns):
    page = np.ascontiguousarray(np.rot90(rendered[name], turns))
    ocr_engine.engine()
    start = time.perf_counter()
    found = upright_turns(page)
    print(
        f"\n{name} page turned {90 * turns}°: orientation found in {time.perf_counter() - start:.2f} s"
    )
    assert found == -turns % 4


TURNED_NOTES = {1: "turned 90° anticlockwise", 2: "upside down", 3: "turned 90° clockwise"}


@pytest.mark.parametrize(("turns", "suffix"), [(1, ".png"), (2, ".jpg"), (3, ".pdf")])
def test_turned_scan_reads_like_the_upright_one(scans, jpeg_read, tmp_path, turns, suffix):
    upright_document, _, upright_seconds = jpeg_read
    assert not any("upright" in note for note in upright_document.notes)
    path = tmp_path / f"turned{suffix}"
    turned = Image.fromarray(np.rot90(np.asarray(Image.open(scans["jpeg"])), turns))
    if suffix == ".pdf":  # an image-only PDF page: extractors.pdf hands it to the scan reader
        turned.save(path, resolution=150)
    else:
        turned.save(path, dpi=(150, 150), quality=90)
    document, forms, seconds = timed_read(path)
    print(f"\nturned {90 * turns}° ({suffix}): {seconds:.2f} s/page, upright {upright_seconds:.2f}")
    assert f"page 1 was scanned {TURNED_NOTES[turns]}; read upright" in document.notes

    truth = next(g for g in read_document(THREE).grids if g.is_table)
    (table,) = [g for g in document.grids if g.is_table]
    expected = {(c.row, c.col, c.rowspan, c.colspan): c.text for c in truth.cells}
    got = {(c.row, c.col, c.rowspan, c.colspan): c for c in table.cells}
    assert set(got) == set(expected)
    assert sum(_norm(got[k].text) == _norm(t) for k, t in expected.items()) >= 0.95 * len(expected)
    x0, top, _, _ = got[(0, 0, 1, 1)].bbox  # in points of the upright page
    assert abs(x0 - truth.cells[0].bbox[0]) < 12 and abs(top - truth.cells[0].bbox[1]) < 12
    (upright_table,) = [g for g in upright_document.grids if g.is_table]
    same = sum(a.text == b.text for a, b in zip(upright_table.cells, table.cells))
    assert same >= 0.95 * len(table.cells)

    want = load_expected(THREE)[0]
    (form,) = forms
    assert (form.name, form.total_weight, form.total_score) == (want["name"], 100, 93.2)
    hierarchy, numbers = _indicator_scores(want, form)
    assert hierarchy >= 0.98 and numbers >= 0.98


# --- domain corrections -----------------------------------------------------------------------


def test_labels_snap_only_when_one_is_close():
    assert snap_label("产出指汴") == "产出指标"
    assert snap_label("偏差原因分析及改迸措旅") == "偏差原因分析及改进措施"
    assert snap_label("产出指秫(50分)") == "产出指标(50分)"
    assert snap_label("敖量指标") is None  # 数量指标 and 质量指标 are equally close
    assert snap_label("数量指标") is None  # already right
    assert snap_label("享受见习补贴人数") is None
    assert snap_label("总汾") is None  # two characters: too short to snap
    assert snap_label("子项目名称") is None and snap_label("一级指标名称") is None
    assert snap_label("预算金额（万元）") is None  # another unit, not a typo of 预算金额（元）
    assert snap_label("预算金额（万兀）") == "预算金额（万元）"


def test_number_glyphs_and_notes():
    assert fix_number("1O0%") == "100%"
    assert fix_number("13，303，150.10") == "13,303,150.10"
    assert fix_number("119 979 860.00") == "119979860.00"
    assert fix_number(">5OOO人") == ">5000人"
    assert fix_number("9210") is None and fix_number("ISO") is None
    assert correct("一") == ("—", "OCR read '一', corrected to '—'")
    assert correct("稳定") == ("稳定", None)
