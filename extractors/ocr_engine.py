"""The OCR engine: the PP-OCRv6 recognition model shipped inside the ``rapidocr`` wheel, run
offline.

One engine per process, loaded on first use. ``recognize`` reads single-line crops with the
recognition model directly, each crop at its own width (padded to a multiple of 8 pixels only;
crops of the same padded width are run together), then CTC-decoded; batches run on one thread
per core. Padding a crop to the width of others in a batch (rapidocr pads every crop to 320 px)
costs as much as the padding is wide and changes what the crop reads: stray glyphs at the
padding's edge ('1414.84' for 14.84). The lines themselves are found by the scan reader from the
ink's projections, so no detection model is run.
"""

from __future__ import annotations

import importlib.util
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from extractors.errors import UnreadableFile

# the model the rapidocr 3.10 wheel carries: given by path, nothing is ever downloaded
REC_MODEL = "PP-OCRv6_rec_small.onnx"
REC_HEIGHT = 48  # the recognition model's input height
BATCH = 8  # crops of one padded width run together, at most this many (a run costs ~1.5 ms)
MIN_SCORE = 0.5  # a line read with a lower score is noise, not text

_INSTALL = "reading scanned pages needs the OCR engine: pip install rapidocr==3.10.0 onnxruntime"

# the threads an engine runs on (at most 4); None: one per core. A process reading beside
# others is given its share of the cores (flows.extraction.pool), so that they do not contend.
THREADS: int | None = None

_engine: _Engine | None = None
_lock = threading.Lock()


class _Engine:
    def __init__(self) -> None:
        try:
            import onnxruntime as ort
        except ImportError as exc:  # pragma: no cover - a broken install
            raise UnreadableFile(_INSTALL) from exc
        package = importlib.util.find_spec("rapidocr")  # its model only: no need to import it
        if package is None or package.origin is None:
            raise UnreadableFile(_INSTALL)
        models = Path(package.origin).parent / "models"
        rec = models / REC_MODEL
        if not rec.is_file():
            raise UnreadableFile(
                f"the OCR model is missing from {models}: reinstall rapidocr==3.10.0, whose "
                "wheel ships it"
            )
        self.pool = ThreadPoolExecutor(threads(), thread_name_prefix="ocr")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.rec = ort.InferenceSession(str(rec), options, providers=["CPUExecutionProvider"])
        self.rec_input = self.rec.get_inputs()[0].name
        charset = self.rec.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.charset = ["", *charset, " "]  # CTC blank first; PP-OCR appends the space

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        same_width: dict[int, list[int]] = {}  # crops padded alike run as one batch
        for i, crop in enumerate(crops):
            same_width.setdefault(-(-_width(crop) // 8) * 8, []).append(i)
        batches = [
            (width, idx[start : start + BATCH])
            for width, idx in same_width.items()
            for start in range(0, len(idx), BATCH)
        ]
        out: list[tuple[str, float]] = [("", 0.0)] * len(crops)

        def run(width: int, idx: list[int]) -> None:
            batch = np.zeros((len(idx), 3, REC_HEIGHT, width), np.float32)
            for j, i in enumerate(idx):
                image = _normalise(crops[i])
                batch[j, :, :, : image.shape[2]] = image
            probs = self.rec.run(None, {self.rec_input: batch})[0]
            for j, i in enumerate(idx):
                out[i] = self._decode(probs[j])

        # one batch per core at a time: no intra-op synchronisation
        list(self.pool.map(lambda job: run(*job), batches))
        return out

    def _decode(self, probs: np.ndarray) -> tuple[str, float]:
        """Greedy CTC: best class per step, repeats collapsed, blanks dropped."""
        best = probs.argmax(axis=1)
        keep = (best != 0) & np.concatenate(([True], best[1:] != best[:-1]))
        if not keep.any():
            return "", 0.0
        text = "".join(self.charset[k] for k in best[keep] if k < len(self.charset))
        return text.strip(), float(probs.max(axis=1)[keep].mean())


def _width(crop: np.ndarray) -> int:
    """The crop's width in the model's input: scaled to height 48, at least 12."""
    h, w = crop.shape[:2]
    return max(REC_HEIGHT // 4, round(w * REC_HEIGHT / max(h, 1)))


def _normalise(crop: np.ndarray) -> np.ndarray:
    """A grey crop as the model's input: height 48, width to scale, values in [-1, 1], 3 channels."""
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    width = _width(gray)
    resized = cv2.resize(gray, (width, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
    return np.broadcast_to(resized.astype(np.float32) / 127.5 - 1.0, (3, REC_HEIGHT, width))


def threads() -> int:
    """The threads the engine runs on: ``THREADS``, else one per core; at most 4."""
    return min(THREADS or os.cpu_count() or 1, 4)


def engine() -> _Engine:
    """The process-wide engine, created (models loaded) on first use."""
    global _engine
    if _engine is None:
        with _lock:
            if _engine is None:
                _engine = _Engine()
    return _engine


def recognize(crops: list[np.ndarray]) -> list[tuple[str, float]]:
    """Text and score (0..1) of each single-line crop (grey or RGB), in batches."""
    return engine().recognize(crops) if crops else []
