"""Scanned pages (PNG/JPEG/TIFF, or PDF pages without a text layer) → grids, by OpenCV and OCR.

The table is found from its ruling lines before any text is read, so OCR only recognises short
line crops (fast) instead of detecting text over the whole page:

1. ``_prepare``: grey (a red seal faded out), resampled to 200 dpi, median-filtered if speckled,
   deskewed by the angle of the long horizontal rulings.
2. ``_rulings``: adaptive binarisation, then morphological opening with long horizontal/vertical
   kernels leaves the ruling lines; their connected components are the ruling segments, kept
   when they meet a ruling of the other direction (a long text stroke meets none).
3. ``_tables``: touching rulings form a table; the rulings' positions are the lattice, and lattice
   slots not separated by a ruling merge into one cell (rowspan/colspan), as in the PDF reader.
4. ``_cell_lines``: each cell's ink (rulings and specks removed) is split into text lines by its
   horizontal projection; blank cells are skipped. All lines of the page are recognised in
   batches (``ocr_engine.recognize``).
5. Text outside the tables (titles, ``单位：元``) is read by detection + recognition on those bands.
6. ``ocr_corrections.correct`` snaps near-miss labels and repairs number glyphs, with a note.
7. ``_Stitcher``: a table continued on the next scanned page is joined to it, as the PDF reader
   does for born-digital pages.

Bboxes are in points (pixels × 72 / dpi) of the deskewed page; confidence is the mean
recognition score of a cell's lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from extractors import ocr_engine
from extractors.errors import UnreadableFile
from extractors.ocr_corrections import correct
from extractors.values import compact, normalize_text
from schemas.grid import Cell, Document, Grid, text_block

MAX_PIXELS = 80_000_000  # larger images are refused: decoding them would take gigabytes
WORK_DPI = 200  # pages are processed at this resolution
DEFAULT_DPI = 200  # assumed when an image does not say its resolution
MAX_SKEW = 5.0  # degrees: a larger estimate is not a skewed scan and is ignored
MIN_SKEW = 0.05  # degrees: below this the page is not rotated
TO_POINTS = 72.0 / WORK_DPI
SPECKLE = 0.002  # share of isolated pixels above which a page is median-filtered
BOTTOM_ZONE = 0.25  # a table ending in the last quarter of the page may continue on the next
SAME_COLUMN = 3.0  # points: rulings this close are one column boundary on both pages

_TextLine = tuple[str, float, tuple[float, float, float, float]]  # text, score, pixel box
_PAGE_NUMBER = re.compile(
    r"^[-—–\s]*\d{1,4}[-—–\s]*$|^第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?$|^\d+\s*/\s*\d+$"
)


# --- entry points -----------------------------------------------------------------------------


def read_image(path: Path, password: str | None = None) -> Document:
    """Read a scanned form image (PNG/JPEG/TIFF; a multi-page TIFF is one page per frame).

    ``password`` is accepted for the reader interface and ignored. Raises :class:`UnreadableFile`
    for a missing, undecodable or oversized image; an image without tables or text yields a
    Document without grids.
    """
    del password
    n_pages = 0

    def pages() -> Iterator[tuple[np.ndarray, int, int]]:
        nonlocal n_pages
        for n_pages, (image, dpi) in enumerate(_frames(Path(path)), start=1):  # noqa: B007
            yield image, n_pages, dpi

    grids = grids_from_page_images(pages())
    return Document(
        grids=grids,
        pages=n_pages,
        extractor="scan",
        n_tables=sum(g.is_table for g in grids),
        scanned_pages=list(range(1, n_pages + 1)),
        notes=[f"{n_pages} scanned page(s) read by OCR; check the cells with a low confidence"],
    )


def grids_from_page_image(image: np.ndarray, page: int, dpi: int) -> list[Grid]:
    """Tables and text blocks of one page image (grey or RGB array), in reading order."""
    return [block.grid for block in _read_page(image, page, dpi)]


def grids_from_page_images(pages: Iterable[tuple[np.ndarray, int, int]]) -> list[Grid]:
    """Grids of consecutive scanned pages ``(image, page, dpi)``, tables joined across pages."""
    scanned = ScannedPages()
    for image, page, dpi in pages:
        scanned.add(image, page, dpi)
    return scanned.grids()


class ScannedPages:
    """Consecutive scanned pages read one at a time (only one page image in memory): a table
    continued on the next page is joined to it (repeated header rows dropped, a row or merged
    cell cut by the page break continued), as the PDF reader does for born-digital pages."""

    def __init__(self) -> None:
        self._stitcher = _Stitcher()

    def add(self, image: np.ndarray, page: int, dpi: int) -> None:
        """Read one page image (grey or RGB array) of the run."""
        self._stitcher.add_page(_read_page(image, page, dpi))

    def grids(self) -> list[Grid]:
        """The grids of the pages added so far, in reading order."""
        return self._stitcher.grids


@dataclass
class _Block:
    """A table or text block of one page, with what joining it to the next page needs."""

    top: float
    grid: Grid
    page: int
    xs: list[float] = field(default_factory=list)  # column boundaries in points (tables)
    open_top: set[int] = field(default_factory=set)  # ids of cells without a ruling on top
    open_bottom: set[int] = field(default_factory=set)
    reaches_bottom: bool = False  # ends in the last quarter of the page: may continue


def _read_page(image: np.ndarray, page: int, dpi: int) -> list[_Block]:
    gray = _prepare(image, dpi)
    binary = _binarise(gray)
    h_mask, v_mask = _rulings(binary)
    tables = _tables(h_mask, v_mask)
    ink = _text_ink(binary, h_mask, v_mask)

    clean = gray.copy()
    clean[cv2.dilate(h_mask | v_mask, np.ones((3, 3), np.uint8)) > 0] = 255  # rulings out
    in_cells = {id(slot): _cell_lines(ink, slot.box) for table in tables for slot in table.slots}
    blank = {key for key, boxes in in_cells.items() if not boxes}
    for table in tables:
        _drop_empty_virtual_rows(table, blank)
    jobs = [(slot, in_cells[id(slot)]) for table in tables for slot in table.slots]
    heights = [b[3] - b[1] for _, boxes in jobs for b in boxes]
    typical = int(np.median(heights)) if heights else WORK_DPI // 8
    crops = [_line_crop(clean, b, slot.box, typical) for slot, boxes in jobs for b in boxes]
    texts = ocr_engine.recognize(crops)
    cursor = 0
    for slot, boxes in jobs:
        read = texts[cursor : cursor + len(boxes)]
        cursor += len(boxes)
        slot.text = _join_lines([t for t, _ in read if t])
        scores = [s for t, s in read if t]
        slot.confidence = round(sum(scores) / len(scores), 3) if scores else None

    blocks = [_table_block(t, page, gray.shape[0]) for t in tables]
    for top, lines in _outside_text(gray, ink, [t.box for t in tables]):
        blocks.append(_Block(top, _text_grid(lines, page), page))
    blocks.sort(key=lambda block: block.top)
    return blocks


# --- loading ----------------------------------------------------------------------------------


def _frames(path: Path) -> Iterator[tuple[np.ndarray, int]]:
    """Each frame of an image file as a grey or RGB array (EXIF rotation applied) with its dpi,
    one at a time so a long multi-page TIFF never sits in memory whole."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError

    if not path.is_file():
        raise UnreadableFile(f"{path} does not exist or is not a file")
    too_large = (
        f"{path.name}: the image is larger than {MAX_PIXELS // 1_000_000} megapixels; rescan or "
        "export it at 200-300 dpi"
    )
    count = 0
    try:
        with Image.open(path) as im:
            for frame in ImageSequence.Iterator(im):
                w, h = frame.size
                if w * h > MAX_PIXELS:
                    raise UnreadableFile(f"{too_large} (page {count + 1} is {w}x{h})")
                dpi = _dpi(frame.info.get("dpi"), w, h)
                upright = ImageOps.exif_transpose(frame)
                grey = upright.mode in ("1", "L", "LA", "I", "I;16", "F")
                image = np.asarray(upright.convert("L" if grey else "RGB"))
                count += 1
                yield image, dpi
    except Image.DecompressionBombError as exc:
        raise UnreadableFile(too_large) from exc
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError) as exc:
        raise UnreadableFile(
            f"{path.name} cannot be decoded as an image ({exc}); check the file or download it "
            "again"
        ) from exc
    if count == 0:
        raise UnreadableFile(f"{path.name} holds no image frames; check the file")


def _dpi(info: object, width: int, height: int) -> int:
    """The resolution an image declares, or a guess from its size as an A4 page."""
    if isinstance(info, tuple) and info and 72 <= float(info[0]) <= 1200:
        return round(float(info[0]))
    guess = max(width, height) / 11.69  # the long side of A4 in inches
    return round(guess) if 100 <= guess <= 600 else DEFAULT_DPI


# --- page geometry ----------------------------------------------------------------------------


def _prepare(image: np.ndarray, dpi: int) -> np.ndarray:
    """Grey page resampled to WORK_DPI, without red seals or speckle, and deskewed."""
    gray = _without_red(image) if image.ndim == 3 else image
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    scale = WORK_DPI / dpi if dpi > 0 else 1.0
    if abs(scale - 1) > 0.05:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp)
    dark = (gray < 128).astype(np.uint8)
    neighbours = cv2.boxFilter(dark, cv2.CV_16U, (3, 3), normalize=False) - dark
    if np.count_nonzero(dark & (neighbours == 0)) > SPECKLE * gray.size:
        gray = cv2.medianBlur(gray, 3)  # salt-and-pepper: many isolated dark pixels
    angle = _skew(_binarise(gray))
    if abs(angle) >= MIN_SKEW:
        h, w = gray.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        gray = cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255,))
    return gray


def _without_red(rgb: np.ndarray) -> np.ndarray:
    """Grey of an RGB page with red ink (a seal, 公章, stamped over the form) turned to paper."""
    gray = cv2.cvtColor(np.ascontiguousarray(rgb[:, :, :3]), cv2.COLOR_RGB2GRAY)
    r = rgb[:, :, 0]
    red = r.astype(np.int16) - np.maximum(rgb[:, :, 1], rgb[:, :, 2]) > 25
    if red.any():
        # under red ink the red channel still shows what is printed beneath it: scaled so the
        # seal's own colour becomes paper white, black lines and text through it stay dark
        level = max(float(np.median(r[red])), 1.0)
        gray[red] = np.clip(r[red].astype(np.float32) * (255.0 / level), 0, 255).astype(np.uint8)
    return gray


def _binarise(gray: np.ndarray) -> np.ndarray:
    """Ink = 255: adaptive threshold on a lightly smoothed page (tolerates uneven lighting)."""
    smooth = cv2.GaussianBlur(gray, (3, 3), 0)
    return cv2.adaptiveThreshold(
        smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, 31, 20
    )


def _skew(binary: np.ndarray) -> float:
    """Page rotation in degrees (counter-clockwise positive), from the long horizontal rulings."""
    w = binary.shape[1]
    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (WORK_DPI // 5, 1))
    lines = cv2.morphologyEx(binary, cv2.MORPH_OPEN, kernel)
    lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (9, 3)))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(lines, connectivity=8)
    angles: list[tuple[float, float]] = []
    for i in range(1, n):
        x, y, cw, ch, _area = stats[i]
        if cw < w / 5 or ch > cw * math.tan(math.radians(MAX_SKEW)) + 12:
            continue
        ys, xs = np.nonzero(labels[y : y + ch, x : x + cw] == i)
        slope = np.polyfit(xs.astype(float), ys.astype(float), 1)[0]
        angles.append((math.degrees(math.atan(slope)), float(cw)))
    if not angles:
        return 0.0
    angles.sort()
    half, acc = sum(a[1] for a in angles) / 2, 0.0
    for angle, weight in angles:  # the length-weighted median
        acc += weight
        if acc >= half:
            return angle if abs(angle) <= MAX_SKEW else 0.0
    return 0.0


def _rulings(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the horizontal and the vertical ruling lines (longer than any text stroke)."""
    h_len, v_len, bridge = WORK_DPI // 4, WORK_DPI * 3 // 20, WORK_DPI // 40
    h = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1))
    )
    v = cv2.morphologyEx(
        binary, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len))
    )
    h = cv2.morphologyEx(h, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
    v = cv2.morphologyEx(v, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
    return h, v


@dataclass
class _Slot:
    """A cell of a table found on the image, in work pixels."""

    row: int
    col: int
    rowspan: int
    colspan: int
    box: tuple[int, int, int, int]  # x0, top, x1, bottom
    open_top: bool = False  # no ruling above: the cell continues from the previous page
    open_bottom: bool = False
    text: str = ""
    confidence: float | None = None


@dataclass
class _Table:
    box: tuple[int, int, int, int]
    n_rows: int
    n_cols: int
    xs: list[float]  # column boundaries, work pixels
    slots: list[_Slot]
    virtual: tuple[bool, bool]  # first / last row opened by rulings running past the table


def _drop_empty_virtual_rows(table: _Table, blank: set[int]) -> None:
    """Remove a row opened only by rulings overshooting the table when nothing is in it."""
    if table.virtual[1] and table.n_rows > 1:
        last = [s for s in table.slots if s.row + s.rowspan == table.n_rows]
        if all(s.rowspan == 1 and id(s) in blank for s in last):
            table.slots = [s for s in table.slots if s.row + s.rowspan < table.n_rows]
            table.n_rows -= 1
    if table.virtual[0] and table.n_rows > 1:
        first = [s for s in table.slots if s.row == 0]
        if all(s.rowspan == 1 and id(s) in blank for s in first):
            table.slots = [s for s in table.slots if s.row > 0]
            for s in table.slots:
                s.row -= 1
            table.n_rows -= 1
    if table.slots:
        x0s, tops, x1s, bottoms = zip(*(s.box for s in table.slots))
        table.box = (min(x0s), min(tops), max(x1s), max(bottoms))


def _segments(mask: np.ndarray, horizontal: bool, min_len: int) -> list[tuple[float, int, int]]:
    """Ruling segments of a mask: (position across, start, end along the line)."""
    n, _, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if horizontal and w >= min_len:
            out.append((float(centroids[i][1]), int(x), int(x + w - 1)))
        elif not horizontal and h >= min_len:
            out.append((float(centroids[i][0]), int(y), int(y + h - 1)))
    return out


def _crossing(
    segments: list[tuple[float, int, int]], others: list[tuple[float, int, int]], tol: int
) -> list[tuple[float, int, int]]:
    """Segments that meet a ruling of the other direction: a long stroke of text meets none."""
    return [
        (pos, a, b)
        for pos, a, b in segments
        if any(a - tol <= o <= b + tol and oa - tol <= pos <= ob + tol for o, oa, ob in others)
    ]


def _cluster(values: list[float], tol: float) -> list[float]:
    groups: list[list[float]] = []
    for v in sorted(values):
        if groups and v - groups[-1][-1] <= tol:
            groups[-1].append(v)
        else:
            groups.append([v])
    return [sum(g) / len(g) for g in groups]


def _tables(h_mask: np.ndarray, v_mask: np.ndarray) -> list[_Table]:
    """Each group of touching rulings with at least two rows of cells, as a table of slots."""
    tol = max(3, WORK_DPI // 50)
    both = cv2.dilate(h_mask | v_mask, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(both, connectivity=8)
    hs = _segments(h_mask, True, WORK_DPI // 4)
    vs = _segments(v_mask, False, WORK_DPI * 3 // 20)
    hs, vs = _crossing(hs, vs, 2 * tol), _crossing(vs, hs, 2 * tol)
    tables = []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if w < WORK_DPI or h < WORK_DPI // 5:
            continue
        inside_h = [
            s
            for s in hs
            if y - tol <= s[0] <= y + h + tol and s[1] >= x - tol and s[2] <= x + w + tol
        ]
        inside_v = [
            s
            for s in vs
            if x - tol <= s[0] <= x + w + tol and s[1] >= y - tol and s[2] <= y + h + tol
        ]
        table = _lattice(inside_h, inside_v, h_mask, v_mask, tol)
        if table is not None:
            tables.append(table)
    tables.sort(key=lambda t: t.box[1])
    return tables


def _coverage(
    mask: np.ndarray, across: float, start: float, end: float, horizontal: bool, tol: int
) -> float:
    """Share of a lattice edge (from start to end, at ``across``) that a ruling covers."""
    margin = tol + 2
    a0, a1 = int(round(across)) - tol, int(round(across)) + tol + 1
    s0, s1 = int(round(start)) + margin, int(round(end)) - margin
    if s1 <= s0:
        return 1.0
    band = mask[max(a0, 0) : a1, s0:s1] if horizontal else mask[s0:s1, max(a0, 0) : a1].T
    if band.size == 0:
        return 0.0
    return float(np.count_nonzero(band.max(axis=0))) / (s1 - s0)


def _lattice(
    hs: list[tuple[float, int, int]],
    vs: list[tuple[float, int, int]],
    h_mask: np.ndarray,
    v_mask: np.ndarray,
    tol: int,
) -> _Table | None:
    """Cells of one table: lattice slots joined where no ruling separates them."""
    ys = _cluster([s[0] for s in hs], tol)
    xs = _cluster([s[0] for s in vs], tol)
    if not ys or not xs:
        return None
    # rulings running past the outermost cross ruling open a row or column (a row cut by the
    # page break has no ruling on top), as in the PDF reader
    reach = 2 * tol + 2
    top, bottom = min(s[1] for s in vs), max(s[2] for s in vs)
    left, right = min(s[1] for s in hs), max(s[2] for s in hs)
    virtual = (top < ys[0] - reach, bottom > ys[-1] + reach)
    ys = [top] * virtual[0] + ys + [bottom] * virtual[1]
    xs = [left] * (left < xs[0] - reach) + xs + [right] * (right > xs[-1] + reach)
    n_rows, n_cols = len(ys) - 1, len(xs) - 1
    if n_rows < 2 or n_cols < 1:
        return None
    h_rule = [
        [_coverage(h_mask, ys[r], xs[c], xs[c + 1], True, tol) >= 0.6 for c in range(n_cols)]
        for r in range(n_rows + 1)
    ]
    v_rule = [
        [_coverage(v_mask, xs[c], ys[r], ys[r + 1], False, tol) >= 0.6 for c in range(n_cols + 1)]
        for r in range(n_rows)
    ]
    parent = list(range(n_rows * n_cols))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for r in range(n_rows):
        for c in range(n_cols):
            if c + 1 < n_cols and not v_rule[r][c + 1]:
                parent[find(r * n_cols + c)] = find(r * n_cols + c + 1)
            if r + 1 < n_rows and not h_rule[r + 1][c]:
                parent[find(r * n_cols + c)] = find((r + 1) * n_cols + c)
    rects = _rectangles([find(i) for i in range(n_rows * n_cols)], n_cols)
    slots = []
    for r0, c0, r1, c1 in rects:
        top = sum(h_rule[r0][c] for c in range(c0, c1 + 1)) / (c1 - c0 + 1)
        bottom = sum(h_rule[r1 + 1][c] for c in range(c0, c1 + 1)) / (c1 - c0 + 1)
        left = sum(v_rule[r][c0] for r in range(r0, r1 + 1)) / (r1 - r0 + 1)
        right = sum(v_rule[r][c1 + 1] for r in range(r0, r1 + 1)) / (r1 - r0 + 1)
        if not (left >= 0.5 and right >= 0.5 or top >= 0.5 and bottom >= 0.5):
            continue  # not enclosed by rulings: outside the table
        box = (round(xs[c0]), round(ys[r0]), round(xs[c1 + 1]), round(ys[r1 + 1]))
        slots.append(_Slot(r0, c0, r1 - r0 + 1, c1 - c0 + 1, box, top < 0.5, bottom < 0.5))
    if len(slots) < 2:
        return None
    slots.sort(key=lambda s: (s.row, s.col))
    box = (round(xs[0]), round(ys[0]), round(xs[-1]), round(ys[-1]))
    return _Table(box, n_rows, n_cols, xs, slots, virtual)


def _rectangles(roots: list[int], n_cols: int) -> list[tuple[int, int, int, int]]:
    """Joined slot regions (slot → its region's root) as disjoint rectangles (r0, c0, r1, c1);
    a region that is not rectangular takes its bounding box, merging what it overlaps."""
    regions: dict[int, list[int]] = {}
    for i, root in enumerate(roots):
        regions.setdefault(root, []).append(i)
    rects = [
        (
            min(s // n_cols for s in v),
            min(s % n_cols for s in v),
            max(s // n_cols for s in v),
            max(s % n_cols for s in v),
        )
        for v in regions.values()
    ]
    merged = True
    while merged:
        merged = False
        for i in range(len(rects)):
            for j in range(i + 1, len(rects)):
                a, b = rects[i], rects[j]
                if a[0] <= b[2] and b[0] <= a[2] and a[1] <= b[3] and b[1] <= a[3]:
                    rects[i] = (min(a[0], b[0]), min(a[1], b[1]), max(a[2], b[2]), max(a[3], b[3]))
                    del rects[j]
                    merged = True
                    break
            if merged:
                break
    return rects


# --- text -------------------------------------------------------------------------------------


def _text_ink(binary: np.ndarray, h_mask: np.ndarray, v_mask: np.ndarray) -> np.ndarray:
    """Ink that is not a ruling line, without specks too small to be part of a glyph."""
    lines = cv2.dilate(h_mask | v_mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    ink = cv2.bitwise_and(binary, cv2.bitwise_not(lines))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < max(3, WORK_DPI // 40)
    small[0] = False
    ink[small[labels]] = 0
    return ink


def _cell_lines(ink: np.ndarray, box: tuple[int, int, int, int]) -> list[tuple[int, int, int, int]]:
    """Ink boxes of the text lines inside a cell (page pixels), top to bottom; none if blank."""
    pad = max(3, WORK_DPI // 50)
    x0, top, x1, bottom = box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad
    if x1 - x0 < 4 or bottom - top < 4:
        return []
    region = ink[top:bottom, x0:x1]
    rows = np.count_nonzero(region, axis=1)
    if rows.sum() < WORK_DPI // 10:
        return []  # blank: a few specks at most
    out = []
    for r0, r1 in _merge_fragments(_runs(rows > 0)):
        cols = np.flatnonzero(np.count_nonzero(region[r0:r1], axis=0))
        if cols.size:
            out.append((x0 + int(cols[0]), top + r0, x0 + int(cols[-1]) + 1, top + r1))
    return out


def _line_crop(
    clean: np.ndarray,
    ink_box: tuple[int, int, int, int],
    cell: tuple[int, int, int, int],
    typical: int,
) -> np.ndarray:
    """A line's crop for recognition: at least a typical line high (a lone '—' stays a dash)."""
    x0, top, x1, bottom = ink_box
    half = max(bottom - top, typical) / 2
    centre = (top + bottom) / 2
    # a third of a line above and below, as the detector's boxes have: less makes the text
    # larger in the model's 48-px input, hence wider and slower to read
    above, aside = max(3, typical // 3), max(3, typical // 6)
    y0 = max(int(centre - half) - above, cell[1])
    y1 = min(int(centre + half + 0.5) + above, cell[3])
    return clean[y0:y1, max(x0 - aside, cell[0]) : min(x1 + aside, cell[2])]


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _merge_fragments(runs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Join a run much thinner than the cell's lines (a stroke, a split glyph) to its neighbour."""
    runs = list(runs)
    while len(runs) > 1:
        heights = [b - a for a, b in runs]
        typical = float(np.median(heights))
        thin = min(range(len(runs)), key=lambda i: heights[i])
        if heights[thin] >= 0.5 * typical and heights[thin] >= WORK_DPI // 20:
            break
        gaps = []
        if thin > 0:
            gaps.append((runs[thin][0] - runs[thin - 1][1], thin - 1))
        if thin + 1 < len(runs):
            gaps.append((runs[thin + 1][0] - runs[thin][1], thin))
        gap, i = min(gaps)
        if gap > max(typical, WORK_DPI // 20):
            break  # a lone short line ('—'), not a fragment
        runs[i : i + 2] = [(runs[i][0], runs[i + 1][1])]
    return runs


def _join_lines(lines: list[str]) -> str:
    """Wrapped lines of one cell as one text: a space only between latin words."""
    out = ""
    for line in lines:
        line = re.sub(r"(?<=[\u4e00-\u9fff]) +(?=[\u4e00-\u9fff])", "", line.strip())
        if (
            out
            and out[-1].isascii()
            and out[-1].isalnum()
            and line[:1].isascii()
            and line[:1].isalpha()
        ):
            out += " "
        out += line
    return out


def _outside_text(
    gray: np.ndarray, ink: np.ndarray, table_boxes: list[tuple[int, int, int, int]]
) -> list[tuple[float, list[_TextLine]]]:
    """Runs of text lines outside the tables, as (top, [(text, score, box)]) in reading order."""
    free = ink.copy()
    margin = WORK_DPI // 40
    for x0, top, x1, bottom in table_boxes:
        free[max(top - margin, 0) : bottom + margin, max(x0 - margin, 0) : x1 + margin] = 0
    rows = np.count_nonzero(free, axis=1)
    bands = _runs(rows > 0)
    edges = sorted(
        {0, gray.shape[0], *[t for _, t, _, _ in table_boxes], *[b for _, _, _, b in table_boxes]}
    )
    out = []
    for lo, hi in zip(edges, edges[1:]):
        inside = [(a, b) for a, b in bands if a >= lo and b <= hi]
        if not inside or sum(rows[a:b].sum() for a, b in inside) < WORK_DPI // 4:
            continue
        top, bottom = inside[0][0], inside[-1][1]
        cols = np.nonzero(np.count_nonzero(free[top:bottom], axis=0))[0]
        pad = WORK_DPI // 20
        y0, y1 = max(top - pad, 0), min(bottom + pad, gray.shape[0])
        x0, x1 = max(int(cols[0]) - pad, 0), min(int(cols[-1]) + pad, gray.shape[1])
        region = gray[y0:y1, x0:x1].copy()
        mask = free[y0:y1, x0:x1] == 0
        region[mask & (region < 128)] = 255  # rulings and table text near the band stay out
        found = ocr_engine.detect_and_recognize(region)
        lines = _reading_order(
            [
                (
                    ln.text,
                    ln.score,
                    (ln.box[0] + x0, ln.box[1] + y0, ln.box[2] + x0, ln.box[3] + y0),
                )
                for ln in found
            ]
        )
        lines = [ln for ln in lines if not _PAGE_NUMBER.match(ln[0])]
        if lines:
            out.append((float(lines[0][2][1]), lines))
    return out


def _reading_order(pieces: list[_TextLine]) -> list[_TextLine]:
    """Detected pieces joined into lines (vertical overlap), top to bottom, left to right."""
    lines: list[list[_TextLine]] = []
    for piece in sorted(pieces, key=lambda p: (p[2][1], p[2][0])):
        for line in lines:
            top = min(p[2][1] for p in line)
            bottom = max(p[2][3] for p in line)
            overlap = min(bottom, piece[2][3]) - max(top, piece[2][1])
            if overlap >= 0.5 * min(bottom - top, piece[2][3] - piece[2][1]):
                line.append(piece)
                break
        else:
            lines.append([piece])
    out = []
    for line in lines:
        line.sort(key=lambda p: p[2][0])
        text = line[0][0]
        height = max(p[2][3] for p in line) - min(p[2][1] for p in line)
        for prev, piece in zip(line, line[1:]):
            text += (" " if piece[2][0] - prev[2][2] > height else "") + piece[0]
        score = sum(p[1] for p in line) / len(line)
        box = (
            min(p[2][0] for p in line),
            min(p[2][1] for p in line),
            max(p[2][2] for p in line),
            max(p[2][3] for p in line),
        )
        out.append((text, score, box))
    out.sort(key=lambda ln: ln[2][1])
    return out


# --- grids ------------------------------------------------------------------------------------


def _points(box: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    return tuple(round(v * TO_POINTS, 2) for v in box)  # type: ignore[return-value]


def _table_block(table: _Table, page: int, page_height: int) -> _Block:
    cells, open_top, open_bottom = [], set(), set()
    for slot in table.slots:
        text, note = correct(slot.text) if slot.text else ("", None)
        cell = Cell(
            row=slot.row,
            col=slot.col,
            text=text,
            rowspan=slot.rowspan,
            colspan=slot.colspan,
            page=page,
            bbox=_points(slot.box),
            confidence=slot.confidence,
            note=note,
        )
        cells.append(cell)
        if slot.open_top and slot.row == 0:
            open_top.add(id(cell))
        if slot.open_bottom and slot.row + slot.rowspan == table.n_rows:
            open_bottom.add(id(cell))
    grid = Grid(
        cells=cells,
        n_rows=table.n_rows,
        n_cols=table.n_cols,
        spans_known=True,
        is_table=True,
        source="scan",
        row_pages=[page] * table.n_rows,
    )
    return _Block(
        top=table.box[1],
        grid=grid,
        page=page,
        xs=[x * TO_POINTS for x in table.xs],
        open_top=open_top,
        open_bottom=open_bottom,
        reaches_bottom=table.box[3] >= page_height * (1 - BOTTOM_ZONE),
    )


def _text_grid(lines: list[_TextLine], page: int) -> Grid:
    corrected = [correct(text) for text, _, _ in lines]
    grid = text_block([text for text, _ in corrected], page=page, source="scan")
    for cell, (_, note), (_, score, box) in zip(grid.cells, corrected, lines):
        cell.confidence = round(score, 3)
        cell.bbox = _points(box)
        cell.note = note
    return grid


# --- tables continued over a page break -------------------------------------------------------


class _Stitcher:
    """The document's grids page by page, joining a table continued on the next page."""

    def __init__(self) -> None:
        self.grids: list[Grid] = []
        self._open: _Block | None = None  # the last table, if it may continue

    def add_page(self, blocks: list[_Block]) -> None:
        for i, block in enumerate(blocks):
            acc = self._open
            if not block.grid.is_table:
                self.grids.append(block.grid)
            elif (
                i == 0
                and acc is not None
                and acc.page == block.page - 1
                and (col_map := _column_map(acc, block.xs)) is not None
            ):
                _extend(acc, block, col_map)
                block = acc
            else:
                self.grids.append(block.grid)
            self._open = block if block.grid.is_table and block.reaches_bottom else None
        if not blocks:
            self._open = None


def _column_map(acc: _Block, xs: list[float]) -> list[int] | None:
    """Index in ``acc.xs`` of each of ``xs`` when both tables span the same width (wherever the
    scan placed the page); rulings only the continuation has are added to ``acc``."""
    shifted = [x - xs[0] + acc.xs[0] for x in xs]
    if abs(shifted[-1] - acc.xs[-1]) > SAME_COLUMN:
        return None
    union = list(acc.xs)
    for x in shifted:
        if min(abs(u - x) for u in union) > SAME_COLUMN:
            union.append(x)
    union.sort()
    if len(union) > len(acc.xs):
        index = [union.index(x) for x in acc.xs]
        for cell in acc.grid.cells:
            end = index[cell.col + cell.colspan]
            cell.col = index[cell.col]
            cell.colspan = end - cell.col
        acc.xs = union
        acc.grid.n_cols = len(union) - 1
    return [min(range(len(union)), key=lambda i: abs(union[i] - x)) for x in shifted]


def _signature(cells: list[Cell], row: int) -> tuple[tuple[int, str], ...]:
    return tuple(
        sorted((c.col, compact(normalize_text(c.text))) for c in cells if c.row == row and c.text)
    )


def _repeated_header_rows(grid: Grid, part: Grid) -> int:
    """How many leading rows of ``part`` repeat rows of the table built so far."""
    first = _signature(part.cells, 0)
    if len(first) < 2:
        return 0
    for h in range(grid.n_rows):
        if _signature(grid.cells, h) == first:
            k = 1
            while (
                k < part.n_rows
                and h + k < grid.n_rows
                and _signature(part.cells, k)
                and _signature(grid.cells, h + k) == _signature(part.cells, k)
            ):
                k += 1
            return k
    return 0


def _extend(acc: _Block, part: _Block, col_map: list[int]) -> None:
    """Append the next page's part of a table: drop a repeated header, continue cut cells."""
    grid = acc.grid
    for c in part.grid.cells:
        end = col_map[c.col + c.colspan]
        c.col = col_map[c.col]
        c.colspan = end - c.col
    skip = _repeated_header_rows(grid, part.grid)
    cells = [c for c in part.grid.cells if c.row + c.rowspan > skip]
    for c in cells:
        if c.row < skip:
            c.rowspan -= skip - c.row
            c.row = skip
    last = grid.n_rows - 1
    starting = [c for c in cells if c.row == skip]
    continuing: dict[int, Cell] = {}
    for c in starting:
        above = next(
            (
                a
                for a in grid.cells
                if a.row <= last < a.row + a.rowspan and (a.col, a.colspan) == (c.col, c.colspan)
            ),
            None,
        )
        if above is not None and (id(c) in part.open_top or id(above) in acc.open_bottom):
            continuing[id(c)] = above
    split_row = bool(starting) and len(continuing) == len(starting)
    offset = grid.n_rows - skip - (1 if split_row else 0)
    open_bottom: set[int] = set()
    for c in cells:
        above = continuing.get(id(c))
        if above is not None:
            above.text = _join_lines([t for t in (above.text, c.text) if t])
            above.rowspan += c.rowspan - (1 if split_row else 0)
            scores = [s for s in (above.confidence, c.confidence) if s is not None]
            above.confidence = min(scores) if scores else None
            above.note = "; ".join(n for n in (above.note, c.note) if n) or None
            target = above
        else:
            c.row += offset
            grid.cells.append(c)
            target = c
        if id(c) in part.open_bottom:
            open_bottom.add(id(target))
    n_rows = max(c.row + c.rowspan for c in grid.cells)
    grid.row_pages.extend([part.page] * (n_rows - grid.n_rows))
    grid.n_rows = n_rows
    grid.cells.sort(key=lambda c: (c.row, c.col))
    acc.open_bottom, acc.reaches_bottom, acc.page = open_bottom, part.reaches_bottom, part.page
