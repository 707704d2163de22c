"""`mner distill`: train a student on a teacher's soft labels (registered in cli/main.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def distill(
    teacher: Path = typer.Argument(..., help="The teacher: a run folder or model directory (e.g. a knowledge model)."),
    config: Path = typer.Argument(..., help="The student's training config (YAML); its posts must carry the "
                                  "teacher's inputs (data.visual_text)."),
    overrides: Optional[list[str]] = typer.Argument(None, help="key.sub=value overrides, e.g. distill.weight=0.7"),
    unlabelled: Optional[list[Path]] = typer.Option(None, "--unlabelled", help="Posts to tag with the teacher "
                                                    "and learn from (gold tags in them are ignored); repeatable."),
    unlabelled_knowledge: Optional[list[Path]] = typer.Option(
        None, "--unlabelled-knowledge", help="Knowledge file for each --unlabelled file, in the same order."),
    more_teachers: Optional[list[Path]] = typer.Option(
        None, "--teacher", help="Another teacher (repeatable): the teachers' posteriors are averaged (an ensemble)."),
    resume: bool = typer.Option(False, "--resume", help="Continue the interrupted run in output_dir."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Distil a teacher into a student: soft labels on the training posts (+ unlabelled posts)."""
    from mner.config import load_config
    from mner.training.loop import TrainingError
    from mner.training.run import train_run

    def fail(message: str) -> None:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(1)

    knowledge = list(unlabelled_knowledge or [])
    if knowledge and len(knowledge) != len(unlabelled or []):
        fail("give one --unlabelled-knowledge per --unlabelled file (or none)")
    try:
        cfg = load_config(config, overrides or [])
        section = dict(cfg.get("distill") or {})
        section["teacher"] = [str(teacher), *map(str, more_teachers)] if more_teachers else str(teacher)
        if unlabelled:
            section["unlabelled"] = list(section.get("unlabelled") or []) + [
                {"path": str(path), **({"visual_text": {"knowledge": str(knowledge[i])}} if knowledge else {})}
                for i, path in enumerate(unlabelled)]
        cfg["distill"] = section
        summary = train_run(cfg, resume=resume, progress_bar=not quiet)
    except (TrainingError, FileExistsError, FileNotFoundError, ValueError) as err:
        fail(str(err))
    typer.echo(f"student: best dev F1 {summary['dev']['f1']:.2f} at epoch {summary['best_epoch']}; "
               f"model in {Path(cfg['output_dir']) / 'best'}")
