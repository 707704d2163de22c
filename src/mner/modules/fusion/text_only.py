"""Text-only "fusion": the unimodal baseline that ignores the image side."""

from __future__ import annotations

import torch
from torch import nn

from mner.modules.interfaces import VisualTokens


class TextOnlyFusion(nn.Module):
    """Returns the word states unchanged; `output_dim = text_dim`.

    Why keep it as a fusion: ablations swap fusions by name, so the text
    baseline goes through exactly the same model, batching and head as the
    multimodal runs, and with this module the model is bit-for-bit the
    text-only model. `visual_dim` is accepted (and ignored) so every fusion
    is built with the same arguments.
    """

    def __init__(self, text_dim: int, visual_dim: int | None = None):
        super().__init__()
        self.output_dim = text_dim

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor, visual: VisualTokens) -> torch.Tensor:
        return words  # (b, w, d_text)
