"""ONNX export: onnxruntime emissions + mner's decoding give the torch model's spans exactly."""

from __future__ import annotations

import pytest

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mner.data.post import Post  # noqa: E402
from mner.evaluation import evaluate  # noqa: E402
from mner.export import export_model, load_tagger  # noqa: E402
from mner.export.onnx_export import OnnxTagger  # noqa: E402
from mner.predict import Tagger  # noqa: E402
from posts_factory import make_posts  # noqa: E402

from bench_helpers import save_tiny_model  # noqa: E402


def _posts() -> list[Post]:
    # lengths and batch sizes other than the traced example's, an empty post, and a post longer than
    # the 64-subword window (two encoder rows)
    long = Post("long", ["alice", "smith", "wins", "in", "new", "york"] * 8)
    return make_posts(6, "x") + [Post("empty", []), long, Post("one", ["paris"])]


def _spans(entity_lists):
    return [[(e.start, e.end, e.type) for e in entities] for entities in entity_lists]


@pytest.mark.parametrize("pooling,second", [("first", None), ("mean", "caption")])
def test_onnx_spans_equal_torch_spans(tiny_bert_dir, tmp_path, pooling, second):
    source = save_tiny_model(tmp_path / "model", tiny_bert_dir, pooling, second)
    output = export_model(source, "onnx", tmp_path / "model-onnx")
    assert {"model.onnx", "onnx.json", "head.safetensors", "labels.json", "config.json"} <= {
        p.name for p in output.iterdir()}
    torch_tagger, onnx_tagger = Tagger.load(source), load_tagger(output)
    assert isinstance(onnx_tagger, OnnxTagger)
    posts = _posts()
    expected, got = torch_tagger.predict_many(posts), onnx_tagger.predict_many(posts)
    assert _spans(got) == _spans(expected)
    assert sum(map(len, expected)) > 0  # the comparison is not vacuous
    for a, b in zip(expected, got):
        assert [e.score for e in b] == pytest.approx([e.score for e in a], abs=1e-4)
    # the one scoring path runs on the ONNX model too
    labelled = make_posts(6, "x")
    assert evaluate(onnx_tagger.model, labelled)["f1"] == pytest.approx(evaluate(torch_tagger.model, labelled)["f1"])
