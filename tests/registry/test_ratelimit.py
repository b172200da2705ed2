"""The token bucket, on a clock the test controls."""

from __future__ import annotations

import pytest

from ai_disclosure.registry.ratelimit import RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_burst_then_rate() -> None:
    clock = Clock()
    limiter = RateLimiter(2.0, 3, clock=clock)
    assert [limiter.acquire("a") for _ in range(3)] == [0, 0, 0]
    assert limiter.acquire("a") == 1
    assert limiter.acquire("b") == 0  # its own bucket
    clock.now += 0.5
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") == 1
    clock.now += 100
    assert [limiter.acquire("a") for _ in range(4)] == [0, 0, 0, 1]  # never above the burst


def test_retry_after_is_whole_seconds_until_a_token() -> None:
    clock = Clock()
    limiter = RateLimiter(0.1, 1, clock=clock)
    assert limiter.acquire("a") == 0
    assert limiter.acquire("a") == 10
    clock.now += 9.5
    assert limiter.acquire("a") == 1


@pytest.mark.parametrize(("rate", "burst"), [(0, 1), (-1, 1), (1, 0)])
def test_nonsense_settings_are_refused(rate: float, burst: int) -> None:
    with pytest.raises(ValueError, match="rate must be positive"):
        RateLimiter(rate, burst)
