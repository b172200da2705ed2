"""``ai-disclosure registry ...``: run the central register, and the command group
that gathers its commands: ``serve`` and ``migrate`` here, ``token`` in
``tokens``, ``push-manifest`` and ``send-test`` in ``remote``, ``parked`` in
``parked``.

The registry's dependencies (SQLAlchemy, Alembic, uvicorn) are imported only
when a registry command runs, so the rest of the CLI works without the
``registry`` extra; a command that needs a missing one says which to install.
"""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path
from typing import Any

from . import parked, remote, tokens
from ._database import DB_ENV, Refused, add_db, database, fail, guarded, safe, usage
from .remote import TOKEN_ENV, URL_ENV

__all__ = ["ENVIRONMENT", "environment_help", "register"]

#: Every environment variable the command line reads, and what for (``--help``, README).
ENVIRONMENT = (
    (DB_ENV, "the registry's database, for registry serve, migrate and token (--db)"),
    (URL_ENV, "the registry's base URL, for commands that talk to it (--registry)"),
    (TOKEN_ENV, "the service's registry token, for those commands (--token)"),
)


def environment_help() -> str:
    """The environment variables, as an argparse epilog."""
    lines = ["environment variables:"]
    lines += [f"  {name:<30} {what}" for name, what in ENVIRONMENT]
    return "\n".join(lines)


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "registry",
        help="run the central AI register and manage service tokens",
        description="The central register: services send disclosure counts and publish "
        "their manifests to it; citizens read it.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=lambda _args: usage(parser))
    commands = parser.add_subparsers(title="registry commands", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run the registry (migrates the database first)", description=_SERVE
    )
    add_db(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=8400, help="port to listen on")
    serve.add_argument(
        "--max-body", type=int, default=1 << 20, metavar="BYTES", help="largest request body"
    )
    serve.add_argument(
        "--rate",
        type=float,
        default=50.0,
        metavar="N",
        help="batches per second per service (0: no limit)",
    )
    serve.add_argument("--burst", type=int, default=100, metavar="N", help="burst allowance")
    serve.add_argument(
        "--public-url",
        metavar="URL",
        help="the register's public address, for absolute links in exports "
        "(default: the address each request names)",
    )
    serve.add_argument(
        "--read-db",
        metavar="URL",
        help="a read replica of --db for the public reads (lists, pages, exports, "
        "stats); writes and token-protected reads stay on --db",
    )
    serve.add_argument(
        "--language",
        default="fr",
        metavar="TAG",
        help="the pages' language when neither ?lang= nor the reader's Accept-Language "
        "names one of the catalog's (default: fr)",
    )
    serve.add_argument(
        "--max-age",
        type=int,
        default=60,
        metavar="SECONDS",
        help="how long caches may keep a public read (Cache-Control max-age; default: 60)",
    )
    serve.add_argument(
        "--export-max-age",
        type=int,
        default=300,
        metavar="SECONDS",
        help="how far a download of the whole register may lag behind it: it is sent "
        "from a file rebuilt in the background (0: always current; default: 300)",
    )
    serve.add_argument(
        "--export-dir",
        type=Path,
        metavar="DIR",
        help="where those files are kept (default: a temporary directory)",
    )
    _add_server_options(serve)
    serve.set_defaults(run=guarded(_serve))

    migrate = commands.add_parser("migrate", help="create or upgrade the database tables")
    add_db(migrate)
    migrate.set_defaults(run=guarded(_migrate))

    tokens.register(commands)
    remote.register(commands)
    parked.register(commands)


#: Fixed uvicorn settings, documented in docs/deploy.md: h11 so that the header size
#: bound applies; a backlog for bursts; a graceful stop shorter than systemd's.
SERVER_SETTINGS: dict[str, Any] = {
    "http": "h11",
    "h11_max_incomplete_event_size": 16 * 1024,
    "backlog": 2048,
    "timeout_graceful_shutdown": 10,
    "server_header": False,
}


def _add_server_options(serve: argparse.ArgumentParser) -> None:
    serve.add_argument(
        "--timeout-keep-alive",
        type=float,
        default=5.0,
        metavar="SECONDS",
        help="close an idle keep-alive connection after this long (default: 5)",
    )
    serve.add_argument(
        "--limit-concurrency",
        type=int,
        default=1000,
        metavar="N",
        help="answer 503 beyond this many open connections and tasks (default: 1000)",
    )
    serve.add_argument(
        "--body-timeout",
        type=float,
        default=60.0,
        metavar="SECONDS",
        help="answer 408 to a body not received within this long (default: 60)",
    )
    serve.add_argument(
        "--body-idle-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="answer 408 when no part of a body arrives for this long (default: 10)",
    )
    serve.add_argument(
        "--bad-tokens",
        type=float,
        default=6.0,
        metavar="N",
        help="rejected tokens per minute an address may keep trying after a burst of "
        "10, then 429 (default: 6; 0: no limit)",
    )
    serve.add_argument(
        "--forwarded-allow-ips",
        metavar="IPS",
        help="behind a reverse proxy: its addresses (comma-separated), whose "
        "X-Forwarded-For and X-Forwarded-Proto are trusted; without it every client "
        "has the proxy's address",
    )


def server_options(args: argparse.Namespace) -> dict[str, Any]:
    """uvicorn's keyword arguments for ``registry serve``. No access log: the
    register's readers are citizens, and their addresses, paths and searches are
    nobody's business."""
    options: dict[str, Any] = {
        **SERVER_SETTINGS,
        "host": args.host,
        "port": args.port,
        "log_level": "info",
        "access_log": False,
        "timeout_keep_alive": args.timeout_keep_alive,
        "limit_concurrency": args.limit_concurrency or None,
        "proxy_headers": bool(args.forwarded_allow_ips),
    }
    if args.forwarded_allow_ips:
        options["forwarded_allow_ips"] = args.forwarded_allow_ips
    return options


_SERVE = (
    "Serve the registry's API and public pages. With no --db, a SQLite file "
    "./ai-disclosure-registry.sqlite3 is created in the current directory. "
    "The port is checked and the database migrated before anything is served."
)


def _serve(args: argparse.Namespace) -> int:
    from .._catalog import catalogs
    from ._ports import port_free

    if args.language not in catalogs():
        raise Refused(
            f"--language {args.language}: the catalog has no such language; one of "
            + ", ".join(catalogs())
        )
    url = args.db_url = database(args.db)
    if not port_free(args.host, args.port):
        # Before any work: no banner, no database created or migrated for nothing.
        raise Refused(
            f"port {args.port} on {args.host} is taken: stop what uses it or choose "
            "another with --port"
        )
    import uvicorn

    from ..registry import Settings, create_app, migrate_database

    asyncio.run(migrate_database(url))
    settings = Settings(
        max_body_bytes=args.max_body,
        rate_per_second=args.rate or None,
        rate_burst=args.burst,
        public_url=args.public_url,
        body_timeout=args.body_timeout,
        body_idle_timeout=args.body_idle_timeout,
        bad_tokens_per_minute=args.bad_tokens or None,
        public_max_age=args.max_age,
        language=args.language,
        export_max_age=args.export_max_age,
        export_dir=args.export_dir,
        read_db_url=database(args.read_db) if args.read_db else None,
        migrate=False,  # done just above, where a failure is one line
    )
    app = create_app(url, settings=settings)
    print(f"AI register on http://{args.host}:{args.port}/ (database: {safe(url)})")
    try:
        uvicorn.run(app, **server_options(args))
    except SystemExit:  # uvicorn could not bind after all (taken since the check)
        return fail(f"the registry stopped: cannot listen on {args.host}:{args.port}")
    return 0


def _migrate(args: argparse.Namespace) -> int:
    url = args.db_url = database(args.db)
    from ..registry import migrate_database

    asyncio.run(migrate_database(url))
    print(f"database up to date: {safe(url)}")
    return 0
