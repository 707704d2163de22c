import pytest
import torch

from mner.builders import build_model, class_weights
from mner.modules.bilstm_encoder import WordVocab, load_vectors
from posts_factory import make_posts


def test_vectors_file_initialises_known_words_and_reports_bad_lines(tmp_path):
    vocab = WordVocab.build([["Paris", "paris", "London"]])
    path = tmp_path / "vec.txt"
    path.write_text("2 3\nparis 1 2 3\nunseen 4 5 6\n")
    weights, found = load_vectors(str(path), vocab, 3)
    assert found == 1 and weights[vocab.index["paris"]].tolist() == [1.0, 2.0, 3.0]
    assert weights[0].abs().sum() == 0  # padding row stays zero
    (tmp_path / "bad.txt").write_text("paris 1 2\n")
    with pytest.raises(ValueError, match="bad.txt:1"):
        load_vectors(str(tmp_path / "bad.txt"), vocab, 3)


def test_class_weights_favour_rare_labels_and_only_fit_the_softmax_head():
    posts = make_posts(4)
    labels = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC", "B-ORG", "I-ORG", "B-MISC", "I-MISC"]
    weights = class_weights(labels, posts)
    assert weights.mean().item() == pytest.approx(1.0)
    assert weights[labels.index("O")] < weights[labels.index("B-PER")]
    cfg = {"encoder": {"name": "encoder.bilstm.v1", "embedding_dim": 8, "hidden_size": 8}, "word_shape_dim": 0,
           "head": {"name": "head.softmax.v1"}}
    model = build_model(cfg, labels, posts, use_class_weights=True)
    assert torch.allclose(model.head.class_weights, weights)
    with pytest.raises(ValueError, match="class weighting"):
        build_model({**cfg, "head": {"name": "head.crf.v1"}}, labels, posts, use_class_weights=True)
