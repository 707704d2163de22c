"""`mner export RUN --merge-adapters`: the adapters folded into the base; the merged model predicts the same."""

from __future__ import annotations

import torch
from safetensors import safe_open
from tiny_decoders import decoder_model_cfg, labelled_posts, train_steps
from typer.testing import CliRunner

from mner.builders import build_model
from mner.checkpoint import from_pretrained, save_pretrained
from mner.cli.main import app
from mner.data.tags import bio_labels


def test_merged_export_predicts_the_same_without_the_base_or_adapters(tiny_decoder_dir, tmp_path):
    posts = labelled_posts()
    torch.manual_seed(0)
    cfg = decoder_model_cfg(tiny_decoder_dir, reading="bidirectional")
    model = build_model(cfg, bio_labels(["PER", "LOC", "ORG"]), posts)
    model.config = {"model": cfg}
    train_steps(model, posts, steps=3)
    model.eval()
    save_pretrained(model, tmp_path / "run")

    result = CliRunner().invoke(app, ["export", str(tmp_path / "run"), "--merge-adapters",
                                      "--output", str(tmp_path / "merged")])
    assert result.exit_code == 0, result.output
    with safe_open(str(tmp_path / "merged" / "model.safetensors"), "pt") as handle:
        keys = list(handle.keys())
    assert not [k for k in keys if "lora_" in k]
    assert any(k.startswith("text_encoder.backbone.layers.0.self_attn.q_proj") for k in keys)  # the whole decoder
    assert (tmp_path / "merged" / "decoder" / "config" / "config.json").exists()

    merged = from_pretrained(tmp_path / "merged")
    assert merged.text_encoder.merged and merged.text_encoder.lora is None
    source = from_pretrained(tmp_path / "run")
    with torch.no_grad():
        before = source.emissions(source.batch(posts, with_labels=False))
        after = merged.emissions(merged.batch(posts, with_labels=False))
    assert torch.allclose(before, after, atol=1e-4)
    assert source.decode(source.batch(posts, with_labels=False))[0] == \
        merged.decode(merged.batch(posts, with_labels=False))[0]


def test_int8_and_onnx_exports_of_a_decoder_model_say_what_to_do(tiny_llama_dir, tmp_path):
    from mner.predict import Tagger

    posts = labelled_posts()
    cfg = decoder_model_cfg(tiny_llama_dir)
    model = build_model(cfg, bio_labels(["PER", "LOC", "ORG"]), posts)
    model.config = {"model": cfg}
    save_pretrained(model.eval(), tmp_path / "run")
    runner = CliRunner()
    result = runner.invoke(app, ["export", str(tmp_path / "run"), "--to", "int8"])
    assert result.exit_code == 1 and "--merge-adapters" in result.output
    result = runner.invoke(app, ["export", str(tmp_path / "run"), "--to", "onnx"])
    assert result.exit_code == 1 and "ONNX export traces encoder models" in result.output
    assert runner.invoke(app, ["export", str(tmp_path / "run"), "--merge-adapters"]).exit_code == 0
    result = runner.invoke(app, ["export", str(tmp_path / "run-merged"), "--to", "int8"])
    assert result.exit_code == 0, result.output
    tags = Tagger.load(tmp_path / "run-merged-int8").predict("Alice wins in Paris")
    merged = Tagger.load(tmp_path / "run-merged").predict("Alice wins in Paris")
    assert [e.text for e in tags] == [e.text for e in merged]


def test_merge_refuses_a_model_without_adapters(tiny_bert_dir, tmp_path):
    from mner.data.post import Post

    cfg = {"encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}, "head": {"name": "head.crf.v1"}}
    model = build_model(cfg, bio_labels(["PER"]), [Post("a", ["bob"], ["B-PER"])])
    model.config = {"model": cfg}
    save_pretrained(model, tmp_path / "run")
    result = CliRunner().invoke(app, ["export", str(tmp_path / "run"), "--merge-adapters"])
    assert result.exit_code == 1 and "encoder.hf_decoder.v1" in result.output
    result = CliRunner().invoke(app, ["export", str(tmp_path / "run")])
    assert result.exit_code == 1 and "--merge-adapters" in result.output
