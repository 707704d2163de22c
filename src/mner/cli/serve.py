"""`mner serve` and `mner bench-serve` (docs/serve.md): parse, call `mner.serve`, print."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(1)


def serve(
    run_dir: Path = typer.Argument(..., help="Run folder, model directory or export (int8, ONNX)."),
    host: str = typer.Option("127.0.0.1", "--host", help="Interface to listen on (0.0.0.0: every interface)."),
    port: int = typer.Option(8000, "--port"),
    workers: int = typer.Option(1, "--workers", help="Processes, each with its own copy of the model."),
    max_batch: int = typer.Option(32, "--max-batch", help="Waiting posts each forward pass is chosen from (1: no dynamic batching)."),
    forward_batch: int = typer.Option(8, "--forward-batch", help="Posts per forward pass: the oldest waiting request and those nearest its length."),
    max_wait_ms: float = typer.Option(5.0, "--max-wait-ms", help="How long a request waits for others to batch with."),
    precision: str = typer.Option("auto", "--precision", help="auto (the fastest on this host, measured once and cached; docs/precision.md) | fp32 | bf16 | int8."),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch threads per worker (default: all cores)."),
    max_body_mb: float = typer.Option(16.0, "--max-body-mb", help="Largest request body, MiB."),
    max_posts: int = typer.Option(64, "--max-posts", help="Posts per request."),
    max_words: int = typer.Option(512, "--max-words", help="Words per post."),
    log_level: str = typer.Option("info", "--log-level", help="uvicorn's: warning, info, debug."),
) -> None:
    """Serve a model over HTTP: POST /v1/predict, GET /v1/model, /healthz, /readyz, /metrics, and a web page at /."""
    from mner.serve import Limits, ServeSettings
    from mner.serve.runner import serve as run_server

    try:
        limits = Limits(max_body_bytes=int(max_body_mb * 1024 * 1024), max_posts=max_posts, max_words=max_words)
        settings = ServeSettings(max_batch=max_batch, max_wait_ms=max_wait_ms, forward_batch=forward_batch, limits=limits)
        if max_batch < 1 or forward_batch < 1 or max_wait_ms < 0:
            raise ValueError("--max-batch and --forward-batch must be at least 1, --max-wait-ms at least 0")
        typer.echo(f"mner serve: {run_dir} on http://{host}:{port}/ (max batch {max_batch}, max wait {max_wait_ms:g} ms)",
                   err=True)
        run_server(run_dir, host, port, workers, settings, precision, threads, log_level)
    except (FileNotFoundError, ValueError) as err:
        _fail(str(err))


def bench_serve(
    run_dir: Path = typer.Argument(..., help="Run folder, model directory or export to serve."),
    data: Optional[Path] = typer.Option(None, "--data", help="Posts to send (default: the bundled dev samples)."),
    fmt: Optional[str] = typer.Option(None, "--format", help="Format of --data (default: auto-detect)."),
    concurrency: str = typer.Option("1,8,32", "--concurrency", help="Comma-separated levels of requests in flight."),
    requests: int = typer.Option(400, "--requests", help="Requests per level (one post each)."),
    max_batch: int = typer.Option(32, "--max-batch"),
    forward_batch: int = typer.Option(8, "--forward-batch"),
    max_wait_ms: float = typer.Option(5.0, "--max-wait-ms"),
    precision: str = typer.Option("fp32", "--precision"),
    threads: Optional[int] = typer.Option(None, "--threads", help="torch threads for the server and offline run."),
    no_unbatched: bool = typer.Option(False, "--no-unbatched", help="Skip the max_batch=1 baseline."),
    output: Path = typer.Option(Path("benchmarks/serve/bench-serve.md"), "--output",
                                help="Markdown table (and a .json beside it)."),
) -> None:
    """Requests/s and p50/p95 latency of `mner serve` at several concurrencies, with and without
    dynamic batching, beside the offline Tagger.predict_many posts/s of the same model."""
    from mner.data.loading import load_posts
    from mner.samples import sample_path
    from mner.serve.bench import bench_table, run_bench_serve, write_report

    try:
        levels = tuple(int(x) for x in concurrency.split(",") if x.strip())
        if not levels or min(levels) < 1:
            raise ValueError(f"--concurrency {concurrency!r}: give positive integers, e.g. 1,8,32")
        posts = load_posts(data or sample_path("dev"), fmt if data else "jsonl")
        modes = ("batched",) if no_unbatched else ("batched", "unbatched")
        report = run_bench_serve(run_dir, posts, levels, requests, max_batch, max_wait_ms, precision, threads, modes,
                                 forward_batch=forward_batch,
                                 log=lambda line: typer.echo(line, err=True))
    except (FileNotFoundError, ValueError, RuntimeError, TimeoutError) as err:
        _fail(str(err))
    write_report(report, output)
    typer.echo(bench_table(report))
    typer.echo(f"written: {output} and {output.with_suffix('.json')}")
