"""Interrupted training resumes to the same weights; the loop refuses to train on garbage."""

import pytest
import torch
from safetensors.torch import load_file

from mner.config import load_config
from mner.data.post import Post
from mner.training.loop import TrainingError
from mner.training.run import train_run
from posts_factory import make_posts


def _cfg(out, tiny_bert_dir, epochs):
    cfg = load_config(None, [f"output_dir={out}", f"train.epochs={epochs}", "train.batch_size=2",
                             "train.patience=0", "train.lr.encoder=1e-3", "train.lr.head=1e-2"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    return cfg


def test_resume_after_interruption_matches_an_uninterrupted_run(tmp_path, tiny_bert_dir):
    posts = make_posts(6)
    quiet = {"progress_bar": False, "log": lambda *_: None, "train_posts": posts, "dev_posts": posts}
    train_run(_cfg(tmp_path / "straight", tiny_bert_dir, 3), **quiet)

    interrupted = tmp_path / "interrupted"

    def kill_during_epoch_2(message: str) -> None:
        if message.startswith("epoch 2:"):
            raise KeyboardInterrupt  # after epoch 2's scores, before its checkpoint

    with pytest.raises(KeyboardInterrupt):
        train_run(_cfg(interrupted, tiny_bert_dir, 3), **{**quiet, "log": kill_during_epoch_2})
    with pytest.raises(FileExistsError):
        train_run(_cfg(interrupted, tiny_bert_dir, 3), **quiet)  # no silent overwrite
    changed = _cfg(interrupted, tiny_bert_dir, 3)
    changed["train"]["batch_size"] = 3
    with pytest.raises(ValueError, match="another config.*train.batch_size"):
        train_run(changed, resume=True, **quiet)  # its epochs were another experiment's
    summary = train_run(_cfg(interrupted, tiny_bert_dir, 3), resume=True, **quiet)
    assert summary["epochs_run"] == 3

    a = load_file(str(tmp_path / "straight" / "checkpoint" / "model.safetensors"))
    b = load_file(str(interrupted / "checkpoint" / "model.safetensors"))
    for name in a:
        assert torch.allclose(a[name], b[name], atol=1e-6), name
    rows = (interrupted / "metrics.csv").read_text().strip().splitlines()
    assert len(rows) == 1 + 3  # header + one row per epoch, none duplicated


def test_nan_loss_stops_with_a_clear_message(tmp_path, tiny_bert_dir, monkeypatch):
    from mner.model import MnerModel

    monkeypatch.setattr(MnerModel, "loss", lambda self, batch: torch.tensor(float("nan"), requires_grad=True))
    posts = make_posts(2)
    with pytest.raises(TrainingError, match="loss became nan"):
        train_run(_cfg(tmp_path / "r", tiny_bert_dir, 1), train_posts=posts, dev_posts=posts,
                  progress_bar=False, log=lambda *_: None)


def test_all_o_predictions_stop_training(tmp_path, tiny_bert_dir):
    all_o = [Post(id=f"o{i}", tokens=["fans", "love", "the", "game"], tags=["O"] * 4) for i in range(4)]
    dev = make_posts(2)
    cfg = _cfg(tmp_path / "r", tiny_bert_dir, 5)
    cfg["train"]["all_o_patience"] = 2
    with pytest.raises(TrainingError, match="only O"):
        train_run(cfg, train_posts=all_o, dev_posts=dev, progress_bar=False, log=lambda *_: None)


def test_ill_formed_gold_tags_are_repaired_for_training(tmp_path, tiny_bert_dir):
    """A stray I- in the training tags must not reach the constrained CRF as an impossible path."""
    from mner.training.run import well_formed_targets

    stray = Post(id="s", tokens=["in", "paris", "now"], tags=["O", "I-LOC", "O"])
    assert well_formed_targets([stray])[0].tags == ["O", "B-LOC", "O"]
    assert stray.tags == ["O", "I-LOC", "O"]  # the caller's post is not modified
    posts = make_posts(4) + [stray] * 2
    summary = train_run(_cfg(tmp_path / "r", tiny_bert_dir, 1), train_posts=posts, dev_posts=posts,
                        progress_bar=False, log=lambda *_: None)
    rows = (tmp_path / "r" / "metrics.csv").read_text().splitlines()
    assert float(rows[1].split(",")[2]) < 100  # the mean loss stays O(words), not O(10^4)
    assert summary["epochs_run"] == 1
