"""CnnImageEncoder: a small AlexNet-style convolutional network trained from scratch with the tagger.

For users without a pretrained vision model (the thesis's image module): a
few blocks of conv -> (batch norm) -> ReLU -> max-pool, widths from the config,
then the feature map as visual tokens: `"pooled"` (global average, one token per
image) or `"patches"` (one token per cell of the last map, h * w of them).

Images are read as by `PixelEncoder` (same `Post.images`, `image_root`,
`max_images`, bad-image policy, `max_pixels`), squashed to `image_size` x
`image_size` (AlexNet's recipe: the whole picture, no crop). Features cannot be
cached (the network changes every step), but the decoded, resized pixels can:
with `cache_dir`, each image is decoded and resized once per cache, keyed by its
content (`FeatureCache`), instead of once per epoch; a full-size JPEG decode
costs far more than reading 3 x 64 x 64 values back.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch import nn

from mner.data.errors import ImageError
from mner.data.images import DEFAULT_MAX_PIXELS, load_image
from mner.modules.interfaces import VisualTokens
from mner.modules.visual.backbone import TOKEN_MODES
from mner.modules.visual.feature_cache import FeatureCache
from mner.modules.visual.image_tokens import scatter_to_posts
from mner.modules.visual.post_images import BadImageLog, ImageRef, read_post_images

# pixels are scaled to [0, 1] and centred with ImageNet's channel statistics (any fixed choice would do:
# the network learns from scratch; these keep the first layer's inputs near zero mean, unit variance)
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def conv_blocks(widths: list[int], first_kernel: int = 5, kernel: int = 3, batch_norm: bool = True) -> nn.Sequential:
    """(n, 3, S, S) -> (n, widths[-1], S / 2^k, S / 2^k): k blocks of conv, (BN), ReLU, 2x2 max-pool."""
    layers: list[nn.Module] = []
    channels = 3
    for i, width in enumerate(widths):
        size = first_kernel if i == 0 else kernel
        layers.append(nn.Conv2d(channels, width, size, padding=size // 2, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm2d(width))
        layers += [nn.ReLU(inplace=True), nn.MaxPool2d(2)]
        channels = width
    return nn.Sequential(*layers)


class CnnImageEncoder(nn.Module):
    """Images -> VisualTokens (b, v, output_dim); also per image via `encode_images` (a PerImageModule)."""

    def __init__(self, output_dim: int = 256, widths: list[int] | tuple[int, ...] = (32, 64, 128),
                 image_size: int = 64, first_kernel: int = 5, kernel: int = 3, batch_norm: bool = True,
                 tokens: str = "pooled", dropout: float = 0.1, max_images: int = 4,
                 cache_dir: str | Path | None = None, bad_image: str = "no-image",
                 image_root: str | Path | None = None, max_pixels: int = DEFAULT_MAX_PIXELS):
        super().__init__()
        widths = [int(w) for w in widths]
        if not widths or min(widths) < 1:
            raise ValueError(f"model.visual.widths must be a non-empty list of channel counts, not {widths}")
        if tokens not in TOKEN_MODES:
            raise ValueError(f"model.visual.tokens must be one of {TOKEN_MODES}, not {tokens!r}")
        if image_size < 2 ** len(widths):
            raise ValueError(f"model.visual.image_size {image_size} is too small for {len(widths)} pooling blocks "
                             f"(at least {2 ** len(widths)})")
        if max_images < 1:
            raise ValueError("model.visual.max_images must be at least 1")
        self.output_dim = output_dim
        self.image_size = image_size
        self.tokens = tokens
        self.max_images = max_images
        self.max_pixels = max_pixels
        self.image_root = Path(image_root) if image_root is not None else None
        self.bad_images = BadImageLog(policy=bad_image)
        self.network = conv_blocks(widths, first_kernel, kernel, batch_norm)
        self.dropout = nn.Dropout(dropout)
        self.projection = nn.Linear(widths[-1], output_dim)
        self.no_image = nn.Parameter(torch.randn(output_dim) * 0.02)  # (d,)
        self.register_buffer("mean", torch.tensor(MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(STD).view(1, 3, 1, 1), persistent=False)
        self.cache = None
        if cache_dir is not None:  # decoded pixels depend only on the resize: the fingerprint says which
            recipe = f"cnn-pixels:{image_size}:bicubic-squash:uint8".encode()
            self.cache = FeatureCache(cache_dir, f"cnn-pixels-{image_size}", "pixels",
                                      hashlib.sha256(recipe).hexdigest())

    def save_assets(self, directory: str | Path) -> None:
        """Nothing besides the weights: the config describes the whole network."""

    # ---- data path ----------------------------------------------------------------------------
    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]:
        """image_post (n,), image_slot (n,), has_image (b,), pixels (n, 3, S, S) uint8."""
        features, pixels = read_post_images(posts, self.image_root, self.max_images, self.bad_images, self._read)
        size = self.image_size
        features["pixels"] = torch.stack(pixels) if pixels else torch.zeros(0, 3, size, size, dtype=torch.uint8)
        return features

    def _read(self, ref: ImageRef) -> torch.Tensor | None:
        """(3, S, S) uint8 pixels, from the cache when it has them; None for a bad image (policy applied)."""
        try:
            digest = None
            if self.cache is not None:
                digest = self.cache.digest(ref.path)
                hit = self.cache.get(digest)
                if hit is not None and tuple(hit.shape) == (3, self.image_size, self.image_size):
                    return hit.to(torch.uint8)
            image = load_image(ref.path, max_pixels=self.max_pixels)
        except ImageError as err:
            self.bad_images.record(ref, err)
            return None
        pixels = self.resize(image)
        if self.cache is not None and digest is not None:
            self.cache.put(digest, pixels)
        return pixels

    def resize(self, image: Image.Image) -> torch.Tensor:
        """A decoded RGB image -> (3, S, S) uint8, squashed (no crop)."""
        small = image.resize((self.image_size, self.image_size), Image.Resampling.BICUBIC)
        return torch.from_numpy(np.asarray(small, dtype=np.uint8).copy()).permute(2, 0, 1)  # (3, S, S)

    # ---- tensors ------------------------------------------------------------------------------
    def encode_images(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image tokens (n, t, d) and mask (n, t)."""
        pixels = features["pixels"].to(self.projection.weight.device)  # (n, 3, S, S) uint8
        x = (pixels.float() / 255.0 - self.mean) / self.std  # (n, 3, S, S)
        if x.shape[0] == 0:
            width = self.projection.in_features
            maps = x.new_zeros(0, width, 1, 1)
        else:
            maps = self.network(x)  # (n, c, h, w)
        if self.tokens == "pooled":
            hidden = maps.mean(dim=(2, 3)).unsqueeze(1)  # (n, 1, c)
        else:
            hidden = maps.flatten(2).transpose(1, 2)  # (n, h * w, c)
        tokens = self.projection(self.dropout(hidden))  # (n, t, d)
        return tokens, torch.ones(tokens.shape[:2], dtype=torch.bool, device=tokens.device)

    def forward(self, features: dict[str, torch.Tensor]) -> VisualTokens:
        tokens, mask = self.encode_images(features)
        return scatter_to_posts(tokens, mask, features["image_post"], features["image_slot"], features["has_image"],
                                self.no_image)
