"""Property: random posts written in each format read back identical (docs/reliability.md, 'Inputs')."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from mner.cli.data import data_app
from mner.data.readers import read_posts, read_vinvl, read_visual_text, write_posts
from post_strategies import (FUZZ, boxes_st, format_blip2, format_cmner, format_knowledge, format_mner_mi,
                             format_owl, format_voc_xml, ids_st, posts_st, unique_ids, vinvl_npz)

TEXT = st.text(st.characters(whitelist_categories=("L", "N", "P", "S", "Zs")), min_size=1, max_size=40)


def core(posts: list) -> list[tuple]:
    return [(p.id, p.tokens, p.tags) for p in posts]


@FUZZ
@given(st.lists(posts_st(rich=True), min_size=1, max_size=5))
def test_jsonl_keeps_everything(posts: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "posts.jsonl"
        write_posts(posts, path, "jsonl")
        back = read_posts(path)  # format detected
    assert [p.to_dict() for p in back] == [p.to_dict() for p in posts]


@FUZZ
@given(st.lists(posts_st(labelled=True), min_size=1, max_size=5))
def test_twitter_keeps_ids_tokens_tags(posts: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        write_posts(posts, path, "twitter")
        back = read_posts(path)
    assert core(back) == core(posts)
    assert [[e.span for e in p.entities] for p in back] == [[e.span for e in p.entities] for p in posts]


@FUZZ
@given(st.lists(posts_st(labelled=True), min_size=1, max_size=4))
def test_convert_jsonl_twitter_jsonl_through_the_cli(posts: list) -> None:
    runner = CliRunner()
    with tempfile.TemporaryDirectory() as tmp:
        first, middle, last = Path(tmp) / "a.jsonl", Path(tmp) / "b.txt", Path(tmp) / "c.jsonl"
        write_posts(posts, first)
        assert runner.invoke(data_app, ["convert", str(first), str(middle), "--to", "twitter"]).exit_code == 0
        assert runner.invoke(data_app, ["convert", str(middle), str(last)]).exit_code == 0
        assert core(read_posts(last)) == core(posts)
        assert [[e.span for e in p.entities] for p in read_posts(last)] == [[e.span for e in p.entities] for p in posts]


@FUZZ
@given(st.lists(posts_st(labelled=True, chars=True), min_size=1, max_size=4))
def test_cmner_characters_and_crlf(posts: list) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "train.txt"
        path.write_bytes(format_cmner(posts))
        back = read_posts(path)
    assert core(back) == core(posts)
    assert [[e.text for e in p.entities] for p in back] == [["".join(p.tokens[e.start:e.end]) for e in p.entities]
                                                            for p in posts]


@FUZZ
@given(st.lists(posts_st(), min_size=1, max_size=4), st.lists(st.lists(ids_st, max_size=3), min_size=4, max_size=4))
def test_mner_mi_tokens_tags_images(posts: list, images: list) -> None:
    for post, names in zip(posts, images):
        post.images = [f"{n}.jpg" for n in names]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "mi.jsonl"
        path.write_bytes(format_mner_mi(posts))
        back = read_posts(path)
    assert core(back) == core(posts) and [p.images for p in back] == [p.images for p in posts]


@FUZZ
@given(st.lists(posts_st(labelled=True), min_size=1, max_size=4).map(unique_ids), st.data())
def test_gmner_boxes_reach_the_entities_of_their_name(posts: list, data: st.DataObject) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "xml").mkdir()
        path = Path(tmp) / "dev.txt"
        write_posts(posts, path, "twitter")
        expected = []
        for post in posts:
            names = sorted({post.entity_text(e) for e in post.entities})
            boxes = {name: data.draw(st.lists(boxes_st(), max_size=2)) for name in names}
            if data.draw(st.booleans()):
                (Path(tmp) / "xml" / f"{post.id}.xml").write_bytes(
                    format_voc_xml([(n, b) for n in names for b in boxes[n]]))
            else:
                boxes = {}
            expected.append([boxes.get(post.entity_text(e), []) for e in post.entities])
        back = read_posts(path, "gmner")
    assert core(back) == core(posts)
    assert [[list(e.boxes) for e in p.entities] for p in back] == expected


@FUZZ
@given(st.dictionaries(ids_st, TEXT.map(str.strip).filter(bool), min_size=1, max_size=6),
       st.sampled_from(["blip2", "owl", "knowledge"]))
def test_visual_text_files(texts: dict, fmt: str) -> None:
    writer = {"blip2": format_blip2, "owl": format_owl, "knowledge": format_knowledge}[fmt]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "texts.txt"
        path.write_bytes(writer(texts))
        assert read_visual_text(path) == texts  # format detected
        assert read_visual_text(path, fmt) == texts


@FUZZ
@given(st.integers(0, 6), st.data())
def test_vinvl_regions_best_score_first(n: int, data: st.DataObject) -> None:
    boxes = np.array([data.draw(boxes_st()) for _ in range(n)], dtype=np.float64).reshape(n, 4)
    scores = np.array(data.draw(st.lists(st.floats(0, 1, width=32), min_size=n, max_size=n)), dtype=np.float32)
    labels = data.draw(st.lists(st.text(min_size=1, max_size=5).filter(lambda t: "\x00" not in t), min_size=n,
                                max_size=n))
    features = np.arange(n * 3, dtype=np.float32).reshape(n, 3)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "1.jpg.npz"
        path.write_bytes(vinvl_npz(boxes, scores, features, labels))
        regions = read_vinvl(path)
    order = np.argsort(-scores.astype(np.float64), kind="stable")
    assert [r.box for r in regions] == [tuple(boxes[i]) for i in order]
    assert [r.label for r in regions] == [labels[i] for i in order]
    assert [r.feature.tolist() for r in regions] == [features[i].tolist() for i in order]
