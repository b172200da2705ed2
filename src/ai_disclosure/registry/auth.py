"""Bearer tokens (RFC 6750): who is sending, checked before the body is read."""

from __future__ import annotations

from starlette.requests import Request

from .._problems import BEARER_REALM
from .problems import Problem
from .store import Store, TokenOwner

__all__ = ["authenticate", "bearer_token"]


def bearer_token(request: Request) -> str | None:
    value = request.headers.get("authorization", "")
    scheme, _, token = value.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        return None
    return token


async def authenticate(request: Request, store: Store) -> TokenOwner:
    """The token's owner; a 401 problem with ``WWW-Authenticate`` otherwise."""
    token = bearer_token(request)
    if token is None:
        raise Problem(
            401,
            "unauthorized",
            "send the service's token as 'Authorization: Bearer <token>' "
            "(create one with: ai-disclosure registry token create SERVICE)",
            headers={"WWW-Authenticate": BEARER_REALM},
        )
    owner = await store.token_owner(token)
    if owner is None:
        raise Problem(
            401,
            "unauthorized",
            "the token is unknown or revoked",
            headers={"WWW-Authenticate": BEARER_REALM + ', error="invalid_token"'},
        )
    return owner
