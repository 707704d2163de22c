from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from visual_helpers import grads, post, roundtrip

from mner.data.images import load_image
from mner.data.post import Region
from mner.modules.visual import RegionEncoder
from mner.modules.visual.regions import image_size


def region(box, score, feature_value=None, image_index=0, dim=6) -> Region:
    feature = None if feature_value is None else np.full(dim, feature_value, dtype=np.float32)
    return Region(box=box, score=score, feature=feature, image_index=image_index)


@pytest.fixture
def region_posts(tmp_path):
    Image.new("RGB", (200, 100)).save(tmp_path / "wide.jpg")
    return [
        post("three", ["wide.jpg"], regions=[region((0, 0, 100, 50), 0.2, 1.0), region((100, 50, 200, 100), 0.9, 2.0),
                                              region((10, 10, 20, 20), 0.5, 3.0)]),
        post("none", ["wide.jpg"]),
        post("nofile", ["absent.jpg"], regions=[region((0, 0, 40, 80), 0.7, None)]),
    ]


def test_top_k_geometry_and_masks(tmp_path, region_posts):
    encoder = RegionEncoder(feature_dim=6, output_dim=8, top_k=2, image_root=tmp_path)
    features = encoder.featurize(region_posts)
    assert features["region_features"].shape == (3, 2, 6)
    assert features["region_features"][0, :, 0].tolist() == [2.0, 3.0]  # best two scores, best first
    geometry = features["region_geometry"]
    # box (100, 50, 200, 100) on a 200x100 image: x1 y1 x2 y2 w h area score size_known has_feature
    assert geometry[0, 0].tolist() == pytest.approx([0.5, 0.5, 1.0, 1.0, 0.5, 0.5, 0.25, 0.9, 1.0, 1.0])
    # no image file: the boxes' own extent is the scale, flagged size_known = 0; no feature: zeros
    assert geometry[2, 0].tolist() == pytest.approx([0, 0, 1, 1, 1, 1, 1, 0.7, 0.0, 0.0])
    assert features["region_features"][2, 0].abs().sum() == 0
    out = encoder(features)
    assert out.tokens.shape == (3, 2, 8)
    assert out.mask.tolist() == [[True, True], [True, False], [True, False]]
    assert torch.equal(out.tokens[1, 0], encoder.no_region)


def test_image_size_follows_exif_orientation(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees: stored 60x20, shown 20x60
    Image.new("RGB", (60, 20)).save(tmp_path / "turned.jpg", exif=exif.tobytes())
    assert image_size(tmp_path / "turned.jpg") == load_image(tmp_path / "turned.jpg").size == (20, 60)
    assert image_size(tmp_path / "absent.jpg") is None


def test_feature_size_mismatch_names_the_post():
    encoder = RegionEncoder(feature_dim=4, output_dim=8)
    with pytest.raises(ValueError, match="'three'"):
        encoder.featurize([post("three", regions=[region((0, 0, 1, 1), 0.5, 1.0, dim=6)])])


def test_gradients_and_batch_without_regions(tmp_path, region_posts):
    encoder = RegionEncoder(feature_dim=6, output_dim=8, image_root=tmp_path)
    encoder(encoder.featurize(region_posts)).tokens.sum().backward()
    assert all(g is not None for g in grads(encoder, ""))
    out = encoder(encoder.featurize([post("a"), post("b")]))
    assert out.tokens.shape == (2, 1, 8) and out.mask.all()


def test_regions_on_several_images_get_their_image_index(tmp_path):
    encoder = RegionEncoder(feature_dim=6, output_dim=8, max_images=2)
    p = post("multi", regions=[region((0, 0, 5, 5), 0.9, 1.0, 0), region((0, 0, 5, 5), 0.8, 1.0, 1),
                               region((0, 0, 5, 5), 0.7, 1.0, 3)])
    assert encoder.featurize([p])["region_image"].tolist() == [[0, 1, 1]]  # beyond max_images: the last slot


def test_round_trip(tmp_path, region_posts):
    kwargs = dict(feature_dim=6, output_dim=8, top_k=3, image_root=tmp_path)
    encoder = RegionEncoder(**kwargs).eval()
    rebuilt = roundtrip(encoder, tmp_path / "saved", lambda _d: RegionEncoder(**kwargs)).eval()
    with torch.no_grad():
        a, b = encoder(encoder.featurize(region_posts)), rebuilt(rebuilt.featurize(region_posts))
    assert torch.equal(a.tokens, b.tokens) and torch.equal(a.mask, b.mask)
