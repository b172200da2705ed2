"""The OpenAPI 3.1 description of every route, written by hand next to the code.

Request bodies reuse the project's JSON Schemas (the single source of the wire
format), their ``$defs`` lifted into ``components``; a test checks that the
routes of the app and the paths listed here are the same set.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from .._schemas import load_schema
from .._version import __version__
from .api import INTERACTIONS, STATUSES
from .problems import PROBLEM_TYPE

__all__ = ["openapi_document"]

_REF_PREFIX = "#/components/schemas/"


def _lift(name: str, schema: dict[str, Any], components: dict[str, Any]) -> None:
    """Put ``schema`` under ``name`` and its ``$defs`` under ``name.def``, fixing refs."""
    prefixes = {
        "manifest.schema.json#/$defs/": _REF_PREFIX + "Manifest.",
        "#/$defs/": _REF_PREFIX + name + ".",
    }

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            fixed = {k: fix(v) for k, v in node.items() if k not in ("$schema", "$id", "$defs")}
            ref = node.get("$ref")
            if isinstance(ref, str):
                for old, new in prefixes.items():
                    if ref.startswith(old):
                        fixed["$ref"] = new + ref[len(old) :]
                        break
            return fixed
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    for key, value in schema.get("$defs", {}).items():
        components[f"{name}.{key}"] = fix(value)
    components[name] = fix(schema)


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


_TEXT = {"type": "object", "additionalProperties": {"type": "string"}}
_NULLABLE_TEXT = {"anyOf": [_TEXT, {"type": "null"}]}
_NULLABLE_STRING = {"type": ["string", "null"]}


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


_PAGE = [
    _query(
        "page",
        "Page number, from 1; ASCII digits.",
        {"type": "integer", "minimum": 1, "maximum": 1_000_000_000},
    ),
    _query("per_page", "Items per page.", {"type": "integer", "minimum": 1, "maximum": 500}),
]
_FILTERS = [
    _query("service", "Only this service's systems.", {"type": "string"}),
    _query("interaction", "Only this kind of use.", {"type": "string", "enum": list(INTERACTIONS)}),
    _query("status", "Only systems with this status.", {"type": "string", "enum": list(STATUSES)}),
    _query(
        "q", "Words to find in names, purposes, providers (accents optional).", {"type": "string"}
    ),
]
_LANG = _query("lang", "Page language: 'en' for English, French otherwise.", {"type": "string"})
_EXPORT_LANG = _query(
    "lang",
    "Language of the texts (one of the manifest's; default: its default).",
    {"type": "string"},
)
_SYSTEM_PARAMS = [
    _path_param("service", "Service identifier."),
    _path_param("system", "AI system identifier, unique within the service."),
]


def _schemas() -> dict[str, Any]:
    components: dict[str, Any] = {}
    _lift("Manifest", copy.deepcopy(load_schema("manifest")), components)
    _lift("DisclosureBatch", copy.deepcopy(load_schema("disclosure-batch")), components)
    counts = {
        "type": "object",
        "required": ["total", "notice_shown", "daily"],
        "properties": {
            "total": {"type": "integer"},
            "notice_shown": {"type": "integer"},
            "first_day": _NULLABLE_STRING,
            "last_day": _NULLABLE_STRING,
            "daily": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["date", "count", "notice_shown"],
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "count": {"type": "integer"},
                        "notice_shown": {"type": "integer"},
                    },
                },
            },
        },
    }
    summary_properties: dict[str, Any] = {
        "service": {"type": "string"},
        "system": {"type": "string"},
        "name": _TEXT,
        "interaction": {"type": "string", "enum": list(INTERACTIONS)},
        "origin": {"type": "string"},
        "status": {"type": "string", "enum": list(STATUSES)},
        "audience": {"type": "string"},
        "human_review": {
            "type": "object",
            "properties": {"reviewed": {"type": "boolean"}, "by": _NULLABLE_STRING},
        },
        "provider": _NULLABLE_STRING,
        "model": _NULLABLE_STRING,
        "url": {"type": "string"},
        "api": {"type": "string"},
        "disclosures": {"type": "integer"},
    }
    summary_required = ["service", "system", "name", "interaction", "origin", "status", "url"]
    decision_properties: dict[str, Any] = {
        "system": {"type": "string", "description": "The AI system that took the decision."},
        "reference": {"type": "string", "description": "The case reference, as logged."},
        "at": {
            "type": "string",
            "format": "date-time",
            "description": "When the decision was taken (UTC), as logged.",
        },
        "system_entry_url": {
            "type": ["string", "null"],
            "description": "The system's public page on this register; null when the "
            "service's current manifest no longer declares the system.",
        },
    }
    decision_required = ["system", "reference", "at", "system_entry_url"]
    components.update(
        {
            "Problem": {
                "type": "object",
                "description": "RFC 9457 problem details.",
                "required": ["type", "title", "status", "detail"],
                "properties": {
                    "type": {"type": "string", "format": "uri"},
                    "title": {"type": "string"},
                    "status": {"type": "integer"},
                    "detail": {"type": "string"},
                    "errors": {
                        "type": "array",
                        "description": "Each field to fix: a JSON pointer into the body "
                        "(or the query parameter) and why.",
                        "items": {
                            "type": "object",
                            "required": ["detail"],
                            "properties": {
                                "pointer": {"type": "string"},
                                "parameter": {"type": "string"},
                                "detail": {"type": "string"},
                            },
                        },
                    },
                },
            },
            "BatchReceipt": {
                "type": "object",
                "required": ["batch_id", "status", "records"],
                "properties": {
                    "batch_id": {"type": "string"},
                    "status": {"type": "string", "enum": ["stored", "duplicate"]},
                    "records": {"type": "integer", "description": "Count rows in the batch."},
                },
            },
            "ManifestReceipt": {
                "type": "object",
                "required": ["service", "version", "changed"],
                "properties": {
                    "service": {"type": "string"},
                    "version": {"type": "integer"},
                    "changed": {"type": "boolean"},
                },
            },
            "Decision": {
                "type": "object",
                "description": "A decision the service logged under a case reference: the "
                "earliest one, and every one (one per system) in `decisions`.",
                "required": [*decision_required, "decisions"],
                "properties": {
                    **decision_properties,
                    "decisions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": decision_required,
                            "properties": decision_properties,
                        },
                    },
                },
            },
            "SystemSummary": {
                "type": "object",
                "required": summary_required,
                "properties": summary_properties,
            },
            "SystemEntry": {
                "type": "object",
                "required": [*summary_required, "purpose", "disclosure", "history", "counts"],
                "properties": {
                    **summary_properties,
                    "purpose": _TEXT,
                    "human_oversight": _NULLABLE_TEXT,
                    "legal_basis": _NULLABLE_TEXT,
                    "data_sources": {"type": "array", "items": _TEXT},
                    "recourse": _NULLABLE_TEXT,
                    "register_url": _NULLABLE_STRING,
                    "ethics_review": {"type": ["object", "null"]},
                    "bias_audit": {"type": ["object", "null"]},
                    "disclosure": {
                        "type": "object",
                        "properties": {
                            "ietf_mode": {"type": "string"},
                            "w3c_value": {"type": "string"},
                            "iptc_digital_source_type": {"type": "string"},
                            "eu_icon": {"type": "string"},
                        },
                    },
                    "routes": {"type": "array", "items": {"type": "string"}},
                    "service_info": _ref("Service"),
                    "history": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["version", "date", "change"],
                            "properties": {
                                "version": {"type": "integer"},
                                "date": {"type": "string", "format": "date"},
                                "change": {
                                    "type": "string",
                                    "enum": ["added", "changed", "removed"],
                                },
                            },
                        },
                    },
                    "counts": counts,
                },
            },
            "Service": {
                "type": "object",
                "required": ["id", "name", "operator", "contact", "manifest_version"],
                "properties": {
                    "id": {"type": "string"},
                    "name": {"type": "string"},
                    "operator": {"type": "string"},
                    "contact": {"type": "string"},
                    "default_language": {"type": "string"},
                    "languages": {"type": "array", "items": {"type": "string"}},
                    "register_url": _NULLABLE_STRING,
                    "description": _NULLABLE_TEXT,
                    "manifest_version": {"type": "integer"},
                    "updated_at": {"type": "string", "format": "date-time"},
                    "systems": {"type": "array", "items": _ref("SystemSummary")},
                    "versions": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "properties": {
                                "version": {"type": "integer"},
                                "date": {"type": "string", "format": "date-time"},
                                "sha256": {"type": "string"},
                            },
                        },
                    },
                    "manifest": {"type": "object"},
                },
            },
            "SystemPage": _paged(_ref("SystemSummary")),
            "StatsPage": _paged(
                {
                    "type": "object",
                    "required": ["date", "service", "system", "count", "notice_shown"],
                    "properties": {
                        "date": {"type": "string", "format": "date"},
                        "service": {"type": "string"},
                        "system": {"type": "string"},
                        "count": {"type": "integer"},
                        "notice_shown": {"type": "integer"},
                    },
                }
            ),
            "Export": {"type": "object", "description": "The entry in another standard's layout."},
        }
    )
    return components


def _paged(item: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["items", "page", "per_page", "total"],
        "properties": {
            "items": {"type": "array", "items": item},
            "page": {"type": "integer"},
            "per_page": {"type": "integer"},
            "total": {"type": "integer"},
        },
    }


_RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait.", "schema": {"type": "integer"}}}
_WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "Bearer", "schema": {"type": "string"}}}
_WRITE_ERRORS = {
    "400": _problem("Malformed JSON or gzip, or a string with a lone surrogate."),
    "401": _problem("Missing, unknown or revoked token.", _WWW_AUTHENTICATE),
    "403": _problem("The token belongs to another service."),
    "413": _problem("Body over the size limit (sent or decompressed)."),
    "415": _problem("Not JSON, or an unsupported Content-Encoding."),
    "422": _problem("Invalid content: every error (at most 1,000), each with its JSON pointer."),
    "429": _problem("Too many requests from this service.", _RETRY_AFTER),
}
_NOT_FOUND = {"404": _problem("No such service or system.")}
_BAD_QUERY = {"400": _problem("A query parameter is not valid.")}


def _paths() -> dict[str, Any]:
    entry_ok = _json(_ref("SystemEntry"), "The system's public entry.")
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
                    **_WRITE_ERRORS,
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
                    **_WRITE_ERRORS,
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
                    "401": _WRITE_ERRORS["401"],
                    "403": _WRITE_ERRORS["403"],
                    "404": _problem("The service logged no decision under this reference."),
                    "429": _WRITE_ERRORS["429"],
                },
            }
        },
        "/v1/services/{service}": {
            "get": {
                "summary": "A service, its systems and its manifest versions",
                "operationId": "getService",
                "parameters": [_path_param("service", "Service identifier.")],
                "responses": {"200": _json(_ref("Service"), "The service."), **_NOT_FOUND},
            }
        },
        "/v1/systems": {
            "get": {
                "summary": "The AI systems of the register",
                "operationId": "listSystems",
                "parameters": [*_PAGE, *_FILTERS],
                "responses": {"200": _json(_ref("SystemPage"), "One page."), **_BAD_QUERY},
            }
        },
        "/v1/systems.csv": {
            "get": {
                "summary": "The AI systems of the register as CSV",
                "operationId": "systemsCsv",
                "parameters": _FILTERS,
                "responses": {
                    "200": {
                        "description": "One row per system (RFC 4180, UTF-8).",
                        "content": {"text/csv": {"schema": {"type": "string"}}},
                    },
                    **_BAD_QUERY,
                },
            }
        },
        "/v1/systems/{service}/{system}": {
            "get": {
                "summary": "A system's public entry with its disclosure counts",
                "operationId": "getSystem",
                "parameters": _SYSTEM_PARAMS,
                "responses": {"200": entry_ok, **_NOT_FOUND},
            }
        },
        "/v1/systems/{service}/{system}/algoritmeregister.json": {
            "get": {
                "summary": "The entry in the Dutch Algoritmeregister publication layout",
                "operationId": "getAlgoritmeregister",
                "parameters": [*_SYSTEM_PARAMS, _EXPORT_LANG],
                "responses": {
                    "200": _json(_ref("Export"), "The entry."),
                    **_NOT_FOUND,
                    **_BAD_QUERY,
                },
            }
        },
        "/v1/systems/{service}/{system}/atrs.json": {
            "get": {
                "summary": "The entry in the UK ATRS layout (tiers 1 and 2)",
                "operationId": "getAtrs",
                "parameters": [*_SYSTEM_PARAMS, _EXPORT_LANG],
                "responses": {
                    "200": _json(_ref("Export"), "The entry."),
                    **_NOT_FOUND,
                    **_BAD_QUERY,
                },
            }
        },
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
                    *_PAGE,
                ],
                "responses": {"200": _json(_ref("StatsPage"), "One page."), **_BAD_QUERY},
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
                "responses": {"200": _html("The list.")},
            }
        },
        "/systems/{service}/{system}": {
            "get": {
                "summary": "A system's register page (where every notice links)",
                "operationId": "pageSystem",
                "parameters": [*_SYSTEM_PARAMS, _LANG],
                "responses": {"200": _html("The page."), "404": _html("No such system.")},
            }
        },
        "/services/{service}": {
            "get": {
                "summary": "A service's register page",
                "operationId": "pageService",
                "parameters": [_path_param("service", "Service identifier."), _LANG],
                "responses": {"200": _html("The page."), "404": _html("No such service.")},
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


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "AI disclosure registry",
            "version": __version__,
            "description": "The central register of the AI systems used by a public body's "
            "digital services, and of how often people were told about them.",
            "license": {"name": "EUPL-1.2", "identifier": "EUPL-1.2"},
        },
        "paths": _paths(),
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
