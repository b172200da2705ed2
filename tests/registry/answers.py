"""Check the registry's JSON answers against their schemas in ``schemas/``: every
read-API test goes through ``conforms``, so a field added to or dropped from
``entries.py`` without its schema fails the tests that see it."""

from __future__ import annotations

from typing import Any

import httpx

from ai_disclosure.registry.problems import PROBLEM_TYPE
from ai_disclosure.registry.responses import response_validator


def conforms(response: httpx.Response, schema: str) -> Any:
    """The answer's JSON, once it is checked against ``schemas/<schema>.schema.json``."""
    expected = PROBLEM_TYPE if schema == "problem" else "application/json"
    assert response.headers["content-type"] == expected, response.headers["content-type"]
    body = response.json()
    errors = [
        f"/{'/'.join(map(str, e.absolute_path))}: {e.message}"
        for e in response_validator(schema).iter_errors(body)
    ]
    assert errors == [], f"{response.request.url} does not match {schema}"
    return body
