"""Property tests: the value parser and the readers never raise anything but UnreadableFile, and the
form parser survives any grid. Inputs that once broke them are pinned with ``@example``."""

import io
import math
import random
import re
import zipfile
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from extractors import read_document
from extractors.errors import UnreadableFile
from extractors.forms import parse_forms
from extractors.values import (
    normalize_text,
    parse_date,
    parse_money,
    parse_number,
    parse_rate,
    parse_value,
)
from schemas.grid import Cell, Document, Grid

SAMPLES = Path(__file__).parents[2] / "samples" / "pdf"
SEED = Path(__file__).parents[1] / "data" / "seeds" / "000_47efb21861c60971.txt"
FOUND = Path(__file__).parents[1] / "data" / "hostile" / "fuzz"  # files that broke a reader
FILES = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

# Pieces of real cells, so that random text often looks like a value, a label or a date.
PIECES = [
    "≥",
    ">",
    "<=",
    "＝",
    "=",
    "≤",
    "以上",
    "以内",
    "%",
    "（%）",
    "万",
    "亿",
    "元",
    "人次",
    "年",
    "月",
    "日",
    "-",
    "/",
    ".",
    ",",
    "0",
    "1",
    "9",
    "12",
    "2024",
    "0000",
    "9999",
    "13",
    "99999999999",
    "9" * 400,
    " ",
    "\u3000",
    "&amp;",
    "<br>",
    "<p>",
    "XX",
    "——",
    "无",
    "项目名称",
    "一级指标",
    "产出指标",
    "数量指标",
    "分值",
    "得分",
    "总分",
    "年度资金总额",
    "全年预算数",
    "\x00",
    "\ufffe",
]
cell_text = st.one_of(
    st.text(max_size=40), st.lists(st.sampled_from(PIECES), max_size=8).map("".join)
)


@settings(max_examples=500, deadline=None)
@given(cell_text)
@example("9" * 400)
@example("≥" + "9" * 400 + "人")
@example("0000年1月")
@example("9999年12月")
@example("0000-01-01")
def test_value_parsers_never_raise_and_give_finite_numbers(text):
    value = parse_value(text)
    assert value.value is None or math.isfinite(value.value)
    assert value.op in (None, ">", ">=", "=", "<", "<=")
    for number in (parse_number(text), parse_rate(text)):
        assert number is None or math.isfinite(number)
    money = parse_money(text, 10000)
    assert money is None or (isinstance(money, Decimal) and money.is_finite())
    for end in (False, True):
        assert parse_date(text, end=end) is None or isinstance(parse_date(text, end=end), date)
    assert normalize_text(text) == normalize_text(text).strip()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(cell_text, min_size=1, max_size=9), min_size=1, max_size=25))
def test_the_form_parser_survives_any_grid(rows):
    n_cols = max(len(row) for row in rows)
    cells = [
        Cell(row=r, col=c, text=text, page=1, bbox=(c * 10.0, r * 10.0, c * 10.0 + 9, r * 10.0 + 9))
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
        if text
    ]
    flat = Grid(cells=cells, n_rows=len(rows), n_cols=n_cols, spans_known=False)
    ruled = Grid(cells=cells, n_rows=len(rows), n_cols=n_cols, spans_known=True)
    for grid in (flat, ruled):
        for form in parse_forms(Document(grids=[grid], pages=1, extractor="fuzz")):
            assert [i.row_ordinal for i in form.indicators] == list(
                range(1, len(form.indicators) + 1)
            )


def read_or_refuse(path: Path) -> None:
    """Reading ``path`` gives forms or an UnreadableFile, nothing else."""
    try:
        document = read_document(path)
    except UnreadableFile as error:
        assert str(error)
        return
    parse_forms(document)


def mutate(data: bytes, seed: int, flips: int) -> bytes:
    """``data`` with ``flips`` random bytes overwritten and maybe cut short."""
    rng = random.Random(seed)
    out = bytearray(data)
    for _ in range(flips):
        out[rng.randrange(len(out))] = rng.randrange(256)
    if rng.random() < 0.3:
        del out[rng.randrange(len(out)) :]
    return bytes(out)


@FILES
@given(st.integers(0, 2**32), st.integers(1, 60))
@example(seed=2758, flips=19)  # a row narrower than the indicator header
def test_damaged_pdfs_are_read_or_refused(tmp_path, seed, flips):
    path = tmp_path / "damaged.pdf"
    path.write_bytes(mutate((SAMPLES / "self_eval_wanyuan.pdf").read_bytes(), seed, flips))
    read_or_refuse(path)


@FILES
@given(
    st.binary(max_size=3000) | st.integers(0, 2**32).map(lambda s: mutate(SEED.read_bytes(), s, 20))
)
def test_any_bytes_as_a_text_export_are_read_or_refused(tmp_path, data):
    path = tmp_path / "export.txt"
    path.write_bytes(data)
    read_or_refuse(path)


TAGS = [
    "<table>",
    "</table>",
    "<tr>",
    "</tr>",
    "<td>",
    "</td>",
    '<td rowspan="0">',
    '<td colspan="99999">',
    "<th>",
    "<script>",
    "</script>",
    "<!--",
    "-->",
    "<meta charset=gbk>",
    "<br>",
    "&#0;",
    "&lt;",
]


@FILES
@given(
    st.lists(st.sampled_from(TAGS) | cell_text, max_size=60), st.sampled_from(["utf-8", "gb18030"])
)
@example(["<table>", "<script>", "</script>", "\x1f"], "utf-8")  # a control character in a tail
def test_any_html_is_read_or_refused(tmp_path, parts, encoding):
    path = tmp_path / "page.html"
    path.write_bytes("".join(parts).encode(encoding, errors="replace"))
    read_or_refuse(path)


@pytest.mark.parametrize(
    "path",
    sorted(FOUND.iterdir()),
    ids=lambda path: path.name,
)
def test_files_that_once_broke_a_reader(path):
    read_or_refuse(path)


OFFICE = [
    Path(__file__).parents[1] / "data" / "rendered" / kind / f"self_eval_split_row_cut_span.{kind}"
    for kind in ("docx", "xlsx")
]
NUMBERS = [b"-1", b"0", b"99999999", b"A", b"XFD1048576:A1", b"1:", b""]


def mutate_xml(source: Path, seed: int) -> bytes:
    """``source`` (a zip of XML parts) with its sheet or document XML damaged: spans, merge
    references and cell addresses given odd values, random bytes overwritten."""
    rng = random.Random(seed)
    out = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out, "w") as damaged:
        for item in original.infolist():
            data = bytearray(original.read(item))
            if re.search(r"(document|sheet\d+|sharedStrings|workbook)\.xml$", item.filename):
                for _ in range(rng.randrange(1, 15)):
                    if rng.random() < 0.5:
                        attribute = rng.choice([b'gridSpan w:val="', b'w:val="', b'ref="', b'r="'])
                        at = data.find(attribute, rng.randrange(len(data)))
                        if at >= 0:
                            end = at + len(attribute)
                            data[end:end] = rng.choice(NUMBERS)
                    else:
                        data[rng.randrange(len(data))] = rng.randrange(32, 127)
            damaged.writestr(item.filename, bytes(data))
    return out.getvalue()


@FILES
@given(st.sampled_from(OFFICE), st.integers(0, 2**32))
def test_damaged_office_files_are_read_or_refused(tmp_path, source, seed):
    path = tmp_path / source.name
    path.write_bytes(mutate_xml(source, seed))
    read_or_refuse(path)
