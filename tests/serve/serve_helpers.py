"""Helpers shared by the serve tests: a real uvicorn server on a free loopback port, the trained model's
expected answer, request builders. A module of its own, imported by name: `from conftest import`
collides when several test folders are given to one pytest call."""

from __future__ import annotations

import io

from PIL import Image

from live_server import LiveServer

POST = "Alice Smith wins in Paris"
EXPECTED = [{"start": 0, "end": 2, "text": "Alice Smith", "type": "PER"}, {"start": 4, "end": 5, "text": "Paris", "type": "LOC"}]


def spans(post: dict) -> list[dict]:
    return [{k: e[k] for k in ("start", "end", "text", "type")} for e in post["entities"]]


def png_bytes(size=(32, 24)) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, "PNG")
    return buffer.getvalue()


def metric(text: str, name: str) -> float:
    """The value of the first sample `name` (with or without labels) in a Prometheus text page; 0 if absent."""
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def start_server(app) -> LiveServer:
    return LiveServer(app).start()
