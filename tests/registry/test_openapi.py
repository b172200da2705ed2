"""/openapi.json documents every route of the app, and nothing else."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from starlette.routing import Mount, Route

from ai_disclosure.registry import Settings, create_app
from ai_disclosure.registry.openapi import component, openapi_document
from ai_disclosure.registry.responses import response_schemas

from ..conftest import ROOT
from .conftest import Harness, load_batch

EXAMPLES = ROOT / "schemas" / "examples"


def app_routes() -> set[tuple[str, str]]:
    app = create_app("sqlite+aiosqlite:///unused.sqlite3")
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, Route):
            path = re.sub(r"{(\w+):\w+}", r"{\1}", route.path)
            found |= {(path, m.lower()) for m in route.methods or () if m != "HEAD"}
        elif isinstance(route, Mount):
            found.add((route.path + "/{path}", "get"))
    return found


def documented() -> set[tuple[str, str]]:
    paths = openapi_document()["paths"]
    return {(path, method) for path, item in paths.items() for method in item}


def test_every_route_is_documented_and_vice_versa() -> None:
    assert app_routes() == documented()


def test_path_parameters_are_declared() -> None:
    for path, item in openapi_document()["paths"].items():
        names = set(re.findall(r"{(\w+)}", path))
        for operation in item.values():
            declared = {p["name"] for p in operation.get("parameters", ()) if p["in"] == "path"}
            assert declared == names, path


def resolve(document: dict[str, Any], ref: str) -> Any:
    """The node a local reference (a JSON pointer into the document) names."""
    assert ref.startswith("#/"), ref
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), ref
        assert part in node, ref
        node = node[part]
    return node


def test_every_reference_resolves() -> None:
    document = openapi_document()
    seen = 0

    def walk(node: object) -> None:
        nonlocal seen
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith("#/components/schemas/"), ref
                assert isinstance(resolve(document, ref), dict), ref
                seen += 1
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert seen


def test_embedded_batch_schema_accepts_and_refuses_like_the_original() -> None:
    document = openapi_document()
    schema = {
        "$ref": "#/components/schemas/DisclosureBatch",
        "components": document["components"],
    }
    validator = Draft202012Validator(schema)
    assert validator.is_valid(load_batch("valid", "typical.json"))
    assert not validator.is_valid(load_batch("invalid", "zero-count.json"))
    assert not validator.is_valid(load_batch("invalid", "unknown-mode.json"))


async def test_served_document(harness: Harness) -> None:
    response = await harness.client.get("/openapi.json")
    assert response.status_code == 200
    body = response.json()
    assert body["openapi"] == "3.1.0"
    assert body == openapi_document()


def test_batch_conflict_and_bad_parameters_are_documented() -> None:
    paths = openapi_document()["paths"]
    post = paths["/v1/disclosures"]["post"]["responses"]
    assert {"200", "202", "400", "409", "422"} <= set(post)
    assert "batch_id" in post["409"]["description"]
    for path in ("/v1/systems", "/v1/stats"):
        assert "400" in paths[path]["get"]["responses"], path


def test_every_response_schema_is_in_the_document() -> None:
    schemas = openapi_document()["components"]["schemas"]
    assert {component(name) for name in response_schemas()} <= set(schemas)
    assert component("register-system") == "SystemEntry"
    assert component("some-new-layout") == "SomeNewLayout"


@pytest.mark.parametrize("name", response_schemas())
def test_lifted_response_schemas_accept_and_refuse_like_the_files(name: str) -> None:
    document = openapi_document()
    lifted = Draft202012Validator(
        {"$ref": "#/components/schemas/" + component(name), "components": document["components"]}
    )
    for path in sorted((EXAMPLES / name / "valid").glob("*.json")):
        assert lifted.is_valid(json.loads(path.read_text("utf-8"))), path.name
    for path in sorted((EXAMPLES / name / "invalid").glob("*.json")):
        if path.name != "EXPECTED.json":
            assert not lifted.is_valid(json.loads(path.read_text("utf-8"))), path.name


def per_page(document: dict[str, Any], path: str) -> dict[str, Any]:
    (parameter,) = (
        p for p in document["paths"][path]["get"]["parameters"] if p["name"] == "per_page"
    )
    schema: dict[str, Any] = parameter["schema"]
    return schema


def test_the_document_follows_the_settings() -> None:
    default = openapi_document()
    assert per_page(default, "/v1/systems")["maximum"] == Settings().max_per_page
    assert "servers" not in default
    settings = Settings(max_per_page=20, max_body_bytes=4096, public_url="https://r.example/")
    tuned = openapi_document(settings)
    assert per_page(tuned, "/v1/systems") == {"type": "integer", "minimum": 1, "maximum": 20}
    assert per_page(tuned, "/v1/stats")["maximum"] == 20
    assert (
        "4,096 bytes"
        in tuned["paths"]["/v1/disclosures"]["post"]["responses"]["413"]["description"]
    )
    assert tuned["servers"] == [{"url": "https://r.example"}]


async def test_the_served_document_is_the_apps_settings(make_harness: Any) -> None:
    harness: Harness = await make_harness(max_per_page=30)
    body = (await harness.client.get("/openapi.json")).json()
    assert per_page(body, "/v1/systems")["maximum"] == 30
    assert body == openapi_document(harness.registry.settings)
    too_many = await harness.client.get("/v1/systems", params={"per_page": "31"})
    assert too_many.status_code == 400
