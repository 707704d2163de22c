from __future__ import annotations

import shutil

import torch
from safetensors import safe_open
from visual_helpers import count_calls, post, roundtrip

from mner.modules.visual import PixelEncoder


def cached_encoder(model_dir, images, cache_dir, **kwargs) -> PixelEncoder:
    return PixelEncoder.from_name(model_dir, output_dim=8, image_root=images, cache_dir=cache_dir, **kwargs).eval()


def test_second_pass_reads_the_cache_not_the_backbone(tiny_vit_dir, images, tmp_path):
    encoder = cached_encoder(tiny_vit_dir, images, tmp_path / "cache", tokens="patches")
    counter = count_calls(encoder.backbone)
    posts = [post("p", ["red.jpg", "green.jpg"]), post("q", ["png_named.jpg"]), post("r")]
    first = encoder.featurize(posts)
    assert counter.images == 3
    second = encoder.featurize(posts)
    assert counter.images == 3 and encoder.cache.hits == 3  # the backbone was not called again
    assert torch.equal(first["image_features"], second["image_features"])
    assert torch.equal(first["image_token_mask"], second["image_token_mask"])


def test_key_is_the_content_not_the_name(tiny_vit_dir, images, tmp_path):
    encoder = cached_encoder(tiny_vit_dir, images, tmp_path / "cache")
    counter = count_calls(encoder.backbone)
    encoder.featurize([post("p", ["red.jpg"])])
    shutil.copy(images / "red.jpg", images / "copy.jpg")
    (images / "red.jpg").rename(images / "renamed.jpg")
    encoder.featurize([post("p", ["copy.jpg"]), post("q", ["renamed.jpg"])])
    assert counter.images == 1  # same bytes under new names: hits
    (images / "copy.jpg").write_bytes((images / "green.jpg").read_bytes())  # same name, new content
    encoder.featurize([post("p", ["copy.jpg"])])
    assert counter.images == 2  # a miss


def test_entries_are_safetensors_written_atomically(tiny_vit_dir, images, tmp_path):
    encoder = cached_encoder(tiny_vit_dir, images, tmp_path / "cache", tokens="patches")
    encoder.featurize([post("p", ["red.jpg"])])
    cache = encoder.cache
    path = cache.path_for(cache.digest(images / "red.jpg"))
    with safe_open(str(path), "pt") as handle:
        assert handle.get_tensor("features").shape == (17, 32)
        assert handle.metadata()["model"] == cache.key
    assert (cache.directory / "model.json").is_file()
    assert not list(cache.directory.rglob("*.tmp"))  # no temporary file left behind
    path.write_bytes(b"not a safetensors file")  # e.g. cut short by a crash
    counter = count_calls(encoder.backbone)
    encoder.featurize([post("p", ["red.jpg"])])
    assert counter.images == 1 and cache.get(cache.digest(images / "red.jpg")) is not None  # re-encoded, rewritten


def test_model_and_token_mode_are_part_of_the_key(tiny_vit_dir, images, tmp_path):
    pooled = cached_encoder(tiny_vit_dir, images, tmp_path / "cache", tokens="pooled")
    patches = cached_encoder(tiny_vit_dir, images, tmp_path / "cache", tokens="patches")
    other = cached_encoder(tiny_vit_dir, images, tmp_path / "cache", tokens="pooled")
    with torch.no_grad():
        other.backbone.embeddings.cls_token.add_(1.0)  # different weights, same model id
    keys = {pooled.cache.key, patches.cache.key, other.cache.key}
    assert len(keys) == 3
    assert "-pooled-" in pooled.cache.key and "-patches-" in patches.cache.key


def test_saved_model_finds_the_features_it_was_trained_on(tiny_vit_dir, images, tmp_path):
    kwargs = dict(output_dim=8, image_root=images, cache_dir=tmp_path / "cache")
    encoder = PixelEncoder.from_name(tiny_vit_dir, **kwargs)
    encoder.featurize([post("p", ["red.jpg"])])
    rebuilt = roundtrip(encoder, tmp_path / "saved", lambda d: PixelEncoder.from_saved(d, **kwargs))
    counter = count_calls(rebuilt.backbone)
    rebuilt.featurize([post("p", ["red.jpg"])])
    assert counter.calls == 0 and rebuilt.cache.key == encoder.cache.key


def test_bad_images_are_never_cached(tiny_vit_dir, images, tmp_path):
    encoder = cached_encoder(tiny_vit_dir, images, tmp_path / "cache")
    features = encoder.featurize([post("p", ["truncated.jpg", "missing.jpg"])])
    assert not features["has_image"].any() and encoder.bad_images.bad == 2
    assert not list((tmp_path / "cache").rglob("*.safetensors"))
