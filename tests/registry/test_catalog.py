"""The register as a DCAT-AP catalogue: RDF a harvester reads, with DCAT-AP's
mandatory properties; and the JSON lines download."""

from __future__ import annotations

import csv
import io
import json
import warnings

import pytest
from rdflib import RDF, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF

from ai_disclosure.registry.api import XLSX
from ai_disclosure.registry.exports import EXPORTS, RegisterExport, SystemExport

from .conftest import Harness, batch, example_manifest, row

VCARD = Namespace("http://www.w3.org/2006/vcard/ns#")


@pytest.fixture
async def filled(harness: Harness) -> Harness:
    token = await harness.ready()
    assert (await harness.send(token, batch([row(count=4)]))).status_code == 202
    return harness


async def catalog_graph(harness: Harness) -> Graph:
    response = await harness.client.get("/v1/catalog.jsonld")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/ld+json")
    json.loads(response.text)  # one JSON document, however many chunks it came in
    with warnings.catch_warnings():
        # rdflib's JSON-LD parser uses its own deprecated ConjunctiveGraph inside.
        warnings.simplefilter("ignore", DeprecationWarning)
        return Graph().parse(data=response.text, format="json-ld")


def one(graph: Graph, subject: URIRef, predicate: URIRef) -> object:
    values = list(graph.objects(subject, predicate))
    assert values, f"{subject} has no {predicate}"
    return values[0]


async def test_the_catalogue_parses_as_rdf_with_dcat_aps_mandatory_properties(
    filled: Harness,
) -> None:
    graph = await catalog_graph(filled)
    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    assert isinstance(catalog, URIRef)
    # Catalogue: title, description, publisher, datasets (mandatory); licence, homepage.
    for predicate in (DCTERMS.title, DCTERMS.description, DCTERMS.publisher, DCTERMS.license):
        one(graph, catalog, predicate)
    publisher = one(graph, catalog, DCTERMS.publisher)
    assert isinstance(publisher, URIRef)
    assert one(graph, publisher, FOAF.name) == Literal("Montpellier Méditerranée Métropole")
    datasets = set(graph.objects(catalog, DCAT.dataset))
    systems = [s["id"] for s in example_manifest()["systems"]]
    assert len(datasets) == 1 + len(systems)  # the register, and each system's entry
    assert set(graph.subjects(RDF.type, DCAT.Dataset)) == datasets
    distributions = set()
    for dataset in datasets:
        assert isinstance(dataset, URIRef)
        # Dataset: title and description (mandatory); publisher, contact point,
        # licence, update date, distributions.
        for predicate in (
            DCTERMS.title,
            DCTERMS.description,
            DCTERMS.publisher,
            DCAT.contactPoint,
            DCTERMS.license,
            DCTERMS.modified,
            DCAT.distribution,
        ):
            one(graph, dataset, predicate)
        contact = one(graph, dataset, DCAT.contactPoint)
        assert one(graph, contact, VCARD.fn) == Literal("Montpellier Méditerranée Métropole")  # type: ignore[arg-type]
        distributions |= set(graph.objects(dataset, DCAT.distribution))
    for distribution in distributions:
        assert (distribution, RDF.type, DCAT.Distribution) in graph
        access = one(graph, distribution, DCAT.accessURL)  # type: ignore[arg-type]
        assert str(access).startswith("http://registry.test/v1/")
        one(graph, distribution, DCTERMS.format)  # type: ignore[arg-type]
    # One distribution per export: each register export once, each system export per system.
    urls = {str(d) for d in distributions}
    for export in EXPORTS:
        if isinstance(export, RegisterExport):
            assert f"http://registry.test{export.path}" in urls
        if isinstance(export, SystemExport):
            for system in systems:
                assert f"http://registry.test/v1/systems/demarches/{system}/{export.name}" in urls
    leaks = URIRef("http://registry.test/systems/demarches/detection-fuites#dataset")
    assert one(graph, leaks, DCTERMS.identifier) == Literal("a6d1e0b2-5c3f-4e8a-b7d9-0f1c2e3d4a5b")


async def test_an_empty_register_is_an_empty_catalogue(harness: Harness) -> None:
    graph = await catalog_graph(harness)
    (catalog,) = graph.subjects(RDF.type, DCAT.Catalog)
    assert len(set(graph.objects(catalog, DCAT.dataset))) == 1  # the register alone
    assert (None, DCTERMS.modified, None) not in graph  # never changed: no date


async def test_the_json_lines_list_every_system_with_its_texts(filled: Harness) -> None:
    response = await filled.client.get("/v1/systems.ndjson")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/x-ndjson")
    assert 'filename="ai-systems.ndjson"' in response.headers["content-disposition"]
    records = [json.loads(line) for line in response.text.splitlines()]
    systems = example_manifest()["systems"]
    assert [r["system"] for r in records] == [s["id"] for s in systems]
    first = records[0]
    assert first["uuid"] == systems[0]["uuid"]
    assert first["texts"]["purpose"]["en"] == systems[0]["purpose"]["en"]
    assert first["disclosures"] == 4
    assert first["register_page"] == "http://registry.test/systems/demarches/assistant-dechets"


async def test_the_spreadsheet_has_the_csv_columns_and_rows(filled: Harness) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    csv_rows = list(csv.reader(io.StringIO((await filled.client.get("/v1/systems.csv")).text)))
    response = await filled.client.get("/v1/systems.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"] == XLSX
    assert 'filename="ai-systems.xlsx"' in response.headers["content-disposition"]
    sheet = openpyxl.load_workbook(io.BytesIO(response.content), read_only=True).active
    cells = [
        ["" if v is None else str(v) for v in row] for row in sheet.iter_rows(values_only=True)
    ]
    assert cells == csv_rows
    assert "uuid" in csv_rows[0]
    filtered = await filled.client.get("/v1/systems.xlsx", params={"interaction": "translation"})
    rows = list(openpyxl.load_workbook(io.BytesIO(filtered.content)).active.iter_rows())
    assert len(rows) == 2  # the header and the one translation system


async def test_a_spreadsheet_cell_is_never_a_formula(harness: Harness) -> None:
    openpyxl = pytest.importorskip("openpyxl")
    token = await harness.token()
    manifest = example_manifest()
    manifest["systems"][0]["provider"] = '=HYPERLINK("http://evil.example","x")'
    assert (await harness.publish(token, manifest)).status_code == 201
    response = await harness.client.get("/v1/systems.xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    provider = [c.value for c in sheet[1]].index("provider")
    cell = sheet.cell(row=2, column=provider + 1)
    assert cell.data_type == "s"
    assert str(cell.value).startswith("'=")
