"""Real servers on 127.0.0.1 for end-to-end tests."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import httpx

from .conftest import EXAMPLE_MANIFEST

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_up(url: str, process: subprocess.Popen[str], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f"server exited early: {process.stdout.read() if process.stdout else ''}"
            )
        try:
            httpx.get(url, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError(f"{url} did not answer within {timeout}s")


@contextlib.contextmanager
def cli_server(args: Sequence[str], port: int, path: str = "/") -> Iterator[subprocess.Popen[str]]:
    """Run ``ai-disclosure ARGS`` (which must listen on ``port``) until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "ai_disclosure.cli", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    try:
        wait_until_up(f"http://127.0.0.1:{port}{path}", process)
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        output = process.stdout.read() if process.stdout else ""
        if process.stdout:
            process.stdout.close()
        process.output = output  # type: ignore[attr-defined]


@contextlib.contextmanager
def proxy_to(upstream: str, *options: str) -> Iterator[str]:
    """``ai-disclosure proxy`` in front of ``upstream``, with the example manifest,
    until the block ends; yields its base URL."""
    port = free_port()
    args = ["proxy", "--upstream", upstream, "--manifest", str(EXAMPLE_MANIFEST),
            "--listen", f"127.0.0.1:{port}", *options]  # fmt: skip
    with cli_server(args, port, "/.well-known/ai-disclosure"):
        yield f"http://127.0.0.1:{port}"


@contextlib.contextmanager
def thread_server(
    app: object, port: int | None = None, lifespan: Literal["on", "off"] = "off", **options: Any
) -> Iterator[str]:
    """Serve an ASGI app with uvicorn in a thread; yields its base URL. Apps that
    open resources at start-up (the registry's database) need ``lifespan="on"``;
    ``options`` go to ``uvicorn.Config`` (e.g. ``date_header=False``)."""
    import threading

    import uvicorn

    port = port or free_port()
    config = uvicorn.Config(
        app,  # type: ignore[arg-type]
        host="127.0.0.1",
        port=port,
        log_level="error",
        lifespan=lifespan,
        access_log=False,
        **options,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline:
            raise TimeoutError("uvicorn did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
