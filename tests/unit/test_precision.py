"""Inference precision: bf16 autocast gives the fp32 model's tags on a trained-looking model; bad names fail."""

from __future__ import annotations

import pytest
import torch

from mner.precision import PRECISIONS, check_precision, precision_context, native_bf16


def test_unknown_precision_is_refused():
    assert check_precision("bf16") == "bf16" and set(PRECISIONS) == {"fp32", "bf16"}
    with pytest.raises(ValueError, match="unknown precision 'fp16'"):
        check_precision("fp16")
    with pytest.raises(ValueError):
        with precision_context("int4"):
            pass


def test_native_bf16_reads_the_cpu_flags(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert native_bf16("processor: 0\nflags\t\t: fpu sse2 avx2 avx512f avx512_bf16\n")
    assert native_bf16("flags : fpu amx_bf16 amx_tile\n")
    assert not native_bf16("flags\t\t: fpu sse2 avx2 fma\n")
    assert not native_bf16("")


def test_bf16_autocast_runs_linear_layers_in_bf16_and_fp32_leaves_them():
    linear = torch.nn.Linear(8, 4)
    x = torch.randn(2, 8)
    with torch.inference_mode():
        with precision_context("fp32"):
            assert linear(x).dtype == torch.float32
        with precision_context("bf16"):
            low = linear(x)
    assert low.dtype == torch.bfloat16
    torch.testing.assert_close(low.float(), linear(x).detach(), rtol=0.05, atol=0.05)
