"""GMNER / MNER / EEG under both protocols, on hand-worked posts."""

import pytest

from mner.data.post import Entity, Post, Region
from mner.metrics.grounding import GroundedPrediction as P
from mner.metrics.grounding import grounded_scores, iou

BOX = (0.0, 0.0, 10.0, 10.0)


def gold_posts():
    # post a: "Kevin Durant at Oracle Arena": PER grounded in BOX, LOC not grounded
    a = Post("a", ["Kevin", "Durant", "at", "Oracle", "Arena"], ["B-PER", "I-PER", "O", "B-LOC", "I-LOC"])
    a.entities[0].boxes = [BOX, (50.0, 50.0, 60.0, 60.0)]  # two boxes: one unit, either counts
    # post b: one ungrounded ORG
    b = Post("b", ["NBA", "news"], ["B-ORG", "O"])
    return [a, b]


def perfect():
    return {"a": [P(0, 2, "PER", BOX), P(3, 5, "LOC", None)], "b": [P(0, 1, "ORG", None)]}


def test_iou():
    assert iou(BOX, BOX) == 1.0
    assert iou(BOX, (5.0, 0.0, 15.0, 10.0)) == pytest.approx(50 / 150)
    assert iou(BOX, (10.0, 10.0, 20.0, 20.0)) == 0.0


def test_perfect_predictions_score_100_on_all_three():
    scores = grounded_scores(gold_posts(), perfect())
    for task in ("gmner", "mner", "eeg"):
        assert scores[task]["f1"] == pytest.approx(100.0)
    assert scores["groundable"]["accuracy"] == 100.0


def test_direct_protocol_hand_worked():
    preds = {
        # PER: box IoU 0.6 with the second gold box (>= 0.5: right); LOC predicted grounded (wrong region)
        "a": [P(0, 2, "PER", (50.0, 50.0, 60.0, 56.0)), P(3, 5, "LOC", BOX)],
        # ORG typed MISC: the type is wrong, the region ("none") is right
        "b": [P(0, 1, "MISC", None)],
    }
    s = grounded_scores(gold_posts(), preds, "direct")
    assert (s["gmner"]["tp"], s["gmner"]["fp"], s["gmner"]["fn"]) == (1, 2, 2)
    assert s["mner"]["tp"] == 2  # PER and LOC
    assert s["eeg"]["tp"] == 2  # PER box and ORG none
    assert s["groundable"]["accuracy"] == pytest.approx(200 / 3)
    assert s["groundable"]["majority"] == pytest.approx(200 / 3)  # 2 of 3 found entities are ungrounded
    assert s["groundable"]["f1"] == pytest.approx(2 * 0.5 * 1.0 / 1.5 * 100)  # said 2 groundable, 1 right, 1 gold


def test_box_below_half_iou_is_wrong_and_grounded_none_is_wrong():
    low = {"a": [P(0, 2, "PER", (0.0, 0.0, 10.0, 4.9))]}  # IoU 0.49
    assert grounded_scores(gold_posts(), low)["gmner"]["tp"] == 0
    missing = {"a": [P(0, 2, "PER", None)]}
    assert grounded_scores(gold_posts(), missing)["gmner"]["tp"] == 0


def with_candidates(posts, boxes):
    posts[0].regions = [Region(b, score=1.0 - 0.1 * i) for i, b in enumerate(boxes)]
    return posts


def test_hindex_reexpresses_boxes_over_candidates():
    # candidate 0 covers BOX with IoU 0.8 (> 0.5): the gold region of PER is {0}
    posts = with_candidates(gold_posts(), [(0.0, 0.0, 10.0, 8.0), (20.0, 20.0, 30.0, 30.0)])
    # the prediction is candidate 0 itself
    s = grounded_scores(posts, {"a": [P(0, 2, "PER", (0.0, 0.0, 10.0, 8.0))]}, "hindex")
    assert s["gmner"]["tp"] == 1
    # a box near the gold but far from every candidate matches no candidate: wrong under hindex
    near_gold = (0.0, 0.0, 10.0, 10.0)
    s = grounded_scores(posts, {"a": [P(0, 2, "PER", near_gold)]}, "hindex")
    assert s["gmner"]["tp"] == 1  # it overlaps candidate 0 by 0.8: re-expressed as candidate 0
    s = grounded_scores(posts, {"a": [P(0, 2, "PER", (0.0, 0.0, 10.0, 3.0))]}, "hindex")
    assert s["gmner"]["tp"] == 0  # overlaps candidate 0 by 0.375 only


def test_hindex_uncovered_entity_is_unmatchable_even_by_a_perfect_box():
    posts = with_candidates(gold_posts(), [(20.0, 20.0, 30.0, 30.0)])  # covers neither gold box
    s = grounded_scores(posts, perfect(), "hindex")
    assert s["unmatchable"] == 1
    assert s["gmner"]["tp"] == 2 and s["gmner"]["fn"] == 1  # LOC and ORG ("none") still match
    assert grounded_scores(posts, perfect(), "direct")["gmner"]["tp"] == 3  # direct compares raw boxes


def test_hindex_iou_threshold_is_strict():
    posts = with_candidates(gold_posts(), [(0.0, 0.0, 10.0, 5.0)])  # IoU exactly 0.5 with BOX
    s = grounded_scores(posts, perfect(), "hindex")
    assert s["unmatchable"] == 1


def test_duplicate_spans_count_once_and_last_wins_under_hindex():
    posts = with_candidates(gold_posts(), [BOX])
    preds = {"a": [P(0, 2, "LOC", BOX), P(0, 2, "PER", BOX)]}
    s = grounded_scores(posts, preds, "hindex")
    assert s["gmner"]["tp"] == 1 and s["gmner"]["fp"] == 0  # keyed by span: PER (the last) counts
    d = grounded_scores(gold_posts(), preds, "direct")
    assert d["gmner"]["tp"] == 1 and d["gmner"]["fp"] == 1  # direct: two different triples


def test_unknown_post_id_and_protocol_are_errors():
    with pytest.raises(ValueError, match="not in the gold"):
        grounded_scores(gold_posts(), {"zzz": []})
    with pytest.raises(ValueError, match="protocol"):
        grounded_scores(gold_posts(), {}, "nope")


def test_entity_grounded_only_when_xml_name_equals_string(tmp_path):
    from mner.data.readers.gmner import read_gmner

    (tmp_path / "xml").mkdir()
    (tmp_path / "dev.txt").write_text("IMGID:1\nKevin\tB-PER\nDurant\tI-PER\nand\tO\nKevin\tB-PER\n\n")
    (tmp_path / "xml" / "1.xml").write_text(
        "<annotation><object><name>Kevin Durant</name><bndbox><xmin>0</xmin><ymin>0</ymin><xmax>10</xmax>"
        "<ymax>10</ymax></bndbox></object></annotation>")
    post = read_gmner(tmp_path / "dev.txt")[0]
    assert [bool(e.boxes) for e in post.entities] == [True, False]  # "Kevin" alone is not the xml name
    assert isinstance(post.entities[0], Entity)
