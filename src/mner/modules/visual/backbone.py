"""Any Hugging Face vision model as an image backbone: loading, and its output as tokens.

Loading: a hub id or a local directory. A dual-tower config (CLIP, SigLIP,
anything with a `vision_config`) gives its vision tower only: the model class
registered for the vision sub-config (`CLIPVisionModel`, `SiglipVisionModel`)
loads just those weights from the full checkpoint, so the text tower never
reaches memory. Anything else (ViT, ConvNeXt, ResNet, Swin, DINOv2) goes
through `AutoModel`. What gets saved is the backbone's own config (for CLIP
the vision sub-config), so `AutoModel.from_config` rebuilds the same class
offline and the state-dict keys match.

Preprocessing is the model's own `AutoImageProcessor`, always with the PIL
backend: it gives the same pixels with or without torchvision installed, so
cached features stay valid across environments (and torchvision is never
needed).

Outputs: `pooler_output` (b, d) or (b, d, 1, 1) when the model has one, else
the mean of the last hidden state; patch tokens are `last_hidden_state`
(b, n, d) as is, or a conv map (b, d, h, w) flattened to (b, h * w, d).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from PIL import Image
from torch import nn

TOKEN_MODES = ("pooled", "patches")


def load_image_processor(name_or_path: str | Path) -> Any:
    import transformers
    from transformers import AutoImageProcessor

    if int(transformers.__version__.split(".")[0]) >= 5:
        return AutoImageProcessor.from_pretrained(name_or_path, backend="pil")
    return AutoImageProcessor.from_pretrained(name_or_path, use_fast=False)  # 4.x: the slow one is PIL


def vision_config_of(config: Any) -> Any:
    """The vision part of a config: `vision_config` for dual towers, else the config itself."""
    sub = getattr(config, "vision_config", None)
    return sub if sub is not None else config


def load_vision_backbone(name_or_path: str | Path) -> nn.Module:
    """Pretrained vision weights; for CLIP/SigLIP-style checkpoints the vision tower only."""
    from transformers import AutoConfig, AutoModel
    from transformers.models.auto.modeling_auto import MODEL_MAPPING

    config = AutoConfig.from_pretrained(name_or_path)
    vision = vision_config_of(config)
    if vision is config:
        return AutoModel.from_pretrained(name_or_path, use_safetensors=True)  # never a pickled .bin
    tower = MODEL_MAPPING[type(vision)]  # e.g. CLIPVisionConfig -> CLIPVisionModel
    return tower.from_pretrained(name_or_path, use_safetensors=True)


def vision_backbone_from_config(directory: str | Path) -> nn.Module:
    """The architecture from a saved backbone config (random weights: the caller loads them)."""
    from transformers import AutoConfig, AutoModel

    return AutoModel.from_config(vision_config_of(AutoConfig.from_pretrained(directory)))


def backbone_tokens(backbone: nn.Module, pixel_values: torch.Tensor, mode: str) -> torch.Tensor:
    """(n, 3, H, W) pixels -> (n, t, d) backbone features: t = 1 for "pooled"."""
    output = backbone(pixel_values=pixel_values, return_dict=True)
    hidden = output.last_hidden_state  # (n, t, d) or (n, d, h, w)
    if hidden.dim() == 4:
        hidden = hidden.flatten(2).transpose(1, 2)  # (n, h * w, d)
    if mode == "patches":
        return hidden
    pooled = getattr(output, "pooler_output", None)
    if pooled is None:
        return hidden.mean(1, keepdim=True)  # (n, 1, d)
    return pooled.reshape(pooled.shape[0], 1, -1)  # (n, 1, d); ResNet pools to (n, d, 1, 1)


def backbone_width(backbone: nn.Module, processor: Any) -> int:
    """The backbone's feature size: from the config when it says, else measured on a blank image."""
    config = backbone.config
    width = getattr(config, "hidden_size", None)
    if isinstance(width, int) and width > 0:
        return width
    sizes = getattr(config, "hidden_sizes", None)
    if sizes:
        return int(sizes[-1])  # ConvNeXt / ResNet: the last stage
    pixels = processor(images=[Image.new("RGB", (64, 64))], return_tensors="pt")["pixel_values"]
    with torch.no_grad():
        return int(backbone_tokens(backbone, pixels, "pooled").shape[-1])
