"""``mner data ...``: inspect, check, convert and fetch data files.

Thin on purpose: each command parses its options, calls the Python API in
`mner.data`, and prints. Errors in the data are printed as ``file:line: ...``
with exit code 1, never as a traceback.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from mner.data.download import DownloadError, download, images_note
from mner.data.readers import WRITE_FORMATS, read_posts, write_posts
from mner.data.readers.detect import canonical_format
from mner.data.stats import describe_path, render_description
from mner.data.validate import validate_file

data_app = typer.Typer(
    help="Inspect, validate, convert and download MNER data files.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)

FORMAT_HELP = (
    "Input format: twitter, gmner, cmner, mner_mi, jsonl; blip2, owl, knowledge (visual text); "
    "vinvl (npz) (default: detect from content)."
)
IMAGES_HELP = "Folder holding the posts' images."
INPUT_ERRORS = (ValueError, OSError)  # DataFormatError and ImageError are ValueErrors


def fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@data_app.command()
def stats(
    path: Path = typer.Argument(
        ..., help="Data file (posts, captions/knowledge, VinVL npz), image folder or data folder."
    ),
    fmt: Optional[str] = typer.Option(None, "--format", help=FORMAT_HELP),
    images: Optional[Path] = typer.Option(None, "--images", help=IMAGES_HELP),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
) -> None:
    """Posts, tokens, entities per type, images (found/missing with --images), boxes."""
    if not path.exists():
        fail(f"{path}: no such file")
    try:
        result = describe_path(path, fmt, images_dir=images)
    except INPUT_ERRORS as err:
        fail(str(err))
    typer.echo(json.dumps(result, ensure_ascii=False) if as_json else render_description(result))


@data_app.command()
def validate(
    path: Path = typer.Argument(..., help="Data file."),
    fmt: Optional[str] = typer.Option(None, "--format", help=FORMAT_HELP),
    images: Optional[Path] = typer.Option(None, "--images", help=IMAGES_HELP + " Every image is decoded."),
    strict: bool = typer.Option(False, "--strict", help="Fail on warnings too."),
) -> None:
    """List every problem as file:line: problem; exit 1 on errors (or on warnings with --strict)."""
    try:
        problems = validate_file(path, fmt, images_dir=images)
    except INPUT_ERRORS as err:
        fail(str(err))
    for problem in problems:
        typer.echo(str(problem))
    errors = sum(1 for p in problems if p.is_error)
    warnings = len(problems) - errors
    if errors or (strict and warnings):
        typer.echo(f"{path}: {errors} error(s), {warnings} warning(s)", err=True)
        raise typer.Exit(1)
    typer.echo(f"OK: {path}" + (f" ({warnings} warning(s))" if warnings else ""))


@data_app.command()
def convert(
    source: Path = typer.Argument(..., metavar="IN", help="File to read."),
    target: Path = typer.Argument(..., metavar="OUT", help="File to write."),
    to: str = typer.Option("jsonl", "--to", help=f"Output format: {', '.join(WRITE_FORMATS)}."),
    fmt: Optional[str] = typer.Option(None, "--format", help=FORMAT_HELP),
    images: Optional[Path] = typer.Option(None, "--images", help=IMAGES_HELP + " Images are then written as paths."),
) -> None:
    """Convert posts between formats (JSONL keeps everything; twitter keeps ids, tokens, tags)."""
    if source.resolve() == target.resolve():
        fail("IN and OUT are the same file")
    try:
        posts = read_posts(source, fmt, images_dir=images)
        write_posts(posts, target, to)
    except INPUT_ERRORS as err:
        fail(str(err))
    typer.echo(f"wrote {len(posts)} posts to {target} ({canonical_format(to)})")
    lost = any(p.visual_text or p.regions or any(e.boxes for e in p.entities) for p in posts)
    if canonical_format(to) == "twitter" and lost:
        typer.echo("note: the twitter format has no place for boxes, visual text or regions: not written", err=True)


@data_app.command(name="download")
def download_command(
    name: str = typer.Argument(..., help="twitter2015, twitter2017 or twitter-gmner."),
    to: Path = typer.Option(..., "--to", help="Folder to write the text files into."),
) -> None:
    """Fetch a benchmark's public text release from GitHub (images must be fetched by hand)."""
    try:
        written = download(name, to)
    except DownloadError as err:
        fail(str(err))
    except OSError as err:
        fail(f"could not write into {to}: {err}")
    typer.echo(f"wrote {len(written)} files into {to}")
    typer.echo(images_note(name, to))


from mner.cli.regions import regions  # noqa: E402 - its own file: the detector side of the data commands

data_app.command("regions")(regions)
