"""Posts -> (n, D) pixel embeddings: the mean of the pooled features of each post's images.

The `image` key of a retrieval index (R-GCN's intra-modal graph looks images up by images). The
vision model is any one `model.visual` takes (a hub id or a local directory: ViT, CLIP's vision
tower, ResNet ...), frozen. A post with no usable image (none, missing, unreadable: the pixel path's
bad-image policy) gets a zero row: it does not enter a bank and gets no neighbours.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

IMAGE_KEY = "image"
log = logging.getLogger(__name__)


class ImageEmbedder:
    def __init__(self, encoder: str, max_images: int = 4, batch_size: int = 32, device: str | None = None):
        from mner.distributed.context import training_device
        from mner.modules.visual.pixels import PixelEncoder

        if not encoder or encoder == "minilm-l6":
            raise ValueError("the image key needs a vision encoder (a hub id or local directory of a ViT, "
                             "CLIP or ResNet checkpoint): name it as the index's encoder")
        self.name = encoder
        self.batch_size = batch_size
        # output_dim is unused: only the frozen backbone's pooled features are read
        self.pixels = PixelEncoder.from_name(encoder, tokens="pooled", frozen=True, max_images=max_images,
                                             output_dim=1, encode_batch_size=batch_size)
        self.pixels.to(training_device(device))  # the backbone encodes on its own device
        self.pixels.bad_images.warn_each = False  # embed_posts reports one summary instead

    @property
    def dim(self) -> int:
        return int(self.pixels.backbone_dim)

    def embed_posts(self, posts: list[Any], key: str = IMAGE_KEY,
                    progress: Callable[[int], None] | None = None) -> np.ndarray:
        out = np.zeros((len(posts), self.dim), dtype=np.float32)  # (n, D); zero = no usable image
        bad_before = len(self.pixels.bad_images.reasons)
        for start in range(0, len(posts), self.batch_size):
            chunk = posts[start:start + self.batch_size]
            features = self.pixels.featurize(chunk)
            per_image = features["image_features"][:, 0]  # (m, D) pooled: one token per image
            owner = features["image_post"]  # (m,) which post of the chunk each image belongs to
            sums = torch.zeros(len(chunk), self.dim).index_add_(0, owner, per_image)  # (c, D)
            counts = torch.zeros(len(chunk)).index_add_(0, owner, torch.ones(len(owner)))  # (c,)
            out[start:start + len(chunk)] = (sums / counts.clamp(min=1).unsqueeze(-1)).numpy()
            if progress is not None:
                progress(len(chunk))
        reasons = list(self.pixels.bad_images.reasons.items())[bad_before:]
        if reasons:  # one summary: a bank over a partial image set meets thousands of bad images
            path, reason = reasons[0]
            log.warning("%d image(s) of %d posts could not be read and were left out (the first: %s, %s)",
                        len(reasons), len(posts), path, reason)
        return out


def with_image(vectors: np.ndarray) -> np.ndarray:
    """(n,) bool: the rows of `embed_posts` whose post had a readable image (the others are zero)."""
    return np.any(vectors != 0, axis=1)
