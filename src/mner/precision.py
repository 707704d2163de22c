"""Compute precision: fp32 (the default) or bf16 autocast, for inference and training.

(Training also has fp16, with loss scaling: `mner.training.mixed_precision`. Inference does
not: a model runs at PRECISIONS, whatever precision it was trained at.)

Why bf16: on CPUs with native bf16 dot products (AVX512-BF16, AMX) a bf16 matmul can
outrun fp32, and an encoder's time is its matmuls. Whether a model does on a given host
is measured, not assumed (`mner.precision_choice`, `precision="auto"`): one AVX512-BF16
host ran mner-text at 0.66x its fp32 speed, another at 1.1-2x. bf16 keeps fp32's
exponent range (so no overflow, no scaling) and an 8-bit mantissa; products accumulate
in fp32.

How: `torch.autocast` around the forward pass, nothing stored differently, so any saved
model (text-only, visual modules, fusions) runs in bf16 without an export step. Under
autocast the Linear layers, attention (`scaled_dot_product_attention`) and GELU run in
bf16; embedding lookups and softmax stay fp32; the CRF casts its emissions back to
fp32 (`CRF.viterbi`/`marginals`), so decoding is exactly the fp32 code on rounded
emissions.

Where bf16 is not native (AVX2-only CPUs), torch emulates it and it is slower than
fp32: `native_bf16()` says which case this machine is, and `mner bench` only measures
bf16 where it is native.
"""

from __future__ import annotations

import contextlib
from typing import Iterator

import torch

from mner.cpu import cpu_flags

PRECISIONS = ("fp32", "bf16")
# CPU flags (Linux /proc/cpuinfo) that give bf16 dot products in hardware
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def check_precision(precision: str) -> str:
    if precision not in PRECISIONS:
        raise ValueError(f"unknown precision {precision!r}; choose from {', '.join(PRECISIONS)}")
    return precision


def native_bf16(cpuinfo: str | None = None) -> bool:
    """True when this CPU computes bf16 dot products in hardware (or a CUDA GPU is present)."""
    if torch.cuda.is_available():
        return bool(torch.cuda.is_bf16_supported())
    flags = cpu_flags(cpuinfo)
    return any(flag in flags for flag in NATIVE_BF16_FLAGS)


@contextlib.contextmanager
def precision_context(precision: str, device: torch.device | str = "cpu") -> Iterator[None]:
    """Run the enclosed forward passes at `precision` (fp32: no change).

    Training (`train.precision: bf16`) wraps only the forward and loss: the weights, their
    gradients and AdamW's state stay fp32 (mixed precision), so no loss scaling is needed
    (bf16 has fp32's exponent range).
    """
    check_precision(precision)
    if precision == "fp32":
        yield
        return
    device_type = torch.device(device).type
    with torch.autocast(device_type=device_type, dtype=torch.bfloat16):
        yield
