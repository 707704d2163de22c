"""An ASGI wrapper that times and counts every HTTP request, and answers 500 for a bug.

Written against ASGI directly rather than as `@app.middleware("http")`: Starlette's
BaseHTTPMiddleware runs every request in an anyio task group and wraps every `receive` in another
one, which cost about a third of the event loop's CPU under load (BENCHMARKS.md, "mner serve:
where the server's CPU goes"). Here a request costs one closure over `send`.
"""

from __future__ import annotations

import logging
import time
from typing import Any, Callable

log = logging.getLogger(__name__)
Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


class ObserveRequests:
    """`on_response(path, status, seconds)` after every HTTP request; an exception the app let through
    is logged and answered by the ASGI app `on_bug()` returns (unless a response had already started:
    then the connection is dropped, as uvicorn does), and counted as status 500."""

    def __init__(self, app: Any, on_response: Callable[[str, int, float], None], on_bug: Callable[[], Any]) -> None:
        self.app = app
        self.on_response = on_response
        self.on_bug = on_bug

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status, started = 500, False  # until the app starts a response

        async def noting_status(message: dict[str, Any]) -> None:
            nonlocal status, started
            if message["type"] == "http.response.start":
                status, started = message["status"], True
            await send(message)

        try:
            await self.app(scope, receive, noting_status)
        except Exception:  # noqa: BLE001 - a bug must cost one request, not the server
            log.exception("unexpected error on %s", scope.get("path"))
            status = 500
            if started:
                raise
            await self.on_bug()(scope, receive, send)
        finally:
            self.on_response(scope.get("path", ""), status, time.perf_counter() - start)
