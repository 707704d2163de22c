"""RegionEncoder: detector regions (feature + box) -> tokens (b, k, d).

Each post keeps its `top_k` regions by score (all images together; no score
counts as 0, ties keep the post's order). A region token is

    LayerNorm(W_f feature + W_g geometry + E[image_index])

geometry = (x1/W, y1/H, x2/W, y2/H, w/W, h/H, area/(W*H), score, size_known, has_feature),
coordinates clipped to [0, 1].

Image size (W, H): boxes are pixels of the image they were detected on, so
the natural scale is that image's size. It comes from the image file's
header (`post.images[region.image_index]`, resolved under `image_root`;
no pixels decoded; width and height swapped when the EXIF orientation is
a 90-degree turn, matching `mner.data.images.load_image` and detectors that
read oriented pixels). When the file is absent or unreadable, the
fallback is the extent of that image's own boxes (max x2, max y2): a lower
bound of the true size, flagged by `size_known = 0` so the model can tell.
Sizes are memoised per path.

A region without a feature vector (e.g. boxes from annotations) gets zeros
and `has_feature = 0`. A post with no region gets a learned "no region"
token, so `mask[:, 0]` is always True.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image, UnidentifiedImageError
from torch import nn

from mner.data.images import registered_formats
from mner.modules.interfaces import VisualTokens
from mner.modules.visual.post_images import resolve

GEOMETRY = 10
EXIF_ORIENTATION = 0x0112
TURNED = {5, 6, 7, 8}  # EXIF orientations that rotate by 90 degrees: width and height swap


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) as `load_image` would return the pixels, read from the header only; None if unreadable."""
    try:
        with Image.open(path, formats=registered_formats()) as image:
            width, height = image.size
            try:
                turned = image.getexif().get(EXIF_ORIENTATION) in TURNED
            except Exception:  # noqa: BLE001 - malformed EXIF: load_image ignores the rotation too
                turned = False
    except (OSError, UnidentifiedImageError, ValueError, SyntaxError):
        return None
    return (height, width) if turned else (width, height)


class RegionEncoder(nn.Module):
    def __init__(
        self,
        feature_dim: int = 2048,
        output_dim: int = 256,
        top_k: int = 16,
        max_images: int = 4,
        image_root: str | Path | None = None,
        dropout: float = 0.1,
    ):
        super().__init__()
        self.feature_dim = feature_dim
        self.output_dim = output_dim
        self.top_k = top_k
        self.max_images = max_images
        self.image_root = Path(image_root) if image_root is not None else None
        self.feature_projection = nn.Linear(feature_dim, output_dim)
        self.geometry_projection = nn.Linear(GEOMETRY, output_dim)
        self.image_embedding = nn.Embedding(max_images, output_dim)
        self.norm = nn.LayerNorm(output_dim)
        self.dropout = nn.Dropout(dropout)
        self.no_region = nn.Parameter(torch.randn(output_dim) * 0.02)  # (d,)
        self._sizes: dict[str, tuple[int, int] | None] = {}

    def save_assets(self, directory: str | Path) -> None:
        """Nothing besides the weights: the constructor arguments (in the model config) rebuild it."""

    def _size(self, post: Any, index: int) -> tuple[int, int] | None:
        if index >= len(post.images):
            return None
        path = resolve(post.images[index], self.image_root)
        key = str(path)
        if key not in self._sizes:
            self._sizes[key] = image_size(path)
        return self._sizes[key]

    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]:
        """Reads `post.regions` (box, score, feature, image_index) and, for sizes, `post.images`.

        region_features (b, k, F) float32, region_geometry (b, k, 10), region_image (b, k),
        region_mask (b, k), has_region (b,).
        """
        chosen = []
        for post in posts:
            order = sorted(range(len(post.regions)), key=lambda i: -(post.regions[i].score or 0.0))
            chosen.append([post.regions[i] for i in order[: self.top_k]])
        b, k = len(posts), max(1, max((len(c) for c in chosen), default=1))
        features = torch.zeros(b, k, self.feature_dim)  # (b, k, F)
        geometry = torch.zeros(b, k, GEOMETRY)  # (b, k, 10)
        image = torch.zeros(b, k, dtype=torch.long)  # (b, k)
        mask = torch.zeros(b, k, dtype=torch.bool)  # (b, k)
        for i, (post, regions) in enumerate(zip(posts, chosen)):
            extent: dict[int, tuple[float, float]] = {}  # fallback size per image: the boxes' extent
            for r in post.regions:
                w, h = extent.get(r.image_index, (1.0, 1.0))
                extent[r.image_index] = (max(w, r.box[2]), max(h, r.box[3]))
            for j, region in enumerate(regions):
                size = self._size(post, region.image_index)
                width, height = size if size is not None else extent[region.image_index]
                geometry[i, j] = torch.tensor(box_geometry(region.box, width, height, region.score, size is not None,
                                                           region.feature is not None))
                if region.feature is not None:
                    vector = np.asarray(region.feature, dtype=np.float32).reshape(-1)
                    if vector.shape[0] != self.feature_dim:
                        raise ValueError(f"post {post.id!r}: region feature has {vector.shape[0]} values, "
                                         f"the RegionEncoder expects feature_dim={self.feature_dim}")
                    features[i, j] = torch.from_numpy(vector)
                image[i, j] = min(region.image_index, self.max_images - 1)
                mask[i, j] = True
        return {"region_features": features, "region_geometry": geometry, "region_image": image,
                "region_mask": mask, "has_region": mask[:, 0].clone()}

    def forward(self, features: dict[str, torch.Tensor]) -> VisualTokens:
        mask = features["region_mask"].bool()  # (b, k)
        dtype = self.norm.weight.dtype  # not a Linear: an int8 export swaps those for Int8Linear (no .weight)
        tokens = (self.feature_projection(features["region_features"].to(dtype))
                  + self.geometry_projection(features["region_geometry"].to(dtype))
                  + self.image_embedding(features["region_image"]))  # (b, k, d)
        tokens = self.dropout(self.norm(tokens))
        first = torch.zeros_like(mask)
        first[:, 0] = ~features["has_region"].bool()
        tokens = torch.where(first.unsqueeze(-1), self.no_region.expand_as(tokens), tokens)
        mask = mask | first
        return VisualTokens(tokens=tokens * mask.unsqueeze(-1), mask=mask)


def box_geometry(box: tuple[float, float, float, float], width: float, height: float, score: float | None,
                 size_known: bool, has_feature: bool) -> list[float]:
    width, height = max(float(width), 1.0), max(float(height), 1.0)
    x1, y1, x2, y2 = (min(max(v, 0.0), 1.0) for v in (box[0] / width, box[1] / height, box[2] / width, box[3] / height))
    w, h = max(x2 - x1, 0.0), max(y2 - y1, 0.0)
    return [x1, y1, x2, y2, w, h, w * h, float(score or 0.0), float(size_known), float(has_feature)]
