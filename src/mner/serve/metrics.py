"""Prometheus metrics at /metrics, in a registry of the app's own (two apps in one process, as in
the tests, never share counters). With `--workers N` each worker process counts its own requests."""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


class ServeMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("mner_requests", "HTTP requests by route and status code.",
                                ["route", "status"], registry=self.registry)
        self.latency = Histogram("mner_request_seconds", "Request latency by route.", ["route"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.batch_posts = Histogram("mner_batch_posts", "Posts per forward pass (dynamic batching).",
                                     buckets=BATCH_BUCKETS, registry=self.registry)
        self.posts = Counter("mner_posts", "Posts tagged.", registry=self.registry)
        self.errors = Counter("mner_errors", "Refused or failed requests by status code and field.",
                              ["status", "field"], registry=self.registry)

    def observe_request(self, route: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, status=str(status)).inc()
        self.latency.labels(route=route).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
