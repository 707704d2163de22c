"""`mner serve`: an HTTP API and a web page over one trained model (docs/serve.md).

    from mner.serve import load_app, ServeSettings
    app = load_app("runs/twitter2017", ServeSettings(max_batch=32, max_wait_ms=5, forward_batch=8))
    # uvicorn.run(app)  -- or: mner serve runs/twitter2017

Layout: app.py (routes), batcher.py (dynamic batching), limits.py, schemas.py (pydantic bodies),
request_body.py (JSON / multipart), posts.py (body -> Posts), uploads.py (image bytes, never paths),
body_limit.py (413 before reading), observe.py (timing, 500s), metrics.py (Prometheus), model_info.py, runner.py (uvicorn),
static/ (the page), bench.py (mner bench-serve).
"""

from mner.serve.app import ServeSettings, create_app, load_app
from mner.serve.limits import Limits

__all__ = ["Limits", "ServeSettings", "create_app", "load_app"]
