"""The register's public lists, answered by the database over ``listed_systems``.

Every query returns only what a page shows: one page of systems (bounded offset,
``per_page`` at most ``Settings.max_per_page``) and how many pass the filters
(``COUNT(*)`` over the read table, never over manifests); the totals of that
page's systems only (summed over ``daily_totals`` by its primary key); exports in
chunks walked by key, so their memory does not grow with the register.

``Reads`` holds an engine and nothing else: it may be the primary's or a read
replica's (``--read-db``).
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    FromClause,
    Row,
    Select,
    and_,
    cast,
    column,
    func,
    literal,
    literal_column,
    or_,
    select,
    table,
    tuple_,
)
from sqlalchemy.dialects.postgresql import TSQUERY
from sqlalchemy.ext.asyncio import AsyncEngine

from .db import finishes
from .search import fts5_query, terms, tsquery
from .store import Totals, read_totals, totals_query
from .tables import SEARCH_COLUMN, SEARCH_TABLE, batches, daily_totals, listed_systems, services

__all__ = ["EXPORT_CHUNK", "RANKED_AT_MOST", "Filters", "Listed", "Marker", "Page", "Reads"]

#: Systems read per query while an export streams.
EXPORT_CHUNK = 500
#: Matches ranked at most: a query that matches more systems than this (a letter, a
#: word every entry holds) lists them in register order, since ranking would score
#: every one of them, and ranks them poorly anyway.
RANKED_AT_MOST = 5000
#: How much more a title word weighs than another word in SQLite's ranking (bm25
#: column weights); PostgreSQL's ``ts_rank`` weighs ``A`` against ``D`` (1.0 / 0.1).
TITLE_WEIGHT = 10.0

_search = table(SEARCH_TABLE, column("rowid"))


@dataclass(frozen=True, slots=True)
class Filters:
    """What a list is narrowed to; ``query`` is the text people typed (``q``)."""

    service: str | None = None
    interaction: str | None = None
    status: str | None = None
    query: str | None = None

    @property
    def terms(self) -> list[str]:
        return terms(self.query)


@dataclass(frozen=True, slots=True)
class Listed:
    """One system as lists show it: its keys and its card (see ``listing.card``)."""

    service: str
    system: str
    card: dict[str, Any]

    @property
    def key(self) -> tuple[str, str]:
        return (self.service, self.system)


@dataclass(frozen=True, slots=True)
class Page:
    total: int
    items: list[Listed] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Marker:
    """When the public register last changed (a manifest published, a batch stored):
    the validators of cached public reads."""

    #: What the register's state is known by (the newest manifest's and batch's
    #: times and the software version); the ETag is derived from it with the day.
    key: str
    last_modified: datetime | None


def _listed(row: Any) -> Listed:
    return Listed(row.service, row.system, json.loads(row.card))


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


class Reads:
    """The public read queries, over ``engine`` (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"

    def _filtered(
        self, filters: Filters
    ) -> tuple[FromClause, list[ColumnElement[bool]], ColumnElement[Any] | None]:
        """The rows that pass ``filters``: what to select from, the conditions, and
        the search rank to order by (``None`` without a query)."""
        conditions: list[ColumnElement[bool]] = []
        c = listed_systems.c
        if filters.service:
            conditions.append(c.service == filters.service)
        if filters.interaction:
            conditions.append(c.interaction == filters.interaction)
        if filters.status:
            conditions.append(c.status == filters.status)
        found = filters.terms
        source: FromClause = listed_systems
        rank: ColumnElement[Any] | None = None
        if found and self.postgresql:
            vector: ColumnElement[Any] = literal_column(f"listed_systems.{SEARCH_COLUMN}")
            query = cast(literal(tsquery(found)), TSQUERY)
            conditions.append(vector.op("@@")(query))
            rank = func.ts_rank(vector, query).desc()
        elif found:
            source = listed_systems.join(_search, _search.c.rowid == c.id)
            conditions.append(literal_column(SEARCH_TABLE).op("MATCH")(fts5_query(found)))
            rank = func.bm25(literal_column(SEARCH_TABLE), TITLE_WEIGHT, 1.0).asc()
        return source, conditions, rank

    @finishes
    async def page(self, filters: Filters, *, offset: int, limit: int) -> Page:
        """The systems passing ``filters`` from ``offset`` (at most ``limit``), best
        matches first when searching (up to ``RANKED_AT_MOST`` matches), else in
        register order; and how many pass."""
        source, conditions, rank = self._filtered(filters)
        c = listed_systems.c
        chosen: Select[Any] = select(c.service, c.system, c.card).select_from(source)
        chosen = chosen.where(*conditions)
        counted = select(func.count()).select_from(source).where(*conditions)
        async with self.engine.connect() as connection:
            total = int((await connection.execute(counted)).scalar_one())
            if total <= offset:
                return Page(total)
            if total > RANKED_AT_MOST:
                rank = None
            if rank is None and offset > total // 2:
                # Past the middle, read the register's index from its end: the last
                # page costs what the first does.
                size = min(limit, total - offset)
                query = chosen.order_by(c.service.desc(), c.position.desc())
                query = query.offset(total - offset - size).limit(size)
                rows = list(reversed((await connection.execute(query)).all()))
            else:
                order = [c.service, c.position] if rank is None else [rank, c.service, c.position]
                query = chosen.order_by(*order).offset(offset).limit(limit)
                rows = list((await connection.execute(query)).all())
        return Page(total, [_listed(r) for r in rows])

    async def chunks(
        self, filters: Filters, *, size: int | None = None
    ) -> AsyncIterator[list[Listed]]:
        """Every system passing ``filters``, in register order, ``size`` at a time:
        each chunk is one short query from the last key seen, so an export of the
        whole register holds one chunk in memory and no connection between chunks."""
        size = size or EXPORT_CHUNK
        source, conditions, _rank = self._filtered(filters)
        c = listed_systems.c
        after: tuple[str, int] | None = None
        while True:
            query = select(c.service, c.system, c.position, c.card).select_from(source)
            where = list(conditions)
            if after is not None:
                where.append(tuple_(c.service, c.position) > tuple_(*after))
            query = query.where(*where).order_by(c.service, c.position).limit(size)
            rows = await self._rows(query)
            if not rows:
                return
            yield [_listed(r) for r in rows]
            if len(rows) < size:
                return
            after = (rows[-1].service, int(rows[-1].position))

    @finishes
    async def _rows(self, query: Select[Any]) -> Sequence[Row[Any]]:
        async with self.engine.connect() as connection:
            rows: Sequence[Row[Any]] = (await connection.execute(query)).all()
        return rows

    async def counted_chunks(
        self, filters: Filters
    ) -> AsyncIterator[tuple[list[Listed], dict[tuple[str, str], Totals]]]:
        """``chunks``, each with its systems' disclosure totals (what exports show)."""
        async for chunk in self.chunks(filters):
            yield chunk, await self.totals([listed.key for listed in chunk])

    @finishes
    async def totals(self, keys: Sequence[tuple[str, str]]) -> dict[tuple[str, str], Totals]:
        """Disclosure totals of the given (service, system) pairs only."""
        if not keys:
            return {}
        d = daily_totals.c
        by_service: dict[str, set[str]] = {}
        for service, system in keys:
            by_service.setdefault(service, set()).add(system)
        # One condition per service, on the primary key's two first columns: both
        # backends look each up in the index (a list of pairs made PostgreSQL scan
        # the table).
        query = totals_query(self.postgresql).where(
            or_(
                *(
                    and_(d.service == service, d.system.in_(sorted(systems)))
                    for service, systems in by_service.items()
                )
            )
        )
        async with self.engine.connect() as connection:
            return read_totals((await connection.execute(query)).all())

    @finishes
    async def service_choices(self, limit: int) -> list[tuple[str, str]] | None:
        """Every listed service as (id, name), in id order, if there are at most
        ``limit`` of them; ``None`` for a register with more."""
        c = listed_systems.c
        query = (
            select(c.service, c.card).where(c.position == 0).order_by(c.service).limit(limit + 1)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        if len(rows) > limit:
            return None
        return [(r.service, json.loads(r.card)["service_name"]) for r in rows]

    @finishes
    async def marker(self, version: str = "") -> Marker:
        """The register-wide validators: the newest manifest and the newest batch
        (two index lookups), and ``version``, the software's, whose answers may
        differ from the last one's for the same data."""
        query = select(
            select(func.max(services.c.updated_at)).scalar_subquery(),
            select(func.max(batches.c.received_at)).scalar_subquery(),
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).one()
        published, received = _utc(row[0]), _utc(row[1])
        stamps = [s for s in (published, received) if s is not None]
        key = "|".join([version, *(s.isoformat() if s else "-" for s in (published, received))])
        return Marker(key, max(stamps) if stamps else None)
