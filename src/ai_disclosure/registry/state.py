"""The registry's running state: settings, rate limiter and a store opened on first
use. Opening lazily lets the app work when embedded under another app's Mount,
where Starlette does not run the mounted app's lifespan; the lifespan, when it
does run, opens and migrates at start-up and closes the engine at shutdown."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp

from .config import Settings
from .db import create_engine, migrate
from .ratelimit import RateLimiter
from .store import Store

__all__ = ["RegistryState"]


class RegistryState:
    """One running registry's state, shared by its API, pages and health checks
    (Starlette keeps it as ``app.state.registry``)."""

    def __init__(
        self,
        db_url: str,
        settings: Settings,
        *,
        connect_args: Mapping[str, Any] | None = None,
    ) -> None:
        self.db_url = db_url
        self.settings = settings
        self.connect_args = dict(connect_args or {})
        self.limiter = (
            RateLimiter(settings.rate_per_second, settings.rate_burst)
            if settings.rate_per_second
            else None
        )
        self._store: Store | None = None
        self._lock = asyncio.Lock()

    async def store(self) -> Store:
        if self._store is None:
            async with self._lock:
                if self._store is None:
                    engine = create_engine(self.db_url, connect_args=self.connect_args)
                    try:
                        if self.settings.migrate:
                            await migrate(engine)
                        self._store = Store(engine)
                    except BaseException:
                        # Tried again on the next request (or health check): no engine,
                        # pool or driver thread left behind by each failed attempt.
                        await engine.dispose()
                        raise
        return self._store

    async def close(self) -> None:
        if self._store is not None:
            store, self._store = self._store, None
            await store.engine.dispose()

    @asynccontextmanager
    async def lifespan(self, _app: ASGIApp) -> AsyncIterator[None]:
        await self.store()
        try:
            yield
        finally:
            await self.close()
