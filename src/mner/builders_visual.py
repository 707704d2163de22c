"""Config -> visual module and fusion (the image side of `builders.py`).

Visual modules (`model.visual.name`):
  visual.caption.v1  visual text (caption / ocr / knowledge fields) through a text encoder,
                     shared with the text side (`shared: true`, default) or its own (`model: ...`;
                     with `frozen: true` its states can be cached on disk: `cache_dir:`)
  visual.pixels.v1   any Hugging Face vision model (`model:`), pooled or patch tokens, frozen
                     features cached on disk (`cache_dir:`); `multi_image: {num_layers: 1}` adds
                     the TPM-MI image-position embedding + transformer across a post's images
  visual.regions.v1  region features + box geometry (VinVL npz attached as Post.regions)
  visual.cnn.v1      a small AlexNet-style CNN trained from scratch (`widths:`, `image_size:`), the same
                     images and policies as the pixel module; decoded pixels cached (`cache_dir:`);
                     `multi_image:` as for pixels
Fusions (`model.fusion.name`): see `mner.modules.fusion.registry` / docs/fusion.md, plus
  fusion.visual_prompt.v1  visual tokens as prefix keys/values in every encoder layer
                           (TPM-MI / HVPNeT; `mner.modules.visual_prompt`)
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from mner.presets import resolve_model_name

VISUALS = ("visual.caption.v1", "visual.pixels.v1", "visual.regions.v1", "visual.cnn.v1",
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
    if name == "visual.cnn.v1":
        from mner.modules.visual.cnn import CnnImageEncoder
        from mner.modules.visual.multi_image import MultiImageAggregator

        encoder = CnnImageEncoder(**_options(cfg, ("output_dim", "widths", "image_size", "first_kernel", "kernel",
                                                   "batch_norm", "tokens", "dropout", "max_images", "cache_dir",
                                                   "bad_image", "image_root", "max_pixels")))
        return MultiImageAggregator(encoder, **dict(cfg["multi_image"])) if cfg.get("multi_image") else encoder
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

    backbone = getattr(text_encoder, "base_model", None) or getattr(text_encoder, "backbone", None)
    if backbone is None:
        raise ValueError("fusion.visual_prompt.v1 needs a Hugging Face text encoder (encoder.hf.v1 or "
                         "encoder.hf_decoder.v1)")
    enable_prefix_attention(backbone)
    config = backbone.config
    # prefixes join the keys before any GQA repetition: the layer's key/value heads and head size
    kv_heads = int(getattr(config, "num_key_value_heads", None) or config.num_attention_heads)
    head_dim = int(getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads)
    return VisualPrompt(visual_dim, config.num_hidden_layers, kv_heads, kv_heads * head_dim,
                        float(cfg.get("dropout", 0.1)))
