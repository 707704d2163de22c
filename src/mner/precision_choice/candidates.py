"""Which precisions this host and this model can run: the candidates a calibration times.

fp32 always. bf16 (autocast) only where the CPU has bf16 dot products in hardware
(AVX512-BF16, AMX): elsewhere torch emulates it at a small fraction of the fp32 rate
(0.9 against 162 GFLOP/s measured on an AVX2 host, BENCHMARKS.md), so timing it would
only spend the calibration's seconds. int8 (per-token dynamic int8 Linear layers,
`mner.export.int8`) where the model has Linear layers to quantize and torch has an int8
kernel for this CPU (oneDNN `_int_mm` on VNNI/AMX, fbgemm on AVX2).

An int8 export is already int8: it has one candidate, so nothing is timed. On a GPU the
candidates are fp32 and bf16 (where the GPU supports it): the int8 path is CPU code.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from mner.cpu import cpu_flags
from mner.precision import NATIVE_BF16_FLAGS

CHOICES = ("fp32", "bf16", "int8")
AUTO = "auto"
# what each choice costs in accuracy: only a lossless candidate is chosen on a tie
LOSSLESS = ("fp32",)


def check_choice(precision: str) -> str:
    if precision not in (AUTO, *CHOICES):
        raise ValueError(f"unknown precision {precision!r}; choose from {', '.join((AUTO, *CHOICES))}")
    return precision


def is_int8_model(model: Any) -> bool:
    """True for a model loaded from an int8 export (its Linear layers are already Int8Linear)."""
    from mner.export.int8 import Int8Linear

    modules = getattr(model, "modules", None)
    return modules is not None and any(isinstance(m, Int8Linear) for m in modules())


def has_int8_kernel(flags: set[str]) -> bool:
    """fbgemm (AVX2) or oneDNN's `_int_mm` (VNNI/AMX): the kernels `Int8Linear` runs on."""
    from mner.export.int8 import INT8_DOT_FLAGS

    engines = set(torch.backends.quantized.supported_engines)
    return bool(engines & {"fbgemm", "x86"}) and "avx2" in flags or (
        hasattr(torch, "_int_mm") and bool(flags & set(INT8_DOT_FLAGS)))


def precision_candidates(model: Any, flags: set[str] | None = None) -> list[str]:
    """The precisions worth timing for `model` on this host, fp32 first."""
    if is_int8_model(model):
        return ["int8"]
    if not isinstance(model, nn.Module):  # an ONNX session runs as it was exported
        return ["fp32"]
    device = next((p.device for p in model.parameters()), torch.device("cpu"))
    if device.type != "cpu":  # int8 Linear is a CPU path; a GPU's bf16 is its own flag
        bf16 = device.type == "cuda" and torch.cuda.is_bf16_supported()
        return ["fp32", "bf16"] if bf16 else ["fp32"]
    flags = cpu_flags() if flags is None else flags
    candidates = ["fp32"]
    if flags & set(NATIVE_BF16_FLAGS):
        candidates.append("bf16")
    if has_int8_kernel(flags) and any(type(m) is nn.Linear for m in model.modules()):
        candidates.append("int8")
    return candidates
