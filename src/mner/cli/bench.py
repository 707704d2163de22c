"""`mner bench` and `mner export`: parse, call `mner.bench` / `mner.export`, print.

Registered in cli/main.py with `app.command()(bench)` and `app.command()(export)`.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import NoReturn, Optional

import typer


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def bench(
    quick: bool = typer.Option(False, "--quick", help="Tiny random encoder and generated posts: a smoke test in "
                                                      "seconds (its numbers mean nothing)."),
    data_train: Optional[Path] = typer.Option(None, "--data-train", help="Training posts (default: the configs')."),
    data_dev: Optional[Path] = typer.Option(None, "--data-dev", help="Dev posts (default: the configs')."),
    encoder: Optional[str] = typer.Option(None, "--encoder", help="Preset, hub id or local path (default minilm-l6)."),
    epochs: Optional[int] = typer.Option(None, "--epochs", help="Epochs for every system (default 5; quick 3)."),
    output_dir: Optional[Path] = typer.Option(None, "--output-dir",
                                              help="Where bench.md/json/png go (default runs/bench[-quick])."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch / onnxruntime threads (default: torch's)."),
    text_config: Path = typer.Option(Path("configs/twitter2017/text_minilm.yaml"), "--text-config",
                                     help="mner's text-only config (full mode)."),
    mm_config: Optional[Path] = typer.Option(Path("configs/twitter2017/context_knowledge_minilm.yaml"), "--mm-config",
                                             help="mner's multimodal config (full mode); 'none' skips it."),
    b1_posts: Optional[int] = typer.Option(None, "--b1-posts", help="Posts timed one by one (default 200; quick 8)."),
    repeats: Optional[int] = typer.Option(None, "--repeats", help="Batch-64 passes, median kept (default 3; quick 1)."),
    rounds: Optional[int] = typer.Option(None, "--rounds", help="Rounds of timing every system in turns for "
                                         "posts/s, median kept (default 9; quick 2)."),
    bf16: bool = typer.Option(True, "--bf16/--no-bf16", help="Also time the mner systems under bf16 autocast "
                                                            "(only where the CPU has native bf16)."),
    text_run: Optional[Path] = typer.Option(None, "--text-run", help="A finished `mner train` run (e.g. a distilled "
                                            "student) measured as mner-text instead of training one."),
    remeasure: bool = typer.Option(False, "--remeasure", help="Keep the peer and mner systems an earlier run with "
                                   "the same settings trained in --output-dir (and their training figures); "
                                   "export and measure again, e.g. on a quieter machine."),
) -> None:
    """Benchmark mner against a plain Hugging Face fine-tune: F1, training time, speed, memory, size, int8, ONNX."""
    from mner.bench import BenchOptions, run_bench

    if quick and encoder:
        _fail("--quick uses a tiny random encoder; drop --encoder or --quick")
    if mm_config is not None and str(mm_config).lower() == "none":
        mm_config = None
    options = BenchOptions(quick=quick, output_dir=output_dir, encoder=encoder or "minilm-l6", epochs=epochs,
                           data_train=data_train, data_dev=data_dev, text_config=text_config, mm_config=mm_config,
                           threads=threads, b1_posts=b1_posts, repeats=repeats, bf16=bf16, remeasure=remeasure,
                           rounds=rounds, text_run=text_run)
    given = {"--data-train": data_train, "--data-dev": data_dev, "--encoder": encoder, "--epochs": epochs,
             "--output-dir": output_dir, "--threads": threads, "--b1-posts": b1_posts, "--repeats": repeats,
             "--rounds": rounds, "--text-run": text_run}
    if not quick:
        given.update({"--text-config": text_config, "--mm-config": mm_config})
    if not bf16:
        given["--no-bf16"] = True
    if remeasure:
        given["--remeasure"] = True
    # the report's "Reproduce" line: this command, rebuilt from what was parsed
    options.command = " ".join(["mner bench", *(["--quick"] if quick else []),
                                *(flag if value is True else f"{flag} {shlex.quote(str(value))}"
                                  for flag, value in given.items() if value)])
    try:
        result = run_bench(options, log=typer.echo)
    except (FileExistsError, FileNotFoundError, ValueError, ImportError) as err:
        _fail(str(err))
    for row in result["systems"]:
        typer.echo(f"{row['name']:<16} F1 {row['f1']:6.2f}  {row['posts_per_s_b64']:9.1f} posts/s (b64)  "
                   f"p50 {row['p50_ms_b1']:7.2f} ms (b1)  {row['size_mb']:8.1f} MB")


def export(
    run_dir: Path = typer.Argument(..., help="Run folder or model directory."),
    to: Optional[str] = typer.Option(None, "--to", help="int8 (dynamic int8 Linear layers, torch), onnx "
                                     "(onnxruntime) or onnx-int8 (onnxruntime's dynamic int8 MatMuls)."),
    output: Optional[Path] = typer.Option(None, "--output", help="Directory to write (default RUN_DIR-<to>)."),
    merge_adapters: bool = typer.Option(False, "--merge-adapters", help="A decoder model (encoder.hf_decoder.v1): "
                                        "fold its LoRA adapters into the base; writes RUN_DIR-merged."),
) -> None:
    """Export a trained model as dynamic int8 (loads with Tagger.load) or ONNX / int8 ONNX (OnnxTagger)."""
    from mner.bench.speed import size_mb
    from mner.export import export_model
    from mner.predict import resolve_model_dir

    if merge_adapters == (to is not None):
        _fail("give --to TARGET or --merge-adapters (to quantize a decoder model, export the merged one)")
    try:
        source = resolve_model_dir(run_dir)
        if merge_adapters:
            from mner.export.merge import export_merged

            path = export_merged(run_dir, output or default_merged_output(run_dir))
        else:
            path = export_model(run_dir, to, output)
    except (FileNotFoundError, ValueError, ImportError, RuntimeError) as err:
        _fail(str(err))
    typer.echo(f"wrote {path} ({size_mb(path):.1f} MB; the fp32 model is {size_mb(source):.1f} MB)")


def default_merged_output(run_dir: Path) -> Path:
    from mner.export import default_output

    return default_output(run_dir, "merged")


def bench_pixels(
    images: Path = typer.Argument(..., help="Folder of images, e.g. ../shared/data/images."),
    model: Optional[list[str]] = typer.Option(None, "--model", help="HF vision model id or path (repeatable)."),
    arch: Optional[list[str]] = typer.Option(None, "--arch", help="vit-s16 | resnet-50 | clip-b32: published sizes, "
                                             "random weights (repeatable; default all three when no --model)."),
    tokens: str = typer.Option("pooled", "--tokens", help="pooled | patches"),
    batch_size: int = typer.Option(16, "--batch-size", help="Images per backbone call."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch threads (default: torch's)."),
    limit: Optional[int] = typer.Option(None, "--limit", help="Use at most this many images."),
    output: Optional[Path] = typer.Option(None, "--output", help="Directory for pixels.md and pixels.json."),
) -> None:
    """Cost of the pixel path per image: decode, preprocess, backbone, first epoch (cold cache) and later ones."""
    import json

    import torch

    from mner.bench.pixel_cost import ARCHITECTURES, cost_table, measure_pixel_cost
    from mner.checkpoint import atomic_write_text

    if threads:
        torch.set_num_threads(threads)
    runs = [(m, None) for m in model or []] + [(None, a) for a in arch or []]
    if not runs:
        runs = [(None, a) for a in ARCHITECTURES]
    results = []
    try:
        for name, architecture in runs:
            results.append(measure_pixel_cost(images, name, architecture, tokens, batch_size, limit,
                                              log=lambda m: typer.echo(m, err=True)))
    except (FileNotFoundError, ValueError, OSError) as err:
        _fail(str(err))
    table = cost_table(results)
    typer.echo(table)
    if output:
        output.mkdir(parents=True, exist_ok=True)
        atomic_write_text(output / "pixels.md", table)
        atomic_write_text(output / "pixels.json", json.dumps([r.to_dict() for r in results], indent=2))
        typer.echo(f"wrote {output / 'pixels.md'} and pixels.json", err=True)
