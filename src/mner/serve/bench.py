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
    server_cpu_s: float | None = None  # the server process's user + system CPU time during the level

    @property
    def posts_per_s(self) -> float:
        return (self.requests - self.errors) / self.seconds if self.seconds else 0.0

    @property
    def posts_per_cpu_s(self) -> float | None:
        return (self.requests - self.errors) / self.server_cpu_s if self.server_cpu_s else None


def process_cpu_seconds(pid: int) -> float | None:
    """user + system CPU seconds of a process (Linux /proc; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime


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


def offline_throughput(model_dir: Path, posts: list[Post], precision: str, batch_size: int,
                       min_seconds: float = 5.0) -> tuple[float, float]:
    """(posts per wall second, posts per CPU second) of `Tagger.predict_many` over all posts, repeated
    until `min_seconds` have passed (after one warm-up). CPU time counts this process's threads only, so
    on a machine shared with other jobs it is the steadier of the two."""
    from mner.export import load_tagger

    tagger = load_tagger(model_dir, batch_size=batch_size, precision=precision)
    tagger.predict_many(posts[:batch_size])  # warm-up: first-call allocations and lazy imports
    done, start, cpu_start = 0, time.perf_counter(), time.process_time()
    while True:
        tagger.predict_many(posts)
        done += len(posts)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return done / elapsed, done / max(time.process_time() - cpu_start, 1e-9)


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
                 threads: int | None = None, forward_batch: int = 8) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "mner", "serve", str(model_dir), "--port", str(self.port),
                   "--max-batch", str(max_batch), "--max-wait-ms", str(max_wait_ms), "--precision", precision,
                   "--forward-batch", str(forward_batch),
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
                    log: Callable[[str], None] = print, offline_seconds: float = 5.0,
                    forward_batch: int = 8, offline_batch: int = 64) -> dict[str, Any]:
    model_dir = Path(model_dir)
    posts = [p for p in posts if p.tokens]
    if not posts:
        raise ValueError("no non-empty posts to send")
    if threads:
        import torch

        torch.set_num_threads(threads)
    def measure_offline() -> tuple[float, float]:
        log(f"offline: Tagger.predict_many over {len(posts)} posts (batch size {offline_batch}) ...")
        wall, cpu = offline_throughput(model_dir, posts, precision, offline_batch, offline_seconds)
        log(f"offline: {wall:.1f} posts/s, {cpu:.1f} posts per CPU second")
        return wall, cpu

    before = measure_offline()
    bodies = request_bodies(posts)
    results: list[LoadResult] = []
    for mode in modes:
        batch, wait = (max_batch, max_wait_ms) if mode == "batched" else (1, 0.0)
        server = ServerProcess(model_dir, batch, wait, precision, threads, forward_batch if mode == "batched" else 1)
        try:
            server.wait_ready()
            for concurrency in concurrencies:
                total = max(requests, concurrency * 4)
                cpu_start = process_cpu_seconds(server.process.pid)
                latencies, errors, seconds = asyncio.run(_load(f"{server.url}/v1/predict", bodies, concurrency, total))
                cpu_end = process_cpu_seconds(server.process.pid)
                cpu = cpu_end - cpu_start if cpu_start is not None and cpu_end is not None else None
                result = LoadResult(mode, concurrency, len(latencies), errors, seconds,
                                    1000 * percentile(latencies, 0.5), 1000 * percentile(latencies, 0.95), cpu)
                results.append(result)
                log(f"{mode} c={concurrency}: {result.posts_per_s:.1f} posts/s, p50 {result.p50_ms:.1f} ms, "
                    f"p95 {result.p95_ms:.1f} ms, {errors} errors")
        finally:
            server.stop()
    after = measure_offline()  # again: on a shared machine the load drifts during the run
    offline, offline_cpu = (before[0] + after[0]) / 2, (before[1] + after[1]) / 2
    rows = []
    for r in results:
        per_cpu = r.posts_per_cpu_s
        rows.append({**asdict(r), "posts_per_s": r.posts_per_s, "vs_offline": r.posts_per_s / offline,
                     "posts_per_cpu_s": per_cpu, "cpu_vs_offline": per_cpu / offline_cpu if per_cpu else None})
    return {"model": model_dir.resolve().name, "posts": len(posts), "offline_posts_per_s": offline,
            "offline_posts_per_s_before_after": [before[0], after[0]], "offline_posts_per_cpu_s": offline_cpu,
            "max_batch": max_batch, "max_wait_ms": max_wait_ms, "forward_batch": forward_batch,
            "offline_batch": offline_batch, "precision": precision,
            "threads": threads, "results": rows}


def bench_table(report: dict[str, Any]) -> str:
    before, after = report["offline_posts_per_s_before_after"]
    lines = [f"model `{report['model']}`, {report['posts']} distinct posts, one post per request; offline "
             f"`Tagger.predict_many` (batch {report['offline_batch']}) {report['offline_posts_per_s']:.1f} posts/s (mean of {before:.1f} before and "
             f"{after:.1f} after the served runs), {report['offline_posts_per_cpu_s']:.1f} posts per CPU second; "
             f"batched = max_batch {report['max_batch']}, max_wait_ms {report['max_wait_ms']:g}, forward_batch "
             f"{report['forward_batch']}; unbatched = max_batch 1",
             "",
             "| mode | concurrency | requests | errors | posts/s | p50 ms | p95 ms | vs offline | "
             "posts per server CPU s | vs offline per CPU s |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in report["results"]:
        per_cpu = f"{r['posts_per_cpu_s']:.1f} | {100 * r['cpu_vs_offline']:.0f}%" if r["posts_per_cpu_s"] else "- | -"
        lines.append(f"| {r['mode']} | {r['concurrency']} | {r['requests']} | {r['errors']} | {r['posts_per_s']:.1f} | "
                     f"{r['p50_ms']:.1f} | {r['p95_ms']:.1f} | {100 * r['vs_offline']:.0f}% | {per_cpu} |")
    return "\n".join(lines) + "\n"


def write_report(report: dict[str, Any], output: Path) -> None:
    from mner.checkpoint import atomic_write_text

    output.parent.mkdir(parents=True, exist_ok=True)
    atomic_write_text(output, bench_table(report))
    atomic_write_text(output.with_suffix(".json"), json.dumps(report, indent=1) + "\n")
