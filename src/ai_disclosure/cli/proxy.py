"""``ai-disclosure proxy``: wrap a running app in any language, without touching it."""

from __future__ import annotations

import argparse
import logging
import sys
from typing import Any

from .._inject import Position
from .._manifest import ManifestError
from .remote import add_registry_options, missing_registry_options

__all__ = ["register", "run"]


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


def run(args: argparse.Namespace) -> int:
    try:
        import uvicorn
    except ImportError:
        print("the proxy needs uvicorn: pip install 'ai-disclosure[serve]'", file=sys.stderr)
        return 1
    from .._logger import DisclosureLogger
    from .._manifest import load_manifest
    from .._middleware import AIDisclosureMiddleware
    from ..proxy import ReverseProxy, dated

    missing = missing_registry_options(args) if args.registry else None
    if missing is not None:
        print(missing, file=sys.stderr)
        return 1
    try:
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
    except (ManifestError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    host, port = args.listen
    print(f"Proxy: http://{host}:{port}/ -> {proxy.upstream}  (Ctrl+C to stop)", flush=True)
    if logger is not None:
        print(f"Disclosure counts go to {args.registry}", flush=True)
    # httpx logs every request's URL at INFO: never written down, whatever the
    # logging set-up.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    uvicorn.run(
        dated(app),
        host=host,
        port=port,
        log_level="warning",
        # No visitor's address or path is written down.
        access_log=False,
        # The client and scheme are the peer's, unless the peer is a named terminator:
        # never a header any visitor could forge.
        proxy_headers=args.forwarded_allow_ips is not None,
        forwarded_allow_ips=args.forwarded_allow_ips,
        # One Date and one Server per response, the upstream's.
        date_header=False,
        server_header=False,
    )
    return 0
