"""`train.init_from`: a run starts from another model's weights; mismatches are said, not silent."""

import dataclasses
import json
import shutil

import pytest
import torch

from mner.builders import build_model
from mner.checkpoint import from_pretrained
from mner.evaluation import predict_tags
from mner.training.init_from import initialise_from
from mner.training.run import train_run
from posts_factory import make_posts
from tiny_models import overfit_config


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_bert_dir):
    out = tmp_path_factory.mktemp("source") / "run"
    posts = make_posts(4)
    summary = train_run(overfit_config(out, tiny_bert_dir, 30), train_posts=posts, dev_posts=posts, progress_bar=False,
                        log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    return out


def test_a_model_initialised_from_a_run_holds_its_weights(trained):
    source = from_pretrained(trained / "best")
    labels = json.loads((trained / "best" / "labels.json").read_text())
    fresh = build_model(source.config["model"], labels, make_posts(4))
    lines = []
    assert initialise_from(fresh, trained, labels, lines.append) == len(fresh.state_dict())
    assert "initialised" in lines[0] and "afresh" not in lines[0]
    theirs = source.state_dict()
    assert all(torch.equal(tensor, theirs[name]) for name, tensor in fresh.state_dict().items())


def test_other_labels_keep_the_head_fresh_and_the_encoder_is_copied(trained):
    source = from_pretrained(trained / "best")
    labels = json.loads((trained / "best" / "labels.json").read_text())
    reordered = [labels[0], *reversed(labels[1:])]  # same count, other order: copying would mislabel
    fresh = build_model(source.config["model"], reordered, make_posts(4))
    before = {k: v.clone() for k, v in fresh.state_dict().items()}
    lines = []
    initialise_from(fresh, trained, reordered, lines.append)
    assert "the tagging head starts afresh" in lines[0]
    theirs = source.state_dict()
    for name, tensor in fresh.state_dict().items():
        expected = before[name] if name.startswith("head.") else theirs[name]
        assert torch.equal(tensor, expected), name


def test_training_from_init_from_starts_where_the_source_ended(tmp_path, tiny_bert_dir, trained):
    """Zero learning rates: the run's model is the source's, so it tags as the source does."""
    posts = make_posts(4)
    cfg = overfit_config(tmp_path / "cont", tiny_bert_dir, 1, ["train.lr.encoder=0.0", "train.lr.head=0.0",
                                                      f"train.init_from={trained}"])
    lines = []
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lines.append)
    assert any(line.startswith("initialised") for line in lines)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    without = overfit_config(tmp_path / "fresh", tiny_bert_dir, 1, ["train.lr.encoder=0.0", "train.lr.head=0.0"])
    assert train_run(without, train_posts=posts, dev_posts=posts, progress_bar=False,
                     log=lambda *_: None)["dev"]["f1"] < 100.0  # the fresh model does not tag them
    unlabelled = [dataclasses.replace(p, tags=None) for p in posts]
    assert predict_tags(from_pretrained(tmp_path / "cont" / "best"), unlabelled) == \
        predict_tags(from_pretrained(trained / "best"), unlabelled)


def test_init_from_errors_name_the_setting(tmp_path, tiny_bert_dir, trained):
    posts = make_posts(4)
    missing = overfit_config(tmp_path / "a", tiny_bert_dir, 1, [f"train.init_from={tmp_path / 'nowhere'}"])
    with pytest.raises(ValueError, match="train.init_from: .*nowhere holds no mner model"):
        train_run(missing, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    other = tmp_path / "other"
    shutil.copytree(trained / "best", other)
    from safetensors.torch import save_file
    save_file({"unrelated.weight": torch.zeros(3)}, str(other / "model.safetensors"))
    nothing = overfit_config(tmp_path / "b", tiny_bert_dir, 1, [f"train.init_from={other}"])
    with pytest.raises(ValueError, match="train.init_from: no tensor of .* fits this model"):
        train_run(nothing, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
