"""Evaluation-time ablations: what a model scores when the image side is taken away or scrambled.

  zero-image      the post's images and regions are removed: pixel/region modules see their
                  learned "no image" / "no region" token. Visual text is kept.
  shuffle-image   every post gets the visual side (images, regions, visual text) of another
                  post, by a fixed permutation (seeded), so the text and image no longer match.
  no-visual-text  captions, OCR and knowledge are removed (caption modules see "no text";
                  context fusion gets no second segment). Images are kept.
The posts given are not modified: ablated copies are returned.
"""

from __future__ import annotations

import dataclasses
import random

from mner.data.post import Post

ABLATIONS = ("zero-image", "shuffle-image", "no-visual-text")


def ablate(posts: list[Post], kind: str, seed: int = 0) -> list[Post]:
    if kind == "zero-image":
        return [dataclasses.replace(p, images=[], regions=[]) for p in posts]
    if kind == "no-visual-text":
        return [dataclasses.replace(p, visual_text={}) for p in posts]
    if kind == "shuffle-image":
        order = list(range(len(posts)))
        rng = random.Random(seed)
        rng.shuffle(order)
        if len(posts) > 1:  # a derangement-ish shift: no post keeps its own image
            order = [order[(i + 1) % len(order)] for i in range(len(order))]
        donors = [posts[order[i]] for i in range(len(posts))]
        return [dataclasses.replace(p, images=list(d.images), regions=list(d.regions),
                                    visual_text=dict(d.visual_text)) for p, d in zip(posts, donors)]
    raise ValueError(f"unknown ablation {kind!r}; choose from {ABLATIONS}")
