"""The decision-level log: decisions stored once, checked like counts, never public; the
service alone can look one up, and the system page shows only how many per month."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import func, select

from ai_disclosure.registry.openapi import openapi_document
from ai_disclosure.registry.tables import batches, counts, decision_months, decisions

from .conftest import SERVICE, Harness, batch, example_manifest, load_batch, row
from .test_ingest import assert_problem, total

SYSTEM = "detection-fuites"


def decision(reference: str, at: str = "2026-11-26T10:00:17Z", system: str = SYSTEM) -> Any:
    return {"system": system, "reference": reference, "at": at}


def with_decisions(items: list[dict[str, Any]], rows: Any = (), **overrides: Any) -> Any:
    return batch(list(rows), decisions=items, **overrides)


async def stored(harness: Harness) -> list[tuple[str, str, str, str]]:
    store = await harness.store()
    query = select(
        decisions.c.service, decisions.c.system, decisions.c.reference, decisions.c.at
    ).order_by(decisions.c.reference, decisions.c.system)
    async with store.engine.connect() as connection:
        return [tuple(r) for r in (await connection.execute(query)).all()]


async def months(harness: Harness) -> dict[tuple[str, str], int]:
    store = await harness.store()
    query = select(decision_months.c.system, decision_months.c.month, decision_months.c.count)
    async with store.engine.connect() as connection:
        return {(r.system, r.month): int(r.count) for r in (await connection.execute(query))}


async def lookup(harness: Harness, token: str | None, reference: str, **params: str) -> Any:
    service = params.pop("service", SERVICE)
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return await harness.client.get(
        f"/v1/services/{service}/decisions/{reference}", headers=headers
    )


# --- ingest -----------------------------------------------------------------------------


async def test_decisions_are_stored_with_the_counts(harness: Harness) -> None:
    token = await harness.ready()
    body = load_batch("valid", "counts-and-decisions.json")
    response = await harness.send(token, body)
    assert response.status_code == 202, response.text
    assert response.json() == {"batch_id": body["batch_id"], "status": "stored", "records": 2}
    assert await total(harness) == 45
    assert await stored(harness) == [(SERVICE, SYSTEM, "R:2026:000001", "2026-11-26T10:00:05Z")]
    assert await months(harness) == {(SYSTEM, "2026-11"): 1}


async def test_a_decision_is_stored_once_across_replays(harness: Harness) -> None:
    token = await harness.ready()
    body = load_batch("valid", "decisions.json")
    first = await harness.send(token, body)
    assert first.status_code == 202, first.text
    assert first.json()["records"] == 0  # count rows; decisions are not rows
    assert (await harness.send(token, body)).json()["status"] == "duplicate"
    # The same decisions again under new batch ids (a sender that lost track of its
    # batch id), alone or with a new one, and twice within one batch.
    again = [*body["decisions"], decision("DOSSIER-2026-00043", "2026-12-01T08:00:00Z")]
    assert (await harness.send(token, with_decisions(again))).status_code == 202
    twice = [again[0], {**again[0], "at": "2026-11-26T09:00:00Z"}, again[0]]
    assert (await harness.send(token, with_decisions(twice))).status_code == 202
    assert await stored(harness) == [
        (SERVICE, SYSTEM, "DOSSIER-2026-00042", "2026-11-26T10:00:17Z"),
        (SERVICE, SYSTEM, "DOSSIER-2026-00043", "2026-12-01T08:00:00Z"),
        (SERVICE, SYSTEM, "aides/2026/COURRIER.1187", "2026-11-26T10:00:41Z"),
    ]
    assert await months(harness) == {(SYSTEM, "2026-11"): 2, (SYSTEM, "2026-12"): 1}


async def test_the_same_reference_is_one_decision_per_system(harness: Harness) -> None:
    token = await harness.ready()
    items = [
        decision("CASE-1", "2026-11-26T10:00:00Z"),
        decision("CASE-1", "2026-11-26T09:00:00Z", system="tri-courrier"),
    ]
    assert (await harness.send(token, with_decisions(items))).status_code == 202
    assert len(await stored(harness)) == 2
    assert await months(harness) == {(SYSTEM, "2026-11"): 1, ("tri-courrier", "2026-11"): 1}


async def test_same_decisions_from_concurrent_batches_are_stored_once(make_harness: Any) -> None:
    harnesses = [await make_harness() for _ in range(6)]
    token = await harnesses[0].ready()
    references = [f"DOSSIER-{n:05d}" for n in range(40)]

    async def writer(harness: Harness, seed: int) -> None:
        # Every writer sends the same decisions, in a different order, under its own id.
        chosen = references[seed:] + references[:seed]
        response = await harness.send(token, with_decisions([decision(r) for r in chosen]))
        assert response.status_code == 202, response.text

    await asyncio.gather(*(writer(h, seed) for seed, h in enumerate(harnesses)))
    assert len(await stored(harnesses[0])) == 40
    assert await months(harnesses[0]) == {(SYSTEM, "2026-11"): 40}


async def test_decisions_and_counts_are_one_transaction(harness: Harness) -> None:
    """If storing the decisions fails, nothing of the batch stays, and a retry stores it."""
    token = await harness.ready()
    store = await harness.store()
    body = with_decisions([decision("DOSSIER-1")], [row(count=5)])
    good_sql = store._months_sql
    store._months_sql = "SELECT no_such_column FROM decisions"
    try:
        failed = await harness.send(token, body)
    finally:
        store._months_sql = good_sql
    assert_problem(failed, 500, "server-error")
    assert await total(harness) == 0
    assert await stored(harness) == []
    async with store.engine.connect() as connection:
        claimed = (await connection.execute(select(func.count()).select_from(batches))).scalar()
    assert claimed == 0
    retried = await harness.send(token, body)
    assert retried.status_code == 202
    assert retried.json()["status"] == "stored"
    assert await total(harness) == 5
    assert len(await stored(harness)) == 1


async def test_decision_for_an_undeclared_system_is_422_with_its_pointer(harness: Harness) -> None:
    token = await harness.ready()
    items = [decision("A-1"), decision("A-2", system="inconnu"), decision("A-3")]
    body = with_decisions(items, [row(count=3), row(system="autre")])
    problem = assert_problem(await harness.send(token, body), 422, "unknown-system")
    assert [e["pointer"] for e in problem["errors"]] == ["/counts/1/system", "/decisions/1/system"]
    assert "'inconnu'" in problem["errors"][1]["detail"]
    assert "tri-courrier" in problem["errors"][1]["detail"]
    assert await total(harness) == 0
    assert await stored(harness) == []
    # Decisions alone, the same.
    alone = with_decisions([decision("A-1"), decision("A-2", system="inconnu")])
    problem = assert_problem(await harness.send(token, alone), 422, "unknown-system")
    assert [e["pointer"] for e in problem["errors"]] == ["/decisions/1/system"]
    assert await stored(harness) == []


async def test_decisions_of_a_service_without_manifest_are_refused(harness: Harness) -> None:
    token = await harness.token()
    problem = assert_problem(
        await harness.send(token, with_decisions([decision("A-1")])), 422, "unknown-system"
    )
    assert "push-manifest" in problem["detail"]
    assert [e["pointer"] for e in problem["errors"]] == ["/decisions/0/system"]


@pytest.mark.parametrize(
    "reference",
    [
        "marie.dupont@example.fr",
        "Marie Dupont",
        "",
        "-leading-dash",
        "/leading/slash",
        "D" * 129,
        "DOSSIER-1\n",
        "DOSSIER\u00e9",
        "Dupont,Marie",
        42,
        None,
    ],
)
async def test_bad_reference_is_422(harness: Harness, reference: Any) -> None:
    token = await harness.ready()
    body = with_decisions([decision("OK-1"), decision(reference)], [row(count=2)])
    problem = assert_problem(await harness.send(token, body), 422, "invalid-batch")
    assert "/decisions/1/reference" in [e["pointer"] for e in problem["errors"]]
    assert await total(harness) == 0
    assert await stored(harness) == []


@pytest.mark.parametrize(
    ("change", "pointer"),
    [
        ({"at": "2026-02-30T10:00:00Z"}, "/decisions/0/at"),
        ({"at": "2026-11-26T10:00:00.5Z"}, "/decisions/0/at"),
        ({"at": 1764151200}, "/decisions/0/at"),
        ({"system": "Tri Courrier"}, "/decisions/0/system"),
        ({"name": "Marie Dupont"}, "/decisions/0/name"),
    ],
)
async def test_other_bad_decision_fields_are_422(
    harness: Harness, change: dict[str, Any], pointer: str
) -> None:
    token = await harness.ready()
    problem = assert_problem(
        await harness.send(token, with_decisions([{**decision("A-1"), **change}])),
        422,
        "invalid-batch",
    )
    assert problem["errors"][0]["pointer"] == pointer


async def test_more_than_ten_thousand_decisions_are_422(harness: Harness) -> None:
    token = await harness.ready()
    items = [decision(f"D-{n}") for n in range(10_001)]
    problem = assert_problem(await harness.send(token, with_decisions(items)), 422, "invalid-batch")
    assert problem["errors"][0]["pointer"] == "/decisions"


async def test_ten_thousand_decisions_in_one_batch(harness: Harness) -> None:
    token = await harness.ready()
    items = [decision(f"D-{n}", f"2026-{1 + n % 12:02d}-01T00:00:00Z") for n in range(10_000)]
    response = await harness.send(token, with_decisions(items))
    assert response.status_code == 202, response.text
    assert sum((await months(harness)).values()) == 10_000
    assert (await months(harness))[(SYSTEM, "2026-01")] == 834


# --- the service's lookup --------------------------------------------------------------------


@pytest.fixture
async def logged(harness: Harness) -> tuple[Harness, str]:
    token = await harness.ready()
    items = [
        decision("DOSSIER-2026-00042", "2026-11-26T10:00:17Z"),
        decision("aides/2026/0007", "2026-11-27T08:30:00Z"),
        decision("CASE-2", "2026-11-28T09:00:00Z"),
        decision("CASE-2", "2026-11-28T08:00:00Z", system="tri-courrier"),
    ]
    assert (await harness.send(token, with_decisions(items))).status_code == 202
    return harness, token


async def test_the_service_can_look_a_decision_up(logged: tuple[Harness, str]) -> None:
    harness, token = logged
    response = await lookup(harness, token, "DOSSIER-2026-00042")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    assert "access-control-allow-origin" not in response.headers
    entry = {
        "system": SYSTEM,
        "reference": "DOSSIER-2026-00042",
        "at": "2026-11-26T10:00:17Z",
        "system_entry_url": f"http://registry.test/systems/{SERVICE}/{SYSTEM}",
    }
    assert response.json() == {**entry, "decisions": [entry]}
    documented = {"$ref": "#/components/schemas/Decision", **openapi_document()}
    Draft202012Validator(documented).validate(response.json())
    page = await harness.client.get(f"/systems/{SERVICE}/{SYSTEM}")
    assert page.status_code == 200


@pytest.mark.parametrize("spelling", ["aides/2026/0007", "aides%2F2026%2F0007"])
async def test_references_with_slashes_can_be_looked_up(
    logged: tuple[Harness, str], spelling: str
) -> None:
    harness, token = logged
    response = await lookup(harness, token, spelling)
    assert response.status_code == 200, response.text
    assert response.json()["reference"] == "aides/2026/0007"


async def test_a_reference_decided_by_two_systems_lists_both(logged: tuple[Harness, str]) -> None:
    harness, token = logged
    body = (await lookup(harness, token, "CASE-2")).json()
    assert (body["system"], body["at"]) == ("tri-courrier", "2026-11-28T08:00:00Z")
    assert [(d["system"], d["at"]) for d in body["decisions"]] == [
        ("tri-courrier", "2026-11-28T08:00:00Z"),
        (SYSTEM, "2026-11-28T09:00:00Z"),
    ]


async def test_lookup_needs_the_services_own_token(logged: tuple[Harness, str]) -> None:
    harness, _token = logged
    for token in (None, "aidr_not_a_token"):
        response = await lookup(harness, token, "DOSSIER-2026-00042")
        assert_problem(response, 401, "unauthorized")
        assert response.headers["www-authenticate"].startswith("Bearer")
        assert "DOSSIER" not in response.text
    other = await harness.token("eau")
    response = await lookup(harness, other, "DOSSIER-2026-00042")
    assert_problem(response, 403, "forbidden")
    assert "DOSSIER" not in response.text
    assert SYSTEM not in response.text
    # Nor through its own service path: eau logged nothing under that reference.
    response = await lookup(harness, other, "DOSSIER-2026-00042", service="eau")
    assert_problem(response, 404, "not-found")


async def test_unknown_and_malformed_references(logged: tuple[Harness, str]) -> None:
    harness, token = logged
    assert_problem(await lookup(harness, token, "DOSSIER-2026-99999"), 404, "not-found")
    assert_problem(await lookup(harness, token, "dossier-2026-00042"), 404, "not-found")
    for bad in ("marie.dupont%40example.fr", "Marie%20Dupont", "-x", "D" * 129):
        problem = assert_problem(await lookup(harness, token, bad), 400, "invalid-query")
        assert problem["errors"][0]["parameter"] == "reference"


async def test_lookup_after_the_system_left_the_manifest(logged: tuple[Harness, str]) -> None:
    harness, token = logged
    manifest = example_manifest()
    manifest["systems"] = [s for s in manifest["systems"] if s["id"] != SYSTEM]
    manifest["routes"] = [r for r in manifest["routes"] if SYSTEM not in r["systems"]]
    assert (await harness.publish(token, manifest)).status_code == 201
    body = (await lookup(harness, token, "DOSSIER-2026-00042")).json()
    assert body["system"] == SYSTEM
    assert body["system_entry_url"] is None


# --- never public -----------------------------------------------------------------------------


async def test_system_page_shows_only_the_number_per_month(logged: tuple[Harness, str]) -> None:
    harness, token = logged
    more = [decision(f"DEC-{n}", "2026-12-03T10:00:00Z") for n in range(1234)]
    assert (await harness.send(token, with_decisions(more))).status_code == 202
    html = (await harness.client.get(f"/systems/{SERVICE}/{SYSTEM}")).text
    assert '<h2 id="decisions">Décisions individuelles</h2>' in html
    assert "L311-3-1" in html
    november = '<time datetime="2026-11">novembre 2026</time></th><td>3</td>'
    december = '<time datetime="2026-12">décembre 2026</time></th><td>1\u202f234</td>'
    assert november in html
    assert december in html
    assert html.index(december) < html.index(november)  # latest first
    for reference in ("DOSSIER-2026-00042", "aides/2026/0007", "CASE-2", "DEC-"):
        assert reference not in html
    english = (await harness.client.get(f"/systems/{SERVICE}/{SYSTEM}?lang=en")).text
    assert '<time datetime="2026-12">December 2026</time></th><td>1,234</td>' in english
    # A system without decisions has no such section.
    other = (await harness.client.get(f"/systems/{SERVICE}/assistant-dechets")).text
    assert 'id="decisions"' not in other


async def test_no_public_read_lists_decisions(logged: tuple[Harness, str]) -> None:
    harness, _token = logged
    assert (await harness.send(_token, batch([row()]))).status_code == 202
    urls = [
        "/",
        "/?lang=en",
        f"/services/{SERVICE}",
        f"/systems/{SERVICE}/{SYSTEM}",
        f"/systems/{SERVICE}/tri-courrier",
        "/v1/systems",
        "/v1/systems.csv",
        f"/v1/services/{SERVICE}",
        f"/v1/systems/{SERVICE}/{SYSTEM}",
        f"/v1/systems/{SERVICE}/{SYSTEM}/algoritmeregister.json",
        f"/v1/systems/{SERVICE}/{SYSTEM}/atrs.json",
        "/v1/stats",
        "/openapi.json",
    ]
    for url in urls:
        response = await harness.client.get(url)
        assert response.status_code == 200, url
        for reference in ("DOSSIER-2026-00042", "aides/2026/0007", "CASE-2"):
            assert reference not in response.text, (url, reference)


async def test_decision_rows_do_not_change_the_counts(logged: tuple[Harness, str]) -> None:
    harness, _token = logged
    store = await harness.store()
    async with store.engine.connect() as connection:
        rows = (await connection.execute(select(func.count()).select_from(counts))).scalar()
    assert rows == 0
    entry = (await harness.client.get(f"/v1/systems/{SERVICE}/{SYSTEM}")).json()
    assert entry["counts"]["total"] == 0
    assert json.dumps(entry).count("DOSSIER") == 0
