"""HfDecoderEncoder: a decoder LLM's hidden states as word states `(b, w, d)`, adapted with LoRA.

What is saved (`encoder.hf_decoder.v1`): the adapters, in the model's one
safetensors file (a state-dict hook drops every base weight), and under
`decoder/` the base model's name or path, the LoRA settings and the
tokenizer; `from_saved` loads the base again by that name and the caller loads
the adapters. A merged export (`mner export --merge-adapters`) is the other
kind: no adapters, the base's (merged) weights in the safetensors file and its
config under `decoder/config/`, so it loads without the original base.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
from torch import nn

from mner.modules.decoder.loading import base_from_config, load_base, load_tokenizer, torch_dtype
from mner.modules.decoder.lora import LoraSettings, add_adapters, is_adapter_key, merge_adapters
from mner.modules.decoder.reading import READINGS, RepeatedFeaturizer, make_bidirectional
from mner.modules.hf_text_encoder import gather_word_states
from mner.modules.subword_featurizer import SubwordFeaturizer

ASSETS = "decoder"  # folder of this module's assets inside a saved model directory


class HfDecoderEncoder(nn.Module):
    """Encodes posts into word states `(b, w, d)` with a (LoRA-adapted) decoder LLM."""

    def __init__(self, base: nn.Module, tokenizer: Any, base_name: str, lora: LoraSettings | None = None,
                 layer: int = -1, pooling: str = "last", reading: str = "causal", max_length: int = 256,
                 second_max_length: int | None = None, url_placeholder: str | None = None,
                 dtype: str = "float32", quantization: str | None = None, merged: bool = False):
        super().__init__()
        if reading not in READINGS:
            raise ValueError(f"model.encoder.reading must be one of {READINGS}, not {reading!r}")
        if merged and lora is not None:
            raise ValueError("a merged decoder has no adapters: lora must be null")
        num_layers = int(base.config.num_hidden_layers)
        if not -num_layers - 1 <= layer <= num_layers:
            raise ValueError(f"model.encoder.layer {layer} is outside this model's hidden states "
                             f"(0 = embeddings .. {num_layers} = last layer, or -1)")
        base.requires_grad_(False)  # the base is frozen; adapters (added next) are the only trained weights
        if reading == "bidirectional":
            make_bidirectional(base)
        self.backbone = add_adapters(base, lora) if lora is not None else base
        self.tokenizer = tokenizer
        self.base_name = base_name
        self.lora = lora
        self.layer = layer
        self.reading = reading
        self.dtype_name = dtype
        self.quantization = quantization
        self.merged = merged
        self.hidden_size = int(base.config.hidden_size)
        self.uses_token_types = False  # decoders have no segment embeddings
        length = max_length // 2 if reading == "repeat" else max_length  # a repeated row holds the post twice
        featurizer = SubwordFeaturizer(tokenizer, length, pooling, second_max_length, url_placeholder)
        self.featurizer = RepeatedFeaturizer(featurizer) if reading == "repeat" else featurizer
        # the base is loaded by name, never saved: drop it from the state dict, forgive it missing on load
        self._base_keys = set() if merged else {k for k in self.backbone.state_dict() if not is_adapter_key(k)}
        self.register_state_dict_post_hook(_drop_base_weights)
        self.register_load_state_dict_post_hook(_forgive_missing_base)

    # ---- construction -------------------------------------------------------------------------
    @classmethod
    def from_name(cls, name_or_path: str, lora: LoraSettings | None = None, dtype: str = "float32",
                  quantization: str | None = None, **options: Any) -> "HfDecoderEncoder":
        """Pretrained base weights from a hub id or a local directory, fresh adapters."""
        base = load_base(name_or_path, torch_dtype(dtype), quantization)
        return cls(base, load_tokenizer(name_or_path), str(name_or_path), lora, dtype=dtype,
                   quantization=quantization, **options)

    @classmethod
    def from_saved(cls, directory: Path, **options: Any) -> "HfDecoderEncoder":
        """The base again (by the saved name, or a merged export's architecture); weights: the caller."""
        folder = Path(directory) / ASSETS
        info_path = folder / "decoder.json"
        if not info_path.exists():
            raise FileNotFoundError(f"{info_path} is missing: not a model saved with encoder.hf_decoder.v1")
        info = json.loads(info_path.read_text(encoding="utf-8"))
        dtype = info.get("dtype", "float32")
        tokenizer = load_tokenizer(folder / "tokenizer")
        lora = LoraSettings(**info["lora"]) if info.get("lora") else None
        options = {**options, "dtype": dtype, "quantization": info.get("quantization"), "lora": lora}
        if info.get("merged"):
            base = base_from_config(folder / "config", torch_dtype(dtype))
            return cls(base, tokenizer, info["base"], merged=True, **{**options, "lora": None})
        try:
            base = load_base(info["base"], torch_dtype(dtype), info.get("quantization"))
        except OSError as err:
            raise OSError(f"{err} (a model saved with encoder.hf_decoder.v1 holds only its adapters: the base "
                          f"it was trained on must be reachable under the same name, or export it with "
                          f"`mner export RUN --merge-adapters`)") from None
        return cls(base, tokenizer, info["base"], **options)

    def save_assets(self, directory: Path) -> None:
        folder = Path(directory) / ASSETS
        folder.mkdir(parents=True, exist_ok=True)
        self.tokenizer.save_pretrained(folder / "tokenizer")
        if self.merged:
            self.base_model.config.save_pretrained(folder / "config")
        info = {"base": self.base_name, "lora": self.lora.to_dict() if self.lora else None, "dtype": self.dtype_name,
                "quantization": self.quantization, "merged": self.merged,
                "model_type": self.base_model.config.model_type, "reading": self.reading, "layer": self.layer}
        (folder / "decoder.json").write_text(json.dumps(info, indent=2), encoding="utf-8")

    @property
    def base_model(self) -> nn.Module:
        """The transformers model (inside the PEFT wrapper when there are adapters)."""
        return self.backbone.get_base_model() if self.lora is not None else self.backbone

    def merged_copy(self) -> "HfDecoderEncoder":
        """A new encoder with the adapters folded into the base weights (this one is left unusable)."""
        if self.lora is None:
            raise ValueError("this decoder has no LoRA adapters to merge")
        base = merge_adapters(self.backbone)
        featurizer = self.featurizer.inner if isinstance(self.featurizer, RepeatedFeaturizer) else self.featurizer
        max_length = featurizer.max_length * (2 if self.reading == "repeat" else 1)
        return HfDecoderEncoder(base, self.tokenizer, self.base_name, None, self.layer, featurizer.pooling,
                                self.reading, max_length, featurizer.second_max_length, featurizer.url_placeholder,
                                self.dtype_name, self.quantization, merged=True)

    def trained_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters() if p.requires_grad)

    # ---- data path and tensors ----------------------------------------------------------------
    def featurize(self, token_lists: list[list[str]], second: list[str | None] | None = None) -> dict:
        return self.featurizer(token_lists, second)

    def forward(self, features: dict[str, torch.Tensor]) -> torch.Tensor:
        outputs = self.backbone(input_ids=features["input_ids"], attention_mask=features["attention_mask"],
                                output_hidden_states=self.layer != -1, use_cache=False)
        hidden = outputs.last_hidden_state if self.layer == -1 else outputs.hidden_states[self.layer]  # (r, s, d)
        return gather_word_states(hidden.float(), features)  # (b, w, d) fp32 for the head, whatever the base


def _drop_base_weights(module: HfDecoderEncoder, state: dict, prefix: str, _metadata: Any) -> None:
    start = prefix + "backbone."
    for key in [k for k in state if k.startswith(start) and k[len(start):] in module._base_keys]:
        del state[key]


def _forgive_missing_base(module: HfDecoderEncoder, incompatible: Any) -> None:
    # keys arrive with the full prefix from the root module; the base weights came from load_base
    missing = incompatible.missing_keys
    for key in [k for k in missing if ".backbone." in f".{k}" and k.split("backbone.", 1)[1] in module._base_keys]:
        missing.remove(key)
