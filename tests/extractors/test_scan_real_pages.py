"""Real published pages, scanned badly, read like the same pages' text layer.

Pages of two producers' publications (the Xi'an health commission's 决算 self-evaluations, the
Yantai civil affairs bureau's target tables) are rendered at 150 and 200 dpi, their rulings
lightened and broken in stretches, a red seal stamped over the table, then rotated, blurred, given
noise and JPEG-compressed (tests/data/scans/rasterize.py). The born-digital read of the same page
(read_document → parse_forms on its text layer) is the reference: every indicator row is there,
with the same 一级/二级 parents.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from extractors import read_document
from extractors.forms import parse_forms
from extractors.ocr_corrections import edit_distance

REAL = Path(__file__).resolve().parents[1] / "data" / "real" / "forms"
XIAN = REAL / "renwu_020_西安_卫生健康委员会_2022年度部门决算_p1-99.pdf"
YANTAI = REAL / "renwu_025_烟台_2026年烟台市民政局部门预算.pdf"
RASTERIZE = Path(__file__).resolve().parents[1] / "data" / "scans" / "rasterize.py"
_spec = importlib.util.spec_from_file_location("rasterize", RASTERIZE)
rasterize = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(rasterize)


def born_digital(pdf: Path, page: int, tmp: Path) -> list:
    single = pdfium.PdfDocument.new()
    single.import_pages(pdfium.PdfDocument(pdf), [page - 1])
    path = tmp / f"{pdf.stem}_p{page}.pdf"
    single.save(path)
    return parse_forms(read_document(path))


def scanned(pdf: Path, page: int, dpi: int, tmp: Path) -> list:
    gray = pdfium.PdfDocument(pdf)[page - 1].render(scale=dpi / 72, grayscale=True).to_numpy()
    spoiled = rasterize.spoil_rulings(np.ascontiguousarray(gray), seed=page)
    image = rasterize.degrade(spoiled, seed=page, angle=(-0.9, 0.7)[page % 2], quality=80)
    path = tmp / f"{pdf.stem}_p{page}.jpg"
    Image.fromarray(image).save(path, quality=90, dpi=(dpi, dpi))
    return parse_forms(read_document(path))


@pytest.mark.parametrize(
    ("pdf", "page", "dpi"), [(XIAN, 64, 150), (XIAN, 58, 200), (YANTAI, 36, 200)]
)
def test_spoiled_scan_keeps_every_row_and_its_hierarchy(tmp_path, pdf, page, dpi):
    (want,) = born_digital(pdf, page, tmp_path)
    (got,) = scanned(pdf, page, dpi, tmp_path)
    assert len(got.indicators) == len(want.indicators) > 0
    for read, truth in zip(got.indicators, want.indicators):
        assert (read.level1, read.level2) == (truth.level1, truth.level2)
        assert edit_distance(read.level3 or "", truth.level3 or "") <= len(truth.level3 or "") // 4
    assert got.name == want.name
