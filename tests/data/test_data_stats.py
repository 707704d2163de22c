"""compute_stats / describe_path: counts a user can trust, and their text rendering."""

from __future__ import annotations

from pathlib import Path

from mner.data.readers import read_posts
from mner.data.stats import compute_stats, describe_path, render_description, render_stats


def test_counts_posts_tokens_and_entities(fixtures: Path) -> None:
    stats = compute_stats(read_posts(fixtures / "twitter.txt"))
    assert (stats["posts"], stats["tokens"]) == (3, 17)
    assert stats["entities"] == {"LOC": 1, "MISC": 2, "ORG": 2, "PER": 1}
    assert stats["posts_by_images"] == {"0": 0, "1": 3, "2+": 0}
    assert "images_found" not in stats


def test_images_found_and_missing(fixtures: Path, tmp_path: Path) -> None:
    (tmp_path / "1001.jpg").write_bytes(b"x")
    stats = compute_stats(read_posts(fixtures / "twitter.txt", images_dir=tmp_path), images_dir=tmp_path)
    assert (stats["images_found"], stats["images_missing"]) == (1, 2)
    names_only = compute_stats(read_posts(fixtures / "twitter.txt"), images_dir=tmp_path)  # relative names
    assert names_only["images_found"] == 1


def test_multi_image_and_grounding_counts(fixtures: Path) -> None:
    stats = compute_stats(read_posts(fixtures / "mner_mi.jsonl"))
    assert stats["posts_by_images"] == {"0": 1, "1": 1, "2+": 1}
    gmner = compute_stats(read_posts(fixtures / "gmner" / "dev.txt"))
    # G1: one entity with 2 boxes; G2: two "Messi" with the same box; G3: Taylor Swift
    assert (gmner["grounded_entities"], gmner["boxes"]) == (4, 5)


def test_text_table_shows_the_numbers(fixtures: Path) -> None:
    text = render_stats(compute_stats(read_posts(fixtures / "twitter.txt")), title="t")
    lines = text.splitlines()
    assert lines[0] == "t"
    assert any(line.split() == ["posts", "3"] for line in lines)
    assert any(line.split() == ["MISC", "2"] for line in lines)


def test_describe_other_kinds(fixtures: Path, images_dir: Path) -> None:
    captions = describe_path(fixtures / "captions_owl.txt")
    assert (captions["kind"], captions["entries"]) == ("visual_text", 2)
    folder = describe_path(images_dir)
    assert (folder["images"], folder["by_format"], folder["extension_mismatch"]) == (3, {"jpeg": 2, "png": 1}, 1)
    gmner = describe_path(fixtures / "gmner")
    assert list(gmner["files"]) == ["dev.txt"] and gmner["files"]["dev.txt"]["format"] == "gmner"
    assert "dev.txt (gmner)" in render_description(gmner)
