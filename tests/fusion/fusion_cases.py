"""Shared tiny set-up for the fusion tests: small options per registered fusion, random inputs."""

from __future__ import annotations

import torch
from torch import nn

from mner.modules.fusion import build_fusion
from mner.modules.interfaces import VisualTokens

TEXT_DIM, VISUAL_DIM = 16, 12

# Every registered fusion, with options small enough for a CPU test (dropout 0: deterministic).
OPTIONS: dict[str, dict] = {
    "fusion.text_only.v1": {},
    "fusion.visual_only.v1": {"hidden": 16, "num_heads": 2, "dropout": 0.0, "output_dim": 20},
    "fusion.linear.v1": {"hidden": 16, "dropout": 0.0},
    "fusion.cross_attention.v1": {"hidden": 16, "num_heads": 2, "dropout": 0.0},
    "fusion.partial.v1": {"hidden": 16, "num_heads": 2, "dropout": 0.0, "output_dim": 24},
    "fusion.gated.v1": {"hidden": 16, "dropout": 0.0},
}
EXPECTED_OUTPUT_DIM = {
    "fusion.text_only.v1": TEXT_DIM,
    "fusion.visual_only.v1": 20,
    "fusion.linear.v1": 16,
    "fusion.cross_attention.v1": TEXT_DIM,
    "fusion.partial.v1": 24,
    "fusion.gated.v1": TEXT_DIM,
}
SEES_TEXT = {name for name in OPTIONS if name != "fusion.visual_only.v1"}
SEES_IMAGE = {name for name in OPTIONS if name != "fusion.text_only.v1"}


def make(name: str, seed: int = 0, **overrides) -> nn.Module:
    torch.manual_seed(seed)
    return build_fusion(name, TEXT_DIM, VISUAL_DIM, **{**OPTIONS[name], **overrides})


def random_inputs(seed: int = 0) -> tuple[torch.Tensor, torch.Tensor, VisualTokens]:
    """3 posts: word lengths 5, 3, 1 (of 5); visual lengths 1 ("no image" token only), 4, 2 (of 4)."""
    g = torch.Generator().manual_seed(seed)
    words = torch.randn(3, 5, TEXT_DIM, generator=g)  # (b, w, d)
    word_mask = torch.arange(5).unsqueeze(0) < torch.tensor([[5], [3], [1]])  # (b, w)
    tokens = torch.randn(3, 4, VISUAL_DIM, generator=g)  # (b, v, d_vis)
    visual_mask = torch.arange(4).unsqueeze(0) < torch.tensor([[1], [4], [2]])  # (b, v)
    return words, word_mask, VisualTokens(tokens, visual_mask)
