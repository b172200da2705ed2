"""Reverse-proxy overhead: the same upstream, reached directly, through
``ai-disclosure proxy`` and through nginx (when installed), in one run.

Starts a small upstream app (uvicorn, 127.0.0.1), then the proxy in front of it
(another process) and, when ``nginx`` is on the PATH, nginx with ``proxy_pass``,
upstream keep-alive and ``sub_filter`` (which splices the notice in without
reading HTML). Loads each with wrk (or an httpx pool when wrk is missing), rounds
rotated; prints the medians of req/s and of the CPU per request of every server
process involved (upstream included), each as a ratio to direct access.

With ``--memory``, also the proxy's resident memory per download while eight slow
clients fetch 20 MiB each (with one worker).

    python bench/bench_proxy.py [--seconds 5] [--rounds 3] [--workers 1] [--memory]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
from bench_middleware import (  # noqa: E402
    free_port,
    load_tool,
    measured,
    report,
    stack_in_use,
    started,
)

UPSTREAM = """
import uvicorn
from starlette.applications import Starlette
from starlette.responses import HTMLResponse, JSONResponse, StreamingResponse
from starlette.routing import Route
HEAD = "<!doctype html><html lang=fr><head><title>t</title></head><body>"
PAGE = HEAD + "<p>x</p>" * 2500 + "</body></html>"
async def page(request): return HTMLResponse(PAGE)
async def api(request): return JSONResponse({"ok": True})
async def chunks():
    for _ in range(320): yield b"x" * 65536
async def big(request): return StreamingResponse(chunks(), media_type="application/zip")
app = Starlette(routes=[Route("/dechets/assistant", page), Route("/api", api), Route("/big", big)])
uvicorn.run(app, host="127.0.0.1", port=PORT, log_level="error", access_log=False)
"""

NGINX = """
daemon off;
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log error;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 32; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Accept-Encoding "";
            add_header AI-Disclosure "mode=ai-originated";
            sub_filter_once on;
            sub_filter "<body>" "<body><ai-notice>IA</ai-notice>";
        }}
    }}
}}
"""


def nginx(upstream: int, port: int, folder: Path) -> subprocess.Popen[bytes] | None:
    binary = shutil.which("nginx")
    if binary is None:
        return None
    config = folder / "nginx.conf"
    config.write_text(NGINX.format(dir=folder, upstream=upstream, port=port))
    return started(subprocess.Popen([binary, "-c", str(config), "-e", str(folder / "e.log")]), port)


def rss(pid: int) -> int:
    """Resident memory of a process, bytes (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def memory_per_stream(url: str, pid: int, streams: int = 8) -> float:
    """MB the proxy holds per download while ``streams`` slow clients fetch 20 MiB each."""
    import httpx

    def download() -> None:
        with httpx.stream("GET", url, timeout=60) as response:
            for _ in response.iter_raw(65536):
                time.sleep(0.005)  # a reader slower than the upstream

    before = rss(pid)
    peak = before
    threads = [threading.Thread(target=download) for _ in range(streams)]
    for thread in threads:
        thread.start()
    while any(thread.is_alive() for thread in threads):
        peak = max(peak, rss(pid))
        time.sleep(0.05)
    return (peak - before) / streams / 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1, help="the proxy's --workers")
    parser.add_argument("--memory", action="store_true", help="also the memory per download")
    parser.add_argument("--rate", type=int, help="offer this many req/s with hey (else wrk's most)")
    args = parser.parse_args()
    up_port, proxy_port, nginx_port = free_port(), free_port(), free_port()
    upstream = started(
        subprocess.Popen([sys.executable, "-c", UPSTREAM.replace("PORT", str(up_port))], cwd=ROOT),
        up_port,
    )
    proxy = started(
        subprocess.Popen(
            [
                sys.executable, "-m", "ai_disclosure.cli", "proxy",
                "--upstream", f"http://127.0.0.1:{up_port}",
                "--manifest", str(ROOT / "examples/montpellier/ai-disclosure.toml"),
                "--listen", f"127.0.0.1:{proxy_port}", "--workers", str(args.workers),
            ],
            cwd=ROOT, stdout=subprocess.DEVNULL,
        ),
        proxy_port,
    )  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
    front = nginx(up_port, nginx_port, folder)
    servers = {
        "direct": (up_port, [upstream.pid]),
        f"ai-disclosure proxy ({args.workers} worker)": (proxy_port, [proxy.pid, upstream.pid]),
    }
    if front is not None:
        servers["nginx proxy_pass + sub_filter"] = (nginx_port, [front.pid, upstream.pid])
    tool = load_tool(args.rate)
    print(
        f"Load: {tool}, {args.seconds}s per row after a 1 s warm-up, median of "
        f"{args.rounds} rotated rounds; uvicorn on {stack_in_use('auto')}; CPU per request "
        "of every server process involved"
        + ("" if front else "; nginx not installed: no nginx row")
    )
    print(f"{'case':<62}{'req/s':>9}{'x dir.':>8}{'CPU ms':>9}{'x dir.':>8}")
    names = list(servers)
    try:
        for label, path in (("JSON", "/api"), ("20 KB HTML, notice", "/dechets/assistant")):
            results: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
            for round_ in range(args.rounds):
                for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                    port, pids = servers[name]
                    url = f"http://127.0.0.1:{port}{path}"
                    results[name].append(measured(url, args.seconds, *pids, rate=args.rate))
            report(label, results, "direct")
        if args.memory:
            held = memory_per_stream(f"http://127.0.0.1:{proxy_port}/big", proxy.pid)
            print(f"\n8 slow downloads of 20 MiB through the proxy: {held:.2f} MB held per stream")
    finally:
        for process in (front, proxy, upstream):
            if process is not None:
                process.terminate()
                process.wait()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
