"""int8 export: packed int8 weights in safetensors, Tagger.load quantizes the Linear layers, predictions run."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from torch import nn

from mner.export import export_model, load_tagger, maybe_quantize, quantized_modules
from mner.export.int8 import Int8Linear
from mner.predict import Tagger
from posts_factory import make_posts


@pytest.fixture(scope="module")
def int8_dir(tiny_model_dir, tmp_path_factory):
    return export_model(tiny_model_dir, "int8", tmp_path_factory.mktemp("int8") / "model-int8")


def test_int8_export_loads_with_tagger_and_predicts(int8_dir, tiny_model_dir):
    tagger = Tagger.load(int8_dir)
    model = tagger.model
    # every Linear of the encoder and the head projection is int8; nothing else is a plain Linear
    assert isinstance(model.head.proj, Int8Linear)
    assert not [n for n, m in model.named_modules() if type(m) is nn.Linear]
    layer = model.text_encoder.backbone.encoder.layer[0]
    for linear in (layer.attention.self.query, layer.attention.output.dense, layer.intermediate.dense,
                   layer.output.dense):
        assert isinstance(linear, Int8Linear)
    assert len(quantized_modules(model)) == 2 * 6 + 1
    # embeddings, LayerNorm and the CRF stay fp32
    assert model.text_encoder.backbone.embeddings.word_embeddings.weight.dtype == torch.float32
    assert model.head.crf.transitions.dtype == torch.float32

    posts = make_posts(4)
    entities = tagger.predict_many(posts)
    assert len(entities) == 4
    assert all(0.0 <= e.score <= 1.0 and e.end <= len(p.tokens) for p, es in zip(posts, entities) for e in es)
    # random tiny model: spans may differ, but the emissions stay close to the fp32 ones
    fp32 = Tagger.load(tiny_model_dir).model
    batch = model.batch(posts, with_labels=False)
    with torch.inference_mode():
        q, f = model.emissions(batch), fp32.emissions(batch)
    assert (q - f).abs().max() < 0.1 * f.abs().max()


def test_int8_directory_holds_int8_safetensors_and_json_only(int8_dir, tiny_model_dir):
    spec = json.loads((int8_dir / "quantization.json").read_text())
    assert spec["format"] == "mner.int8-dynamic.v1" and "head.proj" in spec["modules"]
    with safe_open(str(int8_dir / "model.safetensors"), "pt") as handle:
        assert handle.get_tensor("head.proj.weight_int8").dtype == torch.int8
        assert "head.proj.weight" not in handle.keys()
    for path in int8_dir.rglob("*"):
        if path.is_file():
            assert path.suffix in {".json", ".safetensors", ".txt"}, path  # no pickle
    assert (int8_dir / "model.safetensors").stat().st_size < (tiny_model_dir / "model.safetensors").stat().st_size


def _reference(layer: Int8Linear, x: torch.Tensor) -> torch.Tensor:
    """What the int8 layer must compute, in float64: per-row 8-bit activations x the stored int8 weights."""
    rows = x.reshape(-1, layer.in_features).double()
    scale = rows.abs().amax(-1, keepdim=True) / 127.0
    q = torch.round(rows / scale)
    weight = layer.weight_int8.double() * layer.weight_scale.unsqueeze(1)  # (out, in)
    return (q @ weight.t() * scale + layer.bias.double()).reshape(*x.shape[:-1], layer.out_features)


def test_int8_forward_is_per_row_int8_arithmetic(int8_dir, monkeypatch):
    import mner.modules.int8_linear as int8

    monkeypatch.setattr(int8, "INT8_KERNEL", "int_mm")
    layer = Tagger.load(int8_dir).model.head.proj
    x = torch.randn(3, 5, layer.in_features)  # (b, w, d): any leading shape
    out = layer(x)
    assert out.shape == (3, 5, layer.out_features) and out.dtype == torch.float32
    torch.testing.assert_close(out.double(), _reference(layer, x), rtol=1e-4, atol=1e-4)
    # the fbgemm kernel (AVX2 CPUs): the same per-row scheme with 7-bit asymmetric steps,
    # so it agrees with the 8-bit reference to about one activation step per row
    monkeypatch.setattr(int8, "INT8_KERNEL", "fbgemm")
    fbgemm = layer(x)
    assert layer._packed[0] == "fbgemm"
    step = x.abs().amax(-1, keepdim=True) / 63.0  # (3, 5, 1): a 7-bit step of each row
    weight_l1 = (layer.weight_int8.double() * layer.weight_scale.unsqueeze(1)).abs().sum(-1)  # (out,)
    assert ((fbgemm.double() - out.double()).abs() <= step.double() * weight_l1).all()


@pytest.mark.parametrize("cpu, kernel", [("flags : fpu avx avx2 fma", "fbgemm"),
                                         ("flags : fpu avx2 avx512f avx512_vnni", "int_mm"),
                                         ("flags : fpu avx2 avx_vnni", "int_mm"), ("", "fbgemm")])
def test_int8_kernel_follows_the_cpu(cpu, kernel, monkeypatch):
    from mner.export.int8 import choose_int8_kernel

    monkeypatch.delenv("MNER_INT8_KERNEL", raising=False)
    assert choose_int8_kernel(cpu) == kernel
    monkeypatch.setenv("MNER_INT8_KERNEL", "int_mm")
    assert choose_int8_kernel("flags : avx2") == "int_mm"
    monkeypatch.setenv("MNER_INT8_KERNEL", "fast")
    with pytest.raises(ValueError, match="MNER_INT8_KERNEL"):
        choose_int8_kernel(cpu)


@pytest.mark.parametrize("kernel", ["int_mm", "fbgemm"])
def test_an_outlier_token_does_not_coarsen_the_other_rows(kernel, monkeypatch):
    """One scale per row: a token 1000x larger than the rest leaves their error unchanged."""
    import mner.modules.int8_linear as int8

    monkeypatch.setattr(int8, "INT8_KERNEL", kernel)
    torch.manual_seed(0)
    linear = nn.Linear(64, 32)
    layer = Int8Linear.from_dynamic(_dynamic(linear))
    x = torch.randn(8, 64)
    with torch.inference_mode():
        exact = linear(x)
        calm = (layer(x) - exact).abs().max().item()
        x_outlier = torch.cat([x, 1000 * torch.randn(1, 64)])  # (9, 64)
        with_outlier = (layer(x_outlier)[:8] - exact).abs().max().item()
    assert with_outlier == pytest.approx(calm, rel=1e-5)
    assert calm < 0.05 * exact.abs().max().item()


def _dynamic(linear: nn.Linear) -> nn.Module:
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    from mner.modules.int8_linear import _quiet_quantization

    with _quiet_quantization():
        return quantize_dynamic(nn.Sequential(linear), {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8)[0]


def test_maybe_quantize_leaves_plain_directories_alone(tiny_model_dir):
    model = Tagger.load(tiny_model_dir).model
    assert maybe_quantize(model, tiny_model_dir) is model
    assert not quantized_modules(model)
    assert type(load_tagger(tiny_model_dir)) is Tagger


def test_export_cli(tiny_model_dir, tmp_path):
    import typer
    from typer.testing import CliRunner

    from mner.cli.bench import bench, export

    app = typer.Typer()
    app.command()(bench)
    app.command()(export)
    result = CliRunner().invoke(app, ["export", str(tiny_model_dir), "--to", "int8", "--output", str(tmp_path / "q")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "q" / "quantization.json").exists() and "MB" in result.output
    bad = CliRunner().invoke(app, ["export", str(tiny_model_dir), "--to", "fp8"])
    assert bad.exit_code == 1 and "unknown export target" in bad.output
