"""``ai-disclosure demo``: the whole chain - a demo site, a legacy site behind the
proxy and the public register they log into - with one command."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from typing import Any

from ._ports import port_free
from .remote import TOKEN_ENV, URL_ENV

__all__ = ["register", "run"]


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="serve a demo municipal site, a proxied legacy site and their AI register",
        description="Serve a realistic Montpellier demo site and a legacy site behind the "
        "proxy, both disclosing their AI and logging to an embedded public register "
        "(SQLite in a temporary folder). No configuration needed.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on")
    parser.add_argument("--port", type=int, default=8000, help="the demo site's port")
    parser.add_argument("--legacy-port", type=int, default=8001, help="the proxied site's port")
    parser.add_argument("--registry-port", type=int, default=8400, help="the register's port")
    parser.add_argument(
        "--window", type=int, default=5, help="seconds per counting window (default 5)"
    )
    parser.add_argument(
        "--registry",
        default=os.environ.get(URL_ENV),
        metavar="URL",
        help="log into this running register instead of an embedded one "
        f"(its token for service 'demarches' in ${TOKEN_ENV})",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    try:
        from ..demo.chain import DemoPorts, run_chain
    except ImportError as exc:  # uvicorn, aiohttp or the registry's database drivers
        print(
            f"the demo needs the registry and proxy extras ({exc.name} is missing): "
            "pip install 'ai-disclosure[registry,proxy]'",
            file=sys.stderr,
        )
        return 1
    ports = DemoPorts(site=args.port, legacy=args.legacy_port, registry=args.registry_port)
    wanted = [args.port, args.legacy_port] + ([] if args.registry else [args.registry_port])
    taken = [port for port in wanted if not port_free(args.host, port)]
    if taken:
        print(
            f"port {', '.join(map(str, taken))} on {args.host} is taken: stop what uses it or "
            "choose others with --port, --legacy-port, --registry-port",
            file=sys.stderr,
        )
        return 1
    register = None
    if args.registry:
        token = os.environ.get(TOKEN_ENV)
        if not token:
            print(
                f"--registry needs a token of service 'demarches' in ${TOKEN_ENV}: "
                "ai-disclosure registry token create demarches",
                file=sys.stderr,
            )
            return 1
        register = (args.registry.rstrip("/"), token)
    try:
        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(run_chain(args.host, ports, window_seconds=args.window, register=register))
    except (OSError, RuntimeError, SystemExit) as exc:
        # uvicorn exits when it cannot bind: say which ports, not a traceback.
        print(
            f"the demo could not start ({exc or 'a port is taken'}); it needs ports "
            f"{args.port}, {args.legacy_port} and {args.registry_port} on {args.host}: "
            "free them or choose others with --port, --legacy-port, --registry-port",
            file=sys.stderr,
        )
        return 1
    return 0
