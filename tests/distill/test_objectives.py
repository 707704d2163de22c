"""Cross-view alignment and modality dropout: what each step trains on and minimises."""

import pytest
import torch

from mner.builders import build_model
from mner.config import load_config
from mner.data.tags import bio_labels
from mner.training.modality_dropout import drop_inputs
from mner.training.objectives import (CrossViewObjective, TaggingObjective, build_objective, masked_kl,
                                      without_visual_text)
from posts_factory import make_posts

LABELS = bio_labels(["LOC", "MISC", "ORG", "PER"])


def _model(tiny_bert_dir, second_segment="caption"):
    cfg = load_config(None, ["model.dropout=0.0"])
    cfg["model"]["encoder"] = {"name": "encoder.hf.v1", "model": str(tiny_bert_dir)}
    cfg["model"]["second_segment"] = second_segment
    torch.manual_seed(0)
    model = build_model(cfg["model"], LABELS)
    return model.eval()  # no dropout: the two views differ only by their inputs


def test_masked_kl_is_zero_for_equal_views_and_positive_otherwise():
    log_q = torch.randn(2, 3, 4).log_softmax(-1)
    mask = torch.tensor([[1, 1, 0], [1, 0, 0]], dtype=torch.bool)
    assert torch.allclose(masked_kl(log_q, log_q, mask), torch.zeros(2), atol=1e-6)
    other = torch.randn(2, 3, 4).log_softmax(-1)
    assert torch.all(masked_kl(log_q, other, mask) > 0)
    changed_padding = other.clone()
    changed_padding[0, 2] = log_q[0, 2]  # padding never counts
    assert torch.allclose(masked_kl(log_q, other, mask), masked_kl(log_q, changed_padding, mask))


def test_cross_view_adds_the_text_view_and_pulls_it_towards_the_full_view(tiny_bert_dir):
    model = _model(tiny_bert_dir)
    posts = make_posts(3)  # every post has a caption
    plain = TaggingObjective()(model, posts)
    aligned = CrossViewObjective("caption", weight=1.0)(model, posts)
    text_only = TaggingObjective()(model, [without_visual_text(p) for p in posts])
    # full-view loss + text-view loss + a KL that is > 0 (the caption changes the word states)
    assert aligned.item() > plain.item() + text_only.item()
    aligned.backward()
    assert model.head.proj.weight.grad is not None and model.head.proj.weight.grad.abs().sum() > 0


def test_cross_view_on_posts_without_the_field_is_the_plain_loss(tiny_bert_dir):
    model = _model(tiny_bert_dir)
    posts = [without_visual_text(p) for p in make_posts(3)]
    assert torch.allclose(CrossViewObjective("caption")(model, posts), TaggingObjective()(model, posts))


def test_cross_view_weight_zero_is_the_sum_of_both_views(tiny_bert_dir):
    model = _model(tiny_bert_dir)
    posts = make_posts(2)
    loss = CrossViewObjective("caption", weight=0.0)(model, posts)
    both = TaggingObjective()(model, posts) + TaggingObjective()(model, [without_visual_text(p) for p in posts])
    assert torch.allclose(loss, both, atol=1e-5)


def test_build_objective_reads_the_config():
    posts = make_posts(2)
    cfg = load_config(None, ["train.cross_view={weight: 0.5}", "model.second_segment=caption"])
    _, objective = build_objective(cfg, posts, [], log=lambda *_: None)
    assert isinstance(objective, CrossViewObjective) and objective.fields == ["caption"] and objective.weight == 0.5
    with pytest.raises(ValueError, match="needs a visual-text field"):
        build_objective(load_config(None, ["train.cross_view={weight: 1}"]), posts, [])
    with pytest.raises(ValueError, match="direction"):
        build_objective(load_config(None, ["train.cross_view={direction: sideways}", "model.second_segment=x"]),
                        posts, [])
    assert isinstance(build_objective(load_config(None), posts, [])[1], TaggingObjective)


def test_modality_dropout_is_reproducible_and_drops_the_share_asked():
    posts = make_posts(400)
    assert drop_inputs(posts, 0.0, 1, 0, 0) is posts
    dropped = drop_inputs(posts, 0.3, seed=1, epoch=2, step=5)
    share = sum(1 for p in dropped if not p.visual_text) / len(posts)
    assert 0.22 < share < 0.38
    again = drop_inputs(posts, 0.3, seed=1, epoch=2, step=5)
    assert [bool(p.visual_text) for p in again] == [bool(p.visual_text) for p in dropped]
    other_step = drop_inputs(posts, 0.3, seed=1, epoch=2, step=6)
    assert [bool(p.visual_text) for p in other_step] != [bool(p.visual_text) for p in dropped]
    assert all(not p.visual_text for p in drop_inputs(posts, 1.0, 1, 0, 0))
    assert all(p.visual_text for p in posts)  # the originals are untouched
    with pytest.raises(ValueError, match="modality_dropout"):
        drop_inputs(posts, 1.5, 1, 0, 0)
