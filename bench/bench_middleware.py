"""Throughput of the middleware against the bare app, in one run.

In-process: the ASGI app is called directly in a loop (no server, no client),
so the figures show the middleware's own cost. Over uvicorn: a real server on
127.0.0.1 and a load generator (wrk when installed, else an httpx client pool).
Prints ratios to the bare app measured in the same run, so a busy machine shifts
all rows alike. Also measures the peak extra memory of streaming a 200 MB page,
and the injector alone on the page at each notice position.

    python bench/bench_middleware.py [--seconds 2] [--uvicorn] [--memory] [--injector]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import shutil
import socket
import statistics
import subprocess
import sys
import time
import timeit
import tracemalloc
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ai_disclosure import AIDisclosureMiddleware, load_manifest
from ai_disclosure._headers import header_for, serialize_header
from ai_disclosure._inject import Injector, Position
from ai_disclosure._model import involvement
from ai_disclosure._notice import render_head, render_notice

ROOT = Path(__file__).resolve().parent.parent
MANIFEST = load_manifest(ROOT / "examples" / "montpellier" / "ai-disclosure.toml")
PARAGRAPH = (
    "<p>Le tri des déchets ménagers permet de recycler le verre, le papier et les "
    "emballages. Consultez le calendrier des collectes de votre commune.</p>\n"
)
PAGE = (
    "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Tri des déchets</title>"
    '<link rel=stylesheet href="/site.css"><script src="/site.js" defer></script></head>'
    "<body><header><a href=#main>Aller au contenu</a><nav><a href=/>Accueil</a></nav></header>"
    "<main id=main><h1>Assistant tri</h1>"
    + PARAGRAPH * (20_000 // len(PARAGRAPH))
    + "</main></body></html>"
)


def bare_app() -> Starlette:
    async def page(request: Request) -> Response:
        return HTMLResponse(PAGE)

    async def api(request: Request) -> Response:
        return JSONResponse({"answer": "Le verre va dans le conteneur vert.", "id": 42})

    return Starlette(routes=[Route("/dechets/assistant", page), Route("/api/horaires", api)])


class Reference(BaseHTTPMiddleware):
    """The same job the straightforward way: buffer the body, string-replace, re-send."""

    def __init__(self, app: Any) -> None:
        super().__init__(app)
        systems = (MANIFEST.system("assistant-dechets"),)
        self.found = involvement(systems)
        self.head = render_head(MANIFEST, systems, "fr").encode()
        self.notice = render_notice(MANIFEST, systems, "fr").encode()

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        response = await call_next(request)
        ai = request.url.path.startswith("/dechets/assistant")
        found = self.found if ai else involvement(())
        headers = dict(response.headers)
        headers["ai-disclosure"] = serialize_header(header_for(found))
        body = b"".join([chunk async for chunk in response.body_iterator])  # type: ignore[attr-defined]
        if ai and headers.get("content-type", "").startswith("text/html"):
            body = body.replace(b"</head>", self.head + b"</head>", 1)
            body = body.replace(b"<body>", b"<body>" + self.notice, 1)
        headers.pop("content-length", None)
        return Response(body, status_code=response.status_code, headers=headers)


def scope_for(path: str) -> dict[str, Any]:
    return {
        "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
        "method": "GET", "scheme": "http", "path": path, "raw_path": path.encode(),
        "root_path": "", "query_string": b"", "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "headers": [(b"host", b"127.0.0.1:8000"), (b"accept-language", b"fr")],
    }  # fmt: skip


async def in_process(app: Any, path: str, seconds: float) -> float:
    """Requests per second for ``app`` called directly."""

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    for _ in range(200):  # warm caches
        await app(scope_for(path), receive, send)
    count = 0
    deadline = time.perf_counter() + seconds
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        for _ in range(100):
            await app(scope_for(path), receive, send)
        count += 100
    return count / (time.perf_counter() - start)


def variants() -> dict[str, Any]:
    return {
        "bare": bare_app(),
        "ai_disclosure": AIDisclosureMiddleware(bare_app(), MANIFEST),
        # the notice's default place is after the skip links; this one is the body start
        "ai_disclosure body-start": AIDisclosureMiddleware(
            bare_app(), MANIFEST, position="body-start"
        ),
        "BaseHTTPMiddleware": Reference(bare_app()),
    }


def run_in_process(seconds: float, rounds: int) -> None:
    print(f"\nIn-process ASGI loop ({rounds} rounds of {seconds}s each, median req/s)")
    print(f"{'case':<60}{'req/s':>10}{'vs bare':>10}")
    for label, path in (
        ("JSON, headers only", "/api/horaires"),
        ("20 KB HTML page, notice injected", "/dechets/assistant"),
    ):
        results: dict[str, list[float]] = {name: [] for name in variants()}
        for _ in range(rounds):
            # Interleave the variants so a noisy neighbour hits all alike.
            for name, app in variants().items():
                results[name].append(asyncio.run(in_process(app, path, seconds)))
        bare = statistics.median(results["bare"])
        for name, values in results.items():
            rate = statistics.median(values)
            print(f"{label + ' / ' + name:<60}{rate:>10.0f}{rate / bare:>10.2f}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(name: str, port: int) -> subprocess.Popen[bytes]:
    code = (
        "import sys, uvicorn; sys.path.insert(0, 'bench');"
        "from bench_middleware import variants;"
        f"uvicorn.run(variants()[{name!r}], host='127.0.0.1', port={port}, log_level='error',"
        " access_log=False)"
    )
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("uvicorn did not start")


def load(url: str, seconds: float) -> float:
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run(
            [wrk, "-t1", "-c16", f"-d{max(1, round(seconds))}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        line = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
        return float(line.split()[1])
    import httpx

    async def worker(client: httpx.AsyncClient, stop: float, counts: list[int]) -> None:
        while time.perf_counter() < stop:
            await client.get(url)
            counts.append(1)

    async def main() -> float:
        counts: list[int] = []
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=16)) as client:
            start = time.perf_counter()
            stop = start + seconds
            await asyncio.gather(*(worker(client, stop, counts) for _ in range(16)))
            return len(counts) / (time.perf_counter() - start)

    return asyncio.run(main())


def run_uvicorn(seconds: float) -> None:
    tool = "wrk" if shutil.which("wrk") else "httpx (install wrk for a faster load generator)"
    print(f"\nOver uvicorn on 127.0.0.1, load from {tool}, {seconds}s each")
    print(f"{'case':<60}{'req/s':>10}{'vs bare':>10}")
    for label, path in (("JSON", "/api/horaires"), ("20 KB HTML", "/dechets/assistant")):
        rates: dict[str, float] = {}
        for name in variants():
            port = free_port()
            server = serve(name, port)
            try:
                load(f"http://127.0.0.1:{port}{path}", 1)  # warm up
                rates[name] = load(f"http://127.0.0.1:{port}{path}", seconds)
            finally:
                server.terminate()
                server.wait()
        for name, rate in rates.items():
            print(f"{label + ' / ' + name:<60}{rate:>10.0f}{rate / rates['bare']:>10.2f}")


def run_memory(megabytes: int) -> None:
    """Peak memory the middleware adds while streaming a huge page chunk by chunk."""
    chunk = (PARAGRAPH * (65536 // len(PARAGRAPH))).encode()
    count = megabytes * 1024 * 1024 // len(chunk)
    warm = True  # the first page is short: what is done once (fragments rendered) is not counted

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"text/html; charset=utf-8")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": PAGE[:400].encode(), "more_body": True})
        for _ in range(1 if warm else count):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"</main></body></html>"})

    async def run(wrapped: Any) -> tuple[int, int]:
        sent = 0

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b""}

        async def send(message: dict[str, Any]) -> None:
            nonlocal sent
            sent += len(message.get("body", b""))

        gc.collect()
        tracemalloc.start()
        await wrapped(scope_for("/dechets/assistant"), receive, send)
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return sent, peak

    for position in ("after-skip-links", "body-start", "body-end"):
        asyncio.run(run(AIDisclosureMiddleware(app, MANIFEST, position=position)))
    warm = False
    bare_sent, bare_peak = asyncio.run(run(app))
    for position in ("after-skip-links", "body-start", "body-end"):
        sent, peak = asyncio.run(run(AIDisclosureMiddleware(app, MANIFEST, position=position)))
        print(
            f"\nStreaming {bare_sent / 1e6:.0f} MB through the middleware ({position}): "
            f"peak traced memory {peak / 1e6:.2f} MB vs {bare_peak / 1e6:.2f} MB bare; "
            f"extra {max(0, peak - bare_peak) / 1e6:.2f} MB (target < 2 MB); "
            f"{sent - bare_sent} bytes added"
        )


def run_injector(rounds: int) -> None:
    """``Injector.feed`` + ``close`` alone on the page, with the real fragments, at
    each position: microseconds per page (median of the rounds, each the best of
    three), and the ratio to ``body-start`` measured in the same run."""
    page = PAGE.encode()
    systems = (MANIFEST.system("assistant-dechets"),)
    head = render_head(MANIFEST, systems, "fr").encode()
    notice = render_notice(MANIFEST, systems, "fr").encode()
    number = 2000
    results: dict[Position, list[float]] = {position: [] for position in Position}
    for _ in range(rounds):
        for position in Position:  # interleaved, as above

            def once(position: Position = position) -> bytes:
                injector = Injector(head, notice, position)
                return injector.feed(page) + injector.close()

            best = min(timeit.repeat(once, number=number, repeat=3))
            results[position].append(best / number * 1e6)
    print(f"\nInjector alone on the {len(page) // 1000} KB page ({rounds} rounds, median)")
    print(f"{'position':<60}{'us/page':>10}{'vs body-start':>15}")
    base = statistics.median(results[Position.BODY_START])
    for position, values in results.items():
        cost = statistics.median(values)
        print(f"{position.value:<60}{cost:>10.1f}{cost / base:>15.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--uvicorn", action="store_true", help="also measure over uvicorn")
    parser.add_argument("--memory", action="store_true", help="also stream a 200 MB page")
    parser.add_argument(
        "--injector", action="store_true", help="also time the injector alone, per position"
    )
    args = parser.parse_args()
    run_in_process(args.seconds, args.rounds)
    if args.injector:
        run_injector(args.rounds)
    if args.uvicorn:
        run_uvicorn(max(args.seconds, 3))
    if args.memory:
        run_memory(200)


if __name__ == "__main__":
    json.dumps({})  # keep the stdlib import used by the uvicorn child harmless
    main()
