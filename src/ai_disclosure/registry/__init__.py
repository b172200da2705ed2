"""The central AI register: services send disclosure counts and publish their
manifests; citizens read the register.

Embed it with ``create_app(db_url)``; create a service token with
``create_token(db_url, service)``. Needs the ``registry`` extra (and ``postgres``
for PostgreSQL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from .app import create_app
from .config import Settings, normalize_db_url
from .db import create_engine, migrate
from .tokens import TokenRecord, issue_token

__all__ = [
    "Settings",
    "TokenRecord",
    "create_app",
    "create_token",
    "create_token_async",
    "migrate_database",
    "normalize_db_url",
]

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` to completion, even when called from inside an event loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


async def create_token_async(db_url: str, service: str, *, label: str | None = None) -> str:
    """Create a token for ``service`` (migrating the database first); returns the secret."""
    engine = create_engine(db_url)
    try:
        await migrate(engine)
        _record, secret = await issue_token(engine, service, label=label)
    finally:
        await engine.dispose()
    return secret


def create_token(db_url: str, service: str, *, label: str | None = None) -> str:
    """Blocking ``create_token_async``: for scripts, demos and tests."""
    return _run(create_token_async(db_url, service, label=label))


async def migrate_database(db_url: str) -> None:
    """Create or upgrade the registry's tables at ``db_url``."""
    engine = create_engine(db_url)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
