"""Posts -> model inputs. The one place a list of `Post`s becomes tensors."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from mner.data.post import Post
from mner.modules.word_shape import shape_ids
from mner.second_segment import second_texts


@dataclass
class Batch:
    posts: list[Post]
    features: dict[str, torch.Tensor]  # encoder-specific inputs
    shape_ids: torch.Tensor  # (b, w) word-shape ids, 0 = pad
    mask: torch.Tensor  # (b, w) True on real words
    labels: torch.Tensor | None  # (b, w) label ids, 0 on padding
    visual_features: dict[str, torch.Tensor] | None = None  # visual-module inputs
    grounding_features: dict[str, torch.Tensor] | None = None  # grounding-head inputs: candidates, spans, targets

    def to(self, device: torch.device | str) -> "Batch":
        return Batch(
            self.posts,
            {k: v.to(device) for k, v in self.features.items()},
            self.shape_ids.to(device),
            self.mask.to(device),
            None if self.labels is None else self.labels.to(device),
            None if self.visual_features is None else {k: v.to(device) for k, v in self.visual_features.items()},
            None if self.grounding_features is None else {k: v.to(device) for k, v in self.grounding_features.items()},
        )


def make_batch(encoder: Any, posts: list[Post], label_index: dict[str, int] | None = None,
               second_segment: str | list[str] | None = None, visual: Any | None = None, grounding: Any | None = None) -> Batch:
    """Tensors for `posts`; labels only when `label_index` is given and posts carry tags.

    `second_segment` names a `visual_text` entry (e.g. "caption"), or several
    (mner.second_segment), appended as a second encoder segment (context fusion);
    posts without it get none.
    """
    if any(not p.tokens for p in posts):
        raise ValueError("empty posts cannot be batched; filter them first (they have no entities)")
    token_lists = [p.tokens for p in posts]
    second = second_texts(encoder, posts, second_segment)
    features = encoder.featurize(token_lists, second)
    shapes = shape_ids(token_lists)  # (b, w)
    mask = shapes > 0  # (b, w)
    labels = None
    if label_index is not None and all(p.tags is not None for p in posts):
        labels = torch.zeros_like(shapes)  # (b, w)
        for i, post in enumerate(posts):
            try:
                labels[i, : len(post.tokens)] = torch.tensor([label_index[t] for t in post.tags or []])
            except KeyError as err:
                where = f"{post.source.path}:{post.source.line}: " if post.source else ""
                raise ValueError(f"{where}post {post.id!r} has tag {err.args[0]!r}, unknown to this model "
                                 f"(labels: {sorted(label_index)})") from None
    visual_features = visual.featurize(posts) if visual is not None else None
    grounding_features = grounding.featurize(posts) if grounding is not None else None
    return Batch(posts, features, shapes, mask, labels, visual_features, grounding_features)
