"""The packaged JSON Schemas (2020-12) and validators for them."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from functools import cache
from typing import Any

from jsonschema import Draft202012Validator, ValidationError, validators
from jsonschema.protocols import Validator
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
def _ecma(pattern: str) -> re.Pattern[str]:
    """``pattern`` with ECMA-262's ``$``, which JSON Schema specifies: the very end
    of the string. Python's ``$`` also matches before a final line break, so an
    identifier with a trailing newline would pass. (The schemas put ``$`` only as
    an anchor, never inside a character class.)"""
    return re.compile(re.sub(r"(?<!\\)\$", r"\\Z", pattern))


def _pattern(
    validator: Validator, pattern: str, instance: Any, schema: dict[str, Any]
) -> Iterator[ValidationError]:
    if validator.is_type(instance, "string") and _ecma(pattern).search(instance) is None:
        yield ValidationError(f"{instance!r} does not match {pattern!r}")


#: Draft 2020-12, with ``pattern`` read as JSON Schema means it.
_Validator: type[Validator] = validators.extend(  # type: ignore[no-untyped-call]
    Draft202012Validator, {"pattern": _pattern}
)


@cache
def validator(name: str) -> Validator:
    """A validator for schema ``name`` that resolves cross-schema references offline."""
    return _Validator(
        load_schema(name),
        registry=_registry(),
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )
