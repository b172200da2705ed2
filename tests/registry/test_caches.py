"""Pages read what they show: the current manifest and the list of versions, never
every version's content on each view; the caches of parsed manifests and of
system histories are bounded."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ai_disclosure.registry import store as store_module

from .conftest import SERVICE, Harness, example_manifest

SYSTEM = "assistant-dechets"
OTHER = "detection-fuites"


def versions() -> list[dict[str, Any]]:
    """Five versions: v2 changes SYSTEM, v3 removes OTHER, v4 adds it back, v5 only
    changes the service's name."""
    first = example_manifest()
    second = copy.deepcopy(first)
    second["systems"][0]["purpose"]["fr"] = "Une autre finalité."
    third = copy.deepcopy(second)
    third["systems"] = [s for s in third["systems"] if s["id"] != OTHER]
    third["routes"] = [r for r in third["routes"] if OTHER not in r["systems"]]
    fourth = copy.deepcopy(second)
    fifth = copy.deepcopy(fourth)
    fifth["service"]["name"] = "Démarches en ligne, nouveau nom"
    return [first, second, third, fourth, fifth]


def history(body: dict[str, Any]) -> list[tuple[int, str]]:
    return [(h["version"], h["change"]) for h in body["history"]]


async def publish_all(harness: Harness) -> str:
    token = await harness.token()
    for number, manifest in enumerate(versions(), 1):
        response = await harness.publish(token, manifest)
        assert response.json()["version"] == number, response.text
    return token


async def entry(harness: Harness, system: str) -> dict[str, Any]:
    response = await harness.client.get(f"/v1/systems/{SERVICE}/{system}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_history_is_the_same_built_as_versions_arrive_or_all_at_once(
    make_harness: Any,
) -> None:
    warm: Harness = await make_harness()
    token = await warm.token()
    expected = {
        SYSTEM: [(1, "added"), (2, "changed")],
        OTHER: [(1, "added"), (3, "removed"), (4, "added")],
    }
    for number, manifest in enumerate(versions(), 1):
        assert (await warm.publish(token, manifest)).json()["version"] == number
        if number in (1, 2, 4):  # viewed between versions: built one version at a time
            assert history(await entry(warm, SYSTEM)) == expected[SYSTEM][: min(number, 2)]
    cold: Harness = await make_harness()  # a new process: every version read once
    for harness in (warm, cold):
        assert history(await entry(harness, SYSTEM)) == expected[SYSTEM]
        assert history(await entry(harness, OTHER)) == expected[OTHER]


async def test_lists_and_service_pages_read_only_the_current_manifest(
    make_harness: Any,
) -> None:
    await publish_all(await make_harness())
    fresh: Harness = await make_harness()
    store = await fresh.store()
    for url in ("/", f"/services/{SERVICE}", f"/v1/services/{SERVICE}", "/v1/systems"):
        assert (await fresh.client.get(url)).status_code == 200
    assert store.contents_read == 1  # the current version, once
    service = (await fresh.client.get(f"/v1/services/{SERVICE}")).json()
    assert [v["version"] for v in service["versions"]] == [1, 2, 3, 4, 5]
    assert all(len(v["sha256"]) == 64 for v in service["versions"])
    assert store.contents_read == 1


async def test_a_system_page_reads_no_old_version(make_harness: Any) -> None:
    await publish_all(await make_harness())
    fresh: Harness = await make_harness()
    store = await fresh.store()
    for url in (
        f"/systems/{SERVICE}/{SYSTEM}",
        f"/systems/{SERVICE}/{OTHER}",
        f"/v1/systems/{SERVICE}/{SYSTEM}",
        f"/v1/systems/{SERVICE}/{SYSTEM}/atrs.json",
    ):
        assert (await fresh.client.get(url)).status_code == 200
    assert store.contents_read == 1  # the current manifest, once: histories are stored
    sixth = versions()[-1]
    sixth["systems"][0]["purpose"]["fr"] = "Encore une autre finalité."
    token = await fresh.token()
    assert (await fresh.publish(token, sixth)).json()["version"] == 6
    assert history(await entry(fresh, SYSTEM)) == [(1, "added"), (2, "changed"), (6, "changed")]
    assert store.contents_read == 1  # the new version was parsed as it was published


async def test_the_caches_are_bounded(make_harness: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "PARSED_CACHE", 2)
    harness: Harness = await make_harness()
    services = [f"service-{n}" for n in range(4)]
    for service in services:
        manifest = example_manifest()
        manifest["service"]["id"] = service
        token = await harness.token(service)
        assert (await harness.publish(token, manifest)).status_code == 201
    store = await harness.store()
    listed = (await harness.client.get("/v1/systems", params={"per_page": "500"})).json()
    assert {item["service"] for item in listed["items"]} == set(services)  # all still shown
    page = await harness.client.get("/")
    assert all(f"/systems/{service}/{SYSTEM}" in page.text for service in services)
    for service in services:
        assert (await harness.client.get(f"/systems/{service}/{SYSTEM}")).status_code == 200
    assert len(store._parsed) == 2


def test_the_lru_forgets_the_least_recently_used() -> None:
    cache: store_module._LRU[str, int] = store_module._LRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # now the most recently used
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)
