"""Scanned pages (PNG/JPEG/TIFF, or PDF pages without a text layer) → grids, by OpenCV and OCR.

The table is found from its ruling lines before any text is read, so OCR only recognises short
line crops (fast) instead of detecting text over the whole page:

1. ``_prepare``: grey (a red seal faded out), resampled to 200 dpi, median-filtered if speckled,
   turned upright (``_upright``: text lines running up the page make it sideways, and a few lines
   read both ways up tell upright from upside down; a turned page is noted on the Document), then
   deskewed by the angle of the long horizontal rulings.
2. ``_rulings``: adaptive binarisation (and ``_faint_lines`` for rulings too light for it), then
   morphological opening with long horizontal/vertical kernels leaves the ruling lines; their
   connected components are the ruling segments, kept when they meet a ruling of the other
   direction (a long text stroke meets none).
3. ``_tables``: touching rulings form a table; ``_EdgeJudge`` says which lattice edges are ruled
   when rulings are faint, broken or under a seal (ruling left on the edge, text across or apart,
   cells that must be rectangles), and ``extractors.lattice`` makes the cells with
   rowspan/colspan from that.
4. ``_cell_lines``: each cell's ink (rulings and specks removed) is split into text lines by its
   horizontal projection; blank cells are skipped. All lines of the page are recognised in
   one call (``ocr_engine.recognize``); small print (``_surface``) from a copy of the page
   prepared again at a finer resolution, as fine as the source has it.
5. Text outside the tables (titles, ``单位：元``): the bands of ink between the tables are split
   into lines by their projection and into pieces at wide gaps (``_text_pieces``), then read.
6. ``_rejoin_wrapped_labels`` / ``_split_joined_labels``: the vocabulary as a second signal for
   merged cells (a wrapped label joined again, two labels in one cell split).
7. ``ocr_corrections.correct`` snaps near-miss labels and repairs number glyphs, with a note.
8. ``extractors.stitching``: a table continued on the next scanned page is joined to it, as the
   PDF reader does for born-digital pages.

Bboxes are in points (pixels × 72 / dpi) of the upright, deskewed page; confidence is the mean
recognition score of a cell's lines.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import combinations
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
    is_rectangle,
    joined_slots,
    lattice_from_rulings,
)
from extractors.ocr_corrections import correct, holds_labels, is_label
from extractors.stitching import PageTable, TableStitcher, near_page_bottom, page_table
from schemas.grid import Cell, Document, Grid, text_block

MAX_PIXELS = 80_000_000  # larger images are refused: decoding them would take gigabytes
WORK_DPI = 200  # pages are processed at this resolution
LONE_GLYPH = 0.4  # a lone glyph's ink is at least this share of a typical line high and wide
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
A4_INCHES = (8.27, 11.69)
_TURNED = {1: "turned 90° clockwise", 2: "upside down", 3: "turned 90° anticlockwise"}

_TextLine = tuple[str, float, tuple[float, float, float, float]]  # text, score, pixel box
_PAGE_NUMBER = re.compile(
    r"^[-—–\s]*\d{1,4}[-—–\s]*$|^第\s*\d+\s*页(\s*[,，/]?\s*共\s*\d+\s*页)?$|^\d+\s*/\s*\d+$"
)


# --- entry points -----------------------------------------------------------------------------


def read_image(path: Path, password: str | None = None) -> Document:
    """Read a scanned form image (PNG/JPEG/TIFF/HEIC/WEBP/BMP; a multi-page TIFF is one page per
    frame).

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
    """Consecutive scanned pages: a table continued on the next page is joined to it (repeated
    header rows dropped, a row or merged cell cut by the page break continued), as the PDF
    reader does for born-digital pages. ``notes`` says which pages were scanned sideways or
    upside down (they are read upright).

    Pages are read side by side, as many as the OCR engine has threads (``ocr_engine.threads``):
    one page is found (rulings, cells) while the text of the one before it is recognised, so every
    core is busy; only those pages' images are in memory."""

    def __init__(self) -> None:
        self._stitcher = TableStitcher(join=_join_cut, align_left=True)
        self.notes: list[str] = []
        self._reading: deque[Future[tuple[int, int, list[Grid | PageTable]]]] = deque()
        self._readers: ThreadPoolExecutor | None = None

    def add(
        self,
        image: np.ndarray,
        page: int,
        dpi: int,
        source: Callable[[], tuple[np.ndarray, int]] | None = None,
    ) -> None:
        """Read one page image (grey or RGB array) of the run. ``source`` gives the page at a
        finer resolution than ``image``, if it has one, for small print (it may be called from
        another thread, after ``add`` returned)."""
        side_by_side = ocr_engine.threads()
        if side_by_side == 1:
            self._take(_scanned_page(image, page, dpi, source))
            return
        if self._readers is None:
            self._readers = ThreadPoolExecutor(side_by_side, thread_name_prefix="page")
        self._reading.append(self._readers.submit(_scanned_page, image, page, dpi, source))
        while len(self._reading) >= side_by_side:  # the next page is read beside the last
            self._take(self._reading.popleft().result())

    def grids(self) -> list[Grid]:
        """The grids of the pages added so far, in reading order."""
        while self._reading:
            self._take(self._reading.popleft().result())
        if self._readers is not None:
            self._readers.shutdown()
            self._readers = None
        return self._stitcher.grids()

    def _take(self, read: tuple[int, int, list[Grid | PageTable]]) -> None:
        page, turns, blocks = read
        if turns:
            self.notes.append(f"page {page} was scanned {_TURNED[turns]}; read upright")
        self._stitcher.add_page(page, blocks)


def _scanned_page(
    image: np.ndarray, page: int, dpi: int, source: Callable[[], tuple[np.ndarray, int]] | None
) -> tuple[int, int, list[Grid | PageTable]]:
    """A page image read: its number, the quarter turns that made it upright, its blocks."""
    prepared = _prepare(image, dpi, source)
    return page, prepared.turns, _read_page(prepared, page)


def _read_page(prepared: _Page, page: int) -> list[Grid | PageTable]:
    """The tables and text blocks of a prepared (``_prepare``) page, top to bottom."""
    gray = prepared.gray
    binary = _binarise(gray)
    h_mask, v_mask = _rulings(gray, binary)
    horizontals = _segments(h_mask, True, WORK_DPI // 4)  # found once for strokes and tables
    v_mask = _without_glyph_strokes(v_mask, horizontals[0], binary)
    ink = _text_ink(binary, h_mask, v_mask)
    tables = _tables(h_mask, horizontals, v_mask, ink)

    in_cells = {id(c): _cell_lines(ink, _pixels(c.bbox)) for table in tables for c in table.cells}
    heights = [b[3] - b[1] for boxes in in_cells.values() for b in boxes]
    typical = int(np.median(heights)) if heights else WORK_DPI // 8
    # small print: lower lines, glyphs ('1', '7') of fewer pixels
    thinnest = THINNEST * min(typical, SMALL_PRINT) // SMALL_PRINT
    if typical < SMALL_PRINT:
        least = BLANK * typical // SMALL_PRINT
        for c in (c for table in tables for c in table.cells):
            in_cells[id(c)] = _cell_lines(ink, _pixels(c.bbox), least, thinnest)
    in_cells = {key: _whole_glyphs(boxes, typical) for key, boxes in in_cells.items()}
    blank = {key for key, boxes in in_cells.items() if not boxes}
    for table in tables:
        _drop_empty_virtual_rows(table, blank)
    tables = [t for t in tables if len(t.cells) >= 2]  # else a frame or a box, not a table
    surface = _surface(prepared, h_mask | v_mask, typical)
    cells = [c for table in tables for c in table.cells]
    lines = _recognise_cells(cells, in_cells, surface, typical)
    for table in tables:
        _rejoin_wrapped_labels(table, lines)
        _split_joined_labels(table, lines, ink, surface, typical)
    for table in tables:
        _close_complete_last_row(table, lines)
    read: dict[int, tuple[str, float | None]] = {}  # cell id → text, confidence
    for table in tables:
        for c in table.cells:
            scores = [score for _, score, _ in lines[id(c)]]
            read[id(c)] = (
                _join_lines([text for text, _, _ in lines[id(c)]]),
                round(sum(scores) / len(scores), 3) if scores else None,
            )

    blocks: list[tuple[float, Grid | PageTable]] = [
        (t.box[1], _page_table(t, read, page, gray.shape[0])) for t in tables
    ]
    for top, text_lines in _outside_text(surface, ink, [t.box for t in tables], thinnest):
        blocks.append((top, _text_grid(text_lines, page)))
    blocks.sort(key=lambda block: block[0])
    return [block for _, block in blocks]


# --- loading ----------------------------------------------------------------------------------


def _frames(path: Path) -> Iterator[tuple[np.ndarray, int]]:
    """Each frame of an image file as a grey or RGB array (EXIF rotation applied) with its dpi,
    one at a time so a long multi-page TIFF never sits in memory whole."""
    from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError
    from pillow_heif import register_heif_opener

    register_heif_opener()  # phone photos in HEIC/HEIF
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


@dataclass
class _Page:
    """A scanned page prepared for reading (``_prepare``): grey at WORK_DPI, upright, deskewed;
    with what was done to it, so that small print can be read from a finer copy of the same page
    (``finer``) that lines up with it pixel for pixel, at a multiple of the work resolution."""

    gray: np.ndarray
    turns: int  # np.rot90's k that made it upright
    source: Callable[[], tuple[np.ndarray, int]]  # the page image at its finest, with its dpi
    corners: np.ndarray | None  # a photographed page's outline, in pixels at ``dpi``
    dpi: int
    speckled: bool
    angle: float

    def finer(self, scale: float) -> np.ndarray | None:
        """The page prepared alike at up to ``scale`` times the work resolution, as fine as its
        source allows; None when the source is no finer than the work copy."""
        image, dpi = self.source()
        corners = None if self.corners is None else self.corners * (dpi / self.dpi)
        finest = dpi if corners is None else _outline_dpi(corners)
        target = min(scale * WORK_DPI, finest)
        if target < FINER * WORK_DPI:
            return None
        gray = _grey(image, dpi, corners, self.speckled, round(target))
        return _turned(gray, self.turns, self.angle)


def _prepare(
    image: np.ndarray, dpi: int, source: Callable[[], tuple[np.ndarray, int]] | None = None
) -> _Page:
    """Grey page resampled to WORK_DPI, without red seals or speckle, turned upright and deskewed.
    ``source`` gives the page at a finer resolution than ``image`` when it has one (a PDF page
    rendered again at its image's own resolution)."""
    corners = _page_outline(image)
    gray = _grey(image, dpi, corners, False, WORK_DPI)
    dark = (gray < 128).astype(np.uint8)
    neighbours = cv2.boxFilter(dark, cv2.CV_16U, (3, 3), normalize=False) - dark
    speckled = np.count_nonzero(dark & (neighbours == 0)) > SPECKLE * gray.size
    if speckled:
        gray = cv2.medianBlur(gray, 3)  # salt-and-pepper: many isolated dark pixels
    binary = _binarise(gray)
    turns = _upright(gray, binary)
    if turns:
        gray = np.ascontiguousarray(np.rot90(gray, turns))
        binary = np.ascontiguousarray(np.rot90(binary, turns))
    angle = _skew(binary)
    return _Page(
        _turned(gray, 0, angle),
        turns,
        source or (lambda: (image, dpi)),
        corners,
        dpi,
        speckled,
        angle,
    )


def _grey(
    image: np.ndarray, dpi: int, corners: np.ndarray | None, speckled: bool, target: int
) -> np.ndarray:
    """The page grey at ``target`` dpi: a photographed page flattened and its light evened out,
    red seals faded out, speckle filtered."""
    if corners is not None:
        image, dpi = _flatten(image, corners, target)
    gray = _without_red(image) if image.ndim == 3 else image
    gray = np.ascontiguousarray(gray, dtype=np.uint8)
    scale = target / dpi if dpi > 0 else 1.0
    if abs(scale - 1) > 0.05:
        interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
        gray = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=interp)
    if corners is not None:
        gray = _even_light(gray)
        # no print this close to a sheet's edge: a sliver of desk, whitened (after the light is
        # evened out, so that the white does not pass for brighter paper beside it)
        edge = target // 10
        gray[:edge], gray[-edge:], gray[:, :edge], gray[:, -edge:] = 255, 255, 255, 255
    return cv2.medianBlur(gray, 3) if speckled else gray


def _turned(gray: np.ndarray, turns: int, angle: float) -> np.ndarray:
    """The page turned by ``turns`` quarter turns, then rotated by ``angle`` degrees."""
    if turns:
        gray = np.ascontiguousarray(np.rot90(gray, turns))
    if abs(angle) >= MIN_SKEW:
        h, w = gray.shape
        matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
        gray = cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=(255,))
    return gray


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
    # the very wide blur on a tenth of the copy (as smooth, a hundredth of the work)
    tiny = cv2.resize(small, None, fx=0.1, fy=0.1, interpolation=cv2.INTER_AREA)
    light = cv2.GaussianBlur(tiny, (0, 0), OUTLINE_SIZE / 60)
    light = cv2.resize(light, small.shape[::-1], interpolation=cv2.INTER_LINEAR)
    light = light.astype(np.float32) + 1
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
    ordered = np.float32(
        [
            corners[np.argmin(by_sum)],
            corners[np.argmin(by_diff)],
            corners[np.argmax(by_sum)],
            corners[np.argmax(by_diff)],
        ]
    )
    return _refine_outline(gray, ordered, reach=max(4, round(2 / factor)))


def _outline_dpi(corners: np.ndarray) -> float:
    """The resolution a photographed page was taken at: its outline's longer side over A4's."""
    tl, tr, br, bl = corners
    sides = [np.linalg.norm(a - b) for a, b in ((tr, tl), (br, bl), (bl, tl), (br, tr))]
    return float(max(sides)) / A4_INCHES[1]


def _refine_outline(gray: np.ndarray, corners: np.ndarray, reach: int) -> np.ndarray:
    """The outline's corners to a pixel: along each side, the paper's edge is the steepest step
    in brightness within ``reach`` pixels across the rough side; a line fitted to those points
    per side, and the corners where the lines meet. Pages of one document then flatten alike,
    so a table continued from one photo to the next keeps its columns."""
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.5).astype(np.float32)
    h, w = smooth.shape
    offsets = np.arange(-reach, reach + 1, dtype=np.float32)
    sides = []
    for start, end in zip(corners, np.roll(corners, -1, axis=0)):
        along = (end - start) / max(float(np.linalg.norm(end - start)), 1.0)
        normal = np.float32([-along[1], along[0]])
        points = []
        for t in np.linspace(0.08, 0.92, 25):
            probe = start + (end - start) * t + offsets[:, None] * normal
            xs, ys = np.rint(probe[:, 0]).astype(int), np.rint(probe[:, 1]).astype(int)
            if xs.min() < 0 or ys.min() < 0 or xs.max() >= w or ys.max() >= h:
                continue
            step = np.abs(np.diff(smooth[ys, xs]))
            k = int(np.argmax(step))
            points.append(start + (end - start) * t + (offsets[k] + 0.5) * normal)
        if len(points) < 5:
            return corners
        vx, vy, x0, y0 = cv2.fitLine(np.float32(points), cv2.DIST_HUBER, 0, 0.01, 0.01).ravel()
        sides.append((np.float32([x0, y0]), np.float32([vx, vy])))
    refined = []
    for k in range(4):
        (p, d), (q, e) = sides[k - 1], sides[k]
        det = d[0] * -e[1] + e[0] * d[1]
        if abs(det) < 1e-6:
            return corners
        s = ((q - p)[0] * -e[1] + e[0] * (q - p)[1]) / det
        refined.append(p + s * d)
    refined = np.float32(refined)
    return refined if np.abs(refined - corners).max() <= 3 * reach else corners


def _flatten(image: np.ndarray, corners: np.ndarray, dpi: int) -> tuple[np.ndarray, int]:
    """The photographed page warped flat onto an A4 sheet (the paper of official documents), the
    way round its outline is, at ``dpi``. Snapping to the sheet rather than
    keeping the outline's proportions, which perspective distorts (a photo of an A4 page can
    measure as Letter), gives every photo of a document one scale, so a table continued on the
    next photo keeps its columns."""
    tl, tr, br, bl = corners
    width = max(np.linalg.norm(tr - tl), np.linalg.norm(br - bl))
    height = max(np.linalg.norm(bl - tl), np.linalg.norm(br - tr))
    short, long = A4_INCHES
    across, down = (long, short) if width > height else (short, long)
    size = (round(across * dpi), round(down * dpi))
    target = np.float32([[0, 0], [size[0], 0], [size[0], size[1]], [0, size[1]]])
    matrix = cv2.getPerspectiveTransform(corners, target)
    flat = cv2.warpPerspective(np.ascontiguousarray(image), matrix, size, flags=cv2.INTER_LINEAR)
    return flat, dpi


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


def _rulings(gray: np.ndarray, binary: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the horizontal and the vertical ruling lines (longer than any text stroke), faint
    ones included (``_faint_lines``)."""
    h_len, v_len, bridge = WORK_DPI // 4, WORK_DPI * 3 // 20, WORK_DPI // 40
    h_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (h_len, 1))
    v_kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (1, v_len))
    light = cv2.dilate(binary, np.ones((5, 5), np.uint8)) == 0  # away from the binarised ink
    h = cv2.morphologyEx(binary | _faint_lines(gray, light, True), cv2.MORPH_OPEN, h_kernel)
    v = cv2.morphologyEx(binary | _faint_lines(gray, light, False), cv2.MORPH_OPEN, v_kernel)
    h = cv2.morphologyEx(h, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (bridge, 1)))
    v = cv2.morphologyEx(v, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (1, bridge)))
    return h, v


FAINT_CAP = 40  # grey levels: how much darker than the paper beside it a thin line counts at most
FAINT_SHARE = 0.75  # of FAINT_CAP, averaged over half an inch of line: a ruling, not noise


def _faint_lines(gray: np.ndarray, light: np.ndarray, horizontal: bool) -> np.ndarray:
    """Thin lines too light for the binarisation (a faded or lightly printed ruling): pixels
    darker than the paper a few pixels across the line, averaged along it (each counts at most
    ``FAINT_CAP``, so a speck does not make a line). Only ``light`` pixels (away from the
    binarised ink) count: text is never taken for a faint line, and dark rulings are found
    anyway. Page-sized arrays are reused in place: this runs on every page."""
    across, along = WORK_DPI // 30 | 1, WORK_DPI // 2
    size = (1, across) if horizontal else (across, 1)
    paper = cv2.dilate(gray, cv2.getStructuringElement(cv2.MORPH_RECT, size))
    darker = np.minimum(cv2.subtract(paper, gray), FAINT_CAP)
    darker[~light] = 0
    window = (along, 1) if horizontal else (1, along)
    counted = cv2.blur(light.view(np.uint8).astype(np.float32), window)
    faint = light & (counted >= 0.5)
    mean = cv2.blur(darker.astype(np.float32), window)
    mean /= np.maximum(counted, 1e-3, out=counted)
    faint &= mean >= FAINT_SHARE * FAINT_CAP
    return faint.view(np.uint8) * np.uint8(255)


@dataclass
class _Table:
    """A ruled table found on the image, in work pixels."""

    box: tuple[int, int, int, int]  # x0, top, x1, bottom
    lattice: Lattice
    cells: list[LatticeCell]
    apart: set[tuple[int, int]] = field(default_factory=set)  # edges (r, c) only text ruled


def _pixels(bbox: tuple[float, float, float, float]) -> tuple[int, int, int, int]:
    return tuple(round(v) for v in bbox)  # type: ignore[return-value]


def _drop_empty_virtual_rows(table: _Table, blank: set[int]) -> None:
    """Remove a virtual row without ink (see extractors.lattice); the box shrinks to the cells."""
    table.cells = drop_empty_virtual_rows(table.cells, table.lattice, lambda c: id(c) in blank)
    if table.cells:
        x0s, tops, x1s, bottoms = zip(*(_pixels(c.bbox) for c in table.cells))
        table.box = (min(x0s), min(tops), max(x1s), max(bottoms))


def _segments(
    mask: np.ndarray, horizontal: bool, min_len: int
) -> tuple[list[tuple[float, int, int]], list[int], np.ndarray]:
    """Ruling segments of a mask: (position across, start, end along the line), with the label of
    each in the mask's connected components (returned too)."""
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(mask, connectivity=8)
    out, ids = [], []
    for i in range(1, n):
        x, y, w, h, _ = stats[i]
        if horizontal and w >= min_len:
            out.append((float(centroids[i][1]), int(x), int(x + w - 1)))
            ids.append(i)
        elif not horizontal and h >= min_len:
            out.append((float(centroids[i][0]), int(y), int(y + h - 1)))
            ids.append(i)
    return out, ids, labels


def _crossing(
    segments: list[tuple[float, int, int]], others: list[tuple[float, int, int]], tol: int
) -> list[bool]:
    """Which segments meet a ruling of the other direction: a long stroke of text meets none."""
    return [
        any(a - tol <= o <= b + tol and oa - tol <= pos <= ob + tol for o, oa, ob in others)
        for pos, a, b in segments
    ]


def _kept(labels: np.ndarray, ids: list[int], keep: list[bool]) -> np.ndarray:
    """The mask of the kept components only."""
    lut = np.zeros(int(labels.max()) + 1, np.uint8)
    lut[[i for i, k in zip(ids, keep) if k]] = 255
    return lut[labels]


def _without_glyph_strokes(
    v_mask: np.ndarray, horizontals: list[tuple[float, int, int]], binary: np.ndarray
) -> np.ndarray:
    """The vertical rulings without the vertical strokes of large glyphs (市, 中, 率 at 10 pt and
    more are as tall as the shortest ruling): a piece shorter than half an inch must run from one
    horizontal ruling to another, or carry on a longer vertical ruling (a row cut by the page
    break). Else the stroke would be taken for a column boundary and erased from the glyph before
    it is read. A short piece in line with such a ruling is what is left of a broken one, and
    stays. A short piece with ink beside it on both sides along most of its length is a glyph's
    stroke even when it reaches the rulings above and below (a row no higher than its text).
    ``horizontals``: the horizontal ruling segments (``_segments``)."""
    tol = 2 * max(3, WORK_DPI // 50)
    n, labels, stats, centroids = cv2.connectedComponentsWithStats(v_mask, connectivity=8)
    pieces = [
        (float(centroids[i][0]), int(stats[i][1]), int(stats[i][1] + stats[i][3] - 1))
        for i in range(1, n)
    ]
    long = [p for p in pieces if p[2] - p[1] >= WORK_DPI // 2]

    def carries_on(piece: tuple[float, int, int]) -> bool:
        x, top, bottom = piece
        return any(
            abs(lx - x) <= tol and (abs(ltop - bottom) <= tol or abs(lbottom - top) <= tol)
            for lx, ltop, lbottom in long
        )

    stroke, in_glyph = np.zeros(n, bool), np.zeros(n, bool)
    for i, piece in enumerate(pieces, start=1):
        short = piece[2] - piece[1] < WORK_DPI // 2
        stroke[i] = short and not _spans_a_row(piece, horizontals, tol) and not carries_on(piece)
        in_glyph[i] = short and _inked_beside(binary, stats[i], tol)
    rulings = [pieces[i - 1][0] for i in range(1, n) if not stroke[i] and not in_glyph[i]]
    for i in np.flatnonzero(stroke):
        stroke[i] = not any(abs(x - pieces[i - 1][0]) <= tol / 2 for x in rulings)
    stroke |= in_glyph
    if not stroke.any():
        return v_mask
    return np.where(stroke[labels], 0, v_mask).astype(v_mask.dtype)


def _inked_beside(binary: np.ndarray, stat: np.ndarray, tol: int) -> bool:
    """Whether ink lies just beside a vertical piece (its ``stats`` row) on both sides, on most
    of the rows between its ends: the strokes of the glyph it belongs to, not a cell's padding."""
    x, y, w, h = (int(v) for v in stat[:4])
    rows = binary[y + tol : y + h - tol]
    if rows.shape[0] == 0:
        return False
    left = rows[:, max(x - 3, 0) : max(x - 1, 0)]
    right = rows[:, x + w + 1 : x + w + 3]
    return all(
        side.size and np.count_nonzero(side.max(axis=1)) > rows.shape[0] / 2
        for side in (left, right)
    )


def _spans_a_row(
    vertical: tuple[float, int, int], horizontals: list[tuple[float, int, int]], tol: int
) -> bool:
    """A short vertical ruling runs from one horizontal ruling to another (a column boundary of
    a single row); the vertical stroke of a large glyph, near a ruling at one end, does not."""
    x, top, bottom = vertical

    def meets(y: int) -> bool:
        return any(abs(hy - y) <= tol and a - tol <= x <= b + tol for hy, a, b in horizontals)

    return meets(top) and meets(bottom)


def _tables(
    h_mask: np.ndarray,
    horizontals: tuple[list[tuple[float, int, int]], list[int], np.ndarray],
    v_mask: np.ndarray,
    ink: np.ndarray,
) -> list[_Table]:
    """Each group of touching rulings, as a table of the lattice cells they enclose;
    ``horizontals`` are ``h_mask``'s segments (``_segments``)."""
    tol = max(3, WORK_DPI // 50)
    both = cv2.dilate(h_mask | v_mask, cv2.getStructuringElement(cv2.MORPH_RECT, (5, 5)))
    n, _, stats, _ = cv2.connectedComponentsWithStats(both, connectivity=8)
    hs, h_ids, h_labels = horizontals
    vs, v_ids, v_labels = _segments(v_mask, False, WORK_DPI * 3 // 20)
    h_keep, v_keep = _crossing(hs, vs, 2 * tol), _crossing(vs, hs, 2 * tol)
    # edges are judged on the rulings alone: a stroke of text on a lattice line is not one
    h_mask, v_mask = _kept(h_labels, h_ids, h_keep), _kept(v_labels, v_ids, v_keep)
    hs = [s for s, k in zip(hs, h_keep) if k]
    vs = [s for s, k in zip(vs, v_keep) if k]
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
        table = _lattice(inside_h, inside_v, h_mask, v_mask, ink, tol)
        if table is not None:
            tables.append(table)
    tables.sort(key=lambda t: t.box[1])
    return tables


def _coverage(
    mask: np.ndarray, across: float, start: float, end: float, horizontal: bool, tol: int
) -> float:
    """Share of a lattice edge (from start to end, at ``across``) that a ruling covers; the
    rulings it runs between left out (of a short edge, its middle third is measured)."""
    margin = min(tol + 2, int(end - start) // 3)
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
    ink: np.ndarray,
    tol: int,
) -> _Table | None:
    """One table's cells (``extractors.lattice``), its lattice edges judged by ``_EdgeJudge``."""
    lattice = lattice_from_rulings(hs, vs, tol, 2 * tol + 2)
    if lattice is None:
        return None
    judge = _EdgeJudge(lattice, h_mask, v_mask, ink, tol)
    h_rule, v_rule = judge.rules()
    xs, ys = lattice.xs, lattice.ys
    cells = cells_from_rulings(xs, ys, h_rule, v_rule)
    box = (round(xs[0]), round(ys[0]), round(xs[-1]), round(ys[-1]))
    return _Table(box, lattice, cells, judge.apart)


class _EdgeJudge:
    """Which lattice edges are ruled, when rulings may be faint, broken or under a seal.

    An edge is ruled when a ruling covers most of it (``RULED``). Below that, text decides
    first: ink running across the edge joins its two slots (a merged cell's label sits on its
    interior lines). A ruling that still covers a fair share (``BROKEN``) separates them; so does
    a clear gap between text on both sides (``SEPARATED``: more than lines of one cell leave, a
    lost ruling between two cells' texts). A region of joined slots that is not a rectangle cannot
    be a cell, nor can one with a ruling inside it: a ruling was lost, and is restored (the rest of
    a lattice line ruled inside the region, else the edge with the most ruling left) until every
    region is a rectangle without rulings inside.
    """

    RULED = 0.6  # share of an edge a ruling covers beyond doubt
    BROKEN = 0.1  # share a broken or faded ruling still covers; an edge inside a merged cell: none
    SEPARATED = 0.35  # gap between text above and below an edge, in text line heights
    PARAGRAPH = 0.6  # lines closer than this (in line heights) may be one text's

    def __init__(
        self, lattice: Lattice, h_mask: np.ndarray, v_mask: np.ndarray, ink: np.ndarray, tol: int
    ) -> None:
        self.lattice, self.ink, self.tol = lattice, ink, tol
        xs, ys = lattice.xs, lattice.ys
        self.h_cov = [
            [_coverage(h_mask, ys[r], xs[c], xs[c + 1], True, tol) for c in range(lattice.n_cols)]
            for r in range(lattice.n_rows + 1)
        ]
        self.v_cov = [
            [
                _coverage(v_mask, xs[c], ys[r], ys[r + 1], False, tol)
                for c in range(lattice.n_cols + 1)
            ]
            for r in range(lattice.n_rows)
        ]
        self.line_height = self._line_height()
        self.joined_by_text: set[tuple[bool, int, int]] = set()  # edges text runs across
        self.apart: set[tuple[int, int]] = set()  # edges between rows only the text separates

    def rules(self) -> tuple[list[list[bool]], list[list[bool]]]:
        """``h_rule``, ``v_rule`` as ``extractors.lattice.cells_from_rulings`` takes them."""
        n_rows, n_cols = self.lattice.n_rows, self.lattice.n_cols
        h_rule = [
            [self._ruled(cov, r, c, True) for c, cov in enumerate(row)]
            for r, row in enumerate(self.h_cov)
        ]
        v_rule = [
            [self._ruled(cov, r, c, False) for c, cov in enumerate(row)]
            for r, row in enumerate(self.v_cov)
        ]
        while True:
            regions = joined_slots(h_rule, v_rule, n_rows, n_cols)
            lost = [edge for s in regions for edge in self._cut_lines(s, h_rule, v_rule)]
            for s in regions:
                if not lost and not is_rectangle(s, n_cols):
                    lost.append(max(self._inner_edges(s, h_rule, v_rule))[1:])
            if not lost:
                return h_rule, v_rule
            for horizontal, r, c in lost:
                (h_rule if horizontal else v_rule)[r][c] = True

    def _cut_lines(
        self, slots: list[int], h_rule: list[list[bool]], v_rule: list[list[bool]]
    ) -> list[tuple[bool, int, int]]:
        """The unruled edges of lattice lines that are ruled elsewhere inside the same region: a
        ruling inside one cell cannot be, so the line was lost where it is missing (unless text
        runs across it there)."""
        n_cols, members, lines = self.lattice.n_cols, set(slots), {}
        for s in slots:
            r, c = divmod(s, n_cols)
            if s + n_cols in members:
                lines.setdefault((True, r + 1), []).append((h_rule[r + 1][c], c))
            if c + 1 < n_cols and s + 1 in members:
                lines.setdefault((False, c + 1), []).append((v_rule[r][c + 1], r))
        out = []
        for (horizontal, at), edges in lines.items():
            if any(ruled for ruled, _ in edges):
                edges = [
                    (horizontal, at, i) if horizontal else (horizontal, i, at)
                    for r, i in edges
                    if not r
                ]
                out += [edge for edge in edges if edge not in self.joined_by_text]
        return out

    def _ruled(self, cov: float, r: int, c: int, horizontal: bool) -> bool:
        if cov >= self.RULED:
            return True
        inner = 0 < r < self.lattice.n_rows if horizontal else 0 < c < self.lattice.n_cols
        if not inner:
            return cov >= self.BROKEN
        crossed, separated = self._text_across(r, c, horizontal)
        if crossed:
            self.joined_by_text.add((horizontal, r, c))
        if not crossed and cov < self.BROKEN and separated:
            self.apart.add((r, c))
        return not crossed and (cov >= self.BROKEN or separated)

    def _inner_edges(
        self, slots: list[int], h_rule: list[list[bool]], v_rule: list[list[bool]]
    ) -> list[tuple[float, bool, int, int]]:
        """The unruled edges between slots of one region, each with how likely it is a lost
        ruling: the share a ruling still covers, and more when the ruling runs on both sides of
        it (the lines inside a merged cell end at its border), less when text runs across it."""
        n_cols, members, out = self.lattice.n_cols, set(slots), []
        for s in slots:
            r, c = divmod(s, n_cols)
            if s + n_cols in members and not h_rule[r + 1][c]:
                line = h_rule[r + 1]
                on = [line[i] for i in (c - 1, c + 1) if 0 <= i < len(line)]
                lost = (
                    self.h_cov[r + 1][c] + sum(on) / 4 - ((True, r + 1, c) in self.joined_by_text)
                )
                out.append((lost, True, r + 1, c))
            if c + 1 < n_cols and s + 1 in members and not v_rule[r][c + 1]:
                on = [v_rule[i][c + 1] for i in (r - 1, r + 1) if 0 <= i < len(v_rule)]
                lost = (
                    self.v_cov[r][c + 1] + sum(on) / 4 - ((False, r, c + 1) in self.joined_by_text)
                )
                out.append((lost, False, r, c + 1))
        return out

    def _line_height(self) -> float:
        """The typical height of a text line in the table's slots, in pixels."""
        xs, ys = self.lattice.xs, self.lattice.ys
        heights = [
            bottom - top
            for r in range(self.lattice.n_rows)
            for c in range(self.lattice.n_cols)
            for _, top, _, bottom in _cell_lines(
                self.ink, _pixels((xs[c], ys[r], xs[c + 1], ys[r + 1]))
            )
        ]
        return float(np.median(heights)) if heights else WORK_DPI / 8

    def _text_across(self, r: int, c: int, horizontal: bool) -> tuple[bool, bool]:
        """Whether text runs across the inner edge (r, c); and, for an edge between rows, whether
        the texts nearest above and below it stand apart as two cells' do: a clear gap, and not
        pressed against the edge from both sides as the halves of one cell's lines are. Above
        and below, the column is looked at up to the nearest edge ruled beyond doubt (a label
        centred in a cell of several rows lies rows away from the edge)."""
        xs, ys, pad = self.lattice.xs, self.lattice.ys, self.tol + 2
        if horizontal:  # the edge between rows r-1 and r, over column c
            top = max(i for i in range(r) if i == 0 or self.h_cov[i][c] >= self.RULED)
            bottom = min(
                i
                for i in range(r + 1, self.lattice.n_rows + 1)
                if i == self.lattice.n_rows or self.h_cov[i][c] >= self.RULED
            )
            y0, y1 = round(ys[top]) + pad, round(ys[bottom]) - pad
            region = self.ink[y0:y1, round(xs[c]) + pad : round(xs[c + 1]) - pad]
            profile, at = np.count_nonzero(region, axis=1) > 0, round(ys[r]) - y0
        else:  # the edge between columns c-1 and c, beside row r
            x0, x1 = round(xs[c - 1]) + pad, round(xs[c + 1]) - pad
            region = self.ink[round(ys[r]) + pad : round(ys[r + 1]) - pad, x0:x1]
            profile, at = np.count_nonzero(region, axis=0) > 0, round(xs[c]) - x0
        if region.size == 0 or not pad <= at < profile.size - pad:
            return False, False
        for a, b in _runs(profile):  # a sliver (what is left of a ruling, a speck) is no text
            if b - a < 0.25 * self.line_height:
                profile[a:b] = False
        runs = []
        for a, b in _runs(profile):
            if a < at - pad and b > at + pad + 1:
                return self._stroke_across(region, at, horizontal), False
            if a < at - pad or b > at + pad + 1:  # within the ruling's band: what is left of it
                runs.append((a, b))
        above = [run for run in runs if run[0] + run[1] < 2 * at]
        below = [run for run in runs if run[0] + run[1] >= 2 * at]
        if not horizontal or not above or not below:
            return False, False  # words of one line stand as far apart as two cells' texts do
        gaps = [b[0] - a[1] for a, b in zip(runs, runs[1:])]  # between consecutive text lines
        k = len(above) - 1  # the gap across the edge
        beside = [g for g in gaps[max(k - 1, 0) : k] + gaps[k + 1 : k + 2]]
        paragraph = [g for g in beside if g < self.PARAGRAPH * self.line_height]
        if gaps[k] < self.SEPARATED * self.line_height or (
            paragraph and gaps[k] < 1.5 * max(paragraph)
        ):
            return False, False  # as close as the lines of one text
        above_top = above[-1][0] - (above[-2][1] if len(above) > 1 else 0)
        below_bottom = (below[1][0] if len(below) > 1 else profile.size) - below[0][1]
        above_bottom, below_top = at - pad - above[-1][1], below[0][0] - at - pad
        pressed = above_bottom < 0.5 * above_top and below_top < 0.5 * below_bottom
        return False, not pressed

    def _stroke_across(self, region: np.ndarray, at: int, horizontal: bool) -> bool:
        """Whether ink runs unbroken through the ruling's band at ``at`` of the region, as the
        strokes of a label written over the edge do; text pressed against the line from both
        sides, joined through what a faint or broken ruling left of itself, does not."""
        lo, hi = max(at - self.tol, 0), at + self.tol + 1
        band = region[lo:hi] if horizontal else region[:, lo:hi].T
        return bool(np.all(band > 0, axis=0).any())


# --- text -------------------------------------------------------------------------------------


SMALL_PRINT = 16  # pixels at WORK_DPI: text lines less high are read from a finer copy
THINNEST = (
    WORK_DPI // 20
)  # pixels: a run of ink less high is a fragment of a line (of normal print)
SPLIT_GLYPH = 0.7  # of the page's line height: a line less high may be half of a split glyph
WHOLE_LINE = 1.15  # of the page's line height: the most two halves of one line span together
BLANK = WORK_DPI // 10  # pixels of ink: a cell with less holds a few specks at most (normal print)
SLASH_LEAN = 0.12  # of its height: how far right a lone stroke's top lies of its bottom, at least
UPRIGHT_STROKES = frozenset("1lI|i!")  # what the model reads a lone '/' as
READABLE = 28  # pixels: the line height small print is read at, as far as the source allows
FINER = 1.25  # times WORK_DPI: a finer copy less fine than this is not worth preparing


@dataclass
class _Surface:
    """What text is read from: the page with its rulings whitened (``clean``) and as it is
    (``gray``), at ``scale`` times the work resolution (a finer copy when the print is small);
    crops are asked for in work pixels."""

    clean: np.ndarray
    gray: np.ndarray
    scale: float = 1.0

    def crop(self, y0: int, y1: int, x0: int, x1: int, clean: bool = True) -> np.ndarray:
        k, image = self.scale, self.clean if clean else self.gray
        return image[round(y0 * k) : round(y1 * k), round(x0 * k) : round(x1 * k)]


def _surface(page: _Page, rulings: np.ndarray, typical: int) -> _Surface:
    """The page to read text from: the work copy, or for small print (text lines lower than
    ``SMALL_PRINT``) a finer copy prepared again from the source at the resolution the
    recogniser needs (``READABLE``), as far as the source has it."""
    fine = page.finer(READABLE / typical) if typical < SMALL_PRINT else None
    gray = page.gray if fine is None else fine
    scale = gray.shape[1] / page.gray.shape[1]
    mask = rulings
    if fine is not None:
        mask = cv2.resize(rulings, (gray.shape[1], gray.shape[0]), interpolation=cv2.INTER_NEAREST)
    reach = max(3, round(3 * scale))
    clean = gray.copy()
    clean[cv2.dilate(mask, np.ones((reach, reach), np.uint8)) > 0] = 255  # rulings out
    return _Surface(clean, gray, scale)


def _text_ink(binary: np.ndarray, h_mask: np.ndarray, v_mask: np.ndarray) -> np.ndarray:
    """Ink that is not a ruling line, without specks too small to be part of a glyph."""
    lines = cv2.dilate(h_mask | v_mask, cv2.getStructuringElement(cv2.MORPH_RECT, (3, 3)))
    ink = cv2.bitwise_and(binary, cv2.bitwise_not(lines))
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    small = stats[:, cv2.CC_STAT_AREA] < max(3, WORK_DPI // 40)
    small[0] = False
    ink[small[labels]] = 0
    return ink


def _cell_lines(
    ink: np.ndarray, box: tuple[int, int, int, int], blank: int = BLANK, thinnest: int = THINNEST
) -> list[tuple[int, int, int, int]]:
    """Ink boxes of the text lines inside a cell (page pixels), top to bottom; none if it holds
    less than ``blank`` pixels of ink. Runs less high than ``thinnest`` are fragments."""
    pad = max(3, WORK_DPI // 50)
    x0, top, x1, bottom = box[0] + pad, box[1] + pad, box[2] - pad, box[3] - pad
    if x1 - x0 < 4 or bottom - top < 4:
        return []
    region = ink[top:bottom, x0:x1]
    rows = np.count_nonzero(region, axis=1)
    if rows.sum() < blank:
        return []
    out = []
    for r0, r1 in _merge_fragments(_runs(rows > 0), thinnest):
        cols = np.flatnonzero(np.count_nonzero(region[r0:r1], axis=0))
        if cols.size:
            out.append((x0 + int(cols[0]), top + r0, x0 + int(cols[-1]) + 1, top + r1))
    return out


def _whole_glyphs(
    boxes: list[tuple[int, int, int, int]], typical: int
) -> list[tuple[int, int, int, int]]:
    """A cell's line boxes with a glyph split across a gap in its ink (高, 二, 合: a top part
    over a bottom part) made one line again: two lines one above the other, each lower than the
    page's lines and together no higher than one, are the halves of one line of glyphs."""
    out: list[tuple[int, int, int, int]] = []
    for box in boxes:
        if out:
            above = out[-1]
            overlap = min(above[2], box[2]) - max(above[0], box[0])
            if (
                max(above[3] - above[1], box[3] - box[1]) < SPLIT_GLYPH * typical
                and box[3] - above[1] <= WHOLE_LINE * typical
                and overlap >= 0.5 * min(above[2] - above[0], box[2] - box[0])
            ):
                out[-1] = (min(above[0], box[0]), above[1], max(above[2], box[2]), box[3])
                continue
        out.append(box)
    return out


def _recognise_cells(
    cells: list[LatticeCell],
    boxes: dict[int, list[tuple[int, int, int, int]]],
    surface: _Surface,
    typical: int,
) -> dict[int, list[_TextLine]]:
    """The text lines read in each cell (cell id → lines with text), all in one call. A speck
    smaller than a glyph that reads as nothing clear (what is left of a broken ruling read as
    '7' or '!') is no line. A lone glyph read unsure is read again cropped to itself, and kept
    when that reads an operator; a lone stroke leaning right is '/'."""
    jobs = [(c, b) for c in cells for b in boxes[id(c)]]
    crops = [_line_crop(surface, b, _pixels(c.bbox), typical) for c, b in jobs]
    texts = ocr_engine.recognize(crops)
    unsure = [
        k
        for k, ((_, box), (text, score)) in enumerate(zip(jobs, texts))
        if len(text) <= 1
        and score < ocr_engine.MIN_SCORE
        and (box[3] - box[1]) / 2 <= box[2] - box[0] < typical  # no upright stroke: a ruling's
    ]
    again = ocr_engine.recognize([_glyph_crop(surface, jobs[k][1], jobs[k][0]) for k in unsure])
    for k, (text, score) in zip(unsure, again):
        if score > texts[k][1] and text and unicodedata.category(text[0]) == "Sm":
            texts[k] = (text, score)  # an operator, not a speck read as a letter or digit
    out: dict[int, list[_TextLine]] = {id(c): [] for c in cells}
    for (c, box), (text, score) in zip(jobs, texts):
        if text in UPRIGHT_STROKES and _leans_right(surface.crop(box[1], box[3], box[0], box[2])):
            text = "/"  # a cell's '/' (nothing applies), not the number 1
        speck = box[2] - box[0] < typical and box[3] - box[1] < 0.8 * typical
        if text and not (speck and score < ocr_engine.MIN_SCORE):
            out[id(c)].append((text, score, box))
    return out


def _glyph_crop(
    surface: _Surface, ink_box: tuple[int, int, int, int], cell: LatticeCell
) -> np.ndarray:
    """A lone glyph lower than the line ('>', '≥', '='), cropped to itself: half its height above
    and below and half as wide again as high. In a crop a line high it is too small for the
    model, which reads a lone '>' as 'v' or nothing sure."""
    x0, top, x1, bottom = ink_box
    bounds = _pixels(cell.bbox)
    margin = max(2, (bottom - top) // 2)
    y0, y1 = max(top - margin, bounds[1]), min(bottom + margin, bounds[3])
    aside = max(margin, (3 * (y1 - y0) // 2 - (x1 - x0) + 1) // 2)
    return surface.crop(y0, y1, max(x0 - aside, bounds[0]), min(x1 + aside, bounds[2]))


def _leans_right(crop: np.ndarray) -> bool:
    """Whether the ink of a lone stroke leans right like '/': the middle of its top third lies
    right of the middle of its bottom third by ``SLASH_LEAN`` of its height ('1' leans left)."""
    if crop.size == 0:
        return False
    ink = crop < (int(crop.max()) + int(crop.min())) // 2
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size < 3:
        return False
    height = int(rows[-1] - rows[0] + 1)
    third = max(1, height // 3)
    top = np.nonzero(ink[rows[0] : rows[0] + third])[1].mean()
    bottom = np.nonzero(ink[rows[-1] + 1 - third : rows[-1] + 1])[1].mean()
    return bool(top - bottom > SLASH_LEAN * height)


def _close_complete_last_row(table: _Table, lines: dict[int, list[_TextLine]]) -> None:
    """A last row left open at the bottom only because its bottom ruling is missing (some
    producers draw none above a page break) is closed when its text says the row is whole:
    in every one-row cell with text, the last line stands as far above the row's bottom as the
    first stands below its top. A row cut by the page break has text running to the cut. Cells
    of several rows stay open: they may go on over the break."""
    n_rows = max((c.row + c.rowspan for c in table.cells), default=0)
    last = [c for c in table.cells if c.row == n_rows - 1 and c.rowspan == 1]
    if not last or not all(c.open_bottom for c in last):
        return
    texts = [(c, [box for _, _, box in lines[id(c)]]) for c in last if lines[id(c)]]
    if not texts:
        return
    for cell, boxes in texts:
        _, top, _, bottom = cell.bbox
        above = min(b[1] for b in boxes) - top
        below = bottom - max(b[3] for b in boxes)
        height = max(b[3] - b[1] for b in boxes)
        if below < 0.8 * above or below < 0.25 * height:
            return
    for cell in last:
        cell.open_bottom = False


def _rejoin_wrapped_labels(table: _Table, lines: dict[int, list[_TextLine]]) -> None:
    """Join again two cells that only a gap between their texts set apart when together they
    read as one label of the vocabulary and the lower alone is none ('服务对象满意度' over
    '指标'): one label wrapped with loose line spacing."""
    below = {(c.row, c.col, c.colspan): c for c in table.cells}
    dropped: set[int] = set()
    for cell in sorted(table.cells, key=lambda c: (c.row, c.col)):
        if id(cell) in dropped:
            continue
        while True:
            nxt = below.get((cell.row + cell.rowspan, cell.col, cell.colspan))
            cols = range(cell.col, cell.col + cell.colspan)
            if nxt is None or not all((nxt.row, c) in table.apart for c in cols):
                break
            lower = _join_lines([t for t, _, _ in lines[id(nxt)]])
            both = _join_lines([t for t, _, _ in lines[id(cell)] + lines[id(nxt)]])
            if not lower or is_label(lower, near_miss=False) or not is_label(both):
                break
            cell.rowspan += nxt.rowspan
            cell.bbox = (cell.bbox[0], cell.bbox[1], cell.bbox[2], nxt.bbox[3])
            cell.open_bottom = nxt.open_bottom
            lines[id(cell)] = lines[id(cell)] + lines[id(nxt)]
            dropped.add(id(nxt))
    table.cells = [c for c in table.cells if id(c) not in dropped]


def _split_joined_labels(
    table: _Table,
    lines: dict[int, list[_TextLine]],
    ink: np.ndarray,
    surface: _Surface,
    typical: int,
) -> None:
    """Split a merged cell whose text is two or more labels of the form's vocabulary standing
     apart at lattice lines ('产出指标' over '效益指标', '绩效指标 产出指标'): the ruling between
     those cells was lost (faint, broken, under a seal) and no ruling or gap told. Rows are split
     first (at the lattice line in the gap between the labels' lines), then columns (at lattice
    lines no ink crosses; the parts are read again). A column line that the rows above or below
     the cell have is tried too, even when the cell's text holds one label or none that was read
     ('二级 三级指标' read as one line)."""
    bounds: dict[int, set[int]] = {}  # row → the column lines its cells have
    for c in table.cells:
        for r in range(c.row, c.row + c.rowspan):
            bounds.setdefault(r, set()).update((c.col, c.col + c.colspan))
    out: list[LatticeCell] = []
    for cell in table.cells:
        text = _join_lines([t for t, _, _ in lines[id(cell)]])
        if holds_labels(text):
            for part in _split_rows(cell, lines, table.lattice):
                out += _split_columns(part, lines, table.lattice, ink, surface, typical)
            continue
        around = bounds.get(cell.row - 1, set()) | bounds.get(cell.row + cell.rowspan, set())
        inner = set(range(cell.col + 1, cell.col + cell.colspan)) & around
        if text and inner and not is_label(text):
            out += _split_columns(cell, lines, table.lattice, ink, surface, typical, inner)
        else:
            out.append(cell)
    table.cells = sorted(out, key=lambda c: (c.row, c.col))


def _part(cell: LatticeCell, r0: int, r1: int, c0: int, c1: int, lattice: Lattice) -> LatticeCell:
    """The slots [r0, r1) x [c0, c1) of a cell, as a cell of their own."""
    xs, ys = lattice.xs, lattice.ys
    return LatticeCell(
        r0,
        c0,
        r1 - r0,
        c1 - c0,
        (xs[c0], ys[r0], xs[c1], ys[r1]),
        cell.open_top and r0 == cell.row,
        cell.open_bottom and r1 == cell.row + cell.rowspan,
    )


def _split_rows(
    cell: LatticeCell, lines: dict[int, list[_TextLine]], lattice: Lattice
) -> list[LatticeCell]:
    """The cell split between rows into parts whose lines each read as one label (fewest
    parts), or the cell itself."""
    read, ys = sorted(lines[id(cell)], key=lambda line: line[2][1]), lattice.ys
    inner = range(cell.row + 1, cell.row + cell.rowspan)
    cuts: list[int | None] = []  # per gap between consecutive lines: the lattice line in it
    for upper, lower in zip(read, read[1:]):
        low, high = upper[2][3], lower[2][1]
        inside = [r for r in inner if low <= ys[r] <= high]
        cuts.append(min(inside, key=lambda r: abs(ys[r] - (low + high) / 2)) if inside else None)
    usable = [i for i, row in enumerate(cuts) if row is not None]
    for n in range(1, len(usable) + 1):
        for chosen in combinations(usable, n):
            groups = [read[a + 1 : b + 1] for a, b in zip((-1, *chosen), (*chosen, len(read) - 1))]
            if all(is_label(_join_lines([t for t, _, _ in g])) for g in groups):
                rows = [cell.row, *(cuts[i] for i in chosen), cell.row + cell.rowspan]
                parts = []
                for (r0, r1), group in zip(zip(rows, rows[1:]), groups):
                    part = _part(cell, r0, r1, cell.col, cell.col + cell.colspan, lattice)
                    lines[id(part)] = group
                    parts.append(part)
                return parts
    return [cell]


def _split_columns(
    cell: LatticeCell,
    lines: dict[int, list[_TextLine]],
    lattice: Lattice,
    ink: np.ndarray,
    surface: _Surface,
    typical: int,
    only: set[int] | None = None,
) -> list[LatticeCell]:
    """The cell split at the inner column lines (``only`` these, if given) no ink crosses, when
    every part with ink then reads as one label (a part without ink joins the part before it),
    or the cell itself."""
    x0, top, x1, bottom = _pixels(cell.bbox)
    xs, pad = lattice.xs, max(3, WORK_DPI // 50)
    inked = np.count_nonzero(ink[top + pad : bottom - pad, x0:x1], axis=0) > 0
    for a, b in _runs(inked):  # a sliver (what is left of a ruling) is no text
        if b - a < 0.25 * typical:
            inked[a:b] = False
    free = [
        k
        for k in range(cell.col + 1, cell.col + cell.colspan)
        if (only is None or k in only)
        and not inked[max(round(xs[k]) - x0 - pad, 0) : round(xs[k]) - x0 + pad + 1].any()
    ]
    if not free:
        return [cell]
    bounds = [cell.col, *free, cell.col + cell.colspan]
    rows = (cell.row, cell.row + cell.rowspan)
    parts: list[LatticeCell] = []
    for c0, c1 in zip(bounds, bounds[1:]):
        part = _part(cell, *rows, c0, c1, lattice)
        if parts and not _cell_lines(ink, _pixels(part.bbox)):
            parts[-1] = _part(cell, *rows, parts[-1].col, c1, lattice)
        else:
            parts.append(part)
    if len(parts) < 2:
        return [cell]
    boxes = {id(p): _cell_lines(ink, _pixels(p.bbox)) for p in parts}
    read = _recognise_cells(parts, boxes, surface, typical)
    if not all(is_label(_join_lines([t for t, _, _ in read[id(p)]])) for p in parts):
        return [cell]
    lines.update(read)
    return parts


def _line_crop(
    surface: _Surface,
    ink_box: tuple[int, int, int, int],
    cell: tuple[int, int, int, int],
    typical: int,
) -> np.ndarray:
    """A line's crop for recognition: at least a typical line high (a lone '—' stays a dash)."""
    x0, top, x1, bottom = ink_box
    half = max(bottom - top, typical) / 2
    centre = (top + bottom) / 2
    # a third of a line above and below, as the detector's boxes have: less makes the text
    # larger in the model's 48-px input, hence wider and slower to read; more loses glyphs
    above, aside = max(3, typical // 3), max(3, typical // 6)
    y0 = max(int(centre - half) - above, cell[1])
    y1 = min(int(centre + half + 0.5) + above, cell[3])
    left, right = max(x0 - aside, cell[0]), min(x1 + aside, cell[2])
    # a lone glyph (an operator, a digit) is read with the cell's paper beside it, the crop half
    # as wide again as it is high: narrower, the model reads a lone '≥' as 'V' or 'N', or as
    # nothing sure. Not a stroke or a speck (what is left of a ruling), which then reads as 'C'
    # or 'D'; and the paper only, short of the cell's rulings
    wide, margin = (3 * (y1 - y0) // 2 - (x1 - x0) + 1) // 2, max(3, typical // 6)
    glyph = min(bottom - top, x1 - x0) >= LONE_GLYPH * typical
    if wide > aside and glyph:
        left = min(left, max(x0 - wide, cell[0] + margin))
        right = max(right, min(x1 + wide, cell[2] - margin))
    return surface.crop(y0, y1, left, right)


def _runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) of each run of True."""
    padded = np.concatenate(([False], flags, [False]))
    edges = np.flatnonzero(padded[1:] != padded[:-1])
    return [(int(a), int(b)) for a, b in zip(edges[::2], edges[1::2])]


def _merge_fragments(
    runs: list[tuple[int, int]], thinnest: int = THINNEST
) -> list[tuple[int, int]]:
    """Join a run much thinner than the cell's lines (a stroke, a split glyph), or less high
    than ``thinnest``, to its neighbour."""
    runs = list(runs)
    while len(runs) > 1:
        heights = [b - a for a, b in runs]
        typical = float(np.median(heights))
        thin = min(range(len(runs)), key=lambda i: heights[i])
        if heights[thin] >= 0.5 * typical and heights[thin] >= thinnest:
            break
        gaps = []
        if thin > 0:
            gaps.append((runs[thin][0] - runs[thin - 1][1], thin - 1))
        if thin + 1 < len(runs):
            gaps.append((runs[thin + 1][0] - runs[thin][1], thin))
        gap, i = min(gaps)
        if gap > max(typical, thinnest):
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
    surface: _Surface,
    ink: np.ndarray,
    table_boxes: list[tuple[int, int, int, int]],
    thinnest: int = THINNEST,
) -> list[tuple[float, list[_TextLine]]]:
    """Runs of text lines outside the tables, as (top, [(text, score, box)]) in reading order;
    boxes in work pixels."""
    free = ink.copy()
    margin = WORK_DPI // 40
    for x0, top, x1, bottom in table_boxes:
        free[max(top - margin, 0) : bottom + margin, max(x0 - margin, 0) : x1 + margin] = 0
    rows = np.count_nonzero(free, axis=1)
    bands = _runs(rows > 0)
    edges = sorted(
        {0, ink.shape[0], *[t for _, t, _, _ in table_boxes], *[b for _, _, _, b in table_boxes]}
    )
    out = []
    for lo, hi in zip(edges, edges[1:]):
        inside = [(a, b) for a, b in bands if a >= lo and b <= hi]
        if not inside or sum(rows[a:b].sum() for a, b in inside) < WORK_DPI // 4:
            continue
        top, bottom = inside[0][0], inside[-1][1]
        cols = np.nonzero(np.count_nonzero(free[top:bottom], axis=0))[0]
        pad = WORK_DPI // 20
        y0, y1 = max(top - pad, 0), min(bottom + pad, ink.shape[0])
        x0, x1 = max(int(cols[0]) - pad, 0), min(int(cols[-1]) + pad, ink.shape[1])
        outside = free[y0:y1, x0:x1] > 0  # False: rulings and table text near the band
        table = np.zeros_like(outside)
        for bx0, btop, bx1, bbottom in table_boxes:  # a band beside a table: the table blank
            table[
                max(btop - margin - y0, 0) : max(bbottom + margin - y0, 0),
                max(bx0 - margin - x0, 0) : max(bx1 + margin - x0, 0),
            ] = True
        region = surface.crop(y0, y1, x0, x1, clean=False).copy()
        if region.shape != outside.shape:
            size = (region.shape[1], region.shape[0])
            outside = cv2.resize(outside.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
            table = cv2.resize(table.view(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        region[(~outside & (region < 128)) | table] = 255
        pieces = _text_pieces(free[y0:y1, x0:x1], thinnest)  # the tables are blank in ``free``
        lines = _reading_order(_recognise_pieces(region, pieces, surface.scale, x0, y0))
        lines = [ln for ln in lines if not _PAGE_NUMBER.match(ln[0])]
        if lines:
            out.append((float(lines[0][2][1]), lines))
    return out


APART = 1.5  # line heights: a wider gap between the ink of one text line parts two pieces


def _text_pieces(free: np.ndarray, thinnest: int) -> list[tuple[int, int, int, int]]:
    """Boxes (x0, top, x1, bottom) of the pieces of text in a band of ink outside the tables:
    its lines by the horizontal projection, each split where the ink leaves a gap wider than
    ``APART`` line heights (a title's words stand closer; '单位：元' at the margin apart)."""
    out = []
    for r0, r1 in _merge_fragments(_runs(np.count_nonzero(free, axis=1) > 0), thinnest):
        line = free[r0:r1]
        pieces: list[tuple[int, int]] = []
        for a, b in _runs(np.count_nonzero(line, axis=0) > 0):
            if pieces and a - pieces[-1][1] <= APART * (r1 - r0):
                pieces[-1] = (pieces[-1][0], b)
            else:
                pieces.append((a, b))
        for a, b in pieces:
            rows = np.count_nonzero(line[:, a:b], axis=1)
            if rows.sum() < WORK_DPI // 10:
                continue  # a few specks
            inked = np.flatnonzero(rows)
            out.append((a, r0 + int(inked[0]), b, r0 + int(inked[-1]) + 1))
    return out


def _recognise_pieces(
    region: np.ndarray,
    pieces: list[tuple[int, int, int, int]],
    scale: float,
    x0: int,
    y0: int,
) -> list[_TextLine]:
    """The pieces of a band (boxes in work pixels from the band's corner ``x0, y0``) read from
    ``region`` (the band at ``scale`` times the work resolution); what reads as nothing clear
    left out. Boxes come back in page work pixels."""
    crops = []
    for left, top, right, bottom in pieces:
        height = bottom - top
        above, aside = max(3, height // 3), max(3, height // 6)
        crops.append(
            region[
                round(max(top - above, 0) * scale) : round((bottom + above) * scale),
                round(max(left - aside, 0) * scale) : round((right + aside) * scale),
            ]
        )
    return [
        (text, score, (left + x0, top + y0, right + x0, bottom + y0))
        for (text, score), (left, top, right, bottom) in zip(ocr_engine.recognize(crops), pieces)
        if text and score >= ocr_engine.MIN_SCORE
    ]


def _reading_order(pieces: list[_TextLine]) -> list[_TextLine]:
    """Pieces of text joined into lines (vertical overlap), top to bottom, left to right."""
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
