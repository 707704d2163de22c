"""`mner score GOLD PREDICTIONS.jsonl`: score any system's (grounded) predictions with mner's metrics."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer


def score(
    gold: Path = typer.Argument(..., help="Gold posts (Twitter-GMNER text with xml/ beside it, JSONL, ...)."),
    predictions: Path = typer.Argument(..., help="Predictions JSONL: {id, entities: [{start, end, type, box}]}."),
    task: str = typer.Option("gmner", "--task", help="gmner (GMNER, MNER, EEG) | mner (span + type only)."),
    protocol: str = typer.Option("direct", "--protocol", help="direct (box IoU >= 0.5 with a gold box) | hindex "
                                 "(over the top-N candidates of --candidates, as NUSTM/GMNER scores)."),
    candidates: Optional[Path] = typer.Option(None, "--candidates", help="Folder of <image>.npz proposals "
                                              "(the hindex protocol's candidates)."),
    top_n: int = typer.Option(16, "--top-n", help="Candidates per post under hindex."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Gold format (default: auto-detect)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    seen_from: Optional[list[Path]] = typer.Option(None, "--seen-from", help="Training posts: also score the "
                                                   "entities seen in them and the unseen ones apart (repeatable)."),
) -> None:
    """GMNER / MNER / EEG micro P/R/F1 of a predictions file against gold (docs/grounding.md)."""
    from mner.data.loading import load_posts
    from mner.grounding.scoring import score_predictions
    from mner.metrics.grounding import format_grounded
    from mner.metrics.seen import entity_names_of_files, format_seen_unseen

    def fail(message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)

    if protocol == "hindex" and task == "gmner" and candidates is None:
        fail("--protocol hindex compares candidates, not boxes: give --candidates DIR (the posts' proposals)")
    try:
        posts = load_posts(gold, fmt, regions_dir=candidates, regions_top_k=top_n if candidates else None)
        seen = entity_names_of_files(seen_from) if seen_from else None
        scores = score_predictions(posts, predictions, task, protocol, top_n, seen)
    except (FileNotFoundError, ValueError) as err:
        fail(str(err))
    if as_json:
        typer.echo(json.dumps(scores))
    elif task == "mner":
        s = scores["mner"]
        typer.echo(f"MNER P {s['precision']:.2f} R {s['recall']:.2f} F1 {s['f1']:.2f} "
                   f"(tp {s['tp']} fp {s['fp']} fn {s['fn']})")
    else:
        typer.echo(format_grounded(scores))
    if "seen_unseen" in scores and not as_json:
        typer.echo(format_seen_unseen(scores["seen_unseen"]))
