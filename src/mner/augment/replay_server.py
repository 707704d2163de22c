"""A local OpenAI-compatible chat endpoint that answers from recorded fixtures.

For tests, benchmarks and offline demos of `mner augment` / `mner llm`: a real HTTP server
(threads, one loopback port) speaking ``POST /v1/chat/completions``. Each fixture rule
names a substring of the request's last user message and a script of replies, played in
turn for the requests that match it (the last one repeats). A reply is one of

- ``{"content": "...", "finish_reason": "stop", "usage": {...}}``  a normal answer
  (``finish_reason: "length"`` records a truncated one);
- ``{"status": 429, "retry_after": 0}`` / ``{"status": 500}``      an HTTP error;
- ``{"raw": "not json{"}``                                          a broken 200 body;
- ``{"hang": 5.0}``                                                 no answer for that long.

Requests matching no rule get `default` (a reply as above). `requests` counts them per rule.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

DEFAULT_REPLY = {"content": "Named entities may not be present in this text."}


def last_user_text(body: Mapping[str, Any]) -> str:
    for message in reversed(body.get("messages") or []):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
            return str(content)
    return ""


class ReplayServer:
    """`with ReplayServer(rules) as server:` then `server.base_url` (``http://127.0.0.1:PORT/v1``)."""

    def __init__(self, rules: Sequence[Mapping[str, Any]] = (), default: Mapping[str, Any] = DEFAULT_REPLY,
                 delay_s: float = 0.0) -> None:
        self.rules = [dict(r) for r in rules]  # {"match": str, "replies": [reply, ...]}
        self.default = dict(default)
        self.delay_s = delay_s  # every answer's simulated generation time
        self.requests: Counter[str] = Counter()
        self.bodies: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def __enter__(self) -> "ReplayServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._stop.set()  # wakes hanging handlers
        if self._thread.is_alive():  # shutdown() waits for serve_forever, which may never have started
            self._httpd.shutdown()
        self._httpd.server_close()

    def choose(self, body: dict[str, Any]) -> dict[str, Any]:
        text = last_user_text(body)
        with self._lock:
            self.bodies.append(body)
            for rule in self.rules:
                if rule["match"] in text:
                    n = self.requests[rule["match"]]
                    self.requests[rule["match"]] += 1
                    replies = rule["replies"]
                    return dict(replies[min(n, len(replies) - 1)])
            self.requests["(default)"] += 1
            return dict(self.default)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # quiet
                pass

            def setup(self) -> None:
                super().setup()
                # headers and body leave in two writes: without this, Nagle + delayed ACK add ~40 ms
                self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

            def send(self, status: int, payload: bytes, headers: Mapping[str, str] = {}) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                for k, v in headers.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(payload)

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                length = int(self.headers.get("Content-Length") or 0)
                try:
                    body = json.loads(self.rfile.read(length))
                except json.JSONDecodeError:
                    self.send(400, b'{"error": {"message": "request body is not JSON"}}')
                    return
                if not self.path.rstrip("/").endswith("/chat/completions"):
                    self.send(404, b'{"error": {"message": "unknown path"}}')
                    return
                reply = server.choose(body)
                if "hang" in reply:
                    server._stop.wait(float(reply["hang"]))
                    self.close_connection = True
                    return
                if server.delay_s:
                    server._stop.wait(server.delay_s)
                if "status" in reply:
                    headers = {"Retry-After": str(reply["retry_after"])} if "retry_after" in reply else {}
                    message = json.dumps({"error": {"message": f"simulated HTTP {reply['status']}"}})
                    self.send(int(reply["status"]), message.encode(), headers)
                elif "raw" in reply:
                    self.send(200, str(reply["raw"]).encode())
                else:
                    self.send(200, json.dumps(completion(body, reply)).encode())

        return Handler


def completion(body: Mapping[str, Any], reply: Mapping[str, Any]) -> dict[str, Any]:
    content = str(reply["content"])
    prompt_tokens = sum(len(json.dumps(m.get("content", "")).split()) for m in body.get("messages") or [])
    usage = reply.get("usage") or {"prompt_tokens": prompt_tokens, "completion_tokens": len(content.split()),
                                   "total_tokens": prompt_tokens + len(content.split())}
    return {"id": "chatcmpl-replay", "object": "chat.completion", "model": body.get("model", ""),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": content},
                         "finish_reason": reply.get("finish_reason", "stop")}], "usage": usage}
