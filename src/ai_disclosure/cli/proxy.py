"""``ai-disclosure proxy``: wrap a running app in any language, without touching it."""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .._inject import Position
from .._manifest import ManifestError
from .registry import TOKEN_ENV, _add_registry_options

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
        "--position", choices=[p.value for p in Position], default=Position.BODY_START.value,
        help="where the notice goes in pages",
    )  # fmt: skip
    parser.add_argument("--timeout", type=float, default=60.0, help="upstream read timeout, s")
    _add_registry_options(parser)  # with them, disclosure counts go to that register
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
    from .._manifest import load_manifest
    from .._middleware import AIDisclosureMiddleware
    from .._transport import DisclosureLogger
    from ..proxy import ReverseProxy

    if args.registry and not args.token:
        print(f"--registry needs the service's token: set ${TOKEN_ENV}", file=sys.stderr)
        return 1
    try:
        manifest = load_manifest(args.manifest)
        proxy = ReverseProxy(args.upstream, timeout=args.timeout)
        logger = None
        if args.registry:
            logger = DisclosureLogger(
                manifest.service.id, args.registry, args.token, spool_dir=args.spool_dir
            )
        app = AIDisclosureMiddleware(proxy, manifest, position=args.position, logger=logger)
    except (ManifestError, ValueError) as exc:
        print(exc, file=sys.stderr)
        return 1
    host, port = args.listen
    print(f"Proxy: http://{host}:{port}/ -> {proxy.upstream}  (Ctrl+C to stop)", flush=True)
    if logger is not None:
        print(f"Disclosure counts go to {args.registry}", flush=True)
    # proxy_headers off: the client address is the peer's, never a header a visitor
    # could forge; access log off: no visitor's address or path is written down.
    uvicorn.run(
        app, host=host, port=port, log_level="warning", proxy_headers=False, access_log=False
    )
    return 0
