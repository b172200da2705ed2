"""The table of exports: one ``Export`` entry gives a format its route, its OpenAPI
operation and its links (the "How to extend" recipe of docs/architecture.md)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio
from starlette.applications import Starlette
from starlette.routing import Route

from ai_disclosure._catalog import catalogs
from ai_disclosure.registry import create_app
from ai_disclosure.registry.exports import (
    EXPORTS,
    Export,
    RegisterData,
    RegisterExport,
    SystemData,
    SystemExport,
)
from ai_disclosure.registry.openapi import openapi_document
from ai_disclosure.registry.responses import response_schemas
from ai_disclosure.registry.tokens import issue_token

from .conftest import Backend, example_manifest, settings


def plain_text(data: SystemData) -> str:
    purpose = data.entry.manifest.text(data.entry.system.purpose, data.language)
    return f"{data.entry.system.id} ({data.language}): {purpose}\n{data.url}\n"


def identifiers(data: RegisterData) -> str:
    return "".join(f"{s.service}/{s.system}\n" for s in data.systems)


#: Two formats a contributor might add, each written once, here, with their links'
#: words in the catalog (``export.<name>``).
LABELS = {
    "export.plain.txt": {"fr": "Texte brut", "en": "Plain text"},
    "export.systems.txt": {"fr": "Identifiants", "en": "Identifiers"},
}
PLAIN = SystemExport(
    name="plain.txt",
    media_type="text/plain; charset=utf-8",
    render=plain_text,
    summary="The entry as plain text",
    operation_id="getPlainText",
)
IDS = RegisterExport(
    name="systems.txt",
    media_type="text/plain; charset=utf-8",
    render=identifiers,
    summary="The identifiers of the register's systems",
    operation_id="systemIdentifiers",
    description="One service/system a line.",
)


@dataclass
class Served:
    app: Starlette
    client: httpx.AsyncClient


@pytest_asyncio.fixture
async def served(backend: Backend, add_text: Callable[..., None]) -> AsyncIterator[Served]:
    """An app with the two extra exports, the example manifest published."""
    for key, texts in LABELS.items():
        add_text(key, texts)
    app = create_app(
        backend.url,
        settings=settings(),
        connect_args=backend.connect_args,
        exports=(*EXPORTS, PLAIN, IDS),
    )
    async with app.router.lifespan_context(app):
        store = await app.state.registry.store()
        _record, token = await issue_token(store.engine, "demarches")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry.test") as c:
            published = await c.put(
                "/v1/services/demarches/manifest",
                json=example_manifest(),
                headers={"Authorization": f"Bearer {token}"},
            )
            assert published.status_code == 201
            yield Served(app, c)


async def test_an_extra_export_answers_on_its_route(served: Served) -> None:
    client = served.client
    url = "/v1/systems/demarches/assistant-dechets/plain.txt"
    response = await client.get(url, params={"lang": "en"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    assert response.text.startswith("assistant-dechets (en): Answer questions about waste")
    assert "http://registry.test/systems/demarches/assistant-dechets" in response.text
    assert (await client.get(url)).text.startswith("assistant-dechets (fr): Répondre")
    assert (await client.get(url, params={"lang": "de"})).status_code == 400
    assert (await client.get("/v1/systems/demarches/nope/plain.txt")).status_code == 404
    listed = await client.get("/v1/systems.txt", params={"interaction": "translation"})
    assert listed.text == "demarches/traduction-pages\n"
    assert (await client.get("/v1/systems.txt", params={"status": "on"})).status_code == 400


async def test_the_document_lists_the_extra_export(served: Served) -> None:
    document = (await served.client.get("/openapi.json")).json()
    settings = served.app.state.registry.settings
    assert document == openapi_document(settings, (*EXPORTS, PLAIN, IDS))
    operation = document["paths"]["/v1/systems/{service}/{system}/plain.txt"]["get"]
    assert operation["operationId"] == "getPlainText"
    assert set(operation["responses"]["200"]["content"]) == {"text/plain"}
    assert {p["name"] for p in operation["parameters"]} == {"service", "system", "lang"}
    listing = document["paths"]["/v1/systems.txt"]["get"]
    assert listing["responses"]["200"]["description"] == "One service/system a line."
    routes = {
        re.sub(r"{(\w+):\w+}", r"{\1}", r.path) for r in served.app.routes if isinstance(r, Route)
    }
    assert {"/v1/systems/{service}/{system}/plain.txt", "/v1/systems.txt"} <= routes
    assert "/v1/systems.txt" not in openapi_document()["paths"]  # the default app's


@pytest.mark.parametrize(("lang", "query"), [("fr", ""), ("en", "?lang=en")])
async def test_the_pages_link_the_extra_export(served: Served, lang: str, query: str) -> None:
    client = served.client
    page = (await client.get(f"/systems/demarches/assistant-dechets{query}")).text
    # An entry's export speaks the page's language, whichever way it was chosen.
    href = f"/v1/systems/demarches/assistant-dechets/plain.txt?lang={lang}"
    assert f'<a href="{href}">{LABELS["export.plain.txt"][lang]}</a>' in page
    home = (await client.get(f"/{query}")).text
    assert f'<a href="/v1/systems.txt{query}">{LABELS["export.systems.txt"][lang]}</a>' in home


def _all(exports: Sequence[Export], field: str) -> list[Any]:
    return [getattr(e, field) for e in exports]


def test_the_table_is_consistent() -> None:
    for export in EXPORTS:
        assert f"export.{export.name}" in catalogs()["en"].texts, export.name
        assert isinstance(export, (SystemExport, RegisterExport)), export.name
        if export.media_type.startswith("application/json"):
            assert export.schema in response_schemas(), f"{export.name} needs a schema"
    for field in ("name", "operation_id", "path"):
        values = _all(EXPORTS, field)
        assert len(values) == len(set(values)), field
