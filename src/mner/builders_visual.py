"""Config -> visual module and fusion (the image side of `builders.py`).

Visual modules (`model.visual.name`):
  visual.caption.v1  visual text (caption / ocr / knowledge fields) through a text encoder,
                     shared with the text side (`shared: true`, default) or its own (`model: ...`;
                     with `frozen: true` its states can be cached on disk: `cache_dir:`)
  visual.pixels.v1   any Hugging Face vision model (`model:`), pooled or patch tokens, frozen
                     features cached on disk (`cache_dir:`); `multi_image: {num_layers: 1}` adds
                     the TPM-MI image-position embedding + transformer across a post's images
  visual.regions.v1  region features + box geometry (VinVL npz attached as Post.regions)
Fusions (`model.fusion.name`): see `mner.modules.fusion.registry` / docs/fusion.md, plus
  fusion.visual_prompt.v1  visual tokens as prefix keys/values in every encoder layer
                           (TPM-MI / HVPNeT; `mner.modules.visual_prompt`)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from mner.presets import resolve_model_name

VISUALS = ("visual.caption.v1", "visual.pixels.v1", "visual.regions.v1",
           "visual.relation_graph.v1")  # the last is built by builders_retrieval (it needs the training posts)


def _options(cfg: dict[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in cfg.items() if k in allowed and v is not None}


def build_visual(cfg: dict[str, Any], text_encoder: nn.Module, saved_dir: Path | None = None) -> nn.Module:
    name = cfg.get("name")
    if name == "visual.caption.v1":
        from mner.modules.visual.caption import CaptionEncoder

        kw = _options(cfg, ("output_dim", "frozen", "max_length", "cache_dir", "encode_batch_size"))
        kw["fields"] = list(cfg.get("fields") or ["caption"])
        if cfg.get("shared", True):
            return CaptionEncoder(text_encoder, shared=True, **kw)
        if saved_dir is not None:
            return CaptionEncoder.from_saved(saved_dir, **kw)
        return CaptionEncoder.from_name(resolve_model_name(cfg.get("model", "minilm-l6")), **kw)
    if name == "visual.pixels.v1":
        from mner.modules.visual.multi_image import MultiImageAggregator
        from mner.modules.visual.pixels import PixelEncoder

        kw = _options(cfg, ("output_dim", "tokens", "frozen", "max_images", "cache_dir", "bad_image", "image_root",
                            "max_pixels", "encode_batch_size"))
        encoder = (PixelEncoder.from_saved(saved_dir, **kw) if saved_dir is not None
                   else PixelEncoder.from_name(resolve_model_name(cfg["model"]), **kw))
        if cfg.get("multi_image"):
            return MultiImageAggregator(encoder, **dict(cfg["multi_image"]))
        return encoder
    if name == "visual.regions.v1":
        from mner.modules.visual.regions import RegionEncoder

        return RegionEncoder(**_options(cfg, ("feature_dim", "output_dim", "top_k", "max_images", "image_root",
                                              "dropout")))
    raise ValueError(f"unknown visual module {name!r}; choose from {VISUALS}")


def build_fusion_module(cfg: dict[str, Any], text_dim: int, visual_dim: int) -> nn.Module:
    from mner.modules.fusion import build_fusion

    options = {k: v for k, v in cfg.items() if k != "name"}
    return build_fusion(cfg["name"], text_dim, visual_dim, **options)


def build_visual_prompt(cfg: dict[str, Any], text_encoder: nn.Module, visual_dim: int) -> nn.Module:
    from mner.modules.visual_prompt import VisualPrompt, enable_prefix_attention

    backbone = getattr(text_encoder, "backbone", None)
    if backbone is None:
        raise ValueError("fusion.visual_prompt.v1 needs a Hugging Face text encoder (encoder.hf.v1)")
    enable_prefix_attention(backbone)
    config = backbone.config
    return VisualPrompt(visual_dim, config.num_hidden_layers, config.num_attention_heads, config.hidden_size,
                        float(cfg.get("dropout", 0.1)))
