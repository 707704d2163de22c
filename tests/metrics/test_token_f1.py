"""Token-level macro F1, strict and relaxed, against hand-computed values."""

from __future__ import annotations

import pytest

from mner.metrics import token_f1_per_label, token_macro_f1

GOLD = [["B-PER", "I-PER", "O", "B-LOC"], ["O", "B-ORG"]]
PRED = [["B-PER", "B-PER", "O", "O"], ["O", "B-ORG"]]
# Strict, per label over all 6 tokens:
#   B-PER: gold 1, pred 2, tp 1 -> 2/3
#   I-PER: gold 1, pred 0, tp 0 -> 0
#   B-LOC: gold 1, pred 0, tp 0 -> 0
#   B-ORG: gold 1, pred 1, tp 1 -> 1
#   O:     gold 2, pred 3, tp 2 -> 4/5
# Relaxed: PER gold 2 pred 2 tp 2 -> 1; LOC 0; ORG 1; O as above.


def test_strict_per_label() -> None:
    per_label = token_f1_per_label(GOLD, PRED)
    assert per_label == pytest.approx({"B-LOC": 0.0, "B-ORG": 100.0, "B-PER": 200 / 3, "I-PER": 0.0})


def test_strict_macro_excludes_o_by_default() -> None:
    assert token_macro_f1(GOLD, PRED) == pytest.approx((200 / 3 + 100) / 4)


def test_strict_macro_with_o() -> None:
    assert token_macro_f1(GOLD, PRED, include_o=True) == pytest.approx((200 / 3 + 100 + 80) / 5)


def test_relaxed_strips_prefixes() -> None:
    per_label = token_f1_per_label(GOLD, PRED, relaxed=True)
    assert per_label == pytest.approx({"LOC": 0.0, "ORG": 100.0, "PER": 100.0})
    assert token_macro_f1(GOLD, PRED, relaxed=True) == pytest.approx(200 / 3)
    assert token_macro_f1(GOLD, PRED, relaxed=True, include_o=True) == pytest.approx(280 / 4)


def test_label_only_in_prediction_counts_as_zero() -> None:
    assert token_f1_per_label([["O", "B-PER"]], [["B-LOC", "B-PER"]]) == {"B-LOC": 0.0, "B-PER": 100.0}


def test_all_o_gives_zero_not_error() -> None:
    assert token_macro_f1([["O", "O"], []], [["O", "O"], []]) == 0.0
    assert token_macro_f1([["O"]], [["O"]], include_o=True) == 100.0


def test_length_mismatch_names_post() -> None:
    with pytest.raises(ValueError, match="post 0"):
        token_macro_f1([["O"]], [["O", "O"]])
