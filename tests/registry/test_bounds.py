"""Bounds: what the schema, the validator and the columns refuse, refused with a 4xx
problem and nothing stored, on SQLite and PostgreSQL alike; query parameters parsed
strictly; pages bounded in work whatever the database holds."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from sqlalchemy import func, select

from ai_disclosure.registry.chart import MAX_DAYS, daily_chart
from ai_disclosure.registry.store import MAX_SUM, DayCount
from ai_disclosure.registry.tables import batches, counts, daily_totals

from .conftest import Harness, batch, example_manifest, row
from .test_ingest import assert_problem, total

LANGUAGE_35 = "fr-abcdefgh-abcdefgh-abcdefgh-abcde"


async def stored_batches(harness: Harness) -> int:
    store = await harness.store()
    async with store.engine.connect() as connection:
        return int((await connection.execute(select(func.count()).select_from(batches))).scalar())


async def refused(harness: Harness, token: str, body: Any, pointer: str) -> dict[str, Any]:
    """``body`` is a 422 naming ``pointer``, and nothing of it is stored."""
    before = await stored_batches(harness)
    problem = assert_problem(await harness.send(token, body), 422, "invalid-batch")
    assert [e["pointer"] for e in problem["errors"]] == [pointer], problem
    assert await stored_batches(harness) == before
    return problem


# --- window starts and decision times, against the registry's clock (2026-12-10T12:00Z) ---


@pytest.mark.parametrize(
    "window",
    [
        "0001-01-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "1970-01-01T00:00:00Z",
        "2025-11-05T11:59:59Z",  # 400 days and one second back
        "2026-12-11T12:00:01Z",  # one day and one second ahead
    ],
)
async def test_window_start_out_of_range_is_422(harness: Harness, window: str) -> None:
    token = await harness.ready()
    problem = await refused(
        harness, token, batch([row(), row(window_start=window)]), "/counts/1/window_start"
    )
    assert "2025-11-05T12:00:00Z and 2026-12-11T12:00:00Z" in problem["errors"][0]["detail"]
    assert await total(harness) == 0


@pytest.mark.parametrize("window", ["2025-11-05T12:00:00Z", "2026-12-11T12:00:00Z"])
async def test_window_start_at_the_edges_is_stored(harness: Harness, window: str) -> None:
    token = await harness.ready()
    assert (await harness.send(token, batch([row(window_start=window)]))).status_code == 202


async def test_decision_time_out_of_range_is_422(harness: Harness) -> None:
    token = await harness.ready()
    logged = {"system": "detection-fuites", "reference": "A-1", "at": "0001-01-01T00:00:00Z"}
    await refused(harness, token, batch([], decisions=[logged]), "/decisions/0/at")


# --- integers -----------------------------------------------------------------


@pytest.mark.parametrize("dropped", [2**53, 2**63, 10**30, 1e30])
async def test_dropped_beyond_2_53_is_422(harness: Harness, dropped: float) -> None:
    token = await harness.ready()
    problem = await refused(harness, token, batch([row()], dropped=dropped), "/dropped")
    assert str(2**53 - 1) in problem["errors"][0]["detail"]


async def test_largest_dropped_is_stored_exactly(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row()], dropped=2**53 - 1)
    assert (await harness.send(token, body)).status_code == 202
    store = await harness.store()
    async with store.engine.connect() as connection:
        value = (await connection.execute(select(batches.c.dropped))).scalar()
    assert value == 2**53 - 1


@pytest.mark.parametrize("count", [10**9 + 1, 2**63, 1e30])
async def test_count_beyond_a_billion_is_422(harness: Harness, count: float) -> None:
    token = await harness.ready()
    await refused(harness, token, batch([row(count=count)]), "/counts/0/count")


# --- strings --------------------------------------------------------------------


@pytest.mark.parametrize(
    "route",
    [
        "/search?email=jean.dupont@example.org",
        "/dechets/assistant#reponse",
        "/dechets assistant",
        "/dechets/assistant\n",
        "/dechets/\tassistant",
        "/dechets/\x00assistant",
        "/dechets/\x1b[2J",
        "/dechets/\x85",
        "/dechets/\u2028",
    ],
)
async def test_route_with_query_whitespace_or_control_is_422(harness: Harness, route: str) -> None:
    token = await harness.ready()
    await refused(harness, token, batch([row(), row(route=route)]), "/counts/1/route")


async def test_route_template_with_unicode_is_stored(harness: Harness) -> None:
    token = await harness.ready()
    route = "/démarches/{id}/étape-*"
    assert (await harness.send(token, batch([row(route=route, count=2)]))).status_code == 202
    assert await total(harness, route=route) == 2


async def test_sdk_version_with_a_control_character_is_422(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row()], sdk={"name": "x", "version": "1\x00"})
    await refused(harness, token, body, "/sdk/version")


async def test_language_tags_up_to_35_characters(harness: Harness) -> None:
    token = await harness.ready()
    body = batch([row(language=LANGUAGE_35, count=4)])
    assert (await harness.send(token, body)).status_code == 202  # fits the column everywhere
    assert await total(harness, language=LANGUAGE_35) == 4
    await refused(harness, token, batch([row(language=LANGUAGE_35 + "f")]), "/counts/0/language")
    await refused(
        harness,
        token,
        batch([row(language="fr-" + "-".join(["abcdefgh"] * 7))]),
        "/counts/0/language",
    )


@pytest.mark.parametrize(
    "spot",
    ["route", "language", "system", "sdk", "key", "service", "batch_id", "decision"],
)
async def test_lone_surrogate_anywhere_is_400(harness: Harness, spot: str) -> None:
    token = await harness.ready()
    body = batch([row()])
    marker = "SURROGATE"
    if spot in ("route", "language", "system"):
        body["counts"][0][spot] = "/x" + marker if spot == "route" else marker
    elif spot == "sdk":
        body["sdk"] = {"name": marker}
    elif spot == "key":
        body["counts"][0][marker] = 1
    elif spot == "decision":
        body["decisions"] = [{"system": "detection-fuites", "reference": "A", "at": marker}]
    else:
        body[spot] = marker
    raw = json.dumps(body).replace(marker, "\\ud800x").encode()
    problem = assert_problem(await harness.send(token, raw), 400, "malformed-body")
    assert "surrogate" in problem["detail"]
    assert await stored_batches(harness) == 0


async def test_lone_surrogate_in_a_manifest_is_400(harness: Harness) -> None:
    token = await harness.token()
    raw = json.dumps(example_manifest()).replace("Montpellier", "Mont\\udfffpellier", 1)
    response = await harness.client.put(
        "/v1/services/demarches/manifest",
        content=raw.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert_problem(response, 400, "malformed-body")


async def test_surrogate_pairs_are_text(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    raw = json.dumps(manifest).replace("Montpellier", "Montpellier \\ud83c\\udf33", 1)
    response = await harness.client.put(
        "/v1/services/demarches/manifest",
        content=raw.encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text
    assert "Montpellier \U0001f333" in (await harness.client.get("/v1/services/demarches")).text


# --- query parameters -------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("/v1/systems?page=%C2%B2", "page"),
        ("/v1/systems?per_page=%D9%A3", "per_page"),
        ("/v1/systems?page=%EF%BC%91", "page"),  # a full-width 1
        ("/v1/systems?page=" + "9" * 5000, "page"),
        ("/v1/systems?page=%ED%A0%80", "page"),
        ("/v1/systems?page=+1", "page"),
        ("/v1/stats?page=%C2%B2", "page"),
        ("/v1/stats?per_page=%C2%B9", "per_page"),
        ("/v1/stats?from=%C2%B2026-01-01", "from"),
        ("/v1/stats?to=2026-01-%D9%A3", "to"),
    ],
)
async def test_non_ascii_digits_are_400(harness: Harness, path: str, parameter: str) -> None:
    problem = assert_problem(await harness.client.get(path), 400, "invalid-query")
    assert problem["errors"][0]["parameter"] == parameter


@pytest.mark.parametrize(
    "query",
    [
        "page=%C2%B2",
        "q=%00%ED%A0%80",
        "service=%ED%A0%80",
        "lang=%C2%B2",
        "status=%00",
        "q=" + "x" * 5000,
    ],
)
async def test_odd_parameters_on_pages_never_fail(harness: Harness, query: str) -> None:
    await harness.ready()
    for path in ("/", "/systems/demarches/assistant-dechets", "/services/demarches"):
        response = await harness.client.get(f"{path}?{query}")
        assert response.status_code == 200, (path, query)


# --- pages bounded in work whatever is stored --------------------------------------


async def test_system_page_charts_at_most_90_days_whatever_is_stored(harness: Harness) -> None:
    """Counts from before these bounds (year 1, year 9999, the 1970 epoch) are stored
    directly: the page still walks at most 90 days and charts nothing after tomorrow."""
    await harness.ready()
    store = await harness.store()
    windows = [
        "0001-01-01T00:00:00Z",
        "1970-01-01T00:00:00Z",
        "2026-11-26T10:00:00Z",
        "9999-12-31T23:59:59Z",
    ]
    for window in windows:
        assert (await store.ingest(batch([row(window_start=window, count=5)]))).status == "stored"
    page = await harness.client.get("/systems/demarches/assistant-dechets")
    assert page.status_code == 200
    bars = re.findall(r'<rect class="chart__bar"', page.text)
    assert 1 <= len(bars) <= MAX_DAYS
    assert "9999" not in page.text.split('<figure class="chart">')[1].split("</figure>")[0]
    entry = await harness.client.get("/v1/systems/demarches/assistant-dechets")
    assert entry.json()["counts"]["total"] == 20


def test_chart_walks_at_most_90_days() -> None:
    from datetime import date

    series = [DayCount("0001-01-01", 1, 1), DayCount("9999-12-31", 2, 0)]
    chart = daily_chart(series)
    assert chart is not None
    assert len(chart.days) == MAX_DAYS
    assert (chart.first, chart.last, chart.truncated) == ("9999-10-03", "9999-12-31", True)
    chart = daily_chart(series, until=date(2026, 12, 11))
    assert chart is not None
    assert [d.day for d in chart.days] == ["0001-01-01"]
    assert not chart.truncated
    chart = daily_chart([DayCount("2026-12-01", 3, 3)], earliest="2026-01-01")
    assert chart is not None
    assert chart.truncated
    assert daily_chart(series, until=date(1, 1, 1)) is not None
    assert daily_chart([DayCount("9999-12-31", 1, 1)], until=date(2026, 1, 1)) is None


async def test_counts_column_holds_35_character_tags(harness: Harness) -> None:
    """The column is as wide as the schema allows (PostgreSQL would refuse more)."""
    store = await harness.store()
    await harness.ready()
    assert (await store.ingest(batch([row(language=LANGUAGE_35)]))).status == "stored"
    async with store.engine.connect() as connection:
        query = select(counts.c.language).where(counts.c.language == LANGUAGE_35)
        assert (await connection.execute(query)).scalar() == LANGUAGE_35


async def test_sums_saturate_instead_of_overflowing(harness: Harness) -> None:
    """Sums at the 64-bit limit (no real traffic gets there) stay integers and never
    fail a batch or a page, on either backend."""
    token = await harness.ready()
    days = ["2026-11-26T10:00:00Z", "2026-11-27T10:00:00Z"]
    assert (
        await harness.send(token, batch([row(window_start=d) for d in days]))
    ).status_code == 202
    store = await harness.store()
    near = MAX_SUM - 5
    async with store.engine.begin() as connection:
        await connection.execute(counts.update().values(count=near))
        await connection.execute(daily_totals.update().values(count=near, notice_shown=near))
    body = batch([row(window_start=d, count=10) for d in days])
    assert (await harness.send(token, body)).status_code == 202
    async with store.engine.connect() as connection:
        stored = (await connection.execute(select(counts.c.count))).scalars().all()
        daily = (await connection.execute(select(daily_totals.c.count))).scalars().all()
    assert stored == [MAX_SUM, MAX_SUM]
    assert daily == [MAX_SUM, MAX_SUM]
    assert all(type(value) is int for value in [*stored, *daily])
    for path in (
        "/v1/systems",
        "/v1/systems/demarches/assistant-dechets",
        "/systems/demarches/assistant-dechets",
        "/",
        "/v1/systems.csv",
    ):
        assert (await harness.client.get(path)).status_code == 200, path


@pytest.mark.parametrize(
    ("pointer", "change"),
    [
        ("/service/name", lambda m: m["service"].__setitem__("name", "Démarches\x00")),
        ("/service/operator", lambda m: m["service"].__setitem__("operator", "Métropole\x1b[2J")),
        ("/systems/0/purpose", lambda m: m["systems"][0].__setitem__("purpose", "x\x07")),
        ("/routes/0/path", lambda m: m["routes"][0].__setitem__("path", "/recherche?q=*")),
        ("/routes/0/path", lambda m: m["routes"][0].__setitem__("path", "/mes démarches/*")),
    ],
)
async def test_manifest_strings_with_control_characters_are_422(
    harness: Harness, pointer: str, change: Any
) -> None:
    token = await harness.token()
    manifest = example_manifest()
    change(manifest)
    problem = assert_problem(await harness.publish(token, manifest), 422, "invalid-manifest")
    assert pointer in [e["pointer"] for e in problem["errors"]]


async def test_manifest_texts_keep_their_line_breaks(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    manifest["systems"][0]["purpose"] = {"fr": "Première ligne.\nSeconde\tligne.", "en": "One."}
    assert (await harness.publish(token, manifest)).status_code == 201
