"""A bounded soak: 1,000 mixed requests (valid, malformed, oversize, bad images, paths), 16 in flight,
against `mner serve` started as its own process by the CLI. Every valid request gets the right
entities, every bad one a 4xx, nothing a 5xx, and the server's memory stops growing."""

from __future__ import annotations

import asyncio
import base64
import os
import random
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from live_server import free_port
from serve_helpers import EXPECTED, png_bytes, spans

REQUESTS = 1000
CONCURRENCY = 16


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


@pytest.fixture(scope="module")
def cli_server(trained_model_dir):
    port = free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"),
                                                         os.environ.get("PYTHONPATH", "")])}
    process = subprocess.Popen([sys.executable, "-m", "mner", "serve", str(trained_model_dir), "--port", str(port),
                                "--max-batch", "16", "--max-wait-ms", "5", "--threads", "1", "--max-body-mb", "1",
                                "--max-posts", "8", "--log-level", "warning"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        assert process.poll() is None, "mner serve exited"
        try:
            if httpx.get(f"{url}/readyz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield url, process.pid
    process.terminate()
    process.wait(timeout=20)


def mixed_requests(n: int, seed: int = 0) -> list[tuple[str, dict, int | None]]:
    """(kind, httpx kwargs, expected status; None for valid ones, checked by content)."""
    image = base64.b64encode(png_bytes()).decode()
    json_header = {"content-type": "application/json"}
    kinds = [
        ("valid text", {"json": {"text": "Alice Smith wins in Paris"}}, None),
        ("valid list", {"json": {"posts": [{"text": "Alice Smith wins in Paris"}] * 3}}, None),
        ("valid image", {"json": {"text": "Alice Smith wins in Paris", "images": [image]}}, None),
        ("valid upload", {"data": {"text": "Alice Smith wins in Paris"},
                          "files": [("images", ("a.png", png_bytes(), "image/png"))]}, None),
        ("malformed", {"content": b'{"text": ', "headers": json_header}, 400),
        ("wrong type", {"json": {"text": ["Alice"]}}, 422),
        ("oversize body", {"content": b'{"text": "' + b"x " * 700_000 + b'"}', "headers": json_header}, 413),
        ("too many posts", {"json": {"posts": [{"text": "a"}] * 20}}, 413),
        ("undecodable image", {"json": {"text": "a", "images": [base64.b64encode(b"GIF89a garbage").decode()]}}, 422),
        ("image path", {"json": {"text": "a", "images": ["/etc/hostname"]}}, 422),
    ]
    rng = random.Random(seed)
    return [rng.choice(kinds) for _ in range(n)]


async def soak(url: str, pid: int) -> tuple[list[str], list[float]]:
    failures: list[str] = []
    memory: list[float] = []
    plan = mixed_requests(REQUESTS)
    next_index = 0
    async with httpx.AsyncClient(timeout=60) as client:
        async def worker() -> None:
            nonlocal next_index
            while next_index < len(plan):
                index = next_index
                next_index += 1
                kind, kwargs, status = plan[index]
                response = await client.post(f"{url}/v1/predict", **kwargs)
                if status is None:
                    if response.status_code != 200 or any(spans(p) != EXPECTED for p in response.json()["posts"]):
                        failures.append(f"{index} {kind}: {response.status_code} {response.text[:200]}")
                elif response.status_code != status:
                    failures.append(f"{index} {kind}: expected {status}, got {response.status_code} {response.text[:200]}")
                if index % 250 == 249:
                    memory.append(rss_mb(pid))

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    return failures, memory


def test_a_thousand_mixed_requests_no_5xx_right_answers_and_flat_memory(cli_server):
    url, pid = cli_server
    failures, memory = asyncio.run(soak(url, pid))
    assert failures == []
    assert len(memory) == 4
    # after the first quarter (allocator and caches warm) the resident size must stay flat
    assert memory[-1] - memory[0] < 30, f"RSS grew {memory} MB"
    metrics = httpx.get(f"{url}/metrics").text
    assert 'status="500"' not in metrics
    assert httpx.get(f"{url}/readyz").status_code == 200
