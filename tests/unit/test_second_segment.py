"""A second encoder segment from one visual-text field or several joined (mner.second_segment)."""

import pytest
import torch

from mner.batching import make_batch
from mner.builders import build_model
from mner.config import load_config
from mner.data.post import Post
from mner.data.tags import bio_labels, bio_to_spans
from mner.model_inputs import model_inputs, post_inputs
from mner.modules.hf_text_encoder import HfTextEncoder
from mner.predict import Tagger
from mner.second_segment import FIELD_SEP, joined_text, second_texts, segment_fields
from mner.training.objectives import CrossViewObjective, TaggingObjective
from mner.training.run import train_run
from posts_factory import make_posts

ONE_PIECE = len  # a counting function: every character is a subword, so the cuts are easy to work out


def test_segment_fields_accepts_a_name_or_a_list_and_rejects_the_rest():
    assert segment_fields(None) == [] and segment_fields("") == []
    assert segment_fields("knowledge") == ["knowledge"]
    assert segment_fields(["caption", "knowledge"]) == ["caption", "knowledge"]
    with pytest.raises(ValueError, match="twice"):
        segment_fields(["caption", "caption"])
    for bad in ([], [""], [1], {"caption": 64}, 3):
        if bad == []:
            assert segment_fields(bad) == []  # an empty list reads nothing, like null
            continue
        with pytest.raises(ValueError, match="model.second_segment"):
            segment_fields(bad)


def test_several_fields_share_the_budget_equally_and_a_missing_one_leaves_its_share():
    text = {"caption": "aa bb cc dd ee", "knowledge": "kk ll mm nn"}
    # budget 9, two texts, one separator: 4 subwords each, whole words only
    assert joined_text(text, ["caption", "knowledge"], 9, ONE_PIECE) == f"aa bb{FIELD_SEP}kk ll"
    assert joined_text(text, ["knowledge", "caption"], 9, ONE_PIECE) == f"kk ll{FIELD_SEP}aa bb"  # config order
    # a post without the caption: its knowledge alone, uncut here (the featurizer's own cap cuts it)
    assert joined_text({"knowledge": "kk ll mm nn"}, ["caption", "knowledge"], 9, ONE_PIECE) == "kk ll mm nn"
    assert joined_text({"caption": ""}, ["caption", "knowledge"], 9, ONE_PIECE) is None
    assert joined_text(text, ["knowledge"], 2, ONE_PIECE) == "kk ll mm nn"  # one field: as before
    assert joined_text(text, ["caption", "knowledge"], None, ONE_PIECE) == f"aa bb cc dd ee{FIELD_SEP}kk ll mm nn"


def test_the_joined_segment_fits_the_encoder_cap_and_keeps_both_fields(tiny_bert_dir):
    encoder = HfTextEncoder.from_name(str(tiny_bert_dir), second_max_length=9)
    long_caption = "a photo of people in a city at night with many lights"
    post = Post("a", ["alice", "in", "paris"], visual_text={"caption": long_caption, "knowledge": "alice is a name"})
    [text] = second_texts(encoder, [post], ["caption", "knowledge"])
    caption_part, knowledge_part = text.split(FIELD_SEP)
    assert long_caption.startswith(caption_part) and "alice is a name".startswith(knowledge_part)
    assert caption_part and knowledge_part  # each field got its share; the caption alone would fill the cap
    batch = make_batch(encoder, [post], second_segment=["caption", "knowledge"])
    second_ids = batch.features["input_ids"][0][batch.features["token_type_ids"][0] == 1].tolist()
    second_words = encoder.tokenizer.decode(second_ids[:-1])  # less [SEP]
    assert len(second_ids) - 1 <= 9 and "alice" in second_words  # the knowledge follows the cut caption
    only = make_batch(encoder, [post], second_segment="caption")  # one field: the cap cuts the caption alone
    assert "alice" not in encoder.tokenizer.decode(only.features["input_ids"][0].tolist()).split("[SEP]")[1]


def test_model_inputs_lists_every_field_and_cross_view_strips_them_all(tiny_bert_dir):
    assert model_inputs({"second_segment": ["caption", "knowledge"]}) == ["text", "caption", "knowledge"]
    post = Post("a", ["x"], visual_text={"knowledge": "k"})
    assert post_inputs(post, model_inputs({"second_segment": ["caption", "knowledge"]})) == {
        "used": ["text", "knowledge"], "missing": ["caption"]}
    cfg = load_config(None, ["model.dropout=0.0"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    cfg["model"]["second_segment"] = ["caption", "knowledge"]
    torch.manual_seed(0)
    model = build_model(cfg["model"], bio_labels(["LOC", "MISC", "ORG", "PER"])).eval()
    posts = make_posts(3)
    for p in posts:  # knowledge only: a post counts for the second view when it has any of the fields
        p.visual_text = {"knowledge": "a text about people"}
    assert CrossViewObjective(["caption", "knowledge"])(model, posts) > TaggingObjective()(model, posts)
    assert torch.allclose(CrossViewObjective("caption")(model, posts), TaggingObjective()(model, posts))


def test_a_malformed_second_segment_fails_when_the_model_is_built(tiny_bert_dir):
    cfg = load_config(None, [])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    cfg["model"]["second_segment"] = ["caption", 7]
    with pytest.raises(ValueError, match="model.second_segment"):
        build_model(cfg["model"], bio_labels(["PER"]))


def test_a_two_field_model_overfits_saves_loads_and_predicts(tmp_path, tiny_bert_dir):
    posts = make_posts(4)
    for p in posts:
        p.visual_text = {**p.visual_text, "knowledge": "names of people places and firms"}
    cfg = load_config(None, [f"output_dir={tmp_path / 'run'}", "train.epochs=30", "train.batch_size=4",
                             "train.lr.encoder=3e-3", "train.lr.head=3e-2", "train.patience=0",
                             "train.scheduler.warmup=0.0", "model.dropout=0.0",
                             "model.second_segment=[caption, knowledge]"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir), "second_max_length": 12}
    summary = train_run(cfg, train_posts=posts, dev_posts=posts, progress_bar=False, log=lambda *_: None)
    assert summary["dev"]["f1"] == pytest.approx(100.0)
    tagger = Tagger.load(tmp_path / "run")
    assert tagger.model.second_segment == ["caption", "knowledge"]
    predicted = tagger.predict_many(posts)
    assert [[(e.start, e.end, e.type) for e in ents] for ents in predicted] == [bio_to_spans(p.tags) for p in posts]
