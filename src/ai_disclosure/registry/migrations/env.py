"""Alembic environment. The registry runs migrations itself (``registry migrate``,
``serve``) and hands over its connection; ``alembic`` on the command line works too,
given ``sqlalchemy.url``."""

from __future__ import annotations

import asyncio

from alembic import context
from sqlalchemy import Connection
from sqlalchemy.ext.asyncio import create_async_engine

from ai_disclosure.registry.tables import metadata, outside_metadata

config = context.config


def _run(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        include_name=lambda name, kind, _parent: not outside_metadata(name, kind),
    )
    with context.begin_transaction():
        context.run_migrations()


async def _run_from_url(url: str) -> None:
    engine = create_async_engine(url)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(_run)
    finally:
        await engine.dispose()


_connection = config.attributes.get("connection")
if _connection is not None:
    _run(_connection)
else:
    asyncio.run(_run_from_url(config.get_main_option("sqlalchemy.url") or ""))
