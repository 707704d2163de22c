"""Grounded MNER scores: GMNER (span + type + region), MNER (span + type), EEG (span + region).

A unit is one entity of one post. Gold entities come from `Post.entities`
(`boxes` empty = "no region"); a prediction is (start, end, type, box or None).
Two protocols, because the published figures use two:

`direct` (RiVEG, `statistic/statistic.py`): a predicted region is correct
  when its box has IoU >= 0.5 with ANY gold box of the entity, or when both
  the prediction and the gold say "none". No entity is unmatchable.
  Predictions are a set of (start, end, type): the same triple twice counts once.

`hindex` (NUSTM/GMNER, `model/metrics.py` + `model/data_pipe.py`): boxes are
  never compared with the gold directly. Each groundable entity is
  re-expressed over the post's top-N candidate proposals (N = 16 at test):
  its correct candidates are those with IoU > 0.5 (strict) with any of its
  gold boxes. An entity that no candidate covers can never be matched, not
  even by "none" (H-Index's `cover_flag == 0`). A predicted box is
  re-expressed as the candidate it overlaps most (it must overlap it by
  IoU > 0.5, else it matches nothing); a system that picks among the same
  candidates is scored exactly as the released code scores it. Predictions
  and gold are keyed by span (start, end): a span predicted twice counts
  once, the LAST prediction wins (the released code fills a dict).
  A post without candidates has every groundable entity unmatchable.

In both: MNER counts span + type (the grounding ignored); EEG counts span +
region (the type ignored). P = tp / predicted, R = tp / gold, in percent.
`groundable` reports, over the gold entities whose span was found, how often
the "has a region or not" decision was right (and its F1, groundable being
the positive class), beside always answering the majority class of those entities.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from mner.data.post import Box, Post

PROTOCOLS = ("direct", "hindex")
NONE = -1  # the "no region" option in candidate space
UNMATCHABLE = -2  # a groundable entity no candidate covers (hindex)


def iou(a: Box, b: Box) -> float:
    """Intersection over union of two xyxy boxes (0 for empty boxes)."""
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    if w <= 0 or h <= 0:
        return 0.0
    inter = w * h
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


@dataclass(frozen=True)
class GroundedPrediction:
    """One predicted entity: a span `[start, end)`, its type and a box (None = "no region").

    `groundable`: the system's has-a-region decision when it can differ from `box is not None`
    (a groundable entity of a post without candidate regions); None means `box is not None`."""

    start: int
    end: int
    type: str
    box: Box | None = None
    groundable: bool | None = None

    @property
    def says_groundable(self) -> bool:
        return self.box is not None if self.groundable is None else self.groundable


@dataclass
class Counts:
    tp: int = 0
    predicted: int = 0
    gold: int = 0

    def to_dict(self) -> dict[str, float]:
        p = 100.0 * self.tp / self.predicted if self.predicted else 0.0
        r = 100.0 * self.tp / self.gold if self.gold else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        return {"precision": p, "recall": r, "f1": f, "tp": self.tp, "fp": self.predicted - self.tp,
                "fn": self.gold - self.tp}


def candidate_boxes(post: Post, top_n: int) -> list[Box]:
    """The post's `top_n` regions by score (ties keep order): H-Index's candidate proposals."""
    order = sorted(range(len(post.regions)), key=lambda i: -(post.regions[i].score or 0.0))
    return [post.regions[i].box for i in order[:top_n]]


def gold_candidates(boxes: list[Box], candidates: list[Box], threshold: float = 0.5) -> set[int]:
    """H-Index's gold region of an entity: candidates with IoU > threshold with any gold box."""
    if not boxes:
        return {NONE}
    covered = {j for j, c in enumerate(candidates) if any(iou(c, g) > threshold for g in boxes)}
    return covered or {UNMATCHABLE}


def predicted_candidate(box: Box | None, candidates: list[Box], threshold: float = 0.5) -> int | None:
    """A predicted box as the candidate it overlaps most; None when it overlaps none by > threshold."""
    if box is None:
        return NONE
    best, best_iou = None, threshold
    for j, c in enumerate(candidates):
        value = iou(box, c)
        if value > best_iou:
            best, best_iou = j, value
    return best


def region_correct_direct(box: Box | None, gold_boxes: list[Box], threshold: float = 0.5) -> bool:
    if not gold_boxes:
        return box is None
    return box is not None and any(iou(box, g) >= threshold for g in gold_boxes)


def grounded_scores(gold_posts: list[Post], predictions: dict[str, list[GroundedPrediction]],
                    protocol: str = "direct", top_n: int = 16) -> dict[str, Any]:
    """GMNER / MNER / EEG micro P/R/F1 (percent) of `predictions` (by post id) against `gold_posts`.

    `hindex` reads each post's candidate proposals from `post.regions` (best `top_n` by score).
    Posts absent from `predictions` predicted nothing; predictions for unknown post ids are an error.
    """
    if protocol not in PROTOCOLS:
        raise ValueError(f"unknown grounding protocol {protocol!r}; choose from {PROTOCOLS}")
    known = {p.id for p in gold_posts}
    unknown = sorted(set(predictions) - known)
    if unknown:
        raise ValueError(f"predictions for {len(unknown)} post id(s) not in the gold data, e.g. {unknown[0]!r}")
    gmner, mner, eeg = Counts(), Counts(), Counts()
    decisions = [0, 0]  # right, total: groundable-or-not on found spans
    groundable_found = 0
    said_groundable = right_groundable = 0  # for the decision's F1 (positive class: groundable)
    unmatchable = 0
    for post in gold_posts:
        preds = predictions.get(post.id, [])
        if protocol == "direct":
            counts = _direct_post(post, preds)
        else:
            counts = _hindex_post(post, preds, candidate_boxes(post, top_n))
            unmatchable += counts[-1]
        for total, (tp, npred, ngold) in zip((gmner, mner, eeg), counts[:3]):
            total.tp += tp
            total.predicted += npred
            total.gold += ngold
        right, found, grounded, said, both = _groundable_decisions(post, preds)
        decisions[0] += right
        decisions[1] += found
        groundable_found += grounded
        said_groundable += said
        right_groundable += both
    majority = max(groundable_found, decisions[1] - groundable_found)
    result: dict[str, Any] = {"protocol": protocol, "gmner": gmner.to_dict(), "mner": mner.to_dict(),
                              "eeg": eeg.to_dict(),
                              "groundable": {"accuracy": 100.0 * decisions[0] / decisions[1] if decisions[1] else 0.0,
                                             "majority": 100.0 * majority / decisions[1] if decisions[1] else 0.0,
                                             "entities": decisions[1],
                                             "f1": Counts(right_groundable, said_groundable,
                                                          groundable_found).to_dict()["f1"]}}
    if protocol == "hindex":
        result["top_n"] = top_n
        result["unmatchable"] = unmatchable
    return result


def _direct_post(post: Post, preds: list[GroundedPrediction]) -> tuple:
    typed: dict[tuple[int, int, str], GroundedPrediction] = {}
    for p in preds:
        typed.setdefault((p.start, p.end, p.type), p)
    by_span: dict[tuple[int, int], GroundedPrediction] = {}
    for p in typed.values():
        by_span.setdefault((p.start, p.end), p)
    gold_typed = {(e.start, e.end, e.type): e.boxes for e in post.entities}
    gold_span = {(e.start, e.end): e.boxes for e in post.entities}
    gm = sum(1 for k, p in typed.items() if k in gold_typed and region_correct_direct(p.box, gold_typed[k]))
    mn = sum(1 for k in typed if k in gold_typed)
    ee = sum(1 for k, p in by_span.items() if k in gold_span and region_correct_direct(p.box, gold_span[k]))
    return (gm, len(typed), len(gold_typed)), (mn, len(typed), len(gold_typed)), (ee, len(by_span), len(gold_span))


def _hindex_post(post: Post, preds: list[GroundedPrediction], candidates: list[Box]) -> tuple:
    by_span: dict[tuple[int, int], GroundedPrediction] = {}
    for p in preds:
        by_span[(p.start, p.end)] = p  # the last wins, as in the released code's dict
    gold: dict[tuple[int, int], tuple[set[int], str]] = {}
    for e in post.entities:
        gold[(e.start, e.end)] = (gold_candidates(e.boxes, candidates), e.type)
    gm = mn = ee = 0
    for span, p in by_span.items():
        if span not in gold:
            continue
        regions, entity_type = gold[span]
        region_ok = predicted_candidate(p.box, candidates) in regions
        gm += int(region_ok and p.type == entity_type)
        mn += int(p.type == entity_type)
        ee += int(region_ok)
    lost = sum(1 for regions, _ in gold.values() if UNMATCHABLE in regions)
    n_pred, n_gold = len(by_span), len(gold)
    return (gm, n_pred, n_gold), (mn, n_pred, n_gold), (ee, n_pred, n_gold), lost


def _groundable_decisions(post: Post, preds: list[GroundedPrediction]) -> tuple[int, int, int, int, int]:
    """Over gold entities whose span was predicted: (right, found, gold groundable, said groundable, both)."""
    said = {(p.start, p.end): p.says_groundable for p in preds}
    right = found = grounded = said_yes = both = 0
    for e in post.entities:
        span = (e.start, e.end)
        if span in said:
            found += 1
            grounded += int(bool(e.boxes))
            right += int(said[span] == bool(e.boxes))
            said_yes += int(said[span])
            both += int(said[span] and bool(e.boxes))
    return right, found, grounded, said_yes, both


def format_grounded(scores: dict[str, Any]) -> str:
    """A small table of the three F1s (and the groundable-or-not accuracy)."""
    lines = [f"protocol {scores['protocol']}" + (f" (top {scores['top_n']} candidates, "
                                                 f"{scores['unmatchable']} gold entities unmatchable)"
                                                 if scores["protocol"] == "hindex" else ""),
             f"{'task':<8}{'P':>8}{'R':>8}{'F1':>8}{'tp':>7}{'fp':>7}{'fn':>7}"]
    for task in ("gmner", "mner", "eeg"):
        s = scores[task]
        lines.append(f"{task.upper():<8}{s['precision']:>8.2f}{s['recall']:>8.2f}{s['f1']:>8.2f}"
                     f"{s['tp']:>7}{s['fp']:>7}{s['fn']:>7}")
    g = scores["groundable"]
    lines.append(f"groundable-or-not accuracy {g['accuracy']:.2f} (F1 {g['f1']:.2f}) on {g['entities']} found "
                 f"entities (majority class {g['majority']:.2f})")
    return "\n".join(lines)
