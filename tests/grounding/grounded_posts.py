"""Posts whose right grounding is known: PER is shown (in the region with feature e0), ORG is
shown (feature e1), LOC and MISC are not; the regions' order and places change from post to post."""

from __future__ import annotations

import numpy as np

from mner.data.post import Post, Region
from posts_factory import make_posts

FEATURE_DIM = 8
SHOWN = {"PER": 0, "ORG": 1}


def onehot(i: int) -> np.ndarray:
    v = np.zeros(FEATURE_DIM, dtype=np.float32)
    v[i] = 1.0
    return v


def grounded_posts(n: int = 4, with_regions: bool = True) -> list[Post]:
    posts = make_posts(n)
    for i, post in enumerate(posts):
        shift = 10.0 * i
        boxes = {0: (shift, 0.0, shift + 20.0, 20.0), 1: (40.0, shift, 70.0, shift + 30.0),
                 2: (80.0, 80.0, 95.0, 95.0)}
        if with_regions:
            order = [(i + j) % 3 for j in range(3)]
            post.regions = [Region(boxes[k], score=0.9 - 0.1 * j, feature=onehot(k)) for j, k in enumerate(order)]
        for entity in post.entities:
            entity.boxes = [boxes[SHOWN[entity.type]]] if entity.type in SHOWN else []
    return posts
