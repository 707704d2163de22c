"""Learning-rate schedules as a multiplier on each group's base rate.

Stateless in the step (linear, cosine restarts) or with a tiny JSON state
(plateau), so a resumed run continues the exact schedule without pickling a
torch scheduler.
  linear:          linear warmup over `warmup` (fraction of total steps), then linear decay to 0
  constant:        linear warmup, then constant
  cosine_restarts: warmup, then cosine from 1 to `min_factor` over cycles of `cycle_epochs`
                   epochs, each `cycle_mult` times longer than the last (SGDR)
  plateau:         warmup, then multiply by `factor` after `patience` evaluations without
                   a new best dev F1 (never below `min_factor`)
"""

from __future__ import annotations

import math
from typing import Any

SCHEDULES = ("linear", "constant", "cosine_restarts", "plateau")


class LrSchedule:
    def __init__(self, cfg: dict[str, Any], total_steps: int, steps_per_epoch: int):
        self.name = cfg.get("name", "linear")
        if self.name not in SCHEDULES:
            raise ValueError(f"unknown scheduler {self.name!r}; choose from {SCHEDULES}")
        self.total = max(1, total_steps)
        self.per_epoch = max(1, steps_per_epoch)
        self.warmup = int(float(cfg.get("warmup", 0.1)) * self.total)
        self.cycle = max(1, int(float(cfg.get("cycle_epochs", 2)) * self.per_epoch))
        self.cycle_mult = float(cfg.get("cycle_mult", 1.0))
        self.factor = float(cfg.get("factor", 0.5))
        self.patience = int(cfg.get("patience", 1))
        self.min_factor = float(cfg.get("min_factor", 0.01))
        self.state = {"plateau_scale": 1.0, "best": -1.0, "bad_evals": 0}

    def multiplier(self, step: int) -> float:
        if step < self.warmup:
            return (step + 1) / (self.warmup + 1)
        after = step - self.warmup
        if self.name == "linear":
            return max(0.0, 1.0 - after / max(1, self.total - self.warmup))
        if self.name == "constant":
            return 1.0
        if self.name == "plateau":
            return self.state["plateau_scale"]
        cycle, position = self.cycle, after  # cosine_restarts
        while position >= cycle:
            position -= cycle
            cycle = max(1, int(cycle * self.cycle_mult))
        cos = 0.5 * (1 + math.cos(math.pi * position / cycle))
        return self.min_factor + (1 - self.min_factor) * cos

    def on_evaluation(self, dev_f1: float) -> None:
        if dev_f1 > self.state["best"]:
            self.state.update(best=dev_f1, bad_evals=0)
            return
        self.state["bad_evals"] += 1
        if self.name == "plateau" and self.state["bad_evals"] >= self.patience:
            self.state["plateau_scale"] = max(self.min_factor, self.state["plateau_scale"] * self.factor)
            self.state["bad_evals"] = 0

    def apply(self, optimizer: Any, step: int) -> float:
        scale = self.multiplier(step)
        for group in optimizer.param_groups:
            group["lr"] = group["base_lr"] * scale
        return scale
