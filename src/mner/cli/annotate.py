"""`mner annotate PROJECT --images DIR ...` (the web app) and `mner annotate export|agreement|edits|speed`.

Registered in cli/main.py with `app.add_typer(annotate_app, name="annotate")`. The group runs its
`open` command when the first word is not a subcommand, so `mner annotate PROJECT` starts the app.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, NoReturn, Optional

import click
import typer
from typer.core import TyperGroup


class DefaultOpenGroup(TyperGroup):
    """`mner annotate X ...` is `mner annotate open X ...` unless X names a subcommand (or asks for help)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("--help", "-h"):
            args = ["open", *args]
        return super().parse_args(ctx, args)


annotate_app = typer.Typer(cls=DefaultOpenGroup, no_args_is_help=True,
                           help="Label images and posts in a local web app (OCR, model pre-tagging), export, compare.")


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@annotate_app.command("open")
def open_command(
    project_dir: Path = typer.Argument(..., metavar="PROJECT_DIR", help="The project folder (created if new)."),
    images: Optional[Path] = typer.Option(None, "--images", help="Folder of images (each one an item unless a post names it)."),
    posts: Optional[Path] = typer.Option(None, "--posts", help="Posts to label or correct (any format mner reads)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Format of --posts (default: detected)."),
    model: Optional[Path] = typer.Option(None, "--model", help="Run folder or model that pre-tags unlabelled text."),
    types: Optional[str] = typer.Option(None, "--types", help="Entity types, comma-separated (default: the project's, "
                                        "the model's, the posts', else PER,LOC,ORG,MISC)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8010, "--port"),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn's: warning, info, debug."),
) -> None:
    """Start the annotation app on PROJECT_DIR; every decision is saved at once, a restart resumes."""
    from mner.annotate import open_project
    from mner.annotate.app import serve_project
    from mner.data.errors import DataFormatError

    try:
        project = open_project(project_dir, images, posts, model, types.split(",") if types else None, fmt)
    except (FileNotFoundError, IsADirectoryError, ValueError, DataFormatError) as err:
        _fail(str(err))
    overview = project.store.overview()
    typer.echo(f"mner annotate: {project_dir} ({sum(i['done'] for i in overview)} of {len(overview)} items done; "
               f"types {', '.join(project.types)}) on http://{host}:{port}/", err=True)
    serve_project(project, host, port, log_level)


@annotate_app.command("export")
def export_command(
    project_dir: Path = typer.Argument(..., metavar="PROJECT_DIR"),
    out: Path = typer.Argument(..., metavar="OUT", help="File to write (gmner: xml/ goes beside it)."),
    to: str = typer.Option(..., "--to", help="jsonl | twitter | gmner"),
    include_unfinished: bool = typer.Option(False, "--all", help="Also items not marked done."),
) -> None:
    """Write the finished items as mner JSONL, Twitter CoNLL or GMNER CoNLL + xml."""
    from mner.annotate import export_project

    if not (project_dir / "annotations.sqlite").is_file():
        _fail(f"{project_dir}: not an annotation project (no annotations.sqlite)")
    try:
        report = export_project(project_dir, to, out, include_unfinished)
    except ValueError as err:
        _fail(str(err))
    typer.echo(f"wrote {report.written} items to {out}" + (f" and {report.xml_files} xml files" if to == "gmner" else "")
               + (f"; {report.unfinished} unfinished items left out (--all includes them)" if report.unfinished else "")
               + (f"; {len(report.empty)} items without words left out" if report.empty else ""))


@annotate_app.command("agreement")
def agreement_command(
    reference: Path = typer.Argument(..., metavar="A", help="The reference project."),
    other: Path = typer.Argument(..., metavar="B", help="The project scored against A."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """Entity-level P/R/F1 of B against A over the items both finished, per type."""
    from mner.annotate import agreement

    try:
        result = agreement(reference, other)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    if as_json:
        typer.echo(json.dumps({"compared": result.compared, "only_in_one": result.only_in_one,
                               "different_words": result.different_words, "scores": result.scores.to_dict()}, indent=2))
        return
    typer.echo(f"{result.compared} items compared; {result.only_in_one} finished in only one project"
               + (f"; {len(result.different_words)} with different words not compared" if result.different_words else ""))
    typer.echo(result.scores.format_table())


@annotate_app.command("edits")
def edits_command(
    run_dir: Path = typer.Argument(..., metavar="RUN", help="The pre-tagging model (run folder or model)."),
    data: Path = typer.Option(..., "--data", help="Gold posts (any mner format)."),
    fmt: Optional[str] = typer.Option(None, "--format"),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch threads (default: all cores)."),
    as_json: bool = typer.Option(False, "--json"),
) -> None:
    """How many of RUN's pre-tagged entities a person changes to reach the gold, against tagging from scratch."""
    from mner.annotate.edit_count import count_edits
    from mner.data.loading import load_posts
    from mner.export import load_tagger

    _set_threads(threads)
    try:
        posts = load_posts(data, fmt)
        tagger = load_tagger(run_dir, precision="fp32")
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    predicted = tagger.predict_many([_bare(p) for p in posts])
    count = count_edits([[e.span for e in p.entities] for p in posts], [[e.span for e in es] for es in predicted])
    d = count.to_dict()
    if as_json:
        typer.echo(json.dumps({"posts": len(posts), **d}, indent=2))
        return
    typer.echo(f"{len(posts)} posts, {d['gold']} gold entities, {d['predicted']} pre-tagged, {d['kept']} kept as they are")
    typer.echo(f"edits: {d['edits']} = {d['deletions']} deletions + {d['additions']} additions + {d['retypes']} retypes "
               f"+ {d['boundary_fixes']} boundary fixes; from scratch: {d['from_scratch']} additions")


@annotate_app.command("speed")
def speed_command(
    images: Optional[Path] = typer.Option(None, "--images", help="Images to OCR, one at a time."),
    model: Optional[Path] = typer.Option(None, "--model", help="Model to pre-tag with, one post at a time."),
    data: Optional[Path] = typer.Option(None, "--data", help="Posts to pre-tag (with --model)."),
    limit: int = typer.Option(200, "--limit", help="Posts to time."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch and onnxruntime threads (default: all cores)."),
) -> None:
    """Seconds per item of OCR and of pre-tagging (what opening a new item costs)."""
    from mner.annotate.speed import ocr_seconds, pretag_seconds

    _set_threads(threads)
    results: dict[str, Any] = {"threads": threads or "all"}
    try:
        if images is not None:
            from mner.augment.image_files import list_images
            from mner.augment.ocr import RapidOCRReader

            results["ocr"] = ocr_seconds(list_images([images]), RapidOCRReader(threads=threads))
        if model is not None:
            if data is None:
                _fail("--model needs --data: the posts to pre-tag")
            from mner.data.loading import load_posts
            from mner.export import load_tagger

            results["pretag"] = pretag_seconds(load_tagger(model, batch_size=1, precision="fp32"), load_posts(data)[:limit])
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    if len(results) == 1:
        _fail("give --images and/or --model with --data")
    typer.echo(json.dumps(results, indent=2))


def _set_threads(threads: Optional[int]) -> None:
    if threads is not None:
        if threads < 1:
            _fail(f"--threads {threads}: give at least 1")
        import torch

        torch.set_num_threads(threads)


def _bare(post: Any) -> Any:
    """The post without its gold (the model must not see tags it is measured against)."""
    from mner.data.post import Post

    return Post(id=post.id, tokens=post.tokens, images=post.images, visual_text=post.visual_text)
