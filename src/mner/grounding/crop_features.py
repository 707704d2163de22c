"""Region features from a vision backbone over each crop: `mner data regions --features backbone`.

A detector's own per-box states (DETR decoder queries, OWL class embeddings) say what the
detector needed to place and label a box; a vision backbone run on the crop says what the
region looks like, in the space of any Hugging Face vision model (ViT, DINOv2, CLIP's or
SigLIP's vision tower, ConvNeXt, ...), the way VinVL features are the ResNeXt over each box.

Each box (xyxy pixels of the EXIF-oriented image, as the detector saw it) is cropped,
widened to at least one pixel, preprocessed by the backbone's own image processor (PIL
backend, like `mner.modules.visual.backbone`) and embedded:

    pooling "mean": the mean of the last hidden state's tokens (patches, or a conv map's cells)  (n, d)
    pooling "cls":  the first token of the last hidden state (ViT, CLIP, DINOv2: the class token) (n, d)

Loading takes a dual-tower checkpoint's vision tower only (`load_vision_backbone`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

POOLINGS = ("mean", "cls")


class CropEmbedder:
    """Boxes of one image -> one feature per box from a vision backbone."""

    def __init__(self, backbone: Any, processor: Any, name: str, pooling: str = "mean", batch_size: int = 16):
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {POOLINGS}, not {pooling!r}")
        self.backbone = backbone.eval()
        self.processor = processor
        self.name = name
        self.pooling = pooling
        self.batch_size = batch_size

    @classmethod
    def load(cls, name: str | Path, pooling: str = "mean") -> "CropEmbedder":
        from mner._quiet import quiet_transformers
        from mner.modules.visual.backbone import load_image_processor, load_vision_backbone

        quiet_transformers()
        try:
            backbone = load_vision_backbone(name)
            processor = load_image_processor(name)
        except (OSError, ValueError, KeyError) as err:
            raise ValueError(f"cannot load vision backbone {str(name)!r} (a hub name needs the network; or give a "
                             f"local folder): {err}") from None
        return cls(backbone, processor, str(name), pooling)

    @property
    def settings(self) -> dict[str, Any]:
        return {"features": "backbone", "backbone": self.name, "pooling": self.pooling}

    @torch.inference_mode()
    def __call__(self, image: Image.Image, boxes: np.ndarray) -> np.ndarray:
        """image (RGB), boxes (n, 4) xyxy pixels -> (n, d) float32."""
        crops = [image.crop(crop_window(box, image.size)) for box in boxes]
        out: list[np.ndarray] = []
        for start in range(0, len(crops), self.batch_size):
            pixels = self.processor(images=crops[start : start + self.batch_size], return_tensors="pt")["pixel_values"]
            out.append(self.pool(pixels).float().numpy())
        if not out:
            return np.zeros((0, self.width), dtype=np.float32)
        return np.concatenate(out).astype(np.float32)

    def pool(self, pixels: torch.Tensor) -> torch.Tensor:
        """(n, 3, H, W) -> (n, d)."""
        hidden = self.backbone(pixel_values=pixels, return_dict=True).last_hidden_state  # (n, t, d) | (n, d, h, w)
        if hidden.dim() == 4:
            if self.pooling == "cls":
                raise ValueError(f"{self.name} is convolutional (no class token): use --pooling mean")
            hidden = hidden.flatten(2).transpose(1, 2)  # (n, h * w, d)
        return hidden[:, 0] if self.pooling == "cls" else hidden.mean(1)  # (n, d)

    @property
    def width(self) -> int:
        from mner.modules.visual.backbone import backbone_width

        return backbone_width(self.backbone, self.processor)


def crop_window(box: np.ndarray | tuple[float, ...], size: tuple[int, int]) -> tuple[int, int, int, int]:
    """Integer (left, top, right, bottom) inside the image, at least one pixel wide and high: a detector's
    degenerate box (x1 == x2, or on the border) still gets a crop."""
    width, height = size
    left = min(max(int(np.floor(box[0])), 0), width - 1)
    top = min(max(int(np.floor(box[1])), 0), height - 1)
    right = max(min(int(np.ceil(box[2])), width), left + 1)
    bottom = max(min(int(np.ceil(box[3])), height), top + 1)
    return left, top, right, bottom
