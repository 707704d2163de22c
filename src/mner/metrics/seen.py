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
from mner.metrics.entities import SpanLike, span_scores

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
    `(start, end, type)` spans; `share` is each part's share of the gold entities (percent). Each
    part is scored by `span_scores`, the evaluator every other F1 comes from."""
    if len(gold_posts) != len(pred_spans):
        raise ValueError(f"{len(gold_posts)} gold posts but {len(pred_spans)} predicted posts")
    gold_parts: dict[str, list[set[SpanLike]]] = {part: [] for part in PARTS}
    pred_parts: dict[str, list[set[SpanLike]]] = {part: [] for part in PARTS}
    for post, spans in zip(gold_posts, pred_spans):
        for parts, post_spans in ((gold_parts, bio_to_spans(post.tags or [])),
                                  (pred_parts, [(int(s), int(e), str(t)) for s, e, t in spans])):
            for part in PARTS:
                parts[part].append({x for x in post_spans if _part(post.tokens, *x, seen) == part})
    scores = {part: span_scores(gold_parts[part], pred_parts[part]) for part in PARTS}
    total_gold = sum(x.n_gold for x in scores.values())
    return {part: {"precision": x.precision, "recall": x.recall, "f1": x.f1, "tp": x.tp, "n_pred": x.n_pred,
                   "n_gold": x.n_gold, "share": 100.0 * x.n_gold / total_gold if total_gold else 0.0}
            for part, x in scores.items()}


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
