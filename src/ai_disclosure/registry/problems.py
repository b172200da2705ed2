"""RFC 9457 problem details: every API error is one ``Problem``, raised where it is
found and rendered in one place, so clients see one shape everywhere."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response

from .._errors import AIDisclosureError

__all__ = ["PROBLEM_BASE", "PROBLEM_TYPE", "Problem", "problem_response"]

PROBLEM_TYPE = "application/problem+json"
#: Problem types are URIs under the project's namespace (the schemas' ``$id`` host).
PROBLEM_BASE = "https://ai-disclosure.montpellier3m.fr/problems/"

_TITLES = {
    "malformed-body": "The request body cannot be read",
    "invalid-query": "A query parameter is not valid",
    "unauthorized": "A valid service token is required",
    "forbidden": "This token belongs to another service",
    "not-found": "Not found",
    "method-not-allowed": "Method not allowed",
    "payload-too-large": "The request body is too large",
    "unsupported-media-type": "The request body must be JSON",
    "invalid-batch": "The disclosure batch is not valid",
    "unknown-system": "The batch names AI systems its service has not declared",
    "batch-conflict": "This batch id was already used for other content",
    "invalid-manifest": "The manifest is not valid",
    "rate-limited": "Too many batches; slow down",
    "server-error": "The registry failed to handle the request",
}


class Problem(AIDisclosureError):
    """An error to answer with ``application/problem+json``."""

    def __init__(
        self,
        status: int,
        kind: str,
        detail: str,
        *,
        errors: Sequence[Mapping[str, Any]] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.kind = kind
        self.detail = detail
        self.errors = list(errors) if errors is not None else None
        self.headers = dict(headers or {})

    def as_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "type": PROBLEM_BASE + self.kind,
            "title": _TITLES.get(self.kind, self.kind),
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def problem_response(problem: Problem) -> Response:
    content = json.dumps(problem.as_json(), ensure_ascii=False).encode("utf-8")
    return Response(
        content, status_code=problem.status, headers=problem.headers, media_type=PROBLEM_TYPE
    )
