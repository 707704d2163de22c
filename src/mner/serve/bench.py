"""`mner bench-serve`: the server's throughput and latency under concurrent load, beside the
offline throughput of the same model (`Tagger.predict_many`), with and without dynamic batching.

For each mode a real `mner serve` process is started on a free loopback port; an async httpx load
generator keeps `c` requests in flight (one post per request, the posts of `--data` in turn) and
records each request's latency. The offline figure runs first, in this process, alone, over the
same posts. The ratio "vs offline" is served posts/s over offline posts/s: the server's overhead
(HTTP, JSON, batching delay), given that the load generator shares the machine's cores.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from mner.data.post import Post


@dataclass
class LoadResult:
    mode: str  # "batched" | "unbatched"
    concurrency: int
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p95_ms: float

    @property
    def posts_per_s(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


def request_bodies(posts: list[Post]) -> list[bytes]:
    """One JSON body per post: its words (so server and offline tag the same tokens) and visual text."""
    bodies = []
    for post in posts:
        body: dict[str, Any] = {"id": post.id, "tokens": post.tokens}
        body.update({k: v for k, v in post.visual_text.items() if k in ("caption", "knowledge", "ocr")})
        bodies.append(json.dumps(body).encode("utf-8"))
    return bodies


def offline_posts_per_s(model_dir: Path, posts: list[Post], precision: str, batch_size: int,
                        min_seconds: float = 5.0) -> float:
    """`Tagger.predict_many` over all posts, repeated until `min_seconds` have passed (after one warm-up)."""
    from mner.export import load_tagger

    tagger = load_tagger(model_dir, batch_size=batch_size, precision=precision)
    tagger.predict_many(posts[:batch_size])  # warm-up: first-call allocations and lazy imports
    done, start = 0, time.perf_counter()
    while True:
        tagger.predict_many(posts)
        done += len(posts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed


async def _load(url: str, bodies: list[bytes], concurrency: int, total: int) -> tuple[list[float], int, float]:
    import httpx

    latencies: list[float] = []
    errors = 0
    next_index = 0
    headers = {"content-type": "application/json"}
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:
        async def worker() -> None:
            nonlocal next_index, errors
            while next_index < total:
                body = bodies[next_index % len(bodies)]
                next_index += 1
                start = time.perf_counter()
                response = await client.post(url, content=body, headers=headers)
                latencies.append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors += 1

        warm = [client.post(url, content=bodies[i % len(bodies)], headers=headers) for i in range(concurrency)]
        await asyncio.gather(*warm)  # open the connections before the clock starts
        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return latencies, errors, time.perf_counter() - start


class ServerProcess:
    """`python -m mner serve MODEL ...` on a free loopback port, until `stop()`."""

    def __init__(self, model_dir: Path, max_batch: int, max_wait_ms: float, precision: str,
                 threads: int | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "mner", "serve", str(model_dir), "--port", str(self.port),
                   "--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms), "--precision", precision,
                   "--log-level", "warning"]
        if threads:
            command += ["--threads", str(threads)]
        self.log = tempfile.TemporaryFile()  # not a pipe: a chatty server must never block on a full one
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=self.log,
                                        env={**os.environ, "PYTHONUNBUFFERED": "1"})

    def wait_ready(self, timeout: float = 300.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self.log.seek(0)
                raise RuntimeError(f"mner serve exited ({self.process.returncode}): "
                                   f"{self.log.read().decode(errors='replace')[-2000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2.0).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise TimeoutError(f"mner serve was not ready after {timeout:.0f} s")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.log.close()


def run_bench_serve(model_dir: str | Path, posts: list[Post], concurrencies: tuple[int, ...] = (1, 8, 32),
                    requests: int = 400, max_batch: int = 32, max_wait_ms: float = 5.0, precision: str = "fp32",
                    threads: int | None = None, modes: tuple[str, ...] = ("batched", "unbatched"),
                    log: Callable[[str], None] = print, offline_seconds: float = 5.0) -> dict[str, Any]:
    model_dir = Path(model_dir)
    posts = [p for p in posts if p.tokens]
    if not posts:
        raise ValueError("no non-empty posts to send")
    if threads:
        import torch

        torch.set_num_threads(threads)
    log(f"offline: Tagger.predict_many over {len(posts)} posts (batch size {max(max_batch, 1)}) ...")
    offline = offline_posts_per_s(model_dir, posts, precision, batch_size=max(max_batch, 1), min_seconds=offline_seconds)
    log(f"offline: {offline:.1f} posts/s")
    bodies = request_bodies(posts)
    results: list[LoadResult] = []
    for mode in modes:
        batch, wait = (max_batch, max_wait_ms) if mode == "batched" else (1, 0.0)
        server = ServerProcess(model_dir, batch, wait, precision, threads)
        try:
            server.wait_ready()
            for concurrency in concurrencies:
                total = max(requests, concurrency * 4)
                latencies, errors, seconds = asyncio.run(_load(f"{server.url}/v1/predict", bodies, concurrency, total))
                result = LoadResult(mode, concurrency, len(latencies), errors, seconds,
                                    1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.95))
                results.append(result)
                log(f"{mode} c={concurrency}: {result.posts_per_s:.1f} posts/s, p50 {result.p50_ms:.1f} ms, "
                    f"p95 {result.p95_ms:.1f} ms, {errors} errors")
        finally:
            server.stop()
    return {"model": model_dir.resolve().name, "posts": len(posts), "offline_posts_per_s": offline,
            "max_batch": max_batch, "max_wait_ms": max_wait_ms, "precision": precision,
            "threads": threads, "results": [{**asdict(r), "posts_per_s": r.posts_per_s,
                                             "vs_offline": r.posts_per_s / offline} for r in results]}


def bench_table(report: dict[str, Any]) -> str:
    lines = [f"model `{report['model']}`, {report['posts']} distinct posts, one post per request; offline "
             f"`Tagger.predict_many` {report['offline_posts_per_s']:.1f} posts/s; batched = max_batch "
             f"{report['max_batch']}, max_wait_ms {report['max_wait_ms']:g}; unbatched = max_batch 1",
             "",
             "| mode | concurrency | requests | errors | posts/s | p50 ms | p95 ms | vs offline |",
             "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        lines.append(f"| {r['mode']} | {r['concurrency']} | {r['requests']} | {r['errors']} | {r['posts_per_s']:.1f} | "
                     f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {100 * r['vs_offline']:.0f}% |")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], output: Path) -> None:
    from mner.checkpoint import atomic_write_text

    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output, bench_table(report))
    atomic_write_text(output.with_suffix(".json"), json.dumps(report, indent=1) + "\n")
