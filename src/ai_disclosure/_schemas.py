"""The packaged JSON Schemas (2020-12) and validators for them."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from referencing import Registry, Resource

from ._resources import data_dir

__all__ = ["SCHEMA_NAMES", "load_schema", "validator"]

SCHEMA_NAMES = ("manifest", "disclosure-batch")


@cache
def load_schema(name: str) -> dict[str, Any]:
    """The schema ``name`` ("manifest" or "disclosure-batch") as a dict."""
    if name not in SCHEMA_NAMES:
        raise ValueError(f"unknown schema {name!r}; expected one of {', '.join(SCHEMA_NAMES)}")
    path = data_dir("schemas") / f"{name}.schema.json"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


@cache
def _registry() -> Registry[Any]:
    resources = [(s["$id"], Resource.from_contents(s)) for s in map(load_schema, SCHEMA_NAMES)]
    return Registry().with_resources(resources)


@cache
def validator(name: str) -> Draft202012Validator:
    """A validator for schema ``name`` that resolves cross-schema references offline."""
    return Draft202012Validator(
        load_schema(name),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
