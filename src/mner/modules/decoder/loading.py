"""Loading a decoder LLM's base weights and tokenizer: precision, quantization, padding.

Why `AutoModel` (the base model, no LM head): mner reads hidden states, never
next-token logits, and the head is the size of the vocabulary (a third of a
0.5B model).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import torch
from torch import nn

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
          "float16": torch.float16, "fp16": torch.float16}
QUANTIZATIONS = (None, "8bit", "4bit")


def torch_dtype(name: str) -> torch.dtype:
    if name not in DTYPES:
        raise ValueError(f"model.encoder.dtype must be one of {sorted(DTYPES)}, not {name!r}")
    return DTYPES[name]


def quantization_config(quantization: str | None, dtype: torch.dtype) -> Any:
    """A BitsAndBytesConfig for "8bit" / "4bit", None for full precision; a clear error without bitsandbytes."""
    if quantization not in QUANTIZATIONS:
        raise ValueError(f"model.encoder.quantization must be one of {QUANTIZATIONS}, not {quantization!r}")
    if quantization is None:
        return None
    if importlib.util.find_spec("bitsandbytes") is None:
        raise ValueError(f"model.encoder.quantization: {quantization} needs bitsandbytes "
                         "(pip install bitsandbytes; it needs a supported GPU); remove the key to load in "
                         "bf16/fp32 instead")
    from transformers import BitsAndBytesConfig

    if quantization == "8bit":
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_compute_dtype=dtype)


def load_base(name_or_path: str, dtype: torch.dtype, quantization: str | None = None) -> nn.Module:
    """Pretrained base weights (safetensors only: never a pickled .bin)."""
    from transformers import AutoModel

    options: dict[str, Any] = {"dtype": dtype, "use_safetensors": True}
    bnb = quantization_config(quantization, dtype)
    if bnb is not None:
        options["quantization_config"] = bnb
    try:
        return AutoModel.from_pretrained(name_or_path, **options)
    except OSError as err:
        raise OSError(f"cannot load the decoder base model {name_or_path!r}: {err}") from None


def base_from_config(directory: str | Path, dtype: torch.dtype) -> nn.Module:
    """The architecture only (random weights): a merged export's weights come from its model.safetensors."""
    from transformers import AutoConfig, AutoModel

    return AutoModel.from_config(AutoConfig.from_pretrained(directory), dtype=dtype)


def load_tokenizer(name_or_path: str | Path) -> Any:
    """The tokenizer, with a pad token: decoder tokenizers (Llama's) often have none.

    Padding goes on the right and every padded position is masked, so which
    token pads does not change a state; EOS (else UNK) is the conventional choice.
    """
    from transformers import AutoTokenizer

    try:  # byte-level BPE tokenizers need a prefix space to tokenize pre-split words
        tokenizer = AutoTokenizer.from_pretrained(name_or_path, add_prefix_space=True)
    except (TypeError, ValueError):
        tokenizer = AutoTokenizer.from_pretrained(name_or_path)
    if tokenizer.pad_token is None:
        fallback = tokenizer.eos_token or tokenizer.unk_token
        if fallback is None:
            raise ValueError(f"the tokenizer of {name_or_path} has no pad, eos or unk token to pad with")
        tokenizer.pad_token = fallback
    tokenizer.padding_side = "right"
    return tokenizer
