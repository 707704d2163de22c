"""`data.extra_train`: extra labelled posts join training, never as a dev, training or excluded post."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from mner.config import load_config
from mner.data.extra_train import load_extra_train
from mner.data.post import Post
from mner.data.readers import read_posts, write_posts
from mner.grounding.head import GroundingHead
from mner.training.run import train_run

from grounding.grounded_posts import FEATURE_DIM, grounded_posts
from posts_factory import make_posts


def post(post_id: str, words: str, tags: str) -> Post:
    return Post(post_id, words.split(), tags.split())


TRAIN = [post("t1", "Alice wins in Paris", "B-PER O O B-LOC"), post("t2", "Bob at home", "B-PER O O")]
DEV = [post("d1", "Google and Apple", "B-ORG O B-ORG"), post("d2", "fans love London", "O O B-LOC")]


def write(tmp_path, name: str, posts: list[Post]) -> str:
    path = tmp_path / name
    write_posts(posts, path, "twitter")
    return str(path)


def test_dev_training_and_excluded_posts_never_join_by_id_or_words(tmp_path):
    held = write(tmp_path, "test.txt", [post("x1", "Smith in Rome", "B-PER O B-LOC")])
    first = write(tmp_path, "extra1.txt", [
        post("d1", "Google and Apple again", "B-ORG O B-ORG O"),  # a dev post under other words
        post("e9", "fans love London", "O O B-LOC"),                # dev's words under another id
        post("t2", "Bob at home today", "B-PER O O O"),             # a training post (its own copy wins)
        post("x1", "Smith in Rome today", "B-PER O B-LOC O"),       # in the exclude file
        post("e1", "Carol visits Berlin", "B-PER O B-LOC"),
    ])
    second = write(tmp_path, "extra2.txt", [
        post("e1", "Carol visits Berlin", "B-PER O B-LOC"),         # the first source gave it
        post("e2", "Dave joins Nike", "B-PER O B-ORG"),
    ])
    data = {"extra_train": [{"path": first, "format": "twitter", "exclude": [held]},
                            {"path": second, "format": "twitter"}]}
    lines: list[str] = []
    extra = load_extra_train(data, TRAIN, DEV, lines.append)
    assert [p.id for p in extra] == ["e1", "e2"]
    assert [p.tags for p in extra] == [["B-PER", "O", "B-LOC"], ["B-PER", "O", "B-ORG"]]
    assert all(not p.grounding_annotated for p in extra) and all(p.grounding_annotated for p in TRAIN)
    assert "1 of 5 posts added (dropped: 1 in train, 2 in dev, 1 in an exclude file)" in lines[0]
    assert "1 of 2 posts added (dropped: 1 given by an earlier source)" in lines[1]


def test_visual_text_of_a_source_is_attached(tmp_path):
    first = write(tmp_path, "extra.txt", [post("17_06_1", "Carol visits Berlin", "B-PER O B-LOC")])
    knowledge = tmp_path / "knowledge.jsonl"
    knowledge.write_text('{"image_id": "17_06_1", "text": "Carol is a singer."}\n', encoding="utf-8")
    data = {"extra_train": [{"path": first, "visual_text": {"knowledge": str(knowledge)}}]}
    (extra,) = load_extra_train(data, TRAIN, DEV, lambda *_: None)
    assert extra.visual_text == {"knowledge": "Carol is a singer."}


@pytest.mark.parametrize("sources, message", [
    ("extra.txt", "must be a list"),
    ([{"format": "twitter"}], r"data.extra_train\[0\] must be a mapping with a path"),
    ([{"path": "a.txt", "formt": "twitter"}], r"data.extra_train\[0\] \(a.txt\): unknown key\(s\) formt"),
    ([{"path": "a.txt", "exclude": "test.txt"}], r"data.extra_train\[0\].exclude must be a list"),
])
def test_malformed_sources_are_named(sources, message):
    with pytest.raises(ValueError, match=message):
        load_extra_train({"extra_train": sources}, TRAIN, DEV)


def test_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.txt"):
        load_extra_train({"extra_train": [{"path": str(tmp_path / "nowhere.txt")}]}, TRAIN, DEV)


def test_grounding_head_learns_nothing_from_an_mner_only_post():
    posts = grounded_posts(2)
    head = GroundingHead(word_dim=8, types=["LOC", "MISC", "ORG", "PER"], feature_dim=FEATURE_DIM, hidden_dim=16,
                         top_k=4)
    states = torch.randn(2, 8, 8, requires_grad=True)  # (b, w, d)
    annotated = head.featurize(posts)
    assert annotated["span_mask"].any() and head.loss(states, annotated).item() > 0
    mner_only = head.featurize([dataclasses.replace(p, grounding_annotated=False) for p in posts])
    assert not mner_only["span_mask"].any()
    loss = head.loss(states, mner_only)
    loss.backward()
    assert loss.item() == 0.0 and not states.grad.any()  # no "not groundable" target from empty boxes


def test_training_reads_the_extra_posts(tmp_path, tiny_bert_dir):
    train = write(tmp_path, "train.txt", make_posts(2, prefix="a"))
    dev = write(tmp_path, "dev.txt", make_posts(4, prefix="d")[2:])
    extra = write(tmp_path, "extra.txt", make_posts(4, prefix="b"))  # b0/b1 repeat train's words, b2/b3 dev's
    more = write(tmp_path, "more.txt", [post("c1", "alice visits london", "B-PER O B-LOC")])
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", "train.epochs=1", "train.batch_size=4",
                             f"data.train={train}", f"data.dev={dev}", "data.format=twitter",
                             f"data.extra_train=[{{path: {extra}}}, {{path: {more}}}]"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    lines: list[str] = []
    train_run(cfg, progress_bar=False, log=lambda line: lines.append(str(line)))
    assert any("0 of 4 posts added (dropped: 2 in train, 2 in dev)" in line for line in lines)
    assert any(line.startswith("training on 3 posts") for line in lines)
    assert read_posts(more)[0].id == "c1"
