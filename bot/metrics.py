"""Prometheus metrics for one running app, served at `GET /metrics`.

Each app gets its own `CollectorRegistry` (never the process-wide default), so tests and benchmarks can
build many apps in one process without "duplicated timeseries" errors, and one app's counts never leak
into another's.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

__all__ = ["METRICS", "Metrics", "metrics_endpoint", "request_timer"]

TIMED_PATHS = frozenset({"/slack/events", "/api/messages"})  # the platforms' requests; not /healthz or /metrics

# Seconds. Acks must stay well under Slack's 3 s; deliveries are judged against the one-minute tick.
_COMMAND_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_LAG_BUCKETS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0, 3600.0)


class Metrics:
    """The counters the scheduler and the adapters increment, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.sent = Counter("mend_deliveries_sent", "Reminders and standups delivered.", ["kind"], registry=r)
        self.late = Counter("mend_deliveries_late", "Deliveries sent late (due while Mend was not running).",
                            ["kind"], registry=r)
        self.failed = Counter("mend_deliveries_failed", "Deliveries given up on (permanent error or too many "
                              "attempts).", registry=r)
        self.retried = Counter("mend_deliveries_retried", "Sends the platform refused for now (429, 503): "
                               "retried after Retry-After.", registry=r)
        self.lag = Histogram("mend_delivery_lag_seconds", "From a delivery's due time to its send.",
                             buckets=_LAG_BUCKETS, registry=r)
        self.command = Histogram("mend_command_seconds", "Time to handle one command, from receipt to answer.",
                                 ["platform"], buckets=_COMMAND_BUCKETS, registry=r)
        self.request = Histogram("mend_request_seconds", "Time to answer a platform's HTTP request (for Slack, "
                                 "the ack).", ["path"], buckets=_COMMAND_BUCKETS, registry=r)
        self.in_flight = Gauge("mend_deliveries_in_flight", "Deliveries claimed by this replica and not yet "
                               "settled.", registry=r)

    def observe_command(self, seconds: float, platform: str = "any") -> None:
        """Called by `Engine.run` once per command an adapter hands it: from hand-over to the replies."""
        self.command.labels(platform=platform).observe(seconds)

    def delivery_sent(self, kind: str, late: bool, lag_seconds: float) -> None:
        self.sent.labels(kind=kind).inc()
        if late:
            self.late.labels(kind=kind).inc()
        self.lag.observe(max(0.0, lag_seconds))

    def delivery_failed(self) -> None:
        self.failed.inc()

    def delivery_retried(self) -> None:
        self.retried.inc()

    def exposition(self) -> bytes:
        """The text format Prometheus scrapes."""
        return generate_latest(self.registry)


METRICS = web.AppKey("metrics", Metrics)


async def metrics_endpoint(request: web.Request) -> web.Response:
    """`GET /metrics`: the app's registry in Prometheus' text format."""
    body = request.app[METRICS].exposition()
    return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})


@web.middleware
async def request_timer(request: web.Request,
                        handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    """Times every platform request, so ack latency is visible without each adapter measuring it."""
    if request.path not in TIMED_PATHS:
        return await handler(request)
    start = time.perf_counter()
    try:
        return await handler(request)
    finally:
        request.app[METRICS].request.labels(path=request.path).observe(time.perf_counter() - start)
