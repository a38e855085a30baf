"""The same sample forms rendered as DOCX, XLSX, HTML and LibreOffice PDF come back the same.

The files under tests/data/rendered are written by scripts/render_formats.py from the flows that
scripts/generate_samples.py draws as PDFs; every format must give the records of
samples/pdf/<name>.expected.json (page numbers aside: each producer paginates its own way).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from expected_forms import PAGES, compare, load_expected, normalised

from extractors import read_document
from extractors.forms import parse_forms

RENDERED = Path(__file__).resolve().parents[1] / "data" / "rendered"
FILES = sorted(p for p in RENDERED.glob("*/*") if p.suffix in {".pdf", ".docx", ".xlsx", ".html"})


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_rendered_sample_reads_back(path: Path):
    forms = parse_forms(read_document(path))
    expected = load_expected(path)
    assert [f.name for f in forms] == [e["name"] for e in expected]
    for want, got in zip(expected, forms):
        assert compare(want, got, PAGES) == normalised(want, PAGES), want["name"]
