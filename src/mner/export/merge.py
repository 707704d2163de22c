"""`mner export RUN_DIR --merge-adapters`: a decoder model's LoRA adapters folded into its base weights.

The source holds adapters only and names its base; the merged copy holds the
whole (merged) decoder and its config, so it loads and predicts without the
base model or PEFT, with the same predictions up to float rounding.
"""

from __future__ import annotations

import json
from pathlib import Path


def export_merged(run_dir: str | Path, output: str | Path) -> Path:
    """Write a merged copy of the decoder model in `run_dir` (a run folder or a model directory) to `output`."""
    from mner.checkpoint import atomic_directory, from_pretrained, write_model_files
    from mner.modules.decoder import HfDecoderEncoder
    from mner.predict import resolve_model_dir

    source = resolve_model_dir(run_dir)
    if Path(output).resolve() == Path(run_dir).resolve() or Path(output).resolve() == source.resolve():
        raise ValueError("the export must go to a new directory, not over the model it is made from")
    model = from_pretrained(source)
    encoder = model.text_encoder
    if not isinstance(encoder, HfDecoderEncoder) or encoder.lora is None:
        raise ValueError(f"{source}: --merge-adapters needs a model whose text module is encoder.hf_decoder.v1 "
                         "with LoRA adapters")
    if encoder.quantization is not None:
        raise ValueError(f"{source}: adapters on a {encoder.quantization} base cannot be merged exactly; "
                         "train on a bf16/fp32 base to export a merged model")
    model.text_encoder = encoder.merged_copy()
    model.config["model"]["encoder"] = {**model.config["model"]["encoder"], "lora": None}
    source_metrics = json.loads((source / "metrics.json").read_text(encoding="utf-8")) \
        if (source / "metrics.json").exists() else {}
    metrics = {**source_metrics, "exported_from": str(source), "merged_adapters": True}
    atomic_directory(Path(output), lambda tmp: write_model_files(model, tmp, metrics))
    return Path(output)
