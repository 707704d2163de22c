"""`mner precision RUN_DIR`: the calibration table behind `--precision auto`, and the choice."""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path

import typer


def show_calibration_progress() -> None:
    """On a terminal, say when `--precision auto` is timing candidates (seconds, once per host and model).

    Only on a terminal: piped output (and the tests' runner) stays the entities alone.
    """
    logger = logging.getLogger("mner.precision_choice")
    if sys.stderr.isatty() and not logger.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)


def precision(
    run_dir: Path = typer.Argument(..., help="Run folder, model directory or export."),
    remeasure: bool = typer.Option(False, "--remeasure", help="Time the candidates again (ignore the cache)."),
    threads: int = typer.Option(0, "--threads", help="torch threads to calibrate at (0: torch's default); "
                                "the choice is cached per thread count."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Time fp32 / bf16 / int8 on this host for this model (once; cached) and print the table and the choice."""
    import torch

    from mner.checkpoint import from_pretrained
    from mner.precision_choice import ChoiceCache, choose_precision
    from mner.predict import resolve_model_dir

    if threads:
        torch.set_num_threads(threads)
    show_calibration_progress()
    try:
        model_dir = resolve_model_dir(run_dir)
        if (model_dir / "onnx.json").exists():
            raise ValueError(f"{run_dir} is an ONNX export: it runs as exported, there is nothing to choose")
        model = from_pretrained(model_dir)
        cache = ChoiceCache()
        choice = choose_precision(model, model_dir, cache=cache, remeasure=remeasure)
    except (FileNotFoundError, ValueError) as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1)
    if as_json:
        typer.echo(json.dumps({**choice.to_dict(), "threads": torch.get_num_threads(), "cache": str(cache.directory)}))
        return
    typer.echo(f"{model_dir}: {torch.get_num_threads()} threads, candidates {', '.join(choice.candidates)}")
    if choice.timings:
        typer.echo(f"{'precision':<10} {'posts/s':>9} {'median s':>9}  passes (s)")
        for t in choice.timings:
            passes = " ".join(f"{s:.3f}" for s in t.seconds)
            typer.echo(f"{t.precision:<10} {t.posts_per_s:>9.1f} {t.median_seconds:>9.3f}  {passes}")
    typer.echo(f"choice: {choice.describe()}")
