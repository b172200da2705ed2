"""Assemble the registry: API, public pages, static files, headers and errors."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import cache
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .api import Api, json_bytes
from .caching import PublicCaching
from .config import Settings
from .exports import EXPORTS, Export, RegisterExport, SystemExport, xlsx_available
from .guard import BadTokens, BodyTimeouts
from .health import Health
from .metrics import Metrics, Operations
from .openapi import openapi_document
from .pages import STATIC_DIR, Pages, page_language
from .problems import Problem, problem_response
from .ratelimit import FailureBudget
from .security import SecurityHeaders
from .state import RegistryState

__all__ = ["create_app"]

log = logging.getLogger("ai_disclosure.registry")

_HTTP_KINDS = {404: "not-found", 405: "method-not-allowed"}


class ServerErrors:
    """Turn an unexpected exception into a logged 500 inside the middleware stack,
    so that even that answer carries the security headers (Starlette's own handler
    runs outside every middleware). A client that left mid-request is not an error:
    there is no one to answer and nothing to log."""

    def __init__(self, app: ASGIApp, render: Callable[[Request], Awaitable[Response]]) -> None:
        self.app = app
        self.render = render

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except ClientDisconnect:
            log.debug("the client disconnected before the answer")
        except Exception:
            log.exception("unexpected error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            response = await self.render(Request(scope))
            await response(scope, receive, send)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/v1/") or request.url.path == "/openapi.json"


def create_app(
    db_url: str,
    *,
    settings: Settings | None = None,
    connect_args: Mapping[str, Any] | None = None,
    exports: Sequence[Export] = EXPORTS,
) -> Starlette:
    """The registry as an ASGI app over ``db_url`` (SQLite path or URL, PostgreSQL URL).

    The database is opened - and migrated, unless ``settings.migrate`` is False - at
    start-up, or on the first request when embedded where no lifespan runs.
    ``exports`` are the publication formats it serves, documents and links
    (``exports.EXPORTS`` unless given).
    """
    registry = RegistryState(db_url, settings or Settings(), connect_args=connect_args)
    api = Api(registry)
    pages = Pages(registry, exports)

    @cache
    def document() -> bytes:
        """The settings and the exports alone decide it: written once, when first asked."""
        return json_bytes(openapi_document(registry.settings, exports))

    async def openapi(_request: Request) -> Response:
        return Response(document(), media_type="application/json")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        headers = dict(exc.headers or {})
        if _is_api(request):
            kind = _HTTP_KINDS.get(exc.status_code, "not-found")
            problem = Problem(exc.status_code, kind, str(exc.detail), headers=headers)
            return problem_response(problem)
        return await pages.error(request, exc.status_code, headers)

    async def problem(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, Problem)
        if not _is_api(request) and exc.status == 404:
            return await pages.error(request, 404, exc.headers)
        return problem_response(exc)

    async def server_error(request: Request) -> Response:
        if _is_api(request):
            return problem_response(
                Problem(500, "server-error", "an unexpected error occurred; it has been logged")
            )
        return await pages.error(request, 500, {})

    system = "/{service:str}/{system:str}"
    routes: list[BaseRoute] = [
        Route("/v1/disclosures", api.post_disclosures, methods=["POST"]),
        Route("/v1/services/{service_id:str}/manifest", api.put_manifest, methods=["PUT"]),
        Route("/v1/services/{service:str}", api.get_service, methods=["GET"]),
        Route(
            "/v1/services/{service:str}/decisions/{reference:path}",
            api.get_decision,
            methods=["GET"],
        ),
        Route("/v1/systems", api.list_systems, methods=["GET"]),
        *(
            Route(e.path, api.export(e), methods=["GET"])
            for e in exports
            if isinstance(e, RegisterExport)
        ),
        Route(f"/v1/systems{system}", api.get_system, methods=["GET"]),
        Route(f"/v1/systems{system}/notice", api.get_notice, methods=["GET"]),
        *(
            Route(f"/v1/systems{system}/{e.name}", api.export(e), methods=["GET"])
            for e in exports
            if isinstance(e, SystemExport)
        ),
        Route("/v1/stats", api.get_stats, methods=["GET"]),
        Route("/v1/catalog.jsonld", api.catalog(tuple(exports)), methods=["GET"]),
        *(
            [Route("/v1/systems.xlsx", api.systems_xlsx, methods=["GET"])]
            if xlsx_available()
            else []
        ),
        Route("/openapi.json", openapi, methods=["GET"]),
        Route("/", pages.index, methods=["GET"]),
        Route(f"/systems{system}", pages.system, methods=["GET"]),
        Route("/services/{service:str}", pages.service, methods=["GET"]),
        Route("/guide", pages.guide, methods=["GET"]),
        Mount("/static", StaticFiles(directory=STATIC_DIR), name="static"),
    ]
    settings = registry.settings

    def variant(scope: Scope) -> tuple[str, bool]:
        """A page's language; the API's answers have one representation per URL."""
        if scope["path"].startswith("/v1/"):
            return "", False
        return page_language(scope, settings.language)

    per_minute = settings.bad_tokens_per_minute
    budget = FailureBudget(per_minute / 60, settings.bad_token_burst) if per_minute else None
    metrics = Metrics()
    app = Starlette(
        routes=routes,
        middleware=[
            Middleware(SecurityHeaders),
            Middleware(Operations, metrics=metrics, routes=routes, health=Health(registry)),
            Middleware(ServerErrors, render=server_error),
            Middleware(
                PublicCaching,
                marker=registry.marker,
                clock=settings.clock,
                max_age=settings.public_max_age,
                variant=variant,
                own=frozenset(
                    [
                        *(e.path for e in exports if isinstance(e, RegisterExport)),
                        "/v1/catalog.jsonld",
                        "/v1/systems.xlsx",
                    ]
                ),
            ),
            Middleware(BadTokens, budget=budget),
            Middleware(BodyTimeouts, idle=settings.body_idle_timeout, total=settings.body_timeout),
        ],
        exception_handlers={HTTPException: http_error, Problem: problem},
        lifespan=registry.lifespan,
    )
    app.state.registry = registry
    app.state.metrics = metrics
    return app
