"""Summaries of one score over several runs (seeds), e.g. "85.31 ± 0.42"."""

from __future__ import annotations

import math
from collections.abc import Sequence


def mean_std(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample standard deviation (ddof=1); std is 0.0 for one value.

    Sample std because a seed sweep is a small sample of possible runs.
    """
    if len(values) == 0:
        raise ValueError("mean_std needs at least one value")
    mean = math.fsum(values) / len(values)
    if len(values) == 1:
        return mean, 0.0
    variance = math.fsum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(variance)


def format_mean_std(values: Sequence[float], digits: int = 2) -> str:
    """Mean ± sample std with `digits` decimals, e.g. ``85.31 ± 0.42``."""
    mean, std = mean_std(values)
    return f"{mean:.{digits}f} ± {std:.{digits}f}"
