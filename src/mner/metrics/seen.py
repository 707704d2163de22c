"""Scores split by whether an entity was seen in training: where a tagger's errors are, and which
errors a context can fix.

A gold entity is *seen* when its words (lower-cased) with its type are among the gold entities of
the training posts; otherwise *unseen*. A predicted entity is split the same way by its own words
and predicted type, so that a true positive is in the same part on both sides and each part has a
precision, a recall and an F1. The split answers, e.g., how much a retrieval context drawn from the
training set can add: a training neighbour only ever names seen entities (BENCHMARKS.md, issue #21).

    names = entity_names(train_posts)
    split = seen_unseen_scores(dev_posts, [bio_to_spans(t) for t in predicted_tags], names)
    # {"seen": {precision, recall, f1, tp, n_pred, n_gold, share}, "unseen": {...}}
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from os import PathLike
from typing import Any

from mner.data.post import Post
from mner.data.tags import bio_to_spans
from mner.metrics.entities import _f1, _percent

PARTS = ("seen", "unseen")

EntityName = tuple[str, str]  # (lower-cased words joined by one space, type)


def entity_name(tokens: Sequence[str], start: int, end: int, entity_type: str) -> EntityName:
    return " ".join(tokens[start:end]).lower(), entity_type


def entity_names(posts: Iterable[Post]) -> set[EntityName]:
    """Every (words, type) that is a gold entity of some post: what training has seen."""
    return {entity_name(p.tokens, s, e, t) for p in posts if p.tags for s, e, t in bio_to_spans(p.tags)}


def entity_names_of_files(paths: Iterable[str | PathLike[str]]) -> set[EntityName]:
    """`entity_names` of the labelled posts in these files (any format `load_posts` reads)."""
    from mner.data.loading import load_posts

    names: set[EntityName] = set()
    for path in paths:
        posts = load_posts(path)
        if not any(p.tags for p in posts):
            raise ValueError(f"{path}: no post has gold tags, so it names no seen entities")
        names |= entity_names(posts)
    return names


def seen_unseen_scores(gold_posts: Sequence[Post], pred_spans: Sequence[Iterable[tuple[int, int, str]]],
                       seen: set[EntityName]) -> dict[str, dict[str, Any]]:
    """Micro P/R/F1 (percent) of the seen and the unseen entities, given each post's predicted
    `(start, end, type)` spans; `share` is each part's share of the gold entities (percent)."""
    if len(gold_posts) != len(pred_spans):
        raise ValueError(f"{len(gold_posts)} gold posts but {len(pred_spans)} predicted posts")
    counts = {part: {"tp": 0, "n_pred": 0, "n_gold": 0} for part in PARTS}
    for post, spans in zip(gold_posts, pred_spans):
        gold = set(bio_to_spans(post.tags or []))
        pred = {(int(s), int(e), str(t)) for s, e, t in spans}
        for key, spans in (("n_gold", gold), ("n_pred", pred), ("tp", gold & pred)):
            for s, e, t in spans:
                counts[_part(post.tokens, s, e, t, seen)][key] += 1
    total_gold = sum(c["n_gold"] for c in counts.values())
    out: dict[str, dict[str, Any]] = {}
    for part, c in counts.items():
        p, r = _percent(c["tp"], c["n_pred"]), _percent(c["tp"], c["n_gold"])
        out[part] = {"precision": p, "recall": r, "f1": _f1(p, r), **c, "share": _percent(c["n_gold"], total_gold)}
    return out


def seen_unseen_of_file(gold_posts: Sequence[Post], predictions_path: str | PathLike[str],
                        seen: set[EntityName]) -> dict[str, dict[str, Any]]:
    """`seen_unseen_scores` of a predictions JSONL (`mner score`'s format; span and type only; posts
    it leaves out predicted nothing, as in `mner.grounding.scoring.score_predictions`, which also
    refuses ids that are not in the gold data)."""
    from mner.grounding.scoring import check_offsets, read_predictions

    predictions = read_predictions(predictions_path)
    check_offsets(list(gold_posts), predictions, predictions_path)
    return seen_unseen_scores(gold_posts, [[(e.start, e.end, e.type) for e in predictions.get(p.id, [])]
                                           for p in gold_posts], seen)


def _part(tokens: Sequence[str], start: int, end: int, entity_type: str, seen: set[EntityName]) -> str:
    return "seen" if entity_name(tokens, start, end, entity_type) in seen else "unseen"


def format_seen_unseen(split: dict[str, dict[str, Any]]) -> str:
    """Two lines: `seen in training   P .. R .. F1 .. (n gold, share%)` and the same for unseen."""
    lines = []
    for part in PARTS:
        s = split[part]
        lines.append(f"{part + ' in training':<20} P {s['precision']:6.2f} R {s['recall']:6.2f} F1 {s['f1']:6.2f} "
                     f"({s['n_gold']} gold, {s['share']:.1f}%; {s['n_pred']} predicted)")
    return "\n".join(lines)
