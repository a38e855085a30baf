"""Forms drawn on a ReportLab canvas with the rulings a producer chooses, for the PDF reader tests.

A form is a list of rows as shown ('' under merged cells) with its merged cells; it is drawn as
one table under its title, a cell too long for its width wrapped over several lines, merged
labels at the top of their span. ``rulings``
says which lines the producer draws: every cell's box (``grid``), every cell's top and bottom
(``horizontal``: a Word table without vertical borders, so no rule crosses a merged cell), a rule
across the table under every row (``rows``), a frame around the table (``frame``) or nothing
(``none``). A table
longer than the page goes on on the next, where its header rows are printed again when asked.
Fonts: ReportLab's built-in CID font STSong-Light (no font file needed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from reportlab.lib.pagesizes import A4, landscape
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

FONT = "STSong-Light"
SIZE = 9.0
ROW = 20.0  # points: the height of a one-line row
LEAD = 11.5  # points: from one line of a wrapped cell to the next
MARGIN = 48.0
RULINGS = ("grid", "horizontal", "rows", "frame", "none")


@dataclass
class DrawnForm:
    """A form as drawn: title lines above its table; ``header_rows`` are repeated after a break."""

    title: list[str]
    rows: list[list[str]]
    merges: list[tuple[int, int, int, int]]  # row, col, rowspan, colspan
    widths: list[float]  # points
    header_rows: list[int] = field(default_factory=list)
    break_before: int | None = None  # the table goes on on a new page from this row
    repeat_labels: bool = False  # a merged cell beside the repeated header prints its text again


def draw(path: Path, forms: list[DrawnForm], rulings: str) -> None:
    """Draw ``forms`` one after the other (each on a new page) into a PDF at ``path``."""
    assert rulings in RULINGS
    pdfmetrics.registerFont(UnicodeCIDFont(FONT))
    pdf = canvas.Canvas(str(path), pagesize=landscape(A4), invariant=1)
    for number, form in enumerate(forms):
        if number:
            pdf.showPage()
        _draw_form(pdf, form, rulings)
    pdf.showPage()
    pdf.save()


def _draw_form(pdf: canvas.Canvas, form: DrawnForm, rulings: str) -> None:
    width, height = landscape(A4)
    y = height - MARGIN
    for line in form.title:
        pdf.setFont(FONT, SIZE + 3)
        pdf.drawCentredString(width / 2, y - 12, line)
        y -= 22
    xs = [MARGIN]
    for w in form.widths:
        xs.append(xs[-1] + w)
    assert xs[-1] <= width - MARGIN + 1, "table wider than the page"
    boxes = _boxes(form)
    lines = {
        (r, c): _wrap(form.rows[r][c], xs[c + cs] - xs[c] - 6) if rs == 1 else [form.rows[r][c]]
        for r, c, rs, cs in boxes
    }
    heights = [ROW] * len(form.rows)
    for (r, _), wrapped in lines.items():
        heights[r] = max(heights[r], ROW + (len(wrapped) - 1) * LEAD)
    pages = [list(range(len(form.rows)))]
    if form.break_before is not None:
        pages = [
            list(range(form.break_before)),
            form.header_rows + list(range(form.break_before, len(form.rows))),
        ]
        y = min(y, MARGIN + sum(heights[r] for r in pages[0]))  # the first part ends at the bottom
    pdf.setLineWidth(0.5)
    for k, page_rows in enumerate(pages):
        if k:
            pdf.showPage()
            y = height - MARGIN
        top_of = {}
        for r in page_rows:
            top_of[r] = y - sum(heights[q] for q in page_rows[: page_rows.index(r)])
        bottom = y - sum(heights[r] for r in page_rows)
        for r, c, rs, cs in boxes:
            here = [row for row in page_rows if r <= row < r + rs]
            if not here:
                continue
            cell_top = top_of[here[0]]
            cell_bottom = top_of[here[-1]] - heights[here[-1]]
            x0, x1 = xs[c], xs[c + cs]
            if rulings == "grid":
                pdf.rect(x0, cell_bottom, x1 - x0, cell_top - cell_bottom, stroke=1, fill=0)
            elif rulings == "horizontal":
                pdf.line(x0, cell_top, x1, cell_top)
                pdf.line(x0, cell_bottom, x1, cell_bottom)
            first_page = k == 0 or r not in form.header_rows
            if form.rows[r][c] and r in top_of and (first_page or rs == 1 or form.repeat_labels):
                pdf.setFont(FONT, SIZE)
                for i, line in enumerate(lines[(r, c)]):
                    assert pdfmetrics.stringWidth(line, FONT, SIZE) <= x1 - x0 - 4, line
                    pdf.drawString(x0 + 3, top_of[r] - ROW / 2 - SIZE * 0.35 - i * LEAD, line)
        if rulings == "rows":
            for r in page_rows:
                pdf.line(xs[0], top_of[r], xs[-1], top_of[r])
            pdf.line(xs[0], bottom, xs[-1], bottom)
        elif rulings == "frame":
            pdf.rect(xs[0], bottom, xs[-1] - xs[0], y - bottom, stroke=1, fill=0)


def _wrap(text: str, width: float) -> list[str]:
    """Text broken into lines no wider than ``width``, anywhere (CJK wraps between any glyphs)."""
    out = [""]
    for char in text:
        if out[-1] and pdfmetrics.stringWidth(out[-1] + char, FONT, SIZE) > width:
            out.append("")
        out[-1] += char
    return out


def _boxes(form: DrawnForm) -> list[tuple[int, int, int, int]]:
    """Every cell as (row, col, rowspan, colspan): the merged cells and the slots outside them."""
    hidden = {(r + i, c + j) for r, c, rs, cs in form.merges for i in range(rs) for j in range(cs)}
    singles = [
        (r, c, 1, 1)
        for r, row in enumerate(form.rows)
        for c in range(len(row))
        if (r, c) not in hidden
    ]
    return sorted(form.merges + singles)
