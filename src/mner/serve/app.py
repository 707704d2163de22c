"""The FastAPI app over one loaded tagger: `create_app(tagger)`, or `load_app(model_dir)`.

    POST /v1/predict   one post or a list (JSON: base64 images; or multipart: uploaded images)
    GET  /v1/model     labels, inputs, config digest, precision, batching, limits
    GET  /healthz      the process answers;  GET /readyz: the model is loaded and warmed up
    GET  /metrics      Prometheus;  GET /: the web page;  GET /docs, /openapi.json: the schema

Any tagger `mner.export.load_tagger` opens works: a run folder, a model directory, an int8 or an
ONNX export. Requests go through `DynamicBatcher`, so the model runs off the event loop and
concurrent requests share forward passes. Bad input is a 4xx naming the field (`RequestError`);
anything unexpected is logged and answered 500 without taking the server down.
"""

from __future__ import annotations

import re
import tempfile
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mner.data.post import Post
from mner.evaluation import encoder_lengths
from mner.model_inputs import post_inputs
from mner.serve.batcher import DynamicBatcher
from mner.serve.body_limit import BodyLimit
from mner.serve.errors import RequestError, field_name
from mner.serve.limits import Limits
from mner.serve.metrics import ServeMetrics
from mner.serve.observe import ObserveRequests
from mner.serve.posts import build_posts
from mner.serve.request_body import read_form, read_json
from mner.serve.schemas import ErrorOut, ModelInfo, PredictRequest, PredictResponse
from mner.serve.model_info import model_info

STATIC_DIR = Path(__file__).parent / "static"
ROUTES = ("/v1/predict", "/v1/model", "/healthz", "/readyz", "/metrics", "/")  # metric labels: nothing else
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorOut, "description": text} for code, text in
    ((400, "Malformed body (not JSON, not UTF-8, bad multipart)."), (413, "Over a limit (see GET /v1/model)."),
     (415, "Neither JSON nor multipart."), (422, "A field has the wrong type or an unusable value."))}


@dataclass
class ServeSettings:
    max_batch: int = 32  # posts collected from waiting requests, the pool each forward pass is picked from
    # Posts per forward pass, picked from the pool by length (`DynamicBatcher`), so a pass barely
    # pads: 32 posts in arrival order padded to the longest cost ~1.4x as much CPU per post as
    # passes of 8 similar-length ones (BENCHMARKS.md, "mner serve").
    forward_batch: int = 8
    max_wait_ms: float = 5.0  # how long the first request of a batch waits for company
    limits: Limits = field(default_factory=Limits)


def load_app(model_dir: str | Path, settings: ServeSettings | None = None, precision: str = "fp32",
             threads: int | None = None, metrics_dir: str | Path | None = None) -> FastAPI:
    """Load the model in `model_dir` once and serve it; `metrics_dir`: the workers' shared metrics folder."""
    from mner.export import load_tagger

    settings = settings or ServeSettings()
    if threads:
        import torch

        torch.set_num_threads(threads)
    tagger = load_tagger(model_dir, batch_size=settings.forward_batch, precision=precision)
    return create_app(tagger, settings, name=Path(model_dir).resolve().name, metrics_dir=metrics_dir)


def create_app(tagger: Any, settings: ServeSettings | None = None, name: str = "model",
               metrics_dir: str | Path | None = None) -> FastAPI:
    settings = settings or ServeSettings()
    limits = settings.limits
    metrics = ServeMetrics(metrics_dir)
    batcher = DynamicBatcher(tagger.predict_many, settings.max_batch, settings.max_wait_ms,
                             on_batch=metrics.batch_posts.observe, pass_size=settings.forward_batch,
                             length=partial(encoder_lengths, getattr(tagger, "model", None)))
    info = model_info(tagger, name, settings)
    state = {"ready": False}

    @asynccontextmanager
    async def lifespan(_: FastAPI):
        await batcher.start()
        await batcher.run([Post(id="warm-up", tokens=["warm", "up"])])  # first forward pass before /readyz
        state["ready"] = True
        yield
        state["ready"] = False
        await batcher.stop()

    app = FastAPI(title="mner", version="1", lifespan=lifespan,
                  description="Multimodal named entity recognition for social-media posts (mner serve).")

    @app.exception_handler(RequestError)
    async def request_error(_: Request, err: RequestError) -> JSONResponse:
        return _error_response(metrics, err)

    @app.exception_handler(RequestValidationError)
    async def validation_error(_: Request, err: RequestValidationError) -> JSONResponse:
        first = err.errors()[0] if err.errors() else {"loc": (), "msg": "invalid request"}
        return _error_response(metrics, RequestError(422, field_name(first["loc"]), first["msg"]))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, err: StarletteHTTPException) -> JSONResponse:
        return _error_response(metrics, RequestError(err.status_code, None, str(err.detail)))

    @app.post("/v1/predict", response_model=PredictResponse, responses=ERROR_RESPONSES,
              openapi_extra=_predict_request_schema())
    async def predict(request: Request) -> Response:
        """Entities of one post (a JSON object of a post's fields), several posts (`{"posts": [...]}`),
        or one post as multipart form fields with its images uploaded."""
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        uploads = None
        if content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
            body, single, uploads = await read_form(request, limits)
        elif content_type in ("application/json", ""):
            body, single = read_json(await request.body())
        else:
            raise RequestError(415, "content-type", f"{content_type!r}: send application/json or multipart/form-data")
        try:
            parsed = PredictRequest.model_validate(body)
        except ValidationError as err:
            raise _validation_request_error(err, single) from None
        if uploads or any(post.images for post in parsed.posts):
            with tempfile.TemporaryDirectory(prefix="mner-serve-") as image_dir:
                # decoding images is CPU work: off the event loop, like the model
                posts = await run_in_threadpool(build_posts, parsed, limits, Path(image_dir), single, uploads)
                outputs = await batcher.run(posts)
        else:  # text only: building the posts is quick, no folder and no thread hop needed
            posts = build_posts(parsed, limits, Path(tempfile.gettempdir()), single)
            outputs = await batcher.run(posts)
        metrics.posts.inc(len(posts))
        # returned as a ready response: the entities are already checked, re-validating them costs time
        return JSONResponse({"posts": [
            {"id": post.id, "tokens": post.tokens, "entities": [e.to_dict() for e in entities],
             "inputs": post_inputs(post, info.inputs)} for post, entities in zip(posts, outputs)]})

    @app.get("/v1/model", response_model=ModelInfo)
    async def model() -> ModelInfo:
        return info

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", responses={503: {"description": "Still loading or warming up."}})
    async def readyz() -> JSONResponse:
        return JSONResponse({"ready": state["ready"]}, status_code=200 if state["ready"] else 503)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(metrics.render(), media_type=metrics.content_type)

    @app.get("/", include_in_schema=False)
    async def page() -> FileResponse:
        return FileResponse(STATIC_DIR / "index.html")

    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    def refused() -> None:
        metrics.errors.labels(status="413", field="body").inc()
        metrics.requests.labels(route="other", status="413").inc()

    def observed(path: str, status: int, seconds: float) -> None:
        metrics.observe_request(path if path in ROUTES else "other", status, seconds)

    def internal_error() -> JSONResponse:
        return _error_response(metrics, RequestError(500, None, "internal error (logged on the server)"))

    app.add_middleware(ObserveRequests, on_response=observed, on_bug=internal_error)
    app.add_middleware(BodyLimit, max_bytes=limits.max_body_bytes, on_refuse=refused)  # outermost: counts its 413s itself (`refused`)
    return app


def _error_response(metrics: ServeMetrics, err: RequestError) -> JSONResponse:
    # indices dropped from the label: "posts[7].images[2]" and "posts[0].images[0]" are one series
    metrics.errors.labels(status=str(err.status), field=re.sub(r"\[\d+\]", "", err.field or "")).inc()
    return JSONResponse(err.to_dict(), status_code=err.status)


def _validation_request_error(err: ValidationError, single: bool) -> RequestError:
    messages = []
    for item in err.errors()[:5]:
        loc = tuple(item["loc"])
        if single and loc[:2] == ("posts", 0):
            loc = loc[2:]  # the client sent one post: name its fields as it wrote them
        messages.append((field_name(loc) if loc else "body", item["msg"]))
    first_field, first_message = messages[0]
    more = "".join(f"; {f}: {m}" for f, m in messages[1:])
    return RequestError(422, first_field, first_message + more)


def _predict_request_schema() -> dict[str, Any]:
    """The body schema for /docs: read by hand (JSON or multipart), so FastAPI cannot infer it."""
    schema = PredictRequest.model_json_schema()
    post_schema = schema.pop("$defs")["PostIn"]
    schema["properties"]["posts"]["items"] = post_schema  # inlined: /docs resolves no $defs here
    return {"requestBody": {"required": True, "content": {
        "application/json": {"schema": {"oneOf": [schema, post_schema]}},
        "multipart/form-data": {"schema": {"type": "object", "properties": {
            "text": {"type": "string"}, "tokens": {"type": "string", "description": "a JSON list of words"},
            "id": {"type": "string"}, "caption": {"type": "string"}, "knowledge": {"type": "string"},
            "ocr": {"type": "string"},
            "images": {"type": "array", "items": {"type": "string", "format": "binary"}}}}}}}}
