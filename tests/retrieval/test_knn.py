"""kNN tagging: the nearest training words' labels decide the answer at weight 1, weight 0 is the
tagger alone, and a saved kNN model loads and predicts the same."""

import numpy as np
import pytest
import torch

from mner.builders import build_model
from mner.checkpoint import from_pretrained, save_pretrained
from mner.config import load_config
from mner.data.tags import bio_labels
from mner.evaluation import predict_tags
from mner.predict import Tagger
from mner.retrieval.knn import KnnSettings, build_datastore, knn_distribution
from mner.retrieval.knn_sweep import attach_knn, held_out_scores, make_knn_model, sweep_knn
from posts_factory import make_posts

LABELS = bio_labels(["LOC", "MISC", "ORG", "PER"])


@pytest.fixture()
def untrained_dir(tmp_path, tiny_bert_dir):
    """A random tagger: on its own it tags nonsense; only its neighbours can make it right."""
    cfg = load_config(None, [])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    torch.manual_seed(0)
    model = build_model(cfg["model"], LABELS)
    model.config = cfg
    save_pretrained(model, tmp_path / "untrained")
    return tmp_path / "untrained"


def test_distribution_weights_neighbours_by_similarity():
    sims = np.array([[0.9, 0.5, 0.1]])
    labels = np.array([[1, 2, 1]])
    dist = knn_distribution(sims, labels, k=3, temperature=0.1, num_labels=3)
    assert dist.sum() == pytest.approx(1.0) and dist[0, 1] > dist[0, 2] > 0 and dist[0, 0] == 0
    assert knn_distribution(sims, labels, k=1, temperature=0.1, num_labels=3)[0].tolist() == [0, 1, 0]


def test_neighbours_decide_the_answer(untrained_dir):
    posts = make_posts(4)
    model = from_pretrained(untrained_dir)
    alone, _ = predict_tags(model, posts)
    assert alone != [p.tags for p in posts]
    store = build_datastore(model, posts)
    assert len(store.labels) == sum(len(p.tokens) for p in posts)
    attach_knn(model, store, KnnSettings(k=1, temperature=0.1, weight=1.0))
    tags, _ = predict_tags(model, posts)  # each word's nearest training word is itself
    assert tags == [p.tags for p in posts]
    attach_knn(model, store, KnnSettings(k=1, temperature=0.1, weight=0.0))
    assert predict_tags(model, posts)[0] == alone
    with pytest.raises(ValueError, match="weight"):
        KnnSettings(k=1, weight=1.5).check()


def test_sweep_tunes_on_dev_and_the_saved_model_predicts_the_same(untrained_dir, tmp_path):
    posts = make_posts(4)
    result = make_knn_model(untrained_dir, posts, tmp_path / "knn", dev=posts, ks=[1, 2], temperatures=[0.1],
                            weights=[0.0, 1.0], log=lambda m: None)
    assert len(result["sweep"]) == 4
    assert result["settings"].weight == 1.0
    by_weight = {(r["k"], r["weight"]): r["f1"] for r in result["sweep"]}
    assert by_weight[(1, 1.0)] == pytest.approx(100.0) and by_weight[(1, 0.0)] < 100.0
    tagger = Tagger.load(tmp_path / "knn")
    assert tagger.model.knn is not None and tagger.model.knn.settings.weight == 1.0
    assert [e.type for e in tagger.predict(posts[0])] == ["PER", "LOC"]
    with pytest.raises(ValueError, match="tuned on dev"):
        make_knn_model(untrained_dir, posts, tmp_path / "knn2", ks=[1, 2], log=lambda m: None)


def test_knn_in_a_training_config_is_refused(tiny_bert_dir):
    cfg = load_config(None, ["model.knn={k: 4}"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    with pytest.raises(ValueError, match="not trained"):
        build_model(cfg["model"], LABELS)


def test_sweep_weight_zero_matches_plain_prediction(untrained_dir):
    posts = make_posts(4)
    model = from_pretrained(untrained_dir)
    from mner.evaluation import evaluate

    plain = evaluate(model, posts)["f1"]
    store = build_datastore(model, posts)
    (row,) = sweep_knn(model, store, posts, [2], [0.1], [0.0])
    assert row["f1"] == pytest.approx(plain)


def test_onnx_export_of_a_knn_model_is_refused(untrained_dir, tmp_path):
    from mner.export import export_model

    make_knn_model(untrained_dir, make_posts(4), tmp_path / "knn", log=lambda m: None)
    with pytest.raises(ValueError, match="retrieval"):
        export_model(tmp_path / "knn", "onnx", tmp_path / "knn-onnx")


def test_held_out_scores_expose_a_setting_that_only_wins_where_it_was_tuned():
    """Setting A is perfect on the even posts and wrong on the odd ones; B is the reverse; the
    tagger (weight 0) is right on half of each. Tuned on one half, each setting is scored on
    the other, where it is wrong: the held-out kNN F1 falls below the tagger's, while the
    best in-sample score says +50 points."""
    from mner.retrieval.knn import KnnSettings

    gold = [["B-PER"]] * 8
    wrong = ["O"]
    a = [["B-PER"] if i % 2 == 0 else wrong for i in range(8)]
    b = [["B-PER"] if i % 2 == 1 else wrong for i in range(8)]
    tagger = [["B-PER"] if i in (0, 1, 4, 5) else wrong for i in range(8)]
    predictions = [(KnnSettings(4, 0.1, 0.0), tagger), (KnnSettings(4, 0.1, 0.3), a), (KnnSettings(8, 0.1, 0.3), b)]
    held = held_out_scores(gold, predictions, folds=2)
    assert [c["k"] for c in held["chosen"]] == [8, 4]  # part 0 (even posts) is tagged by B, tuned on the odd ones
    assert held["knn_f1"] == 0.0 and held["tagger_f1"] > 60 and held["gain"] < 0
    with pytest.raises(ValueError, match="weight 0"):
        held_out_scores(gold, predictions[1:])
    with pytest.raises(ValueError, match="2 folds"):
        held_out_scores(gold, predictions, folds=1)
