"""mner JSONL interchange: reader, writer, round trips from every format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mner.data.errors import DataFormatError
from mner.data.readers import read_posts, write_posts


def test_reads_every_field(fixtures: Path) -> None:
    labelled, predicted, minimal = read_posts(fixtures / "posts.jsonl")  # detected
    assert labelled.tags[:2] == ["B-MISC", "I-MISC"]  # OTHER normalised in tags ...
    assert labelled.entities[0].type == "MISC"  # ... and in stored entities
    assert labelled.entities[0].boxes == [(41.0, 105.0, 99.0, 379.0), (244.0, 65.0, 310.0, 164.0)]
    assert labelled.visual_text == {"caption": "a poster of a film"}
    assert [(r.box, r.label, r.score) for r in labelled.regions] == [((1.0, 2.0, 30.0, 40.0), "face", 0.9)]
    assert predicted.tags is None
    assert [(e.span, e.score) for e in predicted.entities] == [((0, 1, "PER"), 0.97), ((2, 3, "LOC"), 0.88)]
    assert predicted.images == ["p2a.jpg", "p2b.jpg"]
    assert (minimal.tokens, minimal.tags, minimal.images, minimal.entities) == (["just", "text"], None, [], [])
    assert minimal.source.line == 3


def test_round_trip_keeps_to_dict(fixtures: Path, tmp_path: Path) -> None:
    posts = read_posts(fixtures / "posts.jsonl")
    out = tmp_path / "out.jsonl"
    write_posts(posts, out)
    again = read_posts(out)
    assert [p.to_dict() for p in again] == [p.to_dict() for p in posts]
    # and the file is exactly what Post.to_dict says, one object per line
    assert [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()] == [p.to_dict() for p in posts]


@pytest.mark.parametrize(
    ("source", "fmt"),
    [("twitter.txt", "twitter"), ("gmner/dev.txt", "gmner"), ("cmner/train.txt", "cmner"), ("mner_mi.jsonl", "mner_mi")],
)
def test_every_format_converts_to_jsonl_and_back(fixtures: Path, tmp_path: Path, source: str, fmt: str) -> None:
    posts = read_posts(fixtures / source, fmt)
    out = tmp_path / "converted.jsonl"
    write_posts(posts, out, "jsonl")
    again = read_posts(out, "jsonl")
    assert [p.to_dict() for p in again] == [p.to_dict() for p in posts]


def test_unicode_is_written_as_is(fixtures: Path, tmp_path: Path) -> None:
    out = tmp_path / "cmner.jsonl"
    write_posts(read_posts(fixtures / "cmner" / "train.txt"), out)
    assert "苹果" in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("line", "words"),
    [(2, "missing key 'tokens'"), (3, "disagree with the spans of 'tags'"), (4, "expected a JSON object")],
)
def test_malformed_lines_name_file_and_line(fixtures: Path, tmp_path: Path, line: int, words: str) -> None:
    lines = (fixtures / "jsonl_bad.jsonl").read_text().splitlines()
    path = tmp_path / "bad.jsonl"
    path.write_text("\n".join([lines[0], lines[line - 1]]) + "\n")
    with pytest.raises(DataFormatError) as caught:
        read_posts(path, "jsonl")
    assert str(caught.value).startswith(f"{path}:2: ")
    assert words in str(caught.value)


def test_bad_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": "1", "tokens": ["a"]}\n\n{"id": "2", "tokens": ["b"\n')
    with pytest.raises(DataFormatError, match=rf"^{path}:3: bad JSON"):
        read_posts(path, "jsonl")


def test_tags_without_an_entities_key_are_read(tmp_path: Path) -> None:
    path = tmp_path / "tags_only.jsonl"
    path.write_text('{"id": "a", "tokens": ["Messi", "in", "Paris"], "tags": ["B-PER", "O", "B-LOC"]}\n',
                    encoding="utf-8")
    (post,) = read_posts(path, "jsonl")
    assert [e.span for e in post.entities] == [(0, 1, "PER"), (2, 3, "LOC")]
    wrong = tmp_path / "wrong.jsonl"
    wrong.write_text('{"id": "a", "tokens": ["Messi"], "tags": ["B-PER"], "entities": []}\n', encoding="utf-8")
    with pytest.raises(DataFormatError, match="wrong.jsonl:1: 'entities'"):
        read_posts(wrong, "jsonl")  # an entities key that contradicts the tags is still an error
