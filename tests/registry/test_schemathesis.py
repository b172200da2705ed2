"""Property-based API testing from /openapi.json (schemathesis, when installed):
no input makes the registry fail, and every answer matches the document."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from .conftest import Backend, batch, example_manifest, row

schemathesis = pytest.importorskip("schemathesis")
from schemathesis.checks import not_a_server_error  # noqa: E402
from schemathesis.specs.openapi.checks import (  # noqa: E402
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)


def _issue(backend: Backend) -> str:
    from ai_disclosure.registry.db import create_engine
    from ai_disclosure.registry.tokens import issue_token

    async def make() -> str:
        engine = create_engine(backend.url, connect_args=backend.connect_args)
        try:
            return (await issue_token(engine, "demarches"))[1]
        finally:
            await engine.dispose()

    return asyncio.run(make())


@pytest.fixture
def seeded(server: str, backend: Backend) -> tuple[str, str]:
    """The running registry with the example manifest, a few counts and a decision; its
    token."""
    token = _issue(backend)
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=server, headers=headers) as client:
        assert (
            client.put("/v1/services/demarches/manifest", json=example_manifest()).status_code
            == 201
        )
        assert client.post("/v1/disclosures", json=batch([row()])).status_code == 202
        logged = {"system": "detection-fuites", "reference": "A", "at": "2026-11-26T10:00:00Z"}
        body = batch([], decisions=[logged])
        assert client.post("/v1/disclosures", json=body).status_code == 202
    return server, token


def _fuzz(operation: Any, base: str, headers: dict[str, str], checks: list[Any]) -> None:
    @given(case=operation.as_strategy())
    @settings(
        max_examples=20,
        deadline=None,
        database=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case: Any) -> None:
        case.call_and_validate(base_url=base, headers=headers, checks=checks)

    check()


def test_api_never_fails_and_matches_its_document(seeded: tuple[str, str]) -> None:
    base, token = seeded
    schema = schemathesis.openapi.from_url(base + "/openapi.json")
    checks = [
        not_a_server_error,
        status_code_conformance,
        content_type_conformance,
        response_schema_conformance,
    ]
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, [o.label for o in operations]
    for operation in operations:
        secured = "security" in operation.definition.raw
        _fuzz(operation, base, {"Authorization": f"Bearer {token}"} if secured else {}, checks)
