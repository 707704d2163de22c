"""The peer: first-subword -100 alignment, training on tiny data, seqeval scoring of its own predictions."""

from __future__ import annotations

import pytest

from mner.bench.peer import PeerTagger, first_subword_labels, seqeval_f1, train_peer
from mner.data.post import Post
from mner.metrics import entity_scores
from posts_factory import make_posts

from bench_helpers import LABELS

seqeval = pytest.importorskip("seqeval")


def test_labels_go_on_first_subwords_only():
    # [CLS] new york ##er [SEP]: word 1 has two pieces; specials and continuations are ignored (-100)
    assert first_subword_labels([None, 0, 1, 1, None], [5, 6]) == [-100, 5, 6, -100, -100]
    assert first_subword_labels([None, 0, 0, 0, None], [3]) == [-100, 3, -100, -100, -100]


@pytest.fixture(scope="module")
def peer(tiny_bert_dir):
    import torch

    torch.set_num_threads(1)
    posts = make_posts(8)
    return train_peer(str(tiny_bert_dir), LABELS, posts, posts, epochs=3, lr=3e-3, batch_size=4, max_length=64), posts


def test_peer_f1_is_seqeval_on_its_own_predictions(peer):
    result, dev = peer
    predicted = result.predict(dev, 64)
    gold = [p.tags for p in dev]
    assert result.f1 == pytest.approx(seqeval_f1(gold, predicted))
    assert result.f1 == pytest.approx(100 * seqeval.metrics.f1_score(gold, predicted))
    # mner's scorer agrees with seqeval, so the peer's and mner's F1 compare like for like
    assert result.f1 == pytest.approx(entity_scores(gold, predicted).f1)
    assert len(result.f1_per_epoch) == 3 and result.f1 == max(result.f1_per_epoch)
    assert 1 <= result.best_epoch <= 3 and result.train_seconds > 0


def test_peer_predicts_every_word_in_input_order_and_survives_a_round_trip(peer, tmp_path):
    result, dev = peer
    posts = [dev[2], Post("empty", []), dev[0], Post("unk", ["\u200d", "paris"])]  # a pieceless word gets O
    tags = result.predict(posts, 2)
    assert [len(t) for t in tags] == [len(p.tokens) for p in posts]
    assert tags[1] == [] and tags[3][0] == "O"
    assert all(t in LABELS for post_tags in tags for t in post_tags)
    result.tagger.save(tmp_path / "peer")
    assert {p.suffix for p in (tmp_path / "peer").iterdir()} <= {".json", ".safetensors", ".txt", ""}
    loaded = PeerTagger.load(tmp_path / "peer", max_length=64)
    assert loaded.labels == LABELS
    assert loaded.predict(posts, 3) == tags
