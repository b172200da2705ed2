"""The reverse proxy in front of a real upstream server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import gzip
import json
import os
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import (
    HTMLResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Route

from ai_disclosure import AIDisclosureMiddleware, load_manifest, parse_header
from ai_disclosure._inject import MARKER
from ai_disclosure.proxy import ReverseProxy

from .conftest import EXAMPLE_MANIFEST
from .servers import cli_server, free_port, thread_server

PAGE = (
    "<!doctype html><html lang=fr><head><title>Tri</title></head>"
    "<body><main><h1>Déchets</h1></main></body></html>"
)
BIG_CHUNK = b"x" * 65536
BIG_CHUNKS = 320  # 20 MiB


def upstream_app() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def gzipped(request: Request) -> Response:
        body = gzip.compress(PAGE.encode())
        return Response(
            body, media_type="text/html; charset=utf-8", headers={"Content-Encoding": "gzip"}
        )

    async def gzipped_json(request: Request) -> Response:
        body = gzip.compress(b'{"a": 1}')
        return Response(body, media_type="application/json", headers={"Content-Encoding": "gzip"})

    async def big(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(BIG_CHUNKS):
                yield BIG_CHUNK

        return StreamingResponse(chunks(), media_type="application/octet-stream")

    async def redirect(request: Request) -> Response:
        return RedirectResponse(str(request.url_for("page")), status_code=302)

    async def error(request: Request) -> Response:
        return PlainTextResponse("upstream broke", status_code=500)

    async def slow(request: Request) -> Response:
        await asyncio.sleep(3)
        return PlainTextResponse("late")

    async def echo(request: Request) -> Response:
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
        headers = dict(request.headers.items())
        return JSONResponse({"method": request.method, "size": size, "headers": headers,
                             "query": str(request.query_params),
                             "raw_path": request.scope["raw_path"].decode()})  # fmt: skip

    async def set_cookie(request: Request) -> Response:
        response = PlainTextResponse("logged in")
        response.set_cookie("session", "secret-of-visitor-a")
        return response

    async def gzipped_css(request: Request) -> Response:
        return Response(
            gzip.compress(b"body{}"), media_type="text/css", headers={"Content-Encoding": "gzip"}
        )

    async def hop(request: Request) -> Response:
        return PlainTextResponse(
            "ok", headers={"Connection": "x-secret", "X-Secret": "1", "Keep-Alive": "timeout=5"}
        )

    return Starlette(
        routes=[
            Route("/dechets/assistant", page, name="page"),
            Route("/dechets/assistant/gz", gzipped),
            Route("/api/gz", gzipped_json),
            Route("/big", big),
            Route("/redirect", redirect),
            Route("/error", error),
            Route("/slow", slow),
            Route("/echo", echo, methods=["GET", "POST", "PUT"]),
            Route("/echo/{rest:path}", echo),
            Route("/ai/{rest:path}", echo),
            Route("/setcookie", set_cookie),
            Route("/gzcss", gzipped_css),
            Route("/hop", hop),
        ]
    )


@pytest.fixture(scope="module")
def upstream() -> Iterator[str]:
    with thread_server(upstream_app()) as url:
        yield url


@asynccontextmanager
async def proxied(upstream: str, read_timeout: float = 60) -> AsyncIterator[httpx.AsyncClient]:
    proxy = ReverseProxy(upstream, timeout=read_timeout)
    app = AIDisclosureMiddleware(proxy, EXAMPLE_MANIFEST)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app, client=("203.0.113.7", 5555)),
        base_url="http://portail.example",
    ) as client:
        yield client
    await proxy.aclose()


async def test_html_gets_headers_and_notice(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/dechets/assistant")
    assert response.status_code == 200
    assert parse_header(response.headers["ai-disclosure"]).mode == "ai-originated"
    assert response.text.count(MARKER.decode()) == 1
    assert "content-length" not in response.headers  # relayed as a stream


async def test_compressed_html_is_decompressed_so_the_notice_fits(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/dechets/assistant/gz")
        assert "content-encoding" not in response.headers
        assert response.text.count(MARKER.decode()) == 1
        other = await client.get("/api/gz", headers={"Accept-Encoding": "identity"})
        assert other.headers["content-encoding"] == "gzip"  # not HTML: passed as it is
        assert other.json() == {"a": 1}


async def test_request_headers_and_body_are_forwarded(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.post(
            "/echo?q=1",
            content=b"a" * 100_000,
            headers={"Connection": "x-private", "X-Private": "secret", "TE": "trailers"},
        )
    data = response.json()
    assert data["size"] == 100_000
    assert data["query"] == "q=1"
    headers = data["headers"]
    assert headers["x-forwarded-for"] == "203.0.113.7"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == "portail.example"
    assert headers["forwarded"] == 'for="203.0.113.7";proto=http;host="portail.example"'
    assert "x-private" not in headers  # named by Connection: hop-by-hop
    assert "te" not in headers
    assert headers["host"] == upstream.removeprefix("http://")


async def test_response_hop_by_hop_headers_are_dropped(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/hop")
    assert "x-secret" not in response.headers
    assert "keep-alive" not in response.headers
    assert response.text == "ok"


async def test_redirect_to_the_upstream_points_at_the_proxy(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/redirect")
    assert response.status_code == 302
    assert response.headers["location"] == "http://portail.example/dechets/assistant"


async def test_upstream_errors_pass_through(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/error")
    assert (response.status_code, response.text) == (500, "upstream broke")
    assert response.headers["ai-disclosure"] == "mode=none"


async def test_slow_upstream_is_a_504_page(upstream: str) -> None:
    async with proxied(upstream, read_timeout=0.5) as client:
        response = await client.get("/slow")
    assert response.status_code == 504
    assert "n'a pas répondu à temps" in response.text
    assert 'lang="en"' in response.text


async def test_unreachable_upstream_is_a_502_page() -> None:
    async with proxied(f"http://127.0.0.1:{free_port()}") as client:
        response = await client.get("/dechets/assistant")
    assert response.status_code == 502
    assert "L'application ne répond pas" in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_one_visitors_cookies_never_reach_another(upstream: str) -> None:
    async with proxied(upstream) as client:
        first = await client.get("/setcookie")
        assert "session=secret-of-visitor-a" in first.headers["set-cookie"]
        client.cookies.clear()  # a second visitor, with no cookie
        second = await client.get("/echo")
    assert "cookie" not in second.json()["headers"]


async def test_the_path_goes_upstream_as_the_client_sent_it(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/echo/x%3Fq=1%2Fy?real=1")
    data = response.json()
    assert data["raw_path"] == "/echo/x%3Fq=1%2Fy"
    assert data["query"] == "real=1"


async def test_dot_segments_cannot_dodge_the_disclosure(upstream: str) -> None:
    manifest = {
        **dict(load_manifest(EXAMPLE_MANIFEST).raw),
        "routes": [{"path": "/ai/*", "systems": ["assistant-dechets"]}],
    }
    proxy = ReverseProxy(upstream)
    app = AIDisclosureMiddleware(proxy, manifest)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://p") as client:
        for path in ("/ai/x", "/echo/../ai/x", "//ai/x"):
            response = await client.send(client.build_request("GET", "http://p" + path))
            assert response.headers["ai-disclosure"].startswith("mode=ai-originated"), path
    await proxy.aclose()


async def test_clients_get_no_encoding_they_did_not_ask_for(upstream: str) -> None:
    async with proxied(upstream) as client:
        plain = await client.get("/gzcss", headers={"Accept-Encoding": "identity"})
        echoed = await client.get("/echo", headers={"Accept-Encoding": "br"})
    # The upstream was asked for identity: this one ignores it, and says so honestly.
    assert plain.headers["content-encoding"] == "gzip"
    assert echoed.json()["headers"]["accept-encoding"] == "identity"


async def test_a_cut_off_upload_is_not_forwarded_as_whole(upstream: str) -> None:
    proxy = ReverseProxy(upstream)
    messages = [
        {"type": "http.request", "body": b"x" * 100, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return messages.pop(0)

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "method": "POST", "path": "/echo", "raw_path": b"/echo",
        "query_string": b"", "scheme": "http", "client": ("127.0.0.1", 9),
        "headers": [(b"host", b"p"), (b"transfer-encoding", b"chunked")],
    }  # fmt: skip
    await proxy(scope, receive, send)
    assert sent == []  # nothing answered to a client that is gone, nothing forwarded whole
    await proxy.aclose()


def test_bad_upstream_url_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="upstream must be an http"):
        ReverseProxy("127.0.0.1:8080")


async def test_websockets_are_refused_with_a_reason() -> None:
    sent: list[dict[str, object]] = []

    async def receive() -> dict[str, object]:
        return {"type": "websocket.connect"}

    async def send(message: dict[str, object]) -> None:
        sent.append(message)

    proxy = ReverseProxy("http://127.0.0.1:1")
    await proxy({"type": "websocket", "path": "/ws", "headers": []}, receive, send)
    assert sent[0]["type"] == "websocket.close"
    assert "not forwarded" in str(sent[0]["reason"])
    await proxy.aclose()


def test_the_cli_proxy_streams_big_files_and_wraps_pages(upstream: str) -> None:
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    with cli_server(args, port, "/hop"):
        base = f"http://127.0.0.1:{port}"
        page = httpx.get(base + "/dechets/assistant")
        assert page.text.count(MARKER.decode()) == 1
        received = 0
        first_at = None
        start = time.monotonic()
        with httpx.stream("GET", base + "/big") as response:
            assert response.headers["ai-disclosure"] == "mode=none"
            for chunk in response.iter_raw():
                if first_at is None:
                    first_at = time.monotonic() - start
                received += len(chunk)
        assert received == BIG_CHUNKS * len(BIG_CHUNK)
        manifest = json.loads(httpx.get(base + "/.well-known/ai-disclosure").text)
        assert manifest["service"]["id"] == "demarches"


def test_the_cli_proxy_logs_disclosures_to_a_register(upstream: str, tmp_path: Path) -> None:
    from ai_disclosure.client import RegistryClient
    from ai_disclosure.registry import create_app, create_token

    db = str(tmp_path / "register.sqlite3")
    token = create_token(db, "demarches")
    with thread_server(create_app(db), lifespan="on") as register:
        with RegistryClient(register, token) as client:
            client.push_manifest(EXAMPLE_MANIFEST)
        port = free_port()
        args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
                "--listen", f"127.0.0.1:{port}", "--registry", register,
                "--spool-dir", str(tmp_path / "spool")]  # fmt: skip
        os.environ["AI_DISCLOSURE_REGISTRY_TOKEN"] = token
        try:
            with cli_server(args, port, "/hop") as process:
                for _ in range(3):
                    httpx.get(f"http://127.0.0.1:{port}/dechets/assistant")
        finally:
            del os.environ["AI_DISCLOSURE_REGISTRY_TOKEN"]
        assert f"Disclosure counts go to {register}" in process.output  # type: ignore[attr-defined]
        # Stopping the proxy flushed its last window to the register.
        entry = httpx.get(register + "/v1/systems/demarches/assistant-dechets").json()
        assert entry["counts"]["total"] == 3
