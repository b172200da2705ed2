"""Service tokens: random secrets shown once, stored only as their SHA-256.

A token is ``aidr_`` followed by 43 URL-safe characters (256 random bits); its
public id (``tok_`` + 16 hex digits) names it in listings and revocations. A hash
lookup is enough: the secret has full entropy, so no salt or slow hash is needed.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import finishes
from .tables import tokens

__all__ = [
    "TOKEN_PREFIX",
    "TokenRecord",
    "hash_token",
    "issue_token",
    "list_tokens",
    "new_token",
    "revoke_token",
]

TOKEN_PREFIX = "aidr_"


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """What may be shown about a token: never the secret, never its hash."""

    id: str
    service: str
    label: str | None
    created_at: datetime
    revoked_at: datetime | None


def new_token() -> str:
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def _utc(value: datetime | None) -> datetime | None:
    """SQLite hands timestamps back naive; they were written in UTC."""
    if value is None or value.tzinfo is not None:
        return value
    return value.replace(tzinfo=UTC)


@finishes
async def issue_token(
    engine: AsyncEngine, service: str, *, label: str | None = None
) -> tuple[TokenRecord, str]:
    """Create a token for ``service``; returns its record and the secret (shown once)."""
    secret = new_token()
    record = TokenRecord(
        id="tok_" + secrets.token_hex(8),
        service=service,
        label=label,
        created_at=datetime.now(UTC),
        revoked_at=None,
    )
    async with engine.begin() as connection:
        await connection.execute(
            insert(tokens).values(
                id=record.id,
                service=service,
                hash=hash_token(secret),
                label=label,
                created_at=record.created_at,
            )
        )
    return record, secret


@finishes
async def revoke_token(engine: AsyncEngine, token_id: str) -> bool:
    """Revoke the token ``token_id``; False when no such live token exists."""
    async with engine.begin() as connection:
        result = await connection.execute(
            update(tokens)
            .where(tokens.c.id == token_id, tokens.c.revoked_at.is_(None))
            .values(revoked_at=datetime.now(UTC))
        )
    return bool(result.rowcount)


@finishes
async def list_tokens(engine: AsyncEngine, service: str) -> list[TokenRecord]:
    query = (
        select(tokens.c.id, tokens.c.service, tokens.c.label, tokens.c.created_at)
        .add_columns(tokens.c.revoked_at)
        .where(tokens.c.service == service)
        .order_by(tokens.c.created_at, tokens.c.id)
    )
    async with engine.connect() as connection:
        rows = (await connection.execute(query)).all()
    return [
        TokenRecord(
            id=row.id,
            service=row.service,
            label=row.label,
            created_at=_utc(row.created_at) or row.created_at,
            revoked_at=_utc(row.revoked_at),
        )
        for row in rows
    ]
