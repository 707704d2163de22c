"""A grounded model: overfit posts whose grounding is known, save, load, predict the same boxes."""

import json

import pytest
import torch

from mner.checkpoint import from_pretrained
from mner.config import load_config
from mner.evaluation import evaluate, predict_grounded
from mner.predict import Tagger
from mner.training.run import train_run

from grounding.grounded_posts import FEATURE_DIM, grounded_posts


def _config(tmp_path, tiny_bert_dir, epochs=40):
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", f"train.epochs={epochs}", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.patience=0",
                             "train.scheduler.warmup=0.0", "model.dropout=0.0"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    cfg["model"]["grounding"] = {"name": "grounding.regions.v1", "feature_dim": FEATURE_DIM, "hidden_dim": 16,
                                 "top_k": 4, "dropout": 0.0}
    return cfg


@pytest.mark.slow  # one training run shared by every check of the grounded path (about 40 s on an idle core)
def test_grounded_model_overfits_saves_loads_and_predicts_same_boxes(tmp_path, tiny_bert_dir):
    torch.manual_seed(0)
    posts = grounded_posts(4)
    summary = train_run(_config(tmp_path, tiny_bert_dir), train_posts=posts, dev_posts=posts, progress_bar=False,
                        log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    grounded = summary["dev"]["grounded"]
    assert grounded["gmner"]["f1"] == pytest.approx(100.0) and grounded["eeg"]["f1"] == pytest.approx(100.0)

    loaded = from_pretrained(tmp_path / "run" / "best")
    assert loaded.grounding is not None
    scores = evaluate(loaded, posts)
    assert scores["grounded"]["gmner"]["f1"] == pytest.approx(100.0)

    tagger = Tagger.load(tmp_path / "run")
    entities = tagger.predict(posts[0])  # Alice Smith (PER, shown) wins in Paris (LOC, not shown)
    assert [(e.type, e.boxes) for e in entities] == [("PER", [posts[0].entities[0].boxes[0]]), ("LOC", [])]
    assert entities[0].grounding_score > 0.5 > entities[1].grounding_score
    record = entities[0].to_dict()
    assert record["box"] == list(posts[0].entities[0].boxes[0]) and record["groundable"] is True
    assert entities[1].to_dict()["box"] is None

    # mner predict --output writes box / grounding_score / groundable, and mner score reads it back
    from mner.cli.predict_file import predict_file
    from mner.grounding.scoring import score_predictions

    inputs = tmp_path / "in.jsonl"
    inputs.write_text("".join(json.dumps({"id": p.id, "tokens": p.tokens}) + "\n" for p in posts))
    out = tmp_path / "preds.jsonl"
    predict_file(tagger, inputs, out)  # JSONL input carries no region features: no boxes, only the decision
    first = json.loads(out.read_text().splitlines()[0])
    assert {"box", "grounding_score", "groundable"} <= set(first["entities"][0])
    scores = score_predictions(posts, out)
    assert scores["mner"]["f1"] == pytest.approx(100.0)

    # an int8 export keeps the grounding head (its Linear layers quantized too) and still points at the boxes
    from mner.export import export_model, load_tagger

    exported = load_tagger(export_model(tmp_path / "run", "int8", tmp_path / "run-int8"))
    assert exported.model.grounding is not None
    assert [(e.type, e.boxes) for e in exported.predict(posts[0])] == [(e.type, e.boxes) for e in entities]
    # so does the ONNX export: two graphs, the boxes from onnxruntime (mner.export.onnx_grounding)
    onnx = load_tagger(export_model(tmp_path / "run", "onnx", tmp_path / "run-onnx"))
    assert [(e.type, e.boxes) for e in onnx.predict(posts[0])] == [(e.type, e.boxes) for e in entities]
    assert evaluate(onnx.model, posts)["grounded"]["gmner"]["f1"] == pytest.approx(100.0)

    # mner evaluate prints the three F1s for a grounded model (and --json carries them)
    from typer.testing import CliRunner

    from mner.cli.main import app

    gold = tmp_path / "gold.jsonl"
    gold.write_text("".join(json.dumps(p.to_dict()) + "\n" for p in posts))
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "run"), "--data", str(gold)])
    assert result.exit_code == 0, result.output
    assert "GMNER" in result.output and "EEG" in result.output
    result = CliRunner().invoke(app, ["predict", str(tmp_path / "run"), "Alice Smith wins in Paris"])
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[3] for line in result.output.splitlines()] == ["none", "none"]  # no regions given
    result = CliRunner().invoke(app, ["evaluate", str(tmp_path / "run"), "--data", str(gold), "--json"])
    assert json.loads(result.output)["grounded"]["mner"]["f1"] == pytest.approx(100.0)



def test_post_without_regions_still_learns_groundable_from_text(tmp_path, tiny_bert_dir):
    torch.manual_seed(0)
    posts = grounded_posts(4, with_regions=False)
    train_run(_config(tmp_path, tiny_bert_dir, epochs=15), train_posts=posts, dev_posts=posts, progress_bar=False,
              log=lambda *_: None)
    model = from_pretrained(tmp_path / "run" / "best")
    tags, _, groundings = predict_grounded(model, posts)
    for post, ground in zip(posts, groundings):
        assert [box for box, _ in ground] == [None] * len(post.entities)  # nothing to point at
        assert [p >= 0.5 for _, p in ground] == [bool(e.boxes) for e in post.entities]
    assert evaluate(model, posts)["grounded"]["groundable"]["accuracy"] == pytest.approx(100.0)


def test_shipped_configs_build(tiny_bert_dir):
    from pathlib import Path

    from mner.builders import build_model

    paths = sorted((Path(__file__).parents[2] / "configs" / "twitter_gmner").glob("*.yaml"))
    assert paths
    for path in paths:
        cfg = load_config(path, [])
        cfg["model"]["encoder"]["model"] = str(tiny_bert_dir)
        model = build_model(cfg["model"], ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"])
        assert model.grounding is not None and model.grounding.types == ["LOC", "PER"], path

