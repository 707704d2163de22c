"""`mner bench-modules`: training-step cost of the LoRA decoder vs MiniLM, and the CNN's cost per image."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def bench_modules(
    images: Optional[Path] = typer.Option(None, "--images", help="Image folder for the CNN rows "
                                          "(e.g. ../shared/data/images); none: text modules only."),
    text: Optional[list[str]] = typer.Option(None, "--text", help="minilm-l6 | decoder-tiny | qwen2.5-0.5b "
                                             "(repeatable; default all three)."),
    batch_size: int = typer.Option(8, "--batch-size", help="Posts per training step (every text module)."),
    words: int = typer.Option(30, "--words", help="Words per post (one subword each: the row length)."),
    steps: int = typer.Option(3, "--steps", help="Timed steps per text module (after one warm-up)."),
    lora_r: int = typer.Option(8, "--lora-r", help="LoRA rank of the decoders."),
    cnn_size: Optional[list[int]] = typer.Option(None, "--cnn-size", help="CNN image size (repeatable; "
                                                 "default 64 and 128)."),
    threads: Optional[int] = typer.Option(1, "--threads", help="torch threads."),
    output: Optional[Path] = typer.Option(None, "--output", help="Directory for modules.md and modules.json."),
) -> None:
    """What a LoRA decoder step costs beside a fine-tuned MiniLM step, and what the CNN costs per image."""
    import torch

    from mner.bench.module_cost import TEXT_MODULES, cnn_table, measure_cnn_cost, measure_step_cost, step_table
    from mner.checkpoint import atomic_write_text

    if threads:
        torch.set_num_threads(threads)
    try:
        step_rows = [measure_step_cost(name, batch_size, words, steps, lora_r, log=typer.echo)
                     for name in (text or list(TEXT_MODULES))]
        cnn_rows = [measure_cnn_cost(images, size, (32, 64, 128) if size <= 64 else (64, 128, 256))
                    for size in (cnn_size or [64, 128])] if images is not None else []
    except (FileNotFoundError, ValueError, OSError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    report = step_table(step_rows) + ("\n" + cnn_table(cnn_rows) if cnn_rows else "")
    typer.echo(report)
    if output is not None:
        atomic_write_text(output / "modules.md", report)
        atomic_write_text(output / "modules.json", json.dumps(
            {"text": [r.to_dict() for r in step_rows], "cnn": [r.to_dict() for r in cnn_rows]}, indent=2))
