"""Prometheus metrics at /metrics.

One process (`--workers 1`, and the tests' in-process servers): a registry of the app's own, so
two apps in one process never share counters.

Several workers (`--workers N`): every worker is a process of its own, and a request reaches
whichever worker the kernel hands the connection to, so each worker's own counters would show
a share of the traffic. The runner (`mner.serve.runner`) creates an empty folder, names it in
PROMETHEUS_MULTIPROC_DIR before it starts the workers, and removes it when the server stops.
prometheus_client's multiprocess mode, chosen when a worker first imports it, then keeps every
worker's values in memory-mapped files in that folder, and /metrics, whichever worker answers
it, sums the files of all of them (`MultiProcessCollector`): one view of the whole server.
"""

from __future__ import annotations

from pathlib import Path

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self, multiprocess_dir: str | Path | None = None) -> None:
        self.multiprocess_dir = Path(multiprocess_dir) if multiprocess_dir is not None else None
        if self.multiprocess_dir is not None:
            _check_multiprocess_mode(self.multiprocess_dir)
        # multiprocess: the values live in the folder's files, which /metrics reads; registering the
        # metrics in the exposed registry too would count this worker twice
        own = CollectorRegistry() if self.multiprocess_dir is None else None
        self.registry = own
        self.requests = Counter("mner_requests", "HTTP requests by route and status code.",
                                ["route", "status"], registry=own)
        self.latency = Histogram("mner_request_seconds", "Request latency by route.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=own)
        self.batch_posts = Histogram("mner_batch_posts", "Posts per forward pass (dynamic batching).",
                                     buckets=BATCH_BUCKETS, registry=own)
        self.posts = Counter("mner_posts", "Posts tagged.", registry=own)
        self.errors = Counter("mner_errors", "Refused or failed requests by status code and field.",
                              ["status", "field"], registry=own)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def render(self) -> bytes:
        if self.multiprocess_dir is None:
            return generate_latest(self.registry)
        from prometheus_client.multiprocess import MultiProcessCollector

        registry = CollectorRegistry()
        MultiProcessCollector(registry, path=str(self.multiprocess_dir))  # every worker's files, summed
        return generate_latest(registry)


def _check_multiprocess_mode(directory: Path) -> None:
    """prometheus_client picks its value storage once, at import: the folder must have been named
    in the environment before that, or each worker would silently count alone."""
    import os

    from prometheus_client import values

    if values.ValueClass is values.MutexValue or os.environ.get(MULTIPROC_ENV) != str(directory):
        raise RuntimeError(f"aggregated metrics need {MULTIPROC_ENV}={directory} in the environment before "
                           "prometheus_client is imported (mner.serve.runner sets it before starting workers)")
    if not directory.is_dir():
        raise RuntimeError(f"{MULTIPROC_ENV} names {directory}, which is not a folder")
