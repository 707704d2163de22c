"""Exports read back through mner's own readers unchanged, and `mner data validate` finds no error."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from annotate_helpers import FakeOCR, WordTagger, make_inputs
from mner.annotate import export_project, open_project
from mner.cli.main import app
from mner.data.readers import read_posts
from mner.data.validate import validate_file


@pytest.fixture
def finished(tmp_path):
    """A project with three finished items (one grounded entity with two boxes, one by OCR) and one not."""
    images, posts = make_inputs(tmp_path)
    project = open_project(tmp_path / "proj", images, posts, tagger=WordTagger(), ocr=FakeOCR())
    store = project.store
    for item_id in ("post1", "post2", "post3", "sign"):
        project.open_item(item_id)
    store.save("post1", 1, ["Google", "opens", "in", "Paris", "&", "Rome"],
               [{"start": 0, "end": 1, "type": "ORG", "boxes": [[10.0, 20.0, 110.5, 70.0], [200, 10, 300, 90]]},
                {"start": 3, "end": 4, "type": "LOC", "boxes": []}, {"start": 5, "end": 6, "type": "LOC", "boxes": []}],
               done=True)
    store.save("post3", 1, store.get("post3").tokens, store.get("post3").entities, done=True)
    store.save("sign", 1, store.get("sign").tokens,
               [{"start": 2, "end": 3, "type": "LOC", "boxes": []}, {"start": 3, "end": 5, "type": "PER", "boxes": []}],
               done=True)
    return tmp_path, images


EXPECTED = {"post1": (["Google", "opens", "in", "Paris", "&", "Rome"], ["B-ORG", "O", "O", "B-LOC", "O", "B-LOC"]),
            "post3": (["Bob", "Jones", "in", "Rome"], ["B-PER", "I-PER", "O", "B-LOC"]),
            "sign": (["Welcome", "to", "Paris", "Alice", "Smith"], ["O", "O", "B-LOC", "B-PER", "I-PER"])}


@pytest.mark.parametrize("to", ["jsonl", "twitter", "gmner"])
def test_an_export_reads_back_as_it_was_labelled(finished, to):
    root, images = finished
    out = root / to / "train.txt"
    report = export_project(root / "proj", to, out)
    assert report.written == 3 and report.unfinished == 2  # post2 opened, blank never: neither done
    posts = {p.id: p for p in read_posts(out, to)}
    assert {i: (p.tokens, p.tags) for i, p in posts.items()} == EXPECTED
    if to != "twitter":  # the CoNLL text has no place for boxes; JSONL and GMNER xml keep them
        assert posts["post1"].entities[0].boxes == [(10.0, 20.0, 110.5, 70.0), (200.0, 10.0, 300.0, 90.0)]
        assert all(not e.boxes for i, p in posts.items() for e in p.entities if (i, e.start) != ("post1", 0))
    if to == "jsonl":
        assert posts["sign"].visual_text["ocr"] == "Welcome to Paris\nAlice Smith"
        assert posts["post1"].images == ["post1.jpg"]
    errors = [p for p in validate_file(out, to, images if to == "jsonl" else None) if p.severity == "error"]
    assert errors == []
    if to == "gmner":
        assert sorted(x.name for x in (root / to / "xml").iterdir()) == ["post1.xml"]


def test_export_all_includes_unfinished_items_and_leaves_out_empty_ones(finished):
    root, _ = finished
    report = export_project(root / "proj", "jsonl", root / "all.jsonl", include_unfinished=True)
    assert report.written == 4 and report.empty == ["blank"]  # blank: never opened, no words


def test_the_export_and_validate_commands(finished):
    root, images = finished
    runner = CliRunner()
    out = root / "cli" / "dev.txt"
    result = runner.invoke(app, ["annotate", "export", str(root / "proj"), str(out), "--to", "gmner"])
    assert result.exit_code == 0, result.output
    assert "wrote 3 items" in result.output and "1 xml files" in result.output and "2 unfinished" in result.output
    assert runner.invoke(app, ["data", "validate", str(out), "--format", "gmner"]).exit_code == 0
    bad = runner.invoke(app, ["annotate", "export", str(root / "nowhere"), str(out), "--to", "jsonl"])
    assert bad.exit_code == 1 and "not an annotation project" in bad.output
    wrong = runner.invoke(app, ["annotate", "export", str(root / "proj"), str(out), "--to", "xml"])
    assert wrong.exit_code == 1 and "choose one of jsonl, twitter, gmner" in wrong.output
