"""The reverse proxy in front of a real upstream server on 127.0.0.1."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator, MutableMapping
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

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

from ai_disclosure import AIDisclosureMiddleware, load_manifest
from ai_disclosure._catalog import catalogs
from ai_disclosure._encoding import decodable
from ai_disclosure._inject import MARKER
from ai_disclosure.proxy import ReverseProxy
from ai_disclosure.testing import assert_disclosed, assert_not_disclosed

from .conftest import EXAMPLE_MANIFEST
from .servers import cli_server, free_port, thread_server

PAGE = (
    "<!doctype html><html lang=fr><head><title>Tri</title></head>"
    "<body><main><h1>Déchets</h1></main></body></html>"
)
BIG_CHUNK = b"x" * 65536
BIG_CHUNKS = 320  # 20 MiB
CSS_GZ = gzip.compress(b"body{}", mtime=0)
OLD_DATE = "Wed, 21 Oct 2015 07:28:00 GMT"


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
        return Response(CSS_GZ, media_type="text/css", headers={"Content-Encoding": "gzip"})

    async def to_own_address(request: Request) -> Response:
        # An app configured with its own base URL, whatever Host it was sent.
        host, port = request.scope["server"]
        return RedirectResponse(f"http://{host}:{port}/dechets/assistant", status_code=302)

    async def dated_page(request: Request) -> Response:
        return PlainTextResponse("dated", headers={"Date": OLD_DATE, "Server": "upstream/1"})

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
            Route("/redirect-own", to_own_address),
            Route("/dated", dated_page),
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
async def proxied(
    upstream: str, read_timeout: float = 60, preserve_host: bool = False
) -> AsyncIterator[httpx.AsyncClient]:
    proxy = ReverseProxy(upstream, timeout=read_timeout, preserve_host=preserve_host)
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
    assert_disclosed(response, mode="ai-originated", notice=True)
    # Absent (streamed) or exact: never the upstream's length for a changed page.
    assert response.headers.get("content-length", str(len(response.content))) == str(
        len(response.content)
    )


async def test_compressed_html_travels_compressed_with_the_notice(upstream: str) -> None:
    async with proxied(upstream) as client:
        request = client.build_request("GET", "/dechets/assistant/gz")
        response = await client.send(request, stream=True)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
        assert response.headers["content-encoding"] == "gzip"
        assert gzip.decompress(raw).decode().count(MARKER.decode()) == 1
        other = await client.get("/api/gz", headers={"Accept-Encoding": "identity"})
        assert other.headers["content-encoding"] == "gzip"  # not HTML: passed as it is
        assert other.json() == {"a": 1}


async def test_bodies_pass_byte_for_byte_with_their_length(upstream: str) -> None:
    async with proxied(upstream) as client:
        request = client.build_request("GET", "/gzcss")
        response = await client.send(request, stream=True)
        raw = b"".join([chunk async for chunk in response.aiter_raw()])
        await response.aclose()
    assert raw == CSS_GZ  # the upstream's bytes, not decoded nor re-encoded
    assert response.headers["content-length"] == str(len(raw))


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
    assert_not_disclosed(response)


async def test_slow_upstream_is_a_504_page(upstream: str) -> None:
    async with proxied(upstream, read_timeout=0.5) as client:
        response = await client.get("/slow")
    assert response.status_code == 504
    assert "n'a pas répondu à temps" in response.text
    assert response.headers["content-language"] == "fr"
    assert "accept-language" in response.headers["vary"].lower()


async def test_the_proxys_error_page_speaks_the_readers_language() -> None:
    async with proxied(f"http://127.0.0.1:{free_port()}") as client:
        english = await client.get("/", headers={"Accept-Language": "en-GB, fr;q=0.5"})
        unknown = await client.get("/", headers={"Accept-Language": "x-none"})
    assert english.status_code == 502
    assert english.headers["content-language"] == "en"
    assert '<html lang="en" dir="ltr">' in english.text
    assert catalogs()["en"]("proxy.502_text") in english.text
    assert unknown.headers["content-language"] == "fr"
    assert catalogs()["fr"]("proxy.502_title") in unknown.text


async def test_unreachable_upstream_is_a_502_page() -> None:
    async with proxied(f"http://127.0.0.1:{free_port()}") as client:
        response = await client.get("/dechets/assistant")
    assert response.status_code == 502
    assert "L'application ne répond pas" in response.text
    assert response.headers["cache-control"] == "no-store"


@asynccontextmanager
async def half_page_upstream(
    stall: bool, read_timeout: float = 60
) -> AsyncIterator[httpx.AsyncClient]:
    """The proxy before an upstream that announces a 1,000-byte page, sends its first
    bytes, then hangs up (or, with ``stall``, sends nothing more)."""
    more = asyncio.Event()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
            b"Content-Length: 1000\r\n\r\n<!doctype html><title>half"
        )
        await writer.drain()
        if stall:
            await more.wait()  # never, while the request lasts
        writer.close()

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server, proxied(f"http://127.0.0.1:{port}", read_timeout=read_timeout) as client:
        yield client
        more.set()


async def test_a_page_of_known_length_cut_short_upstream_is_a_502_page() -> None:
    """A small page of known length is read whole before anything goes out: when the
    upstream breaks off mid-body, the reader gets the error page, not half a page."""
    async with half_page_upstream(stall=False) as client:
        response = await client.get("/dechets/assistant")
    assert response.status_code == 502
    assert "L'application ne répond pas" in response.text
    assert "<title>half" not in response.text


async def test_a_page_of_known_length_that_stalls_upstream_is_a_504_page() -> None:
    async with half_page_upstream(stall=True, read_timeout=0.5) as client:
        response = await client.get("/dechets/assistant")
    assert response.status_code == 504
    assert "<title>half" not in response.text


async def test_a_page_of_known_length_keeps_an_exact_length(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/dechets/assistant")
    assert_disclosed(response, mode="ai-originated", notice=True)
    assert response.headers["content-length"] == str(len(response.content))


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
            assert_disclosed(response, mode="ai-originated")
    await proxy.aclose()


async def test_clients_get_no_encoding_they_did_not_ask_for(upstream: str) -> None:
    async with proxied(upstream) as client:
        plain = await client.get("/gzcss", headers={"Accept-Encoding": "identity"})
        echoed = await client.get("/echo", headers={"Accept-Encoding": "compress"})
    # The upstream was asked for identity: this one ignores it, and says so honestly.
    assert plain.headers["content-encoding"] == "gzip"
    assert echoed.json()["headers"]["accept-encoding"] == "identity"


async def test_a_cut_off_upload_is_not_forwarded_as_whole(upstream: str) -> None:
    proxy = ReverseProxy(upstream)
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": b"x" * 100, "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: MutableMapping[str, Any]) -> None:
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
    sent: list[MutableMapping[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "websocket.connect"}

    async def send(message: MutableMapping[str, Any]) -> None:
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
        assert_disclosed(page, notice=True)
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


def test_the_cli_proxy_runs_several_workers(upstream: str) -> None:
    """``--workers 2``: two server processes, each building the same app from the
    options the command line gave (manifest, position)."""
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}", "--workers", "2",
            "--position", "body-end"]  # fmt: skip
    with cli_server(args, port, "/hop") as process:
        base = f"http://127.0.0.1:{port}"
        for _ in range(4):
            page = httpx.get(base + "/dechets/assistant")
            assert_disclosed(page, notice=True)
            assert page.text.index("<ai-notice") > page.text.index("</main>")  # body-end
        children = Path(f"/proc/{process.pid}/task/{process.pid}/children").read_text().split()
        workers = [
            pid for pid in children
            if "ai_disclosure" in Path(f"/proc/{pid}/cmdline").read_text()
            or "multiprocessing" in Path(f"/proc/{pid}/cmdline").read_text()
        ]  # fmt: skip
        assert len(workers) >= 2, children


async def test_the_workers_connections_send_without_delay() -> None:
    """The socket the workers share makes connections with Nagle's algorithm off
    (with it on, each answer waited for the client's delayed ACK: ~40 ms)."""
    from ai_disclosure.cli.proxy import _listening_socket

    sock = _listening_socket("127.0.0.1", 0)
    seen: list[int] = []

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        seen.append(
            writer.get_extra_info("socket").getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY)
        )
        writer.close()

    server = await asyncio.start_server(handle, sock=sock)
    async with server:
        _, writer = await asyncio.open_connection(*sock.getsockname())
        for _ in range(100):
            if seen:
                break
            await asyncio.sleep(0.01)
        writer.close()
    assert seen
    assert seen[0] != 0


@pytest.mark.parametrize("workers", ["0", "two"])
def test_a_bad_number_of_workers_is_a_clear_error(workers: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "ai_disclosure.cli", "proxy", "--upstream", "http://127.0.0.1:1",
         "--manifest", str(EXAMPLE_MANIFEST), "--workers", workers],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 2
    assert "expected a number of processes >= 1" in result.stderr


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


async def test_forwarding_headers_a_visitor_sends_never_reach_the_app(upstream: str) -> None:
    forged = {
        "X-Forwarded-For": "198.51.100.66",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-Host": "evil.example",
        "X-Forwarded-Port": "443",
        "X-Real-IP": "198.51.100.66",
        "Forwarded": 'for=198.51.100.66;proto=https;host="evil.example"',
    }
    async with proxied(upstream) as client:
        response = await client.get("/echo", headers=forged)
    headers = response.json()["headers"]
    # A JSON object keeps one value per name: a forged copy would show in the raw list.
    assert headers["x-forwarded-for"] == "203.0.113.7"
    assert headers["x-forwarded-proto"] == "http"
    assert headers["x-forwarded-host"] == "portail.example"
    assert headers["forwarded"] == 'for="203.0.113.7";proto=http;host="portail.example"'
    assert "x-forwarded-port" not in headers
    assert "x-real-ip" not in headers
    assert "evil" not in json.dumps(headers)


async def test_a_host_with_quotes_cannot_add_forwarded_parameters(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/echo", headers={"Host": 'a";proto=https;by="b'})
    forwarded = response.json()["headers"]["forwarded"]
    assert forwarded == r'for="203.0.113.7";proto=http;host="a\";proto=https;by=\"b"'


async def test_preserve_host_sends_the_visitors_host(upstream: str) -> None:
    async with proxied(upstream, preserve_host=True) as client:
        echoed = await client.get("/echo")
        redirect = await client.get("/redirect")  # built from the Host it received
        own = await client.get("/redirect-own")  # built from its own address
    assert echoed.json()["headers"]["host"] == "portail.example"
    assert echoed.json()["headers"]["x-forwarded-host"] == "portail.example"
    assert redirect.headers["location"] == "http://portail.example/dechets/assistant"
    assert own.headers["location"] == "http://portail.example/dechets/assistant"


async def test_by_default_the_upstream_gets_its_own_host(upstream: str) -> None:
    async with proxied(upstream) as client:
        echoed = await client.get("/echo")
    assert echoed.json()["headers"]["host"] == upstream.removeprefix("http://")


@pytest.mark.parametrize(
    ("accepted", "forwarded"),
    [
        ("gzip, compress, deflate", "gzip, deflate"),
        ("compress;q=1.0, gzip;q=0.8, *;q=0.1", "gzip;q=0.8"),
        ("gzip;q=0, deflate", "deflate"),
        ("GZIP", "GZIP"),
        ("*", "identity"),
        ("identity", "identity"),
        ("gzip;q=nonsense", "identity"),
        ("", "identity"),
    ],
)
async def test_only_codings_the_client_accepts_and_the_proxy_can_open_go_upstream(
    upstream: str, accepted: str, forwarded: str
) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/echo", headers={"Accept-Encoding": accepted})
    assert response.json()["headers"]["accept-encoding"] == forwarded


async def test_brotli_and_zstd_are_asked_for_where_they_can_be_opened(upstream: str) -> None:
    async with proxied(upstream) as client:
        response = await client.get("/echo", headers={"Accept-Encoding": "br, zstd, gzip"})
    asked = response.json()["headers"]["accept-encoding"].split(", ")
    assert asked == [c for c in ("br", "zstd") if decodable(c.encode())] + ["gzip"]


def _head(port: int, path: str) -> list[str]:
    """The response's status line and header lines exactly as they came over the wire."""
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n".encode()
        )
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return data.split(b"\r\n\r\n")[0].decode("latin-1").split("\r\n")


def _header_lines(port: int, path: str) -> list[str]:
    return _head(port, path)[1:]


def _named(lines: list[str], name: str) -> list[str]:
    return [v.strip() for k, _, v in (line.partition(":") for line in lines) if k.lower() == name]


@contextmanager
def bare_server(app: object) -> Iterator[str]:
    """An upstream whose server adds no Date and no Server: the app's are the only ones."""
    with thread_server(app, date_header=False, server_header=False) as url:
        yield url


def test_one_date_and_one_server_the_upstreams(upstream: str) -> None:
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    with cli_server(args, port, "/hop"):
        for path in ("/dechets/assistant", "/hop", "/error", "/big"):
            lines = _header_lines(port, path)
            assert len(_named(lines, "date")) == 1, (path, lines)
            assert _named(lines, "server") == ["uvicorn"], (path, lines)  # the upstream's
        # Answered by the middleware itself: dated, no Server to speak of.
        lines = _header_lines(port, "/.well-known/ai-disclosure")
        assert len(_named(lines, "date")) == 1, lines
        assert _named(lines, "server") == []


def test_the_proxys_own_error_pages_are_dated() -> None:
    port = free_port()
    args = ["proxy", "--upstream", f"http://127.0.0.1:{free_port()}",
            "--manifest", str(EXAMPLE_MANIFEST), "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    with cli_server(args, port, "/.well-known/ai-disclosure"):
        lines = _header_lines(port, "/dechets/assistant")
    assert len(_named(lines, "date")) == 1, lines
    assert email.utils.parsedate_to_datetime(_named(lines, "date")[0]).tzinfo is not None
    assert _named(lines, "server") == []


async def test_the_upstreams_date_is_relayed_and_a_missing_one_added() -> None:
    with bare_server(upstream_app()) as bare:
        async with proxied(bare) as client:
            dated = await client.get("/dated")
            undated = await client.get("/hop")
    assert dated.headers.get_list("date") == [OLD_DATE]
    assert dated.headers.get_list("server") == ["upstream/1"]
    assert len(undated.headers.get_list("date")) == 1
    assert email.utils.parsedate_to_datetime(undated.headers["date"]).year >= 2025
    assert "server" not in undated.headers


def test_a_trusted_terminator_tells_the_scheme_and_client(upstream: str) -> None:
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}", "--forwarded-allow-ips", "127.0.0.1"]  # fmt: skip
    terminator = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20",
                  "Host": "portail.example"}  # fmt: skip
    with cli_server(args, port, "/hop"):
        base = f"http://127.0.0.1:{port}"
        echoed = httpx.get(base + "/echo", headers=terminator).json()["headers"]
        redirect = httpx.get(base + "/redirect-own", headers=terminator)
    assert echoed["x-forwarded-proto"] == "https"
    assert echoed["x-forwarded-for"] == "198.51.100.20"
    assert echoed["forwarded"] == 'for="198.51.100.20";proto=https;host="portail.example"'
    assert redirect.headers["location"] == "https://portail.example/dechets/assistant"


def test_without_a_trusted_terminator_the_scheme_is_the_connections(upstream: str) -> None:
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    forged = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.20"}
    with cli_server(args, port, "/hop"):
        echoed = httpx.get(f"http://127.0.0.1:{port}/echo", headers=forged).json()["headers"]
    assert echoed["x-forwarded-proto"] == "http"
    assert echoed["x-forwarded-for"] == "127.0.0.1"


def test_the_cli_proxy_writes_down_no_address_path_or_user_agent(upstream: str) -> None:
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}", "--forwarded-allow-ips", "127.0.0.1"]  # fmt: skip
    visitor = {"User-Agent": "VisitorBrowser/9.9", "X-Forwarded-For": "198.51.100.77",
               "Cookie": "session=visitor-secret"}  # fmt: skip
    with cli_server(args, port, "/hop") as process:
        base = f"http://127.0.0.1:{port}"
        for path in ("/dechets/assistant?who=visitor-query", "/error", "/missing-visitor-path"):
            httpx.get(base + path, headers=visitor)
    output: str = process.output  # type: ignore[attr-defined]
    for secret in ("198.51.100.77", "visitor", "VisitorBrowser", "GET ", "/dechets"):
        assert secret not in output, output


def test_a_target_that_is_not_a_path_is_a_400_page(upstream: str) -> None:
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}"]  # fmt: skip
    with cli_server(args, port, "/hop") as process:
        absolute = _head(port, upstream + "/dechets/assistant")
        asterisk = _head(port, "*")
    if importlib.util.find_spec("httptools") is None:
        assert absolute[0] == "HTTP/1.1 400 Bad Request", absolute
    else:
        # uvicorn's httptools parser gives an absolute-form target as its path (RFC
        # 9112 3.2.2 asks servers to accept it): the route rules read that very path,
        # and the upstream gets it.
        assert absolute[0] == "HTTP/1.1 200 OK", absolute
        assert _named(absolute, "ai-disclosure")[0].startswith("mode=ai-originated")
    assert asterisk[0] == "HTTP/1.1 400 Bad Request", asterisk
    assert len(_named(absolute, "date")) == 1
    assert "Traceback" not in process.output  # type: ignore[attr-defined]
