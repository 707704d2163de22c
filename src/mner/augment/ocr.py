"""OCR text of an image with RapidOCR (PP-OCR detection + recognition on onnxruntime; the
models ship inside the `rapidocr` wheel, so it runs offline). Meme captions, screenshots,
jerseys and signs name entities the post's text only hints at.

Per image: ``text`` is the recognised lines (score >= `min_score`) joined with a newline,
top-to-bottom as RapidOCR orders them ("" when the image has no text), and ``lines`` keeps
each line's text, score and box (4 corner points, pixels) for whoever wants them.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

OCR_VERSION = "rapidocr.v1"


def engine_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("rapidocr")
    except PackageNotFoundError:
        return "absent"


class RapidOCRReader:
    kind = "ocr"
    serial = True  # onnxruntime already uses the cores it is given

    def __init__(self, *, min_score: float = 0.5, threads: int | None = None) -> None:
        try:
            from rapidocr import RapidOCR
        except ImportError:
            raise ValueError("OCR needs the rapidocr package: pip install 'mner[augment]'") from None
        params: dict[str, Any] = {"Global.log_level": "critical", "Global.text_score": min_score}
        if threads:
            params["EngineConfig.onnxruntime.intra_op_num_threads"] = threads
        self.engine = RapidOCR(params=params)
        self.min_score = min_score
        self.name = f"rapidocr-{engine_version()}"
        self._lock = threading.Lock()

    def settings(self) -> dict[str, Any]:
        return {"version": OCR_VERSION, "min_score": self.min_score}

    def describe(self, path: Path) -> dict[str, Any]:
        from mner.data.images import load_image

        image = load_image(path)  # decodes by content (a PNG named .jpg), EXIF-oriented, RGB
        with self._lock:
            result = self.engine(image)
        texts, scores, boxes = result.txts or (), result.scores or (), result.boxes
        lines = [{"text": t, "score": round(float(s), 4), "box": [[round(float(x), 1) for x in point]
                                                                for point in boxes[i]]}
                 for i, (t, s) in enumerate(zip(texts, scores)) if float(s) >= self.min_score and t.strip()]
        return {"text": "\n".join(line["text"] for line in lines), "lines": lines}
