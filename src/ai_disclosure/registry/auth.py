"""Bearer tokens (RFC 6750): who is sending, checked before the body is read."""

from __future__ import annotations

from starlette.requests import Request

from .. import _problems
from .store import Store, TokenOwner

__all__ = ["authenticate", "bearer_token"]


def bearer_token(request: Request) -> str | None:
    return _problems.bearer_token(request.headers.get("authorization"))


async def authenticate(request: Request, store: Store) -> TokenOwner:
    """The token's owner; a 401 problem with ``WWW-Authenticate`` otherwise."""
    token = bearer_token(request)
    if token is None:
        raise _problems.no_token()
    owner = await store.token_owner(token)
    if owner is None:
        raise _problems.unknown_token()
    return owner
