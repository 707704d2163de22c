"""The Fusion contract, checked for every registered fusion."""

from __future__ import annotations

import pytest
import torch
from fusion_cases import EXPECTED_OUTPUT_DIM, OPTIONS, SEES_IMAGE, SEES_TEXT, make, random_inputs
from safetensors.torch import load_file, save_file

from mner.modules.fusion import FUSIONS
from mner.modules.interfaces import VisualTokens

NAMES = sorted(FUSIONS)


def test_every_registered_fusion_is_tested():
    assert set(OPTIONS) == set(FUSIONS)


@pytest.mark.parametrize("name", NAMES)
def test_output_shape(name):
    fusion = make(name).eval()
    words, word_mask, visual = random_inputs()
    out = fusion(words, word_mask, visual)
    assert fusion.output_dim == EXPECTED_OUTPUT_DIM[name]
    assert out.shape == (3, 5, fusion.output_dim)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize("name", NAMES)
def test_padding_does_not_reach_real_words(name):
    fusion = make(name).eval()
    words, word_mask, visual = random_inputs()
    with torch.no_grad():
        before = fusion(words, word_mask, visual)
        noisy_words = torch.where(word_mask.unsqueeze(-1), words, 100.0 * torch.randn_like(words))
        noisy_tokens = torch.where(visual.mask.unsqueeze(-1), visual.tokens, 100.0 * torch.randn_like(visual.tokens))
        after = fusion(noisy_words, word_mask, VisualTokens(noisy_tokens, visual.mask))
    torch.testing.assert_close(after[word_mask], before[word_mask], rtol=0, atol=1e-6)


@pytest.mark.parametrize("name", NAMES)
def test_gradients_reach_the_inputs_it_reads(name):
    fusion = make(name)
    words, word_mask, visual = random_inputs()
    words.requires_grad_(True)
    tokens = visual.tokens.clone().requires_grad_(True)
    out = fusion(words, word_mask, VisualTokens(tokens, visual.mask))
    (out[word_mask] ** 2).sum().backward()

    word_grad = words.grad if words.grad is not None else torch.zeros_like(words)
    token_grad = tokens.grad if tokens.grad is not None else torch.zeros_like(tokens)
    # Padding never gets a gradient; real positions do exactly when the fusion reads that side.
    assert word_grad[~word_mask].abs().sum() == 0
    assert token_grad[~visual.mask].abs().sum() == 0
    assert (word_grad[word_mask].abs().sum(-1) > 0).all() == (name in SEES_TEXT)
    assert (token_grad[visual.mask].abs().sum(-1) > 0).all() == (name in SEES_IMAGE)
    if name not in SEES_IMAGE:
        assert token_grad.abs().sum() == 0
    if name not in SEES_TEXT:
        assert word_grad.abs().sum() == 0


@pytest.mark.parametrize("name", NAMES)
def test_safetensors_round_trip(name, tmp_path):
    fusion = make(name, seed=0).eval()
    path = tmp_path / "fusion.safetensors"
    save_file(fusion.state_dict(), str(path))
    restored = make(name, seed=1).eval()
    restored.load_state_dict(load_file(str(path)))
    words, word_mask, visual = random_inputs()
    with torch.no_grad():
        torch.testing.assert_close(restored(words, word_mask, visual), fusion(words, word_mask, visual),
                                   rtol=0, atol=0)
