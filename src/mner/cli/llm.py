"""`mner llm evaluate`: a chat model as a tagger, scored by mner's evaluator.

Registered in cli/main.py with `app.add_typer(llm_app, name="llm")`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import NoReturn, Optional

import typer

llm_app = typer.Typer(help="LLM baselines scored by mner's evaluator.", no_args_is_help=True)


def _fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


@llm_app.command()
def evaluate(
    data: Path = typer.Option(..., "--data", help="Labelled posts to tag and score."),
    model: str = typer.Option(..., "--model", help="Model name at the endpoint, or a local HF model path/name."),
    endpoint: Optional[str] = typer.Option(None, "--endpoint", help="OpenAI-compatible base URL, e.g. "
                                           "http://127.0.0.1:8080/v1 (omit: --model is a local HF model)."),
    images: Optional[Path] = typer.Option(None, "--images", help="Folder of the posts' images (sent as data URLs)."),
    captions: Optional[Path] = typer.Option(None, "--captions", help="Caption file: the image's text stand-in."),
    shots: int = typer.Option(0, "--shots", help="Few-shot examples per prompt (from --examples, by similarity)."),
    examples: Optional[Path] = typer.Option(None, "--examples", help="Labelled posts to pick examples from."),
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N posts."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Format of --data and --examples (default: detect)."),
    api_key_env: Optional[str] = typer.Option(None, "--api-key-env", help="Environment variable holding the API key."),
    concurrency: int = typer.Option(4, "--concurrency", min=1),
    timeout: float = typer.Option(60.0, "--timeout", help="Seconds per request before it is retried."),
    retries: int = typer.Option(5, "--retries", min=0),
    max_tokens: int = typer.Option(512, "--max-tokens"),
    cache: Optional[Path] = typer.Option(None, "--cache", help="Answer cache (SQLite; default "
                                         "runs/llm-cache.sqlite)."),
    as_json: bool = typer.Option(False, "--json", help="Print one JSON object."),
    quiet: bool = typer.Option(False, "--quiet", help="No progress bar."),
) -> None:
    """Prompt a chat model for each post's entities as JSON; align, score, report tokens and latency."""
    from mner.augment.backends import make_backend
    from mner.augment.cache import AnswerCache
    from mner.data.loading import load_posts
    from mner.llm.evaluate import evaluate_llm
    from mner.metrics import EntityScores

    try:
        posts = load_posts(data, fmt, images_dir=images, visual_text={"caption": captions})[:limit]
        pool = load_posts(examples, fmt, visual_text={"caption": captions}) if examples else []
        backend = make_backend(model, endpoint, api_key_env=api_key_env, timeout_s=timeout, max_retries=retries,
                               max_tokens=max_tokens, concurrency=concurrency)
        result = evaluate_llm(posts, backend, AnswerCache(cache or Path("runs/llm-cache.sqlite")), examples=pool,
                              shots=shots, send_images=images is not None, concurrency=concurrency,
                              progress=not quiet)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))
    d = result.details
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False))
    else:
        typer.echo(EntityScores.from_dict(result.scores).format_table())
        typer.echo(f"\ntoken macro F1 {result.scores['token_macro_f1']:.2f} "
                   f"(relaxed {result.scores['token_macro_f1_relaxed']:.2f})")
        a = d["answers"]
        typer.echo(f"answers: {a['valid']} valid JSON, {a['repaired']} repaired, {a['invalid']} unusable; "
                   f"{d['failed_requests']} requests failed")
        typer.echo(f"mentions: {d['mentions']}, unmatched in the post's words: {d['unmatched_mentions']}, "
                   f"unknown type: {d['unknown_type_mentions']}")
        for example in d["unmatched_examples"][:10]:
            typer.echo(f"  unmatched {example}")
        typer.echo(f"tokens: {d['prompt_tokens']} prompt + {d['completion_tokens']} completion "
                   f"({d['prompt_tokens_asked']} + {d['completion_tokens_asked']} asked in this run)")
        lat = d["latency_s"]
        typer.echo(f"latency per request: mean {lat['mean']:.3f} s, p50 {lat['p50']:.3f} s, p90 {lat['p90']:.3f} s")
    if d["failed_requests"]:
        for failure in d["failures"]:
            typer.echo(f"failed: {failure}", err=True)
        _fail(f"{d['failed_requests']} requests failed and were scored as no entities; rerun to retry them")
