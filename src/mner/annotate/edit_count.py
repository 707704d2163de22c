"""How much a person changes when correcting a model's pre-tagged entities, against tagging from scratch.

Per post, the model's entities are matched to the gold ones:

- kept: same span and type, nothing to do;
- then each remaining predicted entity is paired with the remaining gold entity it overlaps most
  (one to one): a *retype* (same span, other type) or a *boundary fix* (same type, other span) is one
  edit, both wrong is two;
- *deletions*: predicted entities left unpaired (false positives), one edit each;
- *additions*: gold entities left unpaired (misses), one edit each.

Tagging from scratch is one addition per gold entity. `mner annotate edits RUN --data FILE` counts it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Span = tuple[int, int, str]


@dataclass
class EditCount:
    gold: int = 0
    predicted: int = 0
    kept: int = 0
    deletions: int = 0
    additions: int = 0
    retypes: int = 0
    boundary_fixes: int = 0

    @property
    def edits(self) -> int:
        return self.deletions + self.additions + self.retypes + self.boundary_fixes

    @property
    def from_scratch(self) -> int:
        return self.gold

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "edits": self.edits, "from_scratch": self.from_scratch,
                "edits_per_gold_entity": round(self.edits / self.gold, 4) if self.gold else None}

    def add(self, other: "EditCount") -> None:
        for key, value in asdict(other).items():
            setattr(self, key, getattr(self, key) + value)


def _overlap(a: Span, b: Span) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def post_edits(gold: Iterable[Span], predicted: Iterable[Span]) -> EditCount:
    gold_set, pred_set = set(gold), set(predicted)
    count = EditCount(gold=len(gold_set), predicted=len(pred_set), kept=len(gold_set & pred_set))
    gold_left = sorted(gold_set - pred_set)
    pred_left = sorted(pred_set - gold_set)
    pairs = sorted(((_overlap(p, g), -i, -j) for i, p in enumerate(pred_left) for j, g in enumerate(gold_left)
                    if _overlap(p, g) > 0), reverse=True)
    used_pred: set[int] = set()
    used_gold: set[int] = set()
    for _, neg_i, neg_j in pairs:  # greatest overlap first, ties by position
        i, j = -neg_i, -neg_j
        if i in used_pred or j in used_gold:
            continue
        used_pred.add(i)
        used_gold.add(j)
        p, g = pred_left[i], gold_left[j]
        count.retypes += p[2] != g[2]
        count.boundary_fixes += p[:2] != g[:2]
    count.deletions = len(pred_left) - len(used_pred)
    count.additions = len(gold_left) - len(used_gold)
    return count


def count_edits(gold: Sequence[Iterable[Span]], predicted: Sequence[Iterable[Span]]) -> EditCount:
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold posts but {len(predicted)} predicted posts")
    total = EditCount()
    for g, p in zip(gold, predicted):
        total.add(post_edits(g, p))
    return total
