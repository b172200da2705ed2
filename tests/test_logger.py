"""The background logger against a fake registry: retries, give-ups, spool, shutdown, fork."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import inspect
import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from ai_disclosure._logger import (
    DisclosureLogger,
    Outcome,
    backoff_delay,
    classify,
)
from ai_disclosure._schemas import validator
from ai_disclosure._spool import Spool
from ai_disclosure.client import parse_retry_after

SYSTEM = "assistant-dechets"
LOGGER = "ai_disclosure.logging"
POISON = "/poison*"

Fault = httpx.Response | Exception | str | Callable[[], Any]


class FakeRegistry:
    """The registry's ``POST /v1/disclosures`` contract, with faults to inject."""

    def __init__(self) -> None:
        self.stored: dict[str, dict[str, Any]] = {}
        self.received: list[str] = []
        self.faults: list[Fault] = []
        self.down = False
        self.requests: list[httpx.Request] = []
        self.failing: int | None = None  # every batch answered this status (an outage)

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if self.down:
            raise httpx.ConnectError("connection refused", request=request)
        content = request.content
        if request.headers.get("content-encoding") == "gzip":
            content = gzip.decompress(content)
        body = json.loads(content)
        self.received.append(body["batch_id"])
        if self.failing is not None:
            return problem(self.failing, "outage")
        if any(c["route"] == POISON for c in body.get("counts", ())):
            return problem(500, "Internal Server Error")  # a bug the registry has on this batch
        fault = self.faults.pop(0) if self.faults else None
        if isinstance(fault, Exception):
            raise fault
        if isinstance(fault, httpx.Response):
            return fault
        errors = sorted(validator("disclosure-batch").iter_errors(body), key=str)
        if errors:
            problems = [
                {"pointer": "/" + "/".join(map(str, e.absolute_path)), "detail": e.message}
                for e in errors
            ]
            return problem(422, "invalid batch", errors=problems)
        if body["batch_id"] in self.stored:
            answer = httpx.Response(200, json={"batch_id": body["batch_id"], "status": "duplicate"})
        else:
            self.stored[body["batch_id"]] = body
            answer = httpx.Response(
                202, json={"batch_id": body["batch_id"], "status": "stored", "records": 1}
            )
        if fault == "store-then-500":  # stored, but the answer is lost on the way back
            return problem(500, "gateway timeout")
        return answer

    def total(self) -> int:
        return sum(c["count"] for b in self.stored.values() for c in b["counts"])

    def dropped(self) -> int:
        return sum(b.get("dropped", 0) for b in self.stored.values())


def problem(
    status: int, title: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": title, "status": status, **extra},
        headers={"content-type": "application/problem+json", **(headers or {})},
    )


@pytest.fixture
def registry() -> FakeRegistry:
    return FakeRegistry()


def make_logger(registry: FakeRegistry, **kwargs: Any) -> DisclosureLogger:
    options: dict[str, Any] = {
        "transport": registry.transport(),
        "random": lambda: 0.0,
        "backoff_base": 0.01,
    }
    options.update(kwargs)
    return DisclosureLogger("demarches", "http://registry.test", "secret-token", **options)


def record(logger: DisclosureLogger, n: int = 1, **kw: Any) -> None:
    args: dict[str, Any] = {
        "system": SYSTEM,
        "route": "/dechets/assistant*",
        "mode": "ai-originated",
        "notice_shown": True,
        "language": "fr",
    }
    args.update(kw)
    for _ in range(n):
        logger.record(**args)


async def until(check: Callable[[], bool], within: float = 10.0) -> None:
    deadline = time.monotonic() + within
    while not check():
        assert time.monotonic() < deadline, "not reached in time"
        await asyncio.sleep(0.02)


def settled(logger: DisclosureLogger) -> None:
    stats = logger.stats()
    assert stats["recorded"] == stats["sent"] + stats["dropped"] + stats["pending"], stats


# --- pure functions ------------------------------------------------------------------


def test_backoff_schedule_is_exponential_capped_and_jittered() -> None:
    low = [backoff_delay(n, base=1, cap=10, random=lambda: 0.0) for n in range(1, 8)]
    high = [backoff_delay(n, base=1, cap=10, random=lambda: 1.0) for n in range(1, 8)]
    assert low == [0.5, 1, 2, 4, 5, 5, 5]
    assert high == [1, 2, 4, 8, 10, 10, 10]
    assert backoff_delay(10_000, base=1, cap=10, random=lambda: 0.5) == 7.5


def test_retry_after_parsing() -> None:
    now = 1_795_600_800.0
    date = email.utils.formatdate(now + 30, usegmt=True)
    assert parse_retry_after("120", now) == 120
    assert parse_retry_after(" 7 ", now) == 7
    assert parse_retry_after(date, now) == pytest.approx(30)
    assert parse_retry_after(email.utils.formatdate(now - 30, usegmt=True), now) == 0
    assert parse_retry_after("soon", now) is None
    assert parse_retry_after(None, now) is None


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (202, Outcome.SENT),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (500, Outcome.RETRY),
        (502, Outcome.RETRY),
        (503, Outcome.RETRY),
        (302, Outcome.RETRY),
        (400, Outcome.REJECTED),
        (401, Outcome.REJECTED),
        (403, Outcome.REJECTED),
        (413, Outcome.REJECTED),
        (415, Outcome.REJECTED),
        (422, Outcome.REJECTED),
    ],
)
def test_classify(status: int, outcome: Outcome) -> None:
    assert classify(problem(status, "x")).outcome is outcome


def test_classify_duplicate_and_retry_after() -> None:
    assert classify(httpx.Response(200, json={"status": "duplicate"})).outcome is Outcome.DUPLICATE
    verdict = classify(httpx.Response(429, headers={"Retry-After": "12"}))
    assert (verdict.outcome, verdict.delay) == (Outcome.RETRY, 12)


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


# --- shutdown ------------------------------------------------------------------------


async def test_aclose_keeps_its_deadline_and_reports_the_loss(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(30)
        raise AssertionError("unreachable")

    logger = DisclosureLogger(
        "demarches", "http://registry.test", "t", transport=httpx.MockTransport(hang)
    )
    await logger.start()
    record(logger, 4)
    started = time.monotonic()
    with caplog.at_level(logging.ERROR, logger=LOGGER):
        await logger.aclose(deadline=0.5)
    assert time.monotonic() - started < 1.5
    assert "4 disclosure increments lost" in caplog.text
    assert logger.stats()["dropped"] == 4
    settled(logger)


async def test_shutdown_mid_outage_spools_and_the_next_process_replays(
    registry: FakeRegistry, tmp_path: Path
) -> None:
    registry.down = True
    first = make_logger(registry, spool_dir=tmp_path)
    await first.start()
    record(first, 5)
    await first.aclose(deadline=0.5)
    assert first.stats()["spooled"] == 5
    assert first.stats()["sent"] == 0
    spool = Spool(tmp_path, "demarches")
    [entry] = spool.claim()
    spool.release()
    spool.close()

    registry.down = False
    second = make_logger(registry, spool_dir=tmp_path)
    await second.start()
    await until(lambda: bool(registry.stored))
    await second.aclose()
    assert list(registry.stored) == [entry.batch_id]  # replayed under its original id
    assert registry.total() == 5
    assert second.stats()["sent"] == 5


async def test_closing_while_an_acknowledgement_is_being_written_sends_nothing_twice(
    registry: FakeRegistry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    delete = Spool.delete

    def slow_delete(self: Spool, batch_id: str) -> None:
        time.sleep(0.3)  # the acknowledgement reaches the disk late
        delete(self, batch_id)

    monkeypatch.setattr(Spool, "delete", slow_delete)
    logger = make_logger(registry, spool_dir=tmp_path)
    await logger.start()
    record(logger, 5)
    logger._on_full()  # wake the background task: it sends at once
    await until(lambda: bool(registry.stored))
    await logger.aclose()  # cancels the task mid-delete
    assert len(registry.received) == 1
    assert logger.stats()["sent"] == 5
    assert Spool(tmp_path, "demarches").stats()["batches"] == 0


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


@asynccontextmanager
async def lifespan_of(app: Starlette) -> AsyncIterator[None]:
    """Run an ASGI app's lifespan, as a server does."""
    receive: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    send: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    task = asyncio.create_task(app(scope, receive.get, send.put))
    await receive.put({"type": "lifespan.startup"})
    assert (await send.get())["type"] == "lifespan.startup.complete"
    yield
    await receive.put({"type": "lifespan.shutdown"})
    assert (await send.get())["type"] == "lifespan.shutdown.complete"
    await task


async def test_starlette_lifespan_starts_and_flushes(registry: FakeRegistry) -> None:
    logger = make_logger(registry)

    async def page(request: Request) -> PlainTextResponse:
        record(logger)
        return PlainTextResponse("ok")

    app = Starlette(routes=[Route("/", page)], lifespan=logger.lifespan)
    async with lifespan_of(app):
        assert logger._running
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://app") as client:
            for _ in range(3):
                assert (await client.get("/")).status_code == 200
    assert registry.total() == 3


# --- decisions, fork -------------------------------------------------------------------


async def test_decisions_are_delivered_beside_the_counts(registry: FakeRegistry) -> None:
    logger = make_logger(registry, decision_log=True)
    record(logger, 2)
    logger.record_decision("calcul-aides", "DOSSIER-2026-00042")
    assert await logger.flush()  # the schema accepts 'decisions' (a refusal is end to end)
    await logger.aclose()
    assert registry.total() == 2
    stats = logger.stats()
    assert (stats["recorded"], stats["sent"], stats["dropped"]) == (3, 3, 0)
    assert stats["batches_rejected"] == 0
    settled(logger)


def test_a_forked_child_starts_fresh() -> None:
    script = textwrap.dedent(
        """
        import asyncio, json, os, httpx
        from ai_disclosure._logger import DisclosureLogger

        seen = []
        def handle(request):
            seen.append(os.getpid())
            return httpx.Response(202, json={"status": "stored"})

        logger = DisclosureLogger("demarches", "http://r.test", "t",
                                  transport=httpx.MockTransport(handle))
        args = ("assistant-dechets", "/a", "ai-originated", True, "fr")
        logger.record(*args)

        pid = os.fork()
        if pid == 0:
            fresh = logger.stats()["recorded"] == 0 and logger.aggregator.pending_keys == 0
            async def child():
                logger.record(*args)
                logger.record(*args)
                await logger.flush()
                await logger.aclose()
            asyncio.run(child())
            ok = fresh and logger.stats()["sent"] == 2 and seen == [os.getpid()]
            os._exit(0 if ok else 1)
        _, status = os.waitpid(pid, 0)
        parent = logger.stats()["recorded"]
        logger.close()
        print(json.dumps({"child": os.waitstatus_to_exitcode(status), "parent": parent,
                          "sent": logger.stats()["sent"]}))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(result.stdout) == {"child": 0, "parent": 1, "sent": 1}


def test_importing_registers_no_hook_and_the_first_logger_registers_them_once() -> None:
    script = textwrap.dedent(
        """
        import atexit, json, os, sys

        hooks = []
        def spy(register, kind):
            def wrapper(*args, **kwargs):
                for fn in (*args, *kwargs.values()):
                    if getattr(fn, "__module__", "").startswith("ai_disclosure"):
                        hooks.append(kind)
                return register(*args, **kwargs)
            return wrapper
        atexit.register = spy(atexit.register, "exit")
        os.register_at_fork = spy(os.register_at_fork, "fork")

        import httpx
        import ai_disclosure
        import ai_disclosure._logger
        from ai_disclosure import DisclosureLogger
        at_import = list(hooks)

        def handle(request):
            print("sent at exit", flush=True)
            return httpx.Response(202, json={"status": "stored"})

        loggers = [DisclosureLogger("demarches", "http://r.test", "t",
                                    transport=httpx.MockTransport(handle)) for _ in range(2)]
        loggers[0].record("assistant-dechets", "/a", "ai-originated", True, "fr")
        print(json.dumps({"import": at_import, "loggers": sorted(hooks)}), flush=True)
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, timeout=60
    )
    first, *rest = result.stdout.splitlines()
    assert json.loads(first) == {"import": [], "loggers": ["exit", "fork"]}
    assert rest == ["sent at exit"]  # the exit hook flushes what was counted


def test_batches_are_hashable_values() -> None:
    logger = make_logger(FakeRegistry())
    record(logger, 2)
    [batch] = logger.aggregator.drain(final=True)
    assert {batch, batch} == {batch}
    logger.close()


def test_logger_has_no_place_for_personal_data() -> None:
    params = list(inspect.signature(DisclosureLogger.record).parameters)
    assert params == ["self", "system", "route", "mode", "notice_shown", "language"]


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


# --- the token and the reasons sending failed ------------------------------------------


async def test_a_token_read_from_a_file_loses_its_newline(registry: FakeRegistry) -> None:
    logger = DisclosureLogger(
        "demarches", "http://registry.test", "  secret-token\n", transport=registry.transport()
    )
    record(logger, 1)
    assert await logger.flush()
    await logger.aclose()
    assert registry.requests[0].headers["authorization"] == "Bearer secret-token"


def test_a_token_that_cannot_be_one_is_refused_without_being_repeated() -> None:
    with pytest.raises(ValueError, match="registry token") as caught:
        DisclosureLogger("demarches", "http://registry.test", "aidr_Zq8\nx")
    assert "aidr_Zq8" not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "says", "never"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "unreachable at", None),
        (httpx.ReadTimeout("timed out"), "unreachable at", None),
        (httpx.RemoteProtocolError("Server disconnected"), "connection to the registry", None),
        (
            httpx.LocalProtocolError("Illegal header value b'Bearer secret-token '"),
            "could not send the request",
            "secret-token",
        ),
    ],
)
async def test_why_sending_failed_names_the_registry_and_no_secret(
    registry: FakeRegistry, fault: Exception, says: str, never: str | None
) -> None:
    logger = make_logger(registry)
    registry.faults = [fault]
    record(logger, 1)
    assert not await logger.flush()
    error = logger.last_error or ""
    assert says in error
    assert "http://registry.test" in error
    assert type(fault).__name__ in error
    if never:
        assert never not in error
    if "unreachable" not in says:
        assert "unreachable" not in error
    assert await logger.flush()
    await logger.aclose()


async def test_the_real_registry_s_409_parks_the_batch(tmp_path: Path) -> None:
    """The same batch id with other content, as the registry answers it."""
    from .conftest import EXAMPLE_MANIFEST
    from .logging_e2e.conftest import SERVICE, lifespan, new_registry

    registry = await new_registry(tmp_path)
    spool_dir = tmp_path / "spool"
    async with lifespan(registry.app):
        async with registry.client() as client:
            await client.push_manifest(EXAMPLE_MANIFEST)
        registry.faults.down = True
        logger = DisclosureLogger(
            SERVICE, registry.url, registry.token, transport=registry.transport(),
            spool_dir=spool_dir, random=lambda: 0.0,
        )  # fmt: skip
        record(logger, 3)
        assert not await logger.flush()  # down: the batch waits in the spool
        spool = Spool(spool_dir, SERVICE)
        [waiting] = spool.claim(10)
        spool.release()
        spool.close()
        other = json.loads(gzip.decompress(waiting.body))
        other["counts"][0]["count"] = 1  # other content under the same id
        async with registry.client() as client:
            assert (await client.send_batch(other)).status == "stored"
        registry.faults.down = False
        assert await logger.flush()
        await logger.aclose()
        stats = logger.stats()
        assert (stats["parked"], stats["batches_parked"], stats["dropped"]) == (3, 1, 3)
        assert await registry.total() == 1
        spool = Spool(spool_dir, SERVICE)
        [parked] = spool.parked()
        spool.close()
        assert parked.batch_id == waiting.batch_id
        assert parked.reason.startswith("409 ")
