"""``ai-disclosure proxy``: wrap a running app in any language, without touching it."""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import logging
import os
import socket
import sys
from typing import Any

from .._inject import Position
from .._manifest import ManifestError
from .._types import ASGIApp
from .remote import add_registry_options, missing_registry_options

__all__ = ["app_from_environment", "register", "run"]

#: How the server's worker processes get the options (they import the app anew):
#: private to this command, set for its own workers, never a setting to document.
_OPTIONS_VARIABLE = "_AI_DISCLOSURE_PROXY_OPTIONS"
#: The options a worker needs to build the same app.
_APP_OPTIONS = ("upstream", "manifest", "position", "timeout", "preserve_host", "registry",
                "token", "spool_dir")  # fmt: skip


def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(
            f"expected HOST:PORT such as 127.0.0.1:8000, got {value!r}"
        )
    return host.strip("[]"), int(port)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "proxy",
        help="put the disclosure middleware in front of a running app",
        description="Reverse proxy to UPSTREAM that adds AI-Disclosure headers, the notice "
        "and disclosure logging to every response, for an app in any language.",
    )
    parser.add_argument(
        "--upstream", required=True, help="the app's URL, e.g. http://127.0.0.1:8080"
    )
    parser.add_argument("--manifest", required=True, help="the service's ai-disclosure.toml/.json")
    parser.add_argument(
        "--listen", type=_listen, default=("127.0.0.1", 8000), metavar="HOST:PORT",
        help="where the proxy listens (default 127.0.0.1:8000)",
    )  # fmt: skip
    parser.add_argument(
        "--position", choices=[p.value for p in Position],
        help="where the notice goes in pages (default: the middleware's)",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60.0, help="upstream read timeout, s")
    parser.add_argument(
        "--workers", type=_workers, default=1, metavar="N",
        help="server processes, one per core to use (default 1)",
    )  # fmt: skip
    parser.add_argument(
        "--preserve-host", action="store_true",
        help="send the visitor's Host to the upstream instead of the upstream's own "
        "(the app must accept that name, e.g. Django ALLOWED_HOSTS); see docs/proxy.md",
    )  # fmt: skip
    parser.add_argument(
        "--forwarded-allow-ips", metavar="IPS",
        help="comma-separated addresses or networks of a TLS terminator in front, whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed (default: nobody's)",
    )  # fmt: skip
    add_registry_options(parser)  # with them, disclosure counts go to that register
    parser.add_argument(
        "--spool-dir", metavar="DIR",
        help="keep unsent counts on disk here across restarts (recommended with --registry)",
    )  # fmt: skip
    parser.set_defaults(run=run)


def _workers(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a number of processes >= 1, got {value!r}")
    return int(value)


def _build(args: argparse.Namespace) -> tuple[ASGIApp, str, bool]:
    """The app the server runs, the upstream's URL and whether counts are sent."""
    from .._logger import DisclosureLogger
    from .._manifest import load_manifest
    from .._middleware import AIDisclosureMiddleware
    from ..proxy import ReverseProxy, dated

    manifest = load_manifest(args.manifest)
    proxy = ReverseProxy(args.upstream, timeout=args.timeout, preserve_host=args.preserve_host)
    logger = None
    if args.registry:
        logger = DisclosureLogger(
            manifest.service.id, args.registry, args.token, spool_dir=args.spool_dir
        )
    # Without --position, the middleware's own default applies.
    placement = {"position": args.position} if args.position else {}
    app = AIDisclosureMiddleware(proxy, manifest, logger=logger, **placement)
    return dated(app), proxy.upstream, logger is not None


def _listening_socket(host: str, port: int) -> socket.socket:
    """The socket the workers share, made as TCP by name: asyncio turns Nagle's
    algorithm off only on connections of a socket that says so (uvicorn's own, made
    with protocol 0, answered each request ~40 ms late: Nagle against delayed ACKs)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


def app_from_environment() -> ASGIApp:
    """The app of one worker process, from the options ``run`` left in its environment."""
    app = _build(argparse.Namespace(**json.loads(os.environ[_OPTIONS_VARIABLE])))[0]
    _settled()
    return app


def _settled() -> None:
    """Everything loaded so far (manifest, catalogs, CLDR data) lives as long as the
    process: kept out of the garbage collector's full passes, which otherwise walk
    it again and again as requests allocate (~5 % of a proxied request's CPU)."""
    gc.collect()
    gc.freeze()


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("the proxy needs uvicorn: pip install 'ai-disclosure[proxy]'", file=sys.stderr)
        return 1
    missing = missing_registry_options(args) if args.registry else None
    if missing is not None:
        print(missing, file=sys.stderr)
        return 1
    try:
        # Built here even for several workers: a bad manifest or URL fails at once.
        app, upstream, logged = _build(args)
    except (ManifestError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    host, port = args.listen
    print(f"Proxy: http://{host}:{port}/ -> {upstream}  (Ctrl+C to stop)", flush=True)
    if logged:
        print(f"Disclosure counts go to {args.registry}", flush=True)
    # httpx (the register's client) logs every request's URL at INFO: never written
    # down, whatever the logging set-up.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "log_level": "warning",
        # No visitor's address or path is written down.
        "access_log": False,
        # The client and scheme are the peer's, unless the peer is a named terminator:
        # never a header any visitor could forge.
        "proxy_headers": args.forwarded_allow_ips is not None,
        "forwarded_allow_ips": args.forwarded_allow_ips,
        # One Date and one Server per response, the upstream's.
        "date_header": False,
        "server_header": False,
    }
    if args.workers == 1:
        _settled()
        uvicorn.run(app, **options)
        return 0
    from uvicorn.supervisors import Multiprocess

    # Each worker imports the app anew and builds it from the same options.
    os.environ[_OPTIONS_VARIABLE] = json.dumps({name: getattr(args, name) for name in _APP_OPTIONS})
    config = uvicorn.Config(
        f"{__name__}:app_from_environment", factory=True, workers=args.workers, **options
    )
    with contextlib.suppress(KeyboardInterrupt):  # Ctrl+C stops the workers: done
        Multiprocess(config, sockets=[_listening_socket(host, port)]).run()
    return 0
