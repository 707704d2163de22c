"""The readers on the real benchmark files in ../shared/data (skipped when absent)."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from mner.data.images import load_image, sniff_image_format
from mner.data.post import Post
from mner.data.readers import attach_regions, attach_visual_text, read_posts, read_vinvl, read_visual_text
from mner.data.stats import compute_stats

SHARED_DATA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data"
pytestmark = [pytest.mark.realdata, pytest.mark.skipif(not SHARED_DATA.is_dir(), reason="../shared/data is absent")]


def test_twitter2017_train_counts(shared: Path) -> None:
    posts = read_posts(shared / "twitter2017" / "train.txt")
    stats = compute_stats(posts)
    assert (stats["posts"], stats["tokens"]) == (3373, 53007)
    assert stats["entities"]["PER"] == 2943
    assert all(p.images == [f"{p.id}.jpg"] for p in posts)


def test_twitter2015_other_is_reported_as_misc(shared: Path) -> None:
    path = shared / "twitter2015" / "train.txt"
    posts = read_posts(path)
    normalised = Counter(e.type for p in posts for e in p.entities)
    original = Counter(e.type for p in read_posts(path, type_map={}) for e in p.entities)
    assert len(posts) == 4000
    assert set(normalised) == {"PER", "LOC", "ORG", "MISC"}
    assert normalised["MISC"] == original["OTHER"] > 0 and "MISC" not in original
    assert sum(normalised.values()) == sum(original.values())
    assert not any(t.endswith("-OTHER") for p in posts for t in p.tags)


def test_gmner_dev_boxes_land_on_entities(shared: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    posts = {p.id: p for p in read_posts(shared / "twitter_gmner" / "dev.txt")}  # detected as gmner
    assert len(posts) == 1059
    assert "matches no entity" not in caplog.text  # every xml name found its entity
    taylor = posts["O_4862"].entities[0]
    assert (taylor.text, taylor.type) == ("Taylor Swift", "PER")
    assert taylor.boxes == [(32.0, 1.0, 275.0, 398.0), (300.0, 2.0, 600.0, 398.0)]
    xml_ids = {p.stem for p in (shared / "twitter_gmner" / "xml").glob("*.xml")}
    grounded_posts = {pid for pid, p in posts.items() if any(e.boxes for e in p.entities)}
    assert grounded_posts == xml_ids & set(posts)  # a post is grounded exactly when it has an xml
    assert compute_stats(list(posts.values()))["grounded_entities"] == 714


def test_cmner_train_crlf_and_example_images(shared: Path) -> None:
    images = shared / "cmner" / "examples" / "example_images"
    posts = read_posts(shared / "cmner" / "train.txt", images_dir=images)
    assert len(posts) == 3000
    assert not any("\r" in t for p in posts[:50] for t in p.tokens + p.tags)
    with_images = {p.id: p.images for p in posts if p.images}
    assert sum(len(v) for v in with_images.values()) == 25 and len(with_images) == 6
    assert len(with_images["Laxnkk6GQ"]) == 9
    assert all(load_image(path).mode == "RGB" for path in with_images["LwHJyuvjT"])


def test_captions_and_knowledge_attach_to_twitter2017_valid(shared: Path) -> None:
    posts = read_posts(shared / "twitter2017" / "valid.txt")
    assert attach_visual_text(posts, shared / "captions" / "blip2_twitter2017.txt", "caption") == len(posts) == 723
    knowledge = shared / "knowledge" / "pgim_chatgpt_twitter2017_valid.jsonl"
    assert attach_visual_text(posts, knowledge, "knowledge") == 723
    first = posts[0]
    assert first.id == "17_06_12598" and "Britney" in first.visual_text["knowledge"]
    assert first.visual_text["caption"]


def test_gmner_posts_find_their_knowledge_in_the_four_pgim_files(shared: Path) -> None:
    # Twitter-GMNER's posts are Twitter-2015's and -2017's: PGIM's files, read as one table, cover them all.
    files = sorted((shared / "knowledge").glob("pgim_chatgpt_*.jsonl"))
    assert len(files) == 4
    posts = read_posts(shared / "twitter_gmner" / "dev.txt")
    assert attach_visual_text(posts, files, "knowledge") == len(posts) == 1059


def test_owl_captions_span_lines(shared: Path) -> None:
    texts = read_visual_text(shared / "captions" / "owl_twitter_gmner.txt")
    assert len(texts) == 6028
    assert texts["797970"].startswith("The picture shows a mailbox") and "\n" in texts["797970"]


def test_vinvl_npz_loads_without_pickle(shared: Path) -> None:
    regions = read_vinvl(shared / "vinvl_samples" / "1953977.jpg.npz", top_k=10)
    assert len(regions) == 10
    scores = [r.score for r in regions]
    assert scores == sorted(scores, reverse=True)
    assert regions[0].feature.shape == (2048,) and regions[0].feature.dtype == np.float32
    post = Post(id="1953977", tokens=["x"], images=["1953977.jpg"])
    assert attach_regions([post], shared / "vinvl_samples", top_k=5, with_features=False) == 1
    assert len(post.regions) == 5 and all(r.label for r in post.regions)


def test_all_real_images_load(shared: Path) -> None:
    paths = sorted((shared / "images").glob("*.jpg"))
    assert len(paths) == 21
    formats = {p.name: sniff_image_format(p) for p in paths}
    assert sorted(name for name, fmt in formats.items() if fmt == "png") == ["113.jpg", "1953977.jpg"]
    for path in paths:
        image = load_image(path)
        assert image.mode == "RGB" and min(image.size) > 0
