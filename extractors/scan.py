"""Scanned pages (PNG/JPEG/TIFF, or PDF pages without a text layer) → grids, by OpenCV and OCR.

The table is found from its ruling lines before any text is read, so OCR only recognises short
line crops (fast) instead of detecting text over the whole page:

1. ``_prepare``: grey (a red seal faded out), resampled to 200 dpi, median-filtered if speckled,
   turned upright (``_upright``: text lines running up the page make it sideways, and a few lines
   read both ways up tell upright from upside down; a turned page is noted on the Document), then
   deskewed by the angle of the long horizontal rulings.
2. ``_rulings``: adaptive binarisation, then morphological opening with long horizontal/vertical
   kernels leaves the ruling lines; their connected components are the ruling segments, kept
   when they meet a ruling of the other direction (a long text stroke meets none).
3. ``_tables``: touching rulings form a table; a lattice edge counts as ruled where the mask covers
   most of it, and ``extractors.lattice`` makes the cells with rowspan/colspan from that.
4. ``_cell_lines``: each cell's ink (rulings and specks removed) is split into text lines by its
   horizontal projection; blank cells are skipped. All lines of the page are recognised in
   batches (``ocr_engine.recognize``).
5. Text outside the tables (titles, ``单位：元``) is read by detection + recognition on those bands.
6. ``ocr_corrections.correct`` snaps near-miss labels and repairs number glyphs, with a note.
7. ``extractors.stitching``: a table continued on the next scanned page is joined to it, as the
   PDF reader does for born-digital pages.

Bboxes are in points (pixels × 72 / dpi) of the upright, deskewed page; confidence is the mean
recognition score of a cell's lines.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from extractors import ocr_engine
from extractors.errors import UnreadableFile
from extractors.lattice import (
    Lattice,
    LatticeCell,
    cells_from_rulings,
    drop_empty_virtual_rows,
    lattice_from_rulings,
)
from extractors.ocr_corrections import correct
from extractors.stitching import PageTable, TableStitcher, near_page_bottom, page_table
from schemas.grid import Cell, Document, Grid, text_block

MAX_PIXELS = 80_000_000  # larger images are refused: decoding them would take gigabytes
WORK_DPI = 200  # pages are processed at this resolution
DEFAULT_DPI = 200  # assumed when an image does not say its resolution
MAX_SKEW = 5.0  # degrees: a larger estimate is not a skewed scan and is ignored
MIN_SKEW = 0.05  # degrees: below this the page is not rotated
TO_POINTS = 72.0 / WORK_DPI
SPECKLE = 0.002  # share of isolated pixels above which a page is median-filtered
SIDEWAYS = 3.0  # text lines must run this many times longer up the page than across it to turn it
MIN_TEXT = 3 * WORK_DPI  # pixels: total length of text lines below which a page is never turned
PROBE_LINES = 6  # text lines recognised to tell a page the right way up from one upside down
READS_WELL = 0.9  # mean recognition score of the probe lines at which the page is the right way up
CLEARLY = 0.1  # score by which the lines turned a half turn must read better to turn the page
OUTLINE_SIZE = 600  # pixels: the long side of the copy a photographed page's outline is found on
MIN_PAGE_AREA, MAX_PAGE_AREA = 0.25, 0.93  # share of a photo the page covers, a margin left over
_TURNED = {1: "turned 90° clockwise", 2: "upside down", 3: "turned 90° anticlockwise"}

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
    scanned = ScannedPages()
    n_pages = 0
    for n_pages, (image, dpi) in enumerate(_frames(Path(path)), start=1):
        scanned.add(image, n_pages, dpi)
    grids = scanned.grids()
    return Document(
        grids=grids,
        pages=n_pages,
        extractor="scan",
        n_tables=sum(g.is_table for g in grids),
        scanned_pages=list(range(1, n_pages + 1)),
        notes=[
            f"{n_pages} scanned page(s) read by OCR; check the cells with a low confidence",
            *scanned.notes,
        ],
    )


class ScannedPages:
    """Consecutive scanned pages read one at a time (only one page image in memory): a table
    continued on the next page is joined to it (repeated header rows dropped, a row or merged
    cell cut by the page break continued), as the PDF reader does for born-digital pages.
    ``notes`` says which pages were scanned sideways or upside down (they are read upright)."""

    def __init__(self) -> None:
        self._stitcher = TableStitcher(join=_join_cut, align_left=True)
        self.notes: list[str] = []

    def add(self, image: np.ndarray, page: int, dpi: int) -> None:
        """Read one page image (grey or RGB array) of the run."""
        gray, turns = _prepare(image, dpi)
        if turns:
            self.notes.append(f"page {page} was scanned {_TURNED[turns]}; read upright")
        self._stitcher.add_page(page, _read_page(gray, page))

    def grids(self) -> list[Grid]:
        """The grids of the pages added so far, in reading order."""
        return self._stitcher.grids()


def _read_page(gray: np.ndarray, page: int) -> list[Grid | PageTable]:
    """The tables and text blocks of a prepared (``_prepare``) page, top to bottom."""
    binary = _binarise(gray)
    h_mask, v_mask = _rulings(binary)
    v_mask = _without_glyph_strokes(v_mask, h_mask)
    tables = _tables(h_mask, v_mask)
    ink = _text_ink(binary, h_mask, v_mask)

    clean = gray.copy()
    clean[cv2.dilate(h_mask | v_mask, np.ones((3, 3), np.uint8)) > 0] = 255  # rulings out
    in_cells = {id(c): _cell_lines(ink, _pixels(c.bbox)) for table in tables for c in table.cells}
    blank = {key for key, boxes in in_cells.items() if not boxes}
    for table in tables:
        _drop_empty_virtual_rows(table, blank)
    tables = [t for t in tables if len(t.cells) >= 2]  # else a frame or a box, not a table
    jobs = [(c, in_cells[id(c)]) for table in tables for c in table.cells]
    heights = [b[3] - b[1] for _, boxes in jobs for b in boxes]
    typical = int(np.median(heights)) if heights else WORK_DPI // 8
    crops = [_line_crop(clean, b, _pixels(c.bbox), typical) for c, boxes in jobs for b in boxes]
    texts = ocr_engine.recognize(crops)
    read: dict[int, tuple[str, float | None]] = {}  # cell id → text, confidence
    cursor = 0
    for c, boxes in jobs:
        lines = texts[cursor : cursor + len(boxes)]
        cursor += len(boxes)
        scores = [s for t, s in lines if t]
        read[id(c)] = (
            _join_lines([t for t, _ in lines if t]),
            round(sum(scores) / len(scores), 3) if scores else None,
        )

    blocks: list[tuple[float, Grid | PageTable]] = [
        (t.box[1], _page_table(t, read, page, gray.shape[0])) for t in tables
    ]
    for top, text_lines in _outside_text(gray, ink, [t.box for t in tables]):
        blocks.append((top, _text_grid(text_lines, page)))
    blocks.sort(key=lambda block: block[0])
    return [block for _, block in blocks]


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


def image_dpi(image: object) -> int:
    """The resolution the reader takes for a PIL image frame (as :func:`_dpi`)."""
    width, height = image.size  # type: ignore[attr-defined]
    return _dpi(image.info.get("dpi"), width, height)  # type: ignore[attr-defined]


def _dpi(info: object, width: int, height: int) -> int:
    """The resolution an image declares, or a guess from its size as an A4 page."""
    if isinstance(info, tuple) and info and 72 <= float(info[0]) <= 1200:
        return round(float(info[0]))
    guess = max(width, height) / 11.69  # the long side of A4 in inches
    return round(guess) if 100 <= guess <= 600 else DEFAULT_DPI


# --- page geometry ----------------------------------------------------------------------------


def _prepare(image: np.ndarray, dpi: int) -> tuple[np.ndarray, int]:
    """Grey page resampled to WORK_DPI, without red seals or speckle, turned upright and deskewed;
    with the quarter turns (``np.rot90``'s k) that made it upright."""
    photo = _page_outline(image)
    if photo is not None:
        image, dpi = _flatten(image, photo)
    gray = _without_red(image) if image.ndim == 3 else image
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    scale = WORK_DPI / dpi if dpi > 0 else 1.0
    if abs(scale - 1) > 0.05:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp)
    if photo is not None:
        gray = _even_light(gray)
    dark = (gray < 128).astype(np.uint8)
    neighbours = cv2.boxFilter(dark, cv2.CV_16U, (3, 3), normalize=False) - dark
    if np.count_nonzero(dark & (neighbours == 0)) > SPECKLE * gray.size:
        gray = cv2.medianBlur(gray, 3)  # salt-and-pepper: many isolated dark pixels
    binary = _binarise(gray)
    turns = _upright(gray, binary)
    if turns:
        gray = np.ascontiguousarray(np.rot90(gray, turns))
        binary = np.ascontiguousarray(np.rot90(binary, turns))
    angle = _skew(binary)
    if abs(angle) >= MIN_SKEW:
        h, w = gray.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        gray = cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255,))
    return gray, turns


def _page_outline(image: np.ndarray) -> np.ndarray | None:
    """The four corners (TL, TR, BR, BL, image pixels) of a sheet of paper photographed on a
    darker surround, or None when the image is the page itself (a scan, or a photo filling it).

    Looked for on a small copy: the bright paper is what Otsu's threshold keeps of a heavily
    blurred image (text blurs into the paper; uneven light is levelled first by dividing by a
    very wide blur), its largest blob's convex hull is simplified to a quadrilateral.
    """
    gray = cv2.cvtColor(image[:, :, :3], cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    h, w = gray.shape
    factor = OUTLINE_SIZE / max(h, w)
    small = cv2.resize(gray, None, fx=factor, fy=factor, interpolation=cv2.INTER_AREA)
    small = cv2.GaussianBlur(small, (0, 0), 3)
    light = cv2.GaussianBlur(small, (0, 0), OUTLINE_SIZE / 6).astype(np.float32) + 1
    level = np.clip(small / light * 128, 0, 255).astype(np.uint8)
    _, paper = cv2.threshold(level, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    paper = cv2.morphologyEx(paper, cv2.MORPH_OPEN, np.ones((5, 5), np.uint8))
    contours, _ = cv2.findContours(paper, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    hull = cv2.convexHull(max(contours, key=cv2.contourArea))
    area = cv2.contourArea(hull) / (small.shape[0] * small.shape[1])
    if not MIN_PAGE_AREA <= area <= MAX_PAGE_AREA:
        return None
    perimeter = cv2.arcLength(hull, True)
    for tolerance in (0.01, 0.02, 0.03, 0.05):
        corners = cv2.approxPolyDP(hull, tolerance * perimeter, True)
        if len(corners) == 4:
            break
    else:
        return None
    corners = corners.reshape(4, 2).astype(np.float32) / factor
    by_sum, by_diff = corners.sum(axis=1), np.diff(corners, axis=1).ravel()
    return np.float32(
        [
            corners[np.argmin(by_sum)],
            corners[np.argmin(by_diff)],
            corners[np.argmax(by_sum)],
            corners[np.argmax(by_diff)],
        ]
    )


def _flatten(image: np.ndarray, corners: np.ndarray) -> tuple[np.ndarray, int]:
    """The photographed page warped to a flat rectangle, with the dpi that makes it a sheet of
    A4 (the long side 11.69 in)."""
    tl, tr, br, bl = corners
    width = int(max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl)))
    height = int(max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr)))
    target = np.float32([[0, 0], [width, 0], [width, height], [0, height]])
    matrix = cv2.getPerspectiveTransform(corners, target)
    flat = cv2.warpPerspective(
        np.ascontiguousarray(image), matrix, (width, height), flags=cv2.INTER_LINEAR
    )
    return flat, max(round(max(width, height) / 11.69), 72)


def _even_light(gray: np.ndarray) -> np.ndarray:
    """A page lit unevenly (a photo) divided by its paper's own brightness: white paper
    everywhere, the ink as dark as it was against the paper around it."""
    small = cv2.resize(gray, None, fx=0.25, fy=0.25, interpolation=cv2.INTER_AREA)
    paper = cv2.dilate(small, np.ones((9, 9), np.uint8))  # the ink closed over by the paper
    paper = cv2.GaussianBlur(paper, (0, 0), 5)
    paper = cv2.resize(paper, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_LINEAR)
    return np.clip(gray.astype(np.float32) / np.maximum(paper, 1) * 255, 0, 255).astype(np.uint8)


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


def _upright(gray: np.ndarray, binary: np.ndarray) -> int:
    """Quarter turns (``np.rot90``'s k) that make the page's text read upright; 0 when unsure.

    Text lines running up the page rather than across it make the page sideways (``_line_boxes``
    both ways). Upright or upside down is then told by recognition: a few of the longest lines are
    read as they are and, unless they already read well, turned a half turn.
    """
    lines, ink = _long_lines(binary)
    across = _line_boxes(ink)
    up = _line_boxes(np.ascontiguousarray(np.rot90(ink)))
    run_across, run_up = (sum(x1 - x0 for x0, _, x1, _ in b) for b in (across, up))
    turns = 1 if run_up >= max(SIDEWAYS * run_across, MIN_TEXT) else 0
    turned, masked = np.rot90(gray, turns), np.rot90(lines, turns)
    probe = [_probe_crop(turned, masked, box) for box in _probe_lines(up if turns else across)]
    if not probe:
        return turns
    as_is = np.mean([score for _, score in ocr_engine.recognize(probe)])
    if as_is >= READS_WELL:
        return turns
    flipped = np.mean(
        [score for _, score in ocr_engine.recognize([np.rot90(c, 2).copy() for c in probe])]
    )
    return turns + 2 if flipped >= as_is + CLEARLY else turns


def _long_lines(binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mask of the long lines (rulings, either direction alike, slightly skewed too) and the ink
    without them."""
    length, slack = WORK_DPI // 4, 3
    lines = np.zeros_like(binary)
    for along, across in (((length, 1), (1, slack)), ((1, length), (slack, 1))):
        thick = cv2.dilate(binary, cv2.getStructuringElement(cv2.MORPH_RECT, across))
        lines |= cv2.morphologyEx(
            thick, cv2.MORPH_OPEN, cv2.getStructuringElement(cv2.MORPH_RECT, along)
        )
    lines = cv2.dilate(lines, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    return lines, cv2.bitwise_and(binary, cv2.bitwise_not(lines))


def _line_boxes(ink: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Boxes of the text lines running across the page: glyphs closed along the rows into blobs
    at least three times as wide as high and a quarter inch long."""
    gap = cv2.getStructuringElement(cv2.MORPH_RECT, (WORK_DPI // 16, 1))
    closed = cv2.morphologyEx(ink, cv2.MORPH_CLOSE, gap)
    contours, _ = cv2.findContours(closed, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    boxes = [cv2.boundingRect(c) for c in contours]
    return [(x, y, x + w, y + h) for x, y, w, h in boxes if w >= 3 * h and w >= WORK_DPI // 4]


def _probe_lines(boxes: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """The longest single lines (about the typical line height: no blocks of merged lines)."""
    if not boxes:
        return []
    typical = float(np.median([b[3] - b[1] for b in boxes]))
    single = [b for b in boxes if 0.6 * typical <= b[3] - b[1] <= 1.6 * typical]
    return sorted(single, key=lambda b: b[0] - b[2])[:PROBE_LINES]


def _probe_crop(gray: np.ndarray, lines: np.ndarray, box: tuple[int, int, int, int]) -> np.ndarray:
    """A line's crop for recognition, rulings whitened, at most five line heights long (about five
    characters: enough to tell the right way up, and quick to read)."""
    x0, top, x1, bottom = box
    height = bottom - top
    y0, y1 = max(top - height // 3, 0), bottom + height // 3
    x0, x1 = max(x0 - height // 6, 0), min(x1 + height // 6, x0 + 5 * height)
    crop = np.array(gray[y0:y1, x0:x1])
    crop[lines[y0:y1, x0:x1] > 0] = 255
    return crop


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
class _Table:
    """A ruled table found on the image, in work pixels."""

    box: tuple[int, int, int, int]  # x0, top, x1, bottom
    lattice: Lattice
    cells: list[LatticeCell]


def _pixels(bbox: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    return tuple(round(v) for v in bbox)  # type: ignore[return-value]


def _drop_empty_virtual_rows(table: _Table, blank: set[int]) -> None:
    """Remove a virtual row without ink (see extractors.lattice); the box shrinks to the cells."""
    table.cells = drop_empty_virtual_rows(table.cells, table.lattice, lambda c: id(c) in blank)
    if table.cells:
        x0s, tops, x1s, bottoms = zip(*(_pixels(c.bbox) for c in table.cells))
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


def _without_glyph_strokes(v_mask: np.ndarray, h_mask: np.ndarray) -> np.ndarray:
    """The vertical rulings without the vertical strokes of large glyphs (市, 中, 率 at 10 pt and
    more are as tall as the shortest ruling): a piece shorter than half an inch must run from one
    horizontal ruling to another. Else the stroke would be taken for a column boundary and erased
    from the glyph before it is read."""
    tol = 2 * max(3, WORK_DPI // 50)
    horizontals = _segments(h_mask, True, WORK_DPI // 4)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(v_mask, connectivity=8)
    stroke = np.zeros(n, bool)
    for i in range(1, n):
        _, y, _, h, _ = stats[i]
        vertical = (float(centroids[i][0]), int(y), int(y + h - 1))
        stroke[i] = h < WORK_DPI // 2 and not _spans_a_row(vertical, horizontals, tol)
    if not stroke.any():
        return v_mask
    return np.where(stroke[labels], 0, v_mask).astype(v_mask.dtype)


def _spans_a_row(
    vertical: tuple[float, int, int], horizontals: list[tuple[float, int, int]], tol: int
) -> bool:
    """A short vertical ruling runs from one horizontal ruling to another (a column boundary of
    a single row); the vertical stroke of a large glyph, near a ruling at one end, does not."""
    x, top, bottom = vertical

    def meets(y: int) -> bool:
        return any(abs(hy - y) <= tol and a - tol <= x <= b + tol for hy, a, b in horizontals)

    return meets(top) and meets(bottom)


def _tables(h_mask: np.ndarray, v_mask: np.ndarray) -> list[_Table]:
    """Each group of touching rulings, as a table of the lattice cells they enclose."""
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
    """One table's cells (``extractors.lattice``): a lattice edge is ruled where the masks cover
    most of it."""
    lattice = lattice_from_rulings(hs, vs, tol, 2 * tol + 2)
    if lattice is None:
        return None
    xs, ys, n_rows, n_cols = lattice.xs, lattice.ys, lattice.n_rows, lattice.n_cols
    h_rule = [
        [_coverage(h_mask, ys[r], xs[c], xs[c + 1], True, tol) >= 0.6 for c in range(n_cols)]
        for r in range(n_rows + 1)
    ]
    v_rule = [
        [_coverage(v_mask, xs[c], ys[r], ys[r + 1], False, tol) >= 0.6 for c in range(n_cols + 1)]
        for r in range(n_rows)
    ]
    cells = cells_from_rulings(xs, ys, h_rule, v_rule)
    box = (round(xs[0]), round(ys[0]), round(xs[-1]), round(ys[-1]))
    return _Table(box, lattice, cells)


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


def _join_cut(above: str, below: str) -> str:
    """The text of a cell cut by the page break, from its two parts."""
    return _join_lines([t for t in (above, below) if t])


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


def _page_table(
    table: _Table, read: dict[int, tuple[str, float | None]], page: int, page_height: int
) -> PageTable:
    """The table with its cells' recognised text (``read``: cell id → text, confidence)."""
    parts = []
    for c in table.cells:
        raw, confidence = read[id(c)]
        text, note = correct(raw) if raw else ("", None)
        cell = Cell(
            row=c.row,
            col=c.col,
            text=text,
            rowspan=c.rowspan,
            colspan=c.colspan,
            page=page,
            bbox=_points(_pixels(c.bbox)),
            confidence=confidence,
            note=note,
        )
        parts.append((c, cell))
    xs = [x * TO_POINTS for x in table.lattice.xs]
    return page_table(parts, xs, page, "scan", near_page_bottom(table.box[3], page_height))


def _text_grid(lines: list[_TextLine], page: int) -> Grid:
    corrected = [correct(text) for text, _, _ in lines]
    grid = text_block([text for text, _ in corrected], page=page, source="scan")
    for cell, (_, note), (_, score, box) in zip(grid.cells, corrected, lines):
        cell.confidence = round(score, 3)
        cell.bbox = _points(box)
        cell.note = note
    return grid
