"""ONNX export of a grounded model: onnxruntime gives the torch model's entities and boxes."""

from __future__ import annotations

import json

import pytest
import torch

pytest.importorskip("onnx")
pytest.importorskip("onnxruntime")

from mner.data.post import Region  # noqa: E402
from mner.data.tags import bio_to_spans  # noqa: E402
from mner.export import export_model, load_tagger  # noqa: E402
from mner.export.onnx_export import OnnxTagger  # noqa: E402
from mner.predict import Tagger  # noqa: E402

from grounding.grounded_posts import FEATURE_DIM, grounded_posts, onehot  # noqa: E402

LABELS = ["O", "B-LOC", "I-LOC", "B-MISC", "I-MISC", "B-ORG", "I-ORG", "B-PER", "I-PER"]


def _save_grounded_model(directory, encoder_dir, seed: int = 1):
    """An untrained (random) tiny grounded model: enough to compare runtimes."""
    from mner.builders import build_model
    from mner.checkpoint import save_pretrained

    model_cfg = {"encoder": {"name": "encoder.hf.v1", "model": str(encoder_dir), "max_length": 64},
                 "word_shape_dim": 16, "head": {"name": "head.crf.v1"}, "dropout": 0.1,
                 "grounding": {"name": "grounding.regions.v1", "feature_dim": FEATURE_DIM, "hidden_dim": 16,
                               "top_k": 4}}
    torch.manual_seed(seed)
    model = build_model(model_cfg, LABELS)
    with torch.no_grad():  # an untrained head is near 0.5 everywhere: spread it so both answers occur
        model.grounding.groundable[-1].weight.mul_(8.0)
    model.config = {"model": model_cfg}
    save_pretrained(model, directory, {"epoch": 0, "dev": {}})
    return directory


def _posts():
    posts = grounded_posts(8)
    posts[5].regions = []  # a post without candidates: only the groundable decision
    # more candidates than top_k, with tied scores: the ONNX side must keep the same four, in the same order
    posts[6].regions = [Region((5.0 * j, 0.0, 5.0 * j + 20.0, 30.0), score=0.5, feature=onehot(j % FEATURE_DIM))
                        for j in range(6)]
    for post in posts:
        post.tags, post.entities = None, []  # predict, do not read the gold
    return posts


def _groundings(entity_lists):
    return [[(e.start, e.end, e.type, tuple(e.boxes), e.grounding_score) for e in entities]
            for entities in entity_lists]


def test_onnx_export_of_grounded_model_predicts_the_same_boxes(tiny_bert_dir, tmp_path):
    source = _save_grounded_model(tmp_path / "model", tiny_bert_dir)
    output = export_model(source, "onnx", tmp_path / "model-onnx")
    spec = json.loads((output / "onnx.json").read_text())
    assert spec["outputs"] == ["emissions", "word_states"] and spec["grounding"]["graph"] == "grounding.onnx"
    assert (output / "grounding.onnx").is_file()
    torch_tagger, onnx_tagger = Tagger.load(source), load_tagger(output)
    assert isinstance(onnx_tagger, OnnxTagger) and onnx_tagger.model.grounding is not None
    posts = _posts()
    expected, got = torch_tagger.predict_many(posts), onnx_tagger.predict_many(posts)
    want, have = _groundings(expected), _groundings(got)
    assert [[g[:4] for g in row] for row in have] == [[g[:4] for g in row] for row in want]  # spans, types, boxes
    for row_want, row_have in zip(want, have):
        assert [g[4] for g in row_have] == pytest.approx([g[4] for g in row_want], abs=1e-4)
    flat = [g for row in want for g in row]
    # not vacuous: entities were found, some pointed at a box, some said "none"
    assert any(g[3] for g in flat) and any(not g[3] for g in flat)
    assert all(not g[3] for g in want[5])  # no candidates, no box
    # entities carry the box into the JSONL records, as the torch tagger's do
    assert [e.to_dict().get("box") for e in got[0]] == [e.to_dict().get("box") for e in expected[0]]


def test_onnx_int8_export_keeps_the_grounding_graph_fp32_and_scores_its_own_states(tiny_bert_dir, tmp_path):
    import onnx

    from mner.checkpoint import from_pretrained

    source = _save_grounded_model(tmp_path / "model", tiny_bert_dir)
    output = export_model(source, "onnx-int8", tmp_path / "model-onnx-int8")
    assert not any(t.data_type == onnx.TensorProto.INT8
                   for t in onnx.load(str(output / "grounding.onnx")).graph.initializer)
    assert json.loads((output / "onnx.json").read_text())["grounding"]["precision"] == "fp32"
    model = load_tagger(output).model
    posts = _posts()
    batch = model.batch(posts, with_labels=False)
    tags, _, groundings = model.decode_grounded(batch)
    # the torch head over the int8 graph's own word states gives the same boxes and scores
    _, states = model.outputs(batch)
    head = from_pretrained(source).grounding.eval()
    features = {**batch.grounding_features, **head.span_tensors([bio_to_spans(t) for t in tags])}
    reference = head.predict(states, features)
    assert [[box for box, _ in row] for row in groundings] == [[box for box, _ in row] for row in reference]
    assert [p for row in groundings for _, p in row] == pytest.approx([p for row in reference for _, p in row],
                                                                      abs=1e-4)
    assert sum(map(len, groundings)) > 0
