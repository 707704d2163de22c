"""`mner serve --workers 2`: /metrics counts every request, whichever worker answered it and whichever
worker answers /metrics, and the shared metrics folder is gone when the server stops."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
import torch

from live_server import free_port
from serve_helpers import metric

ROUND = 16  # requests per round, 8 in flight
PREDICT_OK = 'mner_requests_total{route="/v1/predict",status="200"}'


def save_random_model(directory: Path, encoder_dir: Path) -> Path:
    """An untrained tiny model: what it tags does not matter here, only that every request is counted."""
    from mner.builders import build_model
    from mner.checkpoint import save_pretrained

    model_cfg = {"encoder": {"name": "encoder.hf.v1", "model": str(encoder_dir), "max_length": 64},
                 "head": {"name": "head.crf.v1"}}
    torch.manual_seed(0)
    model = build_model(model_cfg, ["O", "B-PER", "I-PER"])
    model.config = {"model": model_cfg}
    save_pretrained(model, directory, {"epoch": 0, "dev": {}})
    return directory


def predict_counts_per_worker(folder: Path) -> dict[str, float]:
    """Successful /v1/predict requests per worker process, from each worker's own file in the folder."""
    from prometheus_client.multiprocess import MultiProcessCollector

    counts = {}
    for path in sorted(folder.glob("counter_*.db")):
        pid = path.stem.split("_", 1)[1]
        counts[pid] = sum(s.value for m in MultiProcessCollector.merge([str(path)]) for s in m.samples
                          if s.name == "mner_requests_total" and s.labels == {"route": "/v1/predict", "status": "200"})
    return counts


@pytest.mark.slow  # two worker processes each import torch and load the model (about 30 s on a busy core)
def test_metrics_aggregate_across_two_workers(tiny_bert_dir, tmp_path):
    model = save_random_model(tmp_path / "model", tiny_bert_dir)
    scratch = tmp_path / "tmp"  # the server's temporary folders land here, where the test can see them
    scratch.mkdir()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "TMPDIR": str(scratch),
           "PYTHONPATH": os.pathsep.join([str(Path(__file__).resolve().parents[2] / "src"),
                                          os.environ.get("PYTHONPATH", "")])}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    process = subprocess.Popen([sys.executable, "-m", "mner", "serve", str(model), "--port", str(port),
                                "--workers", "2", "--threads", "1", "--precision", "fp32", "--log-level", "warning"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    try:
        deadline = time.monotonic() + 180
        while True:
            assert process.poll() is None, f"mner serve exited: {process.stderr.read().decode()[-2000:]}"
            try:
                if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline, "the server did not become ready"
            time.sleep(0.2)
        [folder] = scratch.glob("mner-serve-metrics-*")

        sent = 0
        with ThreadPoolExecutor(8) as pool:
            # rounds until both workers have answered some (the kernel picks the worker per connection)
            for _ in range(12):
                answers = list(pool.map(lambda i: httpx.post(f"{url}/v1/predict", json={"text": f"alice {i} wins"},
                                                             timeout=60), range(ROUND)))
                assert [a.status_code for a in answers] == [200] * ROUND
                sent += ROUND
                per_worker = predict_counts_per_worker(folder)
                if sum(1 for v in per_worker.values() if v > 0) >= 2:
                    break
        assert sum(1 for v in per_worker.values() if v > 0) == 2, per_worker  # both workers answered requests
        # a worker counts a request once its response is sent (ObserveRequests' `finally`), which can be
        # a moment after the client has read it: wait for the last counts to land, then require all of them
        settle = time.monotonic() + 10
        while sum(per_worker.values()) < sent and time.monotonic() < settle:
            time.sleep(0.05)
            per_worker = predict_counts_per_worker(folder)
        assert sum(per_worker.values()) == sent

        # every /metrics answer, from either worker (a new connection each), counts all of them
        for _ in range(6):
            text = httpx.get(f"{url}/metrics", timeout=10).text
            assert metric(text, PREDICT_OK) == sent
            assert metric(text, "mner_posts_total") == sent
            assert metric(text, 'mner_request_seconds_count{route="/v1/predict"}') == sent
            assert metric(text, "mner_batch_posts_sum") == sent + 2  # + each worker's one warm-up post
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            raise
    assert not list(scratch.glob("mner-serve-metrics-*")), "the metrics folder outlived the server"
