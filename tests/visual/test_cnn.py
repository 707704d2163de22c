"""visual.cnn.v1: the from-scratch CNN on generated and real images, its pixel cache, and every fusion."""

from __future__ import annotations

import pytest
import torch
from model_checks import backward_step, emissions_before_and_after_reload
from visual_helpers import REAL_IMAGES, post

from mner.builders import build_model
from mner.builders_visual import build_visual
from mner.data.errors import ImageError
from mner.data.post import Post
from mner.data.tags import bio_labels
from mner.modules.fusion import FUSIONS
from mner.modules.visual.cnn import CnnImageEncoder


def _cnn(**options) -> CnnImageEncoder:
    torch.manual_seed(0)
    return CnnImageEncoder(**{"output_dim": 8, "widths": [4, 8], "image_size": 16, **options})


def test_tokens_per_image_and_the_no_image_token(images):
    encoder = _cnn(tokens="patches")
    posts = [post("a", [str(images / "red.jpg"), str(images / "blue.jpg")]), post("b")]
    features = encoder.featurize(posts)
    assert features["pixels"].shape == (2, 3, 16, 16) and features["pixels"].dtype == torch.uint8
    visual = encoder(features)
    assert visual.tokens.shape == (2, 2 * 16, 8)  # 16 / 2 / 2 = 4: 4 x 4 cells per image, two images
    assert visual.mask[0].all() and visual.mask[1].tolist() == [True] + [False] * 31
    assert torch.equal(visual.tokens[1, 0], encoder.no_image.detach())
    pooled = _cnn()(_cnn().featurize(posts))
    assert pooled.tokens.shape == (2, 2, 8)


def test_bad_images_follow_the_policy(images):
    posts = [post("a", [str(images / "truncated.jpg"), str(images / "missing.jpg"), str(images / "png_named.jpg")])]
    encoder = _cnn()
    features = encoder.featurize(posts)
    assert features["image_post"].tolist() == [0]  # the PNG named .jpg is read; the other two are left out
    assert encoder.bad_images.bad == 2
    with pytest.raises(ImageError):
        _cnn(bad_image="fail").featurize(posts)


def test_the_pixel_cache_serves_later_epochs(images, tmp_path):
    posts = [post("a", [str(images / "red.jpg")]), post("b", [str(images / "green.jpg"), str(images / "red.jpg")])]
    first = _cnn(cache_dir=tmp_path / "cache")
    cold = first.featurize(posts)["pixels"]
    second = _cnn(cache_dir=tmp_path / "cache")
    warm = second.featurize(posts)["pixels"]
    assert torch.equal(cold, warm)
    assert second.cache.hits == 3 and second.cache.misses == 0


def test_trains_from_scratch(images):
    encoder = _cnn()
    posts = [post("a", [str(images / "red.jpg")]), post("b", [str(images / "blue.jpg")])]
    features = encoder.featurize(posts)
    target = torch.tensor([[1.0] * 8, [-1.0] * 8])
    optimizer = torch.optim.Adam(encoder.parameters(), lr=1e-2)
    losses = []
    for _ in range(20):
        loss = ((encoder(features).tokens[:, 0] - target) ** 2).mean()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]


def test_bad_settings_are_named():
    with pytest.raises(ValueError, match="image_size"):
        _cnn(image_size=4, widths=[4, 8, 8])
    with pytest.raises(ValueError, match="widths"):
        _cnn(widths=[])


@pytest.mark.realdata
def test_real_images():
    if not REAL_IMAGES.is_dir():
        pytest.skip("../shared/data/images is absent")
    paths = sorted(REAL_IMAGES.glob("*.jpg"))[:6]
    encoder = _cnn(image_size=64, widths=[8, 16, 32], tokens="patches")
    features = encoder.featurize([post(str(i), [str(p)]) for i, p in enumerate(paths)])
    assert features["pixels"].shape[0] + encoder.bad_images.bad == len(paths)
    visual = encoder(features)
    assert visual.tokens.shape[1:] == (64, 8) and torch.isfinite(visual.tokens).all()
    visual.tokens.sum().backward()
    assert torch.isfinite(encoder.network[0].weight.grad).all()


def _posts(images) -> list[Post]:
    return [Post("a", ["Alice", "wins", "in", "Paris"], ["B-PER", "O", "O", "B-LOC"], images=[str(images / "red.jpg")],
                 visual_text={"caption": "a woman in a city"}),
            Post("b", ["Google", "and", "apple"], ["B-ORG", "O", "B-ORG"],
                 images=[str(images / "green.jpg"), str(images / "blue.jpg")]),
            Post("c", ["fans", "love", "the", "game"], ["O", "O", "O", "O"])]


@pytest.mark.parametrize("encoder", ["bert", "bilstm"])
@pytest.mark.parametrize("fusion", [*sorted(FUSIONS), "fusion.visual_prompt.v1", "context"])
def test_cnn_with_each_fusion(tiny_bert_dir, images, tmp_path, encoder, fusion):
    if encoder == "bilstm" and fusion in ("fusion.visual_prompt.v1", "context"):
        pytest.skip("visual prompts and a second segment need a transformer text module")
    posts = _posts(images)
    text = ({"name": "encoder.hf.v1", "model": str(tiny_bert_dir)} if encoder == "bert"
            else {"name": "encoder.bilstm.v1", "embedding_dim": 8, "hidden_size": 8})
    cnn = {"name": "visual.cnn.v1", "output_dim": 16, "widths": [4, 8], "image_size": 16,
           "multi_image": {"num_layers": 1, "num_heads": 2} if fusion == "fusion.cross_attention.v1" else None}
    options = {"fusion.text_only.v1": {}, "fusion.visual_prompt.v1": {}, "fusion.linear.v1": {"hidden": 16},
               "fusion.gated.v1": {"hidden": 16}}
    name = "fusion.linear.v1" if fusion == "context" else fusion
    cfg = {"encoder": text, "head": {"name": "head.crf.v1"}, "dropout": 0.0, "visual": cnn,
           "fusion": {"name": name, **options.get(name, {"hidden": 16, "num_heads": 2})}}
    if fusion == "context":
        cfg["second_segment"] = "caption"
    torch.manual_seed(0)
    model = build_model(cfg, bio_labels(["PER", "LOC", "ORG"]), posts)
    model.config = {"model": cfg}
    states, grads = backward_step(model, posts)
    assert states.shape == (3, 4, model.fusion.output_dim) and torch.isfinite(states).all()
    assert all(g is None or torch.isfinite(g).all() for g in grads.values())
    if fusion != "fusion.text_only.v1":
        assert any(g is not None and g.abs().sum() > 0 for n, g in grads.items() if ".network." in f".{n}")
    before, after, _ = emissions_before_and_after_reload(model, posts, tmp_path / "model")
    assert torch.allclose(before, after, atol=1e-5)


def test_the_builder_reads_every_option(tmp_path):
    module = build_visual({"name": "visual.cnn.v1", "output_dim": 8, "widths": [2, 4, 6], "image_size": 32,
                           "first_kernel": 7, "kernel": 5, "batch_norm": False, "tokens": "patches", "dropout": 0.2,
                           "max_images": 2, "cache_dir": str(tmp_path)}, text_encoder=None)
    assert module.network[0].kernel_size == (7, 7) and module.network[3].kernel_size == (5, 5)
    assert not any(isinstance(m, torch.nn.BatchNorm2d) for m in module.network)
    assert module.max_images == 2 and module.cache is not None and module.projection.in_features == 6
