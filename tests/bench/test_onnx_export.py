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


@pytest.mark.parametrize("pooling,second", [("first", None), ("mean", "caption"), ("first", ["caption", "knowledge"])])
def test_onnx_spans_equal_torch_spans(tiny_bert_dir, tmp_path, pooling, second):
    source = save_tiny_model(tmp_path / "model", tiny_bert_dir, pooling, second)
    output = export_model(source, "onnx", tmp_path / "model-onnx")
    assert {"model.onnx", "onnx.json", "head.safetensors", "labels.json", "config.json"} <= {
        p.name for p in output.iterdir()}
    torch_tagger, onnx_tagger = Tagger.load(source), load_tagger(output)
    assert isinstance(onnx_tagger, OnnxTagger)
    posts = _posts()
    if isinstance(second, list):  # some posts read both fields joined, some one of them
        posts[1].visual_text["knowledge"] = "google is a company and apple is one too in california"
        posts[2].visual_text = {"knowledge": "bob is a name"}
    expected, got = torch_tagger.predict_many(posts), onnx_tagger.predict_many(posts)
    assert _spans(got) == _spans(expected)
    assert sum(map(len, expected)) > 0  # the comparison is not vacuous
    for a, b in zip(expected, got):
        assert [e.score for e in b] == pytest.approx([e.score for e in a], abs=1e-4)
    # the one scoring path runs on the ONNX model too
    labelled = make_posts(6, "x")
    assert evaluate(onnx_tagger.model, labelled)["f1"] == pytest.approx(evaluate(torch_tagger.model, labelled)["f1"])


def test_onnx_int8_quantizes_weight_products_only_and_keeps_the_spans(tiny_bert_dir, tmp_path):
    import json

    import numpy as np
    import onnx

    source = save_tiny_model(tmp_path / "model", tiny_bert_dir, "first", None)
    fp32 = export_model(source, "onnx", tmp_path / "model-onnx")
    int8 = export_model(source, "onnx-int8", tmp_path / "model-onnx-int8")
    assert not (int8 / "model.fp32.onnx").exists()
    ops = {node.op_type for node in onnx.load(str(int8 / "model.onnx")).graph.node}
    assert {"DynamicQuantizeLinear", "MatMulInteger"} <= ops or "DynamicQuantizeMatMul" in ops
    spec = json.loads((int8 / "onnx.json").read_text())
    assert "per output channel" in spec["quantization"]["weights"]
    weights = [t for t in onnx.load(str(int8 / "model.onnx")).graph.initializer if t.data_type == onnx.TensorProto.INT8]
    assert weights, "no int8 weights in the graph"
    # attention is fused (eager trace -> Attention -> QAttention: one int8 Q/K/V product per layer);
    # its activation x activation products (scores, mixing) stay fp32 inside that op
    assert "QAttention" in ops and "QAttention" in spec["quantization"]["ops"]
    assert spec["quantization"]["fusions"].get("Attention") == 2  # one per layer of the tiny BERT
    tagger = load_tagger(int8)
    assert isinstance(tagger, OnnxTagger)
    posts = make_posts(6, "x")
    batch = tagger.model.batch(posts, with_labels=False)
    exact = load_tagger(fp32).model.emissions(batch).numpy()
    rounded = tagger.model.emissions(batch).numpy()
    gap = np.abs(rounded - exact).max()
    assert 0 < gap < 0.25 * np.abs(exact).max()  # int8 rounding moved them, a little
    # a random tiny model's emissions sit near ties, so spans may move; F1 on real data: mner bench
    assert sum(map(len, tagger.predict_many(posts))) > 0


def test_evaluate_and_predict_cli_take_an_onnx_export(tiny_bert_dir, tmp_path):
    import json

    from typer.testing import CliRunner

    from mner.cli.main import app
    from mner.data.readers import write_posts

    source = save_tiny_model(tmp_path / "model", tiny_bert_dir, "first", None)
    output = export_model(source, "onnx", tmp_path / "model-onnx")
    write_posts(make_posts(6, "x"), tmp_path / "dev.jsonl")
    scores = {}
    for name, path in (("torch", source), ("onnx", output)):
        result = CliRunner().invoke(app, ["evaluate", str(path), "--data", str(tmp_path / "dev.jsonl"), "--json",
                                          "--batch-size", "2"])
        assert result.exit_code == 0, result.output
        scores[name] = json.loads(result.output.strip().splitlines()[-1])["f1"]
    assert scores["onnx"] == pytest.approx(scores["torch"])
    refused = CliRunner().invoke(app, ["evaluate", str(output), "--data", str(tmp_path / "dev.jsonl"),
                                       "--precision", "bf16"])
    assert refused.exit_code != 0 and "ONNX export" in refused.output
    predicted = CliRunner().invoke(app, ["predict", str(output), "Alice wins in Paris"])
    assert predicted.exit_code == 0, predicted.output
