"""Load: 8 concurrent clients make 100,000 requests through the disclosure middleware
to a small Starlette app; the registry's totals equal the disclosed requests made.

The clients call the app in-process through a lean ASGI caller, so the time goes to
the app, the logger and the registry rather than to an HTTP client; each request
yields to the event loop once, as network I/O would, so the logger's background
task runs alongside the load as it does in production.
"""

from __future__ import annotations

import asyncio
from collections import Counter

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Scope

from ai_disclosure import AIDisclosureMiddleware
from ai_disclosure._logger import DisclosureLogger

from ..conftest import EXAMPLE_MANIFEST
from .conftest import SYSTEMS, RegistryUnderTest, lifespan, make_logger

REQUESTS = 100_000
WORKERS = 8

# Request path -> the system the example manifest's route rules name for it.
PATHS = {
    "/dechets/assistant": SYSTEMS[0],  # rule /dechets/assistant*
    "/en/waste": SYSTEMS[1],  # rule /en/*
}


def make_app(logger: DisclosureLogger) -> AIDisclosureMiddleware:
    """A small Starlette app behind the real middleware, which owns the logger's
    lifespan and records one increment per disclosed response."""

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route(path, page) for path in (*PATHS, "/contact")])
    return AIDisclosureMiddleware(app, EXAMPLE_MANIFEST, logger=logger)


async def get(app: ASGIApp, path: str) -> int:
    """One GET through the app; returns the status."""
    route, _, query = path.partition("?")
    scope: Scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": route,
        "raw_path": route.encode(),
        "query_string": query.encode(),
        "root_path": "",
        "headers": [(b"host", b"app")],
        "server": ("app", 80),
        "client": ("127.0.0.1", 50000),
    }
    status: list[int] = []

    async def receive() -> Message:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])

    await asyncio.sleep(0)  # the network: let other tasks run
    await app(scope, receive, send)
    return status[0]


async def test_100k_requests_are_all_counted(registry: RegistryUnderTest) -> None:
    # A generous shutdown deadline: on a busy 2-core machine the last windows may
    # take more than the default 5 s to reach the registry.
    logger = make_logger(
        registry.url, registry.token, transport=registry.transport(), shutdown_deadline=60
    )
    app = make_app(logger)
    paths = ["/dechets/assistant", "/en/waste?q=1", "/dechets/assistant?q=2", "/contact"]
    made: Counter[str] = Counter()
    async with lifespan(app):  # the app's lifespan starts and closes the logger

        async def worker(n: int) -> None:
            for i in range(REQUESTS // WORKERS):
                path = paths[(n + i) % len(paths)]
                assert await get(app, path) == 200
                made[path.split("?")[0]] += 1

        await asyncio.gather(*(worker(n) for n in range(WORKERS)))

    expected = {PATHS[path]: count for path, count in made.items() if path in PATHS}
    disclosed = sum(expected.values())
    assert disclosed + made["/contact"] == REQUESTS
    assert await registry.totals() == expected
    stats = logger.stats()
    assert (stats["recorded"], stats["sent"], stats["dropped"]) == (disclosed, disclosed, 0)
    assert stats["batches_sent"] >= 2  # sent window by window, not only at shutdown
