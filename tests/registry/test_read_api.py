"""The public read API: lists, entries, stats and exports."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

import pytest

from ai_disclosure.registry.exports import EXPORTS, SystemExport

from .answers import conforms
from .conftest import SERVICE, Harness, batch, example_manifest, row
from .test_ingest import assert_problem

SYSTEMS, STATS = "register-systems", "register-stats"
NL, UK = "export-algoritmeregister", "export-atrs"


@pytest.fixture
async def filled(harness: Harness) -> Harness:
    token = await harness.ready()
    rows = [
        row(window_start="2026-11-24T08:00:00Z", count=10),
        row(window_start="2026-11-26T08:00:00Z", count=5, notice_shown=False),
        row(window_start="2026-11-26T09:00:00Z", count=2, language="en"),
        row(system="traduction-pages", mode="ai-modified", route="/en/*", count=7),
    ]
    assert (await harness.send(token, batch(rows))).status_code == 202
    return harness


async def get(harness: Harness, url: str, schema: str, **params: Any) -> Any:
    """The answer to a public read, checked against ``schemas/<schema>.schema.json``."""
    response = await harness.client.get(url, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    return conforms(response, schema)


async def test_systems_list_with_counts(filled: Harness) -> None:
    body = await get(filled, "/v1/systems", SYSTEMS)
    assert body["total"] == 4
    assert body["page"] == 1
    by_id = {item["system"]: item for item in body["items"]}
    assert by_id["assistant-dechets"]["disclosures"] == 17
    assert by_id["traduction-pages"]["disclosures"] == 7
    assert by_id["tri-courrier"]["disclosures"] == 0
    first = by_id["assistant-dechets"]
    assert first["url"] == "/systems/demarches/assistant-dechets"
    assert first["name"]["fr"] == "Assistant tri des déchets"


async def test_systems_pagination(filled: Harness) -> None:
    pages = [await get(filled, "/v1/systems", SYSTEMS, per_page=3, page=n) for n in (1, 2, 3)]
    assert [len(p["items"]) for p in pages] == [3, 1, 0]
    assert {p["total"] for p in pages} == {4}
    seen = [i["system"] for p in pages for i in p["items"]]
    assert len(set(seen)) == 4


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"interaction": "chatbot"}, {"assistant-dechets"}),
        (
            {"status": "in-use"},
            {"assistant-dechets", "detection-fuites", "tri-courrier", "traduction-pages"},
        ),
        ({"status": "retired"}, set()),
        ({"service": "autre"}, set()),
        ({"q": "DECHETS"}, {"assistant-dechets"}),
        ({"q": "fuites eau"}, {"detection-fuites"}),
        ({"q": "mistral"}, {"assistant-dechets", "traduction-pages"}),
        ({"q": "mistral", "interaction": "translation"}, {"traduction-pages"}),
    ],
)
async def test_systems_filters(filled: Harness, params: dict[str, str], expected: set[str]) -> None:
    body = await get(filled, "/v1/systems", SYSTEMS, **params)
    assert {i["system"] for i in body["items"]} == expected


@pytest.mark.parametrize(
    "params",
    [
        {"page": "0"},
        {"page": "x"},
        {"per_page": "100000"},
        {"interaction": "robot"},
        {"status": "on"},
    ],
)
async def test_bad_query_parameters_are_400(filled: Harness, params: dict[str, str]) -> None:
    response = await filled.client.get("/v1/systems", params=params)
    problem = assert_problem(response, 400, "invalid-query")
    assert problem["errors"][0]["parameter"] == next(iter(params))


async def test_system_entry_has_everything_and_counts(filled: Harness) -> None:
    entry = await get(filled, "/v1/systems/demarches/assistant-dechets", "register-system")
    assert entry["purpose"]["en"] == "Answer questions about waste sorting and collection days."
    assert entry["ethics_review"] == {
        "status": "approved",
        "date": "2026-03-12",
        "reference": "CEI-2026-004",
    }
    assert entry["bias_audit"]["reference"] == "AUD-2026-011"
    assert entry["legal_basis"]["fr"].startswith("Mission de service public")
    assert len(entry["data_sources"]) == 2
    assert entry["recourse"]["ar"]
    assert entry["provider"] == "Mistral AI"
    assert entry["disclosure"]["ietf_mode"] == "ai-originated"
    assert entry["routes"] == ["/dechets/assistant*"]
    assert entry["register_url"] == (
        "https://registre-ia.montpellier3m.example/systems/demarches/assistant-dechets"
    )
    assert entry["history"] == [
        {"version": 1, "date": entry["history"][0]["date"], "change": "added"}
    ]
    counts = entry["counts"]
    assert counts["total"] == 17
    assert counts["notice_shown"] == 12
    assert (counts["first_day"], counts["last_day"]) == ("2026-11-24", "2026-11-26")
    assert counts["daily"] == [
        {"date": "2026-11-24", "count": 10, "notice_shown": 10},
        {"date": "2026-11-26", "count": 7, "notice_shown": 2},
    ]


async def test_unknown_system_or_service_is_404(filled: Harness) -> None:
    for url in (
        "/v1/systems/demarches/nope",
        "/v1/systems/nope/assistant-dechets",
        "/v1/services/nope",
        "/v1/systems/demarches/nope/atrs.json",
    ):
        assert_problem(await filled.client.get(url), 404, "not-found")


async def test_service_entry(filled: Harness) -> None:
    service = await get(filled, f"/v1/services/{SERVICE}", "register-service")
    assert service["name"] == "Démarches en ligne"
    assert [s["system"] for s in service["systems"]] == [
        "assistant-dechets",
        "detection-fuites",
        "tri-courrier",
        "traduction-pages",
    ]
    assert service["manifest"]["service"]["id"] == SERVICE


async def test_stats_per_day_and_system(filled: Harness) -> None:
    body = await get(filled, "/v1/stats", STATS)
    assert body["total"] == 3
    assert body["items"] == [
        {
            "date": "2026-11-24",
            "service": SERVICE,
            "system": "assistant-dechets",
            "count": 10,
            "notice_shown": 10,
        },
        {
            "date": "2026-11-26",
            "service": SERVICE,
            "system": "assistant-dechets",
            "count": 7,
            "notice_shown": 2,
        },
        {
            "date": "2026-11-26",
            "service": SERVICE,
            "system": "traduction-pages",
            "count": 7,
            "notice_shown": 7,
        },
    ]
    only = await get(filled, "/v1/stats", STATS, system="traduction-pages")
    assert [i["count"] for i in only["items"]] == [7]
    ranged = await get(filled, "/v1/stats", STATS, **{"from": "2026-11-25", "to": "2026-11-26"})
    assert ranged["total"] == 2
    paged = await get(filled, "/v1/stats", STATS, per_page=2, page=2)
    assert (paged["total"], len(paged["items"])) == (3, 1)
    assert (await get(filled, "/v1/stats", STATS, service="autre"))["total"] == 0


@pytest.mark.parametrize(
    "params",
    [{"from": "26/11/2026"}, {"to": "2026-02-30"}, {"from": "2026-11-27", "to": "2026-11-26"}],
)
async def test_stats_bad_dates_are_400(filled: Harness, params: dict[str, str]) -> None:
    assert_problem(await filled.client.get("/v1/stats", params=params), 400, "invalid-query")


async def test_csv_export(filled: Harness) -> None:
    response = await filled.client.get("/v1/systems.csv")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert len(rows) == 4
    first = rows[0]
    assert first["system"] == "assistant-dechets"
    assert first["disclosures"] == "17"
    assert first["register_page"] == "http://registry.test/systems/demarches/assistant-dechets"
    filtered = await filled.client.get("/v1/systems.csv", params={"interaction": "translation"})
    assert len(list(csv.DictReader(io.StringIO(filtered.text)))) == 1


async def test_a_configured_public_url_beats_a_forged_host(
    filled: Harness, make_harness: Any
) -> None:
    forged = {"Host": "evil.example"}
    plain = await filled.client.get("/v1/systems.csv", headers=forged)
    assert "http://evil.example/" in plain.text  # without configuration, Host decides
    public = await make_harness(public_url="https://registre.montpellier3m.example/")
    response = await public.client.get("/v1/systems.csv", headers=forged)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["register_page"] == (
        "https://registre.montpellier3m.example/systems/demarches/assistant-dechets"
    )
    assert "evil.example" not in response.text


async def test_csv_cells_never_become_formulas(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    manifest["systems"][0]["provider"] = '=HYPERLINK("http://evil.example","x")'
    assert (await harness.publish(token, manifest)).status_code == 201
    rows = list(csv.DictReader(io.StringIO((await harness.client.get("/v1/systems.csv")).text)))
    assert rows[0]["provider"].startswith("'=")


async def test_algoritmeregister_export(filled: Harness) -> None:
    body = await get(filled, "/v1/systems/demarches/detection-fuites/algoritmeregister.json", NL)
    assert body["name"] == "Détection des fuites d'eau"
    assert body["organization"] == "Montpellier Méditerranée Métropole"
    assert body["status"] == "In gebruik"
    assert body["lang"] == "fra"
    assert body["standard_version"] == "1.0"
    assert body["publication_category"] == "Impactvolle algoritmes"
    assert body["contact_email"] == "ia-transparence@montpellier3m.example"
    assert "Régie des eaux" in body["human_intervention"]
    assert body["url"].endswith("/systems/demarches/detection-fuites")
    english = await get(
        filled, "/v1/systems/demarches/detection-fuites/algoritmeregister.json", NL, lang="en"
    )
    assert english["name"] == "Water-leak detection"
    assert english["lang"] == "eng"
    bad = await filled.client.get(
        "/v1/systems/demarches/detection-fuites/algoritmeregister.json", params={"lang": "de"}
    )
    assert_problem(bad, 400, "invalid-query")


async def test_the_dutch_publication_category_is_the_manifests(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    manifest["systems"][0]["publication_category"] = "high-risk-ai"
    del manifest["systems"][1]["publication_category"]  # decision support: impactful
    manifest["systems"][1]["interaction"] = "decision-support"
    assert (await harness.publish(token, manifest)).status_code == 201
    base = "/v1/systems/demarches"
    chatbot = await get(harness, f"{base}/assistant-dechets/algoritmeregister.json", NL)
    assert chatbot["publication_category"] == "Hoog-risico AI-systemen"
    leaks = await get(harness, f"{base}/detection-fuites/algoritmeregister.json", NL)
    assert leaks["publication_category"] == "Impactvolle algoritmes"


async def test_atrs_export(filled: Harness) -> None:
    body = await get(filled, "/v1/systems/demarches/assistant-dechets/atrs.json", UK, lang="en")
    tier_1, tier_2 = body["tier_1"], body["tier_2"]
    assert tier_1["name"] == "Waste-sorting assistant"
    assert tier_1["contact_email"] == "ia-transparence@montpellier3m.example"
    assert tier_2["owner_and_responsibility"]["external_supplier"] == "Mistral AI"
    assert tier_2["tool_specification"]["phase"] == "Production"
    assert tier_2["tool_specification"]["models"][0]["model_name"] == "mistral-small"
    assert "17 disclosures" in tier_2["decision_making_process"]["frequency_and_scale_of_usage"]
    titles = [
        a["assessment_title"]
        for a in tier_2["risks_mitigations_and_impact_assessments"]["impact_assessments"]
    ]
    assert titles == ["Ethics committee review", "Bias audit"]


#: The Eurocities standard's attributes, from its own file (source named in it).
ATS_FIELDS = [
    line.strip()
    for line in (Path(__file__).parents[1] / "fixtures" / "ats-v0_3_1-fields.txt")
    .read_text(encoding="utf-8")
    .splitlines()
    if line.strip() and not line.startswith("#")
]


@pytest.mark.parametrize("lang", ["fr", "en"])
async def test_eurocities_export_names_every_attribute_of_the_standard(
    filled: Harness, lang: str
) -> None:
    listed = await get(filled, "/v1/systems", SYSTEMS, per_page=500)
    for item in listed["items"]:
        body = await get(filled, f"{item['api']}/eurocities.json", "export-eurocities", lang=lang)
        assert list(body) == ATS_FIELDS  # every one, in the standard's order
        assert body["standard_version"] == "0.3.1"
        assert body["lang"] == lang
        assert body["uuid"] == item["uuid"]
        assert body["website"].endswith(item["url"])
    leaks = await get(
        filled, "/v1/systems/demarches/detection-fuites/eurocities.json", "export-eurocities"
    )
    assert leaks["uuid"] == "a6d1e0b2-5c3f-4e8a-b7d9-0f1c2e3d4a5b"  # the manifest's own
    assert leaks["name"] == "Détection des fuites d'eau"
    assert leaks["organization"] == "Montpellier Méditerranée Métropole"
    assert leaks["status"] == "operational"
    assert leaks["risk_category"] == "minimal risk"
    assert leaks["algorithm_type"] == "rule-based"
    assert leaks["contact_email"] == "ia-transparence@montpellier3m.example"
    assert "Régie des eaux" in leaks["human_intervention"]
    assert leaks["country"] is None  # not in the manifest: never guessed
    english = await get(
        filled,
        "/v1/systems/demarches/assistant-dechets/eurocities.json",
        "export-eurocities",
        lang="en",
    )
    assert english["name"] == "Waste-sorting assistant"
    assert english["risk_category"] == "limited risk"
    assert english["algorithm_type"] == "self-learning"
    assert english["methods_and_models"] == "mistral-small, Mistral AI"


async def test_every_entry_and_listing_matches_its_schema(filled: Harness) -> None:
    # Entries with and without reviews, audits, routes and counts; lists filtered to
    # nothing; one system's service with every manifest version.
    listed = await get(filled, "/v1/systems", SYSTEMS, per_page=500)
    for item in listed["items"]:
        entry = await get(filled, item["api"], "register-system")
        assert entry["service_info"]["id"] == item["service"]
        for export in EXPORTS:
            if isinstance(export, SystemExport) and export.schema:
                await get(filled, f"{item['api']}/{export.name}", export.schema)
    assert (await get(filled, "/v1/systems", SYSTEMS, q="nothing-matches"))["items"] == []
    token = await filled.token()
    manifest = example_manifest()
    manifest["systems"][0]["status"] = "retired"
    receipt = conforms(await filled.publish(token, manifest), "manifest-receipt")
    assert receipt["version"] == 2
    stored = conforms(await filled.send(token, batch([row()])), "batch-receipt")
    assert stored["status"] == "stored"
    service = await get(filled, f"/v1/services/{SERVICE}", "register-service")
    assert [v["version"] for v in service["versions"]] == [1, 2]
    history = (await get(filled, listed["items"][0]["api"], "register-system"))["history"]
    assert [h["change"] for h in history] == ["added", "changed"]


async def test_an_entry_with_a_field_the_schema_lacks_fails(
    filled: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The schemas are closed: a field ``entries.py`` adds without its schema is caught."""
    from ai_disclosure.registry import api

    original = api.system_json

    def with_more(*args: Any, **kwargs: Any) -> dict[str, Any]:
        return {**original(*args, **kwargs), "internal_notes": "x"}

    monkeypatch.setattr(api, "system_json", with_more)
    with pytest.raises(AssertionError, match="does not match register-system"):
        await get(filled, "/v1/systems/demarches/assistant-dechets", "register-system")
