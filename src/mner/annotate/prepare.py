"""An item's first version, made when it is first opened: OCR text for an image without text, and
the model's entities (with their scores) for text nobody has labelled yet.

The OCR engine is `mner augment ocr`'s (`RapidOCRReader`: RapidOCR on onnxruntime, models inside the
wheel, offline); the model is any tagger `mner.export.load_tagger` opens (a run folder, a model
directory, an int8 or ONNX export), called through its `predict_many`, the Python predict API.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from mner.annotate.store import Item
from mner.data.post import Post
from mner.data.safe_paths import resolve_inside
from mner.data.tokenize import tokenize


class TextReader(Protocol):
    def describe(self, path: Path) -> dict[str, Any]: ...


@dataclass
class Prepared:
    tokens: list[str]
    entities: list[dict[str, Any]]
    visual_text: dict[str, str]
    origin: str


class Preparer:
    """`prepare(item)`: the item's tokens, entities, visual text and where they came from.

    `ocr` is made on first use (loading RapidOCR takes a second; a project of labelled posts never
    needs it); `tagger` is None for annotation from scratch."""

    def __init__(self, images_dir: Path | None, tagger: Any = None, ocr: TextReader | None = None) -> None:
        self.images_dir = images_dir
        self.tagger = tagger
        self._ocr = ocr
        self._lock = threading.Lock()

    @property
    def ocr(self) -> TextReader:
        with self._lock:
            if self._ocr is None:
                from mner.augment.ocr import RapidOCRReader

                self._ocr = RapidOCRReader()
            return self._ocr

    def image_paths(self, item: Item) -> list[Path]:
        if self.images_dir is None:
            return []
        return [resolve_inside(self.images_dir, name) for name in item.images]

    def prepare(self, item: Item) -> Prepared:
        seed = item.seed
        tokens = list(seed.get("tokens") or [])
        visual_text = dict(seed.get("visual_text") or {})
        origin = "post"
        if not tokens and item.images:
            text = "\n".join(filter(None, (self.ocr.describe(path)["text"] for path in self.image_paths(item))))
            tokens = tokenize(text)
            visual_text["ocr"] = text
            origin = "ocr"
        entities = seed.get("entities")
        if entities is None and self.tagger is not None and tokens:
            post = Post(id=item.id, tokens=tokens, images=[str(p) for p in self.image_paths(item)],
                        visual_text={k: v for k, v in visual_text.items() if k != "ocr" or origin == "post"})
            entities = [{"start": e.start, "end": e.end, "type": e.type, "boxes": [list(b) for b in e.boxes],
                         "score": None if e.score is None else round(float(e.score), 4)}
                        for e in self.tagger.predict_many([post])[0]]
            origin += "+model"
        return Prepared(tokens, list(entities or []), visual_text, origin)
