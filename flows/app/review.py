"""Quarantine review: list held-back forms, show one beside its failed checks, release or reject it.

``show`` prints every failed check next to the values it concerns and where they were printed
(page and cell box in points); ``page_images`` draws those cells on a picture of the page. A
decision is recorded by :meth:`warehouse.Warehouse.review` with who, when and why.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from extractors.pdf import render_upright
from warehouse import Warehouse

if TYPE_CHECKING:
    import pypdfium2 as pdfium
    from PIL import Image

FUND_CHECKS = frozenset(
    {"executed_le_budget", "execution_rate_consistent", "budget_score_consistent"}
)
TOTAL_CHECKS = frozenset({"total_score_consistent", "total_weight_100"})
PNG_DPI = 100
MARGIN = 18.0  # points around the form's cells in a page image
Box = tuple[float, float, float, float]


@dataclass
class Place:
    """Where a failed check's values were printed, and what they read."""

    what: str  # 'row 3 (享受见习补贴人数)', 'funds line 年度资金总额', 'total row', 'header'
    values: str
    page: int | None = None
    bbox: Box | None = None

    def where(self) -> str:
        """'page 3, cells (94, 297)–(553, 315) pt', or as much of it as is known."""
        if self.page is None:
            return "no page (the source has none)"
        if self.bbox is None:
            return f"page {self.page}"
        x0, top, x1, bottom = self.bbox
        return f"page {self.page}, cells ({x0:.0f}, {top:.0f})–({x1:.0f}, {bottom:.0f}) pt"


@dataclass
class Check:
    """One failed check of a form and the place its values came from."""

    name: str
    severity: str
    observed: str | None
    expected: str | None
    detail: str | None
    place: Place


def list_forms(warehouse: Warehouse, include_rejected: bool = False) -> list[tuple]:
    """(form_id, name, fiscal_year, reasons, rejected, source_file) of each quarantined form."""
    return warehouse.connection.execute(
        """
        SELECT form_id, name, fiscal_year, reasons, rejected, source_file FROM quarantine
        WHERE ? OR NOT rejected ORDER BY quarantined_at, source_file, form_ordinal
        """,
        [include_rejected],
    ).fetchall()


def _form(warehouse: Warehouse, form_id: str) -> dict:
    con = warehouse.connection
    cursor = con.execute(
        """
        SELECT form_id, name, fiscal_year, form_type, department, source_file, source_sha256,
               form_ordinal, first_page, last_page, status, released, rejected, quarantined_at,
               total_weight, total_score, total_page, total_bbox
        FROM store.form WHERE form_id = ?
        """,
        [form_id],
    )
    row = cursor.fetchone()
    if row is None:
        raise LookupError(
            f"no form {form_id} in {warehouse.path}; `jixiao quarantine list` shows the ids"
        )
    return dict(zip([d[0] for d in cursor.description], row, strict=True))


def _box(value: list[float] | None) -> Box | None:
    return tuple(value) if value else None  # type: ignore[return-value]


def _fmt(value: object) -> str:
    return "—" if value is None else str(value)


def failed_checks(warehouse: Warehouse, form_id: str) -> list[Check]:
    """The form's failed checks, each with the values and cells it concerns."""
    con = warehouse.connection
    form = _form(warehouse, form_id)
    indicators = {
        row[0]: row
        for row in con.execute(
            """
            SELECT row_ordinal, level1, level2, level3, target_text, actual_text, weight, score,
                   page, bbox
            FROM store.indicator WHERE form_id = ?
            """,
            [form_id],
        ).fetchall()
    }
    funds = con.execute(
        """
        SELECT budget_initial, budget_full_year, budget_executed, execution_rate, weight, score,
               page, bbox
        FROM store.fund_line WHERE form_id = ? AND line = '年度资金总额'
        """,
        [form_id],
    ).fetchone()
    checks = []
    for name, severity, ordinal, observed, expected, detail in con.execute(
        """
        SELECT check_name, severity, row_ordinal, observed, expected, detail
        FROM store.check_result WHERE form_id = ? ORDER BY severity, row_ordinal NULLS FIRST
        """,
        [form_id],
    ).fetchall():
        if ordinal is not None and ordinal in indicators:
            _, l1, l2, l3, target, actual, weight, score, page, bbox = indicators[ordinal]
            place = Place(
                f"row {ordinal} ({l3})",
                f"{_fmt(l1)} / {_fmt(l2)} / {l3} | 指标值 {_fmt(target)} | 实际 {_fmt(actual)} | "
                f"分值 {_fmt(weight)} | 得分 {_fmt(score)}",
                page,
                _box(bbox),
            )
        elif (name in FUND_CHECKS or name == "score_le_weight") and funds is not None:
            initial, full, executed, rate, weight, score, page, bbox = funds
            place = Place(
                "funds line 年度资金总额",
                f"年初 {_fmt(initial)} | 全年 {_fmt(full)} | 执行 {_fmt(executed)} 元 | "
                f"执行率 {_fmt(rate)} | 分值 {_fmt(weight)} | 得分 {_fmt(score)}",
                page,
                _box(bbox),
            )
        elif name in TOTAL_CHECKS:
            place = Place(
                "total row",
                f"总分 分值 {_fmt(form['total_weight'])} | 得分 {_fmt(form['total_score'])}",
                form["total_page"],
                _box(form["total_bbox"]),
            )
        else:
            place = Place(
                "header",
                f"项目名称 {_fmt(form['name'])} | 年度 {_fmt(form['fiscal_year'])}",
                form["first_page"],
            )
        checks.append(Check(name, severity, observed, expected, detail, place))
    return checks


def show(warehouse: Warehouse, form_id: str) -> str:
    """A plain-text account of one form: where it came from, its failed checks and reviews."""
    form = _form(warehouse, form_id)
    pages = (
        ""
        if form["first_page"] is None
        else f", pages {form['first_page']}–{form['last_page'] or form['first_page']}"
    )
    if form["status"] != "quarantined":
        state = f"landed ({form['status']})"
    elif form["released"]:
        state = "released (landed in forms)"
    elif form["rejected"]:
        state = "rejected (kept out of forms)"
    else:
        state = f"quarantined since {form['quarantined_at']:%Y-%m-%d %H:%M %Z}"
    lines = [
        f"{form['form_id']}: {_fmt(form['name'])} ({_fmt(form['fiscal_year'])}, "
        f"{form['form_type']})",
        f"  department: {_fmt(form['department'])}",
        f"  source: {form['source_file']}{pages}",
        f"  state: {state}",
        "failed checks:",
    ]
    checks = failed_checks(warehouse, form_id)
    for check in checks:
        lines.append(
            f"  {check.severity:<7} {check.name}: observed {_fmt(check.observed)}, expected "
            f"{_fmt(check.expected)}" + (f" — {check.detail}" if check.detail else "")
        )
        lines.append(f"          {check.place.what}, {check.place.where()}")
        lines.append(f"          {check.place.values}")
    if not checks:
        lines.append("  none")
    reviews = warehouse.connection.execute(
        "SELECT action, reviewed_by, reviewed_at, note FROM store.review "
        "WHERE form_id = ? ORDER BY reviewed_at",
        [form_id],
    ).fetchall()
    if reviews:
        lines.append("reviews:")
        lines.extend(
            f"  {action} by {by} on {at:%Y-%m-%d %H:%M %Z}: {note}"
            for action, by, at, note in reviews
        )
    return "\n".join(lines)


def _form_boxes(warehouse: Warehouse, form: dict, page: int) -> list[Box]:
    """The boxes of every row of ``form`` printed on ``page``: the region a picture shows."""
    form_id = form["form_id"]
    boxes = [
        _box(bbox)
        for (bbox,) in warehouse.connection.execute(
            """
            SELECT bbox FROM store.indicator WHERE form_id = ? AND page = ?
            UNION ALL SELECT bbox FROM store.fund_line WHERE form_id = ? AND page = ?
            """,
            [form_id, page, form_id, page],
        ).fetchall()
    ]
    if form["total_page"] == page:
        boxes.append(_box(form["total_bbox"]))
    return [box for box in boxes if box is not None]


def _end_of_previous_form(warehouse: Warehouse, form: dict, page: int) -> float:
    """Where the forms printed before ``form`` on ``page`` end (points; 0: the top of the page).

    A form's title and header rows have no cell boxes: its region on its first page reaches up
    to the form above it, or to the top of the page.
    """
    (bottom,) = warehouse.connection.execute(
        """
        SELECT max(bottom) FROM (
            SELECT f.total_bbox[4] AS bottom FROM store.form f
            WHERE f.source_file = ? AND f.form_ordinal < ? AND f.total_page = ?
            UNION ALL
            SELECT i.bbox[4] FROM store.indicator i JOIN store.form f USING (form_id)
            WHERE f.source_file = ? AND f.form_ordinal < ? AND i.page = ?
        )
        """,
        [form["source_file"], form["form_ordinal"], page] * 2,
    ).fetchone()
    return bottom or 0.0


def _offending_boxes(warehouse: Warehouse, form_id: str) -> dict[int, list[Box]]:
    """The cells of the form's failed checks, by page."""
    by_page: dict[int, list[Box]] = {}
    for check in failed_checks(warehouse, form_id):
        if check.place.page is not None and check.place.bbox is not None:
            by_page.setdefault(check.place.page, []).append(check.place.bbox)
    return by_page


def _source_path(warehouse: Warehouse, form: dict) -> Path:
    """The form's source file here: the file itself, or a URL's copy downloaded beside the
    warehouse; ValueError when a URL's copy is not there."""
    from flows.sources import cached_copy, download_dir, is_url

    name = form["source_file"]
    if not is_url(name):
        return Path(name)
    copy = cached_copy(name, download_dir(warehouse.path))
    if copy is None:
        raise ValueError(f"no downloaded copy of {name} beside {warehouse.path}: cannot draw it")
    return copy


def _open_source(warehouse: Warehouse, form: dict) -> pdfium.PdfDocument:
    """The form's source PDF as it was ingested; ValueError when it cannot be drawn."""
    import pypdfium2 as pdfium

    from extractors.pdf import PASSWORD_ENV
    from warehouse import SourceFile

    source = _source_path(warehouse, form)
    if form["first_page"] is None or source.suffix.lower() != ".pdf":
        raise ValueError(f"{form['form_id']} comes from {source.name}, which has no pages to draw")
    if not source.is_file() or SourceFile.from_path(source).sha256 != form["source_sha256"]:
        raise ValueError(f"{source} is gone or changed since it was ingested: cannot draw it")
    try:
        return pdfium.PdfDocument(source, password=os.environ.get(PASSWORD_ENV) or None)
    except pdfium.PdfiumError as error:
        raise ValueError(f"cannot open {source} to draw it ({error})") from error


def _draw_page(
    pdf: pdfium.PdfDocument,
    warehouse: Warehouse,
    form: dict,
    page_no: int,
    offending: list[Box],
    dpi: int = PNG_DPI,
) -> Image.Image:
    """Page ``page_no`` cropped to the form's cells on it, ``offending`` cells outlined in red."""
    from PIL import ImageDraw

    page = pdf[page_no - 1]
    try:
        scale = dpi / 72
        image = render_upright(page, scale)
    finally:
        page.close()
    draw = ImageDraw.Draw(image)
    for b in offending:
        draw.rectangle([v * scale for v in b], outline=(220, 0, 0), width=3)
    region = _form_boxes(warehouse, form, page_no) + offending
    if not region:  # the form prints nothing with a cell box here (a title page): show it whole
        return image
    x0 = max(min(b[0] for b in region) - MARGIN, 0)
    top = max(min(b[1] for b in region) - MARGIN, 0)
    if page_no == form["first_page"]:  # its title and header rows, which have no boxes, too
        top = min(top, _end_of_previous_form(warehouse, form, page_no))
    x1 = max(b[2] for b in region) + MARGIN
    bottom = max(b[3] for b in region) + MARGIN
    return image.crop(
        (
            int(x0 * scale),
            int(top * scale),
            min(int(x1 * scale), image.width),
            min(int(bottom * scale), image.height),
        )
    )


def form_pages(warehouse: Warehouse, form_id: str) -> list[int]:
    """The pages the form is printed on (none for a source without pages)."""
    form = _form(warehouse, form_id)
    if form["first_page"] is None:
        return []
    return list(range(form["first_page"], (form["last_page"] or form["first_page"]) + 1))


def unpictured(warehouse: Warehouse, form_id: str) -> str | None:
    """Why the form's pages cannot be drawn (no pages, source gone or changed), or None."""
    try:
        _open_source(warehouse, _form(warehouse, form_id)).close()
    except ValueError as error:
        return str(error)
    return None


def page_image(warehouse: Warehouse, form_id: str, page_no: int, dpi: int = PNG_DPI) -> Image.Image:
    """One page of the form at ``dpi``, cropped to the form, the cells of its failed checks
    outlined in red.

    Raises LookupError for a page the form is not on, ValueError when the source cannot be drawn
    (no pages, gone or changed since it was ingested).
    """
    form = _form(warehouse, form_id)
    if page_no not in form_pages(warehouse, form_id):
        raise LookupError(f"{form_id} is not printed on page {page_no}")
    pdf = _open_source(warehouse, form)
    try:
        offending = _offending_boxes(warehouse, form_id).get(page_no, [])
        return _draw_page(pdf, warehouse, form, page_no, offending, dpi)
    finally:
        pdf.close()


def page_images(warehouse: Warehouse, form_id: str, out: Path) -> list[Path]:
    """Draw the cells of the form's failed checks, outlined in red, on the page region of the
    form; one PNG per page concerned (``out``, or ``out`` with ``-p<page>`` when several).

    Raises ValueError when there is nothing to draw: a source without pages or cell boxes (text,
    spreadsheets), or a source file that is gone or changed since it was ingested.
    """
    form = _form(warehouse, form_id)
    by_page = _offending_boxes(warehouse, form_id)
    if not by_page:
        raise ValueError(
            f"{form_id} has no cell positions to draw (its source has no pages or cell boxes); "
            "the values are listed by `show`"
        )
    pdf = _open_source(warehouse, form)
    written = []
    try:
        for page_no, offending in sorted(by_page.items()):
            crop = _draw_page(pdf, warehouse, form, page_no, offending)
            target = out if len(by_page) == 1 else out.with_name(f"{out.stem}-p{page_no}.png")
            target.parent.mkdir(parents=True, exist_ok=True)
            crop.save(target)
            written.append(target)
    finally:
        pdf.close()
    return written
