"""`mner` command line: a thin layer that parses arguments and calls the Python API."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from mner.cli.data import data_app
from mner.cli.scale import PROCESSES_OPTION
from mner.cli.precision import show_calibration_progress

app = typer.Typer(help="Multimodal named entity recognition for social-media posts.", no_args_is_help=True,
                  pretty_exceptions_enable=False)
app.add_typer(data_app, name="data")


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


# auto: the precision this host runs the model fastest at, measured once and cached (mner.precision_choice)
PRECISION_OPTION = typer.Option("auto", "--precision", help="auto (measured once per host and model: `mner "
                                "precision RUN`) | fp32 | bf16 (autocast) | int8 (Linear layers in int8).")


@app.command()
def train(
    config: Path = typer.Argument(..., help="YAML config (see configs/)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key.sub=value overrides, e.g. train.epochs=3"),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted run in output_dir."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
    processes: int = PROCESSES_OPTION,
) -> None:
    """Train a model; writes a run folder (output_dir) holding the best model in best/."""
    if processes > 1:
        from mner.cli.scale import train_in_processes

        return train_in_processes(processes, config, overrides or [], resume, quiet)
    from mner.config import load_config
    from mner.training.loop import TrainingError
    from mner.training.run import train_run

    try:
        cfg = load_config(config, overrides or [])
        summary = train_run(cfg, resume=resume, progress_bar=not quiet)
    except (TrainingError, FileExistsError, FileNotFoundError, ValueError) as err:
        _fail(str(err))
    typer.echo(f"best dev F1 {summary['dev']['f1']:.2f} at epoch {summary['best_epoch']}; "
               f"model in {Path(cfg['output_dir']) / 'best'}")


@app.command()
def evaluate(
    run_dir: Path = typer.Argument(..., help="Run folder, model directory or export (int8, ONNX)."),
    data: Path = typer.Option(..., "--data", help="Labelled posts to score."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Input format (default: auto-detect)."),
    captions: Optional[list[Path]] = typer.Option(None, "--captions", help="Caption file attached as visual "
                                                  "text (repeat the flag to read several as one)."),
    knowledge: Optional[list[Path]] = typer.Option(None, "--knowledge", help="Knowledge file attached as visual "
                                                   "text (repeat the flag to read several as one)."),
    images: Optional[Path] = typer.Option(None, "--images", help="Folder holding the posts' images."),
    regions: Optional[Path] = typer.Option(None, "--regions", help="Folder of VinVL <image>.npz region files."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    batch_size: int = typer.Option(64, "--batch-size"),
    ablate: Optional[str] = typer.Option(None, "--ablate", help="zero-image | shuffle-image | no-visual-text"),
    precision: str = PRECISION_OPTION,
    protocol: str = typer.Option("standard", "--protocol", help="standard | rgcn (adds R-GCN's per-batch F1)."),
    seen_from: Optional[list[Path]] = typer.Option(None, "--seen-from", help="Training posts: also score the "
                                                   "entities seen in them and the unseen ones apart (repeatable)."),
) -> None:
    """Entity-level P/R/F1 (micro, per type) and token-level macro F1 on a labelled file."""
    from mner.data.loading import load_posts
    from mner.evaluation import evaluate as evaluate_posts
    from mner.export import load_tagger
    from mner.metrics import EntityScores
    from mner.metrics.seen import entity_names_of_files

    show_calibration_progress()
    try:
        tagger = load_tagger(run_dir, precision=precision)
        posts = load_posts(data, fmt, images_dir=images, regions_dir=regions,
                           visual_text={"caption": captions or None, "knowledge": knowledge or None})
        if ablate:
            from mner.ablations import ablate as ablate_posts

            posts = ablate_posts(posts, ablate)
        seen = entity_names_of_files(seen_from) if seen_from else None
        scores = evaluate_posts(tagger.model, posts, batch_size, tagger.precision, protocol, seen)
        if ablate:
            scores["ablation"] = ablate
        scores["precision_choice"] = tagger.precision_choice.precision  # "precision" is the entity score
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    if as_json:
        typer.echo(json.dumps(scores))
        return
    typer.echo(EntityScores.from_dict(scores).format_table())
    typer.echo(f"\ntoken macro F1 {scores['token_macro_f1']:.2f} (relaxed {scores['token_macro_f1_relaxed']:.2f}); "
               f"subword macro F1 {scores.get('subword_macro_f1', float('nan')):.2f}")
    if "grounded" in scores:  # a model with a grounding head: GMNER / MNER / EEG (docs/grounding.md)
        from mner.metrics.grounding import format_grounded

        typer.echo("\n" + format_grounded(scores["grounded"]))
    if "rgcn_protocol" in scores:
        r = scores["rgcn_protocol"]
        typer.echo(f"R-GCN protocol F1 {r['f1']:.2f} (mean over {r['batches']} batches of 64, "
                   f"{r['posts_dropped']} posts dropped) vs micro F1 {scores['f1']:.2f}")
    if "seen_unseen" in scores:
        from mner.metrics.seen import format_seen_unseen

        typer.echo("\n" + format_seen_unseen(scores["seen_unseen"]))
    typer.echo(f"precision {tagger.precision_choice.describe()}")


@app.command()
def predict(
    run_dir: Path = typer.Argument(..., help="Run folder, model directory or export (int8, ONNX)."),
    text: Optional[str] = typer.Argument(None, help="One post's text."),
    image: Optional[list[Path]] = typer.Option(None, "--image", help="Image(s) of the post."),
    caption: Optional[str] = typer.Option(None, "--caption", help="Caption of the post's image."),
    input_path: Optional[Path] = typer.Option(None, "--input", help="JSONL posts (tokens or text per line), or "
                                              "a directory or glob of .jsonl/.txt/.conll files."),
    output_path: Optional[Path] = typer.Option(None, "--output", help="Where to write predictions (JSONL; a "
                                               "directory for a directory or glob)."),
    batch_size: int = typer.Option(64, "--batch-size"),
    precision: str = PRECISION_OPTION,
    processes: int = PROCESSES_OPTION,
) -> None:
    """Entities of one post, of every post of a JSONL file, or of a corpus of files (docs/scale.md)."""
    from mner.cli.scale import is_corpus_request, predict_corpus_command
    from mner.export import load_tagger

    if (text is None) == (input_path is None):
        _fail("give either a TEXT or --input FILE")
    show_calibration_progress()
    if is_corpus_request(input_path, output_path, processes):
        return predict_corpus_command(run_dir, input_path, output_path, processes, batch_size, precision)
    try:
        tagger = load_tagger(run_dir, batch_size=batch_size, precision=precision)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    if text is not None:
        post = {"text": text, "images": [str(p) for p in image or []]}
        if caption:
            post["visual_text"] = {"caption": caption}
        entities = tagger.predict(post)
        if not entities:
            typer.echo("(no entities)")
        for e in entities:
            grounded = "" if e.grounding_score is None else (  # a grounded model: box (or none) and P(groundable)
                f"\t{[round(v, 1) for v in e.boxes[0]] if e.boxes else 'none'}\t{e.grounding_score:.3f}")
            typer.echo(f"{e.text}\t{e.type}\t{e.score:.3f}{grounded}")
        return
    from mner.cli.predict_file import predict_file

    try:
        count = predict_file(tagger, input_path, output_path)  # type: ignore[arg-type]
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    typer.echo(f"wrote predictions for {count} posts to {output_path or 'stdout'} "
               f"(precision {tagger.precision_choice.describe()})", err=True)


@app.command()
def experiment(
    grid: Path = typer.Argument(..., help="Grid YAML: base config, seeds, variants (see mner.experiments)."),
    report_only: bool = typer.Option(False, "--report-only", help="Train nothing: tabulate the finished runs "
                                     "(run folders and the grid's ledger)."),
    seed: Optional[list[int]] = typer.Option(None, "--seed", help="Train only this seed of the grid (repeatable)."),
    variant: Optional[list[str]] = typer.Option(None, "--variant", help="Train only this variant (repeatable)."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch threads per run (e.g. 1 with one "
                                          "process per --seed per core)."),
    jobs: int = typer.Option(1, "--jobs", help="Train with this many processes at once (e.g. 8 on one GPU, "
                             "with --threads 2); a student waits for its teacher."),
) -> None:
    """Train a grid of variants x seeds; write a markdown table of mean ± std dev F1."""
    from mner.experiments import load_grid, run_grid
    from mner.grid_processes import run_grid_in_processes
    from mner.training.loop import TrainingError

    try:
        if jobs > 1 and not report_only:
            run_grid_in_processes(grid, jobs, seeds=seed, variants=variant, threads=threads, log=typer.echo)
        table = run_grid(load_grid(grid), log=typer.echo, train=not report_only and jobs <= 1, seeds=seed,
                         threads=threads, variants=variant)
    except (TrainingError, FileNotFoundError, ValueError, RuntimeError) as err:
        _fail(str(err))
    typer.echo(table)


@app.command()
def quickstart(
    output_dir: Path = typer.Option(Path("runs/quickstart"), "--output-dir"),
    epochs: int = typer.Option(4, "--epochs"),
    encoder: str = typer.Option("minilm-l6", "--encoder", help="Preset, hub id or local path."),
) -> None:
    """Train on the bundled sample posts with the offline encoder, print scores and an example."""
    from mner.quickstart import run_quickstart

    try:
        run_quickstart(output_dir, epochs=epochs, encoder=encoder, echo=typer.echo)
    except (FileExistsError, ValueError, OSError) as err:
        _fail(str(err))


from mner.cli.bench import bench, bench_pixels, export  # noqa: E402 - registered after the core commands (--help order)
from mner.cli.distill import distill  # noqa: E402
from mner.cli.score import score  # noqa: E402
from mner.cli.precision import precision as precision_command  # noqa: E402

app.command()(distill)
app.command()(score)
app.command()(bench)
app.command()(export)
app.command("bench-pixels")(bench_pixels)
from mner.cli.bench_modules import bench_modules  # noqa: E402

app.command("bench-modules")(bench_modules)
app.command("precision")(precision_command)

from mner.cli.augment import augment_app  # noqa: E402
from mner.cli.llm import llm_app  # noqa: E402

app.add_typer(augment_app, name="augment")
app.add_typer(llm_app, name="llm")

from mner.cli.serve import bench_serve, serve  # noqa: E402

app.command()(serve)
app.command("bench-serve")(bench_serve)
from mner.cli.index import index_app  # noqa: E402

app.add_typer(index_app, name="index")
from mner.cli.annotate import annotate_app  # noqa: E402

app.add_typer(annotate_app, name="annotate")


def main() -> None:  # pragma: no cover - console entry point
    app(sys.argv[1:])
