"""Versioned fusion names -> classes, and the one builder.

A name never changes meaning: a fusion whose computation or weights change
gets a new version (`.v2`) so saved configs keep loading what they trained.
"""

from __future__ import annotations

import inspect
from typing import Any

from torch import nn

from mner.modules.fusion.cross_attention import CrossAttentionFusion
from mner.modules.fusion.gated import GatedFusion
from mner.modules.fusion.linear import LinearFusion
from mner.modules.fusion.partial import PartialPredictionFusion
from mner.modules.fusion.text_only import TextOnlyFusion
from mner.modules.fusion.visual_only import VisualOnlyFusion

FUSIONS: dict[str, type[nn.Module]] = {
    "fusion.text_only.v1": TextOnlyFusion,
    "fusion.visual_only.v1": VisualOnlyFusion,
    "fusion.linear.v1": LinearFusion,
    "fusion.cross_attention.v1": CrossAttentionFusion,
    "fusion.partial.v1": PartialPredictionFusion,
    "fusion.gated.v1": GatedFusion,
}


def fusion_options(name: str) -> list[str]:
    """The keyword options fusion `name` accepts (besides text_dim, visual_dim)."""
    params = inspect.signature(_lookup(name)).parameters
    return [p for p in params if p not in ("text_dim", "visual_dim")]


def _lookup(name: str) -> type[nn.Module]:
    if name not in FUSIONS:
        raise ValueError(f"unknown fusion {name!r}; choose from {', '.join(FUSIONS)}")
    return FUSIONS[name]


def build_fusion(name: str, text_dim: int, visual_dim: int, **options: Any) -> nn.Module:
    """The fusion registered as `name`; `options` go to its constructor (see docs/fusion.md)."""
    cls = _lookup(name)
    unknown = sorted(set(options) - set(fusion_options(name)))
    if unknown:
        raise ValueError(f"{name} has no option(s) {unknown}; it accepts {fusion_options(name)}")
    return cls(text_dim, visual_dim, **options)
