"""The contracts between parts of an MnerModel (structural: any object with these members fits).

Text encoder:  featurize(token_lists, second) -> dict of CPU tensors;  forward(features) -> (b, w, d)
Visual module: featurize(posts) -> dict of CPU tensors;                  forward(features) -> VisualTokens
Fusion:        forward(words (b, w, d), word_mask (b, w), visual: VisualTokens) -> (b, w, output_dim)
Head:          emissions(states) -> (b, w, L); loss(...); decode(...)

`featurize` runs in the data path (tokenising, reading cached features);
`forward` is pure tensor work, so batches can move to any device.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import torch


@dataclass
class VisualTokens:
    tokens: torch.Tensor  # (b, v, d) visual tokens
    mask: torch.Tensor  # (b, v) True where a token is real (a post with no image has a learned "no image" token)


class VisualModule(Protocol):
    output_dim: int

    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]: ...

    def __call__(self, features: dict[str, torch.Tensor]) -> VisualTokens: ...


class Fusion(Protocol):
    output_dim: int

    def __call__(self, words: torch.Tensor, word_mask: torch.Tensor, visual: VisualTokens) -> torch.Tensor: ...
