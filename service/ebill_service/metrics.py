"""Prometheus metrics of one service (its own registry: no global state)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest


class Metrics:
    """Request counts and latency by route template, submits by outcome, event position."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ebill_http_requests_total",
            "HTTP requests by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "ebill_http_request_seconds",
            "HTTP request latency by route template",
            ["route", "method"],
            registry=self.registry,
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
        )
        self.submits = Counter(
            "ebill_submits_total",
            "Submitted transactions by operation and outcome (committed, refused, failed)",
            ["operation", "outcome"],
            registry=self.registry,
        )

        self.event_block = Gauge(
            "ebill_events_last_block",
            "The block of the last chaincode event the service recorded (event lag: the"
            " peer's height minus this)",
            registry=self.registry,
        )

        self.index_height = Gauge(
            "ebill_index_height",
            "Blocks the read model holds (its checkpoint's block + 1)",
            registry=self.registry,
        )
        self.index_lag = Gauge(
            "ebill_index_lag_blocks",
            "Blocks the org's peer has beyond the read model",
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)
