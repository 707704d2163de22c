"""`model.grounding` -> GroundingHead (the grounding side of `mner.builders`).

    model:
      grounding: {name: grounding.regions.v1, weight: 1.0, feature_dim: 2048, hidden_dim: 256, top_k: 16}

`feature_dim` is the width of the region features (VinVL: 2048; `mner data
regions` writes its detector's width and prints it). Entity types come from the labels.
"""

from __future__ import annotations

from typing import Any

from torch import nn

GROUNDINGS = ("grounding.regions.v1",)
OPTIONS = ("feature_dim", "hidden_dim", "top_k", "weight", "dropout", "image_root", "threshold")


def build_grounding(cfg: dict[str, Any], word_dim: int, labels: list[str]) -> nn.Module:
    name = cfg.get("name", "grounding.regions.v1")
    if name != "grounding.regions.v1":
        raise ValueError(f"unknown grounding head {name!r}; choose from {GROUNDINGS}")
    unknown = sorted(set(cfg) - set(OPTIONS) - {"name"})
    if unknown:
        raise ValueError(f"model.grounding: unknown option(s) {unknown}; allowed: {list(OPTIONS)}")
    from mner.data.tags import parse_tag
    from mner.grounding.head import GroundingHead

    types = sorted({parse_tag(label)[1] for label in labels if label != "O"})
    return GroundingHead(word_dim, types, **{k: v for k, v in cfg.items() if k in OPTIONS and v is not None})
