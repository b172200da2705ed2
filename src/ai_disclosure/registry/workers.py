"""CPU-heavy work off the event loop: checking a big batch against the schema,
summing its rows, parsing and hashing a manifest. A pure-Python loop over
7,000 rows holds the loop for seconds; in a thread it only shares the GIL
(handed over every few milliseconds), so other requests keep answering.

The threads are few and shared; each service holds at most one at a time, so a
single token sending big invalid batches queues behind itself and leaves the
other threads to everyone else."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import anyio
import anyio.to_thread

__all__ = ["THREADS", "Workers"]

T = TypeVar("T")

#: Threads for heavy work, for the whole registry process.
THREADS = 4


class Workers:
    """A bounded pool of threads, at most ``per_service`` of them for one service."""

    def __init__(self, threads: int = THREADS, per_service: int = 1) -> None:
        self.threads = threads
        self.per_service = per_service
        self._limiter: anyio.CapacityLimiter | None = None
        # Only services with work in flight: the dict never outgrows the requests.
        self._services: dict[str, tuple[anyio.CapacityLimiter, int]] = {}

    @property
    def limiter(self) -> anyio.CapacityLimiter:
        if self._limiter is None:  # created in the event loop that uses it
            self._limiter = anyio.CapacityLimiter(self.threads)
        return self._limiter

    async def run(self, func: Callable[..., T], *args: Any, service: str | None = None) -> T:
        """``func(*args)`` in a worker thread, queued behind ``service``'s own work."""
        if service is None:
            return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)
        own, users = self._services.get(service) or (anyio.CapacityLimiter(self.per_service), 0)
        self._services[service] = (own, users + 1)
        try:
            async with own:
                return await anyio.to_thread.run_sync(func, *args, limiter=self.limiter)
        finally:
            own, users = self._services[service]
            if users == 1:
                del self._services[service]
            else:
                self._services[service] = (own, users - 1)

    def busy(self, service: str) -> int:
        """How many requests of ``service`` have work running or queued."""
        entry = self._services.get(service)
        return 0 if entry is None else entry[1]
