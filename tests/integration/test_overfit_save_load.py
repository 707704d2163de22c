"""The spaCy habit: overfit a few posts, save, load, and predict the same spans."""

import json

import pytest
import torch

from mner.checkpoint import from_pretrained
from mner.config import load_config
from mner.data.tags import bio_to_spans
from mner.evaluation import predict_tags
from mner.predict import Tagger
from mner.training.run import train_run
from posts_factory import make_posts


def _config(tmp_path, encoder_cfg, head="head.crf.v1", epochs=30, extra=()):
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", f"train.epochs={epochs}", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.patience=0",
                             "train.scheduler.warmup=0.0", "model.dropout=0.0", f"model.head.name={head}", *extra])
    cfg["model"]["encoder"] = encoder_cfg
    return cfg


@pytest.mark.parametrize("head,bucket", [("head.crf.v1", "subwords"), ("head.softmax.v1", "true")])
def test_hf_encoder_overfits_saves_loads_and_predicts_same_spans(tmp_path, tiny_bert_dir, head, bucket):
    posts = make_posts(4)
    cfg = _config(tmp_path, {"name": "encoder.hf.v1", "model": str(tiny_bert_dir), "pooling": "first"}, head,
                  extra=[f"train.bucket_by_length={bucket}"])
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)

    run = tmp_path / "run"
    for name in ("config.json", "labels.json", "model.safetensors", "metrics.json"):
        assert (run / "best" / name).exists()
    assert json.loads((run / "best" / "labels.json").read_text())[0] == "O"
    loaded = from_pretrained(run / "best")
    tags, _ = predict_tags(loaded, posts)
    assert [bio_to_spans(t) for t in tags] == [bio_to_spans(p.tags) for p in posts]

    tagger = Tagger.load(run)  # a run folder resolves to best/
    entities = tagger.predict(posts[0])
    assert [(e.start, e.end, e.type, e.text) for e in entities] == [(0, 2, "PER", "Alice Smith"), (4, 5, "LOC", "Paris")]
    assert all(0.0 < e.score <= 1.0 for e in entities)


def test_bilstm_encoder_overfits_and_round_trips(tmp_path):
    posts = make_posts(4)
    cfg = _config(tmp_path, {"name": "encoder.bilstm.v1", "embedding_dim": 16, "hidden_size": 16, "dropout": 0.0},
                  epochs=40, extra=["train.lr.encoder=2e-2"])
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    assert (tmp_path / "run" / "best" / "vocab.json").exists()
    tagger = Tagger.load(tmp_path / "run")
    assert [e.type for e in tagger.predict_many(posts)[1]] == ["ORG", "ORG", "LOC"]


def test_checkpoint_files_are_safetensors_and_json_only(tmp_path, tiny_bert_dir):
    posts = make_posts(4)
    cfg = _config(tmp_path, {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}, epochs=1)
    train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    for path in (tmp_path / "run").rglob("*"):
        if path.is_file():
            assert path.suffix in {".json", ".safetensors", ".csv", ".yaml", ".txt"}, path


def test_bf16_mixed_precision_training_overfits_and_keeps_fp32_weights(tmp_path, tiny_bert_dir):
    """train.precision=bf16: autocast forward + loss, fp32 weights and optimizer; the saved model is plain fp32."""
    posts = make_posts(4)
    cfg = _config(tmp_path, {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}, extra=["train.precision=bf16"])
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    loaded = from_pretrained(tmp_path / "run" / "best")
    assert {p.dtype for p in loaded.parameters()} == {torch.float32}
    tags, _ = predict_tags(loaded, posts)
    assert [bio_to_spans(t) for t in tags] == [bio_to_spans(p.tags) for p in posts]


def test_unknown_training_precision_fails_before_training(tmp_path, tiny_bert_dir):
    cfg = _config(tmp_path, {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}, epochs=1,
                  extra=["train.precision=fp8"])
    with pytest.raises(ValueError, match="unknown precision 'fp8'"):
        train_run(cfg, train_posts=make_posts(4), dev_posts=make_posts(4), progress_bar=False, log=lambda *_: None)
