"""The `hindex` protocol on real VinVL candidates: Twitter-GMNER train post 1953977, the one grounded post
of ../shared/data with a VinVL file (vinvl_samples/). Its gold entity, "Angelina Jolie" (PER), has two
boxes; of the 35 proposals, the 7th best ("hair", IoU 0.91 with the right box) and the 16th ("woman",
IoU 0.97 with the left one) cover them, so at N = 16 the entity is matchable, at N = 6 it is not."""

import json
import shutil

import pytest
from typer.testing import CliRunner

from mner.cli.main import app

POST = "1953977"
WOMAN = [10.0, 0.0, 287.0, 299.0]  # approximate: the left gold box, (14, 2, 285, 300)
DRESS = [25.0, 167.0, 214.0, 299.0]  # a candidate inside the left box, IoU 0.31: not the entity


@pytest.fixture()
def gold_and_candidates(tmp_path, shared_data):
    gmner, vinvl = shared_data / "twitter_gmner", shared_data / "vinvl_samples"
    if not (vinvl / f"{POST}.jpg.npz").is_file() or not (gmner / "xml" / f"{POST}.xml").is_file():
        pytest.skip("the real VinVL sample or its GMNER xml is absent")
    blocks = (gmner / "train.txt").read_text(encoding="utf-8").split("\n\n")
    block = next(b for b in blocks if b.strip().startswith(f"IMGID:{POST}\n"))
    (tmp_path / "xml").mkdir()
    shutil.copyfile(gmner / "xml" / f"{POST}.xml", tmp_path / "xml" / f"{POST}.xml")
    (tmp_path / "gold.txt").write_text(block.strip() + "\n\n", encoding="utf-8")
    return tmp_path / "gold.txt", vinvl


def score(tmp_path, gold, candidates, box, *extra):
    preds = tmp_path / "preds.jsonl"
    preds.write_text(json.dumps({"id": POST, "entities": [{"start": 4, "end": 6, "type": "PER", "box": box}]}) + "\n")
    args = ["score", str(gold), str(preds), "--json", *extra]
    result = CliRunner().invoke(app, args if candidates is None else [*args, "--protocol", "hindex",
                                                                       "--candidates", str(candidates)])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_hindex_on_real_vinvl_candidates(tmp_path, gold_and_candidates):
    gold, vinvl = gold_and_candidates
    # the gold's own left box is read as the candidate it overlaps most ("woman"), a gold candidate
    left = score(tmp_path, gold, vinvl, [14, 2, 285, 300])
    assert (left["gmner"]["f1"], left["unmatchable"], left["top_n"]) == (100.0, 0, 16)
    assert score(tmp_path, gold, vinvl, WOMAN)["gmner"]["f1"] == 100.0
    assert score(tmp_path, gold, vinvl, [300, 19, 567, 285])["eeg"]["f1"] == 100.0  # "hair": the right box
    wrong = score(tmp_path, gold, vinvl, DRESS)
    assert wrong["gmner"]["f1"] == 0.0 and wrong["mner"]["f1"] == 100.0
    assert score(tmp_path, gold, vinvl, None)["gmner"]["f1"] == 0.0  # "none" for a shown entity
    # fewer proposals: no candidate covers a gold box, so nothing can match it, not even the gold box itself,
    # while the direct protocol compares raw boxes and accepts it
    cut = score(tmp_path, gold, vinvl, [14, 2, 285, 300], "--top-n", "6")
    assert (cut["gmner"]["f1"], cut["unmatchable"], cut["mner"]["f1"]) == (0.0, 1, 100.0)
    assert score(tmp_path, gold, None, [14, 2, 285, 300])["gmner"]["f1"] == 100.0
    assert score(tmp_path, gold, None, DRESS)["gmner"]["f1"] == 0.0
