"""Prometheus metrics and the operational endpoints ``/metrics`` and ``/healthz``.

Labels are route templates (``/v1/systems/{service}/{system}``), methods from a
fixed list and status classes: never a raw path, query, address or token, so
nothing a citizen typed ends up in a time series, and the series stay few.

Each app has its own collector registry, so counts are those of one process:
scrape every instance, not the load balancer.
"""

from __future__ import annotations

import re
import time
from collections.abc import Awaitable, Callable, Sequence

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram
from prometheus_client.exposition import generate_latest
from starlette.responses import Response
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["Metrics", "Operations", "route_template"]

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
_CONVERTOR = re.compile(r"{(\w+):\w+}")
_INGEST = "/v1/disclosures"
#: What each answer to ``POST /v1/disclosures`` means for the batch.
_OUTCOMES = {202: "stored", 200: "duplicate", 409: "conflict", 429: "throttled"}
OUTCOMES = (
    "stored",
    "duplicate",
    "conflict",
    "refused",
    "unauthorized",
    "throttled",
    "error",
    "abandoned",  # the client left before an answer
)


def route_template(routes: Sequence[BaseRoute], scope: Scope) -> str:
    """The template of the route ``scope`` goes to, ``"unmatched"`` for none."""
    partial: str | None = None
    for route in routes:
        match, _child = route.matches(scope)
        path = getattr(route, "path", None)
        if not isinstance(path, str):
            continue
        if match is Match.FULL:
            return _CONVERTOR.sub(r"{\1}", path)
        if match is Match.PARTIAL and partial is None:
            partial = _CONVERTOR.sub(r"{\1}", path)
    return partial or "unmatched"


def _outcome(status: int) -> str:
    if status == 0:
        return "abandoned"
    if status in _OUTCOMES:
        return _OUTCOMES[status]
    if status in (401, 403):
        return "unauthorized"
    return "error" if status >= 500 else "refused"


class Metrics:
    """The registry's counters and histogram, in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "ai_disclosure_registry_requests",
            "HTTP requests answered, by route template, method and status class",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.batches = Counter(
            "ai_disclosure_registry_batches",
            "Disclosure batches received, by outcome",
            ["outcome"],
            registry=self.registry,
        )
        self.ingest = Histogram(
            "ai_disclosure_registry_ingest_seconds",
            "Time to answer POST /v1/disclosures, body reading included",
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
            registry=self.registry,
        )
        for outcome in OUTCOMES:  # present at 0, so rates and alerts work from the start
            self.batches.labels(outcome)

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        method = method if method in _METHODS else "other"
        status_class = f"{status // 100}xx" if status else "none"  # 0: no answer sent
        self.requests.labels(route, method, status_class).inc()
        if route == _INGEST and method == "POST":
            self.batches.labels(_outcome(status)).inc()
            self.ingest.observe(seconds)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)


def _route_path(scope: Scope) -> str:
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root) else path


class Operations:
    """Serves ``/metrics`` and ``/healthz`` (outside the API and its document) and
    counts every other request by its route template."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        metrics: Metrics,
        routes: Sequence[BaseRoute],
        health: Callable[[], Awaitable[Response]],
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.routes = routes
        self.health = health

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = _route_path(scope)
        if path in ("/metrics", "/healthz") and scope["method"] in ("GET", "HEAD"):
            if path == "/metrics":
                response = Response(
                    self.metrics.exposition(),
                    media_type=CONTENT_TYPE_LATEST,
                    headers={"Cache-Control": "no-store"},
                )
            else:
                response = await self.health()
            self.metrics.observe(path, scope["method"], response.status_code, 0.0)
            await response(scope, receive, send)
            return
        route = route_template(self.routes, scope)
        status = 0
        started = time.perf_counter()

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            self.metrics.observe(route, scope["method"], status, time.perf_counter() - started)
