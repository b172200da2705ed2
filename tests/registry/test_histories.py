"""Each system's history, kept as manifests are published and carried by the bulk
downloads (NDJSON, CSV, XLSX), agreeing with the system's own entry."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from ai_disclosure.registry.changes import Change, ChangeKind
from ai_disclosure.registry.histories import SystemHistory, advance

from .conftest import SERVICE, Harness, example_manifest


def _content(**purposes: str) -> dict[str, Any]:
    return {"systems": [{"id": s, "purpose": {"fr": p}} for s, p in purposes.items()]}


def test_each_version_adds_an_entry_to_the_systems_it_touched() -> None:
    known: dict[str, SystemHistory] = {}
    known.update(advance(known, 1, "2026-01-01", _content(a="x", b="y")))
    changed = advance(known, 2, "2026-02-01", _content(a="x", b="z"))
    assert set(changed) == {"b"}  # a is the same: no entry, no write
    known.update(changed)
    known.update(advance(known, 3, "2026-03-01", _content(a="x")))
    known.update(advance(known, 4, "2026-04-01", _content(a="x", b="z")))
    assert known["a"].changes == (Change(1, "2026-01-01", ChangeKind.ADDED),)
    assert [(c.version, c.change) for c in known["b"].changes] == [
        (1, ChangeKind.ADDED),
        (2, ChangeKind.CHANGED),
        (3, ChangeKind.REMOVED),
        (4, ChangeKind.ADDED),  # declared again: its history goes on
    ]
    assert known["b"].digest is not None


def three_versions() -> list[dict[str, Any]]:
    """v1 declares the example's systems; v2 changes the second one's purpose;
    v3 removes the third (and the route that named it)."""
    first = example_manifest()
    second = example_manifest()
    second["systems"][1]["purpose"]["fr"] += " (révisé)"
    third = json.loads(json.dumps(second))
    gone = third["systems"].pop(2)["id"]
    third["routes"] = [r for r in third["routes"] if gone not in r["systems"]]
    return [first, second, third]


#: What the three versions did to each system of the example, by system id.
EXPECTED = {
    "assistant-dechets": [(1, "added")],
    "detection-fuites": [(1, "added"), (2, "changed")],
    "traduction-pages": [(1, "added")],
}
REMOVED = "tri-courrier"


async def published_three_times(harness: Harness) -> dict[int, str]:
    """The three versions published; the day of each version, by number."""
    token = await harness.token()
    for manifest in three_versions():
        response = await harness.publish(token, manifest)
        assert response.status_code in (200, 201), response.text
    versions = await (await harness.store()).versions(SERVICE)
    assert [v.version for v in versions] == [1, 2, 3]
    return {v.version: v.created_at.date().isoformat() for v in versions}


def expected_history(system: str, days: dict[int, str]) -> list[dict[str, Any]]:
    return [{"version": v, "date": days[v], "change": c} for v, c in EXPECTED[system]]


async def test_the_json_lines_carry_each_systems_history(harness: Harness) -> None:
    days = await published_three_times(harness)
    response = await harness.client.get("/v1/systems.ndjson")
    records = {r["system"]: r for r in map(json.loads, response.text.splitlines())}
    assert set(records) == set(EXPECTED)  # the removed system is no longer listed
    for system, record in records.items():
        assert record["history"] == expected_history(system, days)
        # The system's own entry (its page's history) says the same.
        entry = (await harness.client.get(f"/v1/systems/{SERVICE}/{system}")).json()
        assert entry["history"] == record["history"]


async def test_the_csv_has_first_published_last_changed_and_versions(harness: Harness) -> None:
    days = await published_three_times(harness)
    response = await harness.client.get("/v1/systems.csv")
    rows = {r["system"]: r for r in csv.DictReader(io.StringIO(response.text))}
    assert set(rows) == set(EXPECTED)
    for system, row in rows.items():
        touched = EXPECTED[system]
        assert row["first_published"] == days[1]
        assert row["last_changed"] == days[touched[-1][0]]
        assert row["versions"] == str(len(touched))
        entry = (await harness.client.get(f"/v1/systems/{SERVICE}/{system}")).json()
        assert row["last_changed"] == entry["history"][-1]["date"]
        assert row["versions"] == str(len(entry["history"]))


async def test_the_spreadsheet_has_the_history_columns(harness: Harness) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    await published_three_times(harness)
    response = await harness.client.get("/v1/systems.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    versions = {row[header.index("system")]: row[header.index("versions")] for row in rows}
    assert versions == {system: len(touched) for system, touched in EXPECTED.items()}
    assert header.index("first_published") < header.index("last_changed")


async def test_a_removed_system_keeps_its_history_when_declared_again(
    harness: Harness,
) -> None:
    days = await published_three_times(harness)
    token = await harness.token()
    assert (await harness.publish(token, example_manifest())).status_code in (200, 201)
    today = (await (await harness.store()).versions(SERVICE))[-1].created_at.date().isoformat()
    response = await harness.client.get("/v1/systems.ndjson")
    records = {r["system"]: r for r in map(json.loads, response.text.splitlines())}
    assert records[REMOVED]["history"] == [
        {"version": 1, "date": days[1], "change": "added"},
        {"version": 3, "date": days[3], "change": "removed"},
        {"version": 4, "date": today, "change": "added"},
    ]
    entry = (await harness.client.get(f"/v1/systems/{SERVICE}/{REMOVED}")).json()
    assert entry["history"] == records[REMOVED]["history"]
    # v4 is v1 again: the changed system changed back.
    assert [h["change"] for h in records["detection-fuites"]["history"]] == [
        "added",
        "changed",
        "changed",
    ]
