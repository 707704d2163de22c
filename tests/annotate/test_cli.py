"""`mner annotate PROJECT --images DIR --port P` as a user starts it: a real process on a loopback port."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from annotate_helpers import make_inputs
from live_server import free_port
from mner.cli.main import app

SRC = Path(__file__).resolve().parents[2] / "src"


def test_the_command_serves_the_project_and_a_restart_keeps_it(tmp_path):
    images, posts = make_inputs(tmp_path)
    port = free_port()
    env = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    command = [sys.executable, "-m", "mner", "annotate", str(tmp_path / "proj"), "--images", str(images), "--posts",
               str(posts), "--types", "PER,LOC", "--port", str(port), "--log-level", "warning"]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                info = httpx.get(f"http://127.0.0.1:{port}/v1/project", timeout=2).json()
                break
            except httpx.HTTPError:
                assert server.poll() is None, server.stdout.read()
                assert time.monotonic() < deadline, "the server did not start"
                time.sleep(0.2)
        assert info["types"] == ["PER", "LOC"] and info["total"] == 5
        item = httpx.get(f"http://127.0.0.1:{port}/v1/items/post3").json()
        saved = httpx.put(f"http://127.0.0.1:{port}/v1/items/post3",
                          json={"version": item["version"], "tokens": item["tokens"], "entities": item["entities"],
                                "done": True})
        assert saved.status_code == 200
        assert httpx.get(f"http://127.0.0.1:{port}/").text.startswith("<!doctype html>")
    finally:
        server.terminate()
        server.wait(timeout=30)
    from mner.annotate.store import AnnotationStore

    assert AnnotationStore(tmp_path / "proj").get("post3").done


def test_bad_arguments_are_one_line_errors(tmp_path):
    runner = CliRunner()
    result = runner.invoke(app, ["annotate", str(tmp_path / "new")])
    assert result.exit_code == 1 and "a new project needs --images and/or --posts" in result.output
    result = runner.invoke(app, ["annotate", str(tmp_path / "new"), "--images", str(tmp_path / "none")])
    assert result.exit_code == 1 and "images folder not found" in result.output
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "tokens": ["x"]}\n{"id": "a", "tokens": ["y"]}\n', encoding="utf-8")
    result = runner.invoke(app, ["annotate", str(tmp_path / "new"), "--posts", str(bad)])
    assert result.exit_code == 1 and "bad.jsonl:2: post id 'a' repeats the post at" in result.output
