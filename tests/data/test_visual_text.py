"""Caption and knowledge files: the three formats and how texts attach to posts."""

from __future__ import annotations

from pathlib import Path

import pytest

from mner.data.errors import DataFormatError
from mner.data.post import Post
from mner.data.loading import load_posts
from mner.data.readers import attach_visual_text, read_posts, read_visual_text, read_visual_texts


def test_blip2_splits_on_the_first_separator_and_strips_the_extension(fixtures: Path) -> None:
    texts = read_visual_text(fixtures / "captions_blip2.txt")
    assert texts["1001"] == "a basketball player dunking"
    assert texts["m1_1"] == "a stadium full of fans : at night"
    assert len(texts) == 4


def test_owl_entries_span_lines(fixtures: Path) -> None:
    texts = read_visual_text(fixtures / "captions_owl.txt")
    assert texts == {
        "1001": "The image shows a basketball player. \n\nHe is wearing a red jersey.",
        "1002": "A city skyline.",
    }


def test_knowledge_jsonl(fixtures: Path) -> None:
    assert read_visual_text(fixtures / "knowledge.jsonl", "knowledge")["17_06_3"] == "Apple is a technology company."


def test_attach_returns_how_many_posts_got_text(fixtures: Path) -> None:
    posts = read_posts(fixtures / "twitter.txt")
    assert attach_visual_text(posts, fixtures / "captions_blip2.txt", "caption") == 2
    assert attach_visual_text(posts, fixtures / "knowledge.jsonl", "knowledge") == 2
    assert posts[0].visual_text == {
        "caption": "a basketball player dunking",
        "knowledge": "Kawhi Leonard is a basketball player.",
    }
    assert posts[2].visual_text == {"knowledge": "Apple is a technology company."}


def test_several_images_are_joined_in_image_order(tmp_path: Path) -> None:
    post = Post(id="m1", tokens=["x"], images=[str(tmp_path / "m1_1.jpg"), "m1_9.jpg", "m1_0.jpg"])
    texts = {"m1_0": "first", "m1_1": "second", "m1": "whole post"}
    assert attach_visual_text([post], texts, "caption") == 1
    assert post.visual_text["caption"] == "second | first"  # m1_9 has no text: skipped


def test_post_id_is_the_fallback_key(fixtures: Path) -> None:
    post = Post(id="1001", tokens=["x"], images=["other.jpg"])
    assert attach_visual_text([post], {"1001": "by post"}, "knowledge") == 1
    assert post.visual_text["knowledge"] == "by post"


def test_empty_text_counts_as_missing() -> None:
    post = Post(id="1", tokens=["x"], images=["1.jpg"])
    assert attach_visual_text([post], {"1": ""}, "caption") == 0
    assert post.visual_text == {}


def test_malformed_caption_line_names_file_and_line(fixtures: Path) -> None:
    path = fixtures / "captions_bad.txt"
    with pytest.raises(DataFormatError, match=rf"^{path}:2: expected '<image>.jpg :<caption>'"):
        read_visual_text(path, "blip2")


def test_conflicting_duplicate_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.txt"
    path.write_text("1.jpg :a\n2.jpg :b\n1.jpg :a\n1.jpg :c\n")
    with pytest.raises(DataFormatError, match=rf"^{path}:4: image id '1' already has a different text \(line 1\)"):
        read_visual_text(path)


def test_undetectable_visual_text_asks_for_format(tmp_path: Path) -> None:
    path = tmp_path / "x.txt"
    path.write_text("just some words\n")
    with pytest.raises(DataFormatError, match="format="):
        read_visual_text(path)


def test_several_files_read_as_one_table(tmp_path: Path, fixtures: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text('{"image_id": "1001", "text": "from a"}\n{"image_id": "7", "text": "shared"}\n')
    second.write_text('{"image_id": "1002", "text": "from b"}\n{"image_id": "7", "text": "shared"}\n')
    assert read_visual_texts([first, second]) == {"1001": "from a", "7": "shared", "1002": "from b"}
    posts = load_posts(fixtures / "twitter.txt", visual_text={"knowledge": [first, second]})
    assert [p.visual_text.get("knowledge") for p in posts[:2]] == ["from a", "from b"]


def test_an_id_with_two_texts_in_two_files_names_both(tmp_path: Path) -> None:
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    first.write_text('{"image_id": "7", "text": "one"}\n')
    second.write_text('{"image_id": "7", "text": "two"}\n')
    with pytest.raises(DataFormatError, match=rf"^{second}: image id '7' has a different text in {first}"):
        read_visual_texts([first, second])
