from __future__ import annotations

import pytest
import torch
from visual_helpers import grads, post, roundtrip

from mner.data.errors import ImageError
from mner.modules.visual import PixelEncoder


def test_pooled_shapes_masks_and_no_image_token(tiny_vit_dir, images):
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, tokens="pooled", image_root=images)
    posts = [post("two", ["red.jpg", "green.jpg"]), post("none"), post("one", ["blue.jpg"])]
    features = encoder.featurize(posts)
    assert all(v.device.type == "cpu" for v in features.values())
    assert features["image_features"].shape == (3, 1, 32)  # frozen: backbone features, width 32
    out = encoder(features)
    assert out.tokens.shape == (3, 2, 8)  # (b, v = 2 images x 1 token, d)
    assert out.mask.tolist() == [[True, True], [True, False], [True, False]]
    assert torch.equal(out.tokens[1, 0], encoder.no_image)  # the learned "no image" token


def test_patch_tokens_of_several_images_are_concatenated(tiny_vit_dir, images):
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, tokens="patches", image_root=images)
    out = encoder(encoder.featurize([post("two", ["red.jpg", "green.jpg"]), post("none")]))
    assert out.tokens.shape == (2, 34, 8)  # 2 images x (16 patches + CLS)
    assert out.mask.sum(1).tolist() == [34, 1]


def test_bad_images_become_no_image_and_are_counted(tiny_vit_dir, images):
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, image_root=images)
    posts = [post("png", ["png_named.jpg"]), post("bad", ["truncated.jpg", "missing.jpg"]),
             post("mixed", ["missing.jpg", "red.jpg"])]
    features = encoder.featurize(posts)
    assert features["has_image"].tolist() == [True, False, True]
    assert features["image_slot"].tolist() == [0, 0]  # red.jpg moves up to slot 0
    log = encoder.bad_images
    assert log.bad == 3 and sorted(log.reasons) == [str(images / "missing.jpg"), str(images / "truncated.jpg")]
    assert "truncated" in log.reasons[str(images / "truncated.jpg")]
    out = encoder(features)
    assert out.mask[:, 0].all() and torch.equal(out.tokens[1, 0], encoder.no_image)


def test_fail_policy_raises(tiny_vit_dir, images):
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, image_root=images, bad_image="fail")
    with pytest.raises(ImageError, match="missing.jpg"):
        encoder.featurize([post("p", ["missing.jpg"])])
    with pytest.raises(ValueError, match="policy"):
        PixelEncoder.from_name(tiny_vit_dir, bad_image="ignore")


def test_images_over_max_images_are_dropped_and_counted(tiny_vit_dir, images):
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, image_root=images, max_images=2)
    features = encoder.featurize([post("p", ["red.jpg", "green.jpg", "blue.jpg", "png_named.jpg"])])
    assert features["image_slot"].tolist() == [0, 1] and encoder.bad_images.over_limit == 2


def test_batch_without_any_image(tiny_vit_dir):
    for frozen in (True, False):
        encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, frozen=frozen)
        out = encoder(encoder.featurize([post("a"), post("b")]))
        assert out.tokens.shape == (2, 1, 8) and out.mask.all()


def test_frozen_backbone_gets_no_gradient(tiny_vit_dir, images):
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, tokens="patches", frozen=True, image_root=images)
    encoder.train()
    assert not encoder.backbone.training  # a frozen backbone stays in eval mode (no dropout)
    encoder(encoder.featurize([post("p", ["red.jpg"]), post("q")])).tokens.sum().backward()
    assert all(g is None for g in grads(encoder, "backbone."))
    assert encoder.projection.weight.grad is not None and encoder.no_image.grad is not None


def test_trainable_backbone_gets_gradient(tiny_vit_dir, images):
    encoder = PixelEncoder.from_name(tiny_vit_dir, output_dim=8, tokens="pooled", frozen=False, image_root=images)
    features = encoder.featurize([post("p", ["red.jpg"])])
    assert features["pixel_values"].shape == (1, 3, 32, 32)  # trainable: pixels, the backbone runs in forward
    encoder(features).tokens.sum().backward()
    assert any(g is not None and g.abs().sum() > 0 for g in grads(encoder, "backbone.embeddings."))


@pytest.mark.parametrize("frozen", [True, False])
def test_state_dict_round_trip(tiny_vit_dir, images, tmp_path, frozen):
    kwargs = dict(output_dim=8, tokens="patches", frozen=frozen, image_root=images)
    encoder = PixelEncoder.from_name(tiny_vit_dir, **kwargs).eval()
    rebuilt = roundtrip(encoder, tmp_path / "saved", lambda d: PixelEncoder.from_saved(d, **kwargs)).eval()
    assert rebuilt.model_id == str(tiny_vit_dir)
    posts = [post("p", ["red.jpg", "png_named.jpg"]), post("q")]
    with torch.no_grad():
        a, b = encoder(encoder.featurize(posts)), rebuilt(rebuilt.featurize(posts))
    assert torch.equal(a.mask, b.mask) and torch.allclose(a.tokens, b.tokens, atol=1e-6)


def test_clip_checkpoint_gives_the_vision_tower_only(tiny_clip_dir, images, tmp_path):
    encoder = PixelEncoder.from_name(tiny_clip_dir, output_dim=8, tokens="patches", image_root=images).eval()
    assert type(encoder.backbone).__name__ == "CLIPVisionModel"
    assert not any("text" in name for name in encoder.state_dict())
    out = encoder(encoder.featurize([post("p", ["blue.jpg"])]))
    assert out.tokens.shape == (1, 5, 8)  # 2x2 patches + CLS
    kwargs = dict(output_dim=8, tokens="patches", image_root=images)
    rebuilt = roundtrip(encoder, tmp_path / "saved", lambda d: PixelEncoder.from_saved(d, **kwargs)).eval()
    assert type(rebuilt.backbone).__name__ == "CLIPVisionModel"  # rebuilt offline from the saved vision config
    assert torch.allclose(rebuilt(rebuilt.featurize([post("p", ["blue.jpg"])])).tokens, out.tokens, atol=1e-6)


def test_conv_maps_become_tokens(tiny_resnet_dir, images):
    patches = PixelEncoder.from_name(tiny_resnet_dir, output_dim=8, tokens="patches", image_root=images)
    assert patches.backbone_dim == 16
    features = patches.featurize([post("p", ["red.jpg"])])
    assert features["image_features"].shape == (1, 64, 16)  # 64 px / stride 8: an 8x8 map -> 64 tokens
    pooled = PixelEncoder.from_name(tiny_resnet_dir, output_dim=8, tokens="pooled", frozen=False, image_root=images)
    assert pooled(pooled.featurize([post("p", ["red.jpg"])])).tokens.shape == (1, 1, 8)  # (b, d, 1, 1) pooler
