"""Cross-attention fusion (thesis): attention both ways between words and visual tokens.

    t   = W_t words                                     (b, w, h)
    x   = W_v visual tokens                             (b, v, h)
    t2v = LN(t + Attn(q=t, kv=x))                       words read the image
    x'  = LN(x + Attn(q=x, kv=t))                       visual tokens read the text
    v2t = LN(t + Attn(q=t, kv=x'))                      words gather back from the text-aware tokens
    out = text_path(words) + tanh(g) * W_o [words ; t2v ; v2t]

`text_path` is the identity when `output_dim == text_dim`, else a linear map.

Why the gate: the word states usually come from a pretrained encoder, and the
fusion layers start random. Added at full strength, their output would bury
the pretrained states at step 0 and the first updates would go to repairing
the damage. `g` (one per output channel) starts at `gate_init` (0.1), so the
fused output starts close to the text-only states and the model learns how
much of the image to let in. It is not exactly 0, so every fusion weight gets
a gradient from the first step (with 0 only `g` itself would).
"""

from __future__ import annotations

import torch
from torch import nn

from mner.modules.fusion.masking import key_padding_mask, zero_padding
from mner.modules.interfaces import VisualTokens


class CrossAttentionFusion(nn.Module):
    """`output_dim` defaults to `text_dim` (then the text path is the identity)."""

    def __init__(self, text_dim: int, visual_dim: int, *, hidden: int = 256, num_heads: int = 4,
                 dropout: float = 0.1, output_dim: int | None = None, gate_init: float = 0.1):
        super().__init__()
        if hidden % num_heads:
            raise ValueError(f"hidden ({hidden}) must be divisible by num_heads ({num_heads})")
        self.output_dim = output_dim or text_dim
        self.text_proj = nn.Linear(text_dim, hidden)
        self.visual_proj = nn.Linear(visual_dim, hidden)
        self.text_to_visual = nn.MultiheadAttention(hidden, num_heads, dropout=dropout, batch_first=True)
        self.visual_to_text = nn.MultiheadAttention(hidden, num_heads, dropout=dropout, batch_first=True)
        self.gather_back = nn.MultiheadAttention(hidden, num_heads, dropout=dropout, batch_first=True)
        self.norm_t2v = nn.LayerNorm(hidden)
        self.norm_visual = nn.LayerNorm(hidden)
        self.norm_v2t = nn.LayerNorm(hidden)
        self.dropout = nn.Dropout(dropout)
        self.fuse = nn.Linear(text_dim + 2 * hidden, self.output_dim)
        self.text_path: nn.Module = nn.Identity() if self.output_dim == text_dim else nn.Linear(text_dim, self.output_dim)
        self.gate = nn.Parameter(torch.full((self.output_dim,), float(gate_init)))

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor, visual: VisualTokens) -> torch.Tensor:
        words = zero_padding(words, word_mask)  # (b, w, d_text)
        ignore_words = key_padding_mask(word_mask)  # (b, w)
        ignore_tokens = key_padding_mask(visual.mask)  # (b, v)
        t = self.text_proj(words)  # (b, w, h)
        x = self.visual_proj(zero_padding(visual.tokens, visual.mask))  # (b, v, h)

        read, _ = self.text_to_visual(t, x, x, key_padding_mask=ignore_tokens, need_weights=False)  # (b, w, h)
        t2v = self.norm_t2v(t + self.dropout(read))  # (b, w, h)

        aware, _ = self.visual_to_text(x, t, t, key_padding_mask=ignore_words, need_weights=False)  # (b, v, h)
        x_aware = zero_padding(self.norm_visual(x + self.dropout(aware)), visual.mask)  # (b, v, h)
        back, _ = self.gather_back(t, x_aware, x_aware, key_padding_mask=ignore_tokens, need_weights=False)
        v2t = self.norm_v2t(t + self.dropout(back))  # (b, w, h)

        fused = self.fuse(self.dropout(torch.cat([words, t2v, v2t], dim=-1)))  # (b, w, out)
        out = self.text_path(words) + torch.tanh(self.gate) * fused  # (b, w, out)
        return zero_padding(out, word_mask)
