"""Int8Linear and the quantization of a model's Linear layers (written by `mner export RUN_DIR --to int8`).

Lives among the modules, not in `mner.export`, because loading a model needs it
(`checkpoint.from_pretrained` calls `maybe_quantize`) and `mner.export` needs loading:
kept here, checkpoint -> int8 never reaches the export package (no import circle).

What is quantized: every `nn.Linear` of the model (the encoder's Q/K/V/output and
feed-forward projections, the tagging head's emission projection, and any fusion or
visual projection). Weights become int8 with one scale per output channel
(per-channel, symmetric); activations are quantized at run time with one scale per
row, i.e. per token (dynamic: no calibration data), multiplied in int8 with int32
accumulation (`torch._int_mm`: oneDNN's VNNI/AMX kernels on x86) and dequantized back
to fp32. That is where ~all of an encoder's FLOPs are (see `mner.bench.flops`), so this
is where int8 buys speed.

Why per-token activation scales: torch's stock dynamic Linear (`quantize_dynamic`,
fbgemm) uses one scale for the whole batch, in 7 bits on x86. BERT-style encoders have
a few tokens with activations tens of times larger than the rest ([CLS], [SEP], rare
words after GELU), and one scale sized for them rounds every other token coarsely: on
Twitter-2017 dev that cost 1.8 F1 (84.75 -> 82.96). One 8-bit scale per token costs
0.06 (84.69) at the same speed.

What stays fp32, and why:
  * embeddings (subword, position, type, word shape): a lookup, not a multiply, so
    int8 would save disk and memory but no time; quantized embeddings need an op
    (`quantized::embedding_bag_byte`) that Hugging Face's embedding layers do not call.
    It is also the biggest single tensor (11.7M of MiniLM-L6's 22.7M parameters), so
    the file shrinks ~1.5x (91 -> 60 MB for MiniLM-L6), not 4x.
  * LayerNorm, GELU, residual adds: element-wise; LayerNorm needs the full range to
    normalise, and their cost is memory traffic, not arithmetic.
  * attention scores and mixing (QK^T, softmax, PV): activation x activation products
    inside scaled-dot-product attention; dynamic quantization only covers
    weight x activation (`nn.Linear`), and softmax's exponentials need float range.
  * the CRF: transition scores with -10000 penalties for forbidden BIO moves, and
    Viterbi / forward-backward in log space; int8 cannot hold that range, and the cost
    (words x labels^2 per post) is negligible.
  * `nn.MultiheadAttention` (cross-attention fusion): its fused in-projection is a raw
    parameter, not an `nn.Linear`, and torch marks its out-projection non-quantizable.

On disk, without pickle: `Int8Linear` keeps its weight as plain int8 / float64 / int64
buffers (`weight_int8`, `weight_scale`, `weight_zero_point`) plus the fp32 `bias`, so
the usual `model.safetensors` holds the int8 weights and `quantization.json`
names the quantized modules. On load, `maybe_quantize` swaps those `nn.Linear`s for
empty `Int8Linear`s before the state dict is loaded (the hook in
`checkpoint.from_pretrained`); the transposed copy the kernel wants is made on the
first forward (milliseconds), never stored.

Kernels (`choose_int8_kernel`, one per process, `MNER_INT8_KERNEL` overrides): on CPUs
with int8 dot-product instructions (VNNI, AMX) `torch._int_mm` (oneDNN) multiplies the
per-token int8 activations directly; on AVX2-only CPUs `_int_mm` runs a slow reference
loop, so there each row is divided by its own max first and fbgemm's AVX2 dynamic
Linear (`quantized::linear_dynamic`, which quantizes its input with one scale) does the
product; the row max is multiplied back after. Both are per-token quantization.

Torch status: the export uses `torch.ao.quantization.quantize_dynamic` to round the
weights, and the fbgemm path its kernels (deprecated in favour of torchao, not a
dependency here; they ship in torch 2.13). Only `_pack` and `forward` touch them, so a
move to torchao changes those two methods and nothing saved on disk.
"""

from __future__ import annotations

import json
import os
import warnings
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import torch
from torch import nn

from mner.cpu import cpu_flags

# CPU flags with int8 dot-product instructions, where oneDNN's `torch._int_mm` is fast;
# without them (AVX2-only CPUs) `_int_mm` falls back to a slow reference loop (2 GOP/s
# measured here, against ~120 GFLOP/s fp32) and fbgemm's AVX2 kernel is the fast one.
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8")


def choose_int8_kernel(cpuinfo: str | None = None) -> str:
    """"int_mm" (oneDNN, VNNI/AMX CPUs) or "fbgemm" (everything else); MNER_INT8_KERNEL overrides."""
    forced = os.environ.get("MNER_INT8_KERNEL")
    if forced:
        if forced not in ("int_mm", "fbgemm"):
            raise ValueError(f"MNER_INT8_KERNEL={forced!r}: choose int_mm or fbgemm")
        return forced
    if not hasattr(torch, "_int_mm"):
        return "fbgemm"
    return "int_mm" if cpu_flags(cpuinfo) & set(INT8_DOT_FLAGS) else "fbgemm"


INT8_KERNEL = choose_int8_kernel()
MARKER = "quantization.json"
FORMAT = "mner.int8-dynamic.v1"


@contextmanager
def _quiet_quantization() -> Iterator[None]:
    """Silence torch's deprecation notices for torch.ao quantization (see module docstring)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.ao\.quantization.*")
        warnings.filterwarnings("ignore", message=r".*quantize_per_tensor.*")
        warnings.filterwarnings("ignore", message=r".*quantize_per_channel.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning, module=r"torch\.ao\..*")
        yield


class Int8Linear(nn.Module):
    """A Linear layer with int8 per-channel weights; inputs and outputs stay fp32. Inference only."""

    def __init__(self, in_features: int, out_features: int, bias: bool = True):
        super().__init__()
        self.in_features = in_features
        self.out_features = out_features
        # plain tensors, so the state dict goes to safetensors as it is
        self.register_buffer("weight_int8", torch.zeros(out_features, in_features, dtype=torch.int8))  # (out, in)
        self.register_buffer("weight_scale", torch.ones(out_features, dtype=torch.float64))  # (out,)
        self.register_buffer("weight_zero_point", torch.zeros(out_features, dtype=torch.int64))  # (out,)
        self.register_buffer("bias", torch.zeros(out_features) if bias else None)  # (out,) fp32
        self._packed: Any = None  # (kernel, its weight form), rebuilt from the buffers on first use

    @classmethod
    def from_dynamic(cls, quantized: nn.Module) -> "Int8Linear":
        """From a `torch.ao.nn.quantized.dynamic.Linear` made by `quantize_dynamic`."""
        weight = quantized.weight()  # per-channel qint8 tensor (out, in)
        bias = quantized.bias()
        layer = cls(quantized.in_features, quantized.out_features, bias is not None)
        layer.weight_int8.copy_(weight.int_repr())
        layer.weight_scale.copy_(weight.q_per_channel_scales())
        layer.weight_zero_point.copy_(weight.q_per_channel_zero_points())
        if bias is not None:
            layer.bias.copy_(bias.detach())
        return layer

    def _load_from_state_dict(self, *args: Any, **kwargs: Any) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._packed = None  # new weights: the packed copy is stale

    def _pack(self, kernel: str) -> Any:
        if kernel == "int_mm":
            # (in, out) int8 view for `torch._int_mm` (as fast as a contiguous copy), fp32 channel scales
            return self.weight_int8.t(), self.weight_scale.float()
        with _quiet_quantization():
            # int8 * scale is exact in fp32 for |q| <= 128, so re-quantizing with the same scales
            # returns the same integers (checked in tests/bench/test_int8_export.py). No bias in
            # the packed op: it is added after the per-row rescale below.
            real = self.weight_int8.float() * self.weight_scale.float().unsqueeze(1)  # (out, in)
            qweight = torch.quantize_per_channel(real, self.weight_scale, self.weight_zero_point, 0, torch.qint8)
            return torch.ops.quantized.linear_prepack(qweight, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        kernel = INT8_KERNEL  # read per call, so tests can switch kernels
        if self._packed is None or self._packed[0] != kernel:
            self._packed = (kernel, self._pack(kernel))
        packed = self._packed[1]
        rows = x.reshape(-1, self.in_features).float()  # (m, in)
        # one scale per row (per token), not per tensor: a few outlier tokens ([CLS], [SEP],
        # a rare word's huge GELU activations) would otherwise set the step for every row.
        # Measured on Twitter-2017 dev: per-tensor 7-bit cost 1.8 F1, per-row 0.06.
        row_max = rows.abs().amax(-1, keepdim=True).clamp_(min=1e-12)  # (m, 1)
        if kernel == "int_mm":
            weight_t, weight_scale = packed  # (in, out) int8, (out,)
            row_scale = row_max / 127.0  # (m, 1)
            q = torch.mul(rows, 1.0 / row_scale).round_().to(torch.int8)  # (m, in), |q| <= 127
            acc = torch._int_mm(q, weight_t)  # (m, out) int32: exact int8 x int8 products (VNNI / AMX kernels)
            out = acc.float().mul_(row_scale).mul_(weight_scale)  # (m, out) dequantized, in place
        else:
            # fbgemm quantizes its input with one scale per call; dividing each row by its own
            # max first makes every row span [-1, 1], so that one scale is right for all rows
            # (per-token quantization), and the row's max is multiplied back afterwards.
            # reduce_range: 7-bit activations, as torch's dynamic Linear does on x86, so
            # fbgemm's u8 x s8 pair sums cannot saturate int16 on AVX2.
            unit = rows / row_max  # (m, in) in [-1, 1]
            out = torch.ops.quantized.linear_dynamic(unit, packed, True).mul_(row_max)  # (m, out)
        if self.bias is not None:
            out.add_(self.bias)
        return out.reshape(*x.shape[:-1], self.out_features).to(x.dtype)  # (..., out)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, int8 per-channel"


def _set_submodule(root: nn.Module, name: str, module: nn.Module) -> None:
    parent_name, _, attr = name.rpartition(".")
    parent = root.get_submodule(parent_name) if parent_name else root
    setattr(parent, attr, module)


def quantize_model(model: nn.Module) -> list[str]:
    """Quantize every `nn.Linear` of `model` in place; return the quantized module names."""
    from torch.ao.nn.quantized.dynamic import Linear as DynamicLinear
    from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

    model.eval()
    encoder = getattr(model, "text_encoder", None)
    if getattr(encoder, "lora", None) is not None and hasattr(encoder, "merged_copy"):
        # a decoder's LoRA layers wrap their Linears (PEFT reads `.weight`): fold them in first; inference only
        model.text_encoder = encoder.merged_copy()
    with _quiet_quantization():
        # exact-type match: subclasses (MultiheadAttention's out_proj) are left alone
        quantize_dynamic(model, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True)
        names = [name for name, m in model.named_modules() if isinstance(m, DynamicLinear)]
        for name in names:
            _set_submodule(model, name, Int8Linear.from_dynamic(model.get_submodule(name)))
    return names


def maybe_quantize(model: nn.Module, directory: str | Path) -> nn.Module:
    """The load hook: if `directory` holds an int8 export, swap its Linear layers for empty Int8Linears.

    Call between building the fp32 architecture and loading the state dict; the state
    dict then fills the int8 buffers. A directory without `quantization.json` is left as is.
    """
    marker = Path(directory) / MARKER
    if not marker.exists():
        return model
    spec = json.loads(marker.read_text(encoding="utf-8"))
    if spec.get("format") != FORMAT:
        raise ValueError(f"{marker}: unknown quantization format {spec.get('format')!r} (this mner reads {FORMAT})")
    for name in spec["modules"]:
        linear = model.get_submodule(name)
        if type(linear) is not nn.Linear:
            raise ValueError(f"{marker}: {name} is a {type(linear).__name__}, not the nn.Linear it was exported from")
        _set_submodule(model, name, Int8Linear(linear.in_features, linear.out_features, linear.bias is not None))
    return model


def quantized_modules(model: nn.Module) -> list[str]:
    return [name for name, m in model.named_modules() if isinstance(m, Int8Linear)]
