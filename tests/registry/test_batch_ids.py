"""Batch ids are unique per service: another service's id tells nothing and drops
nothing; the same id with other content is a 409, never a silent duplicate."""

from __future__ import annotations

import asyncio
import copy
from typing import Any

from sqlalchemy import select

from ai_disclosure.registry.tables import batches

from .conftest import Harness, batch, example_manifest, row
from .test_ingest import assert_problem, total

OTHER = "voirie"


async def other_service(harness: Harness) -> str:
    """A second service, with the example's systems under its own id; its token."""
    token = await harness.token(OTHER)
    manifest = example_manifest()
    manifest["service"]["id"] = OTHER
    assert (await harness.publish(token, manifest)).status_code == 201
    return token


async def test_another_services_batch_id_is_a_new_batch(harness: Harness) -> None:
    ours = await harness.ready()
    theirs = await other_service(harness)
    their_batch = batch([row(count=5), row(language="en", count=1), row(count=1)], service=OTHER)
    assert (await harness.send(theirs, their_batch)).status_code == 202

    # Same id, our service: stored as ours, and nothing said about theirs.
    our_batch = {**batch([row(count=2)]), "batch_id": their_batch["batch_id"]}
    response = await harness.send(ours, our_batch)
    assert response.status_code == 202, response.text
    assert response.json() == {"batch_id": our_batch["batch_id"], "status": "stored", "records": 1}
    assert await total(harness, service="demarches") == 2
    assert await total(harness, service=OTHER) == 7

    # Each replay is its own service's duplicate.
    again = await harness.send(ours, our_batch)
    assert again.status_code == 200
    assert again.json()["records"] == 1
    assert (await harness.send(theirs, their_batch)).json()["records"] == 3
    assert await total(harness) == 9


async def test_same_id_other_content_is_409_and_stores_nothing(harness: Harness) -> None:
    token = await harness.ready()
    first = batch([row(count=5)])
    assert (await harness.send(token, first)).status_code == 202
    for change in (
        {"counts": [row(count=6)]},
        {"counts": [row(count=5), row(language="en")]},
        {"dropped": 3},
        {
            "decisions": [
                {"system": "detection-fuites", "reference": "A-1", "at": "2026-11-26T10:00:00Z"}
            ]
        },
    ):
        response = await harness.send(token, {**first, **change})
        problem = assert_problem(response, 409, "batch-conflict")
        assert problem["errors"][0]["pointer"] == "/batch_id"
        assert first["batch_id"] in problem["detail"]
    assert await total(harness) == 5
    assert (await harness.send(token, first)).status_code == 200


async def test_replay_is_a_duplicate_whatever_the_metadata_or_row_order(harness: Harness) -> None:
    """The digest covers what is stored: reordered rows, another ``sent_at`` or
    ``sdk`` are the same batch."""
    token = await harness.ready()
    first = batch([row(count=5), row(language="en", count=2)], sent_at="2026-11-26T10:01:00Z")
    assert (await harness.send(token, first)).status_code == 202
    replay = copy.deepcopy(first)
    replay["counts"].reverse()
    replay["sent_at"] = "2026-11-26T10:05:00Z"
    replay["sdk"] = {"name": "ai-disclosure-python", "version": "9.9"}
    response = await harness.send(token, replay)
    assert response.status_code == 200
    assert response.json()["status"] == "duplicate"
    assert await total(harness) == 7


async def test_conflict_after_the_system_was_removed_is_still_409(harness: Harness) -> None:
    token = await harness.ready()
    first = batch([row(count=4)])
    assert (await harness.send(token, first)).status_code == 202
    manifest = example_manifest()
    manifest["systems"] = [s for s in manifest["systems"] if s["id"] != "assistant-dechets"]
    manifest["routes"] = [r for r in manifest["routes"] if "assistant-dechets" not in r["systems"]]
    assert (await harness.publish(token, manifest)).status_code == 201
    assert (await harness.send(token, first)).status_code == 200
    changed = {**first, "counts": [row(count=40)]}
    assert_problem(await harness.send(token, changed), 409, "batch-conflict")
    # Another service's id is not ours: its undeclared system is just refused.
    theirs = await other_service(harness)
    their_batch = batch([row(count=1)], service=OTHER)
    assert (await harness.send(theirs, their_batch)).status_code == 202
    reused = {**batch([row(count=1)]), "batch_id": their_batch["batch_id"]}
    assert_problem(await harness.send(token, reused), 422, "unknown-system")


async def test_concurrent_same_id_other_content_stores_one(make_harness: Any) -> None:
    harnesses = [await make_harness() for _ in range(6)]
    token = await harnesses[0].ready()
    first = batch([row(count=3)])
    variants = [{**first, "counts": [row(count=3 + (n % 2))]} for n in range(6)]
    responses = await asyncio.gather(
        *(h.send(token, body) for h, body in zip(harnesses, variants, strict=True))
    )
    statuses = sorted(r.status_code for r in responses)
    assert statuses.count(202) == 1
    assert set(statuses) <= {200, 202, 409}
    assert statuses.count(409) == 3  # the three copies of the other content
    assert await total(harnesses[0]) in (3, 4)


async def test_digest_is_stored(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row()])
    assert (await harness.send(token, body)).status_code == 202
    store = await harness.store()
    async with store.engine.connect() as connection:
        digest = (await connection.execute(select(batches.c.digest))).scalar()
    assert isinstance(digest, str)
    assert len(digest) == 64
