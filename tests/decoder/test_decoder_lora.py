"""LoRA training, adapter-only save, reload and prediction for tiny random Llama and Qwen2 decoders."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors import safe_open
from tiny_decoders import decoder_model_cfg, labelled_posts, train_steps

from mner.builders import build_model
from mner.checkpoint import from_pretrained, save_pretrained
from mner.data.tags import bio_labels
from mner.model_files import ModelFileError

LABELS = bio_labels(["PER", "LOC", "ORG"])


def _build(model_dir, **encoder):
    torch.manual_seed(0)
    model = build_model(decoder_model_cfg(model_dir, **encoder), LABELS, labelled_posts())
    model.config = {"model": decoder_model_cfg(model_dir, **encoder)}
    return model


def test_only_adapters_and_head_train_and_the_loss_falls(tiny_decoder_dir):
    model = _build(tiny_decoder_dir)
    posts = labelled_posts()
    base = {n: p.detach().clone() for n, p in model.text_encoder.named_parameters() if "lora_" not in n}
    model.train()
    model.loss(model.batch(posts)).backward()
    for name, param in model.text_encoder.named_parameters():
        if "lora_" in name:
            assert param.requires_grad and param.grad is not None and torch.isfinite(param.grad).all(), name
        else:
            assert not param.requires_grad and param.grad is None, name
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for n, p in model.named_parameters() if "lora_B" in n)
    model.zero_grad()
    losses = train_steps(model, posts, steps=6)
    assert losses[-1] < 0.7 * losses[0], losses
    for name, param in model.text_encoder.named_parameters():  # AdamW never touched the base
        if name in base:
            assert torch.equal(param, base[name]), name


def test_save_writes_adapters_only_and_reload_predicts_the_same(tiny_decoder_dir, tmp_path):
    model = _build(tiny_decoder_dir)
    posts = labelled_posts()
    train_steps(model, posts, steps=3)
    model.eval()
    save_pretrained(model, tmp_path / "model")
    with safe_open(str(tmp_path / "model" / "model.safetensors"), "pt") as handle:
        keys = list(handle.keys())
    encoder_keys = [k for k in keys if k.startswith("text_encoder.")]
    assert encoder_keys and all("lora_" in k for k in encoder_keys)  # adapters, and no base weight at all
    assert any(k.startswith("head.") for k in keys)
    base_size = (tiny_decoder_dir / "model.safetensors").stat().st_size
    saved = [p for p in (tmp_path / "model").rglob("*") if p.is_file()]
    assert not [p for p in saved if p.suffix in (".safetensors", ".bin") and p.name != "model.safetensors"]
    assert (tmp_path / "model" / "model.safetensors").stat().st_size < base_size / 4
    info = json.loads((tmp_path / "model" / "decoder" / "decoder.json").read_text())
    assert info["base"] == str(tiny_decoder_dir) and info["lora"]["r"] == 4 and not info["merged"]

    loaded = from_pretrained(tmp_path / "model")
    with torch.no_grad():
        before = model.emissions(model.batch(posts, with_labels=False))
        after = loaded.emissions(loaded.batch(posts, with_labels=False))
    assert torch.equal(before, after)
    assert model.decode(model.batch(posts, with_labels=False)) == loaded.decode(loaded.batch(posts, with_labels=False))


def test_a_missing_base_is_a_clear_error(tmp_path):
    from tiny_decoders import write_tiny_decoder

    base = write_tiny_decoder(tmp_path / "base", "llama")
    model = _build(base)
    save_pretrained(model, tmp_path / "model")
    for file in base.iterdir():
        file.unlink()
    base.rmdir()
    with pytest.raises((ModelFileError, OSError), match="holds only its adapters"):
        from_pretrained(tmp_path / "model")


def test_without_lora_the_whole_decoder_is_frozen(tiny_llama_dir):
    model = _build(tiny_llama_dir, lora=None)
    assert model.text_encoder.trained_parameters() == 0
    assert all(not n.startswith("text_encoder.") for n, p in model.named_parameters() if p.requires_grad)
    assert not [k for k in model.state_dict() if k.startswith("text_encoder.")]


def test_bad_options_name_the_field(tiny_llama_dir):
    with pytest.raises(ValueError, match="reading"):
        _build(tiny_llama_dir, reading="sideways")
    with pytest.raises(ValueError, match="lora"):
        build_model({**decoder_model_cfg(tiny_llama_dir), "encoder": {**decoder_model_cfg(tiny_llama_dir)["encoder"],
                                                                       "lora": {"rank": 4}}}, LABELS)
    with pytest.raises(ValueError, match="layer"):
        _build(tiny_llama_dir, layer=7)


@pytest.mark.skipif(__import__("importlib").util.find_spec("bitsandbytes") is not None,
                    reason="bitsandbytes is installed: the error path is not reachable")
def test_quantization_without_bitsandbytes_is_a_clear_error(tiny_llama_dir):
    with pytest.raises(ValueError, match="needs bitsandbytes"):
        _build(tiny_llama_dir, quantization="4bit")


def test_bf16_base_keeps_fp32_states_for_the_head(tiny_llama_dir):
    model = _build(tiny_llama_dir, dtype="bfloat16")
    assert next(p for n, p in model.text_encoder.named_parameters() if "embed" in n).dtype == torch.bfloat16
    losses = train_steps(model, labelled_posts(), steps=2)
    assert all(torch.isfinite(torch.tensor(losses)))


def test_the_tagger_loads_and_predicts_a_decoder_model(tiny_qwen_dir, tmp_path):
    from mner.predict import Tagger

    model = _build(tiny_qwen_dir, reading="repeat", pooling="mean")
    train_steps(model, labelled_posts(), steps=2)
    save_pretrained(model.eval(), tmp_path / "model")
    tagger = Tagger.load(tmp_path / "model")
    first = tagger.predict("Alice wins in Paris")
    assert first == tagger.predict("Alice wins in Paris")
    assert all(e.type in ("PER", "LOC", "ORG") for e in first)


def test_int8_inference_folds_the_adapters_in_first(tiny_llama_dir, tmp_path):
    from mner.predict import Tagger

    model = _build(tiny_llama_dir)
    train_steps(model, labelled_posts(), steps=2)
    save_pretrained(model.eval(), tmp_path / "model")
    fp32 = Tagger.load(tmp_path / "model").predict("Alice wins in Paris")
    int8 = Tagger.load(tmp_path / "model", precision="int8")
    assert int8.model.text_encoder.merged and int8.model.text_encoder.lora is None
    assert [e.text for e in int8.predict("Alice wins in Paris")] == [e.text for e in fp32]
