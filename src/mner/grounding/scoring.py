"""Score any system's predictions file (JSONL) against gold: the engine behind `mner score`.

One line per post:

    {"id": "<post id>", "entities": [{"start": 0, "end": 2, "type": "PER", "box": [x1, y1, x2, y2] or null}]}

word offsets, end exclusive. `mner predict --output` writes this form (plus
tokens, text and scores). An entity may give `boxes` (a list, the first one
is its prediction; empty = none) instead of `box`; no key at all means "none".
An optional `groundable` (true/false) is the system's has-a-region decision
where it has no box to show (a post without candidate regions); it only
enters the groundable-or-not accuracy.
"""

from __future__ import annotations

import json
from os import PathLike
from pathlib import Path
from typing import Any

from mner.data.post import Post
from mner.metrics.grounding import GroundedPrediction, grounded_scores

TASKS = ("gmner", "mner")


def read_predictions(path: str | PathLike[str]) -> dict[str, list[GroundedPrediction]]:
    """Predictions by post id; every problem names the file and line."""
    out: dict[str, list[GroundedPrediction]] = {}
    with open(path, encoding="utf-8") as handle:
        for line_no, line in enumerate(handle, 1):
            if not line.strip():
                continue
            where = f"{path}:{line_no}"
            try:
                item = json.loads(line)
            except json.JSONDecodeError as err:
                raise ValueError(f"{where}: not valid JSON ({err.msg})") from None
            if not isinstance(item, dict) or "id" not in item:
                raise ValueError(f"{where}: expected an object with 'id' and 'entities'")
            entities = item.get("entities", [])
            if not isinstance(entities, list):
                raise ValueError(f"{where}: 'entities' must be a list")
            post_id = str(item["id"])
            if post_id in out:
                raise ValueError(f"{where}: post id {post_id!r} appears twice")
            out[post_id] = [_prediction(e, where, k) for k, e in enumerate(entities)]
    return out


def _prediction(entity: Any, where: str, k: int) -> GroundedPrediction:
    at = f"{where}: entities[{k}]"
    if not isinstance(entity, dict):
        raise ValueError(f"{at}: expected an object with start, end, type")
    try:
        start, end, entity_type = int(entity["start"]), int(entity["end"]), str(entity["type"])
    except KeyError as err:
        raise ValueError(f"{at}: missing {err.args[0]!r}") from None
    except (TypeError, ValueError):
        raise ValueError(f"{at}: start and end must be integers") from None
    if not 0 <= start < end:
        raise ValueError(f"{at}: needs 0 <= start < end (word offsets, end exclusive), got {start}, {end}")
    if "box" in entity:
        box = entity["box"]
    else:
        boxes = entity.get("boxes") or []
        box = boxes[0] if boxes else None
    if box is not None:
        if not isinstance(box, (list, tuple)) or len(box) != 4:
            raise ValueError(f"{at}: box must be [x1, y1, x2, y2] or null, got {box!r}")
        try:
            box = tuple(float(v) for v in box)
        except (TypeError, ValueError):
            raise ValueError(f"{at}: box coordinates must be numbers, got {box!r}") from None
    groundable = entity.get("groundable")
    if groundable is not None and not isinstance(groundable, bool):
        raise ValueError(f"{at}: groundable must be true, false or absent, got {groundable!r}")
    return GroundedPrediction(start, end, entity_type, box, groundable)  # type: ignore[arg-type]


def check_offsets(gold: list[Post], predictions: dict[str, list[GroundedPrediction]], path: Any) -> None:
    """A predicted span past the end of its post means the file and the gold disagree."""
    lengths = {p.id: len(p.tokens) for p in gold}
    for post_id, preds in predictions.items():
        for p in preds:
            if post_id in lengths and p.end > lengths[post_id]:
                raise ValueError(f"{path}: post {post_id!r} has {lengths[post_id]} words; "
                                 f"a predicted entity ends at {p.end}")


def grounded_predictions(posts: list[Post], tags: list[list[str]],
                         groundings: list[list[Any]]) -> dict[str, list[GroundedPrediction]]:
    """A model's tags and per-entity (box or None, score) as predictions by post id."""
    from mner.data.tags import bio_to_spans

    out: dict[str, list[GroundedPrediction]] = {}
    for post, post_tags, post_ground in zip(posts, tags, groundings):
        spans = bio_to_spans(post_tags)
        ground = post_ground or [(None, None)] * len(spans)
        out[post.id] = [GroundedPrediction(s, e, t, box, None if p is None else p >= 0.5)
                        for (s, e, t), (box, p) in zip(spans, ground)]
    return out


def score_predictions(gold: list[Post], predictions_path: str | PathLike[str], task: str = "gmner",
                      protocol: str = "direct", top_n: int = 16,
                      seen: set[tuple[str, str]] | None = None) -> dict[str, Any]:
    """Scores of a predictions file; `task="mner"` keeps only span + type. `seen` (the training set's
    `mner.metrics.seen.entity_names`) adds `seen_unseen`, span + type split by seen and unseen entities."""
    if task not in TASKS:
        raise ValueError(f"unknown task {task!r}; choose from {TASKS}")
    predictions = read_predictions(predictions_path)
    check_offsets(gold, predictions, Path(predictions_path))
    scores = grounded_scores(gold, predictions, protocol, top_n)
    if task == "mner":
        scores = {"protocol": protocol, "mner": scores["mner"]}
    if seen is not None:
        from mner.metrics.seen import seen_unseen_scores

        scores["seen_unseen"] = seen_unseen_scores(
            gold, [[(e.start, e.end, e.type) for e in predictions.get(p.id, [])] for p in gold], seen)
    return scores
