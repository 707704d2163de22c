"""Mask helpers shared by the fusions (masks are True where a position is real)."""

from __future__ import annotations

import torch


def zero_padding(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """`x` (b, n, d) with padded rows set to 0.

    Why: attention gives padded keys weight 0, but 0 * NaN is NaN; zeroing first
    means nothing stored in a padded slot can ever reach a real position.
    """
    return x.masked_fill(~mask.unsqueeze(-1), 0.0)  # (b, n, d)


def key_padding_mask(mask: torch.Tensor) -> torch.Tensor:
    """(b, n) True where a key must be ignored, in `nn.MultiheadAttention`'s convention.

    A row with no real key would give an all -inf softmax (NaN); such a row may
    attend to position 0 instead. Its queries are padding, so the value is unused.
    """
    ignore = ~mask  # (b, n)
    ignore[:, 0] = ignore[:, 0] & mask.any(dim=1)
    return ignore


def masked_mean(x: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Mean of the real rows of `x` (b, n, d) -> (b, d); 0 for a row with none."""
    total = zero_padding(x, mask).sum(dim=1)  # (b, d)
    count = mask.sum(dim=1, keepdim=True).clamp(min=1).to(x.dtype)  # (b, 1)
    return total / count
