"""A stand-in tagger for what no small trained model gives the tests: boxes on entities."""

from __future__ import annotations

import torch

from mner.data.post import Entity


class GroundedStub:
    """A stand-in grounded tagger (the page's box drawing, not a model, is under test): every post's
    first word is a PER entity boxed at (10, 20, 110, 70) on the first image."""

    grounded = True
    labels = ["O", "B-PER", "I-PER"]
    inputs = ["text", "images"]
    precision = "fp32"

    def __init__(self) -> None:
        self.model = torch.nn.Module()
        self.model.config = {"model": {"visual": {"name": "visual.pixels.v1"}}}
        self.seen_images: list[int] = []

    def predict_many(self, posts):
        self.seen_images += [len(p.images) for p in posts]
        return [[Entity(0, 1, "PER", boxes=[(10.0, 20.0, 110.0, 70.0)], score=0.9, text=p.tokens[0])] if p.tokens
                else [] for p in posts]


class BuggyStub(GroundedStub):
    """A tagger with a bug: a post whose first word is "boom" raises what no request check foresaw."""

    grounded = False
    inputs = ["text"]

    def predict_many(self, posts):
        if any(p.tokens[:1] == ["boom"] for p in posts):
            raise RuntimeError("a bug in the model code")
        return [[Entity(0, 1, "PER", score=0.9, text=p.tokens[0])] for p in posts]
