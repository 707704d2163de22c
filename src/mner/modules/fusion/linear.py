"""Linear fusion (thesis): pooled image vector concatenated to every word, then a BiLSTM.

Per word: [W_t text ; W_v mean(visual tokens)] -> dense + GELU -> BiLSTM over
the post's words. The image enters as one vector per post (masked mean of
the real visual tokens), so every word gets the same visual information and
the BiLSTM lets words decide, in context, how much of it to use.
"""

from __future__ import annotations

import torch
from torch import nn

from mner.modules.fusion.masking import masked_mean
from mner.modules.interfaces import VisualTokens


class LinearFusion(nn.Module):
    """`output_dim = hidden` (two directions of `hidden // 2`)."""

    def __init__(self, text_dim: int, visual_dim: int, *, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        if hidden % 2:
            raise ValueError(f"hidden ({hidden}) must be even: text and image each get half")
        self.output_dim = hidden
        self.text_proj = nn.Linear(text_dim, hidden // 2)
        self.visual_proj = nn.Linear(visual_dim, hidden // 2)
        self.dense = nn.Linear(hidden, hidden)
        self.activation = nn.GELU()
        self.dropout = nn.Dropout(dropout)
        self.lstm = nn.LSTM(hidden, hidden // 2, batch_first=True, bidirectional=True)

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor, visual: VisualTokens) -> torch.Tensor:
        b, w, _ = words.shape
        pooled = self.visual_proj(masked_mean(visual.tokens, visual.mask))  # (b, h/2)
        text = self.text_proj(words)  # (b, w, h/2)
        joint = torch.cat([text, pooled.unsqueeze(1).expand(b, w, pooled.shape[-1])], dim=-1)  # (b, w, h)
        joint = self.dropout(self.activation(self.dense(joint)))  # (b, w, h)
        # Packing by length keeps padded words out of the real words' recurrence (masks are left-aligned).
        lengths = word_mask.sum(dim=1).clamp(min=1).cpu()  # (b,)
        packed = nn.utils.rnn.pack_padded_sequence(joint, lengths, batch_first=True, enforce_sorted=False)
        out, _ = self.lstm(packed)
        out, _ = nn.utils.rnn.pad_packed_sequence(out, batch_first=True, total_length=w)  # (b, w, h), 0 at padding
        return out
