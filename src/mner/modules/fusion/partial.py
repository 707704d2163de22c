"""Partial-prediction fusion (thesis): a text branch and a visual branch, merged per word.

The thesis makes one prediction from the text alone and one from the image,
and merges them with a learned layer. Here the tagging head comes after the
fusion, so the branches produce *states* instead of tags:

    s_text = LN(W_t words)                                   text-only branch   (b, w, out)
    s_vis  = LN(W_o Attn(q=W_q words, kv=W_v visual))        visual branch      (b, w, out)
    g      = sigmoid(w_g . [s_text ; s_vis] + b_g)           merge layer        (b, w, 1)
    out    = g * s_text + (1 - g) * s_vis

The visual branch's state is a mixture of visual tokens: the word only chooses
which tokens to read (the query), none of its own content is in the value.
The gate is one scalar per word, so for any head whose emissions are linear in
the states (softmax: W s + b; the CRF's emissions too) the emissions are

    E(out) = g * E(s_text) + (1 - g) * E(s_vis)

i.e. exactly "a text-only prediction and a visual prediction merged by a
learned layer", with the two predictions sharing the head's weights (and, for
the CRF, its transitions). `merge` starts at g = 0.5 (equal weights).
"""

from __future__ import annotations

import torch
from torch import nn

from mner.modules.fusion.masking import key_padding_mask, zero_padding
from mner.modules.interfaces import VisualTokens


class PartialPredictionFusion(nn.Module):
    """`output_dim` defaults to 256; `hidden` is the attention width of the visual branch."""

    def __init__(self, text_dim: int, visual_dim: int, *, output_dim: int = 256, hidden: int = 256,
                 num_heads: int = 4, dropout: float = 0.1):
        super().__init__()
        if hidden % num_heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by num_heads ({num_heads})")
        self.output_dim = output_dim
        self.text_branch = nn.Sequential(nn.Linear(text_dim, output_dim), nn.LayerNorm(output_dim))
        self.query_proj = nn.Linear(text_dim, hidden)
        self.visual_proj = nn.Linear(visual_dim, hidden)
        self.attention = nn.MultiheadAttention(hidden, num_heads, dropout=dropout, batch_first=True)
        self.visual_out = nn.Sequential(nn.Linear(hidden, output_dim), nn.LayerNorm(output_dim))
        self.merge = nn.Linear(2 * output_dim, 1)
        nn.init.zeros_(self.merge.bias)
        self.dropout = nn.Dropout(dropout)

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor, visual: VisualTokens) -> torch.Tensor:
        words = zero_padding(words, word_mask)  # (b, w, d_text)
        s_text = self.text_branch(words)  # (b, w, out)
        tokens = self.visual_proj(zero_padding(visual.tokens, visual.mask))  # (b, v, h)
        read, _ = self.attention(self.query_proj(words), tokens, tokens,
                                 key_padding_mask=key_padding_mask(visual.mask), need_weights=False)  # (b, w, h)
        s_vis = self.visual_out(read)  # (b, w, out)
        s_text, s_vis = self.dropout(s_text), self.dropout(s_vis)
        g = torch.sigmoid(self.merge(torch.cat([s_text, s_vis], dim=-1)))  # (b, w, 1)
        out = g * s_text + (1.0 - g) * s_vis  # (b, w, out)
        return zero_padding(out, word_mask)
