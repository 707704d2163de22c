"""The annotation app: `create_annotate_app(project)`, served like `mner serve` (FastAPI + uvicorn).

    GET  /                       the page (static, no CDN)
    GET  /v1/project             types, progress, the item to resume at, every item's id and state
    GET  /v1/items/{id}          an item (prepared on first opening: OCR text, pre-tagged entities; the next
                                 new item is then prepared in the background, so its OCR is ready when opened)
    PUT  /v1/items/{id}          save tokens + entities + done, naming the version edited (409 if stale)
    POST /v1/undo/{id}           back to the state before the last save (409 if stale)
    GET  /v1/image/{k}/{id}      the item's k-th image, from the project's images folder only
    GET  /healthz, /readyz

Errors reuse `mner serve`'s pieces: a `RequestError` (status, field, message) becomes
`{"error", "field"}`, bodies are bounded by `BodyLimit`, sizes by `Limits`; anything unexpected is
logged and answered 500 without taking the server down.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import BackgroundTasks, FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from mner.annotate.checks import check_entities, check_tokens
from mner.annotate.project import Project
from mner.annotate.schemas import SaveIn, UndoIn
from mner.annotate.store import Item, NothingToUndo, StaleWriteError
from mner.data.safe_paths import UnsafePathError, resolve_inside
from mner.serve.body_limit import BodyLimit
from mner.serve.errors import RequestError, field_name
from mner.serve.limits import Limits

log = logging.getLogger(__name__)
STATIC_DIR = Path(__file__).parent / "static"


def item_out(item: Item, project: Project) -> dict[str, Any]:
    history = project.store.history(item.id)
    current = next((h for h in history if h["version"] == item.version), None)
    return {**item.to_dict(), "can_undo": bool(current and current["parent"] is not None),
            "image_urls": [f"/v1/image/{k}/{quote(item.id)}" for k in range(len(item.images))]}


def create_annotate_app(project: Project, limits: Limits | None = None) -> FastAPI:
    limits = limits or Limits(max_body_bytes=1024 * 1024, max_words=2048)
    app = FastAPI(title="mner annotate", version="1",
                  description="Label posts and images with entities (mner annotate); docs/annotate.md.")

    @app.exception_handler(RequestError)
    async def request_error(_: Request, err: RequestError) -> JSONResponse:
        return JSONResponse(err.to_dict(), status_code=err.status)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        loc = tuple(first["loc"])
        loc = loc[1:] if loc[:1] == ("body",) else loc  # name fields as the client wrote them
        return JSONResponse(RequestError(422, field_name(loc), first["msg"]).to_dict(), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        return JSONResponse(RequestError(err.status_code, None, str(err.detail)).to_dict(), status_code=err.status_code)

    @app.middleware("http")
    async def contain(request: Request, call_next: Any) -> Response:
        try:
            return await call_next(request)
        except Exception:  # noqa: BLE001 - a bug must cost one request, not the server
            log.exception("unexpected error on %s", request.url.path)
            return JSONResponse(RequestError(500, None, "internal error (logged on the server)").to_dict(), 500)

    def find(item_id: str) -> Item:
        item = project.store.get(item_id)
        if item is None:
            raise RequestError(404, "id", f"no item {item_id!r} in this project")
        return item

    @app.get("/v1/project")
    async def project_info() -> dict[str, Any]:
        overview = project.store.overview()
        return {"name": project.store.project_dir.resolve().name, "types": project.types, "model": project.model_name,
                "total": len(overview), "done": sum(i["done"] for i in overview),
                "resume": project.store.first_unfinished(), "items": overview}

    def prepare_ahead(position: int) -> None:
        """OCR and pre-tag the next new item while the person works on this one (seconds of OCR hidden)."""
        next_id = project.store.next_unprepared(position)
        if next_id is not None:
            try:
                project.open_item(next_id)
            except (OSError, ValueError) as err:  # reported when that item is opened
                log.warning("preparing item %r ahead: %s", next_id, err)

    @app.get("/v1/items/{item_id:path}")
    async def get_item(item_id: str, background: BackgroundTasks) -> dict[str, Any]:
        find(item_id)
        try:  # OCR and the model are CPU work: off the event loop
            item = await run_in_threadpool(project.open_item, item_id)
        except (OSError, ValueError) as err:  # an unreadable image: say which, keep serving
            raise RequestError(422, "images", f"item {item_id!r}: {err}") from None
        background.add_task(prepare_ahead, item.position)  # type: ignore[union-attr]  # in a thread, after the answer
        return item_out(item, project)  # type: ignore[arg-type]

    @app.put("/v1/items/{item_id:path}")
    async def save_item(item_id: str, body: SaveIn) -> dict[str, Any]:
        find(item_id)
        tokens = check_tokens(body.tokens, limits)
        entities = check_entities(body.entities, len(tokens), project.types)
        try:
            item = await run_in_threadpool(project.store.save, item_id, body.version, tokens, entities, body.done)
        except StaleWriteError as err:
            raise RequestError(409, "version", str(err)) from None
        return item_out(item, project)

    @app.post("/v1/undo/{item_id:path}")
    async def undo_item(item_id: str, body: UndoIn) -> dict[str, Any]:
        find(item_id)
        try:
            item = await run_in_threadpool(project.store.undo, item_id, body.version)
        except StaleWriteError as err:
            raise RequestError(409, "version", str(err)) from None
        except NothingToUndo as err:
            raise RequestError(409, "version", str(err)) from None
        return item_out(item, project)

    @app.get("/v1/image/{index}/{item_id:path}")
    async def image(index: int, item_id: str) -> FileResponse:
        item = find(item_id)
        if not 0 <= index < len(item.images) or project.images_dir is None:
            raise RequestError(404, "index", f"item {item_id!r} has {len(item.images)} images")
        try:
            path = resolve_inside(project.images_dir, item.images[index])
        except UnsafePathError as err:
            raise RequestError(404, "index", str(err)) from None
        if not path.is_file():
            raise RequestError(404, "index", f"image {item.images[index]} is no longer in {project.images_dir}")
        return FileResponse(path)

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz")
    async def readyz() -> dict[str, bool]:
        return {"ready": True}  # the project and model are loaded before the app exists

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes)
    return app


def serve_project(project: Project, host: str = "127.0.0.1", port: int = 8010, log_level: str = "info") -> None:
    import uvicorn

    uvicorn.run(create_annotate_app(project), host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
