"""The machine: a description for the report, and its measured matmul ceilings.

Ceilings are measured, not looked up: the best of several timed square products on
the current torch thread count, i.e. what this process can get from this CPU now
(other jobs on the same cores lower it, which is why the report prints it next to
every speed figure instead of a datasheet peak).
  fp32: `torch.mm` of two n x n matrices, 2 n^3 FLOPs -> GFLOP/s
  bf16: the same product in bfloat16 (what bf16 autocast's matmuls can reach; fast only
        where the CPU has native bf16, see `mner.precision.native_bf16`)
  int8: a dynamic-quantized n -> n Linear on n rows (weights int8, activations quantized
        per call, int32 accumulation, fp32 out): 2 n^3 operations -> GOP/s; the rate the
        int8 export's Linear layers can reach.
"""

from __future__ import annotations

import os
import platform
import time
from pathlib import Path
from typing import Any

import torch


def _best_seconds(run: Any, repeats: int, warmup: int) -> float:
    for _ in range(warmup):
        run()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def matmul_gflops(n: int = 1024, repeats: int = 10, warmup: int = 2, dtype: torch.dtype = torch.float32) -> float:
    """Matmul ceiling (fp32 by default) on the current thread count, GFLOP/s (best of `repeats`)."""
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator).to(dtype)  # (n, n)
    b = torch.randn(n, n, generator=generator).to(dtype)  # (n, n)
    out = torch.empty(n, n, dtype=dtype)  # preallocated: time the product, not the allocator
    with torch.inference_mode():
        seconds = _best_seconds(lambda: torch.mm(a, b, out=out), repeats, warmup)
    return 2.0 * n**3 / seconds / 1e9


def int8_linear_gops(n: int = 1024, repeats: int = 10, warmup: int = 2) -> float:
    """Dynamic int8 Linear throughput (the int8 export's kernel), GOP/s (best of `repeats`)."""
    from mner.modules.int8_linear import Int8Linear, _quiet_quantization

    linear = torch.nn.Linear(n, n)
    with _quiet_quantization():
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic

        dynamic = quantize_dynamic(torch.nn.Sequential(linear), {torch.nn.Linear: per_channel_dynamic_qconfig},
                                   dtype=torch.qint8)[0]
    layer = Int8Linear.from_dynamic(dynamic)
    x = torch.randn(n, n, generator=torch.Generator().manual_seed(1))  # (n, n)
    with torch.inference_mode():
        seconds = _best_seconds(lambda: layer(x), repeats, warmup)
    return 2.0 * n**3 / seconds / 1e9


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _memory_gb() -> float | None:
    try:
        for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("MemTotal:"):
                return round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    return None


def _cpu_quota() -> float | None:
    """CPUs granted by the cgroup (containers), if limited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text(encoding="utf-8").split()[:2]
        return None if quota == "max" else round(int(quota) / int(period), 2)
    except (OSError, ValueError):
        return None


def _version(module: str) -> str | None:
    try:
        from importlib.metadata import version

        return version(module)
    except Exception:  # noqa: BLE001 - not installed
        return None


def machine_description() -> dict[str, Any]:
    from mner.precision import native_bf16

    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    capability = torch.backends.cpu.get_cpu_capability() if hasattr(torch.backends, "cpu") else None
    return {
        "cpu_model": _cpu_model(),
        "logical_cpus": os.cpu_count(),
        "usable_cpus": usable,
        "cgroup_cpu_quota": _cpu_quota(),
        "cpu_capability": capability,
        "memory_gb": _memory_gb(),
        "gpu": "none used (CPU benchmark)",
        # other jobs on the same cores lower every figure: say how busy the machine was
        "load_average_1m": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "torch": torch.__version__,
        "transformers": _version("transformers"),
        "onnxruntime": _version("onnxruntime"),
        "native_bf16": native_bf16(),
    }


def measure_ceilings(n: int = 1024, repeats: int = 10) -> dict[str, Any]:
    from mner.precision import native_bf16

    return {"matmul_n": n, "repeats": repeats, "threads": torch.get_num_threads(),
            "fp32_gflops": round(matmul_gflops(n, repeats), 2),
            "bf16_gflops": round(matmul_gflops(n, repeats, dtype=torch.bfloat16), 2), "native_bf16": native_bf16(),
            "int8_gops": round(int8_linear_gops(n, repeats), 2)}
