"""PixelEncoder: the post's images through a Hugging Face vision model, projected to `output_dim`.

`tokens="pooled"` gives one vector per image, `"patches"` the patch (or conv
map) tokens. A post's images are concatenated in order (image 0's tokens,
then image 1's ...); wrap the encoder in `MultiImageAggregator` to add image
positions and attention across images. A post with no usable image gets a
learned "no image" token (see `image_tokens.py`, `post_images.py` for the
bad-image policy).

Frozen (`frozen=True`, the default: CPU training): `featurize` runs the
backbone itself, without gradients, and returns backbone features, read
from / written to the `FeatureCache` when `cache_dir` is set, so each image
is encoded once per cache, not once per epoch; `forward` only projects.
Trainable (`frozen=False`): `featurize` returns pixels and `forward` runs
the backbone with gradients.

Saved assets (`save_assets`): the backbone config, the image processor and
the model id under `<dir>/<subdir>/`; `from_saved` rebuilds the architecture
offline from them; the weights come from the caller's one safetensors file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn

from mner.data.errors import ImageError
from mner.data.images import DEFAULT_MAX_PIXELS, load_image
from mner.modules.interfaces import VisualTokens
from mner.modules.visual.backbone import (
    TOKEN_MODES,
    backbone_tokens,
    backbone_width,
    load_image_processor,
    load_vision_backbone,
    vision_backbone_from_config,
)
from mner.modules.visual.feature_cache import FeatureCache, model_fingerprint
from mner.modules.visual.image_tokens import scatter_to_posts
from mner.modules.visual.post_images import BadImageLog, ImageRef, read_post_images

ASSETS = "pixel_encoder"  # default folder of this module's assets inside a saved model directory


class PixelEncoder(nn.Module):
    """Images -> VisualTokens (b, v, output_dim); also per image via `encode_images` (see PerImageModule)."""

    def __init__(
        self,
        backbone: nn.Module,
        processor: Any,
        output_dim: int = 256,
        tokens: str = "pooled",
        frozen: bool = True,
        max_images: int = 4,
        cache_dir: str | Path | None = None,
        model_id: str = "vision-model",
        bad_image: str = "no-image",
        image_root: str | Path | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        encode_batch_size: int = 32,
    ):
        super().__init__()
        if tokens not in TOKEN_MODES:
            raise ValueError(f"tokens must be one of {TOKEN_MODES}, not {tokens!r}")
        if max_images < 1:
            raise ValueError("max_images must be at least 1")
        self.backbone = backbone
        self.processor = processor
        self.tokens = tokens
        self.frozen = frozen
        self.max_images = max_images
        self.output_dim = output_dim
        self.model_id = model_id
        self.image_root = Path(image_root) if image_root is not None else None
        self.max_pixels = max_pixels
        self.encode_batch_size = encode_batch_size
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.bad_images = BadImageLog(policy=bad_image)
        self.backbone_dim = backbone_width(backbone, processor)
        self.projection = nn.Linear(self.backbone_dim, output_dim)
        self.no_image = nn.Parameter(torch.randn(output_dim) * 0.02)  # (d,)
        self._cache: FeatureCache | None = None  # built on first use: the fingerprint needs the final weights
        if frozen:
            self.backbone.requires_grad_(False)
            self.backbone.eval()
        # weights loaded after construction (from_saved + load_state_dict) change the fingerprint
        self.register_load_state_dict_post_hook(lambda module, _keys: setattr(module, "_cache", None))

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_name(cls, name_or_path: str | Path, **kwargs: Any) -> "PixelEncoder":
        """Pretrained weights and processor from a hub id or a local directory."""
        kwargs.setdefault("model_id", str(name_or_path))
        return cls(load_vision_backbone(name_or_path), load_image_processor(name_or_path), **kwargs)

    @classmethod
    def from_saved(cls, directory: str | Path, subdir: str = ASSETS, **kwargs: Any) -> "PixelEncoder":
        """Architecture from saved assets (offline); the caller loads the weights."""
        folder = Path(directory) / subdir
        info = json.loads((folder / "pixel_encoder.json").read_text(encoding="utf-8"))
        kwargs.setdefault("model_id", info["model_id"])
        backbone = vision_backbone_from_config(folder / "backbone_config")
        return cls(backbone, load_image_processor(folder / "image_processor"), **kwargs)

    def save_assets(self, directory: str | Path, subdir: str = ASSETS) -> None:
        """What `from_saved` needs besides the weights."""
        folder = Path(directory) / subdir
        folder.mkdir(parents=True, exist_ok=True)
        self.backbone.config.save_pretrained(folder / "backbone_config")
        self.processor.save_pretrained(folder / "image_processor")
        info = {"model_id": self.model_id, "backbone": type(self.backbone).__name__, "tokens": self.tokens}
        (folder / "pixel_encoder.json").write_text(json.dumps(info, indent=2), encoding="utf-8")

    def train(self, mode: bool = True) -> "PixelEncoder":
        super().train(mode)
        if self.frozen:
            self.backbone.eval()  # a frozen backbone never runs dropout, and cached features stay valid
        return self

    @property
    def cache(self) -> FeatureCache | None:
        if self.cache_dir is None or not self.frozen:
            return None
        if self._cache is None:
            fingerprint = model_fingerprint(self.backbone, self.processor)
            self._cache = FeatureCache(self.cache_dir, self.model_id, self.tokens, fingerprint)
        return self._cache

    # ---- data path ----------------------------------------------------------------------------
    def featurize(self, posts: list[Any]) -> dict[str, torch.Tensor]:
        """Reads `post.images` (paths, relative ones under `image_root`); CPU tensors out.

        Always: image_post (n,), image_slot (n,), has_image (b,). Frozen: image_features (n, t, D)
        and image_token_mask (n, t), D the backbone width. Trainable: pixel_values (n, 3, H, W).
        """
        features, payloads = read_post_images(posts, self.image_root, self.max_images, self.bad_images, self._read)
        if self.frozen:
            features.update(self._frozen_features(payloads))
        else:
            features["pixel_values"] = self._pixels([p for _, p in payloads])
        return features

    def _read(self, ref: ImageRef) -> tuple[str | None, Image.Image | torch.Tensor] | None:
        """(content digest, cached features or decoded image), or None for a bad image (policy applied)."""
        try:
            cache = self.cache
            digest = None
            if cache is not None:
                digest = cache.digest(ref.path)
                hit = cache.get(digest)
                if hit is not None and hit.dim() == 2 and hit.shape[-1] == self.backbone_dim:
                    return digest, hit
            return digest, load_image(ref.path, max_pixels=self.max_pixels)
        except ImageError as err:
            self.bad_images.record(ref, err)
            return None

    def _pixels(self, images: list[Image.Image]) -> torch.Tensor:
        if not images:
            return torch.zeros(0, 3, 1, 1)
        return self.processor(images=images, return_tensors="pt")["pixel_values"]  # (n, 3, H, W)

    @torch.no_grad()
    def _encode(self, images: list[Image.Image]) -> list[torch.Tensor]:
        """Frozen backbone features per image, (t, D) float32 on CPU; batches of encode_batch_size."""
        device = next(self.backbone.parameters()).device
        dtype = next(self.backbone.parameters()).dtype
        out: list[torch.Tensor] = []
        for start in range(0, len(images), self.encode_batch_size):
            pixels = self._pixels(images[start : start + self.encode_batch_size]).to(device, dtype)
            out.extend(backbone_tokens(self.backbone, pixels, self.tokens).float().cpu())  # (t, D) each
        return out

    def _frozen_features(self, payloads: list[tuple[str | None, Any]]) -> dict[str, torch.Tensor]:
        todo = [i for i, (_, p) in enumerate(payloads) if isinstance(p, Image.Image)]
        first: dict[str, int] = {}  # digest -> the payload encoded for it: one encoding per content per batch
        unique = [i for i in todo if payloads[i][0] is None or first.setdefault(payloads[i][0], i) == i]
        encoded = dict(zip(unique, self._encode([payloads[i][1] for i in unique])))
        per_image: list[torch.Tensor] = [p for _, p in payloads]
        cache = self.cache
        for i in todo:
            digest = payloads[i][0]
            per_image[i] = encoded[i] if i in encoded else encoded[first[digest]]
            if cache is not None and digest is not None and i in encoded:
                cache.put(digest, encoded[i])
        t = max((f.shape[0] for f in per_image), default=1)
        stacked = torch.zeros(len(per_image), t, self.backbone_dim)  # (n, t, D) padded at the end
        mask = torch.zeros(len(per_image), t, dtype=torch.bool)  # (n, t)
        for i, f in enumerate(per_image):
            stacked[i, : f.shape[0]] = f
            mask[i, : f.shape[0]] = True
        return {"image_features": stacked, "image_token_mask": mask}

    # ---- tensors ------------------------------------------------------------------------------
    def encode_images(self, features: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-image tokens (n, t, d) and mask (n, t)."""
        if "image_features" in features:
            hidden = features["image_features"]  # (n, t, D) from featurize / the cache
            mask = features["image_token_mask"].bool()  # (n, t)
        else:
            pixels = features["pixel_values"]  # (n, 3, H, W)
            if pixels.shape[0] == 0:
                hidden = pixels.new_zeros(0, 1, self.backbone_dim)
            else:
                dtype = next(self.backbone.parameters()).dtype
                with torch.set_grad_enabled(torch.is_grad_enabled() and not self.frozen):
                    hidden = backbone_tokens(self.backbone, pixels.to(dtype), self.tokens)  # (n, t, D)
            mask = torch.ones(hidden.shape[:2], dtype=torch.bool, device=hidden.device)
        return self.projection(hidden.to(self.projection.weight.dtype)), mask  # (n, t, d)

    def forward(self, features: dict[str, torch.Tensor]) -> VisualTokens:
        tokens, mask = self.encode_images(features)
        return scatter_to_posts(tokens, mask, features["image_post"], features["image_slot"], features["has_image"],
                                self.no_image)
