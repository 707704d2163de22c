"""POST /v1/predict and the other routes, against a real uvicorn server on a loopback port."""

from __future__ import annotations

import base64
import json
from concurrent.futures import ThreadPoolExecutor

import httpx

from serve_helpers import EXPECTED, POST, metric, png_bytes, spans, start_server


def test_one_post_as_text_gets_its_entities_with_scores(server):
    answer = httpx.post(f"{server.url}/v1/predict", json={"text": POST}).json()
    (post,) = answer["posts"]
    assert post["id"] == "post-0" and post["tokens"] == POST.split()
    assert spans(post) == EXPECTED
    assert all(0.0 < e["score"] <= 1.0 for e in post["entities"])
    assert post["inputs"] == {"used": ["text"], "missing": []}


def test_a_list_of_posts_keeps_order_ids_and_tokens(server):
    body = {"posts": [{"id": "a", "tokens": ["Bob", "at", "the", "Festival", "in", "New", "York"]},
                      {"id": "b", "text": POST}, {"id": "empty", "text": ""}]}
    posts = httpx.post(f"{server.url}/v1/predict", json=body).json()["posts"]
    assert [p["id"] for p in posts] == ["a", "b", "empty"]
    assert [e["type"] for e in posts[0]["entities"]] == ["PER", "MISC", "LOC"]
    assert spans(posts[1]) == EXPECTED
    assert posts[2] == {"id": "empty", "tokens": [], "entities": [], "inputs": {"used": [], "missing": ["text"]}}


def test_a_bare_json_list_is_a_list_of_posts(server):
    posts = httpx.post(f"{server.url}/v1/predict", json=[{"text": POST}, {"text": "fans love the game day"}]).json()["posts"]
    assert spans(posts[0]) == EXPECTED and posts[1]["entities"] == []


def test_images_as_base64_data_url_and_multipart_upload_are_accepted(server):
    encoded = base64.b64encode(png_bytes()).decode()
    for image in (encoded, f"data:image/png;base64,{encoded}"):
        response = httpx.post(f"{server.url}/v1/predict", json={"text": POST, "images": [image], "caption": "a city"})
        assert response.status_code == 200, response.text
        assert spans(response.json()["posts"][0]) == EXPECTED
    response = httpx.post(f"{server.url}/v1/predict", data={"text": POST, "caption": "a city"},
                          files=[("images", ("x.png", png_bytes(), "image/png")), ("images", ("y.png", png_bytes(), "image/png"))])
    assert response.status_code == 200, response.text
    assert spans(response.json()["posts"][0]) == EXPECTED


def test_multipart_tokens_field_is_a_json_list(server):
    response = httpx.post(f"{server.url}/v1/predict", data={"tokens": json.dumps(POST.split())})
    assert spans(response.json()["posts"][0]) == EXPECTED


def test_model_description_health_readiness_and_openapi(server):
    info = httpx.get(f"{server.url}/v1/model").json()
    assert info["labels"][0] == "O" and info["entity_types"] == ["LOC", "MISC", "ORG", "PER"]
    assert info["inputs"] == ["text"] and info["kind"] == "torch" and info["precision"] == "fp32"
    assert len(info["config_digest"]) == 64 and info["grounded"] is False
    assert info["batching"] == {"max_batch": 16, "max_wait_ms": 20.0, "forward_batch": 8} and info["limits"]["max_posts"] == 8
    assert "/" not in info["name"]  # the model's directory name, not a server path
    assert httpx.get(f"{server.url}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{server.url}/readyz").json() == {"ready": True}
    schema = httpx.get(f"{server.url}/openapi.json").json()
    body = schema["paths"]["/v1/predict"]["post"]["requestBody"]["content"]
    assert {"application/json", "multipart/form-data"} <= set(body)
    assert "PredictResponse" in schema["components"]["schemas"]


def test_concurrent_requests_share_forward_passes_and_metrics_count_them(server):
    def before(name: str) -> float:
        return metric(httpx.get(f"{server.url}/metrics").text, name)

    passes, posts = before("mner_batch_posts_count"), before("mner_posts_total")
    with ThreadPoolExecutor(12) as pool:
        answers = list(pool.map(lambda _: httpx.post(f"{server.url}/v1/predict", json={"text": POST}, timeout=30),
                                range(24)))
    assert all(spans(a.json()["posts"][0]) == EXPECTED for a in answers)
    text = httpx.get(f"{server.url}/metrics").text
    assert metric(text, "mner_posts_total") - posts == 24
    assert metric(text, "mner_batch_posts_count") - passes < 24  # some requests were batched together
    assert 'mner_requests_total{route="/v1/predict",status="200"}' in text
    assert "mner_request_seconds_bucket" in text


def test_the_page_and_its_assets_are_served_without_external_references(server):
    page = httpx.get(f"{server.url}/")
    assert page.status_code == 200 and "<textarea" in page.text
    for asset in ("/static/app.js", "/static/style.css"):
        response = httpx.get(f"{server.url}{asset}")
        assert response.status_code == 200
        page_text = page.text + response.text
        assert "http://" not in page_text and "https://" not in page_text  # no CDN


def test_a_grounded_model_answers_boxes_and_says_it_is_grounded():
    from mner.serve import create_app
    from stub_taggers import GroundedStub

    stub = GroundedStub()
    live = start_server(create_app(stub, name="grounded"))
    try:
        info = httpx.get(f"{live.url}/v1/model").json()
        assert info["grounded"] is True and info["inputs"] == ["text", "images"]
        response = httpx.post(f"{live.url}/v1/predict", data={"text": "Alice in Paris"},
                              files=[("images", ("a.png", png_bytes(), "image/png")), ("images", ("", b"", "image/png"))])
        post = response.json()["posts"][0]
        assert post["entities"][0]["boxes"] == [[10.0, 20.0, 110.0, 70.0]]
        assert post["inputs"] == {"used": ["text", "images"], "missing": []}
        assert stub.seen_images[-1] == 1  # the empty file part of an untouched file input is no image
    finally:
        live.stop()
