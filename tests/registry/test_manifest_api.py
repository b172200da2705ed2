"""PUT /v1/services/{id}/manifest: validated, versioned, idempotent."""

from __future__ import annotations

import copy
import json
from typing import Any

from ai_disclosure.registry.store import canonical_json

from .conftest import SERVICE, Harness, example_manifest
from .test_ingest import assert_problem


async def test_first_publication_is_version_1(harness: Harness) -> None:
    token = await harness.token()
    response = await harness.publish(token)
    assert response.status_code == 201
    assert response.json() == {"service": SERVICE, "version": 1, "changed": True}


async def test_identical_content_makes_no_new_version(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    await harness.publish(token, manifest)
    # Same content, other key order and spacing: still identical.
    reordered = json.loads(json.dumps(manifest, sort_keys=True))
    response = await harness.client.put(
        f"/v1/services/{SERVICE}/manifest",
        content=json.dumps(reordered, indent=4),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 200
    assert response.json() == {"service": SERVICE, "version": 1, "changed": False}


async def test_each_change_is_a_new_dated_version(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    await harness.publish(token, manifest)
    changed = copy.deepcopy(manifest)
    changed["systems"][0]["status"] = "retired"
    response = await harness.publish(token, changed)
    assert response.status_code == 201
    assert response.json()["version"] == 2
    assert (await harness.publish(token, changed)).json() == {
        "service": SERVICE,
        "version": 2,
        "changed": False,
    }
    back = await harness.publish(token, manifest)
    assert back.json()["version"] == 3
    store = await harness.store()
    versions = await store.versions(SERVICE)
    assert [v.version for v in versions] == [1, 2, 3]
    assert all(v.created_at.tzinfo is not None for v in versions)
    assert canonical_json(await store.manifest_content(SERVICE, 3) or {}) == canonical_json(
        manifest
    )
    service = (await harness.client.get(f"/v1/services/{SERVICE}")).json()
    assert [v["version"] for v in service["versions"]] == [1, 2, 3]
    assert service["manifest_version"] == 3


async def test_invalid_manifest_lists_every_problem(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    manifest["systems"][0]["interaction"] = "chat"
    del manifest["systems"][1]["purpose"]
    manifest["routes"][0]["systems"] = ["nope"]
    response = await harness.publish(token, manifest)
    problem = assert_problem(response, 422, "invalid-manifest")
    pointers = {e["pointer"] for e in problem["errors"]}
    assert pointers >= {"/systems/0/interaction", "/systems/1/purpose", "/routes/0/systems/0"}
    assert (await harness.client.get(f"/v1/services/{SERVICE}")).status_code == 404


async def test_service_id_must_match_the_url(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    manifest["service"]["id"] = "autre"
    response = await harness.client.put(
        f"/v1/services/{SERVICE}/manifest",
        json=manifest,
        headers={"Authorization": f"Bearer {token}"},
    )
    problem = assert_problem(response, 422, "invalid-manifest")
    assert problem["errors"] == [
        {"pointer": "/service/id", "detail": "is 'autre' but the URL names 'demarches'"}
    ]


async def test_token_of_another_service_cannot_publish(harness: Harness) -> None:
    token = await harness.token("eau")
    assert_problem(await harness.publish(token), 403, "forbidden")


async def test_publishing_needs_a_token(harness: Harness) -> None:
    response = await harness.client.put(f"/v1/services/{SERVICE}/manifest", json={})
    assert_problem(response, 401, "unauthorized")


async def test_manifest_must_be_a_json_object(harness: Harness) -> None:
    token = await harness.token()
    for body in ("[]", '"x"', "null"):
        response = await harness.client.put(
            f"/v1/services/{SERVICE}/manifest",
            content=body,
            headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        )
        assert_problem(response, 422, "invalid-manifest")
    response = await harness.client.put(
        f"/v1/services/{SERVICE}/manifest",
        content="service = 1",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/toml"},
    )
    assert_problem(response, 415, "unsupported-media-type")


async def test_concurrent_identical_publications_make_one_version(make_harness: Any) -> None:
    import asyncio

    harnesses = [await make_harness() for _ in range(4)]
    token = await harnesses[0].token()
    responses = await asyncio.gather(*(h.publish(token) for h in harnesses))
    assert sorted(r.status_code for r in responses) == [200, 200, 200, 201]
    assert {r.json()["version"] for r in responses} == {1}
