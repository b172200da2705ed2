"""The background logger against a fake registry: its lifecycle (start, flush, close,
lifespans), shutdown deadlines, decisions and its token; the fake shared by the
delivery tests."""

from __future__ import annotations

import asyncio
import email.utils
import gzip
import inspect
import json
import logging
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


def test_batches_are_hashable_values() -> None:
    logger = make_logger(FakeRegistry())
    record(logger, 2)
    [batch] = logger.aggregator.drain(final=True)
    assert {batch, batch} == {batch}
    logger.close()


def test_logger_has_no_place_for_personal_data() -> None:
    params = list(inspect.signature(DisclosureLogger.record).parameters)
    assert params == ["self", "system", "route", "mode", "notice_shown", "language"]


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
