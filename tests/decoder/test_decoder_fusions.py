"""The LoRA decoder with every fusion (and visual prompts, and context fusion): forward, backward, round trip."""

from __future__ import annotations

import pytest
import torch
from PIL import Image
from model_checks import backward_step, emissions_before_and_after_reload
from tiny_decoders import decoder_model_cfg

from mner.builders import build_model
from mner.data.post import Post
from mner.data.tags import bio_labels
from mner.modules.fusion import FUSIONS

LABELS = bio_labels(["PER", "LOC", "ORG"])


def _posts(folder) -> list[Post]:
    for i, colour in enumerate([(200, 30, 30), (30, 200, 30)]):
        Image.new("RGB", (40, 30), colour).save(folder / f"im{i}.jpg", "JPEG")
    return [Post("a", ["Alice", "wins", "in", "Paris"], ["B-PER", "O", "O", "B-LOC"], images=[str(folder / "im0.jpg")],
                 visual_text={"caption": "a woman in a city"}),
            Post("b", ["Google", "and", "apple"], ["B-ORG", "O", "B-ORG"],
                 images=[str(folder / "im1.jpg"), str(folder / "im0.jpg")], visual_text={"caption": "a logo"}),
            Post("c", ["fans", "love", "the", "game"], ["O", "O", "O", "O"])]  # no image, no caption


def _model_cfg(decoder_dir, fusion: str, cache) -> dict:
    cfg = decoder_model_cfg(decoder_dir)
    cnn = {"name": "visual.cnn.v1", "output_dim": 16, "widths": [4, 8], "image_size": 16, "cache_dir": str(cache)}
    if fusion == "context":  # ITA/PGIM: the caption as a second segment of the decoder's input, with the image too
        return {**cfg, "second_segment": "caption", "visual": cnn, "fusion": {"name": "fusion.linear.v1", "hidden": 16}}
    options = {"fusion.text_only.v1": {}, "fusion.visual_prompt.v1": {}, "fusion.linear.v1": {"hidden": 16},
               "fusion.gated.v1": {"hidden": 16}}
    return {**cfg, "visual": cnn, "fusion": {"name": fusion, **options.get(fusion, {"hidden": 16, "num_heads": 2})}}


@pytest.mark.parametrize("fusion", [*sorted(FUSIONS), "fusion.visual_prompt.v1", "context"])
def test_decoder_with_each_fusion(tiny_llama_dir, tmp_path, fusion):
    posts = _posts(tmp_path)
    cfg = _model_cfg(tiny_llama_dir, fusion, tmp_path / "cache")
    torch.manual_seed(0)
    model = build_model(cfg, LABELS, posts)
    model.config = {"model": cfg}
    states, grads = backward_step(model, posts)
    assert states.shape == (3, 4, model.fusion.output_dim) and torch.isfinite(states).all()
    assert all(g is None or torch.isfinite(g).all() for g in grads.values())
    if fusion != "fusion.visual_only.v1":  # visual-only ignores the words by design
        assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items() if "lora_B" in n)
    if fusion != "fusion.text_only.v1":  # text-only ignores the image by design
        assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items() if n.startswith("visual.network"))
    before, after, _ = emissions_before_and_after_reload(model, posts, tmp_path / "model")
    assert torch.allclose(before, after, atol=1e-5)


def test_visual_prompts_keep_a_causal_decoder_causal(tiny_qwen_dir, tmp_path):
    """The prefix attention keeps the causal mask: the first word never sees the words after it."""
    posts = _posts(tmp_path)
    cfg = _model_cfg(tiny_qwen_dir, "fusion.visual_prompt.v1", tmp_path / "cache")
    torch.manual_seed(0)
    model = build_model(cfg, LABELS, posts).eval()
    other = Post("d", ["Alice", "loves", "new", "york"], images=posts[0].images)
    with torch.no_grad():
        states = model.word_states(model.batch([posts[0], other], with_labels=False))
    assert torch.allclose(states[0, 0], states[1, 0], atol=1e-5)
    assert not torch.allclose(states[0, 1], states[1, 1], atol=1e-5)
