"""CMNER: character-level CoNLL with WID lines, CRLF, images found by globbing a folder."""

from __future__ import annotations

from pathlib import Path

from data_image_factory import jpeg_bytes

from mner.data.readers import read_posts


def test_fixture_really_is_crlf(fixtures: Path) -> None:
    assert b"\r\n" in (fixtures / "cmner" / "train.txt").read_bytes()


def test_reads_crlf_characters_and_ids(fixtures: Path) -> None:
    posts = read_posts(fixtures / "cmner" / "train.txt")  # detected from the WID line
    assert [p.id for p in posts] == ["W1", "W2"]
    assert posts[0].tokens == ["苹", "果", "发", "布", "新", "品"]
    assert all("\r" not in t for p in posts for t in p.tokens + p.tags)
    assert [(e.span, e.text) for e in posts[0].entities] == [((0, 2, "ORG"), "苹果")]  # no space between characters
    assert posts[1].source.line == 9


def test_without_images_dir_posts_have_no_images(fixtures: Path) -> None:
    assert all(p.images == [] for p in read_posts(fixtures / "cmner" / "train.txt"))


def test_images_are_globbed_per_post_in_name_order(fixtures: Path, tmp_path: Path) -> None:
    for name in ("W1_zz9.jpg", "W1_00a.jpg", "W2_k.png", "W10_x.jpg", "notes.txt"):
        (tmp_path / name).write_bytes(jpeg_bytes())
    posts = read_posts(fixtures / "cmner" / "train.txt", images_dir=tmp_path)
    assert posts[0].images == [str(tmp_path / "W1_00a.jpg"), str(tmp_path / "W1_zz9.jpg")]
    assert posts[1].images == [str(tmp_path / "W2_k.png")]  # W10_x is another post's
