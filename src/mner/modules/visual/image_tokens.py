"""Per-image tokens -> per-post tokens: the layout every image-based visual module shares.

A per-image module (`PixelEncoder`) encodes the n usable images of a batch
as one flat stack `(n, t, d)`; `image_post` and `image_slot` say which post
each image belongs to and its position among that post's usable images.
`scatter_to_posts` lays them out as `(b, s * t, d)` (image 0's tokens, then
image 1's, ...), where s is the largest image count in the batch, and gives
each post without a usable image one learned "no image" token at position 0.
So `mask[:, 0]` is always True: attention over visual tokens never sees an
all-masked row (which would be NaN).
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

from mner.modules.interfaces import VisualTokens


class PerImageModule(Protocol):
    """A visual module that can also hand out its tokens image by image (what `MultiImageAggregator` wraps).

    `featurize` must include `image_post` (n,), `image_slot` (n,) and `has_image` (b,).
    """

    output_dim: int
    max_images: int

    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]: ...

    def encode_images(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]: ...

    def save_assets(self, directory: Any) -> None: ...


def scatter_to_posts(
    tokens: torch.Tensor,  # (n, t, d) tokens of every usable image in the batch
    mask: torch.Tensor,  # (n, t) True where a token is real
    image_post: torch.Tensor,  # (n,) post of each image
    image_slot: torch.Tensor,  # (n,) position of the image among its post's usable images
    has_image: torch.Tensor,  # (b,) True where the post has at least one usable image
    no_image: torch.Tensor,  # (d,) the learned "no image" token
) -> VisualTokens:
    b = has_image.shape[0]
    n, t, d = tokens.shape
    s = int(image_slot.max().item()) + 1 if n else 1
    index = (image_post.to(tokens.device), image_slot.to(tokens.device))
    grid = tokens.new_zeros(b, s, t, d).index_put(index, tokens)  # (b, s, t, d); index_put keeps autograd
    grid_mask = torch.zeros(b, s, t, dtype=torch.bool, device=tokens.device).index_put(index, mask.bool())
    flat = grid.reshape(b, s * t, d)  # (b, v, d)
    flat_mask = grid_mask.reshape(b, s * t)  # (b, v)
    first = torch.zeros_like(flat_mask)  # (b, v) where the "no image" token goes
    first[:, 0] = ~has_image.to(tokens.device).bool()
    flat = torch.where(first.unsqueeze(-1), no_image.to(flat.dtype).expand_as(flat), flat)
    return VisualTokens(tokens=flat, mask=flat_mask | first)
