"""Visual prompts in every encoder layer (TPM-MI, HVPNeT): visual tokens as prefix keys/values.

Each layer's self-attention sees, before the post's own keys and values, the
visual tokens projected (one projection per layer) into that layer's key and
value space: words attend to the image at every depth, while the image
tokens themselves are not updated by the text (prefix tuning).

How it reaches inside a Hugging Face encoder without copying its code: we
register an attention function `mner_prefix` with transformers'
`AttentionInterface` (and the sdpa mask builder under the same name) and
switch the encoder to it. The function reads the current prefixes from a
context variable, concatenates them to the layer's keys/values, extends the
attention mask with the visual mask, and calls the stock sdpa attention.
Outside `prompts_active(...)` it is exactly sdpa, so the same encoder runs
with or without prompts. Works for encoders whose layers use the attention
interface and carry `layer_idx` (BERT, RoBERTa, XLM-R, BERTweet; and decoder LLMs such as Llama and
Qwen2, whose prefixes have the layer's key/value heads, fewer than its query heads under GQA).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import torch
from torch import nn

from mner.modules.interfaces import VisualTokens

PREFIX_ATTENTION = "mner_prefix"
# (keys per layer (b, h, p, dh), values per layer (b, h, p, dh), prefix mask (b, p))
PrefixState = tuple[list[torch.Tensor], list[torch.Tensor], torch.Tensor]
_ACTIVE: ContextVar[PrefixState | None] = ContextVar("mner_visual_prefix", default=None)


def _prefix_attention(module: nn.Module, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
                      attention_mask: torch.Tensor | None, **kwargs: Any) -> Any:
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    state = _ACTIVE.get()
    if state is not None:
        keys, values, prefix_mask = state
        layer = module.layer_idx
        key = torch.cat([keys[layer].to(key.dtype), key], dim=2)  # (b, h, p + k, dh)
        value = torch.cat([values[layer].to(value.dtype), value], dim=2)  # (b, h, p + k, dh)
        b, _, q, _ = query.shape
        k_len = key.shape[2] - prefix_mask.shape[1]
        prefix = prefix_mask[:, None, None, :].expand(b, 1, q, prefix_mask.shape[1])  # (b, 1, q, p)
        if attention_mask is None:
            # no mask: every token may attend to every token, unless the layer is causal (a decoder
            # without padding), which sdpa would have enforced with is_causal: keep it explicit
            text = prefix.new_ones(b, 1, q, k_len)
            if getattr(module, "is_causal", False) and q == k_len:
                text = text & torch.ones(q, k_len, dtype=torch.bool, device=prefix.device).tril()
            attention_mask = torch.cat([prefix, text], dim=-1)
        elif attention_mask.dtype == torch.bool:
            attention_mask = torch.cat([prefix, attention_mask.expand(b, 1, q, k_len)], dim=-1)
        else:  # additive float mask
            blocked = torch.finfo(attention_mask.dtype).min
            additive = torch.zeros(prefix.shape, dtype=attention_mask.dtype, device=prefix.device)
            additive = additive.masked_fill(~prefix, blocked)
            attention_mask = torch.cat([additive, attention_mask.expand(b, 1, q, k_len)], dim=-1)
    return sdpa_attention_forward(module, query, key, value, attention_mask, **kwargs)


def enable_prefix_attention(backbone: nn.Module) -> None:
    """Switch a Hugging Face encoder to the prefix-aware attention (idempotent)."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface, sdpa_mask

    AttentionInterface.register(PREFIX_ATTENTION, _prefix_attention)
    AttentionMaskInterface.register(PREFIX_ATTENTION, sdpa_mask)
    if not hasattr(backbone, "set_attn_implementation"):
        raise ValueError(f"{type(backbone).__name__} does not support custom attention: no visual prompts")
    backbone.set_attn_implementation(PREFIX_ATTENTION)


@contextmanager
def prompts_active(state: PrefixState) -> Iterator[None]:
    token = _ACTIVE.set(state)
    try:
        yield
    finally:
        _ACTIVE.reset(token)


class VisualPrompt(nn.Module):
    """Visual tokens (b, v, dv) -> prefix keys and values for each of the encoder's layers."""

    def __init__(self, visual_dim: int, num_layers: int, num_heads: int, hidden_size: int, dropout: float = 0.1):
        super().__init__()
        if hidden_size % num_heads:
            raise ValueError(f"hidden size {hidden_size} is not divisible by {num_heads} heads")
        self.num_heads = num_heads
        self.head_dim = hidden_size // num_heads
        self.keys = nn.ModuleList(nn.Linear(visual_dim, hidden_size) for _ in range(num_layers))
        self.values = nn.ModuleList(nn.Linear(visual_dim, hidden_size) for _ in range(num_layers))
        self.dropout = nn.Dropout(dropout)

    def forward(self, visual: VisualTokens) -> PrefixState:
        tokens = self.dropout(visual.tokens)  # (b, v, dv)
        b, v, _ = tokens.shape

        def heads(x: torch.Tensor) -> torch.Tensor:
            return x.view(b, v, self.num_heads, self.head_dim).transpose(1, 2)  # (b, h, v, dh)

        keys = [heads(proj(tokens)) for proj in self.keys]
        values = [heads(proj(tokens)) for proj in self.values]
        return keys, values, visual.mask.bool()
