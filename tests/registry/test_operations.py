"""/healthz and /metrics: what a monitor sees, and nothing a citizen typed."""

from __future__ import annotations

import asyncio
import logging
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ai_disclosure.registry import create_app

from .conftest import Backend, Harness, batch, row, settings

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


def samples(text: str) -> Samples:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def request_count(found: Samples, route: str, method: str, status: str) -> float:
    key = (
        "ai_disclosure_registry_requests_total",
        (("method", method), ("route", route), ("status", status)),
    )
    return found.get(key, 0.0)


async def test_healthz_when_the_database_answers(harness: Harness) -> None:
    response = await harness.client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["x-content-type-options"] == "nosniff"


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///{tmp}/no-such-directory/registry.sqlite3",
        "postgresql+asyncpg://postgres@127.0.0.1:1/test",
    ],
)
@pytest.mark.parametrize("migrate", [False, True])
async def test_healthz_when_the_database_is_unreachable(
    url: str, migrate: bool, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="ai_disclosure.registry")
    before = set(threading.enumerate())
    app = create_app(url.format(tmp=tmp_path), settings=settings(migrate=migrate))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as client:
        try:
            await _probe_three_times(client, tmp_path)
        finally:
            await app.state.registry.close()
            await _workers_stopped(before)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 1  # logged once, not at every probe
    assert "postgres@" not in errors[0].getMessage()
    assert str(tmp_path) not in errors[0].getMessage()


async def _workers_stopped(before: set[threading.Thread]) -> None:
    """aiosqlite stops the worker thread of a failed connection without waiting for
    it: let it finish while this test's loop still runs, or it reports to a closed
    loop (in a later test)."""
    for _ in range(500):
        if not [t for t in threading.enumerate() if t not in before and t.is_alive()]:
            return
        await asyncio.sleep(0.01)


async def _probe_three_times(client: httpx.AsyncClient, tmp_path: Path) -> None:
    for _ in range(3):
        response = await client.get("/healthz")
        assert response.status_code == 503
        assert response.headers["content-type"] == "application/problem+json"
        problem = response.json()
        assert problem["type"].endswith("/problems/unavailable")
        assert "unreachable" in problem["detail"]
        assert "postgres@" not in response.text
        assert str(tmp_path) not in response.text


async def test_metrics_count_requests_and_batches_by_template(harness: Harness) -> None:
    token = await harness.ready()
    stored = batch([row(route="/search?email=jean.dupont@example.org")])
    assert (await harness.send(token, stored)).status_code == 422
    body = batch([row()])
    assert (await harness.send(token, body)).status_code == 202
    assert (await harness.send(token, body)).status_code == 200
    assert (await harness.send("aidr_wrong", batch([row()]))).status_code == 401
    other = body | {"counts": [row(count=2)]}
    assert (await harness.send(token, other)).status_code == 409
    assert (await harness.client.get("/v1/systems/demarches/nobody")).status_code == 404
    assert (await harness.client.get("/v1/systems/demarches/assistant-dechets")).status_code == 200
    assert (await harness.client.get("/nowhere/jean.dupont@example.org")).status_code == 404
    assert (await harness.client.request("BREW", "/v1/systems")).status_code == 405

    response = await harness.client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    for private in ("jean.dupont", "example.org", "nobody", "assistant-dechets", "BREW", token):
        assert private not in text
    found = samples(text)

    def outcome(name: str) -> float:
        return found[("ai_disclosure_registry_batches_total", (("outcome", name),))]

    assert outcome("stored") == 1
    assert outcome("duplicate") == 1
    assert outcome("refused") == 1
    assert outcome("unauthorized") == 1
    assert outcome("conflict") == 1
    assert outcome("throttled") == 0
    assert found[("ai_disclosure_registry_ingest_seconds_count", ())] == 5
    system = "/v1/systems/{service}/{system}"
    assert request_count(found, system, "GET", "4xx") == 1
    assert request_count(found, system, "GET", "2xx") == 1
    assert request_count(found, "/v1/disclosures", "POST", "4xx") == 3
    assert request_count(found, "/v1/services/{service_id}/manifest", "PUT", "2xx") == 1
    assert request_count(found, "unmatched", "GET", "4xx") == 1
    assert request_count(found, "/v1/systems", "other", "4xx") == 1


async def test_metrics_are_per_app(backend: Backend, make_harness: Any) -> None:
    first: Harness = await make_harness()
    second: Harness = await make_harness()
    assert (await first.client.get("/v1/systems")).status_code == 200
    counted = samples((await first.client.get("/metrics")).text)
    assert request_count(counted, "/v1/systems", "GET", "2xx") == 1
    untouched = samples((await second.client.get("/metrics")).text)
    assert request_count(untouched, "/v1/systems", "GET", "2xx") == 0


async def test_operational_endpoints_are_read_only(harness: Harness) -> None:
    for path in ("/metrics", "/healthz"):
        response = await harness.client.post(path)
        assert response.status_code in (404, 405)
