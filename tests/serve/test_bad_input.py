"""Every kind of bad request is a 4xx naming the field, never a 500, never a file read from the
server's disk; and the server answers a good request right after each."""

from __future__ import annotations

import base64
import io

import httpx
import pytest
from PIL import Image

from serve_helpers import EXPECTED, png_bytes, spans


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def truncated_png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 64), (1, 2, 3)).save(buffer, "PNG")
    return buffer.getvalue()[:60]


def bomb_png() -> bytes:
    """A small file whose header claims 1200x1000 pixels: over the test server's 1e6-pixel limit."""
    buffer = io.BytesIO()
    Image.new("L", (1200, 1000), 0).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


JSON = {"content-type": "application/json"}
CASES = [
    # (name, request kwargs, status, field)
    ("malformed JSON", {"content": b'{"text": "a", ', "headers": JSON}, 400, "body"),
    ("not UTF-8", {"content": b'{"text": "\xff\xfe"}', "headers": JSON}, 400, "body"),
    ("empty body", {"content": b"", "headers": JSON}, 400, "body"),
    ("a JSON string", {"json": "Alice"}, 422, "body"),
    ("text is a number", {"json": {"text": 5}}, 422, "text"),
    ("tokens hold a number", {"json": {"tokens": ["a", 5]}}, 422, "tokens[1]"),
    ("blank token", {"json": {"tokens": ["a", " "]}}, 422, "tokens[1]"),
    ("text and tokens", {"json": {"text": "a", "tokens": ["a"]}}, 422, "body"),
    ("neither text nor tokens", {"json": {"caption": "x"}}, 422, "body"),
    ("unknown field", {"json": {"text": "a", "image_path": "/etc/passwd"}}, 422, "image_path"),
    ("posts not a list", {"json": {"posts": "a"}}, 422, "posts"),
    ("no posts", {"json": {"posts": []}}, 422, "posts"),
    ("wrong type in the 2nd post", {"json": {"posts": [{"text": "a"}, {"text": ["a"]}]}}, 422, "posts[1].text"),
    ("too many posts", {"json": {"posts": [{"text": "a"}] * 9}}, 413, "posts"),
    ("too many words", {"json": {"text": "word " * 65}}, 413, "text"),
    ("too many images", {"json": {"text": "a", "images": [b64(png_bytes())] * 3}}, 413, "images"),
    ("image is an absolute path", {"json": {"text": "a", "images": ["/etc/passwd"]}}, 422, "images[0]"),
    ("image is a relative path", {"json": {"text": "a", "images": ["../shared/data/x.jpg"]}}, 422, "images[0]"),
    ("image is a URL", {"json": {"text": "a", "images": ["https://example.com/a.jpg"]}}, 422, "images[0]"),
    ("image not base64", {"json": {"text": "a", "images": ["%%%"]}}, 422, "images[0]"),
    ("image bytes not an image", {"json": {"text": "a", "images": [b64(b"hello world, not a picture")]}}, 422,
     "images[0]"),
    ("truncated image", {"json": {"posts": [{"text": "a", "images": [b64(truncated_png())]}]}}, 422,
     "posts[0].images[0]"),
    ("too many pixels", {"json": {"text": "a", "images": [b64(bomb_png())]}}, 413, "images[0]"),
    ("image over max_image_bytes", {"json": {"text": "a", "images": [b64(b"\x89PNG" + b"0" * 600_000)]}}, 413,
     "images[0]"),
    ("body over max_body_bytes", {"content": b'{"text": "' + b"a" * 3_000_000 + b'"}', "headers": JSON}, 413, "body"),
    ("wrong content type", {"content": b"Alice", "headers": {"content-type": "text/plain"}}, 415, "content-type"),
    ("form image as a text field", {"data": {"text": "a", "images": "/etc/passwd"}}, 422, "images[0]"),
    ("form upload not an image", {"data": {"text": "a"}, "files": [("images", ("a.png", b"nope", "image/png"))]},
     422, "images[0]"),
    ("unknown form field", {"data": {"text": "a", "path": "/etc/passwd"}}, 422, "path"),
    ("form tokens not JSON", {"data": {"tokens": "Alice Smith"}}, 422, "tokens"),
]


@pytest.mark.parametrize("name,kwargs,status,field", CASES, ids=[c[0] for c in CASES])
def test_bad_request_is_a_4xx_naming_the_field_and_the_server_keeps_serving(server, name, kwargs, status, field):
    response = httpx.post(f"{server.url}/v1/predict", timeout=30, **kwargs)
    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["field"] == field
    assert answer["error"].startswith(field)
    good = httpx.post(f"{server.url}/v1/predict", json={"text": "Alice Smith wins in Paris"})
    assert spans(good.json()["posts"][0]) == EXPECTED


def test_an_existing_image_path_on_the_server_is_never_opened(server, tmp_path):
    """A real image on the server's disk, named by path: refused, so the server reads no client-named file."""
    image = tmp_path / "secret.png"
    image.write_bytes(png_bytes())
    for value in (str(image), f"file://{image}"):
        response = httpx.post(f"{server.url}/v1/predict", json={"text": "a", "images": [value]})
        assert response.status_code == 422 and "never reads a file" in response.json()["error"]


def test_unknown_routes_and_methods_are_4xx(server):
    assert httpx.get(f"{server.url}/v1/nothing").status_code == 404
    assert httpx.get(f"{server.url}/v1/predict").status_code == 405
    assert httpx.post(f"{server.url}/v1/model", json={}).status_code == 405
