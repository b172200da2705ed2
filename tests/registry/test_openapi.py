"""/openapi.json documents every route of the app, and nothing else."""

from __future__ import annotations

import re

from jsonschema import Draft202012Validator
from starlette.routing import Mount, Route

from ai_disclosure.registry import create_app
from ai_disclosure.registry.openapi import openapi_document

from .conftest import Harness, load_batch


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


def test_every_reference_resolves() -> None:
    document = openapi_document()
    schemas = document["components"]["schemas"]

    def walk(node: object) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                assert ref.startswith("#/components/schemas/"), ref
                assert ref.removeprefix("#/components/schemas/") in schemas, ref
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)


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
