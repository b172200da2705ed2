"""RegistryClient and AsyncRegistryClient: requests sent, answers read, problems raised."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from ai_disclosure import ManifestError, load_manifest
from ai_disclosure._aggregate import Aggregator, Batch
from ai_disclosure.client import (
    AsyncRegistryClient,
    ManifestPushed,
    ProblemField,
    RegistryClient,
    RegistryError,
    clean_token,
    encode_batch,
)
from ai_disclosure.testing import FakeRegistry, fake_registry

from .conftest import EXAMPLE_MANIFEST, MINIMAL_MANIFEST

Handler = Callable[[httpx.Request], httpx.Response]
BASE = "https://registre.example/api"


def batch() -> Batch:
    agg = Aggregator("demarches", clock=lambda: 1_795_600_800.0)
    agg.record("assistant-dechets", "/dechets/assistant*", "ai-originated", True, "fr")
    [b] = agg.drain(final=True)
    return b


class Recorder:
    """Answers every request with ``answer``: for the reads, which the fake registry
    does not serve, and for answers no registry gives (an HTML gateway error)."""

    def __init__(self, answer: httpx.Response) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer

    @property
    def request(self) -> httpx.Request:
        [request] = self.requests
        return request


def sync_client(handler: Handler, token: str | None = "secret") -> RegistryClient:
    return RegistryClient(BASE, token, transport=httpx.MockTransport(handler))


def async_client(handler: Handler, token: str | None = "secret") -> AsyncRegistryClient:
    return AsyncRegistryClient(BASE, token, transport=httpx.MockTransport(handler))


def fake_client(registry: FakeRegistry) -> RegistryClient:
    return RegistryClient(BASE, registry.token, transport=registry.transport)


def problem(code: int, **body: Any) -> httpx.Response:
    return httpx.Response(code, json=body, headers={"content-type": "application/problem+json"})


def test_push_manifest_from_a_path() -> None:
    manifest = load_manifest(EXAMPLE_MANIFEST)
    service = manifest.service.id
    with fake_registry(url=BASE, token="secret") as registry, fake_client(registry) as client:
        first = client.push_manifest(EXAMPLE_MANIFEST)
        again = client.push_manifest(EXAMPLE_MANIFEST)
    assert first == ManifestPushed(service=service, version=1, changed=True)
    assert again == ManifestPushed(service=service, version=1, changed=False)
    request = registry.requests[0]
    assert request.method == "PUT"
    assert request.url.path == f"/api/v1/services/{service}/manifest"
    assert request.headers["authorization"] == "Bearer secret"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == json.loads(json.dumps(dict(manifest.raw)))


def test_push_manifest_accepts_a_loaded_manifest() -> None:
    manifest = load_manifest(MINIMAL_MANIFEST)
    with fake_registry(url=BASE) as registry, fake_client(registry) as client:
        assert client.push_manifest(manifest).changed
    assert registry.manifests[manifest.service.id]["service"]["id"] == manifest.service.id


def test_an_invalid_manifest_is_refused_before_any_request() -> None:
    with (
        fake_registry(url=BASE) as registry,
        fake_client(registry) as client,
        pytest.raises(ManifestError),
    ):
        client.push_manifest({"service": {"id": "Bad Id"}})
    assert registry.requests == []


def test_send_batch() -> None:
    b = batch()
    rows = len(b.to_json()["counts"])
    with fake_registry(url=BASE) as registry, fake_client(registry) as client:
        sent, again = client.send_batch(b), client.send_batch(b)
    request = registry.requests[0]
    assert (request.method, request.url.path) == ("POST", "/api/v1/disclosures")
    assert request.headers["content-encoding"] == "gzip"
    assert json.loads(gzip.decompress(request.content)) == b.to_json()
    assert (sent.batch_id, sent.status, sent.records) == (b.batch_id, "stored", rows)
    assert (again.batch_id, again.status, again.records) == (b.batch_id, "duplicate", rows)
    assert (sent.duplicate, again.duplicate) == (False, True)
    assert registry.batches == [b.to_json()]


def test_send_batch_uncompressed_from_a_mapping() -> None:
    data = batch().to_json()
    with fake_registry(url=BASE) as registry, fake_client(registry) as client:
        sent = client.send_batch(data, compress=False)
    [request] = registry.requests
    assert "content-encoding" not in request.headers
    assert json.loads(request.content) == data
    assert sent.batch_id == data["batch_id"]
    assert registry.batches == [data]


def test_problem_details_are_carried_by_registry_error() -> None:
    data = batch().to_json()
    data["counts"][0]["system"] = "robot-inconnu"
    with (
        fake_registry(EXAMPLE_MANIFEST, url=BASE) as registry,
        fake_client(registry) as client,
        pytest.raises(RegistryError) as caught,
    ):
        client.send_batch(data)
    [answer] = registry.problems
    error = caught.value
    assert error.status == answer["status"] == 422
    assert error.title == answer["title"]
    assert error.detail == answer["detail"]
    assert error.type == answer["type"]
    assert error.type.endswith("/unknown-system")
    [field] = answer["errors"]
    assert error.errors == (ProblemField("/counts/0/system", field["detail"]),)
    assert f"/counts/0/system: {field['detail']}" in str(error)


def test_a_non_problem_error_still_raises_registry_error() -> None:
    answer = httpx.Response(502, text="<html>Bad gateway</html>", headers={"Retry-After": "5"})
    with sync_client(Recorder(answer)) as client, pytest.raises(RegistryError) as caught:
        client.stats()
    assert (caught.value.status, caught.value.title) == (502, "Bad Gateway")
    assert caught.value.retry_after == 5
    assert caught.value.errors == ()


def test_unreachable_registry_raises_registry_error_without_status() -> None:
    with fake_registry(url=BASE) as registry, fake_client(registry) as client:
        registry.down = True
        with pytest.raises(RegistryError) as caught:
            client.system_entry("demarches", "assistant-dechets")
    assert caught.value.status is None
    assert "unreachable" in str(caught.value)


def test_system_entry_and_stats_requests() -> None:
    entry = {"service": "demarches", "system": "assistant-dechets", "counts": {"total": 3}}
    recorder = Recorder(httpx.Response(200, json=entry))
    with sync_client(recorder, token=None) as client:
        assert client.system_entry("demarches", "assistant-dechets") == entry
        client.stats(service="demarches", from_=dt.date(2026, 11, 1), to="2026-11-30")
    first, second = recorder.requests
    assert first.url.path == "/api/v1/systems/demarches/assistant-dechets"
    assert "authorization" not in first.headers
    assert second.url.path == "/api/v1/stats"
    assert dict(second.url.params) == {
        "service": "demarches",
        "from": "2026-11-01",
        "to": "2026-11-30",
    }


async def test_async_client_speaks_the_same_protocol() -> None:
    recorder = Recorder(httpx.Response(202, json={"batch_id": "b", "status": "stored"}))
    async with async_client(recorder) as client:
        sent = await client.send_batch(batch())
        assert sent.status == "stored"
        recorder.answer = httpx.Response(201, json={"service": "d", "version": 1})
        pushed = await client.push_manifest(MINIMAL_MANIFEST)
        assert pushed.changed
        recorder.answer = httpx.Response(200, json={"total": 1})
        assert await client.stats(system="assistant-dechets") == {"total": 1}
        assert await client.system_entry("d", "s") == {"total": 1}
        recorder.answer = problem(401, title="Unauthorized", status=401, detail="bad token")
        with pytest.raises(RegistryError, match="401 Unauthorized: bad token"):
            await client.send_batch(batch())
    assert [r.method for r in recorder.requests] == ["POST", "PUT", "GET", "GET", "POST"]


def test_a_token_over_plain_http_to_another_machine_is_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level("WARNING", logger="ai_disclosure.logging"):
        RegistryClient("http://127.0.0.1:8400", "t").close()  # loopback: fine
        RegistryClient("https://registre.example", "t").close()  # https: fine
        RegistryClient("http://registre.example", None).close()  # no token: fine
        RegistryClient("http://registre.example", "t").close()
        RegistryClient("http://registre.example", "t").close()
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == [
        "the registry token is sent in clear text to http://registre.example: use https:// "
        "for a register on another machine"
    ]


# --- tokens and failed exchanges ------------------------------------------------------


def test_a_token_is_used_without_surrounding_whitespace() -> None:
    recorder = Recorder(httpx.Response(200, json={}))
    with sync_client(recorder, token="\t aidr_abc \n") as client:
        client.stats()
    assert recorder.request.headers["authorization"] == "Bearer aidr_abc"
    assert clean_token("  \n") is None


@pytest.mark.parametrize("token", ["aidr_ab\ncd", "aidr_ab cd", "aidr_abcé", "aidr_ab\x00"])
def test_a_token_that_cannot_be_one_is_refused_without_being_repeated(token: str) -> None:
    with pytest.raises(ValueError, match="registry token") as caught:
        RegistryClient(BASE, token)
    assert "aidr_ab" not in str(caught.value)


@pytest.mark.parametrize(
    ("fault", "title"),
    [
        (httpx.ConnectError("[Errno 111] Connection refused"), "registry unreachable at"),
        (httpx.ConnectError("[Errno -2] Name or service not known"), "registry unreachable at"),
        (httpx.ConnectTimeout("timed out"), "registry unreachable at"),
        (httpx.ReadError("reset by peer"), "the connection to the registry at"),
        (httpx.LocalProtocolError("Illegal header value b'Bearer secret'"), "could not send"),
    ],
)
async def test_a_failed_exchange_names_the_registry_and_no_secret(
    fault: Exception, title: str
) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise fault

    url = "https://user:pw@registre.example/api?x=1"
    with RegistryClient(url, "secret", transport=httpx.MockTransport(fail)) as client:
        with pytest.raises(RegistryError) as caught:
            client.stats()
        check_failed_exchange(caught.value, title)
    async with AsyncRegistryClient(url, "secret", transport=httpx.MockTransport(fail)) as aclient:
        with pytest.raises(RegistryError) as caught:
            await aclient.stats()
        check_failed_exchange(caught.value, title)


def check_failed_exchange(error: RegistryError, title: str) -> None:
    assert error.status is None
    assert error.title.startswith(title)
    assert "https://registre.example/api" in error.title
    assert "pw" not in str(error)
    assert "secret" not in str(error)
    assert error.__cause__ is None  # the original message stays out of tracebacks
    assert ("unreachable" in str(error)) == ("unreachable" in title)


def test_resend_posts_the_body_as_it_was() -> None:
    b = batch()
    body = encode_batch(b)
    with fake_registry(url=BASE) as registry, fake_client(registry) as client:
        first, sent = client.resend(body, b.batch_id), client.resend(body, b.batch_id)
    assert (first.status, sent.status) == ("stored", "duplicate")
    request = registry.requests[-1]
    assert request.content == body
    assert request.headers["content-encoding"] == "gzip"
    assert request.url.path == "/api/v1/disclosures"
    assert registry.batches == [b.to_json()]


# --- one method set for both clients --------------------------------------------------


def public_methods(cls: type) -> set[str]:
    return {name for name in dir(cls) if not name.startswith("_") and callable(getattr(cls, name))}


def test_both_clients_have_the_same_methods() -> None:
    sync = public_methods(RegistryClient) - {"close"}
    asynchronous = public_methods(AsyncRegistryClient) - {"aclose"}
    assert sync == asynchronous
    assert {"post_body", "resend", "send_batch", "decision"} <= sync


async def test_each_method_sends_the_same_request_from_both_clients() -> None:
    body = encode_batch(batch())
    sync_seen, async_seen = (
        Recorder(httpx.Response(200, json={"batch_id": "b", "status": "duplicate"}))
        for _ in range(2)
    )
    with sync_client(sync_seen) as client:
        client.resend(body, "b")
        client.post_body(body)
        client.post_body(b"{}", compressed=False)
        client.decision("demarches", "DOS-1")
        client.system_entry("demarches", "assistant-dechets")
        client.stats(service="demarches", from_=dt.date(2026, 11, 1))
    async with async_client(async_seen) as aclient:
        assert (await aclient.resend(body, "b")).duplicate
        await aclient.post_body(body)
        await aclient.post_body(b"{}", compressed=False)
        await aclient.decision("demarches", "DOS-1")
        await aclient.system_entry("demarches", "assistant-dechets")
        await aclient.stats(service="demarches", from_=dt.date(2026, 11, 1))

    def seen(recorder: Recorder) -> list[tuple[str, str, bytes, str | None]]:
        return [
            (r.method, str(r.url), r.content, r.headers.get("content-encoding"))
            for r in recorder.requests
        ]

    assert seen(sync_seen) == seen(async_seen)
    assert seen(sync_seen)[1][3] == "gzip"
    assert seen(sync_seen)[2][3] is None


async def test_post_body_returns_any_answer_and_send_batch_raises_from_both() -> None:
    def refusal() -> httpx.Response:
        return problem(422, title="Unprocessable", status=422)

    body = encode_batch(batch())
    with sync_client(Recorder(refusal())) as client:
        assert client.post_body(body).status_code == 422
        with pytest.raises(RegistryError, match="422 Unprocessable"):
            client.send_batch(batch())
    async with async_client(Recorder(refusal())) as aclient:
        assert (await aclient.post_body(body)).status_code == 422
        with pytest.raises(RegistryError, match="422 Unprocessable"):
            await aclient.send_batch(batch())


async def test_an_unreachable_registry_is_a_registry_error_for_batches_too() -> None:
    with fake_registry(url=BASE) as registry:
        registry.down = True
        with fake_client(registry) as client, pytest.raises(RegistryError, match="unreachable"):
            client.send_batch(batch())
        async with AsyncRegistryClient(BASE, "t", transport=registry.transport) as aclient:
            with pytest.raises(RegistryError, match="unreachable"):
                await aclient.send_batch(batch())
            with pytest.raises(httpx.ConnectError):  # the logger classifies these itself
                await aclient.post_body(b"")
    assert len(registry.requests) == 3
