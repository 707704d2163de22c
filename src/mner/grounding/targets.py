"""Training targets of the grounding head, from each candidate's IoU with an entity's gold boxes.

H-Index's visual loss: the candidates that overlap a gold box by IoU > 0.5
share the target mass in proportion to their IoU (a soft distribution over
the candidates); an entity without boxes has the target "none". A
groundable entity that no candidate covers still teaches "groundable" (the
has-a-region decision), but gives no region target: nothing is right to point at.
"""

from __future__ import annotations

import torch

from mner.data.post import Box


def iou_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(k, 4) x (g, 4) xyxy boxes -> (k, g) intersection over union."""
    lt = torch.maximum(a[:, None, :2], b[None, :, :2])  # (k, g, 2)
    rb = torch.minimum(a[:, None, 2:], b[None, :, 2:])  # (k, g, 2)
    wh = (rb - lt).clamp(min=0)  # (k, g, 2)
    inter = wh[..., 0] * wh[..., 1]  # (k, g)
    area_a = ((a[:, 2] - a[:, 0]) * (a[:, 3] - a[:, 1])).clamp(min=0)  # (k,)
    area_b = ((b[:, 2] - b[:, 0]) * (b[:, 3] - b[:, 1])).clamp(min=0)  # (g,)
    union = area_a[:, None] + area_b[None, :] - inter  # (k, g)
    return torch.where(union > 0, inter / union.clamp(min=1e-9), torch.zeros_like(inter))


def region_target(candidates: list[Box], gold: list[Box], threshold: float = 0.5) -> torch.Tensor | None:
    """(k,) soft target over the candidates, or None when no candidate covers a gold box (or no gold box)."""
    if not candidates or not gold:
        return None
    overlap = iou_matrix(torch.tensor(candidates, dtype=torch.float32),
                         torch.tensor(gold, dtype=torch.float32)).max(dim=1).values  # (k,)
    weights = torch.where(overlap > threshold, overlap, torch.zeros_like(overlap))  # (k,)
    total = weights.sum()
    return weights / total if total > 0 else None
