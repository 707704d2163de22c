"""The measured table and the rule that picks from it.

Rule: the candidate with the most posts/s wins, but a lossy one (bf16 rounds to an
8-bit mantissa, int8 to 8-bit integers; their F1 cost is in BENCHMARKS.md) must beat
fp32 by `margin` (5%): below that the difference is within the noise of a few seconds'
timing on a shared machine, and fp32 costs nothing in accuracy.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from mner.precision_choice.candidates import LOSSLESS

MARGIN = 0.05


@dataclass(frozen=True)
class Timing:
    """One candidate's calibration: seconds for each timed pass over the same posts."""

    precision: str
    posts: int
    seconds: tuple[float, ...]

    @property
    def median_seconds(self) -> float:
        ordered = sorted(self.seconds)
        mid = len(ordered) // 2
        return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2

    @property
    def posts_per_s(self) -> float:
        return self.posts / max(self.median_seconds, 1e-12)

    def to_dict(self) -> dict[str, Any]:
        return {"precision": self.precision, "posts": self.posts, "seconds": list(self.seconds),
                "posts_per_s": round(self.posts_per_s, 2)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Timing":
        return cls(str(data["precision"]), int(data["posts"]), tuple(float(s) for s in data["seconds"]))


@dataclass(frozen=True)
class PrecisionChoice:
    """What a Tagger runs at and why.

    source: "explicit" (the caller named it), "measured" (calibrated now), "cached"
    (an earlier calibration on this host and model), "only candidate" (nothing to time).
    """

    precision: str
    source: str
    timings: tuple[Timing, ...] = field(default_factory=tuple)
    candidates: tuple[str, ...] = field(default_factory=tuple)

    def describe(self) -> str:
        if not self.timings:
            return f"{self.precision} ({self.source})"
        rates = ", ".join(f"{t.precision} {t.posts_per_s:.0f}" for t in self.timings)
        return f"{self.precision} ({self.source}; posts/s: {rates})"

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["timings"] = [t.to_dict() for t in self.timings]
        data["candidates"] = list(self.candidates)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "PrecisionChoice":
        return cls(str(data["precision"]), str(data["source"]),
                   tuple(Timing.from_dict(t) for t in data.get("timings") or []),
                   tuple(str(c) for c in data.get("candidates") or []))


def pick_fastest(timings: list[Timing], margin: float = MARGIN) -> str:
    """The fastest candidate; a lossy one only if it beats the fastest lossless one by `margin`."""
    if not timings:
        raise ValueError("no timings to choose from")
    fastest = max(timings, key=lambda t: t.posts_per_s)
    lossless = [t for t in timings if t.precision in LOSSLESS]
    if fastest.precision in LOSSLESS or not lossless:
        return fastest.precision
    best_lossless = max(lossless, key=lambda t: t.posts_per_s)
    if fastest.posts_per_s >= best_lossless.posts_per_s * (1.0 + margin):
        return fastest.precision
    return best_lossless.precision
