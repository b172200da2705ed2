"""The decision-level log, end to end: a logger with ``decision_log=True`` delivers each
decision to the real registry once - through lost answers, restarts and replays - and the
service can then look it up by its reference."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from ai_disclosure.client import AsyncRegistryClient, RegistryError
from ai_disclosure.registry.db import create_engine
from ai_disclosure.registry.store import Store

from ..conftest import EXAMPLE_MANIFEST
from .conftest import (
    SERVICE,
    SYSTEMS,
    RegistryUnderTest,
    eventually,
    free_port,
    make_logger,
    new_registry,
    record,
    served,
)

DECIDER = "detection-fuites"  # an automated-decision system of the example manifest


async def months(registry: RegistryUnderTest) -> dict[str, int]:
    engine = create_engine(registry.db_url)
    try:
        found = await Store(engine).decision_months(SERVICE, DECIDER)
    finally:
        await engine.dispose()
    return {m.month: m.count for m in found}


async def test_decisions_reach_the_registry_and_can_be_looked_up(
    registry: RegistryUnderTest,
) -> None:
    logger = make_logger(
        registry.url, registry.token, transport=registry.transport(), decision_log=True
    )
    record(logger, 12)
    references = [f"AIDES/2026/{n:05d}" for n in range(25)]
    for reference in references:
        logger.record_decision(DECIDER, reference)
    assert await logger.flush()
    await logger.aclose()
    assert await registry.total() == 12
    assert await registry.decisions() == dict.fromkeys(references, DECIDER)
    stats = logger.stats()
    assert (stats["recorded"], stats["sent"], stats["dropped"]) == (37, 37, 0)
    assert sum((await months(registry)).values()) == 25

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(registry.app), base_url=registry.url
    ) as client:
        response = await client.get(
            f"/v1/services/{SERVICE}/decisions/AIDES/2026/00007",
            headers={"Authorization": f"Bearer {registry.token}"},
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["system"], body["reference"]) == (DECIDER, "AIDES/2026/00007")
        assert body["at"].endswith("Z")
        assert body["system_entry_url"] == f"{registry.url}/systems/{SERVICE}/{DECIDER}"
        page = await client.get(body["system_entry_url"])
        assert page.status_code == 200
        assert "AIDES" not in page.text
        assert 'id="decisions"' in page.text

    # The SDK's client asks the same (the reference's '/' is escaped on the way).
    client_transport = httpx.ASGITransport(registry.app)
    async with AsyncRegistryClient(registry.url, registry.token, transport=client_transport) as sdk:
        looked_up = await sdk.decision(SERVICE, "AIDES/2026/00007")
        assert looked_up["system"] == DECIDER
        with pytest.raises(RegistryError) as caught:
            await sdk.decision(SERVICE, "AIDES/2026/99999")
        assert caught.value.status == 404


async def test_lost_answers_never_store_a_decision_twice(registry: RegistryUnderTest) -> None:
    """The registry stores the batch, the answer is lost, the logger retries: duplicate."""
    registry.faults.trouble_for(1.5)
    logger = make_logger(
        registry.url, registry.token, transport=registry.transport(), decision_log=True
    )
    await logger.start()
    references = [f"DOSSIER-{n:04d}" for n in range(30)]
    for reference in references:
        logger.record_decision(DECIDER, reference)
        record(logger, 1, system=SYSTEMS[1])
    total = len(references) * 2

    async def arrived() -> bool:
        return logger.stats()["sent"] == total

    await eventually(arrived)
    await logger.aclose()
    assert registry.faults.seen["lost-answer"] >= 1
    assert await registry.decisions() == dict.fromkeys(references, DECIDER)
    assert sum((await months(registry)).values()) == len(references)
    assert await registry.total() == len(references)


async def test_spooled_decisions_survive_a_restart_over_real_http(tmp_path: Path) -> None:
    """Decisions spooled while the registry is down are delivered by the next process."""
    registry = await new_registry(tmp_path)
    spool = tmp_path / "spool"
    with served(registry.app) as server:
        async with registry.client() as client:
            await client.push_manifest(EXAMPLE_MANIFEST)
        nowhere = f"http://127.0.0.1:{free_port()}"  # nothing listens: every send fails
        first = make_logger(nowhere, registry.token, decision_log=True, spool_dir=spool)
        for n in range(10):
            first.record_decision(DECIDER, f"CASE-{n}")
        assert not await first.flush()
        await first.aclose(deadline=0.5)
        assert await registry.decisions() == {}

        second = make_logger(server.url, registry.token, decision_log=True, spool_dir=spool)
        await second.start()
        second.record_decision(DECIDER, "CASE-0")  # the same decision, logged again

        async def delivered() -> bool:
            return len(await registry.decisions()) == 10

        await eventually(delivered)
        assert await second.flush()
        await second.aclose()
    assert await registry.decisions() == {f"CASE-{n}": DECIDER for n in range(10)}
    assert sum((await months(registry)).values()) == 10
