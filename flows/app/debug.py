"""``jixiao debug``: what the reader and the form parser saw on one page, as text and drawn.

As pdfplumber's ``debug_tablefinder`` does for its users, it shows a person with a new province's
file why it did or did not read: the rulings found (PDFs), the cells with their spans, the role
each column was given (by a project list's header, or by the form fields read from it), and where
each form starts and ends. PDFs and scans are drawn over the rendered page; other formats are
printed as text only.
"""

from __future__ import annotations

import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from extractors import read_document
from extractors.forms import parse_forms
from extractors.project_lists import list_columns
from extractors.values import compact, normalize_text, parse_points
from schemas.grid import Cell
from schemas.records import Form
from schemas.vocabulary import canonical_level

if TYPE_CHECKING:
    from PIL.Image import Image as PILImage

Box = tuple[float, float, float, float]
DPI = 100
# indicator field → the column role it shows (text fields compared as printed)
FIELD_ROLES = (
    ("level1", "level1"),
    ("level2", "level2"),
    ("level3", "level3"),
    ("target_text", "target"),
    ("actual_text", "actual"),
    ("weight", "weight"),
    ("score", "score"),
    ("deviation_reason", "reason"),
)
# fund line roles drawn in ASCII (the drawing uses Pillow's default font)
DRAWN_ROLES = {
    "年度资金总额": "funds:total",
    "当年财政拨款": "funds:fiscal",
    "上年结转资金": "funds:carried",
    "其他资金": "funds:other",
}
COLOURS = {"ruling": (0, 90, 255), "cell": (0, 160, 0), "role": (230, 120, 0), "form": (220, 0, 0)}


@dataclass
class FormOnPage:
    """A form that covers the page: its box there and whether it starts or ends on it."""

    form: Form
    box: Box | None
    starts: bool
    ends: bool


@dataclass
class PageView:
    """What was read on one page of a file."""

    path: Path
    page: int | None
    extractor: str
    cells: list[tuple[int, Cell]]  # (table number on the page, cell)
    roles: dict[tuple[int, int], str]  # (table number, column) → role
    role_rows: dict[tuple[int, int], int]  # where each role is labelled: its header or first cell
    forms: list[FormOnPage]
    text_lines: list[str]
    rulings: tuple[list, list] | None = None  # horizontal (y, x0, x1), vertical (x, top, bottom)
    size: tuple[float, float] | None = None  # page points
    notes: list[str] = field(default_factory=list)

    def report(self) -> str:
        """The same as the drawing, in text."""
        where = f"page {self.page}" if self.page else "the file"
        out = [f"{self.path.name}, {where} ({self.extractor} reader)"]
        if self.rulings is not None:
            hs, vs = self.rulings
            out.append(f"rulings: {len(hs)} horizontal, {len(vs)} vertical")
        tables = sorted({t for t, _ in self.cells})
        for t in tables:
            cells = [c for k, c in self.cells if k == t]
            n_rows = max(c.row + c.rowspan for c in cells)
            n_cols = max(c.col + c.colspan for c in cells)
            out.append(f"table {t}: {n_rows} rows x {n_cols} columns")
            roles = [f"{col} {role}" for (k, col), role in sorted(self.roles.items()) if k == t]
            out.append("  column roles: " + (", ".join(roles) if roles else "none found"))
            for c in cells:
                span = f" span {c.rowspan}x{c.colspan}" if (c.rowspan, c.colspan) != (1, 1) else ""
                text = compact(normalize_text(c.text))
                text = text if len(text) <= 40 else text[:39] + "…"
                out.append(f"  r{c.row} c{c.col}{span}: {text}")
        for line in self.text_lines:
            out.append(f"text: {line}")
        if not self.forms:
            out.append("forms: none on this page")
        for f in self.forms:
            form = f.form
            out.append(
                f"form {form.form_ordinal} {form.form_type} '{form.name}': pages "
                f"{form.first_page}–{form.last_page}"
                + (", starts here" if f.starts else "")
                + (", ends here" if f.ends else "")
                + f"; {len(form.indicators)} indicators, {len(form.fund_lines)} fund lines"
            )
        out += [f"note: {n}" for n in self.notes]
        return "\n".join(out)


def debug_page(path: Path, page: int | None = None) -> PageView:
    """Read ``path`` and describe ``page`` (default: the first page with a table).

    Raises ValueError for a page the file does not have, UnreadableFile for a file that cannot
    be read.
    """
    path = Path(path)
    doc = read_document(path)
    if page is not None and not 1 <= page <= (doc.pages or 0):
        held = f"has {doc.pages} pages" if doc.pages else "has no pages (its cells are all shown)"
        raise ValueError(f"--page {page}: {path.name} {held}")
    forms = parse_forms(doc)
    if doc.pages is not None and page is None:
        page = next((c.page for g in doc.grids if g.is_table for c in g.cells if c.page), 1)
    cells: list[tuple[int, Cell]] = []
    roles: dict[tuple[int, int], str] = {}
    role_rows: dict[tuple[int, int], int] = {}
    text_lines: list[str] = []
    number = 0
    for grid in doc.grids:
        on_page = [c for c in grid.cells if page is None or c.page == page]
        if not on_page:
            continue
        if not grid.is_table:
            text_lines += [normalize_text(c.text) for c in on_page if c.text.strip()]
            continue
        number += 1
        cells += [(number, c) for c in on_page]
        found = list_columns(grid)
        if found is not None:
            columns, header_row, _ = found
            for role, cols in columns.roles.items():
                roles.update({(number, col): role for col in cols})
                role_rows.update({(number, col): header_row for col in cols})
    on_page = [f for f in forms if page is None or _covers(f, page)]
    for key, (role, row) in _form_roles(cells, on_page).items():
        if key not in roles:
            roles[key], role_rows[key] = role, row
    view = PageView(
        path=path,
        page=page,
        extractor=doc.extractor,
        cells=cells,
        roles=roles,
        role_rows=role_rows,
        forms=[
            FormOnPage(f, _form_box(f, page), f.first_page == page, f.last_page == page)
            for f in on_page
        ],
        text_lines=text_lines,
        notes=[*doc.notes, *(note for grid in doc.grids for note in grid.notes)],
    )
    if page is not None and doc.extractor == "pdf":
        from extractors.pdf import page_rulings

        hs, vs, view.size = page_rulings(path, page)
        view.rulings = (hs, vs)
    return view


def _covers(form: Form, page: int) -> bool:
    return (form.first_page or 0) <= page <= (form.last_page or form.first_page or 0)


def _form_box(form: Form, page: int | None) -> Box | None:
    boxes = [i.bbox for i in form.indicators if i.page == page and i.bbox]
    boxes += [f.bbox for f in form.fund_lines if f.page == page and f.bbox]
    if form.total_page == page and form.total_bbox:
        boxes.append(form.total_bbox)
    if not boxes:
        return None
    x0s, tops, x1s, bottoms = zip(*boxes, strict=True)
    return min(x0s), min(tops), max(x1s), max(bottoms)


def _form_roles(
    cells: list[tuple[int, Cell]], forms: list[Form]
) -> dict[tuple[int, int], tuple[str, int]]:
    """The role of each column, from the indicator fields the parser read out of its cells, with
    the first row it was read from."""
    votes: dict[tuple[int, int], Counter[str]] = {}
    first_rows: dict[tuple[int, int, str], int] = {}
    for number, cell in cells:
        text = compact(normalize_text(cell.text))
        if not text:
            continue
        for form in forms:
            for indicator in form.indicators:
                if indicator.page != cell.page or not _same_rows(indicator.bbox, cell.bbox):
                    continue
                for name, role in FIELD_ROLES:
                    value = getattr(indicator, name)
                    if value is not None and _shows(text, value, name):
                        votes.setdefault((number, cell.col), Counter())[role] += 1
                        place = (number, cell.col, role)
                        first_rows[place] = min(first_rows.get(place, cell.row), cell.row)
    out = {}
    taken: set[tuple[int, str]] = set()  # (table, role): a role heads one column of a table
    for key, counter in sorted(votes.items()):
        ranked = counter.most_common()
        tied = [role for role, n in ranked if n == ranked[0][1]]  # 得分 = 分值 on every row
        role = next((r for r in tied if (key[0], r) not in taken), tied[0])
        taken.add((key[0], role))
        out[key] = (role, first_rows[(*key, role)])
    return out


def _same_rows(a: Box | None, b: Box | None) -> bool:
    return a is None or b is None or (a[1] < b[3] and b[1] < a[3])


def _shows(text: str, value: object, name: str) -> bool:
    if isinstance(value, float):
        return parse_points(text) == value
    if name in ("level1", "level2"):
        return canonical_level(text) == value
    return text == compact(str(value))


def draw_page(view: PageView, out: Path) -> Path:
    """Draw ``view`` over the rendered page into the PNG ``out``.

    Raises ValueError for a source without pages (spreadsheets, Word, HTML, text).
    """
    from PIL import ImageDraw

    image = _render(view)
    scale = DPI / 72
    draw = ImageDraw.Draw(image)
    if view.rulings is not None:
        hs, vs = view.rulings
        for y, x0, x1 in hs:
            draw.line(
                [x0 * scale, y * scale, x1 * scale, y * scale], fill=COLOURS["ruling"], width=1
            )
        for x, top, bottom in vs:
            draw.line(
                [x * scale, top * scale, x * scale, bottom * scale], fill=COLOURS["ruling"], width=1
            )
    for number, cell in view.cells:
        if cell.bbox is None:
            continue
        box = [v * scale for v in cell.bbox]
        draw.rectangle([box[0] + 2, box[1] + 2, box[2] - 2, box[3] - 2], outline=COLOURS["cell"])
        if (cell.rowspan, cell.colspan) != (1, 1):
            draw.text(
                (box[0] + 4, box[1] + 3), f"{cell.rowspan}x{cell.colspan}", fill=COLOURS["cell"]
            )
        key = (number, cell.col)
        if key in view.roles and view.role_rows.get(key) == cell.row:
            role = DRAWN_ROLES.get(view.roles[key], view.roles[key])
            draw.text((box[0] + 4, max(box[1] - 11, 0)), role, fill=COLOURS["role"])
    for f in view.forms:
        if f.box is None:
            continue
        box = [v * scale for v in f.box]
        draw.rectangle(
            [box[0] - 4, box[1] - 4, box[2] + 4, box[3] + 4], outline=COLOURS["form"], width=3
        )
        label = (
            f"form {f.form.form_ordinal}"
            + (" start" if f.starts else "")
            + (" end" if f.ends else "")
        )
        draw.text((box[0], box[3] + 6), label, fill=COLOURS["form"])
    out.parent.mkdir(parents=True, exist_ok=True)
    image.save(out)
    return out


def _render(view: PageView) -> PILImage:
    """The page as an RGB image at :data:`DPI`."""
    from PIL import Image

    if view.page is None or view.extractor not in ("pdf", "scan"):
        raise ValueError(f"{view.path.name} has no pages to draw; its cells are printed as text")
    if view.extractor == "pdf":
        import pypdfium2 as pdfium

        from extractors.pdf import PASSWORD_ENV, render_upright

        pdf = pdfium.PdfDocument(view.path, password=os.environ.get(PASSWORD_ENV) or None)
        try:
            page = pdf[view.page - 1]
            try:
                return render_upright(page, DPI / 72)
            finally:
                page.close()
        finally:
            pdf.close()
    from extractors.scan import image_dpi

    with Image.open(view.path) as im:
        im.seek(view.page - 1)
        dpi = image_dpi(im)
        factor = DPI / dpi
        return im.convert("RGB").resize((round(im.width * factor), round(im.height * factor)))


__all__ = ["PageView", "debug_page", "draw_page"]
