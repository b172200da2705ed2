"""Every schema in schemas/ (the wire formats and the registry's answers) is valid
2020-12 and agrees with its valid and invalid examples."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator

from ai_disclosure._schemas import SCHEMA_NAMES, load_schema, validator
from ai_disclosure.registry.responses import (
    load_response_schema,
    response_schemas,
    response_validator,
)

from .conftest import ROOT

SCHEMAS = ROOT / "schemas"
EXAMPLES = SCHEMAS / "examples"
ALL_SCHEMAS = SCHEMA_NAMES + response_schemas()


def _load(name: str) -> dict[str, Any]:
    return load_schema(name) if name in SCHEMA_NAMES else load_response_schema(name)


def _validator(name: str) -> Validator:
    return validator(name) if name in SCHEMA_NAMES else response_validator(name)


def _examples(kind: str) -> list[tuple[str, Path]]:
    return [
        (name, path)
        for name in ALL_SCHEMAS
        for path in sorted((EXAMPLES / name / kind).glob("*.json"))
        if path.name != "EXPECTED.json"
    ]


def test_the_answers_are_every_other_schema_file() -> None:
    files = {p.name.removesuffix(".schema.json") for p in SCHEMAS.glob("*.schema.json")}
    assert set(response_schemas()) == files - set(SCHEMA_NAMES)
    assert {"problem", "register-system"} <= set(response_schemas())
    assert {p.name for p in EXAMPLES.iterdir()} == files  # no examples without a schema
    assert set(SCHEMA_NAMES) < files  # the request schemas are files too


@pytest.mark.parametrize("kind", ["valid", "invalid"])
def test_the_example_tests_run_on_every_schema(kind: str) -> None:
    """An empty glob would make the parametrized example tests skip, not fail."""
    assert {name for name, _ in _examples(kind)} == set(ALL_SCHEMAS)


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_schema_is_valid_2020_12(name: str) -> None:
    schema = _load(name)
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    Draft202012Validator.check_schema(schema)


@pytest.mark.parametrize("name", ALL_SCHEMAS)
def test_every_schema_has_valid_and_invalid_examples(name: str) -> None:
    assert list((EXAMPLES / name / "valid").glob("*.json"))
    assert len(list((EXAMPLES / name / "invalid").glob("*.json"))) > 3


@pytest.mark.parametrize(("name", "path"), _examples("valid"), ids=lambda v: getattr(v, "name", v))
def test_valid_examples_validate(name: str, path: Path) -> None:
    errors = list(_validator(name).iter_errors(json.loads(path.read_text(encoding="utf-8"))))
    assert errors == []


@pytest.mark.parametrize(
    ("name", "path"), _examples("invalid"), ids=lambda v: getattr(v, "name", v)
)
def test_invalid_examples_fail_at_the_expected_field(name: str, path: Path) -> None:
    expected = json.loads((path.parent / "EXPECTED.json").read_text())
    assert path.name in expected, f"add {path.name} to EXPECTED.json"
    errors = list(_validator(name).iter_errors(json.loads(path.read_text(encoding="utf-8"))))
    assert errors, f"{path.name} should be invalid"
    pointers = set()
    for error in errors:
        parts = [str(p) for p in error.absolute_path]
        if error.validator in ("required", "additionalProperties", "unevaluatedProperties"):
            parts.append(str(error.message).split("'")[1])
        pointers.add("/" + "/".join(parts))
    assert expected[path.name] in pointers


def test_expected_lists_only_existing_examples() -> None:
    for name in ALL_SCHEMAS:
        folder = EXAMPLES / name / "invalid"
        for file in json.loads((folder / "EXPECTED.json").read_text()):
            assert (folder / file).is_file(), file


def test_batch_schema_refers_to_manifest_identifiers() -> None:
    batch = json.loads((EXAMPLES / "disclosure-batch/valid/typical.json").read_text())
    batch["counts"][0]["system"] = "Not An Id"
    assert list(validator("disclosure-batch").iter_errors(batch))


def test_unknown_schema_name_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown schema 'manifests'"):
        load_schema("manifests")
    with pytest.raises(ValueError, match="unknown response schema 'register'"):
        load_response_schema("register")


def test_a_pattern_anchors_at_the_very_end_as_json_schema_says() -> None:
    # Python's "$" also matches before a final newline; JSON Schema's does not.
    from ai_disclosure._schemas import validator

    manifest = json.loads((EXAMPLES / "manifest" / "valid" / "every-field.json").read_text())
    manifest["service"]["id"] += "\n"
    errors = list(validator("manifest").iter_errors(manifest))
    assert [list(e.absolute_path) for e in errors] == [["service", "id"]]
