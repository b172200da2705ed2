"""A streaming ASGI reverse proxy on aiohttp's client, so an app in any language can
be wrapped.

``ai-disclosure proxy --upstream http://127.0.0.1:8080 --manifest ai-disclosure.toml``
puts ``AIDisclosureMiddleware`` in front of ``ReverseProxy``: the upstream app gets
headers, notice and logging without a code change.

* Bodies stream both ways, chunk by chunk; nothing is buffered whole.
* Hop-by-hop headers are dropped. ``X-Forwarded-For/Proto/Host`` and ``Forwarded``
  are set from what the server established (peer address, scheme, ``Host``); the
  same headers sent by a visitor are dropped, never passed on, so nobody can tell
  the app a scheme or host of their choosing. A TLS terminator in front is trusted
  through the server (uvicorn's ``forwarded_allow_ips``), which rewrites the scope.
* ``Host``: by default the upstream's own (its URL's host), as nginx and Apache do
  by default; ``preserve_host=True`` sends the visitor's instead. The default is
  the safe one to switch on in front of an app nobody has reconfigured: it keeps
  answering the name it was set up for (virtual hosts, ``ALLOWED_HOSTS``), and a
  visitor-chosen ``Host`` only reaches it as ``X-Forwarded-Host``, which an app
  reads only once told to trust it (Django ``USE_X_FORWARDED_HOST``, Flask
  ``ProxyFix``). Apps that check ``Origin`` against the host (Django's CSRF check)
  need one or the other; docs/proxy.md gives the settings.
* ``Date`` and ``Server`` are the upstream's: run the server with its own off
  (uvicorn ``date_header=False, server_header=False``). The proxy dates what it
  answers itself and what the upstream sent undated (RFC 9110 6.6.1).
* Bodies pass as the upstream sent them, compressed or not, ``Content-Length``
  and ``ETag`` included. The upstream is offered only the codings the client
  accepts and the middleware can open (``_encoding.decodable``): pages travel
  compressed and the notice still gets into them.
* Upstream failures become a clear 502 (unreachable) or 504 (too slow) page; a
  target that is not a path (``OPTIONS *``, an absolute URL) a 400 page.
* WebSockets are refused with a clear reason: a 501 answer where the server
  supports denial responses, else close code 1008 with the reason.

The upstream client is aiohttp's: a proxy sends every request to one host, many at
once, and aiohttp's connection pool hands out a kept-alive connection in a few
calls where httpcore's scanned its whole pool per request (7x the CPU per request
measured in bench/bench_proxy.py). A stream reads at most ``read_bufsize`` (64
KiB) ahead of a slow client, twice that buffered; an answer of declared length up
to 256 KiB is read whole. The registry clients stay on httpx.
"""

from __future__ import annotations

import asyncio
import html
from collections.abc import AsyncIterator, Awaitable
from functools import lru_cache
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from ._catalog import DEFAULT_LANGUAGE, catalogs, choose_catalog_language
from ._encoding import decodable
from ._headers import HEADER_NAME
from ._rawheaders import accepted_codings, date_header, first, tokens, with_date
from ._responder import COLLECT_LIMIT
from ._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["ReverseProxy", "dated"]

#: RFC 9110 7.6.1: meaningful for one connection only, never forwarded.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
    }
)
#: Where the request came from: only the proxy says it, from its server's view.
_FORWARDING = frozenset(
    {
        b"forwarded",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-port",
        b"x-forwarded-prefix",
        b"x-forwarded-proto",
        b"x-real-ip",
    }
)


#: Response headers never relayed: hop-by-hop ones, and ``Host``, a request header
#: that PHP's built-in server also answers with, naming its own (internal) address.
_NOT_RELAYED = HOP_BY_HOP | {b"host"}

#: Request headers never passed on as they came: the proxy sets its own.
_NOT_FORWARDED = HOP_BY_HOP | _FORWARDING | {b"host", b"accept-encoding"}


@lru_cache(maxsize=64)
def _upstream_codings(accepted: bytes) -> bytes:
    """What the upstream may compress in: what the client accepts and the
    middleware can open (a browser sends the same few values over and over)."""
    return accepted_codings(accepted, decodable)


def _quoted(value: bytes) -> bytes:
    """An RFC 7239 quoted-string: a Host with a quote cannot add parameters."""
    return b'"' + value.replace(b"\\", b"\\\\").replace(b'"', b'\\"') + b'"'


def dated(app: ASGIApp) -> ASGIApp:
    """Wrap ``app`` so every HTTP response carries a ``Date`` (RFC 9110 6.6.1).

    For a server that adds none of its own (uvicorn ``date_header=False``, so the
    upstream's ``Date`` is the only one): the middleware's own answers, such as
    ``/.well-known/ai-disclosure``, get theirs here.
    """

    async def wrapped(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return

        def send_dated(message: Message) -> Awaitable[None]:
            # A plain function handing back the server's awaitable: no frame per message.
            if message["type"] == "http.response.start":
                message = {**message, "headers": with_date(list(message.get("headers", ())))}
            return send(message)

        await app(scope, receive, send_dated)

    return wrapped


#: What a request-target may hold (RFC 9112 3.2: visible ASCII): anything else
#: could split the request line the proxy writes upstream.
_TARGET_BYTES = bytes(range(0x21, 0x7F))
#: Bytes of the upstream's answer read ahead of the client, per stream (aiohttp
#: buffers up to twice this before it stops reading, and a chunk handed on may be
#: copied once more into the client's write buffer).
_READ_AHEAD = 65536
#: Answers of declared length up to this are read whole and sent in one message:
#: the length up to which the middleware gathers a page anyway.
_READ_WHOLE = COLLECT_LIMIT


class ReverseProxy:
    """Forward every HTTP request to ``upstream`` and stream the answer back.

    ``preserve_host=True`` sends the visitor's ``Host`` upstream instead of the
    upstream's own (nginx's ``proxy_set_header Host $host``). ``timeout`` bounds
    each wait for the upstream's bytes, ``connect_timeout`` each connection.
    """

    def __init__(
        self,
        upstream: str,
        *,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
        preserve_host: bool = False,
        max_connections: int = 200,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"upstream must be an http(s) URL such as http://127.0.0.1:8080, got {upstream!r}"
            )
        self.upstream = upstream.rstrip("/")
        self.preserve_host = preserve_host
        self.timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=connect_timeout, sock_read=timeout
        )
        self.max_connections = max_connections
        # Made in the event loop that first needs it (aiohttp's sessions belong to one).
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _client(self) -> aiohttp.ClientSession:
        session, loop = self._session, asyncio.get_running_loop()
        if session is None or session.closed or self._loop is not loop:
            self._loop = loop
            session = self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=self.max_connections, keepalive_timeout=30, enable_cleanup_closed=False
                ),
                timeout=self.timeout,
                # Bodies pass as the upstream sent them, compressed or not.
                auto_decompress=False,
                # One session serves every visitor: it must never keep one visitor's
                # cookies and hand them to the next.
                cookie_jar=aiohttp.DummyCookieJar(),
                # Only what the visitor sent (and the forwarding headers) goes upstream.
                skip_auto_headers=("Accept", "User-Agent"),
                read_bufsize=_READ_AHEAD,
                # Headers as long as the visitor's server accepts (cookies, CSP).
                max_line_size=65536,
                max_field_size=65536,
            )
        return session

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._refuse_websocket(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await self.aclose()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _refuse_websocket(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = await receive()
        if message["type"] != "websocket.connect":
            return
        reason = "ai-disclosure proxy: WebSockets are not forwarded; connect to the app directly"
        if "websocket.http.response" in scope.get("extensions", {}):
            body = reason.encode()
            headers = [(b"content-type", b"text/plain; charset=utf-8"), date_header()]
            await send({"type": "websocket.http.response.start", "status": 501, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
            return
        await send({"type": "websocket.close", "code": 1008, "reason": reason})

    def _request_headers(self, scope: Scope) -> tuple[list[tuple[bytes, bytes]], bool]:
        """The headers to send upstream, and whether the request says it has a body."""
        incoming: list[tuple[bytes, bytes]] = scope.get("headers", [])
        headers = []
        found_host: bytes | None = None
        accept: bytes | None = None
        body = connection = False
        for key, value in incoming:
            name = key.lower()
            if name not in _NOT_FORWARDED:
                headers.append((key, value))
                body = body or name == b"content-length"
            elif name == b"host":
                found_host = value if found_host is None else found_host
            elif name == b"accept-encoding":
                accept = value if accept is None else accept
            elif name == b"connection":
                connection = True
            elif name == b"transfer-encoding":
                body = True
        if connection:  # what it names is hop-by-hop too
            named = tokens(incoming, b"connection") - _NOT_FORWARDED
            if named:
                headers = [(k, v) for k, v in headers if k.lower() not in named]
        host = found_host or b""
        scheme = scope.get("scheme", "http").encode()
        if self.preserve_host and host:
            headers.append((b"host", host))
        forwarded = [b"proto=" + scheme]
        client = scope.get("client")
        if client:
            address = client[0].encode()
            headers.append((b"x-forwarded-for", address))
            node = b"[" + address + b"]" if b":" in address else address  # RFC 7239: IPv6
            forwarded.insert(0, b'for="' + node + b'"')
        headers.append((b"x-forwarded-proto", scheme))
        if host:
            headers.append((b"x-forwarded-host", host))
            forwarded.append(b"host=" + _quoted(host))
        headers.append((b"forwarded", b";".join(forwarded)))
        # The upstream must not compress a page in a coding the notice cannot get
        # through, nor in one the client refused.
        headers.append((b"accept-encoding", _upstream_codings(accept or b"")))
        return headers, body

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The path exactly as the client sent it: decoding it here would turn %3F
        # into a query or %2F into a separator the upstream never saw.
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope.get("query_string", b"")
        if not raw_path.startswith(b"/") or raw_path.translate(None, _TARGET_BYTES):
            # "OPTIONS *", or an absolute-form target ("GET http://host/x") the
            # server passed on as it was: not a path of this site, and a path the
            # route rules did not see.
            await _error_page(send, 400, scope)
            return
        if query.translate(None, _TARGET_BYTES):
            await _error_page(send, 400, scope)
            return
        # Both are visible ASCII (checked above): yarl takes them as they are.
        target = URL(
            self.upstream + (raw_path + (b"?" + query if query else b"")).decode("ascii"),
            encoded=True,
        )
        gone = False

        async def body() -> AsyncIterator[bytes]:
            nonlocal gone
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    # Never let a cut-off upload reach the app as if it were whole.
                    gone = True
                    raise ConnectionAbortedError("the client left mid-upload")
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return

        method = scope["method"]
        headers, has_body = self._request_headers(scope)
        has_body = has_body or method not in ("GET", "HEAD", "OPTIONS", "DELETE")
        try:
            response = await self._client().request(
                method,
                target,
                headers=[(_text(k), _text(v)) for k, v in headers],
                data=body() if has_body else None,
                allow_redirects=False,
                compress=None,
            )
        except TimeoutError:
            if not gone:
                await _error_page(send, 504, scope)
            return
        except (aiohttp.ClientError, OSError, ValueError):
            if not gone:  # else nobody is left to answer
                await _error_page(send, 502, scope)
            return
        if gone:
            response.close()
            return
        try:
            await self._relay(scope, response, send)
        finally:
            response.release()

    async def _relay(self, scope: Scope, response: aiohttp.ClientResponse, send: Send) -> None:
        raw_headers = list(response.raw_headers)
        drop = _NOT_RELAYED
        if b"onnection" in b"".join(key for key, _ in raw_headers):
            drop = _NOT_RELAYED | tokens(raw_headers, b"connection")  # hop-by-hop too
        headers = []
        length = dated = None
        for key, value in raw_headers:
            name = key.lower()
            if name in drop:
                continue
            if name == b"content-length":
                length = value
            elif name == b"date":
                dated = True
            elif name == b"location":
                value = self._rewrite_location(scope, value)
            headers.append((name, value))
        if dated is None:
            headers.append(date_header())
        content = response.content
        start = {"type": "http.response.start", "status": response.status, "headers": headers}
        if length is not None and length.isdigit() and int(length) <= _READ_WHOLE:
            # A body of known, small length goes in one message: read at once (as
            # the middleware would gather it), the page changes in one piece.
            try:
                body = await content.read()
            except (aiohttp.ClientError, TimeoutError, OSError) as exc:
                # Nothing went out yet: the reader gets the proxy's page, not half a page.
                response.close()
                await _error_page(send, 504 if isinstance(exc, TimeoutError) else 502, scope)
                return
            await send(start)
            await send({"type": "http.response.body", "body": body, "more_body": False})
            return
        await send(start)
        try:
            while chunk := await content.readany():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except (aiohttp.ClientError, TimeoutError, OSError):
            # Headers are gone: the client sees a truncated body, as with any proxy.
            response.close()
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _rewrite_location(self, scope: Scope, value: bytes) -> bytes:
        """A redirect to the upstream's own address points at the proxy instead."""
        upstream = self.upstream.encode()
        if not value.startswith(upstream):
            return value
        if value[len(upstream) : len(upstream) + 1] not in (b"", b"/", b"?", b"#"):
            return value  # another host that merely starts alike (:80 vs :8080)
        host = first(scope.get("headers", ()), b"host")
        if host is None:
            return value[len(self.upstream) :] or b"/"
        scheme: str = scope.get("scheme", "http")
        origin = scheme.encode() + b"://" + host
        return origin + value[len(self.upstream) :]


def _text(value: bytes) -> str:
    """A header as aiohttp takes it (str, written out as UTF-8): the very bytes for
    UTF-8 and ASCII; obsolete Latin-1 bytes (RFC 9110 5.5) as their characters."""
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError:
        return value.decode("latin-1")


@lru_cache(maxsize=256)
def _error_html(status: int, language: str) -> bytes:
    """The proxy's own answer (400, 502 or 504) in one catalog language."""
    t = catalogs()[language]
    title, text = t(f"proxy.{status}_title"), t(f"proxy.{status}_text")
    return (
        f'<!doctype html><html lang="{language}" dir="{t.dir}"><head><meta charset="utf-8">'
        f"<title>{status} {html.escape(title, quote=False)}</title></head><body><main>"
        f"<h1>{html.escape(title, quote=False)}</h1><p>{html.escape(text, quote=False)}</p>"
        "</main></body></html>"
    ).encode()


async def _error_page(send: Send, status: int, scope: Scope) -> None:
    """The error page in the reader's language (``Accept-Language``), else the
    catalog's default."""
    accept = first(scope.get("headers", ()), b"accept-language")
    language, _ = choose_catalog_language(
        None, DEFAULT_LANGUAGE, accept.decode("latin-1") if accept else None
    )
    page = _error_html(status, language)
    message: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(page)).encode()),
            (b"content-language", language.encode()),
            (b"vary", b"Accept-Language"),
            (b"cache-control", b"no-store"),
            (HEADER_NAME.lower().encode(), b"mode=none"),
            date_header(),
        ],
    }
    await send(message)
    await send({"type": "http.response.body", "body": page})
