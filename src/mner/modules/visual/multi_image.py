"""MultiImageAggregator: several images per post, attended together (TPM-MI style).

Wraps a per-image module (`PerImageModule`, e.g. `PixelEncoder`): up to
`max_images` usable images per post (the wrapped module's cap, which this
sets), each image's tokens plus a learned image-position embedding, then a
small TransformerEncoder across all of the post's image tokens, so a token
of image 2 can attend to image 0. Padding is masked out of attention. A post
with no usable image gets this module's learned "no image" token (also run
through the encoder, alone), so `mask[:, 0]` is always True and no row of
attention is all-masked. The wrapped module's own "no image" token is not
used on this path.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from mner.modules.interfaces import VisualTokens
from mner.modules.visual.image_tokens import PerImageModule, scatter_to_posts


class MultiImageAggregator(nn.Module):
    def __init__(
        self,
        image_module: PerImageModule,
        max_images: int | None = None,
        num_layers: int = 1,
        num_heads: int = 4,
        dropout: float = 0.1,
        feedforward_dim: int | None = None,
    ):
        super().__init__()
        if not 1 <= num_layers <= 4:
            raise ValueError("num_layers should be small (1-4): this attends across a post's images")
        d = image_module.output_dim
        if d % num_heads:
            raise ValueError(f"output_dim {d} of the image module is not divisible by num_heads={num_heads}")
        if max_images is not None:
            image_module.max_images = max_images  # one cap for both: images beyond it are never encoded
        self.image_module = image_module
        self.output_dim = d
        self.max_images = image_module.max_images
        self.position = nn.Embedding(self.max_images, d)  # which image of the post a token comes from
        self.no_image = nn.Parameter(torch.randn(d) * 0.02)  # (d,)
        layer = nn.TransformerEncoderLayer(d, num_heads, feedforward_dim or 2 * d, dropout, batch_first=True)
        # nested tensors would return padded positions as zeros in eval but not in training; keep one path
        self.encoder = nn.TransformerEncoder(layer, num_layers, enable_nested_tensor=False)

    def save_assets(self, directory: str | Path) -> None:
        self.image_module.save_assets(directory)

    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]:
        return self.image_module.featurize(posts)

    def forward(self, features: dict[str, torch.Tensor]) -> VisualTokens:
        tokens, mask = self.image_module.encode_images(features)  # (n, t, d), (n, t)
        slot = features["image_slot"].to(tokens.device)  # (n,)
        tokens = tokens + self.position(slot).unsqueeze(1)  # (n, t, d)
        posts = scatter_to_posts(tokens, mask, features["image_post"], slot, features["has_image"], self.no_image)
        out = self.encoder(posts.tokens, src_key_padding_mask=~posts.mask)  # (b, v, d)
        return VisualTokens(tokens=out * posts.mask.unsqueeze(-1), mask=posts.mask)
