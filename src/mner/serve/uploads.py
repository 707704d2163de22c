"""Image bytes from a request -> a checked file in the request's own temporary folder.

Images arrive as base64 (or a data: URL) in JSON, or as multipart uploads; either way the server
only ever writes bytes it was sent, into a folder it created, and never opens a path or URL a
client names: a string that is not base64 is refused, with a hint when it looks like a path.
Each image is decoded once here with mner's one loader (`mner.data.images.load_image`: format
from the content, truncation and decompression bombs refused), so the model never meets a bad one.
"""

from __future__ import annotations

import base64
import binascii
import re
from pathlib import Path

from mner.data.errors import ImageError
from mner.data.images import load_image
from mner.serve.errors import RequestError
from mner.serve.limits import Limits

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[\w=.-]+)*;base64,", re.IGNORECASE)
_LOOKS_LIKE_PATH = re.compile(r"^(/|\./|\.\./|~|[A-Za-z]:[\\/]|file:|https?:|ftp:)|\.(jpe?g|png|gif|webp|bmp|tiff?)$",
                              re.IGNORECASE)
_NOT_A_PATH_HINT = ("send the image's bytes (base64, a data: URL or a multipart upload): "
                    "the server never reads a file from its own disk nor fetches a URL")


def decode_base64_image(value: str, field: str, limits: Limits) -> bytes:
    payload = _DATA_URL.sub("", value.strip(), count=1)
    payload = re.sub(r"\s+", "", payload)
    if len(payload) * 3 // 4 > limits.max_image_bytes + 3:  # refuse before decoding a huge string
        raise RequestError(413, field, f"about {len(payload) * 3 // 4} bytes, more than max_image_bytes="
                                       f"{limits.max_image_bytes}")
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        if _LOOKS_LIKE_PATH.search(value.strip()):
            raise RequestError(422, field, f"looks like a path or URL; {_NOT_A_PATH_HINT}") from None
        raise RequestError(422, field, "not valid base64 image bytes") from None
    if not data:
        raise RequestError(422, field, "empty image")
    return data


def save_image(data: bytes, field: str, limits: Limits, directory: Path, index: int,
               looks_like_path: bool = False) -> Path:
    """Write `data` into `directory` and decode it once; the file's path, or a `RequestError`."""
    if len(data) > limits.max_image_bytes:
        raise RequestError(413, field, f"{len(data)} bytes, more than max_image_bytes={limits.max_image_bytes}")
    path = directory / f"image-{index}"
    path.write_bytes(data)
    try:
        load_image(path, max_pixels=limits.max_image_pixels)
    except ImageError as err:
        if "max_pixels" in err.reason or "too many pixels" in err.reason:
            raise RequestError(413, field, err.reason.replace("max_pixels", "max_image_pixels")) from None
        if looks_like_path:
            raise RequestError(422, field, f"not an image but looks like a path or URL; {_NOT_A_PATH_HINT}") from None
        raise RequestError(422, field, f"undecodable image: {err.reason}") from None
    return path


def looks_like_path(value: str) -> bool:
    return bool(_LOOKS_LIKE_PATH.search(value.strip())) and not _DATA_URL.match(value.strip())
