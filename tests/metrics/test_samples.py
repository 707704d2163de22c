"""The bundled sample posts: present, parseable, well tagged, images loadable."""

from __future__ import annotations

import json

import pytest
from PIL import Image

from mner.data.post import Post
from mner.data.tags import bio_problems, bio_to_spans
from mner.samples import IMAGES_DIR, sample_path

TYPES = {"PER", "LOC", "ORG", "MISC"}


def load(split: str) -> list[Post]:
    lines = sample_path(split).read_text(encoding="utf-8").splitlines()
    return [Post.from_dict(json.loads(line)) for line in lines]


@pytest.fixture(scope="module")
def posts() -> dict[str, list[Post]]:
    return {split: load(split) for split in ("train", "dev")}


def test_files_exist() -> None:
    assert sample_path("train").is_file()
    assert sample_path("dev").is_file()
    with pytest.raises(ValueError):
        sample_path("test")


def test_sizes(posts: dict[str, list[Post]]) -> None:
    assert 300 <= len(posts["train"]) <= 500
    assert 80 <= len(posts["dev"]) <= 150
    ids = [p.id for split in posts.values() for p in split]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("split", ["train", "dev"])
def test_tags_well_formed_and_match_entities(posts: dict[str, list[Post]], split: str) -> None:
    for post in posts[split]:
        assert post.tags is not None
        assert bio_problems(post.tags) == [], post.id
        assert [e.span for e in post.entities] == bio_to_spans(post.tags), post.id
        assert all(e.text == post.entity_text(e) for e in post.entities), post.id


@pytest.mark.parametrize("split", ["train", "dev"])
def test_all_types_present(posts: dict[str, list[Post]], split: str) -> None:
    assert {e.type for p in posts[split] for e in p.entities} == TYPES


@pytest.mark.parametrize("split", ["train", "dev"])
def test_image_mix_and_captions(posts: dict[str, list[Post]], split: str) -> None:
    counts = [len(p.images) for p in posts[split]]
    assert {0, 1, 2} <= set(counts)
    assert counts.count(1) >= 0.7 * len(counts)
    for post in posts[split]:
        assert bool(post.visual_text.get("caption")) == bool(post.images), post.id


def test_images_exist_and_load(posts: dict[str, list[Post]]) -> None:
    formats = {}
    for post in posts["train"] + posts["dev"]:
        for name in post.images:
            with Image.open(IMAGES_DIR / name) as image:
                image.load()
                formats[name] = image.format
                assert 64 <= min(image.size) and max(image.size) <= 96
    # Exactly one PNG under a .jpg name, the quirk readers must survive.
    assert [n for n, f in formats.items() if f != "JPEG"] == ["s0009.jpg"]
    assert formats["s0009.jpg"] == "PNG"
    assert sum(f.stat().st_size for f in IMAGES_DIR.iterdir()) < 1.5e6


def test_dev_has_unseen_entities(posts: dict[str, list[Post]]) -> None:
    seen = {post.entity_text(e).lower() for post in posts["train"] for e in post.entities}
    dev = {post.entity_text(e).lower() for post in posts["dev"] for e in post.entities}
    assert len(dev - seen) >= 10
