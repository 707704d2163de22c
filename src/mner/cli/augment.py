"""`mner augment knowledge|captions|ocr`: parse, call `mner.augment`, print a summary.

Registered in cli/main.py with `app.add_typer(augment_app, name="augment")`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NoReturn, Optional

import typer

augment_app = typer.Typer(help="Make auxiliary inputs: knowledge (LLM), captions, OCR text.", no_args_is_help=True)

ENDPOINT_HELP = "OpenAI-compatible base URL, e.g. http://127.0.0.1:8080/v1 (omit: --model is a local HF model)."


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def _summarise(report: Any, to: Path, what: str) -> None:
    d = report.to_dict()
    typer.echo(f"wrote {d['written']} {what} to {to} ({d['cached']} from the cache, {d['asked']} computed, "
               f"{d['failed']} failed; {d['requests_per_s']}/s)", err=True)
    if d.get("prompt_tokens") or d.get("completion_tokens"):
        typer.echo(f"tokens this run: {d['prompt_tokens']} prompt, {d['completion_tokens']} completion"
                   + (f"; {d['truncated']} answers hit --max-tokens" if d.get("truncated") else ""), err=True)
    if d["failures"]:
        for failure in d["failures"][:20]:
            typer.echo(f"failed: {failure}", err=True)
        _fail(f"{d['failed']} inputs failed; rerun the same command to retry them (finished ones are cached)")


def knowledge(
    posts_path: Path = typer.Argument(..., metavar="POSTS", help="Posts to write knowledge for (any mner format)."),
    to: Path = typer.Option(..., "--to", help="Knowledge JSONL to write ({\"image_id\", \"text\", provenance})."),
    model: str = typer.Option(..., "--model", help="Model name at the endpoint, or a local HF model path/name."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help=ENDPOINT_HELP),
    examples: Optional[Path] = typer.Option(None, "--examples", help="Labelled posts to pick few-shot examples from."),
    examples_knowledge: Optional[Path] = typer.Option(None, "--examples-knowledge",
                                                      help="Hand-written knowledge of the examples (JSONL); "
                                                           "else their answer is made from the gold entities."),
    shots: int = typer.Option(4, "--shots", help="Examples per prompt, by TF-IDF similarity (none without --examples)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Format of POSTS and --examples (default: detect)."),
    captions: Optional[Path] = typer.Option(None, "--captions", help="Caption file: the image's stand-in."),
    images: Optional[Path] = typer.Option(None, "--images", help="Folder holding the posts' images."),
    send_images: bool = typer.Option(False, "--send-images", help="Send each post's image as a data URL "
                                     "(for models that take images); else its caption."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Environment variable holding the API key."),
    concurrency: int = typer.Option(4, "--concurrency", min=1, help="Requests in flight at once."),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per request before it is retried."),
    retries: int = typer.Option(5, "--retries", min=0, help="Retries on 429/5xx/timeouts (exponential backoff)."),
    max_tokens: int = typer.Option(512, "--max-tokens"),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Answer cache (SQLite; default FILE.cache.sqlite)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """PGIM-style auxiliary knowledge for every post from a chat model (endpoint or local)."""
    from mner.augment.backends import make_backend
    from mner.augment.cache import AnswerCache, default_cache_path
    from mner.augment.knowledge import generate_knowledge
    from mner.data.loading import load_posts

    try:
        posts = load_posts(posts_path, fmt, images_dir=images, visual_text={"caption": captions})
        pool = load_posts(examples, fmt, images_dir=images, visual_text={"caption": captions,
                                                                          "knowledge": examples_knowledge}) \
            if examples else None
        backend = make_backend(model, endpoint, api_key_env=api_key_env, timeout_s=timeout, max_retries=retries,
                               max_tokens=max_tokens, concurrency=concurrency)
        store = AnswerCache(cache or default_cache_path(to))
        report = generate_knowledge(posts, to, backend, store, examples=pool, shots=shots,
                                    send_images=send_images, concurrency=concurrency, progress=not quiet)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    _summarise(report, to, "knowledge lines")


def _describe(images: list[Path], to: Path, describer: Any, cache: Optional[Path], fmt: str, quiet: bool,
              what: str) -> None:
    from mner.augment.cache import AnswerCache, default_cache_path
    from mner.augment.image_files import list_images
    from mner.augment.image_texts import describe_images

    try:
        files = list_images(images)
        report = describe_images(files, to, describer, AnswerCache(cache or default_cache_path(to)), fmt=fmt,
                                 progress=not quiet)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    _summarise(report, to, what)


def captions(
    images: list[Path] = typer.Argument(..., metavar="IMAGES...", help="Image files and/or folders of images."),
    to: Path = typer.Option(..., "--to", help="Caption file to write."),
    model: str = typer.Option(..., "--model", help="Any HF image-to-text model: hub name or local path."),
    prompt: Optional[str] = typer.Option(None, "--prompt", help="Text prompt, for chat VLMs that need one."),
    max_new_tokens: int = typer.Option(40, "--max-new-tokens"),
    fmt: Optional[str] = typer.Option(None, "--format", help="jsonl | blip2 (default: blip2 for .txt, else jsonl)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Cache (SQLite; default FILE.cache.sqlite)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """A caption per image from any Hugging Face image-to-text model (cached by content hash)."""
    from mner.augment.captions import HFCaptioner

    try:
        describer = HFCaptioner(model, prompt=prompt, max_new_tokens=max_new_tokens)
    except ValueError as err:
        _fail(str(err))
    _describe(images, to, describer, cache, fmt or ("blip2" if to.suffix == ".txt" else "jsonl"), quiet, "captions")


def ocr(
    images: list[Path] = typer.Argument(..., metavar="IMAGES...", help="Image files and/or folders of images."),
    to: Path = typer.Option(..., "--to", help="OCR JSONL to write (read as visual text `ocr`)."),
    min_score: float = typer.Option(0.5, "--min-score", help="Drop recognised lines scored below this."),
    threads: Optional[int] = typer.Option(None, "--threads", help="onnxruntime threads (default: all cores)."),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Cache (SQLite; default FILE.cache.sqlite)."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """The text in each image (RapidOCR, offline), cached by content hash."""
    from mner.augment.ocr import RapidOCRReader

    try:
        describer = RapidOCRReader(min_score=min_score, threads=threads)
    except ValueError as err:
        _fail(str(err))
    _describe(images, to, describer, cache, "jsonl", quiet, "OCR lines")


augment_app.command()(knowledge)
augment_app.command()(captions)
augment_app.command()(ocr)
