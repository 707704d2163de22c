"""An ASGI wrapper that refuses a request body over `max_bytes` with a 413 before the app reads it.

The declared Content-Length is checked first; a chunked body (no length) is counted as it streams
in, up to the limit, so a client can never make the server buffer more than `max_bytes`. The
rest of an oversize body is read and dropped (not kept), so the client can read its 413."""

from __future__ import annotations

import json
from typing import Any, Callable

DRAIN_BYTES = 256 * 1024 * 1024  # past this, the connection is closed on the client instead
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class BodyLimit:
    def __init__(self, app: Any, max_bytes: int, on_refuse: Callable[[], None] | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.on_refuse = on_refuse or (lambda: None)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in ("POST", "PUT", "PATCH"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_big = int(declared) > self.max_bytes
            except ValueError:
                await self._refuse(send, 400, "the Content-Length header is not a number")
                return
            if too_big:
                await self._drain(receive)
                await self._refuse(send, 413, f"{int(declared)} bytes, more than max_body_bytes={self.max_bytes}")
                return
        chunks, size = [], 0
        while True:  # read the whole (bounded) body, then hand it to the app as one message
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_bytes:
                if message.get("more_body", False):
                    await self._drain(receive)
                await self._refuse(send, 413, f"more than max_body_bytes={self.max_bytes}")
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        sent = False

        async def replay() -> dict[str, Any]:
            nonlocal sent
            if sent:
                return await receive()  # after the body: the disconnect, when it comes
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}

        await self.app(scope, replay, send)

    async def _drain(self, receive: Receive) -> None:
        """Read and drop the rest of an oversize body (up to DRAIN_BYTES), so a client that sends its
        whole body before reading the answer gets the 413 instead of a reset connection."""
        dropped = 0
        while dropped < DRAIN_BYTES:
            message = await receive()
            if message["type"] != "http.request":
                return
            dropped += len(message.get("body", b""))
            if not message.get("more_body", False):
                return

    async def _refuse(self, send: Send, status: int, message: str) -> None:
        self.on_refuse()
        payload = json.dumps({"error": f"body: {message}", "field": "body"}).encode("utf-8")
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode()),
                                (b"connection", b"close")]})
        await send({"type": "http.response.body", "body": payload})
