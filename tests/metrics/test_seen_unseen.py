"""Scores split by entities seen in training and unseen ones (`mner.metrics.seen`, `--seen-from`)."""

import json

import pytest
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.post import Post
from mner.data.readers import write_posts
from mner.metrics import entity_scores
from mner.metrics.seen import entity_names, seen_unseen_scores

TRAIN = [Post(id="t1", tokens=["Kevin", "Durant", "joins", "OKC"], tags=["B-PER", "I-PER", "O", "B-ORG"])]
DEV = [
    Post(id="d1", tokens=["kevin", "durant", "in", "Paris"], tags=["B-PER", "I-PER", "O", "B-LOC"]),
    Post(id="d2", tokens=["OKC", "beat", "Spurs"], tags=["B-LOC", "O", "B-ORG"]),
]


def test_names_are_lower_cased_words_with_their_type():
    assert entity_names(TRAIN) == {("kevin durant", "PER"), ("okc", "ORG")}


def test_gold_and_predictions_are_split_by_their_own_words_and_type():
    seen = entity_names(TRAIN)
    pred = [[(0, 2, "PER"), (3, 4, "LOC")],  # seen right, unseen right
            [(0, 1, "ORG"), (2, 3, "PER")]]  # seen name and type but wrong here, unseen wrong type
    split = seen_unseen_scores(DEV, pred, seen)
    # gold: Kevin Durant/PER is seen; Paris/LOC, OKC/LOC (seen as ORG only) and Spurs/ORG are unseen
    assert (split["seen"]["n_gold"], split["seen"]["n_pred"], split["seen"]["tp"]) == (1, 2, 1)
    assert (split["unseen"]["n_gold"], split["unseen"]["n_pred"], split["unseen"]["tp"]) == (3, 2, 1)
    assert split["seen"]["recall"] == 100.0 and split["seen"]["precision"] == 50.0
    assert split["unseen"]["recall"] == pytest.approx(100 / 3) and split["unseen"]["precision"] == 50.0
    assert split["seen"]["share"] == 25.0 and split["unseen"]["share"] == 75.0


def test_the_parts_add_up_to_the_micro_counts():
    pred_tags = [["B-PER", "I-PER", "O", "O"], ["B-ORG", "O", "B-ORG"]]
    from mner.data.tags import bio_to_spans

    split = seen_unseen_scores(DEV, [bio_to_spans(t) for t in pred_tags], entity_names(TRAIN))
    micro = entity_scores([p.tags for p in DEV], pred_tags)
    for key in ("tp", "n_pred", "n_gold"):
        assert split["seen"][key] + split["unseen"][key] == getattr(micro, key)


def test_score_cli_splits_a_predictions_file(tmp_path):
    write_posts(TRAIN, tmp_path / "train.jsonl")
    write_posts(DEV, tmp_path / "dev.jsonl")
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": "d1", "entities": [{"start": 0, "end": 2, "type": "PER"}]}) + "\n")
    args = ["score", str(tmp_path / "dev.jsonl"), str(preds), "--task", "mner"]
    result = CliRunner().invoke(app, args + ["--seen-from", str(tmp_path / "train.jsonl"), "--json"])
    assert result.exit_code == 0, result.output
    split = json.loads(result.output)["seen_unseen"]
    assert split["seen"]["f1"] == 100.0 and split["unseen"]["recall"] == 0.0
    table = CliRunner().invoke(app, args + ["--seen-from", str(tmp_path / "train.jsonl")])
    assert "seen in training" in table.output and "unseen in training" in table.output


def test_an_unlabelled_seen_from_file_is_refused_by_name(tmp_path):
    write_posts(DEV, tmp_path / "dev.jsonl")
    (tmp_path / "raw.jsonl").write_text(json.dumps({"id": "x", "tokens": ["no", "tags"]}) + "\n")
    preds = tmp_path / "preds.jsonl"
    preds.write_text("")
    result = CliRunner().invoke(app, ["score", str(tmp_path / "dev.jsonl"), str(preds), "--task", "mner",
                                      "--seen-from", str(tmp_path / "raw.jsonl")])
    assert result.exit_code == 1
    assert f"{tmp_path / 'raw.jsonl'}: no post has gold tags" in result.output.replace("\n", "")
