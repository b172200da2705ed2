"""The register's read table: what ``listed_systems`` holds for each system, and the
statements that replace a service's rows.

A service's rows are rewritten whenever it publishes a manifest, in the same
transaction (``Store.publish``), and built for every service by migration 0004
(``rebuild``). Each row carries a ``card``: the system summary the JSON list
returns, the texts lists and exports show, in every language of the manifest, and
the few service facts they print. Lists never parse a manifest.

Changing what a card holds means the stored cards are stale: ship a migration that
calls ``rebuild`` (as 0004 does), so that every database is rewritten once.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, TextClause, insert, inspect, text

from .._model import Text
from . import histories
from .changes import Change, history_json
from .entries import Entry, system_summary, text_json
from .search import words
from .store import Published, content_query, heads_query, load_published
from .tables import SEARCH_TABLE, listed_systems

__all__ = ["card", "listing_rows", "rebuild", "replace_statements"]

log = logging.getLogger(__name__)


def _all(text: Text | None) -> list[str]:
    return list((text or {}).values())


def card(entry: Entry, changes: Sequence[Change] = ()) -> dict[str, Any]:
    """What lists and exports show of one system (JSON-ready), with its history
    (``changes``, oldest first) for the bulk downloads."""
    system = entry.system
    service = entry.manifest.service
    ethics = system.ethics_review
    return {
        "summary": system_summary(entry),
        "service_name": service.name,
        "operator": service.operator,
        "default_language": service.default_language,
        "texts": {
            "name": text_json(system.name),
            "purpose": text_json(system.purpose),
            "legal_basis": text_json(system.legal_basis),
            "recourse": text_json(system.recourse),
        },
        "ethics_review": None if ethics is None else {"status": ethics.status, "date": ethics.date},
        "bias_audit_date": system.bias_audit.date if system.bias_audit else None,
        "history": history_json(changes),
    }


def listing_rows(
    published: Published, changes: Mapping[str, Sequence[Change]] | None = None
) -> list[dict[str, Any]]:
    """The ``listed_systems`` rows of a service's current manifest, with each
    system's history from ``changes`` (by system id) (CPU only)."""
    changes = changes or {}
    manifest = published.manifest
    service = manifest.service
    found = []
    for position, system in enumerate(manifest.systems):
        entry = Entry(published, system)
        title = [*_all(system.name), service.name, system.id, service.id]
        body = [*_all(system.purpose), system.provider, system.model]
        found.append(
            {
                "service": service.id,
                "system": system.id,
                "position": position,
                "version": published.version,
                "status": system.status,
                "interaction": system.interaction.value,
                "origin": system.origin.value,
                "audience": system.audience,
                "reviewed": system.human_review.reviewed,
                "card": json.dumps(
                    card(entry, changes.get(system.id, ())),
                    ensure_ascii=False,
                    separators=(",", ":"),
                ),
                "title": words(title),
                "body": words(body),
            }
        )
    return found


def replace_statements(sqlite: bool) -> tuple[list[TextClause], list[TextClause]]:
    """What runs (with ``service``) before and after a service's new rows are
    inserted: its old rows go, and on SQLite the FTS5 index follows (a contentless
    table forgets a row only when told its indexed values)."""
    before = []
    after = []
    if sqlite:
        before.append(
            text(
                f"INSERT INTO {SEARCH_TABLE} ({SEARCH_TABLE}, rowid, title, body) "
                "SELECT 'delete', id, title, body FROM listed_systems WHERE service = :service"
            )
        )
        after.append(
            text(
                f"INSERT INTO {SEARCH_TABLE} (rowid, title, body) "
                "SELECT id, title, body FROM listed_systems WHERE service = :service"
            )
        )
    before.append(text("DELETE FROM listed_systems WHERE service = :service"))
    return before, after


def _current(connection: Connection) -> Iterator[Published]:
    """Every service's current manifest, parsed, one at a time."""
    for head in connection.execute(heads_query()).all():
        row = connection.execute(content_query(head.id, head.current_version)).first()
        if row is None:
            continue
        found = load_published(head.id, int(head.current_version), row.created_at, row.content)
        if found is not None:
            yield found


def rebuild(connection: Connection) -> int:
    """Rewrite every service's rows from its current manifest and its systems'
    stored histories (a migration's backfill); how many systems are listed. Only
    the columns the table has at this point of the migrations are written, and the
    histories once their table exists: a later migration that adds one rebuilds
    again."""
    before, after = replace_statements(connection.dialect.name == "sqlite")
    inspector = inspect(connection)
    present = {column["name"] for column in inspector.get_columns("listed_systems")}
    kept = "system_histories" in inspector.get_table_names()
    listed = 0
    for published in _current(connection):
        service = {"service": published.manifest.service.id}
        for statement in before:
            connection.execute(statement, service)
        changes = (
            {
                system: history.changes
                for system, history in histories.read(
                    connection.execute(histories.query(service["service"]))
                ).items()
            }
            if kept
            else None
        )
        rows = [
            {k: v for k, v in row.items() if k in present}
            for row in listing_rows(published, changes)
        ]
        if rows:
            connection.execute(insert(listed_systems), rows)
        for statement in after:
            connection.execute(statement, service)
        listed += len(rows)
    return listed
