"""Every fusion x visual module pair builds, trains a few steps and round-trips save/load (tiny models)."""

from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from PIL import Image
from model_checks import emissions_before_and_after_reload

from mner.builders import build_model
from mner.data.post import Post, Region
from mner.data.tags import bio_labels
from mner.modules.fusion import FUSIONS
from mner.training.optim import build_optimizer

VISUALS = ["caption", "caption_cached", "pixels", "pixels_multi", "regions"]


def _posts(folder) -> list[Post]:
    colours = [(200, 30, 30), (30, 200, 30), (30, 30, 200)]
    for i, colour in enumerate(colours):
        Image.new("RGB", (40, 30), colour).save(folder / f"im{i}.jpg", "JPEG")
    buffer = io.BytesIO()
    Image.new("RGBA", (20, 10), (0, 0, 255, 0)).save(buffer, "PNG")
    (folder / "png_named.jpg").write_bytes(buffer.getvalue())  # the releases' quirk
    rng = np.random.default_rng(0)
    region = lambda: Region((1.0, 2.0, 20.0, 25.0), "person", 0.9, rng.normal(size=8).astype("float32"))  # noqa: E731
    return [
        Post("a", ["Alice", "wins", "in", "Paris"], ["B-PER", "O", "O", "B-LOC"], images=[str(folder / "im0.jpg")],
             visual_text={"caption": "a woman in a city"}, regions=[region(), region()]),
        Post("b", ["Google", "and", "apple"], ["B-ORG", "O", "B-ORG"],
             images=[str(folder / "im1.jpg"), str(folder / "png_named.jpg")], visual_text={"caption": "a logo"},
             regions=[region()]),
        Post("c", ["fans", "love", "the", "game"], ["O", "O", "O", "O"]),  # no image, no caption, no region
    ]


def _visual_cfg(kind: str, tiny_vit_dir, cache_dir, tiny_bert_dir) -> dict:
    if kind == "caption":
        return {"name": "visual.caption.v1", "fields": ["caption"], "shared": True, "output_dim": 16}
    if kind == "caption_cached":  # its own frozen encoder, states cached on disk
        return {"name": "visual.caption.v1", "fields": ["caption"], "shared": False, "frozen": True,
                "model": str(tiny_bert_dir), "output_dim": 16,
                "cache_dir": str(cache_dir)}
    if kind == "regions":
        return {"name": "visual.regions.v1", "feature_dim": 8, "output_dim": 16, "top_k": 4}
    cfg = {"name": "visual.pixels.v1", "model": str(tiny_vit_dir), "output_dim": 16, "tokens": "patches",
           "frozen": True, "cache_dir": str(cache_dir)}
    if kind == "pixels_multi":
        cfg["multi_image"] = {"num_layers": 1, "num_heads": 2}
    return cfg


def _fusion_cfg(name: str) -> dict:
    options = {"fusion.linear.v1": {"hidden": 16}, "fusion.text_only.v1": {}, "fusion.visual_prompt.v1": {},
               "fusion.gated.v1": {"hidden": 16}}
    return {"name": name, **options.get(name, {"hidden": 16, "num_heads": 2})}


@pytest.mark.parametrize("visual", VISUALS)
@pytest.mark.parametrize("fusion", [*sorted(FUSIONS), "fusion.visual_prompt.v1"])
def test_pair_builds_trains_and_round_trips(tmp_path, tiny_bert_dir, tiny_vit_dir, visual, fusion):
    posts = _posts(tmp_path)
    model_cfg = {
        "encoder": {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)},
        "word_shape_dim": 4, "head": {"name": "head.crf.v1"}, "dropout": 0.0,
        "visual": _visual_cfg(visual, tiny_vit_dir, tmp_path / "cache", tiny_bert_dir), "fusion": _fusion_cfg(fusion),
    }
    labels = bio_labels(["PER", "LOC", "ORG"])
    torch.manual_seed(0)
    model = build_model(model_cfg, labels, posts)
    model.config = {"model": model_cfg}
    optimizer = build_optimizer(model, {"encoder": 1e-3, "head": 1e-2, "fusion": 1e-2, "visual": 1e-2}, 0.0)
    model.train()
    losses = []
    for _ in range(4):
        loss = model.loss(model.batch(posts))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert all(np.isfinite(losses)) and losses[-1] < losses[0]

    before, after, loaded = emissions_before_and_after_reload(model, posts, tmp_path / "model")
    assert torch.allclose(before, after, atol=1e-5)
    if visual == "caption_cached":  # the reloaded model found the states the training run cached
        assert loaded.visual.cache.hits > 0 and loaded.visual.cache.misses == 0
