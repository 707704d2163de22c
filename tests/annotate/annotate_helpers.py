"""Shared pieces of the annotate tests: a fake OCR engine, a stand-in tagger, a project on generated
images (module name unique across test folders; the server is tests/live_server.py)."""

from __future__ import annotations

import json
from pathlib import Path

from PIL import Image

from mner.data.post import Entity

OCR_TEXTS = {"sign.png": "Welcome to Paris\nAlice Smith", "blank.png": ""}


class FakeOCR:
    """Reads a fixed text per image name (the real engine is tested on real images in test_annotate_ocr.py)."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def describe(self, path: Path) -> dict:
        self.calls.append(Path(path).name)
        return {"text": OCR_TEXTS.get(Path(path).name, ""), "lines": []}


class WordTagger:
    """A stand-in model: tags known words (so the pre-tagged entities are known), score 0.8."""

    labels = ["O", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-PER", "I-PER"]
    WORDS = {"Paris": "LOC", "Alice": "ORG"}  # Alice as ORG (and Smith left out): an error for the person to fix

    def __init__(self) -> None:
        self.seen: list[list[str]] = []

    def predict_many(self, posts):
        self.seen += [list(p.tokens) for p in posts]
        return [[Entity(i, i + 1, self.WORDS[t], score=0.8, text=t) for i, t in enumerate(p.tokens) if t in self.WORDS]
                for p in posts]


def make_inputs(root: Path) -> tuple[Path, Path]:
    """An images folder (two image-only items, one image a post names) and a JSONL of two unlabelled posts
    and one labelled."""
    images = root / "images"
    images.mkdir(parents=True)
    for name, colour in (("sign.png", (200, 30, 30)), ("blank.png", (255, 255, 255)), ("post1.jpg", (20, 90, 200))):
        Image.new("RGB", (400, 200), colour).save(images / name, format="PNG" if name.endswith("png") else "JPEG")
    posts = root / "posts.jsonl"
    rows = [{"id": "post1", "tokens": ["Alice", "Smith", "visits", "Google", "in", "Paris"], "images": ["post1.jpg"]},
            {"id": "post2", "tokens": ["nothing", "here"]},
            {"id": "post3", "tokens": ["Bob", "Jones", "in", "Rome"], "tags": ["B-PER", "I-PER", "O", "B-LOC"]}]
    posts.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return images, posts


