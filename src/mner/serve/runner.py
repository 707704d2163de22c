"""Start uvicorn on a model: `serve(model_dir, host, port, workers, settings, precision)`.

One worker serves the app built here. Several workers are separate processes (each loads the
model once), which uvicorn starts from an import string, so the settings travel to them in an
environment variable read by `app_from_env`.
"""

from __future__ import annotations

import dataclasses
import json
import os
from pathlib import Path
from typing import Any

from mner.serve.app import ServeSettings, load_app
from mner.serve.limits import Limits

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
    os.environ[SPEC_ENV] = json.dumps({"model_dir": str(Path(model_dir).resolve()), "precision": precision,
                                       "threads": threads, "settings": _settings_dict(settings)})
    uvicorn.run("mner.serve.runner:app_from_env", factory=True, host=host, port=port, workers=workers,
                log_level=log_level, timeout_graceful_shutdown=5)


def app_from_env() -> Any:
    spec = json.loads(os.environ[SPEC_ENV])
    raw = spec["settings"]
    settings = ServeSettings(max_batch=raw["max_batch"], max_wait_ms=raw["max_wait_ms"],
                             forward_batch=raw["forward_batch"], limits=Limits(**raw["limits"]))
    return load_app(spec["model_dir"], settings, spec["precision"], spec["threads"])


def _settings_dict(settings: ServeSettings) -> dict[str, Any]:
    return {"max_batch": settings.max_batch, "max_wait_ms": settings.max_wait_ms, "forward_batch": settings.forward_batch,
            "limits": dataclasses.asdict(settings.limits)}
