"""The fake registry apps test against: the registry's write contract, what it
received, faults to inject, and the same answers as the real registry."""

from __future__ import annotations

import gzip
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.responses import HTMLResponse
from starlette.types import Receive, Scope, Send

from ai_disclosure import AIDisclosureMiddleware, load_manifest
from ai_disclosure._logger import DisclosureLogger
from ai_disclosure.client import AsyncRegistryClient, RegistryClient, RegistryError
from ai_disclosure.testing import DayCount, FakeRegistry, assert_disclosed, fake_registry

from .conftest import EXAMPLE_MANIFEST, MINIMAL_MANIFEST

SERVICE = "demarches"
SYSTEM = "assistant-dechets"
NOW = 1_795_600_800.0


def window(at: float = NOW) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%dT%H:%M:00Z")


def row(system: str = SYSTEM, count: int = 1, **changes: Any) -> dict[str, Any]:
    return {
        "system": system,
        "route": "/dechets/assistant*",
        "mode": "ai-originated",
        "notice_shown": True,
        "language": "fr",
        "window_start": window(),
        "count": count,
    } | changes


def batch(*rows: dict[str, Any], service: str = SERVICE, **extra: Any) -> dict[str, Any]:
    return {
        "batch_id": str(uuid.uuid4()),
        "service": service,
        "counts": list(rows or (row(),)),
    } | extra


def client(registry: FakeRegistry, token: str | None = None) -> RegistryClient:
    chosen = registry.token if token is None else token
    return RegistryClient(registry.url, chosen, transport=registry.transport)


def refusal(call: Callable[[], object]) -> RegistryError:
    with pytest.raises(RegistryError) as caught:
        call()
    return caught.value


# --- the contract ---------------------------------------------------------------------


def test_a_batch_is_stored_once_and_summed_per_service_system_and_day() -> None:
    first = batch(row(count=2), row(count=3, route="/dechets/assistant/suite"))
    other_day = batch(row(count=4, window_start=window(NOW + 86_400)))
    with fake_registry() as registry, client(registry) as sdk:
        assert sdk.send_batch(first).status == "stored"
        again = sdk.send_batch(first)
        assert (again.duplicate, again.records) == (True, len(first["counts"]))
        sdk.send_batch(other_day, compress=False)
    day = window()[:10]
    next_day = window(NOW + 86_400)[:10]
    assert registry.counts == {
        DayCount(SERVICE, SYSTEM, day): 2 + 3,
        DayCount(SERVICE, SYSTEM, next_day): 4,
    }
    assert registry.total() == registry.total(SYSTEM) == 2 + 3 + 4
    assert registry.total("traduction-pages") == 0
    assert registry.batches == [first, other_day]
    assert len(registry.requests) == 3
    assert registry.problems == []


def test_a_batch_id_reused_for_other_content_is_a_409_and_changes_nothing() -> None:
    sent = batch(row(count=1))
    with fake_registry() as registry, client(registry) as sdk:
        sdk.send_batch(sent)
        reordered = sent | {"counts": list(reversed(sent["counts"])), "sent_at": window()}
        assert sdk.send_batch(reordered).duplicate  # the same content, sent again
        error = refusal(lambda: sdk.send_batch(sent | {"counts": [row(count=9)]}))
    assert error.status == 409
    assert error.type.endswith("/batch-conflict")
    assert [f.pointer for f in error.errors] == ["/batch_id"]
    assert registry.total() == 1


@pytest.mark.parametrize(
    ("changes", "pointer"),
    [
        ({"mode": "ai-made"}, "/counts/0/mode"),
        ({"count": 0}, "/counts/0/count"),
        ({"route": "/x?email=a@b.fr"}, "/counts/0/route"),
        ({"window_start": "2026-02-30T00:00:00Z"}, "/counts/0/window_start"),
        ({"colour": "blue"}, "/counts/0"),
    ],
)
def test_an_invalid_batch_is_refused_with_the_field_to_fix(
    changes: dict[str, Any], pointer: str
) -> None:
    with fake_registry() as registry, client(registry) as sdk:
        error = refusal(lambda: sdk.send_batch(batch(row(**changes))))
    assert (error.status, error.type.rsplit("/", 1)[1]) == (422, "invalid-batch")
    assert [f.pointer for f in error.errors] == [pointer]
    assert registry.batches == []
    [problem] = registry.problems
    assert problem["errors"][0]["pointer"] == pointer


@pytest.mark.parametrize(
    ("headers", "body", "status"),
    [
        ({"Content-Type": "text/plain"}, b"{}", 415),
        ({"Content-Type": "application/json", "Content-Encoding": "br"}, b"{}", 415),
        ({"Content-Type": "application/json", "Content-Encoding": "gzip"}, b"not gzip", 400),
        ({"Content-Type": "application/json"}, b"{", 400),
        ({"Content-Type": "application/json"}, b'{"count": NaN}', 400),
        ({"Content-Type": "application/json"}, b"\xff", 400),
    ],
)
def test_a_body_that_is_not_json_is_refused_as_the_registry_does(
    headers: dict[str, str], body: bytes, status: int
) -> None:
    with fake_registry() as registry, httpx.Client(transport=registry.transport) as http:
        headers["Authorization"] = f"Bearer {registry.token}"
        answer = http.post(f"{registry.url}/v1/disclosures", content=body, headers=headers)
    assert answer.status_code == status
    assert answer.headers["content-type"] == "application/problem+json"
    assert answer.json()["status"] == status
    assert registry.problems == [answer.json()]


def test_a_token_is_required_and_must_be_the_registrys() -> None:
    with fake_registry(token="aidr_right") as registry:
        with client(registry, token="") as anonymous:
            missing = refusal(lambda: anonymous.send_batch(batch()))
        with client(registry, token="aidr_wrong") as stranger:
            wrong = refusal(lambda: stranger.send_batch(batch()))
    assert (missing.status, wrong.status) == (401, 401)
    assert "unknown or revoked" in wrong.detail
    assert registry.batches == []


def test_with_a_manifest_the_token_is_its_service_and_its_systems_are_declared() -> None:
    with fake_registry(EXAMPLE_MANIFEST) as registry, client(registry) as sdk:
        other = refusal(lambda: sdk.send_batch(batch(service="voirie")))
        unknown = refusal(lambda: sdk.send_batch(batch(row(), row("robot-inconnu"))))
        assert sdk.send_batch(batch(row("traduction-pages"))).status == "stored"
    assert other.status == 403
    assert (unknown.status, unknown.type.rsplit("/", 1)[1]) == (422, "unknown-system")
    assert [f.pointer for f in unknown.errors] == ["/counts/1/system"]
    assert registry.total() == registry.total("traduction-pages") == 1
    assert SERVICE in registry.manifests


def test_a_pushed_manifest_declares_the_systems_and_is_versioned() -> None:
    minimal = load_manifest(MINIMAL_MANIFEST)
    declared = minimal.systems[0].id
    with fake_registry() as registry, client(registry) as sdk:
        service = minimal.service.id
        assert sdk.send_batch(batch(row("anything"), service=service)).status == "stored"
        first, same = sdk.push_manifest(minimal), sdk.push_manifest(minimal)
        assert (first.version, first.changed, same.version, same.changed) == (1, True, 1, False)
        unknown = refusal(lambda: sdk.send_batch(batch(row("anything"), service=service)))
        assert sdk.send_batch(batch(row(declared), service=service)).status == "stored"
    assert unknown.status == 422
    assert registry.manifests[service]["service"]["id"] == service
    assert registry.total(declared) == 1


def test_reads_are_not_the_fakes_business() -> None:
    with fake_registry() as registry, client(registry) as sdk:
        error = refusal(lambda: sdk.stats())
    assert error.status == 404


# --- faults ---------------------------------------------------------------------------


def test_down_refuses_connections_until_recovered() -> None:
    with fake_registry() as registry, client(registry) as sdk:
        registry.down = True
        error = refusal(lambda: sdk.send_batch(batch()))
        registry.recover()
        assert sdk.send_batch(batch()).status == "stored"
    assert error.status is None
    assert "unreachable" in str(error)
    assert len(registry.requests) == 2
    assert registry.total() == 1


def test_fail_answers_a_status_for_some_requests_then_stores_again() -> None:
    with fake_registry() as registry, client(registry) as sdk:
        registry.fail(429, times=2, retry_after=7)
        limited = [refusal(lambda: sdk.send_batch(batch())) for _ in range(2)]
        assert sdk.send_batch(batch()).status == "stored"
        registry.fail(503)
        outage = [refusal(lambda: sdk.send_batch(batch())) for _ in range(3)]
        registry.recover()
        assert sdk.send_batch(batch()).status == "stored"
    assert [(e.status, e.retry_after) for e in limited] == [(429, 7)] * 2
    assert [e.status for e in outage] == [503] * 3
    assert registry.total() == 2
    assert registry.problems == []  # faults are the test's doing, not bad input


def test_an_answer_lost_after_storing_makes_the_retry_a_duplicate() -> None:
    sent = batch(row(count=3))
    with fake_registry() as registry, client(registry) as sdk:
        registry.fail(504, times=1, after_storing=True)
        lost = refusal(lambda: sdk.send_batch(sent))
        again = sdk.send_batch(sent)
    assert lost.status == 504
    assert again.duplicate
    assert registry.batches == [sent]
    assert registry.total() == 3


@pytest.mark.parametrize(("status", "times"), [(404, None), (200, None), (503, 0)])
def test_fail_takes_only_a_fault(status: int, times: int | None) -> None:
    with fake_registry() as registry, pytest.raises(ValueError, match=r"times|429 or a 5xx"):
        registry.fail(status, times=times)


def test_the_registry_is_gone_after_the_block() -> None:
    with fake_registry() as registry:
        pass
    with client(registry) as sdk:
        assert refusal(lambda: sdk.send_batch(batch())).status is None
    assert registry.batches == []


def test_a_base_url_with_a_path_is_served_under_it() -> None:
    with fake_registry(url="https://registre.example/api") as registry, client(registry) as sdk:
        assert sdk.send_batch(batch()).status == "stored"
        with httpx.Client(transport=registry.transport) as http:
            outside = http.post("https://registre.example/v1/disclosures", json=batch())
    assert outside.status_code == 404


# --- with the logger and the middleware -----------------------------------------------


def logger_for(registry: FakeRegistry, **options: Any) -> DisclosureLogger:
    return DisclosureLogger(
        SERVICE,
        registry.url,
        registry.token,
        transport=registry.transport,
        clock=lambda: NOW,
        random=lambda: 0.0,
        **options,
    )


async def test_the_middleware_and_logger_counts_reach_the_fake() -> None:
    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        page = "<!doctype html><html lang=fr><head></head><body><main>x</main></body></html>"
        await HTMLResponse(page)(scope, receive, send)

    with fake_registry(EXAMPLE_MANIFEST) as registry:
        logger = logger_for(registry)
        wrapped = AIDisclosureMiddleware(app, EXAMPLE_MANIFEST, logger=logger)
        transport = httpx.ASGITransport(wrapped)
        async with httpx.AsyncClient(transport=transport, base_url="http://portail") as http:
            pages = [await http.get("/dechets/assistant") for _ in range(3)]
            await http.get("/actualites")
        assert await logger.flush()
        await logger.aclose()
    for page in pages:
        assert_disclosed(page, notice=True)
    assert registry.counts == {DayCount(SERVICE, SYSTEM, window()[:10]): len(pages)}
    [sent] = registry.batches
    assert {r["route"] for r in sent["counts"]} == {"/dechets/assistant*"}


async def test_the_logger_keeps_counts_through_an_outage_and_sends_them_once() -> None:
    with fake_registry(EXAMPLE_MANIFEST) as registry:
        logger = logger_for(registry, backoff_base=0.01)
        registry.down = True
        for _ in range(5):
            logger.record(SYSTEM, "/dechets/assistant*", "ai-originated", True, "fr")
        assert not await logger.flush()
        registry.recover()
        registry.fail(500, times=1)
        assert not await logger.flush()
        assert await logger.flush()
        await logger.aclose()
    assert registry.total(SYSTEM) == 5
    assert len(registry.requests) >= 3


async def test_the_logger_never_counts_twice_when_answers_are_lost() -> None:
    with fake_registry(EXAMPLE_MANIFEST) as registry:
        logger = logger_for(registry, backoff_base=0.01)
        for _ in range(4):
            logger.record(SYSTEM, "/dechets/assistant*", "ai-originated", True, "fr")
        registry.fail(502, times=2, after_storing=True)
        delivered = [await logger.flush() for _ in range(3)]
        await logger.aclose()
    assert delivered == [False, False, True]
    assert [r.url.path for r in registry.requests] == ["/v1/disclosures"] * 3
    assert registry.total(SYSTEM) == 4
    assert logger.stats()["batches_duplicate"] == 1


def test_the_loggers_blocking_close_reaches_the_fake_too() -> None:
    """No event loop: the logger's exit path sends with the blocking client, which
    takes the same transport (``MockTransport`` is both kinds)."""
    with fake_registry(EXAMPLE_MANIFEST) as registry:
        logger = logger_for(registry)
        logger.record(SYSTEM, "/dechets/assistant*", "ai-originated", False, "en")
        logger.close()
    assert registry.total(SYSTEM) == 1
    [sent] = registry.batches
    assert [(r["notice_shown"], r["language"]) for r in sent["counts"]] == [(False, "en")]


async def test_the_async_client_and_decisions() -> None:
    decision = {"system": "detection-fuites", "reference": "DOS-1", "at": window()}
    sent = batch(row(), decisions=[decision, decision | {"at": window(NOW - 60)}])
    with fake_registry(EXAMPLE_MANIFEST) as registry:
        async with AsyncRegistryClient(
            registry.url, registry.token, transport=registry.transport
        ) as sdk:
            assert (await sdk.send_batch(sent)).status == "stored"
    assert registry.decisions == sent["decisions"]
    assert registry.dropped == 0


def test_dropped_counts_are_summed() -> None:
    with fake_registry() as registry, client(registry) as sdk:
        sdk.send_batch(batch(dropped=2))
        sdk.send_batch(batch(dropped=3))
    assert registry.dropped == 2 + 3


# --- the same answers as the real registry -------------------------------------------


def _cases(token: str) -> list[tuple[str, str, str, dict[str, str], bytes]]:
    """(name, method, path, headers, body): one of each answer the write API gives."""
    auth = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    now = time.time()
    good = batch(row(window_start=window(now)))

    def body(data: object) -> bytes:
        return json.dumps(data).encode()

    manifest = dict(load_manifest(EXAMPLE_MANIFEST).raw)
    plain = json.loads(json.dumps(manifest, default=dict))
    renamed = plain | {"service": plain["service"] | {"name": "Démarches"}}
    post, put = "/v1/disclosures", f"/v1/services/{SERVICE}/manifest"
    return [
        ("stored", "POST", post, auth, body(good)),
        ("duplicate", "POST", post, auth, body(good)),
        ("conflict", "POST", post, auth, body(good | {"counts": [row(count=7)]})),
        ("gzip", "POST", post, auth | {"Content-Encoding": "gzip"}, gzip.compress(body(batch()))),
        ("invalid", "POST", post, auth, body(batch(row(mode="ai-made")))),
        ("not-a-day", "POST", post, auth, body(batch(row(window_start="2026-02-30T10:00:00Z")))),
        (
            "unknown",
            "POST",
            post,
            auth,
            body(batch(row("robot-inconnu", window_start=window(now)))),
        ),
        ("other-service", "POST", post, auth, body(batch(service="voirie"))),
        ("no-token", "POST", post, {"Content-Type": "application/json"}, body(batch())),
        ("bad-token", "POST", post, auth | {"Authorization": "Bearer aidr_nope"}, body(batch())),
        ("text", "POST", post, auth | {"Content-Type": "text/plain"}, body(batch())),
        ("bad-gzip", "POST", post, auth | {"Content-Encoding": "gzip"}, b"nope"),
        ("bad-json", "POST", post, auth, b'{"batch_id": '),
        ("get", "GET", post, auth, b""),
        ("nowhere", "POST", "/v1/nowhere", auth, b"{}"),
        ("manifest-same", "PUT", put, auth, body(plain)),
        ("manifest-other", "PUT", "/v1/services/voirie/manifest", auth, body(plain)),
        ("manifest-invalid", "PUT", put, auth, body({"service": {"id": SERVICE}})),
        ("manifest-changed", "PUT", put, auth, body(renamed)),
    ]


def _answer(response: httpx.Response) -> tuple[object, ...]:
    data = response.json()
    if response.headers["content-type"].startswith("application/problem+json"):
        pointers = sorted(e.get("pointer", "") for e in data.get("errors", ()))
        return (response.status_code, data["type"], data["title"], data["detail"], pointers)
    return (response.status_code, data)


@pytest.fixture
async def real_registry(tmp_path: Path) -> AsyncIterator[tuple[str, httpx.AsyncBaseTransport]]:
    from .logging_e2e.conftest import lifespan, new_registry

    under_test = await new_registry(tmp_path)
    async with lifespan(under_test.app):
        async with under_test.client() as sdk:
            await sdk.push_manifest(EXAMPLE_MANIFEST)
        yield under_test.token, httpx.ASGITransport(under_test.app)


async def test_the_fake_answers_each_request_as_the_real_registry_does(
    real_registry: tuple[str, httpx.AsyncBaseTransport],
) -> None:
    token, real = real_registry
    cases = _cases(token)
    with fake_registry(EXAMPLE_MANIFEST, token=token) as registry:
        transports = {"real": real, "fake": registry.transport}
        answers: dict[str, list[tuple[object, ...]]] = {"real": [], "fake": []}
        for name, transport in transports.items():
            async with httpx.AsyncClient(transport=transport, base_url=registry.url) as http:
                for _, method, path, headers, content in cases:
                    response = await http.request(method, path, headers=headers, content=content)
                    answers[name].append(_answer(response))
    for (case, *_), real_answer, fake_answer in zip(
        cases, answers["real"], answers["fake"], strict=True
    ):
        assert fake_answer == real_answer, case
    assert {a[0] for a in answers["fake"]} >= {
        200,
        201,
        202,
        400,
        401,
        403,
        404,
        405,
        409,
        415,
        422,
    }
