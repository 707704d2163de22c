"""Start uvicorn on a model: `serve(model_dir, host, port, workers, settings, precision)`.

One worker serves the app built here. Several workers are separate processes (each loads the
model once), which uvicorn starts from an import string, so the settings travel to them in an
environment variable read by `app_from_env`. For several workers the runner also creates the
folder where they share their metrics (PROMETHEUS_MULTIPROC_DIR: a fresh, empty one, so nothing
of an earlier server is counted; see `mner.serve.metrics`) and removes it when the server stops.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from mner.serve.app import ServeSettings, load_app
from mner.serve.limits import Limits
from mner.serve.metrics import MULTIPROC_ENV

SPEC_ENV = "MNER_SERVE_SPEC"


def serve(model_dir: str | Path, host: str = "127.0.0.1", port: int = 8000, workers: int = 1,
          settings: ServeSettings | None = None, precision: str = "fp32", threads: int | None = None,
          log_level: str = "info") -> None:
    import uvicorn

    settings = settings or ServeSettings()
    if workers < 1:
        raise ValueError(f"--workers must be at least 1, got {workers}")
    if workers == 1:
        app = load_app(model_dir, settings, precision, threads)
        uvicorn.run(app, host=host, port=port, log_level=log_level, timeout_graceful_shutdown=5)
        return
    metrics_dir = tempfile.mkdtemp(prefix="mner-serve-metrics-")
    previous = {name: os.environ.get(name) for name in (SPEC_ENV, MULTIPROC_ENV)}
    # the workers are spawned processes: they inherit this environment and import prometheus_client
    # afresh, so they all start in its multiprocess mode, writing into metrics_dir
    os.environ[MULTIPROC_ENV] = metrics_dir
    os.environ[SPEC_ENV] = json.dumps({"model_dir": str(Path(model_dir).resolve()), "precision": precision,
                                       "threads": threads, "settings": _settings_dict(settings),
                                       "metrics_dir": metrics_dir})
    try:
        uvicorn.run("mner.serve.runner:app_from_env", factory=True, host=host, port=port, workers=workers,
                    log_level=log_level, timeout_graceful_shutdown=5)
    finally:
        shutil.rmtree(metrics_dir, ignore_errors=True)
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def app_from_env() -> Any:
    spec = json.loads(os.environ[SPEC_ENV])
    raw = spec["settings"]
    settings = ServeSettings(max_batch=raw["max_batch"], max_wait_ms=raw["max_wait_ms"],
                             forward_batch=raw["forward_batch"], limits=Limits(**raw["limits"]))
    return load_app(spec["model_dir"], settings, spec["precision"], spec["threads"], spec.get("metrics_dir"))


def _settings_dict(settings: ServeSettings) -> dict[str, Any]:
    return {"max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms, "forward_batch": settings.forward_batch,
            "limits": dataclasses.asdict(settings.limits)}
