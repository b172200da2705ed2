"""Reverse-proxy overhead: the same upstream, reached directly and through
``ai-disclosure proxy``, in one run.

Starts a small upstream app (uvicorn, 127.0.0.1), then the proxy in front of it
(another process), and loads both with wrk (or an httpx pool when wrk is
missing). Prints requests/s and latency, and the ratio proxy / direct.

    python bench/bench_proxy.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_middleware import free_port, load  # noqa: E402

UPSTREAM = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route
HEAD = "<!doctype html><html lang=fr><head><title>t</title></head><body>"
PAGE = HEAD + "<p>x</p>" * 2500 + "</body></html>"
async def page(request): return HTMLResponse(PAGE)
async def api(request): return JSONResponse({"ok": True})
app = Starlette(routes=[Route("/dechets/assistant", page), Route("/api", api)])
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="error", access_log=False)
"""


def start(args: list[str], port: int) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(args, cwd=ROOT, stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            httpx.get(f"http://127.0.0.1:{port}/api", timeout=0.5)
            return process
        except httpx.TransportError:
            time.sleep(0.05)
    process.kill()
    raise RuntimeError(f"{args} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    args = parser.parse_args()
    up_port, proxy_port = free_port(), free_port()
    upstream = start([sys.executable, "-c", UPSTREAM.replace("PORT", str(up_port))], up_port)
    proxy = start(
        [
            sys.executable, "-m", "ai_disclosure.cli", "proxy",
            "--upstream", f"http://127.0.0.1:{up_port}",
            "--manifest", str(ROOT / "examples/montpellier/ai-disclosure.toml"),
            "--listen", f"127.0.0.1:{proxy_port}",
        ],
        proxy_port,
    )  # fmt: skip
    tool = "wrk -t1 -c16" if shutil.which("wrk") else "httpx pool of 16"
    print(f"Load: {tool}, {args.seconds}s per row, after a 1 s warm-up")
    print(f"{'case':<36}{'req/s':>10}{'vs direct':>11}")
    try:
        for label, path in (
            ("JSON", "/api"),
            ("20 KB HTML, notice injected", "/dechets/assistant"),
        ):
            direct_url = f"http://127.0.0.1:{up_port}{path}"
            proxy_url = f"http://127.0.0.1:{proxy_port}{path}"
            load(direct_url, 1)
            load(proxy_url, 1)
            direct = load(direct_url, args.seconds)
            through = load(proxy_url, args.seconds)
            print(f"{label + ' / direct':<36}{direct:>10.0f}{1:>11.2f}")
            print(f"{label + ' / through the proxy':<36}{through:>10.0f}{through / direct:>11.2f}")
    finally:
        for process in (proxy, upstream):
            process.terminate()
            process.wait()


if __name__ == "__main__":
    main()
