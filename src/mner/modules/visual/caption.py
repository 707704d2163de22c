"""CaptionEncoder: the image as text (caption, OCR, knowledge ...) -> subword tokens (b, v, d).

Each named `post.visual_text` field in `fields` is tokenized as its own row
([CLS] text [SEP] for BERT) and run through a text encoder; a post's tokens
are the subword states of its fields, in `fields` order, special tokens left
out, each plus a learned field embedding (so fusion can tell a caption from
OCR), projected to `output_dim`. A post with none of the fields (or only
blank ones) gets a learned "no text" token, so `mask[:, 0]` is always True.

The text encoder is either the text side's own `HfTextEncoder`
(`shared=True`: one backbone, as in caption-concatenation models; it is kept
out of this module's parameters and state dict, so the MnerModel's
safetensors file holds it once, under the text encoder) or a separate one
(`from_name`, saved under `<dir>/caption_encoder/`). `frozen=True` runs the
visual-text rows without gradients (a separate encoder is also frozen for
good; a shared one keeps training through the text side).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mner.modules.hf_text_encoder import HfTextEncoder
from mner.modules.interfaces import VisualTokens

ASSETS = "caption_encoder"


class CaptionEncoder(nn.Module):
    def __init__(
        self,
        encoder: HfTextEncoder,
        output_dim: int = 256,
        fields: Sequence[str] = ("caption",),
        shared: bool = False,
        frozen: bool = False,
        max_length: int = 128,
    ):
        super().__init__()
        if not fields:
            raise ValueError("CaptionEncoder needs at least one visual_text field")
        self.fields = list(fields)
        self.shared = shared
        self.frozen = frozen
        self.output_dim = output_dim
        if shared:
            self._shared = [encoder]  # a plain list: not a submodule, so no duplicate weights in the state dict
        else:
            self.own_encoder = encoder
            if frozen:
                encoder.requires_grad_(False)
                encoder.eval()
        self.special = encoder.featurizer.special
        self.max_length = min(max_length, encoder.featurizer.max_length)
        self.projection = nn.Linear(encoder.hidden_size, output_dim)
        self.field_embedding = nn.Embedding(len(self.fields), output_dim)
        self.no_text = nn.Parameter(torch.randn(output_dim) * 0.02)  # (d,)

    @property
    def encoder(self) -> HfTextEncoder:
        return self._shared[0] if self.shared else self.own_encoder

    @classmethod
    def from_name(cls, name_or_path: str, **kwargs: Any) -> "CaptionEncoder":
        """A separate pretrained text encoder for the visual text."""
        return cls(HfTextEncoder.from_name(name_or_path), shared=False, **kwargs)

    @classmethod
    def from_saved(cls, directory: str | Path, shared_encoder: HfTextEncoder | None = None,
                   subdir: str = ASSETS, **kwargs: Any) -> "CaptionEncoder":
        """Shared: pass the rebuilt text encoder. Separate: rebuilt from `<dir>/<subdir>/`. Weights: the caller."""
        if shared_encoder is not None:
            return cls(shared_encoder, shared=True, **kwargs)
        return cls(HfTextEncoder.from_saved(Path(directory) / subdir), shared=False, **kwargs)

    def save_assets(self, directory: str | Path, subdir: str = ASSETS) -> None:
        if not self.shared:  # a shared encoder is saved by the text side
            self.encoder.save_assets(Path(directory) / subdir)

    def train(self, mode: bool = True) -> "CaptionEncoder":
        super().train(mode)
        if self.frozen and not self.shared:
            self.own_encoder.eval()
        return self

    # ---- data path ----------------------------------------------------------------------------
    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]:
        """Reads `post.visual_text[field]` for each field. CPU tensors out:

        caption_input_ids / caption_attention_mask (r, s): one row per present field;
        caption_index (b, v) flat row*s+col of each content subword; caption_field (b, v);
        caption_mask (b, v); has_text (b,).
        """
        sp = self.special
        room = max(1, self.max_length - len(sp.prefix) - len(sp.suffix))
        rows: list[list[int]] = []
        per_post: list[list[tuple[int, int, int]]] = []  # (row, col, field) of each content subword
        for post in posts:
            spots: list[tuple[int, int, int]] = []
            for f, name in enumerate(self.fields):
                text = (post.visual_text or {}).get(name) or ""
                ids = self.encoder.tokenizer(text, add_special_tokens=False)["input_ids"][:room] if text.strip() else []
                if not ids:
                    continue
                spots += [(len(rows), len(sp.prefix) + k, f) for k in range(len(ids))]
                rows.append(sp.prefix + ids + sp.suffix)
            per_post.append(spots)
        s = max((len(r) for r in rows), default=1)
        input_ids = torch.full((len(rows), s), sp.pad_id, dtype=torch.long)  # (r, s)
        attention = torch.zeros((len(rows), s), dtype=torch.long)  # (r, s)
        for i, row in enumerate(rows):
            input_ids[i, : len(row)] = torch.tensor(row)
            attention[i, : len(row)] = 1
        b, v = len(posts), max(1, max((len(p) for p in per_post), default=1))
        index = torch.zeros((b, v), dtype=torch.long)  # (b, v)
        field = torch.zeros((b, v), dtype=torch.long)  # (b, v)
        mask = torch.zeros((b, v), dtype=torch.bool)  # (b, v)
        for i, spots in enumerate(per_post):
            for j, (row, col, f) in enumerate(spots):
                index[i, j], field[i, j], mask[i, j] = row * s + col, f, True
        return {"caption_input_ids": input_ids, "caption_attention_mask": attention, "caption_index": index,
                "caption_field": field, "caption_mask": mask, "has_text": mask[:, 0].clone()}

    # ---- tensors ------------------------------------------------------------------------------
    def forward(self, features: dict[str, torch.Tensor]) -> VisualTokens:
        mask = features["caption_mask"].bool()  # (b, v)
        b, v = mask.shape
        ids = features["caption_input_ids"]  # (r, s)
        if ids.shape[0]:
            kwargs = {"input_ids": ids, "attention_mask": features["caption_attention_mask"]}
            if self.encoder.uses_token_types:
                kwargs["token_type_ids"] = torch.zeros_like(ids)
            with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
                hidden = self.encoder.backbone(**kwargs).last_hidden_state  # (r, s, D)
            flat = hidden.reshape(-1, hidden.shape[-1])  # (r*s, D)
            tokens = self.projection(flat[features["caption_index"]].to(self.projection.weight.dtype))  # (b, v, d)
        else:
            tokens = self.no_text.new_zeros(b, v, self.output_dim)
        tokens = tokens + self.field_embedding(features["caption_field"])  # (b, v, d)
        first = torch.zeros_like(mask)
        first[:, 0] = ~features["has_text"].bool()
        tokens = torch.where(first.unsqueeze(-1), self.no_text.expand_as(tokens), tokens)
        mask = mask | first
        return VisualTokens(tokens=tokens * mask.unsqueeze(-1), mask=mask)
