"""Each system's history as the register stores it (``system_histories``): advanced
by every published version, so that bulk downloads carry it without reading old
manifests.

The core (``advance``) is pure; the statements run on a sync connection (the
migration that fills the table for an existing register) or an async one
(``Store.publish``) alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, Delete, Insert, Select, delete, insert, select

from .changes import Change, compare, from_json, history_json, system_digests
from .tables import manifest_versions, services, system_histories

__all__ = ["SystemHistory", "advance", "fill", "query", "read", "writes"]


@dataclass(frozen=True, slots=True)
class SystemHistory:
    """One system's stored history, and the digest of its current content (``None``
    once a version removed it)."""

    digest: bytes | None
    changes: tuple[Change, ...]


def advance(
    known: Mapping[str, SystemHistory], version: int, date: str, content: Mapping[str, Any]
) -> dict[str, SystemHistory]:
    """The histories that version ``version`` (published on ``date``, with manifest
    ``content``) adds an entry to: those of the systems it added, changed or
    removed; the others are left out (CPU only)."""
    current = system_digests(content)
    before = {s: h.digest for s, h in known.items() if h.digest is not None}
    found = {}
    for system, kind in compare(before, current).items():
        old = known[system].changes if system in known else ()
        found[system] = SystemHistory(current.get(system), (*old, Change(version, date, kind)))
    return found


def query(service: str) -> Select[Any]:
    """The stored histories of the service's systems (rows for ``read``)."""
    h = system_histories.c
    return select(h.system, h.digest, h.changes).where(h.service == service)


def read(rows: Iterable[Any]) -> dict[str, SystemHistory]:
    """The rows of ``query``, by system id."""
    return {
        r.system: SystemHistory(
            None if r.digest is None else bytes.fromhex(r.digest),
            tuple(from_json(json.loads(r.changes))),
        )
        for r in rows
    }


def writes(
    service: str, changed: Mapping[str, SystemHistory]
) -> list[tuple[Delete | Insert, Sequence[Mapping[str, Any]] | Mapping[str, Any]]]:
    """The statements (with their parameters) that store ``changed``: its rows go,
    then come back as they now are (a plain delete and insert on either backend)."""
    if not changed:
        return []
    h = system_histories.c
    rows = [
        {
            "service": service,
            "system": system,
            "digest": None if history.digest is None else history.digest.hex(),
            "changes": json.dumps(history_json(history.changes), separators=(",", ":")),
        }
        for system, history in sorted(changed.items())
    ]
    gone = delete(system_histories).where(h.service == service, h.system.in_(sorted(changed)))
    return [(gone, {}), (insert(system_histories), rows)]


def _day(value: datetime) -> str:
    return (value if value.tzinfo is not None else value.replace(tzinfo=UTC)).date().isoformat()


def fill(connection: Connection) -> int:
    """Rebuild every service's histories from its stored versions (a migration's
    backfill), one service at a time and one version at a time, so memory holds one
    service's digests; how many systems have a history."""
    m = manifest_versions.c
    filled = 0
    ids = connection.execute(select(services.c.id).order_by(services.c.id)).scalars().all()
    for service in ids:
        known: dict[str, SystemHistory] = {}
        numbers = connection.execute(
            select(m.version, m.created_at).where(m.service == service).order_by(m.version)
        ).all()
        for number in numbers:
            content = connection.execute(
                select(m.content).where(m.service == service, m.version == number.version)
            ).scalar_one()
            known.update(
                advance(known, number.version, _day(number.created_at), json.loads(content))
            )
        # Its rows as they are now: those of systems no version names any more go too.
        connection.execute(delete(system_histories).where(system_histories.c.service == service))
        for statement, parameters in writes(service, known):
            connection.execute(statement, parameters)
        filled += len(known)
    return filled
