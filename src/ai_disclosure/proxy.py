"""A streaming ASGI reverse proxy on httpx, so an app in any language can be wrapped.

``ai-disclosure proxy --upstream http://127.0.0.1:8080 --manifest ai-disclosure.toml``
puts ``AIDisclosureMiddleware`` in front of ``ReverseProxy``: the upstream app gets
headers, notice and logging without a code change.

* Bodies stream both ways, chunk by chunk; nothing is buffered whole.
* Hop-by-hop headers are dropped; ``X-Forwarded-*`` and ``Forwarded`` are set.
* Compressed HTML is decompressed on the way through (the notice must be
  inserted into it); other compressed bodies pass as they are.
* Upstream failures become a clear 502 (unreachable) or 504 (too slow) page.
* WebSockets are refused with a clear reason: a 501 answer where the server
  supports denial responses, else close code 1008 with the reason.
"""

from __future__ import annotations

import html
from collections.abc import AsyncIterator
from http.cookiejar import Cookie, CookieJar
from typing import Any
from urllib.parse import urlsplit

import httpx

from ._headers import HEADER_NAME
from ._types import Message, Receive, Scope, Send

__all__ = ["ReverseProxy"]

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
#: Encodings httpx can undo without optional packages.
_DECODABLE = (b"gzip", b"deflate", b"identity")
_HTML_TYPES = (b"text/html", b"application/xhtml+xml")


def _hop_by_hop(headers: list[tuple[bytes, bytes]]) -> frozenset[bytes]:
    """The fixed list plus whatever the Connection header names."""
    named = {
        token.strip().lower()
        for key, value in headers
        if key.lower() == b"connection"
        for token in value.split(b",")
    }
    return HOP_BY_HOP | named


class _ClientGone(Exception):
    """The client disconnected while its request body was being forwarded."""


class _NoCookies(CookieJar):
    """A cookie jar that keeps nothing: cookies pass through, per request, untouched."""

    def set_cookie(self, cookie: Cookie) -> None:
        return None

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


class ReverseProxy:
    """Forward every HTTP request to ``upstream`` and stream the answer back."""

    def __init__(
        self,
        upstream: str,
        *,
        client: httpx.AsyncClient | None = None,
        timeout: float = 60.0,
        connect_timeout: float = 5.0,
    ) -> None:
        parts = urlsplit(upstream)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(
                f"upstream must be an http(s) URL such as http://127.0.0.1:8080, got {upstream!r}"
            )
        self.upstream = upstream.rstrip("/")
        self._own_client = client is None
        self.client = client or httpx.AsyncClient(
            timeout=httpx.Timeout(timeout, connect=connect_timeout),
            follow_redirects=False,
            limits=httpx.Limits(max_connections=200, max_keepalive_connections=50),
            # One client serves every visitor: it must never keep one visitor's
            # cookies and hand them to the next.
            cookies=_NoCookies(),
        )
        self._base = httpx.URL(self.upstream)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            await self._http(scope, receive, send)
        elif scope["type"] == "websocket":
            await self._refuse_websocket(scope, receive, send)
        elif scope["type"] == "lifespan":
            await self._lifespan(receive, send)

    async def aclose(self) -> None:
        if self._own_client:
            await self.client.aclose()

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
            headers = [(b"content-type", b"text/plain; charset=utf-8")]
            await send({"type": "websocket.http.response.start", "status": 501, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
            return
        await send({"type": "websocket.close", "code": 1008, "reason": reason})

    def _request_headers(self, scope: Scope) -> list[tuple[bytes, bytes]]:
        incoming: list[tuple[bytes, bytes]] = list(scope.get("headers", ()))
        drop = _hop_by_hop(incoming) | {b"host", b"accept-encoding"}
        headers = [(k, v) for k, v in incoming if k.lower() not in drop]
        host = next((v for k, v in incoming if k.lower() == b"host"), b"")
        client = scope.get("client")
        scheme = scope.get("scheme", "http").encode()
        forwarded_for = next((v for k, v in incoming if k.lower() == b"x-forwarded-for"), None)
        if client:
            address = client[0].encode()
            forwarded_for = forwarded_for + b", " + address if forwarded_for else address
            node = b"[" + address + b"]" if b":" in address else address  # RFC 7239: IPv6
            forwarded = b'for="' + node + b'";proto=' + scheme
            if host:
                forwarded += b';host="' + host + b'"'
            headers = [
                (k, v) for k, v in headers if k.lower() not in (b"x-forwarded-for", b"forwarded")
            ]
            headers += [(b"x-forwarded-for", forwarded_for), (b"forwarded", forwarded)]
        headers += [(b"x-forwarded-proto", scheme)]
        if host:
            headers += [(b"x-forwarded-host", host)]
        # Ask only for encodings this proxy can undo, so HTML can still get its notice.
        # Ask only for encodings this proxy can undo (HTML must stay open to the
        # notice), and only among those the client itself accepts.
        accepted = next((v for k, v in incoming if k.lower() == b"accept-encoding"), b"")
        wanted = [c for c in (b"gzip", b"deflate") if c in accepted.lower()]
        if wanted:
            headers += [(b"accept-encoding", b", ".join(wanted))]
        else:
            headers += [(b"accept-encoding", b"identity")]
        return headers

    async def _http(self, scope: Scope, receive: Receive, send: Send) -> None:
        # The path exactly as the client sent it: decoding it here would turn %3F
        # into a query or %2F into a separator the upstream never saw.
        raw_path: bytes = scope.get("raw_path") or scope["path"].encode("utf-8")
        query: bytes = scope.get("query_string", b"")
        target = self._base.copy_with(
            raw_path=self._base.raw_path.rstrip(b"/") + raw_path + (b"?" + query if query else b"")
        )

        async def body() -> AsyncIterator[bytes]:
            while True:
                message = await receive()
                if message["type"] == "http.disconnect":
                    # Never let a cut-off upload reach the app as if it were whole.
                    raise _ClientGone
                chunk = message.get("body", b"")
                if chunk:
                    yield chunk
                if not message.get("more_body", False):
                    return

        method = scope["method"]
        has_body = method not in ("GET", "HEAD", "OPTIONS", "DELETE") or any(
            k.lower() in (b"content-length", b"transfer-encoding") for k, _ in scope["headers"]
        )
        request = self.client.build_request(
            method,
            target,
            headers=self._request_headers(scope),
            content=body() if has_body else None,
        )
        try:
            response = await self.client.send(request, stream=True)
        except _ClientGone:
            return  # nobody is left to answer
        except httpx.TimeoutException:
            await _error_page(send, 504, "The application did not answer in time.")
            return
        except (httpx.TransportError, httpx.LocalProtocolError):
            await _error_page(send, 502, "The application cannot be reached.")
            return
        try:
            await self._relay(scope, response, send)
        finally:
            await response.aclose()

    async def _relay(self, scope: Scope, response: httpx.Response, send: Send) -> None:
        raw_headers = list(response.headers.raw)
        drop = _hop_by_hop(raw_headers)
        content_type = response.headers.get("content-type", "").encode("latin-1").lower()
        encoding = response.headers.get("content-encoding", "identity").encode().lower().strip()
        decode = content_type.startswith(_HTML_TYPES) and encoding in _DECODABLE
        if decode and encoding != b"identity":
            drop = drop | {b"content-encoding", b"content-length"}
        headers = [(k.lower(), v) for k, v in raw_headers if k.lower() not in drop]
        if decode and encoding != b"identity":
            # Decompressed: no longer the bytes the upstream's strong ETag named.
            headers = [
                (k, b"W/" + v if k == b"etag" and not v.startswith(b"W/") else v)
                for k, v in headers
            ]
        headers = [self._rewrite_location(scope, k, v) for k, v in headers]
        await send(
            {"type": "http.response.start", "status": response.status_code, "headers": headers}
        )
        chunks = response.aiter_bytes() if decode else response.aiter_raw()
        try:
            async for chunk in chunks:
                if chunk:
                    await send({"type": "http.response.body", "body": chunk, "more_body": True})
        except httpx.TransportError:
            # Headers are gone: the client sees a truncated body, as with any proxy.
            pass
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _rewrite_location(self, scope: Scope, key: bytes, value: bytes) -> tuple[bytes, bytes]:
        """A redirect to the upstream's own address points at the proxy instead."""
        upstream = self.upstream.encode()
        if key != b"location" or not value.startswith(upstream):
            return key, value
        if value[len(upstream) : len(upstream) + 1] not in (b"", b"/", b"?", b"#"):
            return key, value  # another host that merely starts alike (:80 vs :8080)
        host = next((v for k, v in scope.get("headers", ()) if k == b"host"), None)
        if host is None:
            return key, value[len(self.upstream) :] or b"/"
        origin = scope.get("scheme", "http").encode() + b"://" + host
        return key, origin + value[len(self.upstream) :]


def _text(value: str) -> str:
    return html.escape(value, quote=False)


async def _error_page(send: Send, status: int, reason: str) -> None:
    titles = {
        502: ("Service indisponible", "Bad gateway"),
        504: ("Délai dépassé", "Gateway timeout"),
    }
    french, english = titles[status]
    french_reason = {
        502: "L'application ne répond pas.",
        504: "L'application n'a pas répondu à temps.",
    }[status]
    page = (
        '<!doctype html><html lang="fr"><head><meta charset="utf-8">'
        f"<title>{status} {_text(french)}</title></head><body><main>"
        f"<h1>{_text(french)}</h1><p>{_text(french_reason)} "
        "Réessayez dans quelques minutes.</p>"
        f'<h2 lang="en">{_text(english)}</h2><p lang="en">{_text(reason)} '
        "Please try again in a few minutes.</p></main></body></html>"
    ).encode()
    message: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"text/html; charset=utf-8"),
            (b"content-length", str(len(page)).encode()),
            (b"cache-control", b"no-store"),
            (HEADER_NAME.lower().encode(), b"mode=none"),
        ],
    }
    await send(message)
    await send({"type": "http.response.body", "body": page})
