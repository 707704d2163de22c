"""`mner export RUN_DIR --to int8`: an int8 copy of a saved model (the kernel: `mner.modules.int8_linear`).

The names below are re-exported for code that imported them from here.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from mner.modules.int8_linear import (FORMAT, INT8_DOT_FLAGS, MARKER, Int8Linear, choose_int8_kernel, maybe_quantize,
                                      quantize_model, quantized_modules)


def export_int8(run_dir: str | Path, output: str | Path) -> Path:
    """Write an int8 copy of the model in `run_dir` (a run folder or a model directory) to `output`."""
    from mner.checkpoint import atomic_directory, from_pretrained, write_model_files
    from mner.predict import resolve_model_dir

    source = resolve_model_dir(run_dir)
    model = from_pretrained(source)
    names = quantize_model(model)
    if not names:
        raise ValueError(f"{source}: the model has no nn.Linear layer to quantize")
    source_metrics = json.loads((source / "metrics.json").read_text(encoding="utf-8")) \
        if (source / "metrics.json").exists() else {}
    spec = {
        "format": FORMAT,
        "weights": "int8, symmetric, one scale per output channel",
        "activations": "quantized per row (token) at run time, symmetric 8-bit (dynamic)",
        "modules": names,
        "fp32": ["embeddings", "LayerNorm", "GELU", "attention scores and softmax", "CRF",
                 "nn.MultiheadAttention"],
        "exported_from": str(source),
        "torch": torch.__version__,
    }
    metrics = {"exported_from": str(source), "fp32_metrics": source_metrics,
               "note": "scores of the fp32 model; run `mner evaluate` on this directory for the int8 model's own"}

    def write(tmp: Path) -> None:
        write_model_files(model, tmp, metrics)
        (tmp / MARKER).write_text(json.dumps(spec, indent=2), encoding="utf-8")

    atomic_directory(Path(output), write)
    return Path(output)


__all__ = ["FORMAT", "INT8_DOT_FLAGS", "MARKER", "Int8Linear", "choose_int8_kernel", "export_int8", "maybe_quantize",
           "quantize_model", "quantized_modules"]
