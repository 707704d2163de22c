"""Reading a /v1/predict body: JSON (one post, a list, or {"posts": [...]}) or a multipart form
(one post's fields plus uploaded images). Returns plain data for `PredictRequest` to check."""

from __future__ import annotations

import json
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.exceptions import HTTPException

from mner.serve.errors import RequestError
from mner.serve.limits import Limits

FORM_TEXT_FIELDS = ("id", "text", "tokens", "caption", "knowledge", "ocr")


def read_json(raw: bytes) -> tuple[Any, bool]:
    """(body for PredictRequest, whether it was a single post)."""
    if not raw.strip():
        raise RequestError(400, "body", "empty body: send a post as JSON, e.g. {\"text\": \"...\"}")
    try:
        data = json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError as err:
        raise RequestError(400, "body", f"not UTF-8 (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise RequestError(400, "body", f"malformed JSON: {err.msg} at line {err.lineno} column {err.colno}") from None
    except RecursionError:
        raise RequestError(400, "body", "JSON nested too deeply") from None
    if isinstance(data, list):
        return {"posts": data}, False
    if isinstance(data, dict):
        return (data, False) if "posts" in data else ({"posts": [data]}, True)
    raise RequestError(422, "body", f"expected a JSON object (a post, or {{\"posts\": [...]}}), got {type(data).__name__}")


async def read_form(request: Request, limits: Limits) -> tuple[Any, bool, list[tuple[str, bytes]]]:
    """One post from form fields; its images are the `images` file parts, in order."""
    try:
        form = await request.form(max_files=limits.max_images, max_fields=len(FORM_TEXT_FIELDS) + 2,
                                  max_part_size=limits.max_text_chars * 4)
    except HTTPException as err:  # the multipart parser's own limits and syntax errors
        status = 413 if "exceeded" in str(err.detail).lower() else 400
        raise RequestError(status, "body", f"multipart form: {err.detail}") from None
    post: dict[str, Any] = {}
    uploads: list[tuple[str, bytes]] = []
    try:
        for key, value in form.multi_items():
            if key == "images":
                if isinstance(value, str) and not value:
                    continue  # an HTML form's file input left empty may send an empty, unnamed part
                if not isinstance(value, UploadFile):
                    raise RequestError(422, f"images[{len(uploads)}]", "must be an uploaded file, not a text field "
                                       "(the server never reads a path from its own disk)")
                data = await value.read(limits.max_image_bytes + 1)
                if not data and not value.filename:
                    continue
                if len(data) > limits.max_image_bytes:
                    raise RequestError(413, f"images[{len(uploads)}]",
                                       f"more than max_image_bytes={limits.max_image_bytes}")
                uploads.append((f"images[{len(uploads)}]", data))
            elif key in FORM_TEXT_FIELDS:
                if not isinstance(value, str):
                    raise RequestError(422, key, "must be a text field, not a file")
                if key in post:
                    raise RequestError(422, key, "given twice")
                post[key] = value
            else:
                raise RequestError(422, key, f"unknown form field; expected {', '.join(FORM_TEXT_FIELDS)} or images")
    finally:
        await form.close()
    if "tokens" in post:
        try:
            post["tokens"] = json.loads(post["tokens"])
        except json.JSONDecodeError:
            raise RequestError(422, "tokens", "must be a JSON list of words, e.g. [\"Kawhi\", \"Leonard\"]") from None
    for key in ("caption", "knowledge", "ocr", "id"):
        if post.get(key) == "":
            del post[key]  # an empty form field is an absent one
    return {"posts": [post]}, True, uploads
