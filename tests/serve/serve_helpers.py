"""Helpers shared by the serve tests: a real uvicorn server on a free loopback port, the trained model's
expected answer, request builders. A module of its own, imported by name: `from conftest import`
collides when several test folders are given to one pytest call."""

from __future__ import annotations

import io
import socket
import threading
import time

from PIL import Image

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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LiveServer:
    """uvicorn serving `app` on 127.0.0.1:<free port> in a thread, until `stop()`."""

    def __init__(self, app) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        import uvicorn

        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> "LiveServer":
        import httpx

        self.thread.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise TimeoutError("the test server did not become ready")

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def start_server(app) -> LiveServer:
    return LiveServer(app).start()
