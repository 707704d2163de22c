from __future__ import annotations

import pytest
import torch
from fusion_cases import TEXT_DIM, VISUAL_DIM, make, random_inputs

from mner.modules.fusion import (
    FUSIONS,
    CrossAttentionFusion,
    GatedFusion,
    LinearFusion,
    PartialPredictionFusion,
    TextOnlyFusion,
    VisualOnlyFusion,
    build_fusion,
)


def test_names_map_to_classes():
    assert FUSIONS == {
        "fusion.text_only.v1": TextOnlyFusion,
        "fusion.visual_only.v1": VisualOnlyFusion,
        "fusion.linear.v1": LinearFusion,
        "fusion.cross_attention.v1": CrossAttentionFusion,
        "fusion.partial.v1": PartialPredictionFusion,
        "fusion.gated.v1": GatedFusion,
    }


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as error:
        build_fusion("fusion.linear.v9", TEXT_DIM, VISUAL_DIM)
    assert all(name in str(error.value) for name in FUSIONS)


def test_unknown_option_is_a_clear_error():
    with pytest.raises(ValueError, match="hiden"):
        build_fusion("fusion.linear.v1", TEXT_DIM, VISUAL_DIM, hiden=16)


@pytest.mark.parametrize("name, options", [
    ("fusion.linear.v1", {"hidden": 15}),
    ("fusion.cross_attention.v1", {"hidden": 16, "num_heads": 3}),
    ("fusion.partial.v1", {"hidden": 16, "num_heads": 3}),
    ("fusion.visual_only.v1", {"hidden": 16, "num_heads": 3}),
])
def test_bad_widths_are_value_errors(name, options):
    with pytest.raises(ValueError, match="hidden"):
        build_fusion(name, TEXT_DIM, VISUAL_DIM, **options)


def test_text_only_is_the_identity():
    words, word_mask, visual = random_inputs()
    assert make("fusion.text_only.v1")(words, word_mask, visual) is words


def test_cross_attention_starts_close_to_the_text_states():
    words, word_mask, visual = random_inputs()
    fusion = make("fusion.cross_attention.v1").eval()
    with torch.no_grad():
        out = fusion(words, word_mask, visual)[word_mask]
        real = words[word_mask]
    # gate 0.1: the text states dominate; with gate 0 they come through exactly.
    assert (out - real).norm() < 0.25 * real.norm()
    exact = make("fusion.cross_attention.v1", gate_init=0.0).eval()
    with torch.no_grad():
        torch.testing.assert_close(exact(words, word_mask, visual)[word_mask], real)


def test_cross_attention_projects_text_when_output_dim_differs():
    fusion = make("fusion.cross_attention.v1", output_dim=8).eval()
    words, word_mask, visual = random_inputs()
    assert fusion(words, word_mask, visual).shape == (3, 5, 8)


def test_visual_only_ignores_the_words():
    fusion = make("fusion.visual_only.v1").eval()
    words, word_mask, visual = random_inputs()
    with torch.no_grad():
        torch.testing.assert_close(fusion(words, word_mask, visual), fusion(torch.randn_like(words), word_mask, visual))


def test_empty_rows_stay_finite():
    """A row with no real word (or, against the contract, no real visual token) must not give NaN."""
    words, word_mask, visual = random_inputs()
    word_mask[2] = False
    visual.mask[0] = False
    for name in FUSIONS:
        with torch.no_grad():
            assert torch.isfinite(make(name).eval()(words, word_mask, visual)).all(), name
