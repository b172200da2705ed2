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

__all__ = ["load_response_schema", "response_schemas", "response_validator"]

_SUFFIX = ".schema.json"


@cache
def response_schemas() -> tuple[str, ...]:
    """The names of the answers' schemas: every file of ``schemas/`` other than the
    wire formats services send (so a new one needs no list to be kept)."""
    files = data_dir("schemas").glob("*" + _SUFFIX)
    names = (f.name.removesuffix(_SUFFIX) for f in files)
    return tuple(sorted(n for n in names if n not in SCHEMA_NAMES))


@cache
def load_response_schema(name: str) -> dict[str, Any]:
    """The response schema ``name`` as a dict (one of ``response_schemas()``)."""
    if name not in response_schemas():
        expected = ", ".join(response_schemas())
        raise ValueError(f"unknown response schema {name!r}; expected one of {expected}")
    path = data_dir("schemas") / (name + _SUFFIX)
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _registry() -> Registry[Any]:
    """Every schema of the project by its ``$id``: the answers refer to the manifest's
    identifiers, languages and vocabularies rather than restating them."""
    schemas = [load_schema(n) for n in SCHEMA_NAMES]
    schemas += [load_response_schema(n) for n in response_schemas()]
    return Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)


@cache
def response_validator(name: str) -> Validator:
    """A validator for the response schema ``name``, resolving references offline."""
    return Draft202012Validator(
        load_response_schema(name),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
