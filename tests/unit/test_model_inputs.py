"""Prediction says which of the model's inputs each post had."""

from mner.data.post import Post
from mner.model_inputs import model_inputs, post_inputs


def test_inputs_a_model_reads():
    assert model_inputs({}) == ["text"]
    assert model_inputs({"second_segment": "knowledge"}) == ["text", "knowledge"]
    assert model_inputs({"visual": {"name": "visual.caption.v1", "fields": ["caption", "ocr"]}}) == \
        ["text", "caption", "ocr"]
    assert model_inputs({"visual": {"name": "visual.pixels.v1"}}) == ["text", "images"]
    assert model_inputs({"visual": {"name": "visual.regions.v1"}}) == ["text", "regions"]


def test_used_and_missing_per_post():
    inputs = ["text", "knowledge", "images"]
    with_knowledge = Post(id="a", tokens=["Messi"], visual_text={"knowledge": "Messi is a footballer"})
    assert post_inputs(with_knowledge, inputs) == {"used": ["text", "knowledge"], "missing": ["images"]}
    bare = Post(id="b", tokens=["Messi"], visual_text={"knowledge": ""})
    assert post_inputs(bare, inputs) == {"used": ["text"], "missing": ["knowledge", "images"]}
