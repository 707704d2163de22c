"""LoRA adapters on a frozen decoder through PEFT: settings, which weights are the adapters, merging.

Only the adapters train (PEFT freezes every base weight), so only they are
saved: a model directory holds a few MB of adapters and the base model's name,
never a copy of the base (`HfDecoderEncoder` drops the base from its state dict).
"""

from __future__ import annotations

import warnings
from dataclasses import asdict, dataclass
from typing import Any

from torch import nn

ADAPTER_MARK = "lora_"  # every PEFT LoRA tensor name contains it (lora_A, lora_B, lora_embedding_A, ...)


@dataclass(frozen=True)
class LoraSettings:
    r: int = 8
    alpha: float = 16.0
    dropout: float = 0.05
    target_modules: list[str] | str | None = None  # None: PEFT's default for the architecture (q_proj, v_proj)

    @classmethod
    def from_config(cls, cfg: dict[str, Any] | None) -> "LoraSettings | None":
        """`model.encoder.lora` -> settings; None/false means no adapters (the base stays frozen)."""
        if not cfg:
            return None
        if not isinstance(cfg, dict):
            raise ValueError("model.encoder.lora must be a mapping (r, alpha, dropout, target_modules) or null")
        unknown = sorted(set(cfg) - {"r", "alpha", "dropout", "target_modules"})
        if unknown:
            raise ValueError(f"model.encoder.lora has no option(s) {unknown}; it accepts r, alpha, dropout, "
                             "target_modules")
        targets = cfg.get("target_modules")
        settings = cls(int(cfg.get("r", 8)), float(cfg.get("alpha", 16.0)), float(cfg.get("dropout", 0.05)),
                       list(targets) if isinstance(targets, (list, tuple)) else targets)
        if settings.r < 1:
            raise ValueError(f"model.encoder.lora.r must be at least 1, not {settings.r}")
        return settings

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def add_adapters(base: nn.Module, settings: LoraSettings) -> nn.Module:
    """The base wrapped as a PeftModel with LoRA adapters; every base weight frozen."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError as err:
        raise ImportError("encoder.hf_decoder.v1 with lora needs PEFT: pip install 'mner[decoder]'") from err
    config = LoraConfig(r=settings.r, lora_alpha=settings.alpha, lora_dropout=settings.dropout,
                        target_modules=settings.target_modules, bias="none")
    try:
        with warnings.catch_warnings():  # PEFT asks about gradient checkpointing through a deprecated name
            warnings.simplefilter("ignore", FutureWarning)
            return get_peft_model(base, config)
    except ValueError as err:  # e.g. target modules PEFT cannot infer for an unknown architecture
        raise ValueError(f"model.encoder.lora: {err}") from None


def is_adapter_key(key: str) -> bool:
    return ADAPTER_MARK in key


def merge_adapters(adapted: nn.Module) -> nn.Module:
    """The plain base model with W + (alpha / r) B A folded into each adapted weight."""
    return adapted.merge_and_unload()
