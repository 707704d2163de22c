"""Format auto-detection: unambiguous content is recognised, the rest asks for --format."""

from __future__ import annotations

from pathlib import Path

import pytest

from mner.data.errors import DataFormatError
from mner.data.readers import FORMATS, read_posts
from mner.data.readers.detect import canonical_format, detect_format, detect_kind


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("twitter.txt", "twitter"),
        ("gmner/dev.txt", "gmner"),
        ("cmner/train.txt", "cmner"),
        ("mner_mi.jsonl", "mner_mi"),
        ("posts.jsonl", "jsonl"),
    ],
)
def test_detects_each_post_format(fixtures: Path, name: str, expected: str) -> None:
    assert detect_format(fixtures / name) == expected


@pytest.mark.parametrize(
    ("content", "words"),
    [
        ("Kawhi\tB-PER\nLeonard\tI-PER\n", "pass --format"),  # plain CoNLL: no post ids
        ("1001.jpg :a caption\n", "caption file"),
        ('{"image_id": "1", "text": "t"}\n', "visual-text"),
        ('{"sentence": "t"}\n', "pass --format"),
        ("\n\n", "empty file"),
    ],
)
def test_ambiguous_content_asks_for_format(tmp_path: Path, content: str, words: str) -> None:
    path = tmp_path / "data.txt"
    path.write_text(content)
    with pytest.raises(DataFormatError, match=words):
        read_posts(path)


def test_explicit_format_wins_and_aliases_work(fixtures: Path) -> None:
    assert canonical_format("Twitter2017") == "twitter"
    assert canonical_format("MNER-MI") == "mner_mi"
    with pytest.raises(ValueError, match="unknown format 'conll2003'"):
        canonical_format("conll2003")
    # gmner text read as plain twitter: same posts, no boxes
    assert not any(e.boxes for p in read_posts(fixtures / "gmner" / "dev.txt", "twitter") for e in p.entities)
    assert set(FORMATS) == {"twitter", "gmner", "cmner", "mner_mi", "jsonl"}


def test_detect_kind_sorts_what_a_folder_holds(fixtures: Path, images_dir: Path, tmp_path: Path) -> None:
    np_path = tmp_path / "r.npz"
    np_path.write_bytes(b"PK\x03\x04rest")
    assert detect_kind(fixtures / "twitter.txt") == "posts"
    assert detect_kind(fixtures / "captions_owl.txt") == "visual_text"
    assert detect_kind(fixtures / "knowledge.jsonl") == "visual_text"
    assert detect_kind(np_path) == "regions"
    assert detect_kind(images_dir) == "images"
    assert detect_kind(fixtures / "gmner") == "folder"
