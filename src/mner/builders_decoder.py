"""Config -> decoder LLM text module (`encoder.hf_decoder.v1`; the decoder side of `builders.py`).

model.encoder:
  name: encoder.hf_decoder.v1
  model: Qwen/Qwen2.5-0.5B          # hub id or local path of any decoder LLM
  layer: -1                         # hidden state read: -1 the last (after the final norm), 0 the embeddings
  pooling: last                     # first | last | mean subword of each word (last: it has read the word)
  reading: causal                   # causal | repeat | bidirectional (mner.modules.decoder.reading)
  lora: {r: 8, alpha: 16, dropout: 0.05, target_modules: [q_proj, v_proj]}   # null: frozen base, no adapters
  dtype: float32                    # float32 | bfloat16
  quantization: null                # 8bit | 4bit (needs bitsandbytes)
  max_length: 256
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from torch import nn

from mner._quiet import quiet_transformers
from mner.presets import resolve_model_name

OPTIONS = ("name", "model", "layer", "pooling", "reading", "lora", "dtype", "quantization", "max_length",
           "second_max_length", "url_placeholder")


def build_decoder_encoder(cfg: dict[str, Any], saved_dir: Path | None = None) -> nn.Module:
    from mner.modules.decoder import HfDecoderEncoder, LoraSettings

    unknown = sorted(set(cfg) - set(OPTIONS))
    if unknown:
        raise ValueError(f"model.encoder (encoder.hf_decoder.v1) has no option(s) {unknown}; it accepts {OPTIONS}")
    quiet_transformers()
    second_max = cfg.get("second_max_length")
    url = cfg.get("url_placeholder")
    options = {"layer": int(cfg.get("layer", -1)), "pooling": str(cfg.get("pooling", "last")),
               "reading": str(cfg.get("reading", "causal")), "max_length": int(cfg.get("max_length", 256)),
               "second_max_length": int(second_max) if second_max else None,
               "url_placeholder": str(url) if url is not None else None}
    if saved_dir is not None:
        return HfDecoderEncoder.from_saved(saved_dir, **options)
    if "model" not in cfg:
        raise ValueError("model.encoder.model: encoder.hf_decoder.v1 needs the decoder's hub id or local path")
    return HfDecoderEncoder.from_name(resolve_model_name(str(cfg["model"])), LoraSettings.from_config(cfg.get("lora")),
                                      str(cfg.get("dtype", "float32")), cfg.get("quantization"), **options)
