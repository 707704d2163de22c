"""Token-level macro F1: the per-label F1 over all tokens, averaged over labels.

This is the metric of the thesis the toolkit follows. Every token is one
classification decision; for each label, F1 = 2·tp / (n_gold + n_pred)
counted over all tokens of all posts, and the score is the unweighted mean
over labels. Labels are those that occur in gold or predictions (as in
scikit-learn's `f1_score(average="macro")`), minus `O` unless
``include_o=True``: `O` dominates social-media posts and would hide the
entity labels.

``relaxed=True`` strips the `B-`/`I-` (or BIOES) prefix first, so `B-PER`
and `I-PER` are both `PER`: a token's type must be right, its position in the
entity need not be.

The caller decides the granularity: pass word-level tags, or subword-level
tags (one per kept subword) for the subword variant. In strict mode labels
are compared as opaque strings; relaxed mode parses them with
`mner.data.tags.parse_tag` and so rejects unknown tags.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from mner.data.tags import parse_tag


def _label(tag: str, relaxed: bool) -> str:
    if not relaxed:
        return tag
    prefix, entity_type = parse_tag(tag)
    return "O" if prefix == "O" else entity_type


def token_f1_per_label(
    gold_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    relaxed: bool = False,
    include_o: bool = False,
) -> dict[str, float]:
    """F1 (percent) per label, over all tokens; labels sorted by name."""
    if len(gold_tags) != len(pred_tags):
        raise ValueError(f"{len(gold_tags)} gold posts but {len(pred_tags)} predicted posts")
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    tp: Counter[str] = Counter()
    for i, (gold, pred) in enumerate(zip(gold_tags, pred_tags)):
        if len(gold) != len(pred):
            raise ValueError(f"post {i}: {len(gold)} gold tags but {len(pred)} predicted tags")
        for g, p in zip(gold, pred):
            g, p = _label(g, relaxed), _label(p, relaxed)
            n_gold[g] += 1
            n_pred[p] += 1
            if g == p:
                tp[g] += 1
    labels = sorted(set(n_gold) | set(n_pred))
    if not include_o:
        labels = [label for label in labels if label != "O"]
    return {label: 200.0 * tp[label] / (n_gold[label] + n_pred[label]) for label in labels}


def token_macro_f1(
    gold_tags: Sequence[Sequence[str]],
    pred_tags: Sequence[Sequence[str]],
    relaxed: bool = False,
    include_o: bool = False,
) -> float:
    """Macro-averaged token F1 in percent; 0.0 when there is no label to average."""
    per_label = token_f1_per_label(gold_tags, pred_tags, relaxed=relaxed, include_o=include_o)
    return sum(per_label.values()) / len(per_label) if per_label else 0.0
