"""Token buckets: per service, a burst is welcome and a sustained flood is told when
to come back; per client address, failed tokens are budgeted so guessing is slow.
In memory, per process: enough to keep one misbehaving sender from crowding out
the others."""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["FailureBudget", "RateLimiter"]


class RateLimiter:
    """``rate`` tokens per second, at most ``burst`` saved; one token per request."""

    def __init__(
        self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # key -> (tokens, last time)

    def acquire(self, key: str) -> int:
        """0 if the request may go ahead; else whole seconds to wait (``Retry-After``)."""
        now = self._clock()
        tokens, last = self._buckets.get(key, (self.burst, now))
        tokens = min(self.burst, tokens + (now - last) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return 0
        self._buckets[key] = (tokens, now)
        return max(1, math.ceil((1.0 - tokens) / self.rate))


class FailureBudget:
    """How many failures a key may make: ``burst`` at once, then one more every
    ``1 / rate`` seconds. Checking does not spend; only ``fail`` does.

    At most ``max_keys`` keys are remembered, the least recently failed forgotten
    first, so a flood of addresses costs bounded memory (and at worst gives an
    address a fresh budget)."""

    def __init__(
        self,
        rate: float,
        burst: int,
        *,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if rate <= 0 or burst < 1 or max_keys < 1:
            raise ValueError("rate must be positive, burst and max_keys at least 1")
        self.rate = rate
        self.burst = float(burst)
        self.max_keys = max_keys
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + (now - last) * self.rate)

    def wait(self, key: str) -> int:
        """0 if ``key`` may try again; else whole seconds until it may (``Retry-After``)."""
        tokens = self._tokens(key, self._clock())
        if tokens >= 1.0:
            return 0
        return max(1, math.ceil((1.0 - tokens) / self.rate))

    def fail(self, key: str) -> None:
        """Spend one failure."""
        now = self._clock()
        tokens = max(0.0, self._tokens(key, now) - 1.0)
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)

    def __len__(self) -> int:
        return len(self._buckets)
