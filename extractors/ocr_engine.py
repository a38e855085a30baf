"""The OCR engine: the PP-OCRv6 models shipped inside the ``rapidocr`` wheel, run offline.

One engine per process, loaded on first use (about a second). ``recognize`` reads single-line
crops with the recognition model directly: crops are batched by width and padded only to the
widest crop of their batch (rapidocr pads every crop to 320 px, which costs ~1.7x on table cells),
then CTC-decoded; batches run on one thread per core. ``detect_and_recognize`` finds the lines
of a larger region with rapidocr's detector and reads them the same way.
"""

from __future__ import annotations

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from extractors.errors import UnreadableFile

# the models the rapidocr 3.10 wheel carries: given by path, nothing is ever downloaded
DET_MODEL = "PP-OCRv6_det_small.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
REC_HEIGHT = 48  # the recognition model's input height
BATCH = 4  # crops sorted by width, padded to the widest of their batch
MIN_SCORE = 0.5  # detected lines read with a lower score are noise, not text

# the threads an engine runs on (at most 4); None: one per core. A process reading beside
# others is given its share of the cores (flows.extraction.pool), so that they do not contend.
THREADS: int | None = None

_engine: _Engine | None = None
_lock = threading.Lock()


@dataclass
class Line:
    """A line of text read from an image region; box in the region's pixel coordinates."""

    text: str
    score: float
    box: tuple[int, int, int, int]  # x0, top, x1, bottom


class _Engine:
    def __init__(self) -> None:
        try:
            import onnxruntime as ort
            import rapidocr
            from rapidocr import RapidOCR
        except ImportError as exc:  # pragma: no cover - a broken install
            raise UnreadableFile(
                "reading scanned pages needs the OCR engine: pip install rapidocr==3.10.0 "
                "onnxruntime"
            ) from exc
        models = Path(rapidocr.__file__).parent / "models"
        det, rec = models / DET_MODEL, models / REC_MODEL
        if not (det.is_file() and rec.is_file()):
            raise UnreadableFile(
                f"the OCR models are missing from {models}: reinstall rapidocr==3.10.0, whose "
                "wheel ships them"
            )
        threads = min(THREADS or os.cpu_count() or 1, 4)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="ocr")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.rec = ort.InferenceSession(str(rec), options, providers=["CPUExecutionProvider"])
        self.rec_input = self.rec.get_inputs()[0].name
        charset = self.rec.get_modelmeta().custom_metadata_map["character"].splitlines()
        self.charset = ["", *charset, " "]  # CTC blank first; PP-OCR appends the space
        self.det = RapidOCR(
            params={
                "Global.log_level": "error",
                "Global.use_cls": False,
                "Global.use_rec": False,
                "Det.model_path": str(det),
                "Det.limit_type": "max",  # never upscale a small region to 736 px
                "Det.limit_side_len": 2048,
                "EngineConfig.onnxruntime.intra_op_num_threads": threads,
            }
        )
        self.det(np.full((64, 64, 3), 255, np.uint8))  # load the detector now, not mid-page

    def recognize(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        images = [_normalise(c) for c in crops]
        order = sorted(range(len(images)), key=lambda i: images[i].shape[2])
        batches = [order[start : start + BATCH] for start in range(0, len(order), BATCH)]
        out: list[tuple[str, float]] = [("", 0.0)] * len(images)

        def run(idx: list[int]) -> None:
            width = -(-max(images[i].shape[2] for i in idx) // 8) * 8
            batch = np.zeros((len(idx), 3, REC_HEIGHT, width), np.float32)
            for j, i in enumerate(idx):
                batch[j, :, :, : images[i].shape[2]] = images[i]
            probs = self.rec.run(None, {self.rec_input: batch})[0]
            for j, i in enumerate(idx):
                out[i] = self._decode(probs[j])

        list(self.pool.map(run, batches))  # one batch per core: no intra-op synchronisation
        return out

    def _decode(self, probs: np.ndarray) -> tuple[str, float]:
        """Greedy CTC: best class per step, repeats collapsed, blanks dropped."""
        best = probs.argmax(axis=1)
        keep = (best != 0) & np.concatenate(([True], best[1:] != best[:-1]))
        if not keep.any():
            return "", 0.0
        text = "".join(self.charset[k] for k in best[keep] if k < len(self.charset))
        return text.strip(), float(probs.max(axis=1)[keep].mean())


def _normalise(crop: np.ndarray) -> np.ndarray:
    """A grey crop as the model's input: height 48, width to scale, values in [-1, 1], 3 channels."""
    gray = crop if crop.ndim == 2 else cv2.cvtColor(crop, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    width = max(REC_HEIGHT // 4, round(w * REC_HEIGHT / max(h, 1)))
    resized = cv2.resize(gray, (width, REC_HEIGHT), interpolation=cv2.INTER_LINEAR)
    return np.broadcast_to(resized.astype(np.float32) / 127.5 - 1.0, (3, REC_HEIGHT, width))


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


def detect_and_recognize(region: np.ndarray) -> list[Line]:
    """Every text line the detector finds in a grey region, read; low-scoring noise left out."""
    found: Any = engine().det(np.dstack([region, region, region]))
    if getattr(found, "boxes", None) is None or len(found.boxes) == 0:
        return []
    boxes = []
    for quad in found.boxes:
        x0, y0 = np.floor(quad.min(axis=0)).astype(int)
        x1, y1 = np.ceil(quad.max(axis=0)).astype(int)
        x0, y0 = max(x0, 0), max(y0, 0)
        x1, y1 = min(x1, region.shape[1]), min(y1, region.shape[0])
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            boxes.append((int(x0), int(y0), int(x1), int(y1)))
    read = recognize([region[y0:y1, x0:x1] for x0, y0, x1, y1 in boxes])
    return [
        Line(text, score, box)
        for (text, score), box in zip(read, boxes)
        if text and score >= MIN_SCORE
    ]
