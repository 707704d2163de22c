"""R-GCN's released metric: per-batch F1 averaged, last partial batch dropped, X pieces break chunks."""

import pytest

from mner.metrics import entity_scores
from mner.metrics.rgcn import rgcn_chunks, rgcn_protocol_scores, rgcn_row


def test_chunks_follow_the_released_reader():
    assert rgcn_chunks(["O", "B-PER", "I-PER", "O"]) == [("PER", 1, 2)]
    assert rgcn_chunks(["B-PER", "B-PER", "O"]) == [("PER", 0, 0), ("PER", 1, 1)]
    assert rgcn_chunks(["I-LOC", "I-ORG", "O"]) == [("LOC", 0, 0), ("ORG", 1, 1)]
    assert rgcn_chunks(["B-PER", "X", "I-PER", "O"]) == [("PER", 0, 0), ("PER", 2, 2)]  # X closes a chunk
    assert rgcn_chunks(["O", "B-PER", "B-PER"]) == [("PER", 1, 2)]  # its end-of-sequence quirk merges them


def test_row_adds_cls_sep_and_continuation_pieces():
    assert rgcn_row(["B-PER", "I-PER", "O"], [1, 2, 1]) == ["O", "B-PER", "I-PER", "X", "O", "O"]
    assert len(rgcn_row(["O"] * 200, [1] * 200)) == 98


def test_batches_are_averaged_and_the_partial_one_dropped():
    perfect = [["B-PER", "O"]] * 64
    wrong = [["O", "O"]] * 64
    gold = perfect + perfect + perfect[:10]
    pred = perfect + wrong + wrong[:10]
    scores = rgcn_protocol_scores(gold, pred)
    assert scores["batches"] == 2 and scores["posts_dropped"] == 10
    assert scores["f1"] == pytest.approx(50.0)  # mean of 100 and 0
    micro = entity_scores(gold, pred).f1
    assert micro == pytest.approx(100 * 2 * (64 / 64) * (64 / 138) / (1 + 64 / 138))
    assert scores["f1"] != pytest.approx(micro)


def test_a_batch_without_entities_scores_zero():
    empty = [["O", "O"]] * 64
    assert rgcn_protocol_scores(empty, empty)["f1"] == 0.0


def test_too_few_posts_is_a_clear_error():
    with pytest.raises(ValueError, match="full batches of 64"):
        rgcn_protocol_scores([["O"]] * 10, [["O"]] * 10)
