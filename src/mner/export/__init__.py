"""Compressed copies of a trained model: dynamic int8 (torch), ONNX and int8 ONNX (onnxruntime).

    export_model("runs/twitter2017", "int8", "runs/twitter2017-int8")   # mner export RUN --to int8
    Tagger.load("runs/twitter2017-int8").predict("...")                # int8 Linear layers, fp32 rest
    export_model("runs/twitter2017", "onnx", "runs/twitter2017-onnx")   # mner export RUN --to onnx
    OnnxTagger.load("runs/twitter2017-onnx").predict("...")            # same spans as the torch model
    export_model("runs/twitter2017", "onnx-int8")                       # ONNX with onnxruntime's int8 MatMuls
    load_tagger(path)                                                  # whichever of the three `path` holds

What stays fp32 and why: `mner.export.int8` (int8) and `mner.export.onnx_export` (ONNX, ONNX int8).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from mner.export.int8 import Int8Linear, export_int8, maybe_quantize, quantize_model, quantized_modules

TARGETS = ("int8", "onnx", "onnx-int8")


def default_output(run_dir: str | Path, to: str) -> Path:
    """`runs/x` -> `runs/x-int8` (a sibling, so the source run is never touched)."""
    run_dir = Path(run_dir)
    return run_dir.with_name(f"{run_dir.name}-{to}")


def export_model(run_dir: str | Path, to: str, output: str | Path | None = None) -> Path:
    if to not in TARGETS:
        raise ValueError(f"unknown export target {to!r}; choose from {', '.join(TARGETS)}")
    output = Path(output) if output is not None else default_output(run_dir, to)
    if output.resolve() == Path(run_dir).resolve():
        raise ValueError("the export must go to a new directory, not over the model it is made from")
    _check_decoder_exportable(run_dir, to)
    if to == "int8":
        return export_int8(run_dir, output)
    from mner.export.onnx_export import export_onnx

    return export_onnx(run_dir, output, int8=to == "onnx-int8")


def _check_decoder_exportable(run_dir: str | Path, to: str) -> None:
    """A decoder LLM model exports to int8 once its adapters are merged (LoRA layers are not plain Linears);
    the ONNX graph is traced for encoders only."""
    from mner.model_files import read_json_object
    from mner.predict import resolve_model_dir

    source = resolve_model_dir(run_dir)
    encoder = (read_json_object(source / "config.json").get("model") or {}).get("encoder") or {}
    if encoder.get("name") != "encoder.hf_decoder.v1":
        return
    if to != "int8":
        raise ValueError(f"{source}: ONNX export traces encoder models; a decoder model (encoder.hf_decoder.v1) "
                         "exports --to int8 after --merge-adapters")
    if encoder.get("lora"):
        raise ValueError(f"{source}: merge the LoRA adapters first (mner export {run_dir} --merge-adapters), "
                         "then export the merged directory --to int8")


def load_tagger(path: str | Path, batch_size: int = 64, threads: int | None = None,
                precision: str = "fp32") -> Any:
    """A Tagger for a run folder, a model directory, an int8 export or an ONNX export."""
    from mner.precision_choice import PrecisionChoice
    from mner.predict import Tagger

    if (Path(path) / "onnx.json").exists():
        from mner.export.onnx_export import OnnxTagger

        if precision not in ("fp32", "auto"):
            raise ValueError(f"{path} is an ONNX export: it runs as exported (--precision fp32), not {precision}")
        tagger = OnnxTagger.load(path, batch_size=batch_size, threads=threads)
        spec = json.loads((Path(path) / "onnx.json").read_text(encoding="utf-8"))
        tagger.precision_choice = PrecisionChoice("onnx-int8" if spec.get("quantization") else "onnx",
                                                  "only candidate" if precision == "auto" else "explicit")
        return tagger
    return Tagger.load(path, batch_size=batch_size, precision=precision)


__all__ = ["TARGETS", "Int8Linear", "default_output", "export_int8", "export_model", "load_tagger",
           "maybe_quantize", "quantize_model", "quantized_modules"]
