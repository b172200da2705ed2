"""The registry's running state: settings, rate limiter and a store opened on first
use. Opening lazily lets the app work when embedded under another app's Mount,
where Starlette does not run the mounted app's lifespan; the lifespan, when it
does run, opens and migrates at start-up and closes the engine at shutdown.

With ``Settings.read_db_url`` (a read replica), the public reads - lists, search,
exports, system and service pages, stats - run on a second engine over it;
writes and token-protected reads stay on the main one. Nothing is migrated
through the replica: it follows the primary."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from starlette.types import ASGIApp

from .._version import __version__
from .config import Settings
from .db import create_engine, migrate, settled
from .ratelimit import RateLimiter
from .reads import Marker, Reads
from .snapshots import Snapshots
from .store import Store

#: Seconds a closing registry waits for work left by cancelled callers (``settled``).
SETTLE_AT_CLOSE = 10.0

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
        self.snapshots = Snapshots(settings.export_dir, settings.export_max_age, settings.clock)
        # What public answers depend on besides the data: the software and the
        # settings they print.
        self.edition = (
            f"{__version__}|{settings.operator}|{settings.public_url}|{settings.language}"
        )
        self._store: Store | None = None
        self._public: tuple[Store, Reads] | None = None
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

    async def public(self) -> tuple[Store, Reads]:
        """The store and the list queries for public reads: over the read replica
        when one is configured, else over the main database."""
        if self._public is None:
            primary = await self.store()
            async with self._lock:
                if self._public is None:
                    url = self.settings.read_db_url
                    if url is None:
                        self._public = (primary, Reads(primary.engine))
                    else:
                        engine = create_engine(url, connect_args=self.connect_args)
                        replica = Store(engine, workers=primary.workers)
                        self._public = (replica, Reads(engine))
        return self._public

    async def reads(self) -> Reads:
        return (await self.public())[1]

    async def marker(self) -> Marker:
        """The register-wide validators of the public reads (``Reads.marker``)."""
        return await (await self.reads()).marker(self.edition)

    async def close(self) -> None:
        await self.snapshots.close()
        # Work whose callers were cancelled still holds connections: let it end first.
        await settled(SETTLE_AT_CLOSE)
        public, self._public = self._public, None
        if public is not None and self._store is not None and public[0] is not self._store:
            await public[0].engine.dispose()
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
