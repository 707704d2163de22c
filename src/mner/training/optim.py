"""AdamW with one parameter group per module and learning rate.

Groups come from `MnerModel.parameter_groups()` ("encoder", "head", later
"fusion", "visual"); the config gives a learning rate per group name. Biases
and normalisation weights get no weight decay (the usual BERT recipe).
"""

from __future__ import annotations

from typing import Any

import torch

NO_DECAY = ("bias", "LayerNorm.weight", "layer_norm.weight", "norm.weight")


def build_optimizer(model: Any, lr: dict[str, float], weight_decay: float) -> torch.optim.AdamW:
    param_groups = []
    for group, named in model.parameter_groups().items():
        if group not in lr:
            raise ValueError(f"no learning rate for module group {group!r}; set train.lr.{group}")
        decay = [p for n, p in named if not any(k in n for k in NO_DECAY)]
        no_decay = [p for n, p in named if any(k in n for k in NO_DECAY)]
        for params, wd in ((decay, weight_decay), (no_decay, 0.0)):
            if params:
                param_groups.append({"params": params, "lr": float(lr[group]), "weight_decay": wd,
                                     "group": group, "base_lr": float(lr[group])})
    # fused: one kernel over all tensors instead of ~10 small ops per tensor (the
    # single-tensor default spent a quarter of a CPU training step in Python)
    try:
        return torch.optim.AdamW(param_groups, fused=True)
    except (RuntimeError, TypeError):  # a device/dtype without a fused kernel
        return torch.optim.AdamW(param_groups, foreach=True)
