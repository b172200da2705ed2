"""The OpenAPI 3.1 description of every route, written next to the code and built
from the registry's ``Settings`` and its table of exports.

Request bodies and answers are the project's JSON Schemas (``schemas/``, the
single source of the wire format and of what the API returns), each lifted into
``components`` with its ``$defs``; a test checks that the routes of the app and
the paths listed here are the same set, and the read-API tests check every answer
against its schema.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

from .._schemas import SCHEMA_NAMES, load_schema
from .._version import __version__
from .api import INTERACTIONS, STATUSES, XLSX
from .config import Settings
from .exports import EXPORTS, Export, SystemExport, xlsx_available
from .problems import PROBLEM_TYPE
from .responses import load_response_schema, response_schemas
from .validation import MAX_ERRORS

__all__ = ["COMPONENTS", "component", "openapi_document"]

_REF_PREFIX = "#/components/schemas/"
#: The names in ``components`` of the JSON Schema files (``schemas/<file>.schema.json``)
#: the routes refer to; any other file is lifted too, as ``component(file)`` names it.
COMPONENTS = {
    "manifest": "Manifest",
    "disclosure-batch": "DisclosureBatch",
    "problem": "Problem",
    "batch-receipt": "BatchReceipt",
    "manifest-receipt": "ManifestReceipt",
    "decision": "Decision",
    "register-system": "SystemEntry",
    "register-systems": "SystemPage",
    "register-service": "Service",
    "register-stats": "StatsPage",
    "register-notice": "Notice",
    "export-algoritmeregister": "Algoritmeregister",
    "export-atrs": "Atrs",
}


def component(file: str) -> str:
    """The name in ``components`` of ``schemas/<file>.schema.json``."""
    return COMPONENTS.get(file) or "".join(part.capitalize() for part in file.split("-"))


def _lift(file: str, schema: dict[str, Any], components: dict[str, Any]) -> None:
    """Put ``schema`` under its component name and its ``$defs`` under ``name.def``,
    turning every reference (to itself or to another file) into one to ``components``."""
    name = component(file)

    def target(ref: str) -> str:
        document, _, pointer = ref.partition("#")
        owner = component(document.removesuffix(".schema.json")) if document else name
        if pointer in ("", "/"):
            return _REF_PREFIX + owner
        if pointer.startswith("/$defs/"):
            return _REF_PREFIX + owner + "." + pointer.removeprefix("/$defs/")
        return _REF_PREFIX + owner + pointer

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            fixed = {k: fix(v) for k, v in node.items() if k not in ("$schema", "$id", "$defs")}
            ref = node.get("$ref")
            if isinstance(ref, str):
                fixed["$ref"] = target(ref)
            return fixed
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    for key, value in schema.get("$defs", {}).items():
        components[f"{name}.{key}"] = fix(value)
    components[name] = fix(schema)


def _schemas() -> dict[str, Any]:
    components: dict[str, Any] = {}
    for file in SCHEMA_NAMES:
        _lift(file, copy.deepcopy(load_schema(file)), components)
    for file in response_schemas():
        _lift(file, copy.deepcopy(load_response_schema(file)), components)
    components["Export"] = {
        "type": "object",
        "description": "The entry in another standard's layout.",
    }
    return components


def _ref(name: str) -> dict[str, str]:
    return {"$ref": _REF_PREFIX + name}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _problem(description: str, headers: dict[str, Any] | None = None) -> dict[str, Any]:
    response: dict[str, Any] = {
        "description": description,
        "content": {PROBLEM_TYPE: {"schema": _ref("Problem")}},
    }
    if headers:
        response["headers"] = headers
    return response


def _html(description: str) -> dict[str, Any]:
    return {"description": description, "content": {"text/html": {"schema": {"type": "string"}}}}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name,
        "in": "path",
        "required": True,
        "description": description,
        "schema": {"type": "string"},
    }


def _query(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": name,
        "in": "query",
        "required": False,
        "description": description,
        "schema": schema,
    }


def _page(settings: Settings) -> list[dict[str, Any]]:
    return [
        _query(
            "page",
            "Page number, from 1; ASCII digits.",
            {"type": "integer", "minimum": 1, "maximum": 1_000_000_000},
        ),
        _query(
            "per_page",
            "Items per page.",
            {"type": "integer", "minimum": 1, "maximum": settings.max_per_page},
        ),
    ]


_FILTERS = [
    _query("service", "Only this service's systems.", {"type": "string"}),
    _query("interaction", "Only this kind of use.", {"type": "string", "enum": list(INTERACTIONS)}),
    _query("status", "Only systems with this status.", {"type": "string", "enum": list(STATUSES)}),
    _query(
        "q",
        "Words that must each start a word of the system's names, ids, purpose, "
        "provider or model (case and accents ignored); best matches first.",
        {"type": "string"},
    ),
]
_LANG = _query(
    "lang",
    "Page language: a language tag of the catalog (fr, en, zh-Hans...); without it, or "
    "for one the catalog lacks, Accept-Language, else the register's default language.",
    {"type": "string"},
)
_EXPORT_LANG = _query(
    "lang",
    "Language of the texts (one of the manifest's; default: its default).",
    {"type": "string"},
)
_SYSTEM_PARAMS = [
    _path_param("service", "Service identifier."),
    _path_param("system", "AI system identifier, unique within the service."),
]


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}


def _write_errors(settings: Settings) -> dict[str, Any]:
    return {
        "400": _problem("Malformed JSON or gzip, or a string with a lone surrogate."),
        "401": _problem("Missing, unknown or revoked token.", _WWW_AUTHENTICATE),
        "403": _problem("The token belongs to another service."),
        "413": _problem(
            f"Body over the size limit of {settings.max_body_bytes:,} bytes (sent or decompressed)."
        ),
        "415": _problem("Not JSON, or an unsupported Content-Encoding."),
        "422": _problem(
            f"Invalid content: every error (at most {MAX_ERRORS:,}), each with its JSON pointer."
        ),
        "429": _problem("Too many requests from this service.", _RETRY_AFTER),
    }


_NOT_FOUND = {"404": _problem("No such service or system.")}
_BAD_QUERY = {"400": _problem("A query parameter is not valid.")}
#: Every public read (caching.py): the client's copy, validated by ETag or date, is current.
_NOT_MODIFIED = {
    "304": {
        "description": "The copy the client holds (If-None-Match, If-Modified-Since) is current."
    }
}


def _export_operation(export: Export) -> dict[str, Any]:
    """The operation of an export's route: of one system (404 if unknown, ``lang``)
    or of the register (the list's filters)."""
    if export.schema is not None:
        schema = _ref(component(export.schema))
    elif export.media_type.startswith("application/json"):
        schema = _ref("Export")
    else:
        schema = {"type": "string"}
    ok = {
        "description": export.description,
        "content": {export.media_type.split(";")[0]: {"schema": schema}},
    }
    if isinstance(export, SystemExport):
        parameters = [*_SYSTEM_PARAMS, _EXPORT_LANG]
        responses = {"200": ok, **_NOT_FOUND, **_BAD_QUERY, **_NOT_MODIFIED}
    else:
        parameters = _FILTERS
        responses = {"200": ok, **_BAD_QUERY, **_NOT_MODIFIED}
    return {
        "get": {
            "summary": export.summary,
            "operationId": export.operation_id,
            "parameters": parameters,
            "responses": responses,
        }
    }


def _paths(settings: Settings, exports: Sequence[Export]) -> dict[str, Any]:
    entry_ok = _json(_ref("SystemEntry"), "The system's public entry.")
    write_errors = _write_errors(settings)
    export_paths = {e.path: _export_operation(e) for e in exports}
    return {
        "/v1/disclosures": {
            "post": {
                "summary": "Send a batch of aggregated disclosure counts",
                "operationId": "postDisclosures",
                "security": [{"bearer": []}],
                "parameters": [
                    {
                        "name": "Content-Encoding",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "enum": ["gzip", "identity"]},
                    }
                ],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("DisclosureBatch")}},
                },
                "responses": {
                    "202": _json(_ref("BatchReceipt"), "Stored."),
                    "200": _json(_ref("BatchReceipt"), "Already stored: nothing changed."),
                    **write_errors,
                    "409": _problem(
                        "The service already sent other content under this batch_id "
                        "(pointer /batch_id): nothing was stored."
                    ),
                },
            }
        },
        "/v1/services/{service_id}/manifest": {
            "put": {
                "summary": "Publish the service's AI manifest (a new version if it changed)",
                "operationId": "putManifest",
                "security": [{"bearer": []}],
                "parameters": [_path_param("service_id", "Must equal the manifest's service.id.")],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": _ref("Manifest")}},
                },
                "responses": {
                    "201": _json(_ref("ManifestReceipt"), "A new version was stored."),
                    "200": _json(_ref("ManifestReceipt"), "Identical to the current version."),
                    **write_errors,
                },
            }
        },
        "/v1/services/{service}/decisions/{reference}": {
            "get": {
                "summary": "Which AI system took one of the service's decisions (the service only)",
                "description": "For the service itself (its token): which AI system took the "
                "decision logged under a case reference, when, and the address of the system's "
                "public entry, to answer a person who asks how a decision about them was made. "
                "Decisions are never public.",
                "operationId": "getDecision",
                "security": [{"bearer": []}],
                "parameters": [
                    _path_param("service", "Service identifier; the token's service."),
                    _path_param(
                        "reference",
                        "The case reference the decision was logged under (it may contain "
                        "'/', written as is or as %2F).",
                    ),
                ],
                "responses": {
                    "200": {
                        **_json(_ref("Decision"), "The decision."),
                        "headers": {
                            "Cache-Control": {
                                "description": "no-store",
                                "schema": {"type": "string"},
                            }
                        },
                    },
                    "400": _problem("The reference cannot be a logged case reference."),
                    "401": write_errors["401"],
                    "403": write_errors["403"],
                    "404": _problem("The service logged no decision under this reference."),
                    "429": write_errors["429"],
                },
            }
        },
        "/v1/services/{service}": {
            "get": {
                "summary": "A service, its systems and its manifest versions",
                "operationId": "getService",
                "parameters": [_path_param("service", "Service identifier.")],
                "responses": {
                    "200": _json(_ref("Service"), "The service."),
                    **_NOT_FOUND,
                    **_NOT_MODIFIED,
                },
            }
        },
        "/v1/systems": {
            "get": {
                "summary": "The AI systems of the register",
                "operationId": "listSystems",
                "parameters": [*_page(settings), *_FILTERS],
                "responses": {
                    "200": _json(_ref("SystemPage"), "One page."),
                    **_BAD_QUERY,
                    **_NOT_MODIFIED,
                },
            }
        },
        "/v1/systems/{service}/{system}": {
            "get": {
                "summary": "A system's public entry with its disclosure counts",
                "operationId": "getSystem",
                "parameters": _SYSTEM_PARAMS,
                "responses": {"200": entry_ok, **_NOT_FOUND, **_NOT_MODIFIED},
            }
        },
        "/v1/systems/{service}/{system}/notice": {
            "get": {
                "summary": "A system's notice, ready to show on a page no service server touches",
                "operationId": "getNotice",
                "parameters": [
                    *_SYSTEM_PARAMS,
                    _query(
                        "lang",
                        "The page's language: the notice speaks it if the catalog has it "
                        "(else its primary language, else the service's) and states its own "
                        "language otherwise.",
                        {"type": "string"},
                    ),
                ],
                "responses": {
                    "200": _json(_ref("Notice"), "The notice."),
                    **_NOT_FOUND,
                    **_NOT_MODIFIED,
                },
            }
        },
        **export_paths,
        "/v1/stats": {
            "get": {
                "summary": "Disclosure counts per day and system",
                "operationId": "getStats",
                "parameters": [
                    _query("service", "Only this service.", {"type": "string"}),
                    _query("system", "Only this system.", {"type": "string"}),
                    _query(
                        "from", "First day (UTC), YYYY-MM-DD.", {"type": "string", "format": "date"}
                    ),
                    _query(
                        "to", "Last day (UTC), YYYY-MM-DD.", {"type": "string", "format": "date"}
                    ),
                    *_page(settings),
                ],
                "responses": {
                    "200": _json(_ref("StatsPage"), "One page."),
                    **_BAD_QUERY,
                    **_NOT_MODIFIED,
                },
            }
        },
        **(
            {
                "/v1/systems.xlsx": {
                    "get": {
                        "summary": "The AI systems of the register as a spreadsheet (XLSX)",
                        "operationId": "systemsXlsx",
                        "parameters": _FILTERS,
                        "responses": {
                            "200": {
                                "description": (
                                    "The CSV download's columns and rows, with its history columns."
                                ),
                                "content": {XLSX: {"schema": {"type": "string"}}},
                            },
                            **_BAD_QUERY,
                        },
                    }
                }
            }
            if xlsx_available()
            else {}
        ),
        "/v1/catalog.jsonld": {
            "get": {
                "summary": "The register as a DCAT-AP catalogue, for open-data portals",
                "operationId": "getCatalog",
                "responses": {
                    "200": {
                        "description": "JSON-LD: the catalogue, the register's dataset and "
                        "one dataset per system, each with a distribution per export.",
                        "content": {"application/ld+json": {"schema": {"type": "object"}}},
                    }
                },
            }
        },
        "/openapi.json": {
            "get": {
                "summary": "This document",
                "operationId": "getOpenapi",
                "responses": {"200": _json({"type": "object"}, "OpenAPI 3.1.")},
            }
        },
        "/": {
            "get": {
                "summary": "The public register: every AI system, with search and filters",
                "operationId": "pageIndex",
                "parameters": [*_FILTERS, _LANG],
                "responses": {"200": _html("The list."), **_NOT_MODIFIED},
            }
        },
        "/systems/{service}/{system}": {
            "get": {
                "summary": "A system's register page (where every notice links)",
                "operationId": "pageSystem",
                "parameters": [*_SYSTEM_PARAMS, _LANG],
                "responses": {
                    "200": _html("The page."),
                    "404": _html("No such system."),
                    **_NOT_MODIFIED,
                },
            }
        },
        "/services/{service}": {
            "get": {
                "summary": "A service's register page",
                "operationId": "pageService",
                "parameters": [_path_param("service", "Service identifier."), _LANG],
                "responses": {
                    "200": _html("The page."),
                    "404": _html("No such service."),
                    **_NOT_MODIFIED,
                },
            }
        },
        "/guide": {
            "get": {
                "summary": "How to read the register: each field, how to contest, a glossary",
                "operationId": "pageGuide",
                "parameters": [_LANG],
                "responses": {"200": _html("The page.")},
            }
        },
        "/static/{path}": {
            "get": {
                "summary": "The register's stylesheet and other static files",
                "operationId": "static",
                "parameters": [_path_param("path", "File name, such as register.css.")],
                "responses": {
                    "200": {"description": "The file."},
                    "404": {"description": "No such file."},
                },
            }
        },
    }


def openapi_document(
    settings: Settings | None = None, exports: Sequence[Export] = EXPORTS
) -> dict[str, Any]:
    """The document of a registry with these settings (the defaults unless given) and
    exports: page sizes and body limits are the configured ones, and a configured
    public address is its server."""
    settings = settings or Settings()
    document: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {
            "title": "AI disclosure registry",
            "version": __version__,
            "description": "The central register of the AI systems used by a public body's "
            "digital services, and of how often people were told about them.",
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "paths": _paths(settings, exports),
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "A service token from `ai-disclosure registry token create`.",
                }
            },
        },
    }
    if settings.public_url:
        document["servers"] = [{"url": settings.public_url.rstrip("/")}]
    return document
