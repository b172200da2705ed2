"""The whole chain in one process, for ``ai-disclosure demo``.

* a register (the registry app on a SQLite file in a temporary folder), to which
  the demo service's manifest is published;
* the demo site behind the middleware, logging its disclosures to the register;
* a "legacy" site that knows nothing of this project - a plain ``http.server``
  app, as a PHP or Java portal would be - wrapped by the reverse proxy, logging too.

Every notice's "learn more" link opens the register entry, whose counts rise as
one browses (the demo cuts its counting windows every few seconds).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

import uvicorn

from .._logger import DisclosureLogger
from .._middleware import AIDisclosureMiddleware
from ..client import AsyncRegistryClient
from ..proxy import ReverseProxy, dated
from ..registry import create_app, create_token_async
from . import example_manifest_path, wrapped_site

__all__ = ["DemoPorts", "run_chain"]

LEGACY_PAGES = {
    "/": (
        "Ancien portail de l'eau",
        "<p>Ce site est une application ancienne : elle ignore tout de la transparence "
        "sur l'IA. Le proxy <code>ai-disclosure proxy</code> ajoute l'en-tête, la notice "
        'et le comptage. Voir <a href="/eau/alertes">vos alertes</a>.</p>',
    ),
    "/eau/alertes": (
        "Vos alertes de consommation",
        "<p>Consommation nocturne inhabituelle détectée le 24 novembre : une fuite est "
        "probable. Un agent de la Régie des eaux a vérifié cette alerte.</p>",
    ),
}


class _LegacyHandler(BaseHTTPRequestHandler):
    """A site in "another language": hand-written HTML, no framework, no middleware."""

    def do_GET(self) -> None:
        page = LEGACY_PAGES.get(self.path.split("?")[0])
        if page is None:
            self.send_error(404)
            return
        title, body = page
        html = (
            f'<!DOCTYPE html><html lang="fr"><head><meta charset="utf-8"><title>{title}</title>'
            f"</head><body><h1>{title}</h1>{body}</body></html>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(html)))
        self.end_headers()
        self.wfile.write(html)

    def log_message(self, format: str, *args: Any) -> None:
        """Quiet: the demo prints its own lines, and logs no addresses."""


@contextlib.contextmanager
def _legacy_server(host: str) -> Iterator[str]:
    server = ThreadingHTTPServer((host, 0), _LegacyHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Server(uvicorn.Server):
    """Several servers share one loop: signals are handled once, for all of them."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@dataclass(frozen=True)
class DemoPorts:
    site: int = 8000
    legacy: int = 8001
    registry: int = 8400


def _server(
    app: Any,
    host: str,
    port: int,
    lifespan: Literal["on", "off"] = "off",
    relays: bool = False,
) -> _Server:
    """``relays``: the app is a proxy, whose upstream's Date and Server are the only ones."""
    config = uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level="warning",
        lifespan=lifespan,
        access_log=False,  # no visitor's address or path is written down
        proxy_headers=False,
        date_header=not relays,
        server_header=not relays,
    )
    return _Server(config)


async def run_chain(
    host: str,
    ports: DemoPorts,
    window_seconds: int = 5,
    register: tuple[str, str] | None = None,
) -> None:
    """Serve register, demo site and proxied legacy site until SIGINT/SIGTERM.

    ``register`` - (URL, service token) of a register already running (for
    instance ``ai-disclosure registry serve``) - replaces the embedded one. On the
    way out the sites stop first, then the last counts reach the register, then
    the embedded register stops.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    with tempfile.TemporaryDirectory(prefix="ai-disclosure-demo-") as folder:
        registry = registry_task = None
        if register is None:
            db = str(Path(folder) / "registry.sqlite3")
            register_url = f"http://{host}:{ports.registry}"
            registry = _server(create_app(db), host, ports.registry, lifespan="on")
            registry_task = asyncio.create_task(registry.serve())
            await _started([registry], [registry_task])
            token = await create_token_async(db, "demarches", label="demo")
        else:
            register_url, token = register
        async with AsyncRegistryClient(register_url, token) as client:
            await client.push_manifest(example_manifest_path())
        logger = DisclosureLogger("demarches", register_url, token, window_seconds=window_seconds)
        await logger.start()
        site = wrapped_site(register_url=register_url, logger=logger)
        with _legacy_server(host) as legacy_url:
            proxy = ReverseProxy(legacy_url)
            # The same declaration as the site, pointing at the same register.
            legacy = AIDisclosureMiddleware(proxy, site.manifest, logger=logger)
            sites = [
                _server(site, host, ports.site),
                _server(dated(legacy), host, ports.legacy, relays=True),
            ]
            site_tasks = [asyncio.create_task(s.serve()) for s in sites]
            try:
                await _started(sites, site_tasks)
                print(f"Demo site:     http://{host}:{ports.site}/  (Ctrl+C to stop)", flush=True)
                print(f"  AI chatbot:  http://{host}:{ports.site}/dechets/assistant", flush=True)
                print(f"  No AI:       http://{host}:{ports.site}/actualites", flush=True)
                print(f"Legacy site behind the proxy: http://{host}:{ports.legacy}/", flush=True)
                print(f"Public AI register:           {register_url}/", flush=True)
                await stop.wait()
            finally:
                for server in sites:
                    server.should_exit = True
                await asyncio.gather(*site_tasks, return_exceptions=True)
                await logger.aclose()
                await proxy.aclose()
                if registry is not None and registry_task is not None:
                    registry.should_exit = True
                    await registry_task


async def _started(servers: list[_Server], tasks: list[asyncio.Task[None]]) -> None:
    """Wait until every server listens; a server that failed to start raises."""
    while not all(s.started for s in servers):
        for task in tasks:
            if task.done():
                task.result()
                raise RuntimeError("a demo server stopped before it started")
        await asyncio.sleep(0.05)
