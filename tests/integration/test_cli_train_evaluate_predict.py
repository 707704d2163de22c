"""The CLI end to end: train from a YAML config, evaluate --json, predict one post and a file."""

import json

import pytest
import yaml
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.readers import write_posts
from posts_factory import make_posts


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory, tiny_bert_dir):
    tmp = tmp_path_factory.mktemp("cli")
    posts = make_posts(8)
    write_posts(posts, tmp / "train.jsonl")
    write_posts(posts[:4], tmp / "dev.jsonl")
    config = {
        "data": {"format": "jsonl", "train": str(tmp / "train.jsonl"), "dev": str(tmp / "dev.jsonl")},
        "model": {"encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}, "dropout": 0.0},
        "train": {"epochs": 12, "batch_size": 4, "lr": {"encoder": 3e-3, "head": 3e-2}, "patience": 0,
                  "scheduler": {"name": "constant", "warmup": 0.0}},
        "output_dir": str(tmp / "run"),
    }
    (tmp / "config.yaml").write_text(yaml.safe_dump(config))
    result = CliRunner().invoke(app, ["train", str(tmp / "config.yaml"), "train.seed=7", "--quiet"])
    assert result.exit_code == 0, result.output
    assert "best dev F1" in result.output
    return tmp


def test_train_writes_a_run_folder(trained_run):
    run = trained_run / "run"
    assert (run / "best" / "model.safetensors").exists()
    assert yaml.safe_load((run / "config.yaml").read_text())["train"]["seed"] == 7
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,step,train_loss,precision,recall,f1")
    assert len(rows) == 13


def test_evaluate_json_has_the_documented_keys(trained_run):
    result = CliRunner().invoke(app, ["evaluate", str(trained_run / "run"), "--data", str(trained_run / "dev.jsonl"),
                                      "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    for key in ("precision", "recall", "f1", "per_type", "token_macro_f1", "subword_macro_f1"):
        assert key in scores
    assert scores["f1"] == pytest.approx(100.0)
    assert set(scores["per_type"]) == {"PER", "LOC", "ORG", "MISC"}


def test_evaluate_table_and_bad_inputs(trained_run):
    ok = CliRunner().invoke(app, ["evaluate", str(trained_run / "run"), "--data", str(trained_run / "dev.jsonl")])
    assert ok.exit_code == 0 and "micro avg" in ok.output
    missing = CliRunner().invoke(app, ["evaluate", str(trained_run / "nope"), "--data", str(trained_run / "dev.jsonl")])
    assert missing.exit_code == 1 and "no mner model" in missing.output


def test_evaluate_reads_every_repeated_knowledge_file(trained_run, tmp_path):
    args = ["evaluate", str(trained_run / "run"), "--data", str(trained_run / "dev.jsonl"), "--json"]
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text('{"image_id": "p0", "text": "one"}\n')
    second.write_text('{"image_id": "p0", "text": "two"}\n')
    ok = CliRunner().invoke(app, args + ["--knowledge", str(first)])
    assert ok.exit_code == 0, ok.output
    clash = CliRunner().invoke(app, args + ["--knowledge", str(first), "--knowledge", str(second)])
    assert clash.exit_code == 1
    assert f"{second}: image id 'p0' has a different text in {first}" in clash.output.replace("\n", "")


def test_predict_one_post(trained_run):
    result = CliRunner().invoke(app, ["predict", str(trained_run / "run"), "Alice Smith wins in Paris"])
    assert result.exit_code == 0, result.output
    lines = [line.split("\t") for line in result.output.strip().splitlines()]
    assert [(line[0], line[1]) for line in lines] == [("Alice Smith", "PER"), ("Paris", "LOC")]


def test_predict_file(trained_run):
    src = trained_run / "in.jsonl"
    src.write_text(json.dumps({"id": "a", "text": "Bob at the Festival in New York"}) + "\n"
                   + json.dumps({"id": "b", "tokens": []}) + "\n")
    out = trained_run / "out.jsonl"
    result = CliRunner().invoke(app, ["predict", str(trained_run / "run"), "--input", str(src), "--output", str(out)])
    assert result.exit_code == 0, result.output
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["id"] for r in records] == ["a", "b"]
    assert [(e["text"], e["type"]) for e in records[0]["entities"]] == [("Bob", "PER"), ("Festival", "MISC"),
                                                                       ("New York", "LOC")]
    assert records[1]["entities"] == []  # documented policy: an empty post has no entities
    assert records[0]["inputs"] == {"used": ["text"], "missing": []}  # a text model reads text only


def test_predict_file_reports_the_bad_line(trained_run):
    src = trained_run / "bad.jsonl"
    src.write_text('{"text": "ok"}\n{not json\n')
    result = CliRunner().invoke(app, ["predict", str(trained_run / "run"), "--input", str(src)])
    assert result.exit_code == 1 and "bad.jsonl:2:" in result.output


def test_evaluate_with_ablations(trained_run):
    args = ["evaluate", str(trained_run / "run"), "--data", str(trained_run / "dev.jsonl"), "--json"]
    result = CliRunner().invoke(app, [*args, "--ablate", "shuffle-image"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["ablation"] == "shuffle-image"
    bad = CliRunner().invoke(app, [*args, "--ablate", "everything"])
    assert bad.exit_code == 1 and "unknown ablation" in bad.output


def test_bf16_precision_gives_the_fp32_entities(trained_run):
    """bf16 autocast (mner.precision): on the overfit model the scores and spans match fp32's."""
    args = ["evaluate", str(trained_run / "run"), "--data", str(trained_run / "dev.jsonl"), "--json"]
    result = CliRunner().invoke(app, [*args, "--precision", "bf16"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["f1"] == pytest.approx(100.0)
    one = CliRunner().invoke(app, ["predict", str(trained_run / "run"), "Alice Smith wins in Paris", "--precision",
                                   "bf16"])
    assert one.exit_code == 0, one.output
    assert [tuple(line.split("\t")[:2]) for line in one.output.strip().splitlines()] == [("Alice Smith", "PER"),
                                                                                       ("Paris", "LOC")]
    bad = CliRunner().invoke(app, [*args, "--precision", "fp8"])
    assert bad.exit_code == 1 and "unknown precision 'fp8'" in bad.output


def test_evaluate_splits_seen_and_unseen_entities(trained_run, tmp_path):
    args = ["evaluate", str(trained_run / "run"), "--data", str(trained_run / "dev.jsonl"), "--json"]
    result = CliRunner().invoke(app, args + ["--seen-from", str(trained_run / "train.jsonl")])
    assert result.exit_code == 0, result.output
    split = json.loads(result.output)["seen_unseen"]
    assert split["seen"]["share"] == 100.0 and split["seen"]["f1"] == pytest.approx(100.0)  # dev is part of train
    other = tmp_path / "other.jsonl"
    write_posts(make_posts(1, prefix="o")[:1], other)  # Alice Smith / Paris only
    split = json.loads(CliRunner().invoke(app, args + ["--seen-from", str(other)]).output)["seen_unseen"]
    assert split["seen"]["n_gold"] == 2 and split["unseen"]["n_gold"] == split["unseen"]["tp"] > 0
    table = CliRunner().invoke(app, args[:-1] + ["--seen-from", str(other)])
    assert "unseen in training" in table.output
