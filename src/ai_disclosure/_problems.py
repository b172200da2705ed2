"""The registry's write answers that are refusals: RFC 9457 problem details.

The registry (``registry/``) and the fake registry apps test against
(``testing.fake_registry``) must refuse the same request the same way: same
status, problem type, title and wording. Both build their refusals here, so a
title or a message changed once changes for both. This module is part of the
SDK core: it imports nothing from ``registry/``, whose extras an app's tests
may not have installed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from ._errors import AIDisclosureError
from ._manifest import ManifestError
from ._model import Manifest

__all__ = [
    "MAX_ERRORS",
    "PROBLEM_BASE",
    "PROBLEM_TYPE",
    "TITLES",
    "Problem",
    "batch_conflict",
    "bearer_token",
    "check_manifest_service",
    "invalid_batch",
    "invalid_manifest",
    "manifest_object",
    "no_token",
    "other_service",
    "undeclared_systems",
    "unknown_token",
]

PROBLEM_TYPE = "application/problem+json"
#: Problem types are URIs under the project's namespace (the schemas' ``$id`` host).
PROBLEM_BASE = "https://ai-disclosure.montpellier3m.fr/problems/"
#: The most errors one problem lists: a listing is bounded in work and size,
#: whatever is sent.
MAX_ERRORS = 1000
#: The ``WWW-Authenticate`` challenge of a 401 (RFC 6750).
_REALM = 'Bearer realm="ai-disclosure-registry"'

#: Each problem type's title: what the type means, the same for every instance.
TITLES = {
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
    """A refusal to answer with ``application/problem+json``, raised where it is found."""

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
            "title": TITLES.get(self.kind, self.kind),
            "status": self.status,
            "detail": self.detail,
        }
        if self.errors is not None:
            body["errors"] = self.errors
        return body


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}{'s' if count != 1 else ''}"


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header; None for no header,
    another scheme, or a value that is not one token (then answer ``no_token()``)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


def no_token() -> Problem:
    """401: no bearer token sent."""
    return Problem(
        401,
        "unauthorized",
        "send the service's token as 'Authorization: Bearer <token>' "
        "(create one with: ai-disclosure registry token create SERVICE)",
        headers={"WWW-Authenticate": _REALM},
    )


def unknown_token() -> Problem:
    """401: a token no service holds (never issued, or revoked)."""
    return Problem(
        401,
        "unauthorized",
        "the token is unknown or revoked",
        headers={"WWW-Authenticate": _REALM + ', error="invalid_token"'},
    )


def other_service(owner: str, named: str) -> Problem:
    """403: the token is ``owner``'s; ``named`` says what the request is for instead
    (``"the batch for 'voirie'"``, ``"not 'voirie'"``)."""
    return Problem(403, "forbidden", f"the token is for service {owner!r}, {named}")


def invalid_batch(errors: Sequence[Mapping[str, Any]], limit: int = MAX_ERRORS) -> Problem:
    """422 for a batch breaking the schema: the first ``limit`` of ``errors`` listed,
    and the summary says when there were more."""
    listed = list(errors[:limit])
    found = (
        f"more than {limit} problems in the batch (the first {limit} listed)"
        if len(errors) > limit
        else f"{_counted(len(listed), 'problem')} in the batch"
    )
    return Problem(422, "invalid-batch", f"{found}; nothing was stored", errors=listed)


def undeclared_systems(errors: Sequence[Mapping[str, Any]], summary: str = "") -> Problem:
    """422 for rows naming systems the service has not declared; ``summary`` replaces
    the count of such rows when one cause explains them all."""
    summary = summary or f"{_counted(len(errors), 'row')} name undeclared systems"
    return Problem(422, "unknown-system", summary + "; nothing was stored", errors=errors)


def batch_conflict(service: str, batch_id: str) -> Problem:
    """409: a batch id sent again with other content (a retry sends the same)."""
    detail = (
        f"service {service!r} already sent a batch {batch_id} with other content; "
        "a new batch needs a new id"
    )
    return Problem(
        409,
        "batch-conflict",
        detail + "; nothing was stored",
        errors=[{"pointer": "/batch_id", "detail": detail}],
    )


def manifest_object(data: Any) -> dict[str, Any]:
    """A published manifest's JSON, which must be an object (422 otherwise)."""
    if not isinstance(data, dict):
        raise Problem(
            422,
            "invalid-manifest",
            "the manifest must be a JSON object with 'service' and 'systems'",
            errors=[{"pointer": "", "detail": "must be a JSON object"}],
        )
    return data


def invalid_manifest(error: ManifestError) -> Problem:
    """422 listing every problem the manifest's parse found."""
    return Problem(
        422,
        "invalid-manifest",
        f"{_counted(len(error.problems), 'problem')} in the manifest; nothing was stored",
        errors=[{"pointer": p.pointer, "detail": p.message} for p in error.problems],
    )


def check_manifest_service(manifest: Manifest, service: str) -> None:
    """A manifest is published under its own service's URL only (422 otherwise)."""
    if manifest.service.id != service:
        detail = f"is {manifest.service.id!r} but the URL names {service!r}"
        raise Problem(
            422,
            "invalid-manifest",
            f"service.id {detail}",
            errors=[{"pointer": "/service/id", "detail": detail}],
        )
