"""Entity-level precision / recall / F1 with CoNLL semantics.

An entity counts as correct only when its span and its type both match
exactly. BIO sequences are read by `mner.data.tags.bio_to_spans` with the
``"begin"`` policy (a stray `I-X` starts a new entity), which is how
conlleval and seqeval's default mode read them; the scores therefore equal
seqeval's `precision_score` / `recall_score` / `f1_score` /
`classification_report` on any BIO input, well-formed or not.

All scores are percentages (0-100). A ratio with a zero denominator is 0.0
(no predictions -> precision 0; no gold -> recall 0), as in seqeval.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from mner.data.tags import bio_to_spans

# An entity is any hashable tuple whose element [2] is its type: `(start, end,
# type)` for NER, richer tuples (e.g. with a grounding) for GMNER.
SpanLike = tuple[Hashable, ...]


def span_type(span: SpanLike) -> str:
    """The entity type of a span tuple; the one place that knows where it is."""
    return str(span[2])


def _percent(numerator: int, denominator: int) -> float:
    return 100.0 * numerator / denominator if denominator else 0.0


def _f1(precision: float, recall: float) -> float:
    # Harmonic mean of the two percentages, written as seqeval computes it so
    # the floats agree to the last bits rather than merely mathematically.
    return 2 * precision * recall / (precision + recall) if precision + recall else 0.0


@dataclass
class TypeScores:
    """Scores for one entity type. `support` is the number of gold entities."""

    precision: float
    recall: float
    f1: float
    support: int
    n_pred: int
    tp: int


@dataclass
class EntityScores:
    """Micro-averaged scores over all entities, plus a breakdown per type."""

    precision: float
    recall: float
    f1: float
    tp: int
    n_pred: int
    n_gold: int
    per_type: dict[str, TypeScores] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (plain floats and ints only)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "EntityScores":
        """Inverse of `to_dict`; extra keys (token-level scores, ...) are ignored."""
        per_type = {name: TypeScores(**t) for name, t in d.get("per_type", {}).items()}
        return cls(d["precision"], d["recall"], d["f1"], d["tp"], d["n_pred"], d["n_gold"], per_type)

    def format_table(self, digits: int = 2) -> str:
        """A text table in the layout of seqeval's `classification_report`."""
        headers = ["precision", "recall", "f1-score", "support"]
        names = list(self.per_type) + ["micro avg"]
        width = max([len(n) for n in names] + [digits + 4])
        lines = [" " * width + "".join(f"{h:>10}" for h in headers), ""]

        def row(name: str, p: float, r: float, f: float, support: int) -> str:
            return f"{name:>{width}}" + "".join(f"{v:>10.{digits}f}" for v in (p, r, f)) + f"{support:>10}"

        for name, s in self.per_type.items():
            lines.append(row(name, s.precision, s.recall, s.f1, s.support))
        lines.append("")
        lines.append(row("micro avg", self.precision, self.recall, self.f1, self.n_gold))
        return "\n".join(lines)


def span_scores(gold: Sequence[Iterable[SpanLike]], pred: Sequence[Iterable[SpanLike]]) -> EntityScores:
    """Score per-post collections of spans (`(start, end, type, ...)` tuples).

    `gold[i]` and `pred[i]` belong to post i; each is read as a set, so a
    span listed twice counts once.
    """
    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold posts but {len(pred)} predicted posts")
    n_gold: Counter[str] = Counter()
    n_pred: Counter[str] = Counter()
    tp: Counter[str] = Counter()
    for gold_spans, pred_spans in zip(gold, pred):
        gold_set, pred_set = set(gold_spans), set(pred_spans)
        n_gold.update(span_type(s) for s in gold_set)
        n_pred.update(span_type(s) for s in pred_set)
        tp.update(span_type(s) for s in gold_set & pred_set)

    per_type: dict[str, TypeScores] = {}
    for entity_type in sorted(set(n_gold) | set(n_pred)):
        p = _percent(tp[entity_type], n_pred[entity_type])
        r = _percent(tp[entity_type], n_gold[entity_type])
        per_type[entity_type] = TypeScores(
            precision=p,
            recall=r,
            f1=_f1(p, r),
            support=n_gold[entity_type],
            n_pred=n_pred[entity_type],
            tp=tp[entity_type],
        )
    total_tp, total_pred, total_gold = sum(tp.values()), sum(n_pred.values()), sum(n_gold.values())
    p, r = _percent(total_tp, total_pred), _percent(total_tp, total_gold)
    return EntityScores(
        precision=p, recall=r, f1=_f1(p, r), tp=total_tp, n_pred=total_pred, n_gold=total_gold, per_type=per_type
    )


def entity_scores(
    gold_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]], policy: str = "begin"
) -> EntityScores:
    """Score per-post BIO tag sequences at entity level.

    `policy` is the repair policy of `bio_to_spans`; keep the default
    ``"begin"`` for scores comparable with conlleval / seqeval.
    """
    if len(gold_tags) != len(pred_tags):
        raise ValueError(f"{len(gold_tags)} gold posts but {len(pred_tags)} predicted posts")
    for i, (g, p) in enumerate(zip(gold_tags, pred_tags)):
        if len(g) != len(p):
            raise ValueError(f"post {i}: {len(g)} gold tags but {len(p)} predicted tags")
    return span_scores(
        [bio_to_spans(g, policy) for g in gold_tags],
        [bio_to_spans(p, policy) for p in pred_tags],
    )
