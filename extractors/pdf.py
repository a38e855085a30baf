"""Born-digital PDF reader: ruled tables and free text lines, read with pypdfium2.

The algorithm follows the data, one page at a time:

1. ``_page_edges``: the ruling lines, from path objects (stroked segments, thin filled rectangles),
   in display coordinates (points, origin top-left, page rotation applied).
2. ``_merge_edges``: collinear edges snapped together and joined across small gaps.
3. ``_edge_groups``: edges that touch form one table candidate.
4. ``_table_from_edges``: the candidate's lattice and which of its edges a ruling covers; the
   cells with rowspan/colspan are made by ``extractors.lattice``. Cell text from ``_PageText``: the
   characters inside the cell in visual order (lines by vertical overlap, then left to right), since
   some producers write a cell's glyphs out of order (LibreOffice puts “ ” in a later text run).
   Text an opaque picture drawn after it covers (``_painted_over_text``) is left out here and in
   the steps below: the page is read as it shows.
5. ``extractors.aligned``: the characters and horizontal rules outside those tables. A table
   whose every row is ruled but no column (horizontal rules only) gets vertical rulings where its
   text lines up and is read as in step 4, merged cells and all; text lining up as a table the
   page rules less (a frame, no rules) becomes a flat grid.
6. ``_text_lines``: text outside the tables, as lines in reading order.
7. ``extractors.stitching``: tables continued on the next page join the previous page's table
   (repeated header dropped, a row or a merged cell cut by the page break continued).
"""

from __future__ import annotations

import ctypes
import math
import os
import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c

from extractors.aligned import (
    Columns,
    aligned_tables,
    column_rulings,
    holds_columns,
    parted_at,
    rows_apart,
)
from extractors.errors import UnreadableFile
from extractors.lattice import cells_from_rulings, drop_empty_virtual_rows, lattice_from_rulings
from extractors.stitching import PageTable, TableStitcher, near_page_bottom, page_table
from schemas.grid import Cell, Document, Grid, text_block

if TYPE_CHECKING:
    import numpy as np
    from PIL.Image import Image as PILImage

    from extractors.scan import ScannedPages

PASSWORD_ENV = "JIXIAO_PDF_PASSWORD"

SNAP = 1.5  # points: edges this close to the same line are one line
JOIN = 2.5  # points: collinear edges with a gap this small are one edge
TOUCH = 2.5  # points: an edge ending this close to another touches it
THIN = 3.0  # points: a filled rectangle this thin is a ruling line
MIN_EDGE = 2.0  # points: shorter edges are dots, not rulings
VIRTUAL = 4.0  # points: rulings overshooting the outermost cross ruling by more open a row/column
MAX_EDGES = 4000  # rulings on one page beyond which it is a drawing, not tables (forms have < 100)
# An opaque image over at least this share of the page is a scan, not a picture painted over text
# the page no longer shows; text under it or drawn invisibly is its OCR layer, and the page is read
# from the image (``_ocr_reason``).
SCAN_SHARE = 0.5

_PAGE_NUMBER = re.compile(
    r"^[-—–\s]*\d{1,4}[-—–\s]*$|^第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?$|^\d+\s*/\s*\d+$"
)
_CJK_GAP = re.compile(
    r"(?<=[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef]) +"
    r"(?=[\u2e80-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef])"
)
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")


def read_pdf(path: Path, password: str | None = None) -> Document:
    """Read a born-digital PDF into grids: one per ruled table, one per run of text lines.

    ``password`` defaults to the ``JIXIAO_PDF_PASSWORD`` environment variable. Raises
    :class:`UnreadableFile` for a missing, empty, corrupt or encrypted file.
    """
    path = Path(path)
    if password is None:
        password = os.environ.get(PASSWORD_ENV) or None
    pdf = _open(path, password)
    stitcher = TableStitcher(join=_join)
    columns: list[Columns] = []  # the columns of the page before's tables ruled by rows only
    scanned: list[int] = []
    undecodable: list[int] = []  # pages whose text cannot be decoded, read by OCR
    scan_run: ScannedPages | None = None  # consecutive scanned pages, read by OCR
    turned: list[str] = []  # scanned pages read upright after a quarter or half turn
    try:
        n_pages = len(pdf)
        if n_pages == 0:
            raise UnreadableFile(f"{path.name} has no pages: re-export or re-download the PDF")
        for index in range(n_pages):
            page_no = index + 1
            try:
                page = pdf[index]
            except pdfium.PdfiumError as exc:
                raise UnreadableFile(
                    f"{path.name}: page {page_no} cannot be loaded ({exc}); the file is damaged, "
                    "download it again or re-export it"
                ) from exc
            try:
                blocks, ocr_reason, columns = _read_page(page, page_no, columns)
                scan = _render_for_ocr(page) if ocr_reason else None
                if scan is not None:  # rendered while the page is open
                    (undecodable if ocr_reason == "undecodable" else scanned).append(page_no)
                    scan_run = scan_run or _scanned_pages()
                    scan_run.add(scan[0], page_no, scan[1], _finer_render(page, scan[1]))
            finally:
                page.close()
            if scan is not None:
                continue
            if scan_run is not None:
                stitcher.add_grids(scan_run.grids())
                turned += scan_run.notes
                scan_run = None
            stitcher.add_page(page_no, blocks)
        if scan_run is not None:
            stitcher.add_grids(scan_run.grids())
            turned += scan_run.notes
    finally:
        pdf.close()
    grids = stitcher.grids()
    notes = []
    if scanned:
        notes.append(
            f"{len(scanned)} page(s) have no text layer (scanned?), read by OCR: "
            + ", ".join(map(str, scanned))
        )
    if undecodable:
        notes.append(
            f"{len(undecodable)} page(s) print text in fonts without a Unicode map (it cannot be "
            "decoded), read by OCR: " + ", ".join(map(str, undecodable))
        )
    notes += turned
    return Document(
        grids=grids,
        pages=n_pages,
        extractor="pdf",
        n_tables=sum(g.is_table for g in grids),
        scanned_pages=sorted(scanned + undecodable),
        notes=notes,
    )


def page_rulings(
    path: Path, page_no: int, password: str | None = None
) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]], tuple[float, float]]:
    """The ruling lines the reader finds on one page (1-based), merged as for its tables:
    horizontal (y, x0, x1) and vertical (x, top, bottom) in page points, and the page size."""
    pdf = _open(Path(path), password or os.environ.get(PASSWORD_ENV) or None)
    try:
        page = pdf[page_no - 1]
        try:
            textpage = page.get_textpage()
            try:
                frame = _Frame(page, textpage)
            finally:
                textpage.close()
            hs, vs, _ = _page_edges(page, frame)
        finally:
            page.close()
    finally:
        pdf.close()
    width, height = frame.x1 - frame.x0, frame.y1 - frame.y0
    if frame.rotation in (90, 270):
        width, height = height, width
    return _merge_edges(hs), _merge_edges(vs), (width, height)


# --- scanned pages: no text layer, read by OCR (extractors.scan) -------------------------------

SCAN_DPI = 200
FINE_SCAN_DPI = 400  # the finest a scanned page's image is rendered at for small print
SCAN_MIN_CHARS = 10  # a page with an image and fewer text characters than this is a scan
UNDECODABLE_SAMPLE = 400  # characters of a page looked at to tell whether its text decodes
TURN_SAMPLE = 200  # characters of a page looked at to tell which way up its text is drawn
TURN_SHARE = 0.6  # the share of them drawn at one angle that turns the page to read it
_BLANK_CODES = (0x09, 0x0A, 0x0D, 0x20)  # tab, line breaks, space: no glyph to judge by


def _ocr_reason(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage, has_image: bool) -> str | None:
    """Why the page's text cannot be read from its text layer ('scanned', 'undecodable'), or None.

    A scan shows no text of its own. One with a text layer (a searchable PDF: the scanner's OCR
    text drawn invisibly, or under the page's image) is read from its image too: that layer's
    quality is unknown, and the table's rulings are only in the image. Text in fonts without a
    Unicode map decodes to control codes or private-use characters: the page is read as it shows.
    """
    if textpage.count_chars() < SCAN_MIN_CHARS:
        return "scanned" if has_image else None
    if has_image and _shown_chars(page, textpage) < SCAN_MIN_CHARS:
        return "scanned"
    return "undecodable" if _undecodable(textpage) else None


def _render_for_ocr(page: pdfium.PdfPage) -> tuple[np.ndarray, int]:
    """The page rendered (RGB) for OCR, with its dpi."""
    from extractors.scan import MAX_PIXELS

    width, height = page.get_size()
    dpi = min(SCAN_DPI, int((MAX_PIXELS / max(width * height, 1)) ** 0.5 * 72))
    return page.render(scale=dpi / 72, rev_byteorder=True).to_numpy(), dpi  # RGB


def _undecodable(textpage: pdfium.PdfTextPage) -> bool:
    """Whether most of the page's characters (a sample of them) decode to control codes, U+FFFD
    or private-use code points: glyph codes of a font without a Unicode map."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    step = max(1, count // UNDECODABLE_SAMPLE)
    bad = total = 0
    for i in range(0, count, step):
        code = pdfium_c.FPDFText_GetUnicode(raw, i)
        if code in _BLANK_CODES or pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
            continue
        total += 1
        bad += code < 0x20 or code == 0xFFFD or 0xE000 <= code <= 0xF8FF
    return total >= SCAN_MIN_CHARS and bad > total / 2


def _shown_chars(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> int:
    """How many characters the page shows, where an opaque image covers at least ``SCAN_SHARE``
    of it (a scan): text not drawn invisibly (render mode 3) nor under such an image drawn after
    it. A page without such an image shows all its text."""
    width, height = page.get_size()

    def scan_image(obj: pdfium.PdfObject) -> bool:
        return _page_share(obj.get_bounds(), width, height) >= SCAN_SHARE and not (
            pdfium_c.FPDFPageObj_HasTransparency(obj.raw)
        )

    images = page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2)
    if not any(scan_image(obj) for obj in images):
        return textpage.count_chars()
    shown: list[tuple[tuple[float, float, float, float], int]] = []  # box, characters
    for obj in page.get_objects(
        filter=[pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2
    ):
        box = obj.get_bounds()
        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj.raw)
            if mode != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE:
                length = pdfium_c.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
                shown.append((box, max(length // 2 - 1, 0)))  # UTF-16 bytes with a terminator
        elif scan_image(obj):
            shown = [
                (b, n)
                for b, n in shown
                if not (box[0] <= b[0] and b[2] <= box[2] and box[1] <= b[1] and b[3] <= box[3])
            ]
    return sum(n for _, n in shown)


def _page_share(box: tuple[float, float, float, float], width: float, height: float) -> float:
    """The share of a ``width`` × ``height`` page a box (left, bottom, right, top) covers."""
    covered = (min(box[2], width) - max(box[0], 0)) * (min(box[3], height) - max(box[1], 0))
    return covered / max(width * height, 1e-6)


def _finer_render(page: pdfium.PdfPage, dpi: int) -> Callable[[], tuple[np.ndarray, int]] | None:
    """The scanned page rendered at the resolution of the image it holds (at most
    ``FINE_SCAN_DPI``), what small print is read from, when that is finer than ``dpi``; else
    None. Rendered now, while the page is open: the page is read on another thread, and pdfium
    may be called from one thread only."""
    from extractors.scan import FINER, MAX_PIXELS, WORK_DPI

    width, height = page.get_size()
    native = SCAN_DPI
    for obj in page.get_objects(filter=[pdfium_c.FPDF_PAGEOBJ_IMAGE], max_depth=2):
        left, _, right, _ = obj.get_bounds()
        if right - left >= width / 2:  # the scan, not a logo
            native = max(native, round(obj.get_px_size()[0] * 72 / (right - left)))
    cap = int((MAX_PIXELS / max(width * height, 1)) ** 0.5 * 72)
    finest = min(native, FINE_SCAN_DPI, cap)
    if finest <= dpi or finest < FINER * WORK_DPI:  # no finer copy the reader would use
        return None
    fine = page.render(scale=finest / 72, rev_byteorder=True).to_numpy(), finest
    return lambda: fine


def _scanned_pages() -> ScannedPages:
    """A run of scanned pages: tables continued from one to the next are joined by the reader."""
    from extractors.scan import ScannedPages  # OpenCV and OCR: only when a page needs them

    return ScannedPages()


def _open(path: Path, password: str | None) -> pdfium.PdfDocument:
    if not path.is_file():
        raise UnreadableFile(f"{path} does not exist or is not a file")
    if path.stat().st_size == 0:
        raise UnreadableFile(f"{path.name} is empty (0 bytes): download it again")
    try:
        return pdfium.PdfDocument(path, password=password)
    except pdfium.PdfiumError as exc:
        code = getattr(exc, "err_code", None)
        if code == pdfium_c.FPDF_ERR_PASSWORD:
            if password:
                raise UnreadableFile(
                    f"{path.name} is encrypted and the password given is wrong; set "
                    f"{PASSWORD_ENV} to the document's password"
                ) from exc
            raise UnreadableFile(
                f"{path.name} is encrypted: it needs a password; set {PASSWORD_ENV} to the "
                "document's password, or ask the publisher for an unprotected copy"
            ) from exc
        if code == pdfium_c.FPDF_ERR_SECURITY:
            raise UnreadableFile(
                f"{path.name} uses an unsupported security handler: ask the publisher for an "
                "unprotected copy"
            ) from exc
        with path.open("rb") as fh:
            head = fh.read(1024)
            fh.seek(max(path.stat().st_size - 2048, 0))
            tail = fh.read()
        if b"%PDF" not in head:
            raise UnreadableFile(
                f"{path.name} is not a PDF (no %PDF header): check the file type or the download"
            ) from exc
        if b"%%EOF" not in tail:
            raise UnreadableFile(
                f"{path.name} is a truncated PDF (no %%EOF end marker): the download was probably "
                "cut off; download it again"
            ) from exc
        raise UnreadableFile(
            f"{path.name} is a corrupt or truncated PDF ({exc}): download it again or re-export it"
        ) from exc


# --- one page ---------------------------------------------------------------------------------


def text_rotation(page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> int:
    """The clockwise rotation (0, 90, 180 or 270 degrees) at which the page's text reads upright,
    from the angle most of a sample of its characters are drawn at; the page's own rotation when
    no angle prevails. A producer may draw a landscape table turned on a portrait page."""
    raw = textpage.raw
    count = pdfium_c.FPDFText_CountChars(raw)
    turns: dict[int, int] = {}
    for i in range(0, count, max(1, count // TURN_SAMPLE)):
        if pdfium_c.FPDFText_GetUnicode(raw, i) in _BLANK_CODES:
            continue
        angle = pdfium_c.FPDFText_GetCharAngle(raw, i)  # clockwise in user space; -1: unknown
        if angle >= 0:
            turn = (360 - round(math.degrees(angle) / 90) * 90) % 360
            turns[turn] = turns.get(turn, 0) + 1
    if turns:
        turn, n = max(turns.items(), key=lambda item: item[1])
        if n >= TURN_SHARE * sum(turns.values()):
            return turn
    return page.get_rotation() % 360


def render_upright(page: pdfium.PdfPage, scale: float) -> PILImage:
    """The page as an RGB image at ``scale`` (pixels a point), turned as the reader reads it
    (:func:`text_rotation`), so the reader's cell boxes fall on it."""
    textpage = page.get_textpage()
    try:
        turn = (text_rotation(page, textpage) - page.get_rotation()) % 360
    finally:
        textpage.close()
    return page.render(scale=scale, rotation=turn).to_pil().convert("RGB")


class _Frame:
    """Converts between PDF user space and display space (top-down, turned so the text reads
    upright: :func:`text_rotation`)."""

    def __init__(self, page: pdfium.PdfPage, textpage: pdfium.PdfTextPage) -> None:
        self.x0, self.y0, self.x1, self.y1 = page.get_mediabox()
        self.rotation = text_rotation(page, textpage)
        w, h = self.x1 - self.x0, self.y1 - self.y0
        self.height = w if self.rotation in (90, 270) else h

    def to_display(self, x: float, y: float) -> tuple[float, float]:
        r = self.rotation
        if r == 90:
            return y - self.y0, x - self.x0
        if r == 180:
            return self.x1 - x, y - self.y0
        if r == 270:
            return self.y1 - y, self.x1 - x
        return x - self.x0, self.y1 - y

    def to_user(self, dx: float, dy: float) -> tuple[float, float]:
        r = self.rotation
        if r == 90:
            return dy + self.x0, dx + self.y0
        if r == 180:
            return self.x1 - dx, dy + self.y0
        if r == 270:
            return self.x1 - dy, self.y1 - dx
        return dx + self.x0, self.y1 - dy

    def user_rect(
        self, x0: float, top: float, x1: float, bottom: float
    ) -> tuple[float, float, float, float]:
        """Display rectangle → (left, bottom, right, top) in user space."""
        ax, ay = self.to_user(x0, top)
        bx, by = self.to_user(x1, bottom)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)

    def display_rect(
        self, left: float, bottom: float, right: float, top: float
    ) -> tuple[float, float, float, float]:
        """User rectangle → (x0, top, x1, bottom) in display space."""
        ax, ay = self.to_display(left, bottom)
        bx, by = self.to_display(right, top)
        return min(ax, bx), min(ay, by), max(ax, bx), max(ay, by)


def _read_page(
    page: pdfium.PdfPage, page_no: int, columns_before: list[Columns]
) -> tuple[list[Grid | PageTable], str | None, list[Columns]]:
    """Tables and text-line runs of one page in reading order, why its text is to be read by OCR
    (:func:`_ocr_reason`; None: from its text layer), and the columns of its tables ruled by rows
    only (``columns_before``: the page before's)."""
    textpage = page.get_textpage()
    try:
        frame = _Frame(page, textpage)
        h_raw, v_raw, has_image = _page_edges(page, frame)
        ocr_reason = _ocr_reason(page, textpage, has_image)
        if textpage.count_chars() == 0:
            return [], ocr_reason, []
        hs = _merge_edges(h_raw)
        vs = _merge_edges(v_raw)
        if len(hs) + len(vs) > MAX_EDGES:  # pairing them all would take minutes
            hs, vs = [], []
        tables: list[tuple[PageTable | Grid, tuple[float, float, float, float]]] = []
        hidden = _painted_over_text(page)
        page_text = _PageText(textpage, frame, set(hidden))
        for group_h, group_v in _edge_groups(hs, vs):
            table = _table_from_edges(group_h, group_v, page_text, page_no)
            if table is not None:
                tables.append(table)
        boxes = [bbox for _, bbox in tables]
        columns = []
        for group_h, group_v, table_columns, seen in column_rulings(
            [c for c in page_text.chars if not _in_any(c[2], c[0], c[3], c[1], boxes)],
            [h for h in hs if not _in_any(h[1], h[0], h[2], h[0], boxes)],
            columns_before,
        ):
            columns.append(table_columns)
            table = _table_from_edges(group_h, group_v, page_text, page_no, seen)
            if table is not None:
                tables.append(table)
        boxes = [bbox for _, bbox in tables]
        tables += aligned_tables(
            [c for c in page_text.chars if not _in_any(c[2], c[0], c[3], c[1], boxes)],
            [h for h in hs if not _in_any(h[1], h[0], h[2], h[0], boxes)],
            page_no,
            _join,
        )
        boxes = [bbox for _, bbox in tables]
        painted = [frame.display_rect(*box) for box in hidden.values()]
        lines = _text_lines(textpage, frame, boxes, (page_text, painted) if hidden else None)
    finally:
        textpage.close()
    # reading order: tables and text lines by their top; lines between two tables form one block
    order = sorted(
        [(bbox[1], 1, i) for i, (_, bbox) in enumerate(tables)]
        + [(top, 0, i) for i, (top, _) in enumerate(lines)]
    )
    blocks: list[PageTable | Grid | list[str]] = []
    for _, is_table, i in order:
        if is_table:
            blocks.append(tables[i][0])
        elif blocks and isinstance(blocks[-1], list):
            blocks[-1].append(lines[i][1])
        else:
            blocks.append([lines[i][1]])
    out: list[Grid | PageTable] = [
        text_block(b, page=page_no, source="pdf") if isinstance(b, list) else b for b in blocks
    ]
    return out, ocr_reason, columns


# --- ruling lines -----------------------------------------------------------------------------

_Matrix = tuple[float, float, float, float, float, float]
_IDENTITY: _Matrix = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _compose(inner: _Matrix, outer: _Matrix) -> _Matrix:
    a, b, c, d, e, f = inner
    A, B, C, D, E, F = outer  # noqa: N806
    return (
        a * A + b * C,
        a * B + b * D,
        c * A + d * C,
        c * B + d * D,
        e * A + f * C + E,
        e * B + f * D + F,
    )


def _apply(m: _Matrix, x: float, y: float) -> tuple[float, float]:
    return m[0] * x + m[2] * y + m[4], m[1] * x + m[3] * y + m[5]


def _page_objects(page: pdfium.PdfPage) -> Iterator[tuple[object, int, _Matrix]]:
    """(raw object, type, matrix of its container to page space), Form XObjects descended."""
    stack: list[tuple[object | None, _Matrix, int]] = [(None, _IDENTITY, 0)]
    fs_matrix = pdfium_c.FS_MATRIX()
    while stack:
        form, ctm, depth = stack.pop()
        if form is None:
            count = pdfium_c.FPDFPage_CountObjects(page)
        else:
            count = pdfium_c.FPDFFormObj_CountObjects(form)
        for i in range(max(count, 0)):
            obj = (
                pdfium_c.FPDFPage_GetObject(page, i)
                if form is None
                else pdfium_c.FPDFFormObj_GetObject(form, i)
            )
            if not obj:
                continue
            kind = pdfium_c.FPDFPageObj_GetType(obj)
            if kind == pdfium_c.FPDF_PAGEOBJ_FORM and depth < 8:
                if pdfium_c.FPDFPageObj_GetMatrix(obj, fs_matrix):
                    m = fs_matrix
                    inner = (m.a, m.b, m.c, m.d, m.e, m.f)
                    stack.append((obj, _compose(inner, ctm), depth + 1))
                continue
            yield obj, kind, ctm


def _page_edges(
    page: pdfium.PdfPage, frame: _Frame
) -> tuple[list[tuple[float, float, float]], list[tuple[float, float, float]], bool]:
    """Horizontal (y, x0, x1) and vertical (x, top, bottom) rulings in display space."""
    hs: list[tuple[float, float, float]] = []
    vs: list[tuple[float, float, float]] = []
    has_image = False
    left, bottom, right, top = (
        ctypes.c_float(),
        ctypes.c_float(),
        ctypes.c_float(),
        ctypes.c_float(),
    )
    fillmode, stroke = ctypes.c_int(), ctypes.c_int()
    fs_matrix = pdfium_c.FS_MATRIX()
    px, py = ctypes.c_float(), ctypes.c_float()

    def add(x0: float, y0: float, x1: float, y1: float) -> None:
        ax, ay = frame.to_display(x0, y0)
        bx, by = frame.to_display(x1, y1)
        if abs(ay - by) <= 0.5 and abs(ax - bx) >= MIN_EDGE:
            hs.append(((ay + by) / 2, min(ax, bx), max(ax, bx)))
        elif abs(ax - bx) <= 0.5 and abs(ay - by) >= MIN_EDGE:
            vs.append(((ax + bx) / 2, min(ay, by), max(ay, by)))

    def add_thin(x0: float, y0: float, x1: float, y1: float) -> None:
        """A thin filled rectangle (user-space corners) as its centre line."""
        if x1 - x0 <= y1 - y0:
            xm = (x0 + x1) / 2
            add(xm, y0, xm, y1)
        else:
            ym = (y0 + y1) / 2
            add(x0, ym, x1, ym)

    for obj, kind, ctm in _page_objects(page):
        if kind == pdfium_c.FPDF_PAGEOBJ_IMAGE:
            has_image = True
            continue
        if kind != pdfium_c.FPDF_PAGEOBJ_PATH:
            continue
        if not pdfium_c.FPDFPath_GetDrawMode(obj, fillmode, stroke):
            continue
        stroked, filled = bool(stroke.value), fillmode.value != 0
        if not (stroked or filled):
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            continue
        bx0, by0 = _apply(ctm, left.value, bottom.value)
        bx1, by1 = _apply(ctm, right.value, top.value)
        bx0, bx1 = min(bx0, bx1), max(bx0, bx1)
        by0, by1 = min(by0, by1), max(by0, by1)
        if min(bx1 - bx0, by1 - by0) <= THIN:
            add_thin(bx0, by0, bx1, by1)  # a line, or a thin rectangle: one ruling either way
            continue
        # A larger path: its straight axis-parallel segments (stroked) or thin subpaths (filled).
        if not pdfium_c.FPDFPageObj_GetMatrix(obj, fs_matrix):
            continue
        m = _compose(
            (fs_matrix.a, fs_matrix.b, fs_matrix.c, fs_matrix.d, fs_matrix.e, fs_matrix.f), ctm
        )
        subpaths: list[list[tuple[float, float]]] = []
        n_segments = pdfium_c.FPDFPath_CountSegments(obj)
        for s in range(max(n_segments, 0)):
            seg = pdfium_c.FPDFPath_GetPathSegment(obj, s)
            if not seg or not pdfium_c.FPDFPathSegment_GetPoint(seg, px, py):
                continue
            point = _apply(m, px.value, py.value)
            kind_s = pdfium_c.FPDFPathSegment_GetType(seg)
            if kind_s == pdfium_c.FPDF_SEGMENT_MOVETO or not subpaths:
                subpaths.append([point])
            elif kind_s == pdfium_c.FPDF_SEGMENT_BEZIERTO:
                subpaths.append([point])  # curves are not rulings: restart after them
            else:
                subpaths[-1].append(point)
            if pdfium_c.FPDFPathSegment_GetClose(seg) and len(subpaths[-1]) > 1:
                subpaths[-1].append(subpaths[-1][0])
        for points in subpaths:
            if stroked:
                for (ax, ay), (bx, by) in zip(points, points[1:]):
                    add(ax, ay, bx, by)
            elif len(points) >= 4:
                xs = [p[0] for p in points]
                ys = [p[1] for p in points]
                if min(max(xs) - min(xs), max(ys) - min(ys)) <= THIN:
                    add_thin(min(xs), min(ys), max(xs), max(ys))
    return hs, vs, has_image


def _merge_edges(edges: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Snap edges on (nearly) the same line together and join overlapping or near pieces."""
    merged: list[tuple[float, float, float]] = []
    edges = sorted(edges)
    i = 0
    while i < len(edges):
        j = i + 1
        while j < len(edges) and edges[j][0] - edges[j - 1][0] <= SNAP:
            j += 1
        cluster = edges[i:j]
        pos = sum(e[0] for e in cluster) / len(cluster)
        spans = sorted((e[1], e[2]) for e in cluster)
        start, end = spans[0]
        for s, e in spans[1:]:
            if s <= end + JOIN:
                end = max(end, e)
            else:
                merged.append((pos, start, end))
                start, end = s, e
        merged.append((pos, start, end))
        i = j
    return merged


def _edge_groups(
    hs: list[tuple[float, float, float]], vs: list[tuple[float, float, float]]
) -> list[tuple[list[tuple[float, float, float]], list[tuple[float, float, float]]]]:
    """Connected sets of touching horizontal and vertical edges (table candidates)."""
    parent = list(range(len(hs) + len(vs)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for i, (y, x0, x1) in enumerate(hs):
        for j, (x, t, b) in enumerate(vs):
            if x0 - TOUCH <= x <= x1 + TOUCH and t - TOUCH <= y <= b + TOUCH:
                parent[find(i)] = find(len(hs) + j)
    groups: dict[int, tuple[list, list]] = {}
    for i, h in enumerate(hs):
        groups.setdefault(find(i), ([], []))[0].append(h)
    for j, v in enumerate(vs):
        groups.setdefault(find(len(hs) + j), ([], []))[1].append(v)
    return [g for g in groups.values() if g[0] and g[1] and len(g[0]) + len(g[1]) >= 3]


def _covered(
    lines: dict[int, list[tuple[float, float]]], index: int, start: float, end: float
) -> bool:
    """Whether a ruling at lattice line ``index`` covers [start, end]."""
    for s, e in lines.get(index, ()):
        if s <= start + TOUCH and e >= end - TOUCH:
            return True
    return False


def _nearest(positions: list[float], value: float) -> int | None:
    best = min(range(len(positions)), key=lambda i: abs(positions[i] - value))
    return best if abs(positions[best] - value) <= SNAP * 2 else None


def _table_from_edges(
    hs: list[tuple[float, float, float]],
    vs: list[tuple[float, float, float]],
    page_text: _PageText,
    page_no: int,
    row_spans_seen: bool = True,
) -> tuple[PageTable, tuple[float, float, float, float]] | None:
    """One table candidate as a page table (cells from ``extractors.lattice``), with its bbox."""
    lattice = lattice_from_rulings(hs, vs, SNAP * 2, VIRTUAL)
    if lattice is None:
        return None
    xs, ys, n_rows, n_cols = lattice.xs, lattice.ys, lattice.n_rows, lattice.n_cols

    h_at: dict[int, list[tuple[float, float]]] = {}
    for y, x0, x1 in hs:
        k = _nearest(ys, y)
        if k is not None:
            h_at.setdefault(k, []).append((x0, x1))
    v_at: dict[int, list[tuple[float, float]]] = {}
    for x, t, b in vs:
        k = _nearest(xs, x)
        if k is not None:
            v_at.setdefault(k, []).append((t, b))
    h_rule = [
        [_covered(h_at, r, xs[c], xs[c + 1]) for c in range(n_cols)] for r in range(n_rows + 1)
    ]
    v_rule = [
        [_covered(v_at, c, ys[r], ys[r + 1]) for c in range(n_cols + 1)] for r in range(n_rows)
    ]
    cells = cells_from_rulings(xs, ys, h_rule, v_rule)
    stacked = [
        c
        for c in cells
        if c.rowspan > 1
        and rows_apart(page_text.chars_in(_shrink(c.bbox)), ys[c.row : c.row + c.rowspan + 1])
    ]
    for c in stacked:  # rows the page did not rule apart in this block: ruled as their lines are
        for r in range(c.row + 1, c.row + c.rowspan):
            for col in range(c.col, c.col + c.colspan):
                h_rule[r][col] = True
    if stacked:
        cells = cells_from_rulings(xs, ys, h_rule, v_rule)
    columned = False
    for c in cells:  # a block whose inner verticals were left out: the lattice's go on
        if c.colspan == 1:
            continue
        chars = page_text.chars_in(_shrink(c.bbox))
        for r in range(c.row, c.row + c.rowspan):
            inner = xs[c.col + 1 : c.col + c.colspan]
            for k, apart in enumerate(parted_at(chars, inner, ys[r], ys[r + 1])):
                columned = columned or apart
                v_rule[r][c.col + 1 + k] = v_rule[r][c.col + 1 + k] or apart
    if columned:
        cells = cells_from_rulings(xs, ys, h_rule, v_rule)
    chars = {id(c): page_text.chars_in(_shrink(c.bbox)) for c in cells}
    if any(holds_columns(chars[id(c)]) for c in cells):
        return None  # its columns are not ruled: read by where its text lines up
    text = {id(c): page_text.text_of(chars[id(c)]) for c in cells}
    cells = drop_empty_virtual_rows(cells, lattice, lambda c: not text[id(c)])
    if len(cells) < 2:
        return None  # a frame or a box around text, not a table
    bbox = (
        min(c.bbox[0] for c in cells),
        min(c.bbox[1] for c in cells),
        max(c.bbox[2] for c in cells),
        max(c.bbox[3] for c in cells),
    )
    parts = [
        (
            c,
            Cell(
                row=c.row,
                col=c.col,
                text=text[id(c)],
                rowspan=c.rowspan,
                colspan=c.colspan,
                page=page_no,
                bbox=tuple(round(v, 2) for v in c.bbox),  # type: ignore[arg-type]
            ),
        )
        for c in cells
    ]
    reaches_bottom = near_page_bottom(bbox[3], page_text.frame.height)
    return page_table(parts, xs, page_no, "pdf", reaches_bottom, row_spans_seen), bbox


def _in_any(
    x0: float, top: float, x1: float, bottom: float, boxes: list[tuple[float, float, float, float]]
) -> bool:
    """Whether the middle of a box lies in any of ``boxes`` (with a ruling's tolerance)."""
    cx, cy = (x0 + x1) / 2, (top + bottom) / 2
    return any(
        b[0] - TOUCH <= cx <= b[2] + TOUCH and b[1] - TOUCH <= cy <= b[3] + TOUCH for b in boxes
    )


def _shrink(bbox: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    x0, top, x1, bottom = bbox
    dx = min(1.0, (x1 - x0) / 4)
    dy = min(1.0, (bottom - top) / 4)
    return x0 + dx, top + dy, x1 - dx, bottom - dy


# --- text -------------------------------------------------------------------------------------


def _address(obj: object) -> int | None:
    return ctypes.cast(obj, ctypes.c_void_p).value


def _painted_over_text(page: pdfium.PdfPage) -> dict[int, tuple[float, float, float, float]]:
    """The text objects an opaque image drawn after them covers, by address, with their boxes in
    user space: text the file holds but the page does not show, as a first copy of a title under
    a picture. Objects of the page's own content only, in drawing order."""
    left, bottom, right, top = (ctypes.c_float() for _ in range(4))
    texts: list[tuple[int | None, tuple[float, float, float, float]]] = []
    hidden: dict[int, tuple[float, float, float, float]] = {}
    width, height = page.get_size()
    for i in range(pdfium_c.FPDFPage_CountObjects(page)):
        obj = pdfium_c.FPDFPage_GetObject(page, i)
        kind = pdfium_c.FPDFPageObj_GetType(obj)
        if kind not in (pdfium_c.FPDF_PAGEOBJ_TEXT, pdfium_c.FPDF_PAGEOBJ_IMAGE):
            continue
        if not pdfium_c.FPDFPageObj_GetBounds(obj, left, bottom, right, top):
            continue
        box = (left.value, bottom.value, right.value, top.value)
        if kind == pdfium_c.FPDF_PAGEOBJ_TEXT:
            texts.append((_address(obj), box))
            continue
        if pdfium_c.FPDFPageObj_HasTransparency(obj) or _page_share(box, width, height) >= (
            SCAN_SHARE
        ):
            continue
        hidden |= {
            address: (x0, y0, x1, y1)
            for address, (x0, y0, x1, y1) in texts
            if address and box[0] <= x0 and x1 <= box[2] and box[1] <= y0 and y1 <= box[3]
        }
    return hidden


class _PageText:
    """A page's characters with their boxes (display space), for reading cells in visual order."""

    def __init__(
        self, textpage: pdfium.PdfTextPage, frame: _Frame, hidden: set[int] | None = None
    ) -> None:
        """``hidden``: the text objects (addresses) the page paints over, left out."""
        self.frame = frame
        raw = textpage.raw
        rect = pdfium_c.FS_RECTF()
        chars: list[tuple[float, float, float, float, str]] = []  # top, bottom, x0, x1, char
        for i in range(pdfium_c.FPDFText_CountChars(raw)):
            if pdfium_c.FPDFText_IsGenerated(raw, i) == 1:
                continue
            if hidden and _address(pdfium_c.FPDFText_GetTextObject(raw, i)) in hidden:
                continue
            code = pdfium_c.FPDFText_GetUnicode(raw, i)
            if (
                not code
                or code in (0xFFFE, 0xFFFF)
                or not pdfium_c.FPDFText_GetLooseCharBox(raw, i, ctypes.byref(rect))
            ):
                continue
            x0, top, x1, bottom = frame.display_rect(rect.left, rect.bottom, rect.right, rect.top)
            chars.append((top, bottom, x0, x1, chr(code)))
        chars.sort(key=lambda c: (c[0] + c[1]) / 2)
        self.chars = chars
        self.middles = [(c[0] + c[1]) / 2 for c in chars]

    def chars_in(
        self, bbox: tuple[float, float, float, float]
    ) -> list[tuple[float, float, float, float, str]]:
        """The characters whose centres lie in ``bbox``."""
        x0, top, x1, bottom = bbox
        lo, hi = bisect_left(self.middles, top), bisect_right(self.middles, bottom)
        return [c for c in self.chars[lo:hi] if x0 <= (c[2] + c[3]) / 2 <= x1]

    def inside(self, bbox: tuple[float, float, float, float]) -> str:
        """The text whose characters' centres lie in ``bbox``, line by line, left to right."""
        return self.text_of(self.chars_in(bbox))

    def text_of(self, picked: list[tuple[float, float, float, float, str]]) -> str:
        """The text of ``picked`` characters, line by line, left to right."""
        lines: list[list[tuple[float, float, float, float, str]]] = []
        for char in sorted(picked, key=lambda c: c[0]):
            line = lines[-1] if lines else None
            if line is not None:
                band_top, band_bottom = min(c[0] for c in line), max(c[1] for c in line)
                overlap = min(band_bottom, char[1]) - max(band_top, char[0])
                if overlap >= 0.5 * min(band_bottom - band_top, char[1] - char[0]):
                    line.append(char)
                    continue
            lines.append([char])
        text = []
        for line in lines:
            line.sort(key=lambda c: c[2])
            out, previous = "", None
            for char in line:
                if previous is not None and char[2] - previous[3] > 0.3 * (char[1] - char[0]):
                    out += " "
                out += char[4]
                previous = char
            text.append(out)
        return _clean("\n".join(text))


def _join(a: str, b: str) -> str:
    """Join two pieces of wrapped text: a space only between latin words."""
    if not a or not b:
        return a or b
    if a[-1].isascii() and a[-1].isalnum() and b[0].isascii() and b[0].isalnum():
        if not (a[-1].isdigit() and b[0].isdigit()):
            return f"{a} {b}"
    return a + b


def _clean(text: str) -> str:
    """Normalise the whitespace of a cell's text and join its wrapped lines."""
    text = _CONTROL.sub("", text)
    out = ""
    for line in re.split(r"[\r\n]+", text):
        line = _CJK_GAP.sub("", " ".join(line.split()))
        out = _join(out, line)
    return out


def _text_lines(
    textpage: pdfium.PdfTextPage,
    frame: _Frame,
    table_boxes: list[tuple[float, float, float, float]],
    painted: tuple[_PageText, list[tuple[float, float, float, float]]] | None = None,
) -> list[tuple[float, str]]:
    """Text lines outside the tables as (top, text), top to bottom; page numbers left out. On a
    page that paints over some of its text (``painted``: the visible characters, and the boxes
    of the text painted over), the runs in those boxes are left out and the others read from the
    visible characters only."""
    runs = []
    for i in range(textpage.count_rects()):
        x0, top, x1, bottom = frame.display_rect(*textpage.get_rect(i))
        if bottom - top < 1:  # glyphs without a box (a font that is not embedded)
            top, bottom = top - 3, bottom + 3
        cx, cy = (x0 + x1) / 2, (top + bottom) / 2
        hidden_boxes = painted[1] if painted else []
        if any(b[0] <= cx <= b[2] and b[1] <= cy <= b[3] for b in [*table_boxes, *hidden_boxes]):
            continue
        if (
            painted is not None
        ):  # a run's box is the glyphs' ink: a full-width '（' centres left of it
            pad = (bottom - top) / 2
            text = painted[0].inside((x0 - pad, top, x1 + pad, bottom))
        else:
            text = _clean(textpage.get_text_bounded(*frame.user_rect(x0, top, x1, bottom)))
        if text:
            runs.append((top, bottom, x0, x1, text))
    runs.sort(key=lambda r: (r[0], r[2]))
    lines: list[list[tuple[float, float, float, float, str]]] = []
    bands: list[list[float]] = []  # vertical extent of each line
    for run in runs:
        for band, line in zip(bands, lines):
            overlap = min(band[1], run[1]) - max(band[0], run[0])
            if overlap >= 0.5 * min(band[1] - band[0], run[1] - run[0]):
                line.append(run)
                band[0], band[1] = min(band[0], run[0]), max(band[1], run[1])
                break
        else:
            lines.append([run])
            bands.append([run[0], run[1]])
    out = []
    for band, line in zip(bands, lines):
        line.sort(key=lambda r: r[2])
        text = line[0][4]
        for prev, run in zip(line, line[1:]):
            gap = run[2] - prev[3]
            text += (" " if gap > band[1] - band[0] else "") + run[4]
        if not _PAGE_NUMBER.match(text):
            out.append((band[0], text))
    out.sort()
    return out
