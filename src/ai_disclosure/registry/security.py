"""Headers on every response: a strict Content-Security-Policy (no inline style or
script anywhere, so injected markup cannot run), no MIME sniffing, no referrer
outside the site, and the project's own ``AI-Disclosure: mode=none`` - the
register itself is written by people, not generated."""

from __future__ import annotations

import re

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._headers import AIDisclosureHeader, serialize_header

__all__ = ["CSP", "SecurityHeaders"]

CSP = (
    "default-src 'self'; base-uri 'none'; object-src 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

_COMMON = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"ai-disclosure", serialize_header(AIDisclosureHeader(mode="none")).encode()),
]
_OPEN_DATA = [(b"access-control-allow-origin", b"*")]
# Reads that need a service's token: not open data.
_PRIVATE = re.compile(r"/v1/services/[^/]+/decisions/")


class SecurityHeaders:
    """Pure ASGI middleware: adds the headers without buffering the body."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        # Public read-only data may be fetched from any site; writes stay same-origin.
        open_data = (
            scope["method"] in ("GET", "HEAD")
            and (path.startswith("/v1/") or path == "/openapi.json")
            and not _PRIVATE.match(path)
        )
        extra = _COMMON + _OPEN_DATA if open_data else _COMMON

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, send_with_headers)
