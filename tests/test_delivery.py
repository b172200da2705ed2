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
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ai_disclosure._logger import DisclosureLogger
from ai_disclosure._spool import Spool

from .conftest import EXAMPLE_MANIFEST
from .test_logger import (
    LOGGER,
    POISON,
    Registry,
    make_logger,
    problem,
    record,
    settled,
    until,
)


@pytest.fixture
def registry() -> Iterator[Registry]:
    registry = Registry()
    yield registry
    registry.closed = True


# --- sending -------------------------------------------------------------------------


async def test_sends_gzip_json_with_bearer_token(registry: Registry) -> None:
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


async def test_transient_failures_retry_the_same_batch_id(registry: Registry) -> None:
    logger = make_logger(registry)
    registry.fail(500, times=1)
    record(logger, 5)
    assert not await logger.flush()
    registry.fail(503, times=1)
    assert not await logger.flush()
    registry.script = [httpx.ReadTimeout("slow")]
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
    registry: Registry,
) -> None:
    logger = make_logger(registry)
    registry.fail(500, times=1, after_storing=True)
    record(logger, 4)
    assert not await logger.flush()
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 4
    stats = logger.stats()
    assert (stats["sent"], stats["batches_duplicate"]) == (4, 1)


async def test_retry_after_seconds_is_honoured(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    logger = make_logger(registry)
    registry.fail(429, times=1, retry_after=7)
    record(logger)
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert not await logger.flush()
    assert logger._retry_at - time.monotonic() == pytest.approx(7, abs=0.5)
    assert "retrying in 7.0 s" in caplog.text
    assert await logger.flush()
    await logger.aclose()


async def test_retry_after_http_date_is_honoured_and_capped(registry: Registry) -> None:
    logger = make_logger(registry, max_retry_after=60)
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    much_later = email.utils.formatdate(time.time() + 7200, usegmt=True)
    registry.script = [  # the fake's Retry-After is in seconds; the registry may send a date
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


async def test_backoff_grows_while_the_registry_is_down(registry: Registry) -> None:
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
    registry: Registry, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    logger = make_logger(registry)
    registry.script = [problem(status, "refused", detail="no such token")]
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
    assert (registry.total(), registry.dropped) == (2, 6)


async def test_rows_the_registry_names_are_dropped_and_the_rest_resent() -> None:
    registry = Registry(EXAMPLE_MANIFEST)  # published: it refuses the rows of other systems
    logger = make_logger(registry)
    record(logger, 3)
    record(logger, 2, system="unknown-system")
    assert await logger.flush()
    await logger.aclose()
    first, second = registry.received
    assert first != second
    assert registry.total() == 3
    assert registry.dropped == 2
    assert logger.stats()["dropped"] == 2
    settled(logger)


async def test_too_large_batches_are_split(registry: Registry) -> None:
    logger = make_logger(registry)
    for i in range(4):
        record(logger, i + 1, route=f"/r{i}")
    registry.script = [problem(413, "too large"), problem(413, "too large")]
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 10
    assert len(registry.batches) == 3
    assert logger.stats()["dropped"] == 0


async def test_background_task_flushes_each_window_after_lazy_start(
    registry: Registry,
) -> None:
    logger = make_logger(registry, window_seconds=1)
    record(logger, 2)  # no start(): the first record inside the loop starts the task
    assert logger._running
    await until(lambda: registry.total() == 2)
    record(logger)
    await until(lambda: registry.total() == 3)
    assert len(registry.batches) == 2  # one batch per window, without any flush()
    await logger.aclose()
    settled(logger)


async def test_a_full_batch_is_sent_before_its_window_ends(registry: Registry) -> None:
    logger = make_logger(registry, window_seconds=3600, max_batch=5)
    await logger.start()
    for i in range(5):
        record(logger, route=f"/r{i}")
    await until(lambda: bool(registry.batches))
    assert registry.total() == 5
    await logger.aclose()


async def test_outage_without_spool_merges_counts_within_bounds(registry: Registry) -> None:
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
    assert registry.dropped == dropped
    settled(logger)


async def test_unexpected_transport_errors_are_retried(registry: Registry) -> None:
    logger = make_logger(registry)
    registry.script = [RuntimeError("a bug somewhere")]
    record(logger)
    assert not await logger.flush()
    assert await logger.flush()
    await logger.aclose()
    assert registry.total() == 1


# --- the spool and the exit path ----------------------------------------------------


async def test_with_a_spool_every_batch_is_on_disk_before_it_is_sent(
    registry: Registry, tmp_path: Path
) -> None:
    logger = make_logger(registry, spool_dir=tmp_path)
    on_disk: list[int] = []

    def spy(request: httpx.Request) -> httpx.Response:
        conn = sqlite3.connect(tmp_path / "demarches.spool.sqlite3")  # as another process would
        on_disk.append(conn.execute("SELECT count(*) FROM batch").fetchone()[0])
        conn.close()
        return registry.transport.handle_request(request)

    logger._transport = httpx.MockTransport(spy)
    record(logger, 2)
    assert await logger.flush()
    await logger.aclose()
    assert on_disk == [1]
    assert registry.total() == 2
    assert Spool(tmp_path, "demarches").stats()["batches"] == 0


async def test_a_full_spool_drops_and_counts(registry: Registry, tmp_path: Path) -> None:
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
    assert registry.dropped == 4
    settled(logger)


def test_sync_close_sends_without_a_loop(registry: Registry) -> None:
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


def test_sync_close_spools_without_a_loop(registry: Registry, tmp_path: Path) -> None:
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
    registry: Registry, caplog: pytest.LogCaptureFixture
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
    assert (registry.total(), registry.dropped) == (5, 2)


async def test_the_background_task_parks_a_poison_batch_without_help(
    registry: Registry,
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


async def test_an_outage_parks_nothing(registry: Registry) -> None:
    logger = make_logger(registry, poison_after=2)
    registry.fail(503)  # every batch, until recover()
    record(logger, 2)
    for _ in range(3):
        assert not await logger.flush()
    record(logger, 3, route="/autre*")
    for _ in range(3):
        assert not await logger.flush()
    assert logger.stats()["consecutive_failures"] >= 6
    registry.recover()
    assert await logger.flush()
    await logger.aclose()
    stats = logger.stats()
    assert (stats["parked"], stats["dropped"], stats["sent"]) == (0, 0, 5)
    assert registry.total() == 5


async def test_429_and_unreachable_do_not_make_a_batch_a_suspect(
    registry: Registry,
) -> None:
    logger = make_logger(registry, poison_after=1)
    registry.fail(429, times=1, retry_after=60)
    record(logger, 1)
    assert not await logger.flush()
    registry.down = True
    assert not await logger.flush()
    registry.down = False
    record(logger, 1, route="/autre*")
    assert await logger.flush()
    assert logger.stats()["parked"] == 0
    assert registry.total() == 2
    await logger.aclose()


async def test_a_conflict_is_parked_at_once_and_never_retried(
    registry: Registry, caplog: pytest.LogCaptureFixture
) -> None:
    logger = make_logger(registry)
    registry.script = [problem(409, "Conflict", detail="batch id already used")]
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
    registry: Registry, tmp_path: Path
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


def test_poison_after_must_be_positive(registry: Registry) -> None:
    with pytest.raises(ValueError, match="poison_after"):
        make_logger(registry, poison_after=0)
