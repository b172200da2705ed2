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
from collections.abc import AsyncIterator, Callable, Iterator
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
from ai_disclosure._manifest import ManifestSource
from ai_disclosure._spool import Spool
from ai_disclosure.client import parse_retry_after
from ai_disclosure.testing import FakeRegistry

SYSTEM = "assistant-dechets"
LOGGER = "ai_disclosure.logging"
POISON = "/poison*"

TOKEN = "secret-token"

#: An answer a test scripts ahead: a response, or a transport error to raise.
Scripted = httpx.Response | Exception


class Registry(FakeRegistry):
    """The public fake registry, plus what only these tests need.

    The fake's own faults (``down``, ``fail()``, ``after_storing``) cover outages;
    the logger's tests also need answers it has no fault for (a 4xx refusal, a 413,
    a ``Retry-After`` date, a read timeout...): ``script`` holds them, one per
    request, before the fake answers again. A batch with a ``POISON`` route gets a
    500 every time (a bug the registry has on that batch only), which tells a poison
    batch from an outage. These stay here: an app's tests check what it logs, not
    how the logger answers each refusal, so the public fake keeps to outages.
    """

    def __init__(self, manifest: ManifestSource | None = None) -> None:
        super().__init__(manifest, token=TOKEN)
        self.script: list[Scripted] = []
        self._fake = self.transport
        self.transport = httpx.MockTransport(self._front)

    @property
    def received(self) -> list[str]:
        """The batch id of every request, answered or not, in order (retries show)."""
        return [batch_of(request)["batch_id"] for request in self.requests]

    def _front(self, request: httpx.Request) -> httpx.Response:
        if self.down or self.closed or not (self.script or _poisoned(request)):
            return self._fake.handle_request(request)
        self.requests.append(request)
        if not self.script:
            return problem(500, "Internal Server Error")
        answer = self.script.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def batch_of(request: httpx.Request) -> dict[str, Any]:
    """The batch a request carries (the logger always gzips it)."""
    batch: dict[str, Any] = json.loads(gzip.decompress(request.content))
    return batch


def _poisoned(request: httpx.Request) -> bool:
    return any(row["route"] == POISON for row in batch_of(request).get("counts", ()))


def problem(
    status: int, title: str, *, headers: dict[str, str] | None = None, **extra: Any
) -> httpx.Response:
    return httpx.Response(
        status,
        json={"type": "about:blank", "title": title, "status": status, **extra},
        headers={"content-type": "application/problem+json", **(headers or {})},
    )


@pytest.fixture
def registry() -> Iterator[Registry]:
    registry = Registry()
    yield registry
    registry.closed = True  # as fake_registry() does: a logger left running cannot write into it


def make_logger(registry: FakeRegistry, **kwargs: Any) -> DisclosureLogger:
    options: dict[str, Any] = {
        "transport": registry.transport,
        "random": lambda: 0.0,
        "backoff_base": 0.01,
    }
    options.update(kwargs)
    return DisclosureLogger("demarches", registry.url, registry.token, **options)


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
    registry: Registry, tmp_path: Path
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
    await until(lambda: bool(registry.batches))
    await second.aclose()
    assert [b["batch_id"] for b in registry.batches] == [
        entry.batch_id
    ]  # replayed under its original id
    assert registry.total() == 5
    assert second.stats()["sent"] == 5


async def test_closing_while_an_acknowledgement_is_being_written_sends_nothing_twice(
    registry: Registry, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
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
    await until(lambda: bool(registry.batches))
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


async def test_starlette_lifespan_starts_and_flushes(registry: Registry) -> None:
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


async def test_decisions_are_delivered_beside_the_counts(registry: Registry) -> None:
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
    logger = make_logger(Registry())
    record(logger, 2)
    [batch] = logger.aggregator.drain(final=True)
    assert {batch, batch} == {batch}
    logger.close()


def test_logger_has_no_place_for_personal_data() -> None:
    params = list(inspect.signature(DisclosureLogger.record).parameters)
    assert params == ["self", "system", "route", "mode", "notice_shown", "language"]


# --- the token and the reasons sending failed ------------------------------------------


async def test_a_token_read_from_a_file_loses_its_newline(registry: Registry) -> None:
    logger = DisclosureLogger(
        "demarches", registry.url, f"  {TOKEN}\n", transport=registry.transport
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
    registry: Registry, fault: Exception, says: str, never: str | None
) -> None:
    logger = make_logger(registry)
    registry.script = [fault]
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
