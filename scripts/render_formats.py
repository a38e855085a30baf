"""Render the same sample forms through every other format a department publishes.

    python scripts/render_formats.py     # needs python-docx, openpyxl and LibreOffice (soffice)

Takes the document flows of scripts/generate_samples.py (titles, ruled tables with merged cells,
page breaks) and writes each sample as DOCX (python-docx, merged cells), XLSX (openpyxl, merged
ranges), HTML (rowspan/colspan, GBK for every other file) and, through LibreOffice, as a PDF from
another producer — so each format is read back against the same samples/pdf/<name>.expected.json.
Output: tests/data/rendered/{docx,xlsx,html,pdf_libreoffice}/<name>.*. Only the page numbers differ
between formats; tests compare everything else.
"""

from __future__ import annotations

import html
import math
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from docx import Document as WordDocument
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.shared import Pt
from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, Side
from openpyxl.utils import get_column_letter

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generate_samples import (  # noqa: E402
    ROOT,
    C,
    PageBreak,
    Space,
    Table,
    Text,
    cell_borders,
    samples,
)

OUT = ROOT / "tests" / "data" / "rendered"


def place(rows: list[list[C]]) -> tuple[list[tuple[int, int, C]], int]:
    """Slot (row, col) of every cell, placed left to right into the first free slot as in HTML."""
    taken: set[tuple[int, int]] = set()
    placed: list[tuple[int, int, C]] = []
    width = 0
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while (r, c) in taken:
                c += 1
            placed.append((r, c, cell))
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken.add((r + dr, c + dc))
            c += cell.colspan
            width = max(width, c)
    return placed, width


_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"


def _docx_borders(tc: object, drawn: tuple[bool, bool, bool, bool]) -> None:
    """Set a table cell's own borders (left, right, top, bottom): a single line or none."""
    pr = tc.get_or_add_tcPr()  # type: ignore[attr-defined]
    borders = pr.makeelement(f"{_W}tcBorders", {})
    for side, draw in zip(("left", "right", "top", "bottom"), drawn):
        attrs = {f"{_W}val": "single", f"{_W}sz": "4", f"{_W}color": "000000"} if draw else {}
        borders.append(borders.makeelement(f"{_W}{side}", attrs or {f"{_W}val": "nil"}))
    pr.append(borders)


def write_docx(flow: list[object], path: Path, landscape: bool, rulings: str = "full") -> None:
    """Word document: paragraphs, page breaks and 'Table Grid' tables with merged cells; tables
    ruled as ``rulings`` says (generate_samples.RULINGS) through each cell's own borders."""
    doc = WordDocument()
    section = doc.sections[0]
    if landscape:
        section.orientation = WD_ORIENT.LANDSCAPE
        section.page_width, section.page_height = section.page_height, section.page_width
    style = doc.styles["Normal"]
    style.font.size = Pt(8)
    style.font.name = "WenQuanYi Zen Hei"
    for item in flow:
        if isinstance(item, Text):
            paragraph = doc.add_paragraph(item.text + (f"    {item.right}" if item.right else ""))
            if item.align == "center":
                paragraph.alignment = WD_ALIGN_PARAGRAPH.CENTER
        elif isinstance(item, PageBreak):
            doc.add_page_break()
        elif isinstance(item, Space):
            doc.add_paragraph("")
        elif isinstance(item, Table):
            placed, width = place(item.rows)
            table = doc.add_table(rows=len(item.rows), cols=width)
            table.style = "Table Grid"
            borders = cell_borders(placed, len(item.rows), width, rulings)
            for (r, c, cell), drawn in zip(placed, borders):
                target = table.cell(r, c)
                if cell.rowspan > 1 or cell.colspan > 1:
                    target = target.merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
                target.text = cell.text
                if rulings == "full":
                    continue
                left, right, top, bottom = drawn
                for rr in range(r, r + cell.rowspan):  # each row's part of a merged cell
                    part = (left, right, top and rr == r, bottom and rr == r + cell.rowspan - 1)
                    _docx_borders(table.cell(rr, c)._tc, part)
            if item.header_rows:
                for row in table.rows[: item.header_rows]:
                    tr_pr = row._tr.get_or_add_trPr()
                    header = tr_pr.makeelement(
                        "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}tblHeader",
                        {},
                    )
                    tr_pr.append(header)
    doc.save(path)


def write_xlsx(
    flow: list[object],
    path: Path,
    font_size: float = 11,
    widest: float = 14,
    landscape: bool | None = None,
    rulings: str = "full",
) -> None:
    """One sheet laid out for print as a finance office does: the flow top to bottom, each column
    as wide as its widest single cell up to ``widest`` CJK characters (longer cells wrap), rows as
    tall as their wrapped text, text lines merged across the table; A4, landscape when the table
    is wider than a portrait page (unless ``landscape`` says), scaled to print one page wide;
    tables ruled as ``rulings`` says (generate_samples.RULINGS) through each cell's borders."""
    book = Workbook()
    sheet = book.active
    sheet.title = "绩效自评"
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    font = Font(name="宋体", size=font_size)
    tables = [item for item in flow if isinstance(item, Table)]
    columns = _column_widths(tables, font_size, widest)
    span = len(columns)
    row = 1
    for item in flow:
        if isinstance(item, Text):
            last = span - 2 if item.right and span > 3 else span
            title = sheet.cell(row, 1, item.text)
            title.font = Font(name="宋体", size=font_size + (4 if row == 1 else 0), bold=row == 1)
            title.alignment = Alignment(horizontal=item.align, vertical="center")
            if last > 1:
                sheet.merge_cells(start_row=row, start_column=1, end_row=row, end_column=last)
            if item.right:
                right = sheet.cell(row, last + 1, item.right)
                right.font, right.alignment = font, Alignment(horizontal="right")
                if span > last + 1:
                    sheet.merge_cells(
                        start_row=row, start_column=last + 1, end_row=row, end_column=span
                    )
            sheet.row_dimensions[row].height = _LINE * (font_size + 4) + 4
            row += 1
        elif isinstance(item, Table):
            placed, width = place(item.rows)
            for r, c, cell in placed:
                target = sheet.cell(row + r, c + 1, _number_or_text(cell.text))
                if isinstance(target.value, str) and target.value.startswith("="):
                    target.data_type = "s"  # '=100%' typed as text, not a formula
                target.font = font
                target.alignment = Alignment(
                    horizontal=cell.align, vertical="center", wrap_text=True
                )
                if cell.rowspan > 1 or cell.colspan > 1:
                    sheet.merge_cells(
                        start_row=row + r,
                        start_column=c + 1,
                        end_row=row + r + cell.rowspan - 1,
                        end_column=c + cell.colspan,
                    )
            for r in range(len(item.rows)):
                for c in range(width):
                    sheet.cell(row + r, c + 1).border = box
            if rulings != "full":
                _xlsx_borders(
                    sheet, row, placed, cell_borders(placed, len(item.rows), width, rulings)
                )
            _fit_row_heights(sheet, row, placed, len(item.rows), columns, font_size)
            row += len(item.rows)
        elif isinstance(item, (Space, PageBreak)):
            row += 1
    for c, points in enumerate(columns):
        sheet.column_dimensions[get_column_letter(c + 1)].width = (
            points / 0.75 - 5
        ) / 7  # points → Excel units
    portrait = (A4[0] - 2 * _MARGIN * 72) - 4
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    if landscape is None:
        landscape = sum(columns) > portrait
    sheet.page_setup.orientation = "landscape" if landscape else "portrait"
    sheet.page_margins.left = sheet.page_margins.right = _MARGIN
    sheet.page_margins.top = sheet.page_margins.bottom = _MARGIN
    sheet.sheet_properties.pageSetUpPr.fitToPage = True  # print one page wide, as offices do
    sheet.page_setup.fitToWidth, sheet.page_setup.fitToHeight = 1, 0
    book.save(path)


def _xlsx_borders(
    sheet: object,
    top: int,
    placed: list[tuple[int, int, C]],
    borders: list[tuple[bool, bool, bool, bool]],
) -> None:
    """Each sheet cell of a placed cell gets the placed cell's borders on the sides it shares with
    them (the top-left one all four, as a merged area's borders are read from it)."""
    thin = Side(style="thin")
    for (r, c, cell), (left, right, up, down) in zip(placed, borders):
        for rr in range(r, r + cell.rowspan):
            for cc in range(c, c + cell.colspan):
                first = (rr, cc) == (r, c)
                sides = (
                    left and cc == c,
                    right and (cc == c + cell.colspan - 1 or first),
                    up and rr == r,
                    down and (rr == r + cell.rowspan - 1 or first),
                )
                sheet.cell(top + rr, cc + 1).border = Border(  # type: ignore[attr-defined]
                    *(thin if side else Side() for side in sides)
                )


A4 = (595.28, 841.89)  # points
_MARGIN = 0.6  # inches, each side
_LINE = 1.5  # a CJK font's line height, in ems (Noto Sans CJK: 1.45)
_PAD = 6  # points of a cell's width its text does not use


def _text_width(text: str, font_size: float) -> float:
    """Points a line of ``text`` takes: a CJK character an em, a latin one about half."""
    return sum(1.0 if ord(ch) > 0x2E80 else 0.6 for ch in text) * font_size


def _column_widths(tables: list[Table], font_size: float, widest: float) -> list[float]:
    """Each sheet column's width in points: its widest single-column cell, at most ``widest``
    CJK characters and never narrower than two."""
    widths: list[float] = []
    for table in tables:
        placed, width = place(table.rows)
        widths += [0.0] * (width - len(widths))
        for _, c, cell in placed:
            if cell.colspan == 1:
                need = max(
                    (_text_width(part, font_size) for part in cell.text.split("\n")), default=0
                )
                widths[c] = max(widths[c], min(need, widest * font_size))
    return [max(w, 2 * font_size) + _PAD for w in widths]


def _fit_row_heights(
    sheet: object,
    top: int,
    placed: list[tuple[int, int, C]],
    n_rows: int,
    columns: list[float],
    font_size: float,
) -> None:
    """Rows as tall as their wrapped text, as an office sets them before printing (a spreadsheet
    prints a row at its set height and clips what does not fit)."""
    lines = [1] * n_rows
    for r, c, cell in sorted(placed, key=lambda p: p[2].rowspan):
        room = sum(columns[c : c + cell.colspan]) - _PAD
        need = sum(
            math.ceil(_text_width(part, font_size) / room) or 1 for part in cell.text.split("\n")
        )
        have = sum(lines[r : r + cell.rowspan])
        if need > have:
            lines[r + cell.rowspan - 1] += need - have
    for r, count in enumerate(lines):
        sheet.row_dimensions[top + r].height = _LINE * font_size * count + 4  # type: ignore[attr-defined]


def _number_or_text(text: str) -> object:
    """Money and scores typed as numbers, as finance offices do; everything else as text."""
    plain = text.replace(",", "")
    try:
        number = float(plain)
    except ValueError:
        return text
    if "," in text or "." in text:
        return text if plain.count(".") > 1 else number
    return int(number) if number.is_integer() else number


def write_html(flow: list[object], path: Path, encoding: str, rulings: str = "full") -> None:
    """A CMS article page: headings and <table border=1> with rowspan/colspan; header rows in
    <thead>, which browsers repeat on every printed page. Tables not fully ruled
    (generate_samples.RULINGS) draw each cell's borders by CSS."""
    charset = "gb2312" if encoding == "gbk" else "utf-8"
    parts = [f'<html><head><meta http-equiv="Content-Type" content="text/html; charset={charset}">']
    parts.append("<title>绩效自评</title></head><body>")
    for item in flow:
        if isinstance(item, Text):
            parts.append(f"<p>{html.escape(item.text)} {html.escape(item.right)}</p>")
        elif isinstance(item, Space):
            parts.append(f'<div style="height:{item.height:.0f}pt"></div>')
        elif isinstance(item, PageBreak):
            parts.append('<div style="break-after:page"></div>')
        elif isinstance(item, Table):
            placed, width = place(item.rows)
            borders = iter(cell_borders(placed, len(item.rows), width, rulings))
            ruled = rulings == "full"
            parts.append(
                '<table border="1" cellspacing="0">' if ruled else '<table cellspacing="0">'
            )
            for r, row in enumerate(item.rows):
                if item.header_rows and r in (0, item.header_rows):  # repeated on each page
                    parts.append("<thead>" if r == 0 else "</thead><tbody>")
                cells = []
                for cell in row:
                    spans = ""
                    if cell.rowspan > 1:
                        spans += f' rowspan="{cell.rowspan}"'
                    if cell.colspan > 1:
                        spans += f' colspan="{cell.colspan}"'
                    drawn = next(borders)
                    if not ruled:
                        spans += (
                            ' style="'
                            + "".join(
                                f"border-{side}:{'1px solid #000' if draw else 'none'};"
                                for side, draw in zip(("left", "right", "top", "bottom"), drawn)
                            )
                            + '"'
                        )
                    text = "<br>".join(html.escape(line) for line in cell.text.split("\n"))
                    cells.append(f"<td{spans}>{text}</td>")
                parts.append("<tr>" + "".join(cells) + "</tr>")
            parts.append("</tbody></table>" if item.header_rows else "</table>")
    parts.append("</body></html>")
    path.write_bytes("\n".join(parts).encode(encoding))


def to_pdf_with_libreoffice(source: Path, target: Path) -> None:
    """Convert with LibreOffice headless: another producer's fonts, rulings and pagination."""
    soffice = shutil.which("soffice") or shutil.which("libreoffice")
    if soffice is None:
        raise SystemExit("LibreOffice is needed: apt-get install libreoffice-writer-nogui")
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            [soffice, f"-env:UserInstallation=file://{tmp}/profile", "--headless"]
            + ["--convert-to", "pdf", "--outdir", tmp, str(source)],
            check=True,
            capture_output=True,
            timeout=180,
        )
        shutil.move(Path(tmp) / f"{source.stem}.pdf", target)


def main() -> None:
    for name in ("docx", "xlsx", "html", "pdf_libreoffice"):
        (OUT / name).mkdir(parents=True, exist_ok=True)
    for k, sample in enumerate(samples()):
        landscape = sample.style.pagesize[0] > sample.style.pagesize[1]
        docx = OUT / "docx" / f"{sample.name}.docx"
        write_docx(sample.flow, docx, landscape)
        write_xlsx(sample.flow, OUT / "xlsx" / f"{sample.name}.xlsx")
        write_html(sample.flow, OUT / "html" / f"{sample.name}.html", "gbk" if k % 2 else "utf-8")
        to_pdf_with_libreoffice(docx, OUT / "pdf_libreoffice" / f"{sample.name}.pdf")
        print(f"{sample.name}: docx, xlsx, html, LibreOffice pdf")


if __name__ == "__main__":
    main()
