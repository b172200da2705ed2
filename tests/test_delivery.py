"""Delivery against a fake registry: sending, retries, refusals, parking, the spool
and the exit path without an event loop."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import json
import logging
import sqlite3
import time
from pathlib import Path

import httpx
import pytest

from ai_disclosure._logger import DisclosureLogger
from ai_disclosure._spool import Spool

from .test_logger import (
    LOGGER,
    POISON,
    FakeRegistry,
    make_logger,
    problem,
    record,
    settled,
    until,
)


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


# --- sending -------------------------------------------------------------------------


async def test_sends_gzip_json_with_bearer_token(registry: FakeRegistry) -> None:
    logger = make_logger(registry)
    record(logger, 3)
    assert await logger.flush()
    await logger.aclose()
    [request] = registry.requests
    assert request.url == "http://registry.test/v1/disclosures"
    assert request.headers["authorization"] == "Bearer secret-token"
    assert request.headers["content-encoding"] == "gzip"
    assert request.headers["content-type"] == "application/json"
    assert request.headers["user-agent"].startswith("ai-disclosure-python/")
    assert registry.total() == 3
    stats = logger.stats()
    assert (stats["sent"], stats["batches_sent"], stats["dropped"]) == (3, 1, 0)
    settled(logger)


async def test_transient_failures_retry_the_same_batch_id(registry: FakeRegistry) -> None:
    logger = make_logger(registry)
    registry.faults = [problem(500, "boom"), problem(503, "busy"), httpx.ReadTimeout("slow")]
    record(logger, 5)
    for _ in range(3):
        assert not await logger.flush()
    assert await logger.flush()
    await logger.aclose()
    assert len(set(registry.received)) == 1
    assert len(registry.received) == 4
    assert registry.total() == 5
    assert logger.stats()["retried"] == 3
    assert logger.last_error is not None
    settled(logger)


async def test_a_batch_stored_before_the_answer_was_lost_is_not_doubled(
    registry: FakeRegistry,
) -> None:
    logger = make_logger(registry)
    registry.faults = ["store-then-500"]
    record(logger, 4)
    assert not await logger.flush()
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 4
    stats = logger.stats()
    assert (stats["sent"], stats["batches_duplicate"]) == (4, 1)


async def test_retry_after_seconds_is_honoured(
    registry: FakeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    logger = make_logger(registry)
    registry.faults = [problem(429, "slow down", headers={"Retry-After": "7"})]
    record(logger)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert not await logger.flush()
    assert logger._retry_at - time.monotonic() == pytest.approx(7, abs=0.5)
    assert "retrying in 7.0 s" in caplog.text
    assert await logger.flush()
    await logger.aclose()


async def test_retry_after_http_date_is_honoured_and_capped(registry: FakeRegistry) -> None:
    logger = make_logger(registry, max_retry_after=60)
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    much_later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    registry.faults = [
        problem(503, "maintenance", headers={"Retry-After": later}),
        problem(503, "maintenance", headers={"Retry-After": much_later}),
    ]
    record(logger)
    assert not await logger.flush()
    assert logger._retry_at - time.monotonic() == pytest.approx(30, abs=2)
    assert not await logger.flush()
    assert logger._retry_at - time.monotonic() == pytest.approx(60, abs=1)
    assert await logger.flush()
    await logger.aclose()


async def test_backoff_grows_while_the_registry_is_down(registry: FakeRegistry) -> None:
    logger = make_logger(registry, backoff_base=1.0, backoff_cap=8.0, random=lambda: 1.0)
    registry.down = True
    record(logger)
    delays = []
    for _ in range(6):
        assert not await logger.flush()
        delays.append(round(logger._retry_at - time.monotonic()))
    assert delays == [1, 2, 4, 8, 8, 8]
    assert logger.stats()["consecutive_failures"] == 6
    registry.down = False
    assert await logger.flush()
    assert logger.stats()["consecutive_failures"] == 0
    await logger.aclose()
    assert registry.total() == 1


@pytest.mark.parametrize("status", [400, 401, 403, 415, 422])
async def test_gives_up_on_final_4xx_and_says_so(
    registry: FakeRegistry, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    logger = make_logger(registry)
    registry.faults = [problem(status, "refused", detail="no such token")]
    record(logger, 6)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert await logger.flush()  # nothing left: given up, not retried
    assert len(registry.received) == 1
    [line] = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert line.name == LOGGER
    assert "a retry cannot fix this" in line.getMessage()
    assert str(status) in line.getMessage()
    stats = logger.stats()
    assert (stats["dropped"], stats["batches_rejected"], stats["sent"]) == (6, 1, 0)
    settled(logger)
    # The loss reaches the registry with the next batch.
    record(logger, 2)
    assert await logger.flush()
    await logger.aclose()
    assert (registry.total(), registry.dropped()) == (2, 6)


async def test_rows_the_registry_names_are_dropped_and_the_rest_resent(
    registry: FakeRegistry,
) -> None:
    logger = make_logger(registry)
    record(logger, 3)
    record(logger, 2, system="unknown-system")
    registry.faults = [
        problem(422, "unknown system", errors=[{"pointer": "/counts/1/system", "detail": "?"}])
    ]
    assert await logger.flush()
    await logger.aclose()
    first, second = registry.received
    assert first != second
    assert registry.total() == 3
    assert registry.dropped() == 2
    assert logger.stats()["dropped"] == 2
    settled(logger)


async def test_too_large_batches_are_split(registry: FakeRegistry) -> None:
    logger = make_logger(registry)
    for i in range(4):
        record(logger, i + 1, route=f"/r{i}")
    registry.faults = [problem(413, "too large"), problem(413, "too large")]
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 10
    assert len(registry.stored) == 3
    assert logger.stats()["dropped"] == 0


async def test_background_task_flushes_each_window_after_lazy_start(
    registry: FakeRegistry,
) -> None:
    logger = make_logger(registry, window_seconds=1)
    record(logger, 2)  # no start(): the first record inside the loop starts the task
    assert logger._running
    await until(lambda: registry.total() == 2)
    record(logger)
    await until(lambda: registry.total() == 3)
    assert len(registry.stored) == 2  # one batch per window, without any flush()
    await logger.aclose()
    settled(logger)


async def test_a_full_batch_is_sent_before_its_window_ends(registry: FakeRegistry) -> None:
    logger = make_logger(registry, window_seconds=3600, max_batch=5)
    await logger.start()
    for i in range(5):
        record(logger, route=f"/r{i}")
    await until(lambda: bool(registry.stored))
    assert registry.total() == 5
    await logger.aclose()


async def test_outage_without_spool_merges_counts_within_bounds(registry: FakeRegistry) -> None:
    logger = make_logger(registry, window_seconds=1, max_keys=4)
    registry.down = True
    await logger.start()
    for second in range(3):
        for i in range(3):
            record(logger, 10, route=f"/r{i}")
        await asyncio.sleep(0.5 if second < 2 else 0.1)
        await asyncio.sleep(0.5)
    # One window was cut (3 keys in the outbox); the rest merge in the aggregator,
    # which holds at most 4 keys: later keys were dropped and counted.
    assert len(logger._outbox) == 1
    assert logger.aggregator.pending_keys <= 4
    dropped = logger.stats()["dropped"]
    assert dropped > 0
    registry.down = False
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 90 - dropped
    assert registry.dropped() == dropped
    settled(logger)


async def test_unexpected_transport_errors_are_retried(registry: FakeRegistry) -> None:
    logger = make_logger(registry)
    registry.faults = [RuntimeError("a bug somewhere")]
    record(logger)
    assert not await logger.flush()
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 1


# --- the spool and the exit path ----------------------------------------------------


async def test_with_a_spool_every_batch_is_on_disk_before_it_is_sent(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    logger = make_logger(registry, spool_dir=tmp_path)
    on_disk: list[int] = []

    def spy(request: httpx.Request) -> httpx.Response:
        conn = sqlite3.connect(tmp_path / "demarches.spool.sqlite3")  # as another process would
        on_disk.append(conn.execute("SELECT count(*) FROM batch").fetchone()[0])
        conn.close()
        return registry.handle(request)

    logger._transport = httpx.MockTransport(spy)
    record(logger, 2)
    assert await logger.flush()
    await logger.aclose()
    assert on_disk == [1]
    assert registry.total() == 2
    assert Spool(tmp_path, "demarches").stats()["batches"] == 0


async def test_a_full_spool_drops_and_counts(registry: FakeRegistry, tmp_path: Path) -> None:
    registry.down = True
    logger = make_logger(registry, spool_dir=tmp_path, spool_max_batches=1)
    record(logger, 3)
    assert not await logger.flush()
    record(logger, 4, route="/other")
    assert not await logger.flush()
    stats = logger.stats()
    assert (stats["spooled"], stats["dropped"]) == (3, 4)
    registry.down = False
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 3
    assert registry.dropped() == 4
    settled(logger)


def test_sync_close_sends_without_a_loop(registry: FakeRegistry) -> None:
    logger = make_logger(registry)
    record(logger, 3)  # no loop: nothing starts
    assert not logger._running
    logger.close()
    assert registry.total() == 3
    settled(logger)


def test_the_exit_path_warns_of_a_clear_text_token_and_counts_the_loss(
    caplog: pytest.LogCaptureFixture,
) -> None:
    # A documentation address (RFC 5737) on another machine, over plain http, with
    # no test transport: the path a real deployment takes at exit.
    url = "http://192.0.2.1:9"
    logger = DisclosureLogger("demarches", url, "secret-token", timeout=0.5)
    record(logger, 2)
    with caplog.at_level("WARNING", logger=LOGGER):
        logger.close(deadline=0.5)
    messages = [r.getMessage() for r in caplog.records]
    assert f"the registry token is sent in clear text to {url}" in messages[0]
    assert any("2 disclosure increments lost" in m for m in messages[1:])
    assert not any("secret-token" in m for m in messages)
    assert logger.stats()["dropped"] == 2


def test_sync_close_spools_without_a_loop(registry: FakeRegistry, tmp_path: Path) -> None:
    logger = make_logger(registry, spool_dir=tmp_path)
    record(logger, 3)
    logger.close()
    assert registry.total() == 0
    spool = Spool(tmp_path, "demarches")
    assert spool.stats()["records"] == 3
    spool.close()


# --- poison batches: parked so later counts flow ----------------------------------------


def parked_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if "parked" in r.getMessage()]


async def test_a_poison_batch_is_parked_once_the_registry_stores_others(
    registry: FakeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    logger = make_logger(registry, poison_after=3)
    record(logger, 2, route=POISON)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        for _ in range(3):
            assert not await logger.flush()  # alone, it could be an outage: kept
        assert logger.stats()["parked"] == 0
        record(logger, 4)
        assert await logger.flush()  # the next batch is stored: the first is parked
    assert registry.total() == 4
    stats = logger.stats()
    assert (stats["parked"], stats["batches_parked"], stats["dropped"]) == (2, 1, 2)
    assert stats["consecutive_failures"] == 0
    settled(logger)
    [parked] = logger.parked_batches()
    assert json.loads(gzip.decompress(parked.body))["counts"][0]["route"] == POISON
    assert parked.reason.startswith("500 Internal Server Error")
    [line] = parked_lines(caplog)  # logged once
    assert parked.batch_id in line
    assert "secret-token" not in line
    # The loss reaches the registry with a later batch, and nothing retries the poison.
    tried = len(registry.received)
    record(logger, 1)
    assert await logger.flush()
    await logger.aclose()
    assert parked.batch_id not in registry.received[tried:]
    assert (registry.total(), registry.dropped()) == (5, 2)


async def test_the_background_task_parks_a_poison_batch_without_help(
    registry: FakeRegistry,
) -> None:
    """Without a spool one stuck batch stops the cuts; a suspect one must not."""
    logger = make_logger(registry, poison_after=2, window_seconds=1, backoff_cap=0.05)
    await logger.start()
    record(logger, 3, route=POISON)
    await until(lambda: len(registry.received) >= 3)
    record(logger, 5)
    await until(lambda: registry.total() == 5)
    await until(lambda: logger.stats()["batches_parked"] == 1)
    await logger.aclose()
    assert logger.stats()["parked"] == 3


async def test_an_outage_parks_nothing(registry: FakeRegistry) -> None:
    logger = make_logger(registry, poison_after=2)
    registry.failing = 503
    record(logger, 2)
    for _ in range(3):
        assert not await logger.flush()
    record(logger, 3, route="/autre*")
    for _ in range(3):
        assert not await logger.flush()
    assert logger.stats()["consecutive_failures"] >= 6
    registry.failing = None
    assert await logger.flush()
    await logger.aclose()
    stats = logger.stats()
    assert (stats["parked"], stats["dropped"], stats["sent"]) == (0, 0, 5)
    assert registry.total() == 5


async def test_429_and_unreachable_do_not_make_a_batch_a_suspect(
    registry: FakeRegistry,
) -> None:
    logger = make_logger(registry, poison_after=1)
    registry.faults = [
        problem(429, "Too Many Requests", headers={"Retry-After": "60"}),
        httpx.ConnectError("refused"),
    ]
    record(logger, 1)
    assert not await logger.flush()
    assert not await logger.flush()
    record(logger, 1, route="/autre*")
    assert await logger.flush()
    assert logger.stats()["parked"] == 0
    assert registry.total() == 2
    await logger.aclose()


async def test_a_conflict_is_parked_at_once_and_never_retried(
    registry: FakeRegistry, caplog: pytest.LogCaptureFixture
) -> None:
    logger = make_logger(registry)
    registry.faults = [problem(409, "Conflict", detail="batch id already used")]
    record(logger, 3)
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        assert await logger.flush()
    assert len(registry.received) == 1
    [line] = parked_lines(caplog)
    assert "409 Conflict" in line
    stats = logger.stats()
    assert (stats["parked"], stats["dropped"], stats["batches_parked"]) == (3, 3, 1)
    settled(logger)
    await logger.aclose()


async def test_with_a_spool_a_parked_batch_stays_in_it_and_is_not_replayed(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    logger = make_logger(registry, poison_after=1, spool_dir=tmp_path)
    record(logger, 2, route=POISON)
    assert not await logger.flush()
    record(logger, 1)
    assert await logger.flush()
    await logger.aclose()
    spool = Spool(tmp_path, "demarches")
    try:
        [parked] = spool.parked()
        assert parked.records == 2
        assert spool.stats()["batches"] == 0
    finally:
        spool.close()
    tried = len(registry.received)
    again = make_logger(registry, spool_dir=tmp_path)
    assert await again.flush()
    await again.aclose()
    assert len(registry.received) == tried  # a new process does not resend it


def test_poison_after_must_be_positive(registry: FakeRegistry) -> None:
    with pytest.raises(ValueError, match="poison_after"):
        make_logger(registry, poison_after=0)
