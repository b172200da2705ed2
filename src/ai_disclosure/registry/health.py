"""``/healthz``: is the database reachable? One cheap query, bounded in time, so a
load balancer or a monitor can tell a live instance from one that cannot serve."""

from __future__ import annotations

import asyncio
import json
import logging

from sqlalchemy import text
from starlette.responses import Response

from .db import finishes
from .problems import Problem, problem_response
from .state import RegistryState
from .store import Store

__all__ = ["Health"]

log = logging.getLogger("ai_disclosure.registry")


class Health:
    """Answers 200 ``{"status": "ok"}`` or 503 problem+json; logs each change of
    state once, with the error's type only (a message may hold the database URL)."""

    def __init__(self, registry: RegistryState, *, timeout: float = 5.0) -> None:
        self.registry = registry
        self.timeout = timeout
        self._healthy = True

    async def check(self) -> str | None:
        """``None`` if the database answers, else the error's type name."""
        try:
            async with asyncio.timeout(self.timeout):
                await _ping(await self.registry.store())
        except Exception as exc:  # any failure means: cannot serve
            return type(exc).__name__
        return None

    async def __call__(self) -> Response:
        error = await self.check()
        headers = {"Cache-Control": "no-store"}
        if error is None:
            if not self._healthy:
                log.warning("the database is reachable again")
            self._healthy = True
            body = json.dumps({"status": "ok"}).encode()
            return Response(body, headers=headers, media_type="application/json")
        if self._healthy:
            log.error("health check: the database is unreachable (%s)", error)
        self._healthy = False
        return problem_response(
            Problem(503, "unavailable", f"the database is unreachable ({error})", headers=headers)
        )


@finishes  # a ping that times out is left to end, not cut off in the driver
async def _ping(store: Store) -> None:
    async with store.engine.connect() as connection:
        await connection.execute(text("SELECT 1"))
