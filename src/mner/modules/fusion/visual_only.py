"""Visual-only baseline: every word is described by the image alone.

What each word sees: its position in the post (a sinusoidal code turned into
a query by a learned layer), the post's visual tokens (padded tokens never),
and whether it is a real word. It does NOT see the word states: `words` is
used only for its shape. So two posts with the same images and length get
the same states, whatever their text; a head on top can only predict tags
from the image and word position. That is the point of the baseline: it
measures how much the images alone tell about the tags.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from mner.modules.fusion.masking import key_padding_mask, zero_padding
from mner.modules.interfaces import VisualTokens


def sinusoidal_positions(n: int, dim: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """(n, dim) fixed position codes (Vaswani et al.); no learned table, so no length limit."""
    position = torch.arange(n, device=device, dtype=torch.float32).unsqueeze(1)  # (n, 1)
    freq = torch.exp(torch.arange(0, dim, 2, device=device, dtype=torch.float32) * (-math.log(10000.0) / dim))
    codes = torch.zeros(n, dim, device=device, dtype=torch.float32)
    codes[:, 0::2] = torch.sin(position * freq)
    codes[:, 1::2] = torch.cos(position * freq[: dim // 2])
    return codes.to(dtype)


class VisualOnlyFusion(nn.Module):
    """Word-position queries attend over the visual tokens; `output_dim` (default `hidden`)."""

    def __init__(self, text_dim: int, visual_dim: int, *, hidden: int = 256, num_heads: int = 4,
                 dropout: float = 0.1, output_dim: int | None = None):
        super().__init__()
        if hidden % num_heads or hidden % 2:
            raise ValueError(f"hidden ({hidden}) must be even and divisible by num_heads ({num_heads})")
        self.hidden = hidden
        self.output_dim = output_dim or hidden
        self.query = nn.Sequential(nn.Linear(hidden, hidden), nn.GELU(), nn.Linear(hidden, hidden))
        self.visual_proj = nn.Linear(visual_dim, hidden)
        self.attention = nn.MultiheadAttention(hidden, num_heads, dropout=dropout, batch_first=True)
        self.norm = nn.LayerNorm(hidden)
        self.out = nn.Linear(hidden, self.output_dim)

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor, visual: VisualTokens) -> torch.Tensor:
        b, w = word_mask.shape
        tokens = self.visual_proj(zero_padding(visual.tokens, visual.mask))  # (b, v, h)
        codes = sinusoidal_positions(w, self.hidden, tokens.device, tokens.dtype)  # (w, h)
        queries = self.query(codes).unsqueeze(0).expand(b, w, self.hidden)  # (b, w, h): same for every post
        seen, _ = self.attention(queries, tokens, tokens, key_padding_mask=key_padding_mask(visual.mask),
                                 need_weights=False)  # (b, w, h)
        states = self.out(self.norm(seen))  # (b, w, out)
        return zero_padding(states, word_mask)
