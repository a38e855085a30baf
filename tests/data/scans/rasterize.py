"""Render PDF pages to grey PNGs, with a CJK font for the samples' non-embedded STSong-Light.

    python tests/data/scans/rasterize.py SRC.pdf OUT_DIR DPI PAGE [PAGE ...]   # 1-based pages

Run as its own process: it re-initialises PDFium with the Noto Sans CJK font of the
``noto-cjk-sans-otc`` package as a user font path (without one, PDFium draws no CJK glyph here).
Writes OUT_DIR/<stem>_p<PAGE>.png. ``degrade`` (importable) makes a rendering look scanned; the
scan tests and scripts/benchmark.py --scans share it.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
from pypdfium2 import _library_scope
from pypdfium2.internal import bases


def degrade(gray: np.ndarray, seed: int, angle: float, quality: int) -> np.ndarray:
    """A clean rendering (grey, or RGB) made to look scanned: rotated, blurred, noisy,
    JPEG-compressed."""
    rng = np.random.default_rng(seed)
    h, w = gray.shape[:2]
    white = (255, 255, 255) if gray.ndim == 3 else (255,)
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), angle, 1.0)
    page = cv2.warpAffine(gray, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=white)
    page = cv2.GaussianBlur(page, (3, 3), 0.6).astype(np.float32)
    page = np.clip(page + rng.normal(0, 8, page.shape), 0, 255).astype(np.uint8)
    _, data = cv2.imencode(".jpg", page, [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)


def spoil_rulings(gray: np.ndarray, seed: int, seal: bool = True) -> np.ndarray:
    """A rendering whose rulings a poor scan would lose: rule pixels lightened to a pale grey in
    stretches (faint), erased in short stretches (broken), and a red seal stamped over the middle
    of the table (an RGB page is returned when ``seal``)."""
    rng = np.random.default_rng(seed)
    page = gray.copy()
    h, w = page.shape
    ink = (page < 160).astype(np.uint8) * 255
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, w // 20), np.uint8))
    rules |= cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((h // 40, 1), np.uint8))
    rules = cv2.dilate(rules, np.ones((3, 3), np.uint8)) > 0
    faint, broken = np.zeros_like(rules), np.zeros_like(rules)
    for _ in range(40):
        x, y = rng.integers(0, w), rng.integers(0, h)
        faint[max(y - 120, 0) : y + 120, max(x - 200, 0) : x + 200] = True
    for _ in range(60):
        x, y = rng.integers(0, w), rng.integers(0, h)
        broken[max(y - 15, 0) : y + 15, max(x - 40, 0) : x + 40] = True
    page[rules & faint] = np.maximum(page[rules & faint], 175)
    page[rules & broken] = 255
    if not seal:
        return page
    rgb = cv2.cvtColor(page, cv2.COLOR_GRAY2RGB).astype(np.float32)
    stamp = np.full_like(rgb, 255)
    centre, radius = (int(w * 0.35), int(h * 0.45)), int(min(w, h) * 0.12)
    cv2.circle(stamp, centre, radius, (220, 30, 30), max(3, w // 200))
    cv2.circle(stamp, centre, radius // 3, (220, 30, 30), -1)
    return (rgb * stamp / 255).astype(np.uint8)


def _init_with_font(folder: Path) -> ctypes.Array:
    _library_scope.destroy_lib()
    path = ctypes.create_string_buffer(str(folder).encode())
    paths = (ctypes.POINTER(ctypes.c_char) * 2)(
        ctypes.cast(path, ctypes.POINTER(ctypes.c_char)), None
    )
    config = pdfium_c.FPDF_LIBRARY_CONFIG(
        version=2,
        m_pUserFontPaths=ctypes.cast(paths, ctypes.POINTER(ctypes.POINTER(ctypes.c_char))),
        m_pIsolate=None,
        m_v8EmbedderSlot=0,
    )
    pdfium_c.FPDF_InitLibraryWithConfig(config)
    bases.LIBRARY_AVAILABLE = True
    return path  # PDFium keeps the pointer: the buffer must outlive the rendering


def main(src: str, out: str, dpi: str, *pages: str) -> None:
    import noto_cjk_sans_otc

    keep = _init_with_font(Path(noto_cjk_sans_otc.__file__).parent)
    pdf = pdfium.PdfDocument(src)
    for number in map(int, pages):
        bitmap = pdf[number - 1].render(scale=int(dpi) / 72, grayscale=True)
        bitmap.to_pil().save(Path(out) / f"{Path(src).stem}_p{number}.png")
    pdf.close()
    del keep


if __name__ == "__main__":
    main(*sys.argv[1:])
