"""HTTP caching of the public reads, so that a CDN or a reverse-proxy cache can
answer most of them and a client that has a page already gets ``304``.

Every public answer is a function of the register's data (manifests published and
batches stored), of the software and of the day (system pages chart the days up
to tomorrow). Their validators are therefore register-wide: the ``ETag`` is a digest
of the marker (``Reads.marker``: the newest manifest and the newest batch, two index
lookups) and of the day, and ``Last-Modified`` is the later of the marker's time and
the day's start. A page's ``ETag`` also names its language, which
``Accept-Language`` may choose (the ``variant``). A request whose
``If-None-Match`` (or, without it, ``If-Modified-Since``) still holds is
answered ``304`` before any page is built.

Only ``GET``/``HEAD`` reads open to all carry them; writes and the token-protected
reads never do (a shared cache must not keep a service's decisions). The exports of
the whole register answer their own validators, with the same helpers: one may be
sent from a snapshot older than the register (``snapshots``).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .._rawheaders import RawHeaders, first, if_none_match
from .reads import Marker

__all__ = ["PublicCaching", "cache_headers", "is_public_read", "not_modified", "validators"]

_PUBLIC = re.compile(r"/(?:|systems/.+|services/[^/]+|v1/(?:systems.*|services/[^/]+|stats))")


def is_public_read(method: str, path: str) -> bool:
    """Whether a request reads what the register publishes to everyone."""
    return method in ("GET", "HEAD") and _PUBLIC.fullmatch(path) is not None


def validators(marker: Marker, now: float, variant: str = "") -> tuple[str, datetime]:
    """The ``ETag`` and ``Last-Modified`` of every public answer at time ``now``
    (``variant``: what else than the URL chose the representation)."""
    day = datetime.fromtimestamp(now, UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    seen = f"{marker.key}|{day.date().isoformat()}"
    if variant:
        seen += f"|{variant}"
    etag = '"' + hashlib.sha256(seen.encode()).hexdigest()[:32] + '"'
    changed = marker.last_modified
    last = day if changed is None or changed < day else changed
    return etag, last.replace(microsecond=0)


def cache_headers(etag: str, last_modified: datetime, max_age: int) -> dict[str, str]:
    """The validators and ``Cache-Control`` of a public read."""
    return {
        "etag": etag,
        "last-modified": format_datetime(last_modified, usegmt=True),
        "cache-control": f"public, max-age={max_age}",
    }


def not_modified(headers: RawHeaders, etag: str, last_modified: datetime) -> bool:
    """Whether the client's copy is current (RFC 9110 13.1: ``If-None-Match`` wins
    over ``If-Modified-Since``; ETags compared weakly)."""
    match = if_none_match(headers, etag.encode())
    if match is not None:
        return match
    since = first(headers, b"if-modified-since")
    if since is None:
        return False
    try:
        when = parsedate_to_datetime(since.decode("latin-1"))
    except (TypeError, ValueError):
        return False
    if when.tzinfo is None:
        return False
    return last_modified <= when


class PublicCaching:
    """Pure ASGI middleware: validators and ``Cache-Control`` on the public reads'
    ``200`` answers, ``304`` for a copy that is still current."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        marker: Callable[[], Awaitable[Marker]],
        clock: Callable[[], float],
        max_age: int,
        variant: Callable[[Scope], tuple[str, bool]] | None = None,
        own: frozenset[str] = frozenset(),
    ) -> None:
        self.app = app
        self.marker = marker
        self.clock = clock
        #: A request's representation besides its URL (a page's language), and
        #: whether ``Accept-Language`` chose it (the ``304`` then says so too).
        self.variant = variant
        self.max_age = max_age
        #: Paths whose answers carry their own validators.
        self.own = own

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] != "http"
            or not is_public_read(scope["method"], scope["path"])
            or scope["path"] in self.own
        ):
            await self.app(scope, receive, send)
            return
        variant, negotiated = self.variant(scope) if self.variant else ("", False)
        etag, last = validators(await self.marker(), self.clock(), variant)
        added = [
            (k.encode(), v.encode()) for k, v in cache_headers(etag, last, self.max_age).items()
        ]
        if not_modified(scope["headers"], etag, last):
            vary = [(b"vary", b"Accept-Language")] if negotiated else []
            await send({"type": "http.response.start", "status": 304, "headers": added + vary})
            await send({"type": "http.response.body", "body": b""})
            return

        async def send_with_validators(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 200:
                kept = [
                    (name, value)
                    for name, value in message.get("headers", ())
                    if name.lower() not in (b"etag", b"last-modified", b"cache-control")
                ]
                message["headers"] = [*kept, *added]
            await send(message)

        await self.app(scope, receive, send_with_validators)
