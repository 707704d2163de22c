"""`mner score`: any predictions file against gold, clear errors naming file and line."""

import json

from typer.testing import CliRunner

from mner.cli.main import app


def write_gold(tmp_path):
    (tmp_path / "xml").mkdir()
    (tmp_path / "dev.txt").write_text("IMGID:1\nKevin\tB-PER\nDurant\tI-PER\nwins\tO\n\nIMGID:2\nNBA\tB-ORG\nnews\tO\n\n")
    (tmp_path / "xml" / "1.xml").write_text(
        "<annotation><object><name>Kevin Durant</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>10</xmax>"
        "<ymax>10</ymax></bndbox></object></annotation>")
    return tmp_path / "dev.txt"


def write_preds(tmp_path, lines):
    path = tmp_path / "preds.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" if not isinstance(x, str) else x + "\n" for x in lines))
    return path


def test_perfect_file_scores_100(tmp_path):
    gold = write_gold(tmp_path)
    preds = write_preds(tmp_path, [
        {"id": "1", "entities": [{"start": 0, "end": 2, "type": "PER", "box": [0, 0, 10, 10]}]},
        {"id": "2", "entities": [{"start": 0, "end": 1, "type": "ORG", "box": None}]},
    ])
    result = CliRunner().invoke(app, ["score", str(gold), str(preds), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert [scores[t]["f1"] for t in ("gmner", "mner", "eeg")] == [100.0, 100.0, 100.0]
    table = CliRunner().invoke(app, ["score", str(gold), str(preds)])
    assert "GMNER" in table.output and "100.00" in table.output


def test_mner_task_ignores_boxes_and_accepts_predict_output_form(tmp_path):
    gold = write_gold(tmp_path)
    preds = write_preds(tmp_path, [{"id": "1", "tokens": ["Kevin", "Durant", "wins"],
                                    "entities": [{"start": 0, "end": 2, "type": "PER", "text": "Kevin Durant",
                                                  "score": 0.9}]}])
    result = CliRunner().invoke(app, ["score", str(gold), str(preds), "--task", "mner", "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["mner"]["precision"] == 100.0 and scores["mner"]["recall"] == 50.0
    assert "gmner" not in scores


def test_bad_prediction_line_is_named(tmp_path):
    gold = write_gold(tmp_path)
    preds = write_preds(tmp_path, [{"id": "1", "entities": []},
                                   {"id": "2", "entities": [{"start": 0, "end": 1, "type": "ORG", "box": [1, 2]}]}])
    result = CliRunner().invoke(app, ["score", str(gold), str(preds)])
    assert result.exit_code == 1
    assert "preds.jsonl:2: entities[0]: box must be" in result.output
    bad = write_preds(tmp_path, ["{not json"])
    result = CliRunner().invoke(app, ["score", str(gold), str(bad)])
    assert result.exit_code == 1 and "preds.jsonl:1: not valid JSON" in result.output


def test_hindex_needs_candidates(tmp_path):
    gold = write_gold(tmp_path)
    preds = write_preds(tmp_path, [{"id": "1", "entities": []}])
    result = CliRunner().invoke(app, ["score", str(gold), str(preds), "--protocol", "hindex"])
    assert result.exit_code == 1 and "--candidates" in result.output


def test_hindex_with_npz_candidates(tmp_path):
    import numpy as np

    gold = write_gold(tmp_path)
    cands = tmp_path / "regions"
    cands.mkdir()
    np.savez(cands / "1.jpg.npz", bounding_boxes=np.array([[0, 0, 10, 9], [20, 20, 30, 30]], dtype=np.float32),
             box_features=np.zeros((2, 4), dtype=np.float32), scores=np.array([0.9, 0.8], dtype=np.float32))
    preds = write_preds(tmp_path, [
        {"id": "1", "entities": [{"start": 0, "end": 2, "type": "PER", "box": [0, 0, 10, 9]}]},
        {"id": "2", "entities": [{"start": 0, "end": 1, "type": "ORG", "box": None}]},
    ])
    result = CliRunner().invoke(app, ["score", str(gold), str(preds), "--protocol", "hindex",
                                      "--candidates", str(cands), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert scores["gmner"]["f1"] == 100.0 and scores["unmatchable"] == 0


def test_real_gmner_dev_gold_as_predictions_scores_100(tmp_path):
    from pathlib import Path

    import pytest

    dev = Path(__file__).parents[2] / ".." / "shared" / "data" / "twitter_gmner" / "dev.txt"
    if not dev.is_file():
        pytest.skip("../shared/data/twitter_gmner absent")
    from mner.data.readers.gmner import read_gmner

    posts = read_gmner(dev)
    preds = write_preds(tmp_path, [{"id": p.id, "entities": [
        {"start": e.start, "end": e.end, "type": e.type, "box": list(e.boxes[-1]) if e.boxes else None}
        for e in p.entities]} for p in posts])
    result = CliRunner().invoke(app, ["score", str(dev), str(preds), "--json"])
    assert result.exit_code == 0, result.output
    scores = json.loads(result.output)
    assert [scores[t]["f1"] for t in ("gmner", "mner", "eeg")] == [100.0, 100.0, 100.0]
    assert scores["mner"]["tp"] == sum(len(p.entities) for p in posts)
