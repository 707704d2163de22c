"""How a causal decoder reads a post, as a config choice (`model.encoder.reading`).

causal         one pass, left to right: a word's state has seen only the words before it.
repeat         the post twice in one row (prefix, post, post, suffix); word states are read from
               the second copy, whose every token has seen the whole post once ("echo embeddings",
               Springer et al. 2024). Costs twice the tokens; no change to the model.
bidirectional  the causal mask removed (LLM2Vec, BehnamGhader et al. 2024): every token attends to
               every real token. transformers 5.x builds a padding-only mask when the config says
               `is_causal=False`; the attention modules' own `is_causal` flag is cleared too, so
               sdpa never falls back to its causal kernel when there is no padding. The pretrained
               model never saw such a mask: LoRA has to adapt it.
"""

from __future__ import annotations

import torch
from torch import nn

from mner.modules.subword_featurizer import SubwordFeaturizer

READINGS = ("causal", "repeat", "bidirectional")


def make_bidirectional(base: nn.Module) -> None:
    base.config.is_causal = False
    for module in base.modules():
        if hasattr(module, "is_causal"):
            module.is_causal = False


class RepeatedFeaturizer:
    """A SubwordFeaturizer whose rows carry the post twice; word indices point into the second copy.

    The inner featurizer is built with half the row length, so a repeated row
    still fits the model's limit (long posts are chunked as before).
    """

    def __init__(self, inner: SubwordFeaturizer):
        self.inner = inner
        self.special = inner.special
        self.pooling = inner.pooling
        self.max_length = inner.max_length * 2

    def encoded_length(self, words: list[str], second: str | None = None) -> int:
        body = self.inner.encoded_length(words, second) - len(self.special.prefix) - len(self.special.suffix)
        return len(self.special.prefix) + 2 * body + len(self.special.suffix)

    def __call__(self, token_lists: list[list[str]], second: list[str | None] | None = None
                 ) -> dict[str, torch.Tensor]:
        once = self.inner(token_lists, second)
        ids, attention, types = once["input_ids"], once["attention_mask"], once["token_type_ids"]  # (r, s)
        p, q = len(self.special.prefix), len(self.special.suffix)
        lengths = attention.sum(1).tolist()
        bodies = [n - p - q for n in lengths]  # tokens between the prefix and the suffix, per row
        width = max(n + body for n, body in zip(lengths, bodies))
        rows = ids.new_full((ids.shape[0], width), self.special.pad_id)  # (r, s2)
        mask = attention.new_zeros(ids.shape[0], width)  # (r, s2)
        type_rows = types.new_zeros(ids.shape[0], width)  # (r, s2)
        for r, (n, body) in enumerate(zip(lengths, bodies)):
            copy = torch.cat([ids[r, : p + body], ids[r, p : n]])  # prefix, body, body, suffix
            rows[r, : n + body] = copy
            mask[r, : n + body] = 1
            type_rows[r, : n + body] = torch.cat([types[r, : p + body], types[r, p : n]])
        index = once["word_index"]  # (b, w, k) flat positions row * s + col in the single-copy rows
        seq = ids.shape[1]
        row, col = index // seq, index % seq
        shift = torch.tensor(bodies, dtype=torch.long)[row]  # (b, w, k) how far the second copy sits
        return {**once, "input_ids": rows, "attention_mask": mask, "token_type_ids": type_rows,
                "word_index": row * width + col + shift}
