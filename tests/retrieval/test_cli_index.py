"""`mner index build` / `mner index knn` / `mner evaluate --protocol rgcn` end to end on tiny files."""

import json

import pytest
import torch
from typer.testing import CliRunner

from mner.builders import build_model
from mner.checkpoint import save_pretrained
from mner.cli.main import app
from mner.config import load_config
from mner.data.readers import write_posts
from mner.data.tags import bio_labels
from posts_factory import make_posts


@pytest.fixture(scope="module")
def files(tmp_path_factory, tiny_bert_dir):
    tmp = tmp_path_factory.mktemp("index-cli")
    write_posts(make_posts(8), tmp / "train.jsonl")
    write_posts(make_posts(70, prefix="d"), tmp / "valid.jsonl")
    cfg = load_config(None, [])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    torch.manual_seed(0)
    model = build_model(cfg["model"], bio_labels(["LOC", "MISC", "ORG", "PER"]))
    model.config = cfg
    save_pretrained(model, tmp / "model")
    return tmp


def test_index_build_reports_then_reuses(files, tiny_bert_dir):
    args = ["index", "build", str(files / "train.jsonl"), "--to", str(files / "idx"), "--encoder",
            str(tiny_bert_dir), "--json"]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    report = json.loads(first.output)
    assert report["count"] == 8 and not report["reused"] and report["searched_by"] == "flat"
    assert 0 < report["hubness"]["centred"]["top10"] <= 100
    again = json.loads(CliRunner().invoke(app, [*args, "--latency", "3"]).output)
    assert again["reused"] and again["latency"]["queries"] == 3 and again["latency"]["single_ms"] > 0


def test_index_build_refuses_a_dev_file(files):
    result = CliRunner().invoke(app, ["index", "build", str(files / "valid.jsonl"), "--to", str(files / "x")])
    assert result.exit_code == 1 and "dev/test split" in result.output and "Traceback" not in result.output


def test_index_knn_sweeps_and_writes_a_model(files):
    result = CliRunner().invoke(app, ["index", "knn", str(files / "model"), "--train", str(files / "train.jsonl"),
                                      "--to", str(files / "knn"), "--dev", str(files / "valid.jsonl"),
                                      "--k", "1,2", "--weight", "0,1", "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert len(out["sweep"]) == 4 and out["weight"] == 1.0
    held = out["held_out"]  # each half of dev tagged with the setting tuned on the other half
    assert held["folds"] == 2 and len(held["chosen"]) == 2
    assert held["tagger_f1"] == next(r["f1"] for r in out["sweep"] if r["weight"] == 0)
    assert (files / "knn" / "knn" / "datastore.safetensors").exists()
    bad = CliRunner().invoke(app, ["index", "knn", str(files / "model"), "--train", str(files / "train.jsonl"),
                                   "--to", str(files / "knn3"), "--k", "1,x"])
    assert bad.exit_code == 1 and "comma-separated" in bad.output


def test_index_knn_datastore_reads_every_train_file(files):
    from safetensors.numpy import load_file

    write_posts(make_posts(4, prefix="x"), files / "more_train.jsonl")  # labelled posts the tagger never saw
    args = ["index", "knn", str(files / "model"), "--train", str(files / "train.jsonl"), "--train",
            str(files / "more_train.jsonl"), "--weight", "0.5"]
    result = CliRunner().invoke(app, [*args, "--to", str(files / "knn-two")])
    assert result.exit_code == 0, result.output
    words = sum(len(p.tokens) for p in make_posts(8) + make_posts(4))
    assert len(load_file(str(files / "knn-two" / "knn" / "datastore.safetensors"))["labels"]) == words
    leak = CliRunner().invoke(app, [*args, "--train", str(files / "valid.jsonl"), "--to", str(files / "knn-leak")])
    assert leak.exit_code == 1 and "dev/test split" in leak.output and not (files / "knn-leak").exists()


def test_evaluate_rgcn_protocol_beside_micro_f1(files):
    result = CliRunner().invoke(app, ["evaluate", str(files / "knn"), "--data", str(files / "valid.jsonl"),
                                      "--protocol", "rgcn", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["rgcn_protocol"]["batches"] == 1 and scores["rgcn_protocol"]["posts_dropped"] == 6
    text = CliRunner().invoke(app, ["evaluate", str(files / "knn"), "--data", str(files / "valid.jsonl"),
                                    "--protocol", "rgcn"])
    assert "R-GCN protocol F1" in text.output
    bad = CliRunner().invoke(app, ["evaluate", str(files / "knn"), "--data", str(files / "valid.jsonl"),
                                   "--protocol", "nope"])
    assert bad.exit_code == 1 and "unknown protocol" in bad.output
