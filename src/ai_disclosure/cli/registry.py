"""``ai-disclosure registry ...``: run the central register and manage its tokens.

The registry's dependencies (SQLAlchemy, Alembic, uvicorn) are imported only
when a registry command runs, so the rest of the CLI works without the
``registry`` extra; a command that needs a missing one says which to install.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

__all__ = ["ENVIRONMENT", "register"]

DB_ENV = "AI_DISCLOSURE_REGISTRY_DB"
URL_ENV = "AI_DISCLOSURE_REGISTRY_URL"
TOKEN_ENV = "AI_DISCLOSURE_REGISTRY_TOKEN"

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


def _add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get(DB_ENV),
        metavar="URL",
        help="database: a SQLite file path or URL, or postgresql://... "
        f"(default: ${DB_ENV}, else ./ai-disclosure-registry.sqlite3)",
    )


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "registry",
        help="run the central AI register and manage service tokens",
        description="The central register: services send disclosure counts and publish "
        "their manifests to it; citizens read it.",
        epilog=environment_help(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.set_defaults(run=lambda _args: _usage(parser))
    commands = parser.add_subparsers(title="registry commands", metavar="COMMAND")

    serve = commands.add_parser(
        "serve", help="run the registry (migrates the database first)", description=_SERVE
    )
    _add_db(serve)
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
    _add_server_options(serve)
    serve.set_defaults(run=_guarded(_serve))

    migrate = commands.add_parser("migrate", help="create or upgrade the database tables")
    _add_db(migrate)
    migrate.set_defaults(run=_guarded(_migrate))

    token = commands.add_parser("token", help="create, revoke and list service tokens")
    token.set_defaults(run=lambda _args: _usage(token))
    tokens = token.add_subparsers(title="token commands", metavar="COMMAND")
    create = tokens.add_parser(
        "create", help="create a token for a service (shown once)", description=_CREATE
    )
    create.add_argument("service", metavar="SERVICE", help="the service id, as in its manifest")
    create.add_argument("--label", help="a note to recognise the token by, e.g. 'production'")
    create.add_argument(
        "--create",
        action="store_true",
        help="create the database if it does not exist yet (else: refused, so that a "
        "token never lands in a database the running registry does not use)",
    )
    _add_db(create)
    create.set_defaults(run=_guarded(_token_create))
    revoke = tokens.add_parser("revoke", help="revoke a token by its id")
    revoke.add_argument("token_id", metavar="TOKEN_ID", help="the token's id (tok_...)")
    _add_db(revoke)
    revoke.set_defaults(run=_guarded(_token_revoke))
    listing = tokens.add_parser("list", help="list a service's tokens (never their secrets)")
    listing.add_argument("service", metavar="SERVICE")
    _add_db(listing)
    listing.set_defaults(run=_guarded(_token_list))

    push = commands.add_parser(
        "push-manifest",
        help="publish a service's manifest to the registry",
        description="Check the manifest locally, then publish it. The registry keeps a "
        "new version only when the content changed.",
    )
    push.add_argument("path", metavar="PATH", help="the manifest (.toml or .json)")
    add_registry_options(push)
    push.set_defaults(run=_push_manifest)

    test = commands.add_parser(
        "send-test",
        help="check that a service can send disclosure counts to the registry",
        description="Send one batch as the service would: with no --system an empty batch "
        "(it checks the URL and the token and counts nothing); with --system one "
        "increment for that system, which then appears in its public counts.",
    )
    test.add_argument("path", metavar="PATH", help="the service's manifest (.toml or .json)")
    test.add_argument("--system", metavar="ID", help="also count one disclosure of this system")
    add_registry_options(test)
    test.set_defaults(run=_send_test)

    from . import parked

    parked.register(commands)


def add_registry_options(parser: argparse.ArgumentParser) -> None:
    """Where the registry is and the service's token, for commands that talk to it."""
    parser.add_argument(
        "--registry",
        default=os.environ.get(URL_ENV),
        metavar="URL",
        help=f"the registry's base URL (default: ${URL_ENV})",
    )
    parser.add_argument(
        "--token",
        default=os.environ.get(TOKEN_ENV),
        help=f"the service's token (default: ${TOKEN_ENV}; prefer the variable)",
    )


# Kept for the modules that import it under its former name.

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
_CREATE = (
    "Create a token for SERVICE and print it once: the registry keeps only its "
    "SHA-256, so it cannot be shown again. Give it to the service's operators. "
    "Use the --db (or $AI_DISCLOSURE_REGISTRY_DB) the registry runs with: the "
    "database must exist (see --create)."
)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return 2


def _fail(message: str) -> int:
    print(f"ai-disclosure registry: {message}", file=sys.stderr)
    return 1


class _Refused(Exception):
    """A registry command cannot go on; the message is the one line to print."""


def _missing_extra(url: str | None = None) -> str | None:
    """What to install when the registry's dependencies, or the database driver
    ``url`` needs, are missing; None when all are there."""
    try:
        import prometheus_client  # noqa: F401
        import sqlalchemy  # noqa: F401
        import uvicorn  # noqa: F401
    except ImportError as exc:
        return (
            f"the registry needs the 'registry' extra ({exc.name} is missing): "
            "pip install 'ai-disclosure[registry]'"
        )
    if url is None:
        return None
    from sqlalchemy.engine import make_url

    driver = make_url(url).get_driver_name()
    extra = {"asyncpg": "postgres", "aiosqlite": "registry"}.get(driver)
    try:
        importlib.import_module(driver)
    except ImportError:
        install = f"'ai-disclosure[{extra}]'" if extra else driver
        return f"this database needs the {driver} driver, not installed: pip install {install}"
    return None


def _database(db: str | None) -> str:
    """The normalised database URL, once its dependencies are known to be installed."""
    missing = _missing_extra()
    if missing:
        raise _Refused(missing)
    from ..registry import normalize_db_url

    url = normalize_db_url(db)
    missing = _missing_extra(url)
    if missing:
        raise _Refused(missing)
    return url


def _sqlite_file(url: str) -> Path | None:
    """The file of a SQLite database URL; None for another database or one in memory."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


async def _has_registry_tables(url: str) -> bool:
    from sqlalchemy import inspect

    from ..registry.db import create_engine

    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            found: bool = await connection.run_sync(lambda c: inspect(c).has_table("tokens"))
    finally:
        await engine.dispose()
    return found


def _existing(url: str, *, create: bool = False) -> None:
    """Refuse to work on a database that does not hold a registry, unless ``create``:
    a token written to a new, empty database is one the running registry rejects."""
    if create:
        return
    hint = (
        f"give the database the registry runs with (--db or ${DB_ENV}), "
        "or --create to start a new one"
    )
    path = _sqlite_file(url)
    if path is not None and not path.exists():  # connecting would create the file
        raise _Refused(f"no registry database at {path}: {hint}")
    if not asyncio.run(_has_registry_tables(url)):
        raise _Refused(f"{_safe(url)} holds no registry: {hint}")


def _guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a database command; what stops it is one line, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except _Refused as exc:
            return _fail(str(exc))
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            cause = getattr(exc, "orig", None) or exc  # the driver's error, not SQLAlchemy's wrap
            first = (str(cause).strip().splitlines() or [""])[0]
            where = f" {_safe(args.db_url)}" if getattr(args, "db_url", None) else ""
            return _fail(f"cannot use the database{where}: {type(cause).__name__}: {first}")

    return run


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError | OSError)


def _serve(args: argparse.Namespace) -> int:
    from ._ports import port_free

    url = args.db_url = _database(args.db)
    if not port_free(args.host, args.port):
        # Before any work: no banner, no database created or migrated for nothing.
        raise _Refused(
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
        migrate=False,  # done just above, where a failure is one line
    )
    app = create_app(url, settings=settings)
    print(f"AI register on http://{args.host}:{args.port}/ (database: {_safe(url)})")
    try:
        uvicorn.run(app, **server_options(args))
    except SystemExit:  # uvicorn could not bind after all (taken since the check)
        return _fail(f"the registry stopped: cannot listen on {args.host}:{args.port}")
    return 0


def _safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _migrate(args: argparse.Namespace) -> int:
    url = args.db_url = _database(args.db)
    from ..registry import migrate_database

    asyncio.run(migrate_database(url))
    print(f"database up to date: {_safe(url)}")
    return 0


def _valid_service(service: str) -> bool:
    from .._patterns import IDENTIFIER

    return IDENTIFIER.fullmatch(service) is not None


def _token_create(args: argparse.Namespace) -> int:
    if not _valid_service(args.service):
        return _fail(
            f"{args.service!r} is not a service id: lower-case letters, digits and inner "
            "hyphens, at most 64 characters, as in the manifest's service.id"
        )
    url = args.db_url = _database(args.db)
    _existing(url, create=args.create)
    from ..registry import create_token_async

    secret = asyncio.run(create_token_async(url, args.service, label=args.label))
    print(secret)
    print(
        f"This is the token of service {args.service!r}, written to {_safe(url)}: the "
        "registry must run with this database to accept it. It is shown only once: "
        f"store it in the service's secrets (e.g. ${TOKEN_ENV}).",
        file=sys.stderr,
    )
    return 0


async def _with_engine(url: str, action: Callable[[Any], Awaitable[Any]]) -> Any:
    from ..registry.db import create_engine, migrate

    engine = create_engine(url)
    try:
        await migrate(engine)
        return await action(engine)
    finally:
        await engine.dispose()


def _token_revoke(args: argparse.Namespace) -> int:
    url = args.db_url = _database(args.db)
    _existing(url)
    from ..registry.tokens import revoke_token

    revoked = asyncio.run(_with_engine(url, lambda e: revoke_token(e, args.token_id)))
    if not revoked:
        return _fail(f"no live token {args.token_id!r} (see: ai-disclosure registry token list)")
    print(f"revoked {args.token_id} in {_safe(url)}")
    return 0


def _token_list(args: argparse.Namespace) -> int:
    url = args.db_url = _database(args.db)
    _existing(url)
    from ..registry.tokens import list_tokens

    records = asyncio.run(_with_engine(url, lambda e: list_tokens(e, args.service)))
    if not records:
        print(f"no token for service {args.service!r}")
        return 0
    for record in records:
        state = f"revoked {record.revoked_at:%Y-%m-%d}" if record.revoked_at else "live"
        label = f"  {record.label}" if record.label else ""
        print(f"{record.id}  {record.created_at:%Y-%m-%d}  {state}{label}")
    return 0


def missing_registry_options(args: argparse.Namespace) -> str | None:
    """Why ``args`` cannot reach the registry (no URL, no usable token), or None.

    Leaves ``args.token`` stripped: a token read from a secret file ends with a
    newline. The token itself is never part of the message.
    """
    from ..client import clean_token

    if not args.registry:
        return f"give the registry's URL with --registry or ${URL_ENV}"
    try:
        args.token = clean_token(args.token)
    except ValueError as exc:
        return f"{exc} (${TOKEN_ENV} or --token)"
    if not args.token:
        return f"give the service's token with ${TOKEN_ENV} (or --token)"
    return None


def refusal(what: str, error: Any, where: str) -> str:
    """A RegistryError as lines: the status, then one line per field at fault. Without a
    status nothing was refused: the registry was not reached, and the error says where."""
    if error.status is None:
        detail = f": {error.detail}" if error.detail else ""
        return f"cannot send {what}: {error.title}{detail}"
    head = f"{error.status} {error.title}"
    lines = [f"the registry refused {what}: {head}: {error.detail or ''}".rstrip(": ")]
    lines += [f"  {where}#{e.pointer or '/'}: {e.detail}" for e in error.errors]
    return "\n".join(lines)


def _push_manifest(args: argparse.Namespace) -> int:
    from .._manifest import ManifestError
    from ..client import RegistryClient, RegistryError

    missing = missing_registry_options(args)
    if missing:
        return _fail(missing)
    try:
        with RegistryClient(args.registry, args.token) as client:
            pushed = client.push_manifest(args.path)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    except RegistryError as exc:
        return _fail(refusal("the manifest", exc, args.path))
    what = "published as version" if pushed.changed else "unchanged, still version"
    print(f"{args.path}: service {pushed.service!r} {what} {pushed.version}")
    return 0


def _send_test(args: argparse.Namespace) -> int:
    import time
    import uuid

    from .._aggregate import format_utc
    from .._manifest import ManifestError, load_manifest
    from ..client import RegistryClient, RegistryError

    missing = missing_registry_options(args)
    if missing:
        return _fail(missing)
    try:
        manifest = load_manifest(args.path)
        counts = []
        if args.system:
            system = manifest.system(args.system)
            now = int(time.time())
            counts.append(
                {
                    "system": system.id,
                    "route": "/ai-disclosure/send-test",
                    "mode": system.ietf_mode,
                    "notice_shown": False,
                    "window_start": format_utc(now - now % 60),
                    "count": 1,
                }
            )
        batch = {
            "batch_id": str(uuid.uuid4()),
            "service": manifest.service.id,
            "sent_at": format_utc(time.time()),
            "window_seconds": 60,
            "counts": counts,
        }
        with RegistryClient(args.registry, args.token) as client:
            sent = client.send_batch(batch)
    except ManifestError as exc:
        print(exc, file=sys.stderr)
        return 1
    except KeyError as exc:
        return _fail(str(exc.args[0]))
    except RegistryError as exc:
        return _fail(refusal("the batch", exc, "batch"))
    what = f"1 disclosure of {args.system!r} counted" if args.system else "nothing counted"
    print(f"{args.registry}: batch {sent.batch_id} {sent.status} ({what})")
    return 0
