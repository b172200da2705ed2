"""What the read table holds for each system of a manifest."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from ai_disclosure._manifest import parse_manifest
from ai_disclosure.registry.entries import Entry, system_summary
from ai_disclosure.registry.listing import listing_rows
from ai_disclosure.registry.store import Published

from .conftest import SERVICE, example_manifest


def test_one_row_per_system_in_manifest_order() -> None:
    data = example_manifest()
    published = Published(parse_manifest(data), 3, datetime(2026, 11, 30, tzinfo=UTC))
    rows = listing_rows(published)
    assert [(r["service"], r["system"], r["position"]) for r in rows] == [
        (SERVICE, s["id"], n) for n, s in enumerate(data["systems"])
    ]
    first, system = rows[0], published.manifest.systems[0]
    assert (first["version"], first["status"], first["interaction"]) == (
        3,
        system.status,
        system.interaction.value,
    )
    card = json.loads(first["card"])
    assert card["summary"] == system_summary(Entry(published, system))
    assert card["texts"]["name"] == data["systems"][0]["name"]
    assert card["service_name"] == data["service"]["name"]
    assert card["default_language"] == data["service"]["default_language"]
    # Titles: names in every language, the service's name, the ids; the rest in body.
    assert {"assistant", "dechets", "demarches", "rebuts", "residuos"} <= set(
        first["title"].split()
    )
    assert {"collecte", "mistral", "small"} <= set(first["body"].split())
    assert "collecte" not in first["title"].split()
