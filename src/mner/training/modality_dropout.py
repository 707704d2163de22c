"""Modality dropout: a share of each step's training posts loses its auxiliary inputs.

Why: a model that always saw LLM knowledge (or a caption, or an image) during training
learns to lean on it, and on a post without it scores below a text-only model (Twitter-2017
dev: 81.63 against 84.70). Training some posts without those inputs teaches it the case it
will meet on a user's posts. The choice is drawn from (seed, epoch, step), so a resumed run
drops the same posts.
"""

from __future__ import annotations

import random

from mner.data.post import Post
from mner.training.objectives import without_visual_text


def drop_inputs(posts: list[Post], share: float, seed: int, epoch: int, step: int) -> list[Post]:
    """`posts` with each one's visual text, images and regions removed with probability `share`."""
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"train.modality_dropout must be within [0, 1], not {share}")
    if share == 0.0:
        return posts
    rng = random.Random(f"modality-dropout:{seed}:{epoch}:{step}")
    return [without_visual_text(p) if rng.random() < share else p for p in posts]
