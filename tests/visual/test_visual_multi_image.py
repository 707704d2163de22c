from __future__ import annotations

import pytest
import torch
from visual_helpers import grads, post, roundtrip

from mner.modules.visual import MultiImageAggregator, PixelEncoder

POSTS = [post("three", ["red.jpg", "green.jpg", "blue.jpg"]), post("none"), post("one", ["png_named.jpg"]),
         post("bad", ["missing.jpg"])]


def aggregator(model_dir, images, frozen=True, tokens="pooled", **kwargs) -> MultiImageAggregator:
    torch.manual_seed(0)
    inner = PixelEncoder.from_name(model_dir, output_dim=8, tokens=tokens, frozen=frozen, image_root=images)
    return MultiImageAggregator(inner, num_heads=2, **kwargs)


def test_shapes_masks_and_no_image(tiny_vit_dir, images):
    module = aggregator(tiny_vit_dir, images, max_images=2)
    assert module.image_module.max_images == 2  # one cap for the wrapped encoder too
    out = module(module.featurize(POSTS))
    assert out.tokens.shape == (4, 2, 8)
    assert out.mask.tolist() == [[True, True], [True, False], [True, False], [True, False]]
    assert out.mask[:, 0].all() and torch.isfinite(out.tokens).all()
    assert (out.tokens[~out.mask] == 0).all()
    patches = aggregator(tiny_vit_dir, images, tokens="patches")
    assert patches(patches.featurize(POSTS)).tokens.shape == (4, 3 * 17, 8)


def test_image_order_matters_and_batch_mates_do_not(tiny_vit_dir, images):
    module = aggregator(tiny_vit_dir, images).eval()
    with torch.no_grad():
        ab = module(module.featurize([post("p", ["red.jpg", "green.jpg"])])).tokens[0]
        ba = module(module.featurize([post("p", ["green.jpg", "red.jpg"])])).tokens[0]
        batched = module(module.featurize([post("p", ["red.jpg", "green.jpg"]), *POSTS])).tokens[0, :2]
    assert not torch.allclose(ab[0], ba[1], atol=1e-4)  # same image, other position: other token
    assert torch.allclose(ab, batched, atol=1e-5)  # padding from other posts changes nothing


@pytest.mark.parametrize("frozen", [True, False])
def test_gradients(tiny_vit_dir, images, frozen):
    module = aggregator(tiny_vit_dir, images, frozen=frozen)
    tokens = module(module.featurize(POSTS)).tokens  # (b, v, d)
    # the tokens leave a LayerNorm, so their plain sum is constant (zero gradient up to rounding):
    # a fixed random weighting makes the loss depend on every input
    weights = torch.randn(tokens.shape, generator=torch.Generator().manual_seed(0))
    (tokens * weights).sum().backward()
    backbone = [g is not None and g.abs().sum() > 0 for g in grads(module, "image_module.backbone.")]
    assert any(backbone) != frozen
    for name in ("position.weight", "no_image", "encoder.layers.0.linear1.weight", "image_module.projection.weight"):
        assert module.get_parameter(name).grad is not None, name


def test_round_trip(tiny_vit_dir, images, tmp_path):
    module = aggregator(tiny_vit_dir, images, num_layers=2).eval()

    def rebuild(directory):
        inner = PixelEncoder.from_saved(directory, output_dim=8, tokens="pooled", image_root=images)
        return MultiImageAggregator(inner, num_heads=2, num_layers=2)

    rebuilt = roundtrip(module, tmp_path / "saved", rebuild).eval()
    with torch.no_grad():
        a, b = module(module.featurize(POSTS)), rebuilt(rebuilt.featurize(POSTS))
    assert torch.equal(a.mask, b.mask) and torch.allclose(a.tokens, b.tokens, atol=1e-6)
