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

A separate frozen encoder with `cache_dir` set computes each row's subword states
once, in `featurize`, and keeps them in a `FeatureCache` keyed by the row's token ids
and the encoder's weight fingerprint: visual text is then as cheap as a frozen image
feature, and training on a CPU no longer runs a second encoder pass per post and
epoch (a 64-subword knowledge row costs about three times the post itself).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mner.modules.hf_text_encoder import HfTextEncoder
from mner.modules.interfaces import VisualTokens
from mner.modules.visual.feature_cache import FeatureCache, model_fingerprint

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
        cache_dir: str | Path | None = None,
        model_id: str = "text-encoder",
        encode_batch_size: int = 64,
    ):
        super().__init__()
        if not fields:
            raise ValueError("CaptionEncoder needs at least one visual_text field")
        self.fields = list(fields)
        self.shared = shared
        self.frozen = frozen
        self.output_dim = output_dim
        if cache_dir is not None and (shared or not frozen):
            raise ValueError("cache_dir needs a separate frozen encoder (shared: false, frozen: true): "
                             "a trained encoder's states change every step")
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.model_id = model_id
        self.encode_batch_size = encode_batch_size
        self._cache: FeatureCache | None = None  # built on first use: the fingerprint needs the final weights
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
        # weights loaded after construction (from_saved + load_state_dict) change the fingerprint
        self.register_load_state_dict_post_hook(lambda module, _keys: setattr(module, "_cache", None))

    @property
    def encoder(self) -> HfTextEncoder:
        return self._shared[0] if self.shared else self.own_encoder

    @classmethod
    def from_name(cls, name_or_path: str, **kwargs: Any) -> "CaptionEncoder":
        """A separate pretrained text encoder for the visual text."""
        kwargs.setdefault("model_id", str(name_or_path))
        return cls(HfTextEncoder.from_name(name_or_path), shared=False, **kwargs)

    @classmethod
    def from_saved(cls, directory: str | Path, shared_encoder: HfTextEncoder | None = None,
                   subdir: str = ASSETS, **kwargs: Any) -> "CaptionEncoder":
        """Shared: pass the rebuilt text encoder. Separate: rebuilt from `<dir>/<subdir>/`. Weights: the caller."""
        if shared_encoder is not None:
            return cls(shared_encoder, shared=True, **kwargs)
        folder = Path(directory) / subdir
        info = folder / "caption_encoder.json"
        if info.exists():  # the model id names the feature-cache folder, so a reloaded model finds its states
            kwargs.setdefault("model_id", json.loads(info.read_text(encoding="utf-8"))["model_id"])
        return cls(HfTextEncoder.from_saved(folder), shared=False, **kwargs)

    def save_assets(self, directory: str | Path, subdir: str = ASSETS) -> None:
        if not self.shared:  # a shared encoder is saved by the text side
            folder = Path(directory) / subdir
            self.encoder.save_assets(folder)
            (folder / "caption_encoder.json").write_text(json.dumps({"model_id": self.model_id}), encoding="utf-8")

    def train(self, mode: bool = True) -> "CaptionEncoder":
        super().train(mode)
        if self.frozen and not self.shared:
            self.own_encoder.eval()
        return self

    @property
    def cache(self) -> FeatureCache | None:
        if self.cache_dir is None:
            return None
        if self._cache is None:
            fingerprint = model_fingerprint(self.encoder.backbone, None)
            self._cache = FeatureCache(self.cache_dir, self.model_id, f"text-states-{self.max_length}", fingerprint)
        return self._cache

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
        features = {"caption_input_ids": input_ids, "caption_attention_mask": attention, "caption_index": index,
                    "caption_field": field, "caption_mask": mask, "has_text": mask[:, 0].clone()}
        if self.cache is not None and rows:
            features["caption_hidden"] = self._cached_states(rows, input_ids, attention)  # (r, s, D)
        return features

    def _cached_states(self, rows: list[list[int]], input_ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """(r, s, D) frozen subword states of each row, from the cache or encoded now (misses only)."""
        cache = self.cache
        assert cache is not None
        digests = [hashlib.sha256(torch.tensor(row, dtype=torch.int64).numpy().tobytes()).hexdigest()
                   for row in rows]
        out = torch.zeros((len(rows), input_ids.shape[1], self.encoder.hidden_size))  # (r, s, D)
        misses = []
        for i, digest in enumerate(digests):
            hit = cache.get(digest)
            if hit is not None and hit.shape[0] == len(rows[i]):
                out[i, : len(rows[i])] = hit
            else:
                misses.append(i)
        device = next(self.encoder.backbone.parameters()).device
        for start in range(0, len(misses), self.encode_batch_size):
            chunk = misses[start: start + self.encode_batch_size]
            with torch.no_grad():
                hidden = self._backbone_states(input_ids[chunk].to(device), attention[chunk].to(device)).cpu()
            for k, i in enumerate(chunk):
                out[i, : len(rows[i])] = hidden[k, : len(rows[i])].float()
                cache.put(digests[i], out[i, : len(rows[i])].contiguous())
        return out

    def _backbone_states(self, ids: torch.Tensor, attention: torch.Tensor) -> torch.Tensor:
        """(r, s, D) last hidden states of visual-text rows (single segment: token type 0)."""
        kwargs = {"input_ids": ids, "attention_mask": attention}
        if self.encoder.uses_token_types:
            kwargs["token_type_ids"] = torch.zeros_like(ids)
        return self.encoder.backbone(**kwargs).last_hidden_state

    # ---- tensors ------------------------------------------------------------------------------
    def forward(self, features: dict[str, torch.Tensor]) -> VisualTokens:
        mask = features["caption_mask"].bool()  # (b, v)
        b, v = mask.shape
        ids = features["caption_input_ids"]  # (r, s)
        if ids.shape[0]:
            if "caption_hidden" in features:  # frozen states from featurize / the cache
                hidden = features["caption_hidden"]  # (r, s, D)
            else:
                with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
                    hidden = self._backbone_states(ids, features["caption_attention_mask"])  # (r, s, D)
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
