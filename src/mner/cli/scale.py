"""The multi-process parts of `mner train` and `mner predict` (mner.distributed, docs/scale.md)."""

from __future__ import annotations

from pathlib import Path

import typer

PROCESSES_OPTION = typer.Option(1, "--processes", help="Run in N processes on this machine (torchrun; "
                                "gloo on CPU, one GPU each when there are GPUs). See docs/scale.md.")


def train_in_processes(processes: int, config: Path, overrides: list[str], resume: bool, quiet: bool) -> None:
    """Re-run this `mner train` in `processes` processes; exit with their status."""
    from mner.distributed.launch import launch

    args = ["train", str(config), *overrides] + (["--resume"] if resume else []) + (["--quiet"] if quiet else [])
    try:
        code = launch(processes, args)
    except ValueError as err:
        typer.echo(f"error: {err}", err=True)
        raise typer.Exit(1) from None
    if code:
        raise typer.Exit(code)


def is_corpus_request(input_path: Path | None, output_path: Path | None, processes: int) -> bool:
    """A directory, a glob, an output directory or several processes: the corpus form of predict."""
    from mner.distributed.stream import GLOB_CHARS

    if input_path is None:
        return False
    return (processes > 1 or input_path.is_dir() or bool(GLOB_CHARS & set(str(input_path)))
            or (output_path is not None and output_path.is_dir()))


def predict_corpus_command(run_dir: Path, input_path: Path, output_path: Path | None, processes: int,
                           batch_size: int, precision: str) -> None:
    from mner.data.errors import DataFormatError
    from mner.distributed.launch import launch, launched_rank, worker_device
    from mner.distributed.predict_corpus import predict_corpus
    from mner.export import load_tagger

    def fail(message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)

    if output_path is None:
        fail("give --output DIR: a corpus gets one output file per input file")
    if processes > 1:
        if precision == "auto":  # choose once here: every process must tag with the same precision
            try:
                chosen = load_tagger(run_dir, batch_size=batch_size, precision="auto").precision_choice.precision
            except (FileNotFoundError, ValueError) as err:
                fail(str(err))
            precision = chosen if chosen in ("fp32", "bf16", "int8") else "fp32"  # an ONNX export runs as exported
        args = ["predict", str(run_dir), "--input", str(input_path), "--output", str(output_path),
                "--batch-size", str(batch_size), "--precision", precision]
        try:
            code = launch(processes, args)
        except ValueError as err:
            fail(str(err))
        if code:
            raise typer.Exit(code)
        return
    rank, world_size = launched_rank()
    try:
        tagger = load_tagger(run_dir, batch_size=batch_size, precision=precision)
        if worker_device() != "cpu":
            tagger.model.to(worker_device())
        predict_corpus(tagger, input_path, output_path, rank, world_size,
                       log=lambda m: typer.echo(m, err=True))
    except (DataFormatError, FileNotFoundError, ValueError) as err:
        fail(str(err))
