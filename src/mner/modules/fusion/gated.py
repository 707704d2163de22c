"""Gated fusion (R-GCN style): each word attends over the visual tokens (e.g. relation-graph tokens,
`mner.retrieval.relation_graph`) and a sigmoid gate per word and channel decides how much of that
context reaches the word. The text path is residual, so a closed gate leaves the text tagger intact.
"""

from __future__ import annotations

import torch
from torch import nn

from mner.modules.interfaces import VisualTokens


class GatedFusion(nn.Module):
    """Each word attends over the graph tokens; a sigmoid gate decides how much of that reaches
    the word: w' = w + g * W_o(ctx), g = sigmoid(W_g [w ; ctx]). At g = 0 the text path is intact."""

    def __init__(self, text_dim: int, visual_dim: int, *, hidden: int = 256, dropout: float = 0.1):
        super().__init__()
        self.output_dim = text_dim
        self.query = nn.Linear(text_dim, hidden)
        self.key = nn.Linear(visual_dim, hidden)
        self.value = nn.Linear(visual_dim, text_dim)
        self.gate = nn.Linear(2 * text_dim, text_dim)
        nn.init.constant_(self.gate.bias, -2.0)  # start mostly closed: the tagger first learns from text
        self.dropout = nn.Dropout(dropout)
        self.scale = hidden ** -0.5

    def forward(self, words: torch.Tensor, word_mask: torch.Tensor, visual: VisualTokens) -> torch.Tensor:
        scores = torch.einsum("bwh,bvh->bwv", self.query(words), self.key(visual.tokens)) * self.scale  # (b, w, v)
        scores = scores.masked_fill(~visual.mask.unsqueeze(1), -1e4)
        ctx = torch.einsum("bwv,bvd->bwd", torch.softmax(scores, -1), self.value(visual.tokens))  # (b, w, d)
        gate = torch.sigmoid(self.gate(torch.cat([words, ctx], -1)))  # (b, w, d)
        return words + self.dropout(gate * ctx)  # (b, w, d)
