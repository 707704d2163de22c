"""The one evaluator: entity-level (CoNLL) and token-level scores, in percent."""

from mner.metrics.entities import EntityScores, TypeScores, entity_scores, span_scores, span_type
from mner.metrics.summary import format_mean_std, mean_std
from mner.metrics.tokens import token_f1_per_label, token_macro_f1

__all__ = [
    "EntityScores",
    "TypeScores",
    "entity_scores",
    "format_mean_std",
    "mean_std",
    "span_scores",
    "span_type",
    "token_f1_per_label",
    "token_macro_f1",
]
