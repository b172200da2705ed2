"""Every hand-written check uses the schema's own patterns, and none restates one."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ai_disclosure import _patterns
from ai_disclosure._patterns import resolve, schema_pattern
from ai_disclosure._schemas import SCHEMA_NAMES, load_schema, validator

SOURCE = Path(_patterns.__file__).parent

# name in _patterns -> every place in the schemas that states that rule.
WHERE = {
    "IDENTIFIER": [("manifest", "/$defs/identifier")],
    "LANGUAGE": [("manifest", "/$defs/language")],
    "DATE": [("manifest", "/$defs/date")],
    "ROUTE": [
        ("manifest", "/$defs/route/properties/path"),
        ("disclosure-batch", "/$defs/count/properties/route"),
    ],
    "LINE": [("manifest", "/$defs/line"), ("disclosure-batch", "/$defs/line")],
    "REFERENCE": [("disclosure-batch", "/$defs/decision/properties/reference")],
    "UUID": [("disclosure-batch", "/properties/batch_id")],
    "INSTANT": [
        ("disclosure-batch", "/$defs/count/properties/window_start"),
        ("disclosure-batch", "/$defs/decision/properties/at"),
    ],
}


def test_every_compiled_pattern_is_listed() -> None:
    exported = {n for n in _patterns.__all__ if isinstance(getattr(_patterns, n), re.Pattern)}
    assert exported == set(WHERE)


@pytest.mark.parametrize(("name", "schema", "pointer"), [(n, *w) for n in WHERE for w in WHERE[n]])
def test_each_pattern_is_the_schemas(name: str, schema: str, pointer: str) -> None:
    compiled: re.Pattern[str] = getattr(_patterns, name)
    stated = resolve(load_schema(schema), pointer)["pattern"]
    assert compiled is schema_pattern(load_schema(schema), pointer)
    # ECMA-262's '$' is the very end of the string; Python's is not.
    assert compiled.pattern == stated.replace("$", r"\Z")


def test_identifier_is_anchored_as_json_schema_means_it() -> None:
    assert _patterns.IDENTIFIER.fullmatch("assistant-dechets")
    assert not _patterns.IDENTIFIER.match("assistant-dechets\n")
    assert not _patterns.IDENTIFIER.match("-assistant")
    assert not _patterns.IDENTIFIER.match("a" * 65)


def test_a_schema_change_reaches_the_compiled_pattern() -> None:
    """The "new manifest field" recipe: a rule written in the schema is what code checks."""
    schema = copy.deepcopy(load_schema("manifest"))
    schema["$defs"]["identifier"]["pattern"] = "^[a-z]{1,8}$"
    changed = schema_pattern(schema, "/$defs/identifier")
    assert changed.match("dechets")
    assert not changed.match("dechets-2")
    assert _patterns.IDENTIFIER.match("dechets-2")


def test_resolve_reads_escaped_pointer_tokens() -> None:
    assert resolve({"a/b": {"c~d": 1}}, "/a~1b/c~0d") == 1
    assert resolve({"x": 1}, "") == {"x": 1}


def _patterns_in(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if isinstance(node.get("pattern"), str):
            yield node["pattern"]
        for value in node.values():
            yield from _patterns_in(value)
    elif isinstance(node, list):
        for value in node:
            yield from _patterns_in(value)


@pytest.mark.parametrize("name", SCHEMA_NAMES)
def test_no_source_module_restates_a_schema_pattern(name: str) -> None:
    """A pattern copied into Python as a string literal would drift from the schema."""
    bodies = {p.removeprefix("^").removesuffix("$") for p in _patterns_in(load_schema(name))}
    for path in SOURCE.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for body in bodies:
            assert f'"{body}"' not in text, f"{path.name} restates {body!r}"


@pytest.mark.parametrize("service", ["dechets", "dechets\n", "Dechets", "de--chets"])
def test_the_validator_and_the_pattern_agree(service: str) -> None:
    manifest = {
        "service": {
            "id": service,
            "name": "Déchets",
            "operator": "Montpellier Méditerranée Métropole",
            "contact": "mailto:ia@example.org",
            "default_language": "fr",
        },
        "systems": [],
    }
    valid = validator("manifest").is_valid(manifest)
    assert valid == bool(_patterns.IDENTIFIER.fullmatch(service))
