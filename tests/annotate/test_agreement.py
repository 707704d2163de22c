"""Agreement between two projects (known F1 on a hand-made pair) and the edit count of pre-tagging."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from mner.annotate import agreement, count_edits
from mner.annotate.edit_count import post_edits
from mner.annotate.store import AnnotationStore, Item
from mner.cli.main import app


def make_project(path, labelled: dict[str, tuple[list[str], list[tuple[int, int, str]], bool]]) -> None:
    store = AnnotationStore(path)
    store.add_items([Item(id=i, position=0, images=[], seed={}) for i in labelled])
    for item_id, (tokens, spans, done) in labelled.items():
        store.prepare(item_id, tokens, [], {}, "post")
        store.save(item_id, 1, tokens, [{"start": s, "end": e, "type": t, "boxes": []} for s, e, t in spans], done)


WORDS = ["w0", "w1", "w2", "w3", "w4", "w5"]


def test_agreement_of_a_hand_made_pair(tmp_path):
    # A: 4 entities (PER 2, LOC 2). B: the 2 PER agree, one LOC is typed ORG, one LOC missed, one extra MISC.
    make_project(tmp_path / "a", {"x": (WORDS, [(0, 1, "PER"), (2, 4, "LOC")], True),
                                  "y": (WORDS, [(0, 2, "PER"), (5, 6, "LOC")], True),
                                  "z": (WORDS, [(0, 1, "PER")], False),  # unfinished in A: not compared
                                  "w": (["other"], [], True)})
    make_project(tmp_path / "b", {"x": (WORDS, [(0, 1, "PER"), (2, 4, "ORG")], True),
                                  "y": (WORDS, [(0, 2, "PER"), (3, 4, "MISC")], True),
                                  "z": (WORDS, [(0, 1, "PER")], True),
                                  "w": (["edited"], [], True)})
    result = agreement(tmp_path / "a", tmp_path / "b")
    # tp 2, B has 4, A has 4: P = R = F1 = 50
    assert result.compared == 2 and result.different_words == ["w"] and result.only_in_one == 1
    assert result.scores.f1 == pytest.approx(50.0) and result.scores.tp == 2
    assert result.scores.per_type["PER"].f1 == pytest.approx(100.0)
    assert result.scores.per_type["LOC"].f1 == 0.0 and result.scores.per_type["LOC"].support == 2
    printed = CliRunner().invoke(app, ["annotate", "agreement", str(tmp_path / "a"), str(tmp_path / "b")])
    assert printed.exit_code == 0 and "2 items compared" in printed.output and "50.00" in printed.output
    missing = CliRunner().invoke(app, ["annotate", "agreement", str(tmp_path / "a"), str(tmp_path / "none")])
    assert missing.exit_code == 1 and "not an annotation project" in missing.output


def test_edits_count_deletions_additions_retypes_and_boundaries():
    gold = [(0, 2, "PER"), (3, 4, "LOC"), (5, 7, "ORG"), (8, 9, "MISC"), (10, 11, "LOC")]
    pred = [(0, 2, "PER"),      # kept
            (3, 4, "ORG"),      # retype
            (5, 6, "ORG"),      # boundary fix
            (8, 10, "LOC"),     # boundary and retype: two edits
            (12, 13, "PER")]    # deletion; gold (10, 11) is an addition
    count = post_edits(gold, pred)
    assert (count.kept, count.retypes, count.boundary_fixes, count.deletions, count.additions) == (1, 2, 2, 1, 1)
    assert count.edits == 6 and count.from_scratch == 5
    total = count_edits([gold, []], [pred, [(0, 1, "PER")]])
    assert total.edits == 7 and total.to_dict()["edits_per_gold_entity"] == pytest.approx(7 / 5)


def test_one_prediction_covering_two_gold_entities_fixes_one_and_adds_the_other():
    count = post_edits([(0, 1, "PER"), (2, 4, "PER")], [(0, 4, "PER")])
    assert (count.boundary_fixes, count.additions, count.deletions) == (1, 1, 0)


def test_the_edits_and_speed_commands(tmp_path, monkeypatch):
    import json

    import mner.augment.ocr
    import mner.export
    from annotate_helpers import FakeOCR, WordTagger, make_inputs

    gold = tmp_path / "gold.txt"  # the stand-in model tags Alice as ORG and Paris as LOC
    gold.write_text("IMGID:1\nAlice\tB-PER\nSmith\tI-PER\nin\tO\nParis\tB-LOC\n\nIMGID:2\nRome\tB-LOC\n\n", encoding="utf-8")
    tagger = WordTagger()
    monkeypatch.setattr(mner.export, "load_tagger", lambda *a, **k: tagger)
    result = CliRunner().invoke(app, ["annotate", "edits", "run", "--data", str(gold), "--json"])
    assert result.exit_code == 0, result.output
    counted = json.loads(result.output)
    # Paris kept; Alice ORG vs Alice Smith PER: a retype and a boundary fix; Rome missed: an addition
    assert (counted["kept"], counted["retypes"], counted["boundary_fixes"], counted["additions"]) == (1, 1, 1, 1)
    assert counted["edits"] == 3 and counted["from_scratch"] == 3 and counted["posts"] == 2
    assert tagger.seen == [["Alice", "Smith", "in", "Paris"], ["Rome"]]

    images, _ = make_inputs(tmp_path)
    monkeypatch.setattr(mner.augment.ocr, "RapidOCRReader", lambda **_: FakeOCR())
    result = CliRunner().invoke(app, ["annotate", "speed", "--images", str(images), "--model", "run", "--data", str(gold),
                                      "--threads", "1"])
    assert result.exit_code == 0, result.output
    timing = json.loads(result.output)
    assert timing["ocr"]["items"] == 3 and timing["ocr"]["words_per_image"] == 1.7  # 5 words over 3 images
    assert timing["pretag"]["items"] == 2 and timing["threads"] == 1
