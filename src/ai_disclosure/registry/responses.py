"""The JSON Schemas of the registry's answers (``schemas/*.schema.json``, next to the
manifest and batch schemas they refer to): the single description of what the API
returns, lifted into the OpenAPI document and checked against real answers by the
tests, so that neither can drift from ``entries.py``."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from referencing import Registry, Resource

from .._resources import data_dir
from .._schemas import SCHEMA_NAMES, load_schema

__all__ = ["RESPONSE_SCHEMAS", "load_response_schema", "response_validator"]

#: Every answer the API sends as JSON, by schema file name (without ``.schema.json``).
RESPONSE_SCHEMAS = (
    "problem",
    "batch-receipt",
    "manifest-receipt",
    "decision",
    "register-system",
    "register-systems",
    "register-service",
    "register-stats",
)


@cache
def load_response_schema(name: str) -> dict[str, Any]:
    """The response schema ``name`` as a dict (one of ``RESPONSE_SCHEMAS``)."""
    if name not in RESPONSE_SCHEMAS:
        expected = ", ".join(RESPONSE_SCHEMAS)
        raise ValueError(f"unknown response schema {name!r}; expected one of {expected}")
    path = data_dir("schemas") / f"{name}.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _registry() -> Registry[Any]:
    """Every schema of the project by its ``$id``: the answers refer to the manifest's
    identifiers, languages and vocabularies rather than restating them."""
    schemas = [load_schema(n) for n in SCHEMA_NAMES]
    schemas += [load_response_schema(n) for n in RESPONSE_SCHEMAS]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


@cache
def response_validator(name: str) -> Validator:
    """A validator for the response schema ``name``, resolving references offline."""
    return Draft202012Validator(
        load_response_schema(name),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
