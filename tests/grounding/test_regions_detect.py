"""`mner data regions`: a tiny random DETR saved locally, generated and real images, the npz layout mner reads."""

import json
import shutil

import numpy as np
import pytest
from PIL import Image
from typer.testing import CliRunner

from mner.cli.main import app
from mner.data.readers.regions import read_vinvl

from grounding.region_models import REAL_IMAGES, real_images_folder, save_tiny_detr

@pytest.fixture(scope="module")
def tiny_detr(tmp_path_factory):
    return save_tiny_detr(tmp_path_factory.mktemp("tiny-detr"))


def images_dir(tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(folder / "red.jpg")
    Image.new("RGB", (60, 90), (30, 200, 30)).save(folder / "green.png")
    shutil.copyfile(folder / "red.jpg", folder / "red_copy.jpg")  # same content, another name
    return folder


def run(*args):
    return CliRunner().invoke(app, ["data", "regions", *map(str, args), "--quiet"])


def test_regions_written_in_the_vinvl_layout_cached_by_content_and_resumable(tmp_path, tiny_detr):
    folder, out = images_dir(tmp_path), tmp_path / "regions"
    result = run(folder, "--to", out, "--detector", tiny_detr, "--top-k", 5)
    assert result.exit_code == 0, result.output
    assert "3 images" in result.output and "2 detected" in result.output and "16 values" in result.output
    regions = read_vinvl(out / "red.jpg.npz")
    assert len(regions) == 5 and regions[0].feature.shape == (16,)
    assert all(0 <= r.box[0] <= r.box[2] <= 120 and 0 <= r.box[1] <= r.box[3] <= 80 for r in regions)
    assert {r.label for r in regions} <= {"person", "logo", "dog"}
    scores = [r.score for r in regions]
    assert scores == sorted(scores, reverse=True)
    with np.load(out / "green.png.npz", allow_pickle=False) as data:
        assert (int(data["image_w"]), int(data["image_h"]), int(data["num_boxes"])) == (60, 90, 5)
    np.testing.assert_array_equal(np.load(out / "red.jpg.npz")["bounding_boxes"],
                                  np.load(out / "red_copy.jpg.npz")["bounding_boxes"])
    assert json.loads((out / "regions.json").read_text())["feature_dim"] == 16

    # the written folder is what data.regions / --regions read, and what the grounding head takes
    from mner.data.post import Post
    from mner.data.readers.regions import attach_regions
    from mner.grounding.head import GroundingHead

    post = Post("red", ["Alice", "wins"], ["B-PER", "O"], images=["red.jpg"])
    assert attach_regions([post], out) == 1
    features = GroundingHead(8, ["PER"], feature_dim=16, hidden_dim=8, top_k=5).featurize([post])
    assert features["region_features"].shape == (1, 5, 16) and bool(features["has_region"][0])

    again = run(folder, "--to", out, "--detector", tiny_detr, "--top-k", 5)
    assert again.exit_code == 0 and "0 detected" in again.output  # resumed: everything from the content cache
    other = run(folder, "--to", out, "--detector", tiny_detr, "--top-k", 3)
    assert other.exit_code == 1 and "other settings" in other.output


def test_bad_image_is_skipped_and_named(tmp_path, tiny_detr):
    folder = images_dir(tmp_path)
    (folder / "broken.jpg").write_bytes(b"not an image")
    result = run(folder, "--to", tmp_path / "regions", "--detector", tiny_detr)
    assert result.exit_code == 0, result.output
    assert "broken.jpg" in result.output and not (tmp_path / "regions" / "broken.jpg.npz").exists()


def test_missing_detector_and_folder_are_clear_errors(tmp_path, tiny_detr):
    result = run(tmp_path / "nowhere", "--to", tmp_path / "r", "--detector", tiny_detr)
    assert result.exit_code == 1 and "nowhere" in result.output
    result = run(images_dir(tmp_path), "--to", tmp_path / "r", "--detector", tmp_path / "no-model")
    assert result.exit_code == 1 and "cannot load detector" in result.output


@pytest.mark.skipif(not REAL_IMAGES.is_dir(), reason="../shared/data/images absent")
def test_real_tweet_images(tmp_path, tiny_detr):
    folder = real_images_folder(tmp_path / "real")
    result = run(folder, "--to", tmp_path / "regions", "--detector", tiny_detr, "--top-k", 4)
    assert result.exit_code == 0, result.output
    for path in folder.iterdir():
        assert len(read_vinvl(tmp_path / "regions" / f"{path.name}.npz")) == 4


@pytest.fixture(scope="module")
def tiny_owlvit(tmp_path_factory):
    """A zero-shot detector: OWL-ViT, hidden 16, with a character-level CLIP tokenizer written locally."""
    import string

    import torch
    from transformers import (CLIPTokenizer, OwlViTConfig, OwlViTForObjectDetection, OwlViTImageProcessor,
                              OwlViTProcessor)

    directory = tmp_path_factory.mktemp("tiny-owlvit")
    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase:
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    (directory / "vocab.json").write_text(json.dumps(vocab))
    (directory / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = CLIPTokenizer(str(directory / "vocab.json"), str(directory / "merges.txt"),
                              pad_token="<|endoftext|>", model_max_length=16)
    size = {"height": 32, "width": 32}
    OwlViTProcessor(image_processor=OwlViTImageProcessor(size=size, crop_size=size),
                    tokenizer=tokenizer).save_pretrained(directory)
    small = dict(hidden_size=16, intermediate_size=16, num_hidden_layers=1, num_attention_heads=2)
    config = OwlViTConfig(text_config=dict(vocab_size=len(vocab), max_position_embeddings=16, **small),
                          vision_config=dict(image_size=32, patch_size=8, **small), projection_dim=16)
    torch.manual_seed(0)
    OwlViTForObjectDetection(config).save_pretrained(directory)
    return directory


def test_zero_shot_detector_needs_queries_and_labels_boxes_with_them(tmp_path, tiny_owlvit):
    folder, out = images_dir(tmp_path), tmp_path / "regions"
    result = run(folder, "--to", out, "--detector", tiny_owlvit)
    assert result.exit_code == 1 and "--queries" in result.output
    result = run(folder, "--to", out, "--detector", tiny_owlvit, "--queries", "person, logo", "--top-k", 6)
    assert result.exit_code == 0, result.output
    regions = read_vinvl(out / "green.png.npz")
    assert len(regions) == 6 and regions[0].feature.shape == (16,)
    assert {r.label for r in regions} <= {"person", "logo"}
    assert all(0 <= r.box[0] <= r.box[2] <= 60 and 0 <= r.box[1] <= r.box[3] <= 90 for r in regions)
