"""What logging disclosures costs a service.

1. Per-record cost of ``Aggregator.record`` and ``DisclosureLogger.record``, against a
   bare dict increment measured in the same run (target: at most 2 µs per record).
2. Latency (p50, p99) of a small Starlette app served by uvicorn when the registry is
   DOWN (an unreachable port: the logger keeps retrying in the background; with the
   default settings, and with a cut and a retry every second) against the same app
   with NO registry configured (target: within 5 %).

Run: ``.venv/bin/python bench/bench_aggregate.py [--calls 1000000] [--requests 10000]``
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx

from ai_disclosure._aggregate import Aggregator
from ai_disclosure._logger import DisclosureLogger

ARGS = ("assistant-dechets", "/dechets/assistant*", "ai-originated", True, "fr")


# --- 1. per-record cost ---------------------------------------------------------------


def per_call_us(fn: Callable[..., None], calls: int, repeats: int = 5) -> float:
    """Best of ``repeats`` runs of ``calls`` calls, in microseconds per call."""
    system, route, mode, notice, language = ARGS
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter_ns()
        for _ in range(calls):
            fn(system, route, mode, notice, language)
        best = min(best, (time.perf_counter_ns() - start) / calls / 1000)
    return best


def bench_record(calls: int) -> dict[str, float]:
    counts: dict[tuple[Any, ...], int] = {}

    def bare(system: str, route: str, mode: str, notice: bool, language: str | None) -> None:
        key = (system, route, mode, notice, language)
        counts[key] = counts.get(key, 0) + 1

    aggregator = Aggregator("demarches")

    async def with_logger() -> float:
        logger = DisclosureLogger("demarches", f"http://127.0.0.1:{unused_port()}", "token")
        await logger.start()
        try:
            return per_call_us(logger.record, calls)
        finally:
            await logger.aclose(deadline=0.1)

    return {
        "bare dict increment": per_call_us(bare, calls),
        "Aggregator.record": per_call_us(aggregator.record, calls),
        "DisclosureLogger.record": asyncio.run(with_logger()),
    }


# --- 2. app latency over uvicorn --------------------------------------------------------


def unused_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def serve(mode: str, port: int) -> None:
    """The app under test: a page behind the real disclosure middleware."""
    import uvicorn
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import PlainTextResponse
    from starlette.routing import Route

    from ai_disclosure import AIDisclosureMiddleware

    logger = None
    down = f"http://127.0.0.1:{unused_port()}"  # nothing listens: the registry is down
    if mode == "down":
        logger = DisclosureLogger("demarches", down, "token")
    elif mode == "down-harsh":  # a cut and a failed attempt every second
        logger = DisclosureLogger(
            "demarches", down, "token", window_seconds=1, backoff_base=0.2, backoff_cap=1.0
        )

    async def page(request: Request) -> PlainTextResponse:
        return PlainTextResponse("Bonjour, je suis un assistant.")

    manifest = Path(__file__).resolve().parent.parent / "examples/montpellier/ai-disclosure.toml"
    app = AIDisclosureMiddleware(
        Starlette(routes=[Route("/dechets/assistant", page)]), manifest, logger=logger
    )
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="error", access_log=False)


def wait_until_up(client: httpx.Client, url: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            client.get(url)
            return
        except httpx.TransportError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def timed_get(client: httpx.Client, url: str) -> float:
    start = time.perf_counter()
    client.get(url)
    return (time.perf_counter() - start) * 1e6


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def bench_app(requests: int) -> dict[str, tuple[float, float]]:
    """p50 and p99 in µs for each server: no registry, the same again (the noise floor),
    and registry down (two settings). All run at once and each round sends one request to each, in
    rotating order, so that whatever else the machine does hits them alike."""
    servers = {
        "none": "none",
        "none (again)": "none",
        "down": "down",
        "down, retry every 1 s": "down-harsh",
    }
    ports = {name: unused_port() for name in servers}
    processes = [
        subprocess.Popen([sys.executable, __file__, "--serve", mode, "--port", str(ports[name])])
        for name, mode in servers.items()
    ]
    urls = {name: f"http://127.0.0.1:{port}/dechets/assistant" for name, port in ports.items()}
    samples: dict[str, list[float]] = {name: [] for name in servers}
    names = list(servers)
    clients = {name: httpx.Client() for name in servers}
    try:
        for name in names:
            wait_until_up(clients[name], urls[name])
        for i in range(300 + requests):  # the first 300 rounds warm up
            turn = i % len(names)
            for name in names[turn:] + names[:turn]:
                elapsed = timed_get(clients[name], urls[name])
                if i >= 300:
                    samples[name].append(elapsed)
    finally:
        for client in clients.values():
            client.close()
        for process in processes:
            process.terminate()
            process.wait(timeout=20)
    return {name: (percentile(v, 50), percentile(v, 99)) for name, v in samples.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--serve", choices=("none", "down", "down-harsh"), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return

    print(f"Per-record cost (best of 5 x {args.calls:,} calls)")
    costs = bench_record(args.calls)
    base = costs["bare dict increment"]
    for name, us in costs.items():
        print(f"  {name:<26} {us:6.3f} µs   x{us / base:4.1f} the bare increment")

    print(f"\nApp latency over uvicorn ({args.requests:,} sequential requests to each)")
    figures = bench_app(args.requests)
    p50, p99 = figures["none"]
    for name, (q50, q99) in figures.items():
        print(f"  {name:<26} p50 {q50:7.0f} µs   p99 {q99:7.0f} µs")
    ratios = {
        "down / none": "down",
        "down 1 s / none": "down, retry every 1 s",
        "noise floor (none / none)": "none (again)",
    }
    for label, name in ratios.items():
        q50, q99 = figures[name]
        print(f"  {label:<26} p50 {q50 / p50:7.3f}      p99 {q99 / p99:7.3f}")
    print("  target: registry down / none within 1.05 (compare with the noise floor)")


if __name__ == "__main__":
    main()
