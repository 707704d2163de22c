"""The pixel path on the 21 real tweet images of ../shared/data/images (two are PNG bytes named .jpg)."""

from __future__ import annotations

import pytest
import torch
from visual_helpers import REAL_IMAGES, count_calls, post

from mner.data.images import sniff_image_format
from mner.modules.visual import MultiImageAggregator, PixelEncoder

pytestmark = [pytest.mark.realdata,
              pytest.mark.skipif(not REAL_IMAGES.is_dir(), reason="../shared/data/images is absent")]


def test_every_real_image_is_encoded_once(tiny_vit_dir, tmp_path):
    paths = sorted(REAL_IMAGES.glob("*.jpg"))
    assert len(paths) == 21
    assert sum(sniff_image_format(p) == "png" for p in paths) >= 2  # PNG bytes under .jpg names load by content
    posts = [post(p.stem, [str(p)]) for p in paths] + [post("two", [str(paths[0]), str(paths[1])]), post("none")]
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, tokens="patches", cache_dir=tmp_path / "cache")
    counter = count_calls(encoder.backbone)
    module = MultiImageAggregator(encoder, num_heads=2).eval()
    features = module.featurize(posts)
    assert encoder.bad_images.bad == 0 and features["has_image"].sum() == 22
    assert counter.images == 21  # one batch, 23 images, 21 distinct contents: each encoded once
    with torch.no_grad():
        out = module(features)
    assert out.tokens.shape == (23, 2 * 17, 8) and torch.isfinite(out.tokens).all()
    module.featurize(posts)
    assert counter.images == 21  # second epoch: all from the cache
