"""Any model mner loads is served (run folder, int8, ONNX), bf16 is reported, the multi-worker
factory rebuilds the same app, and `mner bench-serve` measures a real server."""

from __future__ import annotations

import json
import os
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from serve_helpers import EXPECTED, spans, start_server


def served_entities(model_dir: Path, **load_kwargs) -> tuple[list[dict], dict]:
    from mner.serve import load_app

    live = start_server(load_app(model_dir, **load_kwargs))
    try:
        post = httpx.post(f"{live.url}/v1/predict", json={"text": "Alice Smith wins in Paris"}).json()["posts"][0]
        return spans(post), httpx.get(f"{live.url}/v1/model").json()
    finally:
        live.stop()


@pytest.mark.parametrize("target,kind", [("int8", "int8"), ("onnx", "onnx")])
def test_exports_are_served_like_the_run_folder(trained_model_dir, tmp_path, target, kind):
    if target == "onnx":
        pytest.importorskip("onnxruntime", reason="ONNX exports need the bench extra")
        pytest.importorskip("onnx", reason="ONNX exports need the bench extra")
    from mner.export import export_model

    exported = export_model(trained_model_dir, target, tmp_path / target)
    found, info = served_entities(exported)
    assert found == EXPECTED
    assert info["kind"] == kind


def test_bf16_precision_is_served_and_reported(trained_model_dir):
    found, info = served_entities(trained_model_dir, precision="bf16")
    assert info["precision"] == "bf16"
    assert [e["type"] for e in found] == ["PER", "LOC"]


def test_worker_factory_rebuilds_the_app_from_the_environment(trained_model_dir, monkeypatch):
    from mner.serve import Limits, ServeSettings
    from mner.serve import runner

    settings = ServeSettings(max_batch=3, max_wait_ms=1.5, forward_batch=2, limits=Limits(max_posts=5))
    monkeypatch.setenv(runner.SPEC_ENV, json.dumps({"model_dir": str(trained_model_dir), "precision": "fp32",
                                                     "threads": None, "settings": runner._settings_dict(settings)}))
    live = start_server(runner.app_from_env())
    try:
        info = httpx.get(f"{live.url}/v1/model").json()
        assert info["batching"] == {"max_batch": 3, "max_wait_ms": 1.5, "forward_batch": 2} and info["limits"]["max_posts"] == 5
    finally:
        live.stop()


def test_missing_model_is_a_clear_cli_error(tmp_path):
    from mner.cli.main import app

    result = CliRunner().invoke(app, ["serve", str(tmp_path / "nothing"), "--port", "1"])
    assert result.exit_code == 1
    assert "holds no mner model" in result.output


def test_bench_serve_measures_a_real_server_against_offline(trained_model_dir, tmp_path, monkeypatch):
    from mner.cli.main import app

    src = str(Path(__file__).resolve().parents[2] / "src")  # the server subprocess imports this checkout
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join([src, os.environ.get("PYTHONPATH", "")]))
    posts = tmp_path / "posts.jsonl"
    posts.write_text("\n".join(json.dumps({"id": f"p{i}", "tokens": "Alice Smith wins in Paris".split()})
                               for i in range(6)) + "\n")
    out = tmp_path / "bench.md"
    from mner.serve import bench

    monkeypatch.setattr(bench, "offline_throughput", lambda *a, **k: (100.0, 50.0))  # timed in its own test
    result = CliRunner().invoke(app, ["bench-serve", str(trained_model_dir), "--data", str(posts), "--concurrency", "1,4",
                                      "--requests", "12", "--threads", "1", "--no-unbatched",
                                      "--output", str(out)])
    assert result.exit_code == 0, result.output
    report = json.loads(out.with_suffix(".json").read_text())
    rows = [(r["mode"], r["concurrency"]) for r in report["results"]]
    assert rows == [("batched", 1), ("batched", 4)]  # one server start keeps the test short
    for r in report["results"]:
        assert r["errors"] == 0 and r["requests"] >= 12 and r["posts_per_s"] > 0
        assert r["p95_ms"] >= r["p50_ms"] > 0
        assert r["vs_offline"] == pytest.approx(r["posts_per_s"] / 100.0)
        assert r["server_cpu_s"] > 0 and r["cpu_vs_offline"] == pytest.approx(r["posts_per_cpu_s"] / 50.0)
    assert "| batched | 4 |" in out.read_text()


def test_offline_throughput_counts_posts_per_second(trained_model_dir):
    from mner.data.post import Post
    from mner.serve.bench import offline_throughput, percentile, process_cpu_seconds

    wall, cpu = offline_throughput(trained_model_dir, [Post(id="a", tokens=["Alice", "Smith"])] * 8, "fp32", 4,
                                   min_seconds=0.2)
    assert wall > 0 and cpu > 0
    assert process_cpu_seconds(os.getpid()) > 0
    assert percentile([3.0, 1.0, 2.0], 0.5) == 2.0 and percentile([1.0, 2.0], 0.95) == 2.0
