"""`mner data regions --features backbone`: each detected box cropped and embedded by a vision backbone."""

import json

import numpy as np
import pytest
import torch
from PIL import Image
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.images import load_image
from mner.data.readers.regions import read_vinvl
from mner.grounding.crop_features import crop_window

from grounding.region_models import (REAL_IMAGES, real_images_folder, save_tiny_clip, save_tiny_detr,
                                     save_tiny_vit)

@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("region-models")
    return {"detr": save_tiny_detr(root / "detr"), "vit": save_tiny_vit(root / "vit"),
            "clip": save_tiny_clip(root / "clip")}


def run(*args):
    return CliRunner().invoke(app, ["data", "regions", *map(str, args), "--quiet"])


def expected_features(model_dir, image_path, boxes, pooling):
    """The crops embedded here, independently of CropEmbedder: what the file must hold."""
    from transformers import AutoConfig, AutoImageProcessor, AutoModel, CLIPVisionModel

    config = AutoConfig.from_pretrained(model_dir)
    model = (CLIPVisionModel if config.model_type == "clip" else AutoModel).from_pretrained(model_dir).eval()
    processor = AutoImageProcessor.from_pretrained(model_dir, backend="pil")
    image = load_image(image_path)
    crops = [image.crop(crop_window(box, image.size)) for box in boxes]
    with torch.no_grad():
        hidden = model(pixel_values=processor(images=crops, return_tensors="pt")["pixel_values"]).last_hidden_state
    return (hidden[:, 0] if pooling == "cls" else hidden.mean(1)).numpy()


def test_backbone_features_over_each_crop_cached_and_recorded(tmp_path, models):
    folder, out = tmp_path / "images", tmp_path / "regions"
    folder.mkdir()
    pixels = np.random.default_rng(0).integers(0, 255, size=(80, 120, 3), dtype=np.uint8)
    Image.fromarray(pixels).save(folder / "noise.png")
    Image.new("RGB", (60, 90), (30, 200, 30)).save(folder / "green.png")
    result = run(folder, "--to", out, "--detector", models["detr"], "--top-k", 5, "--backbone", models["vit"])
    assert result.exit_code == 0, result.output
    assert "2 detected" in result.output and "24 values" in result.output  # the ViT's width, not DETR's 16
    manifest = json.loads((out / "regions.json").read_text())
    assert manifest["features"] == "backbone" and manifest["backbone"] == str(models["vit"])
    assert manifest["pooling"] == "mean" and manifest["feature_dim"] == 24
    with np.load(out / "noise.png.npz", allow_pickle=False) as data:
        boxes, features = data["bounding_boxes"], data["box_features"]
    assert features.shape == (5, 24) and features.dtype == np.float32
    np.testing.assert_allclose(features, expected_features(models["vit"], folder / "noise.png", boxes, "mean"),
                               atol=1e-5)
    # the boxes are the detector's, whatever the features: the same as a detector-features run
    plain = run(folder, "--to", tmp_path / "plain", "--detector", models["detr"], "--top-k", 5)
    assert plain.exit_code == 0, plain.output
    np.testing.assert_array_equal(np.load(tmp_path / "plain" / "noise.png.npz")["bounding_boxes"], boxes)
    assert np.load(tmp_path / "plain" / "noise.png.npz")["box_features"].shape == (5, 16)

    again = run(folder, "--to", out, "--detector", models["detr"], "--top-k", 5, "--backbone", models["vit"])
    assert again.exit_code == 0 and "0 detected" in again.output  # resumed from the content cache
    mixed = run(folder, "--to", out, "--detector", models["detr"], "--top-k", 5)  # detector features: refused
    assert mixed.exit_code == 1 and "other settings" in mixed.output
    other = run(folder, "--to", out, "--detector", models["detr"], "--top-k", 5, "--backbone", models["vit"],
                "--pooling", "cls")
    assert other.exit_code == 1 and "other settings" in other.output


def test_clear_errors(tmp_path, models):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (40, 40)).save(folder / "a.png")
    result = run(folder, "--to", tmp_path / "r", "--detector", models["detr"], "--features", "backbone")
    assert result.exit_code == 1 and "--backbone" in result.output
    result = run(folder, "--to", tmp_path / "r", "--detector", models["detr"], "--backbone", tmp_path / "none")
    assert result.exit_code == 1 and "cannot load vision backbone" in result.output
    result = run(folder, "--to", tmp_path / "r", "--detector", models["detr"], "--backbone", models["vit"],
                 "--pooling", "max")
    assert result.exit_code == 1 and "pooling" in result.output


def test_crop_window_is_inside_the_image_and_never_empty():
    assert crop_window((10.2, 5.7, 30.1, 20.0), (100, 50)) == (10, 5, 31, 20)
    assert crop_window((40.0, 40.0, 40.0, 40.0), (100, 50)) == (40, 40, 41, 41)  # a point: one pixel
    assert crop_window((100.0, 50.0, 100.0, 50.0), (100, 50)) == (99, 49, 100, 50)  # on the far border
    assert crop_window((-5.0, -5.0, 500.0, 500.0), (100, 50)) == (0, 0, 100, 50)


@pytest.mark.skipif(not REAL_IMAGES.is_dir(), reason="../shared/data/images absent")
def test_real_tweet_images_with_a_clip_vision_tower(tmp_path, models):
    folder = real_images_folder(tmp_path / "real")
    out = tmp_path / "regions"
    result = run(folder, "--to", out, "--detector", models["detr"], "--top-k", 4, "--backbone", models["clip"],
                 "--pooling", "cls")
    assert result.exit_code == 0, result.output
    assert "20 values" in result.output  # the CLIP vision tower's width
    for path in sorted(folder.iterdir()):
        regions = read_vinvl(out / f"{path.name}.npz")
        assert len(regions) == 4 and regions[0].feature.shape == (20,)
        boxes = np.array([r.box for r in regions], dtype=np.float32)
        got = np.stack([r.feature for r in regions])
        np.testing.assert_allclose(got, expected_features(models["clip"], path, boxes, "cls"), atol=1e-5)
