"""The database a registry command works on: finding it, refusing the wrong one, and
turning what stops a command into one line rather than a traceback.

Shared by ``registry serve``, ``registry migrate`` and ``registry token``. The
registry's dependencies are imported only when a command runs, so the rest of the
CLI works without the ``registry`` extra; a command that needs a missing one says
which to install.
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

from .._errors import AIDisclosureError

__all__ = [
    "DB_ENV",
    "Refused",
    "add_db",
    "database",
    "existing",
    "fail",
    "guarded",
    "safe",
    "usage",
    "with_engine",
]

DB_ENV = "AI_DISCLOSURE_REGISTRY_DB"


def add_db(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        default=os.environ.get(DB_ENV),
        metavar="URL",
        help="database: a SQLite file path or URL, or postgresql://... "
        f"(default: ${DB_ENV}, else ./ai-disclosure-registry.sqlite3)",
    )


def usage(parser: argparse.ArgumentParser) -> int:
    """A command group run without a command: its help, and exit code 2."""
    parser.print_help(sys.stderr)
    return 2


def fail(message: str) -> int:
    print(f"ai-disclosure registry: {message}", file=sys.stderr)
    return 1


class Refused(AIDisclosureError):
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


def database(db: str | None) -> str:
    """The normalised database URL, once its dependencies are known to be installed."""
    missing = _missing_extra()
    if missing:
        raise Refused(missing)
    from ..registry import normalize_db_url

    url = normalize_db_url(db)
    missing = _missing_extra(url)
    if missing:
        raise Refused(missing)
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


def existing(url: str, *, create: bool = False) -> None:
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
        raise Refused(f"no registry database at {path}: {hint}")
    if not asyncio.run(_has_registry_tables(url)):
        raise Refused(f"{safe(url)} holds no registry: {hint}")


def guarded(command: Callable[[argparse.Namespace], int]) -> Callable[[argparse.Namespace], int]:
    """Run a database command; what stops it is one line, never a traceback."""

    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except Refused as exc:
            return fail(str(exc))
        except Exception as exc:
            if not _is_database_error(exc):
                raise
            cause = getattr(exc, "orig", None) or exc  # the driver's error, not SQLAlchemy's wrap
            first = (str(cause).strip().splitlines() or [""])[0]
            where = f" {safe(args.db_url)}" if getattr(args, "db_url", None) else ""
            return fail(f"cannot use the database{where}: {type(cause).__name__}: {first}")

    return run


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import SQLAlchemyError

    return isinstance(exc, SQLAlchemyError | OSError)


def safe(url: str) -> str:
    """The URL without its password, for printing."""
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


async def with_engine(url: str, action: Callable[[Any], Awaitable[Any]]) -> Any:
    """Run ``action`` on an engine for ``url``, migrated first, disposed after."""
    from ..registry.db import create_engine, migrate

    engine = create_engine(url)
    try:
        await migrate(engine)
        return await action(engine)
    finally:
        await engine.dispose()
