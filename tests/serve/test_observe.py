"""Every request is timed and counted by route and status (`ObserveRequests`), and a bug in the model
code costs that one request a JSON 500, not the server."""

from __future__ import annotations

import httpx

from serve_helpers import metric, start_server


def test_a_bug_is_a_json_500_counted_by_status_and_the_server_keeps_serving(caplog):
    from mner.serve import ServeSettings, create_app
    from stub_taggers import BuggyStub

    live = start_server(create_app(BuggyStub(), ServeSettings(max_batch=1, max_wait_ms=0), name="buggy"))
    try:
        broken = httpx.post(f"{live.url}/v1/predict", json={"text": "boom goes the model"})
        assert broken.status_code == 500
        assert broken.json() == {"error": "internal error (logged on the server)", "field": None}
        fine = httpx.post(f"{live.url}/v1/predict", json={"text": "Alice wins"})
        assert fine.status_code == 200 and fine.json()["posts"][0]["entities"][0]["text"] == "Alice"
        assert httpx.get(f"{live.url}/no/such/route").status_code == 404
        text = httpx.get(f"{live.url}/metrics").text
    finally:
        live.stop()
    assert metric(text, 'mner_requests_total{route="/v1/predict",status="500"}') == 1
    assert metric(text, 'mner_requests_total{route="/v1/predict",status="200"}') == 1
    assert metric(text, 'mner_requests_total{route="other",status="404"}') == 1  # unknown paths share one label
    assert metric(text, 'mner_request_seconds_count{route="/v1/predict"}') == 2
    assert metric(text, 'mner_errors_total{field="",status="500"}') == 1
    assert "a bug in the model code" in caplog.text  # logged with its traceback on the server
