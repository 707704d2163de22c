"""Word-shape features: casing and token kind as a small learned embedding.

Why: the offline encoder (all-MiniLM-L6-v2) is uncased, and casing is one
of the strongest cues for names in tweets ("Apple" vs "apple"). A tiny
embedding of each word's shape, concatenated to the word states, gives the
head that signal back at almost no cost.
"""

from __future__ import annotations

from functools import lru_cache

import torch
from torch import nn

from mner.data.tokenize import is_url

SHAPES = (
    "pad", "lower", "title", "upper", "mixed", "digit", "has_digit",
    "punct", "hashtag", "mention", "url", "emoji_or_other",
)


@lru_cache(maxsize=1 << 18)  # a pure function of the word; Zipf: most lookups are repeats
def word_shape(word: str) -> int:
    if not word:
        return SHAPES.index("emoji_or_other")
    if is_url(word):
        kind = "url"
    elif word[0] == "#" and len(word) > 1:
        kind = "hashtag"
    elif word[0] == "@" and len(word) > 1:
        kind = "mention"
    elif word.isdigit():
        kind = "digit"
    elif any(c.isdigit() for c in word):
        kind = "has_digit"
    elif all(not c.isalnum() for c in word):
        kind = "punct" if word.isascii() else "emoji_or_other"
    elif word.isupper() and len(word) > 1:
        kind = "upper"
    elif word[0].isupper() and (len(word) == 1 or word[1:].islower()):
        kind = "title"
    elif word.islower():
        kind = "lower"
    elif any(c.isupper() for c in word):
        kind = "mixed"
    else:
        kind = "emoji_or_other"  # scripts without case (CJK, Arabic, ...)
    return SHAPES.index(kind)


def shape_ids(token_lists: list[list[str]]) -> torch.Tensor:
    w = max(1, max(len(t) for t in token_lists))
    rows = [[word_shape(t) for t in tokens] + [0] * (w - len(tokens)) for tokens in token_lists]
    return torch.tensor(rows, dtype=torch.long).reshape(len(token_lists), w)  # (b, w), 0 = pad


class WordShapeEmbedding(nn.Module):
    def __init__(self, dim: int = 16):
        super().__init__()
        self.dim = dim
        self.embedding = nn.Embedding(len(SHAPES), dim, padding_idx=0)

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.embedding(ids)  # (b, w, dim)
