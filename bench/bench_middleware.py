"""Throughput of the middleware against the bare app and the floors, in one run.

Each case is measured beside the bare app, a one-header pure-ASGI middleware
(the floor for JSON), a naive injector that sends the very same bytes with two
``bytes.replace`` calls (the floor for HTML) and the app placing the fragments
itself with ``disclosure_head()``/``disclosure_notice()``.

In-process: the ASGI app is called directly in a loop (no server, no client),
so the figures show the middleware's own cost. ``--callgrind``: the same loop
under ``valgrind --tool=callgrind``, instructions per request (independent of
what else the machine runs). Over uvicorn: a real server on 127.0.0.1 and a load
generator (wrk when installed, else an httpx client pool), rounds rotated, req/s
and server CPU per request. Prints ratios to the bare app measured in the same
run, so a busy machine shifts all rows alike. Also measures the peak extra
memory of streaming a 200 MB page, and the injector alone at each position.

    python bench/bench_middleware.py [--seconds 2] [--rounds 3] [--callgrind]
        [--uvicorn [--stack auto|asyncio-h11]] [--memory] [--injector]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import html
import http.client
import importlib.util
import itertools
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
import tracemalloc
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from ai_disclosure import (
    AIDisclosureMiddleware,
    disclosure_head,
    disclosure_notice,
    load_manifest,
)
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


SKIP_LINK = b"<a href=#main>Aller au contenu</a>"
HTML_PATH, JSON_PATH = "/dechets/assistant", "/api/horaires"
#: The same page with a new token in its head each time (a CSRF token, a CSP
#: nonce): nothing of its start can be recalled, every page start is read.
TOKEN_PATH = "/dechets/assistant/jeton"


def bare_app(*, template: bool = False, helpers: bool = False) -> Starlette:
    """The app. With ``template``, its page is made on every request from the
    template's static parts, as a template engine makes it; with ``helpers`` too,
    the page places the fragments itself through ``disclosure_head()`` and
    ``disclosure_notice()``, as such a template would."""
    head_end = PAGE.index("</head>")
    notice_at = PAGE.index(SKIP_LINK.decode()) + len(SKIP_LINK)
    # The page's static parts, cut once, as a template engine keeps its template's.
    before_head, before_notice, rest = PAGE[:head_end], PAGE[head_end:notice_at], PAGE[notice_at:]

    async def page(request: Request) -> Response:
        if helpers:
            head = disclosure_head(request)
            notice = disclosure_notice(request, page_language="fr")
        elif template:
            head = notice = ""
        else:
            return HTMLResponse(PAGE)
        # str.join: the page is not markup to escape, the fragments are already safe.
        return HTMLResponse("".join((before_head, head, before_notice, notice, rest)))

    async def api(request: Request) -> Response:
        return JSONResponse({"answer": "Le verre va dans le conteneur vert.", "id": 42})

    tokens = itertools.count()
    title = PAGE.index("<title>")

    async def token_page(request: Request) -> Response:
        token = f'<meta name=csrf-token content="{next(tokens):032x}">'
        return HTMLResponse("".join((PAGE[:title], token, PAGE[title:])))

    return Starlette(
        routes=[Route(HTML_PATH, page), Route(JSON_PATH, api), Route(TOKEN_PATH, token_page)]
    )


class OneHeader:
    """The floor for JSON: a pure-ASGI middleware that only adds one fixed header."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.header = (b"ai-disclosure", b"mode=none")

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        header = self.header

        def wrapped(message: Any) -> Any:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), header]
            return send(message)

        await self.app(scope, receive, wrapped)


class Naive:
    """The floor for HTML: the project's very bytes and headers, spliced in with
    two ``bytes.replace`` calls on a page known to hold both places (no parsing,
    no streaming, no language, no CSP, no count)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        middleware = AIDisclosureMiddleware(app, MANIFEST)
        plan = middleware._route(HTML_PATH)[0]
        head, _, notice = middleware.fragments(
            plan.key, plan.found.systems, "fr", True, legacy=False
        )
        self.head = head.replace(b' nonce="aidisclosurenoncesentinel"', b"").replace(
            b' nonce="aidisclosurestylenoncesentinel"', b""
        )
        self.notice = notice
        self.ai_headers = plan.headers
        self.no_ai_headers = middleware.no_ai.headers

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        ai = scope["path"] in (HTML_PATH, TOKEN_PATH)
        start: dict[str, Any] = {}

        async def wrapped(message: Any) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [
                    *message.get("headers", ()),
                    *(self.ai_headers if ai else self.no_ai_headers),
                ]
                if not ai:
                    await send(message)
                else:
                    start.update(message)
                return
            if ai and start:
                body = message["body"].replace(b"</head>", self.head + b"</head>", 1)
                body = body.replace(SKIP_LINK, SKIP_LINK + self.notice, 1)
                start["headers"] = [
                    (k, str(len(body)).encode() if k == b"content-length" else v)
                    for k, v in start["headers"]
                ]
                await send(start)
                start.clear()
                message["body"] = body
            await send(message)

        await self.app(scope, receive, wrapped)


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
        "one-header middleware": OneHeader(bare_app()),
        "naive same-bytes injector": Naive(bare_app()),
        "ai_disclosure": AIDisclosureMiddleware(bare_app(), MANIFEST),
        # the notice's default place is after the skip links; this one is the body start
        "ai_disclosure body-start": AIDisclosureMiddleware(
            bare_app(), MANIFEST, position="body-start"
        ),
        "template app": bare_app(template=True),
        "template app, notice injected": AIDisclosureMiddleware(bare_app(template=True), MANIFEST),
        "template app, template helpers": AIDisclosureMiddleware(
            bare_app(template=True, helpers=True), MANIFEST
        ),
        "BaseHTTPMiddleware": Reference(bare_app()),
    }


#: Which variants each case compares. The template helpers are compared with
#: injection into the same app: one that makes its page on every request, as a
#: template engine does (the bare app sends a page made once).
CASES = (
    ("JSON, headers only", JSON_PATH, (
        "bare", "one-header middleware", "ai_disclosure", "BaseHTTPMiddleware",
    )),
    ("20 KB HTML page, notice injected", HTML_PATH, (
        "bare", "naive same-bytes injector", "ai_disclosure", "ai_disclosure body-start",
        "BaseHTTPMiddleware",
    )),
    ("same page made by a template on each request", HTML_PATH, (
        "bare", "template app", "template app, notice injected", "template app, template helpers",
    )),
    ("same page, a new token in its head each time", TOKEN_PATH, (
        "bare", "naive same-bytes injector", "ai_disclosure",
    )),
)  # fmt: skip


def check_same_bytes() -> None:
    """The naive injector and the template app injected send the project's very
    bytes; the template helpers the same document (their notice's letters beyond
    ASCII as character references)."""

    async def body(app: Any) -> bytes:
        parts: list[bytes] = []

        async def receive() -> dict[str, Any]:
            return {"type": "http.request", "body": b"", "more_body": False}

        async def send(message: dict[str, Any]) -> None:
            parts.append(message.get("body", b""))

        await app(scope_for(HTML_PATH), receive, send)
        return b"".join(parts)

    apps = variants()
    ours = asyncio.run(body(apps["ai_disclosure"]))
    for name in ("naive same-bytes injector", "template app, notice injected"):
        if asyncio.run(body(apps[name])) != ours:
            raise SystemExit(f"{name} does not send the same bytes as ai_disclosure")
    placed = asyncio.run(body(apps["template app, template helpers"]))
    if html.unescape(placed.decode()) != html.unescape(ours.decode()):
        raise SystemExit("the template helpers do not send the same page as ai_disclosure")


def run_in_process(seconds: float, rounds: int) -> None:
    print(f"\nIn-process ASGI loop ({rounds} rounds of {seconds}s each, median req/s)")
    print(f"{'case':<70}{'req/s':>10}{'vs bare':>10}")
    for label, path, names in CASES:
        results: dict[str, list[float]] = {name: [] for name in names}
        for round_ in range(rounds):
            # Rotate the variants so a noisy neighbour hits all alike.
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            apps = variants()
            for name in order:
                results[name].append(asyncio.run(in_process(apps[name], path, seconds)))
        bare = statistics.median(results["bare"])
        for name, values in results.items():
            rate = statistics.median(values)
            print(f"{label + ' / ' + name:<70}{rate:>10.0f}{rate / bare:>10.2f}")


def _callgrind_child(name: str, path: str, count: int) -> None:
    """Run ``count`` requests in-process (after a warm-up), for callgrind to count."""
    app = variants()[name]

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        pass

    async def loop() -> None:
        for _ in range(50 + count):
            await app(scope_for(path), receive, send)

    asyncio.run(loop())


def instructions(name: str, path: str, counts: tuple[int, int] = (100, 600)) -> float:
    """Instructions per request under callgrind: two runs that differ only in the
    number of requests, so start-up and imports cancel out."""
    totals = []
    for count in counts:
        out = subprocess.run(
            [
                "valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                sys.executable, __file__, "--callgrind-child", name, path, str(count),
            ],
            capture_output=True, text=True, check=True, cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": "0"},  # the same dicts in both runs
        ).stderr  # fmt: skip
        line = next(line for line in out.splitlines() if "Collected :" in line)
        totals.append(int(line.split()[-1]))
    return (totals[1] - totals[0]) / (counts[1] - counts[0])


def served_instructions(name: str, path: str, stack: str, count: int = 300) -> float:
    """Instructions per request inside a real uvicorn server on ``stack``, under
    callgrind: counters zeroed after a warm-up, ``count`` requests one after the
    other on one kept-alive connection, then dumped. Deterministic, unlike CPU
    time on a shared machine, where two servers of the same app differ by up to
    a third (each process lands on its own memory layout and host core)."""
    port = free_port()
    loop, parser = STACKS[stack]
    code = (
        "import sys, uvicorn; sys.path.insert(0, 'bench');"
        "from bench_middleware import variants;"
        f"uvicorn.run(variants()[{name!r}], host='127.0.0.1', port={port}, log_level='error',"
        f" access_log=False, loop={loop!r}, http={parser!r})"
    )
    with tempfile.TemporaryDirectory(prefix="bench-callgrind-") as folder:
        out = Path(folder) / "callgrind.out"
        server = subprocess.Popen(
            ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out}",
             sys.executable, "-c", code],
            cwd=ROOT, stderr=subprocess.DEVNULL, env={**os.environ, "PYTHONHASHSEED": "0"},
        )  # fmt: skip
        try:
            for _ in range(1200):  # imports under valgrind take a while
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=1).close()
                    break
                except OSError:
                    time.sleep(0.25)
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

            def requests(number: int) -> None:
                for _ in range(number):
                    connection.request("GET", path, headers={"Accept-Language": "fr"})
                    connection.getresponse().read()

            requests(50)
            pid = str(server.pid)
            subprocess.run(["callgrind_control", "--zero", pid], capture_output=True, check=True)
            requests(count)
            subprocess.run(["callgrind_control", "--dump", pid], capture_output=True, check=True)
            connection.close()
        finally:
            server.terminate()
            server.wait()
        dump = next(Path(folder).glob("callgrind.out.*"))
        lines = dump.read_text().splitlines()
        totals = next(line for line in lines if line.startswith(("summary:", "totals:")))
        return int(totals.split()[1]) / count


def run_callgrind(stack: str) -> None:
    if shutil.which("valgrind") is None:
        print("\nvalgrind is not installed: no instruction counts")
        return
    print("\nInstructions per request under callgrind (in-process; load-independent)")
    print(f"{'case':<70}{'instr':>10}{'bare/this':>10}")
    # The references that cost most under valgrind are left to the timed loops.
    runs = [
        (label, path, name)
        for label, path, names in CASES
        for name in names
        if name not in ("BaseHTTPMiddleware", "ai_disclosure body-start")
    ]
    with ThreadPoolExecutor(2) as pool:  # counts do not depend on what runs beside
        counts = list(pool.map(lambda run: instructions(run[2], run[1]), runs))
    counted = list(zip(runs, counts, strict=True))
    bare = {label: count for (label, _, name), count in counted if name == "bare"}
    for (label, _, name), count in counted:
        print(f"{label + ' / ' + name:<70}{count:>10.0f}{bare[label] / count:>10.2f}")
    print(
        f"\nInstructions per request inside a uvicorn server ({stack_in_use(stack)}; one "
        "kept-alive connection, counted after a warm-up; load-independent)"
    )
    print(f"{'case':<70}{'instr':>10}{'bare/this':>10}")
    with ThreadPoolExecutor(2) as pool:
        counts = list(pool.map(lambda run: served_instructions(run[2], run[1], stack), runs))
    counted = list(zip(runs, counts, strict=True))
    bare = {label: count for (label, _, name), count in counted if name == "bare"}
    for (label, _, name), count in counted:
        print(f"{label + ' / ' + name:<70}{count:>10.0f}{bare[label] / count:>10.2f}")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: uvicorn's event loop and HTTP parser: "auto" takes uvloop and httptools when
#: installed (``pip install -e '.[bench]'``), else asyncio and h11.
STACKS = {"auto": ("auto", "auto"), "asyncio-h11": ("asyncio", "h11")}


def stack_in_use(stack: str) -> str:
    """What uvicorn will run on, in words."""
    loop, http = STACKS[stack]
    if loop == "auto":
        loop = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    if http == "auto":
        http = "httptools" if importlib.util.find_spec("httptools") else "h11"
    return f"{loop} + {http}"


def serve(name: str, port: int, stack: str = "auto") -> subprocess.Popen[bytes]:
    loop, http = STACKS[stack]
    code = (
        "import sys, uvicorn; sys.path.insert(0, 'bench');"
        "from bench_middleware import variants;"
        f"uvicorn.run(variants()[{name!r}], host='127.0.0.1', port={port}, log_level='error',"
        f" access_log=False, loop={loop!r}, http={http!r})"
    )
    return started(subprocess.Popen([sys.executable, "-c", code], cwd=ROOT), port)


def started(process: subprocess.Popen[bytes], port: int) -> subprocess.Popen[bytes]:
    """``process`` once something listens on ``port``."""
    for _ in range(200):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError("the server did not start")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) of a process and its children so far (Linux)."""
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            children = Path(f"/proc/{current}/task/{current}/children").read_text()
        except OSError:
            continue
        pids.extend(int(child) for child in children.split())
    return total


def load(url: str, seconds: float, rate: int | None = None) -> tuple[float, int]:
    """Requests per second and requests made, from wrk (else an httpx pool); with
    ``rate``, from hey offering that many requests per second, whatever the
    server's speed (``load_tool``)."""
    if rate is not None:
        hey = shutil.which("hey")
        if hey is None:
            raise SystemExit("--rate needs hey (Debian: apt install hey)")
        out = subprocess.run(
            [hey, "-z", f"{max(1, round(seconds))}s", "-c", "32", "-q", str(max(1, rate // 32)),
             url],
            capture_output=True, text=True, check=True,
        ).stdout  # fmt: skip
        statuses = [line.split() for line in out.splitlines() if line.strip().startswith("[")]
        done = sum(int(words[1]) for words in statuses)  # "[200]  40000 responses"
        return done / max(1, round(seconds)), done
    wrk = shutil.which("wrk")
    if wrk:
        out = subprocess.run(
            [wrk, "-t2", "-c32", f"-d{max(1, round(seconds))}s", url],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        rate = next(line for line in out.splitlines() if line.startswith("Requests/sec"))
        done = next(line for line in out.splitlines() if "requests in" in line)
        return float(rate.split()[1]), int(done.split()[0])
    import httpx

    async def worker(client: httpx.AsyncClient, stop: float, counts: list[int]) -> None:
        while time.perf_counter() < stop:
            await client.get(url)
            counts.append(1)

    async def main() -> tuple[float, int]:
        counts: list[int] = []
        async with httpx.AsyncClient(limits=httpx.Limits(max_connections=32)) as client:
            start = time.perf_counter()
            stop = start + seconds
            await asyncio.gather(*(worker(client, stop, counts) for _ in range(32)))
            return len(counts) / (time.perf_counter() - start), len(counts)

    return asyncio.run(main())


def load_tool(rate: int | None) -> str:
    """The load, in words. A closed loop (wrk: each connection sends its next request
    when the last answer arrives) charges the server for waking the load generator,
    in kernel time, the more the slower the server is: on 2 shared cores that widened
    every gap to the bare app (measured: the JSON route +5 us of system time per
    request over bare, with the very same system calls). A fixed offered rate does
    not; use one below every variant's capacity."""
    if rate is not None:
        return f"hey at a fixed {rate} req/s, 32 connections"
    return "wrk -t2 -c32" if shutil.which("wrk") else "httpx pool of 32 (install wrk)"


def measured(url: str, seconds: float, *pids: int, rate: int | None = None) -> tuple[float, float]:
    """(req/s, server CPU ms per request) of ``pids`` under load on ``url``."""
    load(url, 1, rate)  # warm up
    before = sum(cpu_seconds(pid) for pid in pids)
    rate_done, done = load(url, seconds, rate)
    return rate_done, (sum(cpu_seconds(pid) for pid in pids) - before) * 1000 / max(done, 1)


def report(label: str, results: dict[str, list[tuple[float, float]]], base: str) -> None:
    """Medians over the rounds: req/s, CPU per request, and both ratios to ``base``."""
    rate0 = statistics.median(r for r, _ in results[base])
    cpu0 = statistics.median(c for _, c in results[base])
    for name, values in results.items():
        rate = statistics.median(r for r, _ in values)
        cpu = statistics.median(c for _, c in values)
        print(
            f"{label + ' / ' + name:<62}{rate:>9.0f}{rate / rate0:>8.2f}"
            f"{cpu:>9.3f}{cpu0 / cpu:>8.2f}"
        )


def run_uvicorn(seconds: float, rounds: int, stack: str, rate: int | None) -> None:
    tool = load_tool(rate)
    print(
        f"\nOver uvicorn on 127.0.0.1 (1 worker, {stack_in_use(stack)}), load from {tool}, "
        f"{seconds}s each, median of {rounds} rotated rounds; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    print(f"{'case':<62}{'req/s':>9}{'x bare':>8}{'CPU ms':>9}{'x bare':>8}")
    for label, path, names in CASES:
        results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
        for round_ in range(rounds):
            order = names[round_ % len(names) :] + names[: round_ % len(names)]
            for name in order:
                port = free_port()
                server = serve(name, port, stack)
                try:
                    url = f"http://127.0.0.1:{port}{path}"
                    results[name].append(measured(url, seconds, server.pid, rate=rate))
                finally:
                    server.terminate()
                    server.wait()
        report(label, results, "bare")


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
    run_templates(head, notice, rounds)


def run_templates(head: bytes, notice: bytes, rounds: int) -> None:
    """The injector on the real site templates of tests/fixtures, each page seen
    before (its start recalled), with a new token in its head each time (a CSRF
    token in a <meta>, a CSP nonce: its start compared value by value), and with a
    new nonce in a script's JSON (WordPress's ``wp_localize_script``); the
    page's own join is timed alone and taken off."""
    print(f"\nInjector alone on real templates ({rounds} rounds, median; after the skip links)")
    print(f"{'template':<44}{'head B':>8}{'seen us':>10}{'new token us':>14}{'new nonce us':>14}")
    for path in sorted((ROOT / "tests" / "fixtures" / "templates").glob("*.html")):
        page = path.read_bytes()
        cut = page.find(b"</head>")
        if cut >= 0:
            seen, token, nonce = _template_timings(page[:cut], page[cut:], head, notice, rounds)
            print(f"{path.name:<44}{cut:>8}{seen:>10.1f}{token:>14.1f}{nonce:>14.1f}")


#: What goes before </head>: a CSRF token's <meta>, and WordPress's settings
#: script with a REST nonce (10 hexadecimal digits).
_TOKEN_META = b'<meta name=csrf-token content="%s">'
_NONCE_SCRIPT = (
    b'<script id="wp-api-request-js-extra">var wpApiSettings = {"root":'
    b'"https:\\/\\/example.org\\/wp-json\\/","nonce":"%s","versionString":"wp\\/v2\\/"};</script>'
)


def _template_timings(
    before: bytes, after: bytes, head: bytes, notice: bytes, rounds: int
) -> tuple[float, float, float]:
    """Microseconds per page: the page seen before, a new token each time, and a
    new nonce in a script each time."""
    number = 1000
    tokens = itertools.count()
    kinds = {"seen": (_TOKEN_META, 0), "token": (_TOKEN_META, 32), "nonce": (_NONCE_SCRIPT, 10)}

    def made(kind: str) -> bytes:
        piece, size = kinds[kind]
        value = (b"%032x" % next(tokens))[32 - size :] if size else b"0" * 32
        return b"".join((before, piece % value, after))

    def injected(kind: str) -> bytes:
        injector = Injector(head, notice)
        return injector.feed(made(kind)) + injector.close()

    timings: dict[str, list[float]] = {kind: [] for kind in kinds}
    for _ in range(rounds):
        for kind in kinds:
            spent = min(timeit.repeat(partial(injected, kind), number=number, repeat=3))
            making = min(timeit.repeat(partial(made, kind), number=number, repeat=3))
            timings[kind].append((spent - making) / number * 1e6)
    seen, token, nonce = (statistics.median(timings[kind]) for kind in kinds)
    return seen, token, nonce


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=1.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--uvicorn", action="store_true", help="also measure over uvicorn")
    parser.add_argument("--memory", action="store_true", help="also stream a 200 MB page")
    parser.add_argument(
        "--injector", action="store_true", help="also time the injector alone, per position"
    )
    parser.add_argument(
        "--callgrind", action="store_true", help="also count instructions with valgrind"
    )
    parser.add_argument(
        "--stack", choices=sorted(STACKS), default="auto", help="uvicorn's loop and parser"
    )
    parser.add_argument(
        "--rate", type=int, help="over uvicorn, offer this many req/s with hey (else wrk's most)"
    )
    parser.add_argument("--callgrind-child", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callgrind_child:
        name, path, count = args.callgrind_child
        _callgrind_child(name, path, int(count))
        return
    check_same_bytes()
    run_in_process(args.seconds, args.rounds)
    if args.callgrind:
        run_callgrind(args.stack)
    if args.injector:
        run_injector(args.rounds)
    if args.uvicorn:
        run_uvicorn(max(args.seconds, 3), args.rounds, args.stack, args.rate)
    if args.memory:
        run_memory(200)


if __name__ == "__main__":
    json.dumps({})  # keep the stdlib import used by the uvicorn child harmless
    main()
