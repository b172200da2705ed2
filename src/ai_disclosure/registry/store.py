"""Everything the registry reads and writes, over one async engine.

Ingest is the hot path: a batch is recorded and its counts upserted in one
transaction whose first statement claims the batch id within its service
(``INSERT ... ON CONFLICT DO NOTHING`` on (service, batch_id)). A second copy of
the batch, sent at the same moment, blocks on that unique key until the first
commits and then inserts nothing: it is a duplicate, and its counts are never
added. The claim stores a digest of the batch's content, so that the same id
with other content is told apart (a conflict) from a replay. Rows are summed per key and sorted
before the upsert, so concurrent batches touch keys in the same order and cannot
deadlock on PostgreSQL.

Decisions (the decision-level log) are written in the same transaction, after the
counts: inserted once per (service, system, reference) (``ON CONFLICT DO
NOTHING``), then the ones this batch actually added - those that carry its
``batch_id`` - are counted into ``decision_months``. They are never published;
only their number per month is.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Generic, Literal, TypeVar

from sqlalchemy import Select, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from .._manifest import ManifestError, parse_manifest
from .._model import Manifest
from .._receipts import ReceiptStatus
from . import histories
from .changes import Change, from_json
from .db import finishes
from .tables import (
    batches,
    daily_totals,
    decision_months,
    decisions,
    listed_systems,
    manifest_versions,
    services,
    system_histories,
    tokens,
)
from .tokens import hash_token
from .workers import Workers

__all__ = [
    "PARSED_CACHE",
    "DayCount",
    "DecisionRecord",
    "IngestResult",
    "ManifestVersion",
    "MonthCount",
    "Prepared",
    "PublishResult",
    "Published",
    "StatsRow",
    "Store",
    "StoredBatch",
    "TokenOwner",
    "Totals",
    "canonical_json",
    "content_digest",
    "content_query",
    "heads_query",
    "load_published",
    "prepare",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class TokenOwner:
    """The service a live token speaks for, and the systems its manifest declares
    (``None`` when it has not published one yet)."""

    service: str
    systems: frozenset[str] | None


@dataclass(frozen=True, slots=True)
class IngestResult:
    """``stored``; ``duplicate``: the service sent this very batch before, nothing
    changed; ``conflict``: it sent other content under this id, nothing changed."""

    status: Literal[ReceiptStatus.STORED, ReceiptStatus.DUPLICATE, "conflict"]
    records: int


@dataclass(frozen=True, slots=True)
class StoredBatch:
    records: int
    digest: str | None  # None for batches stored before digests were kept

    def replayed_by(self, digest: str) -> bool:
        """Whether a batch with content ``digest`` is this one again."""
        return self.digest is None or self.digest == digest


@dataclass(frozen=True, slots=True)
class PublishResult:
    version: int
    changed: bool


@dataclass(frozen=True, slots=True)
class Published:
    """A service's current manifest, as the register shows it."""

    manifest: Manifest
    version: int
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class ManifestVersion:
    """A version of a service's manifest as lists show it: never its content."""

    version: int
    created_at: datetime
    sha256: str


@dataclass(frozen=True, slots=True)
class Totals:
    count: int = 0
    notice_shown: int = 0
    first_day: str | None = None
    last_day: str | None = None


@dataclass(frozen=True, slots=True)
class DayCount:
    day: str
    count: int
    notice_shown: int


@dataclass(frozen=True, slots=True)
class MonthCount:
    month: str  # YYYY-MM, UTC
    count: int


@dataclass(frozen=True, slots=True)
class DecisionRecord:
    """One logged decision: which system, for which case reference, when (UTC text)."""

    system: str
    reference: str
    at: str


@dataclass(frozen=True, slots=True)
class StatsRow:
    day: str
    service: str
    system: str
    count: int
    notice_shown: int


def totals_query(is_postgresql: bool) -> Select[Any]:
    """Totals per (service, system) over ``daily_totals``; the caller narrows it."""
    # PostgreSQL sums BIGINT into NUMERIC; SQLite's sum() raises on overflow, its
    # total() does not (a float, exact below 2^53).
    add = func.sum if is_postgresql else func.total
    d = daily_totals.c
    return select(
        d.service,
        d.system,
        add(d.count).label("total"),
        add(d.notice_shown).label("notice_shown"),
        func.min(d.day).label("first_day"),
        func.max(d.day).label("last_day"),
    ).group_by(d.service, d.system)


def read_totals(rows: Sequence[Any]) -> dict[tuple[str, str], Totals]:
    """The rows of ``totals_query``, by (service, system)."""
    return {
        (r.service, r.system): Totals(int(r.total), int(r.notice_shown), r.first_day, r.last_day)
        for r in rows
    }


def canonical_json(data: Mapping[str, Any]) -> str:
    """One spelling per content, so identical manifests hash identically."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _utc(value: datetime) -> datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


#: Sums saturate at the largest 64-bit integer rather than overflow (PostgreSQL would
#: fail the batch, SQLite turn the column into a float); real traffic never gets near.
MAX_SUM = 2**63 - 1


def _add(table: str, column: str) -> str:
    old, new = f'{table}."{column}"', f'excluded."{column}"'
    return f'"{column}" = CASE WHEN {old} > {MAX_SUM} - {new} THEN {MAX_SUM} ELSE {old} + {new} END'


def _upsert_sql(postgresql: bool) -> tuple[str, str]:
    """The two ingest upserts, written for the driver: SQLite takes ``executemany``
    rows, PostgreSQL one statement over arrays (``unnest``), far fewer round trips."""
    count_key = '"service", "system", "window_start", "route", "mode", "notice_shown", "language"'
    add_count = f"DO UPDATE SET {_add('counts', 'count')}"
    daily_key = '"service", "system", "day"'
    add_daily = (
        f"DO UPDATE SET {_add('daily_totals', 'count')}, {_add('daily_totals', 'notice_shown')}"
    )
    if postgresql:
        counts_sql = (
            f'INSERT INTO counts ({count_key}, "count") '
            "SELECT $1::varchar, u.* FROM unnest($2::varchar[], $3::varchar[], $4::varchar[], "
            "$5::varchar[], $6::boolean[], $7::varchar[], $8::bigint[]) AS u "
            f"ON CONFLICT ({count_key}) {add_count}"
        )
        daily_sql = (
            f'INSERT INTO daily_totals ({daily_key}, "count", "notice_shown") '
            "SELECT $1::varchar, u.* FROM unnest($2::varchar[], $3::varchar[], $4::bigint[], "
            "$5::bigint[]) AS u "
            f"ON CONFLICT ({daily_key}) {add_daily}"
        )
    else:
        counts_sql = (
            f'INSERT INTO counts ({count_key}, "count") VALUES (?, ?, ?, ?, ?, ?, ?, ?) '
            f"ON CONFLICT ({count_key}) {add_count}"
        )
        daily_sql = (
            f'INSERT INTO daily_totals ({daily_key}, "count", "notice_shown") '
            f"VALUES (?, ?, ?, ?, ?) ON CONFLICT ({daily_key}) {add_daily}"
        )
    return counts_sql, daily_sql


def _decision_sql(postgresql: bool) -> tuple[str, str]:
    """Insert decisions once each, then add the ones this batch brought to the months."""
    key = '"service", "reference", "system"'
    month_key = '"service", "system", "month"'
    month = 'substr("at", 1, 7)'
    if postgresql:
        insert_sql = (
            f'INSERT INTO decisions ({key}, "at", "batch_id") '
            "SELECT $1::varchar, u.reference, u.system, u.at, $2::varchar "
            "FROM unnest($3::varchar[], $4::varchar[], $5::varchar[]) AS u(reference, system, at) "
            f"ON CONFLICT ({key}) DO NOTHING"
        )
        where = '"service" = $1 AND "batch_id" = $2'
    else:
        insert_sql = (
            f'INSERT INTO decisions ({key}, "at", "batch_id") VALUES (?, ?, ?, ?, ?) '
            f"ON CONFLICT ({key}) DO NOTHING"
        )
        where = '"service" = ? AND "batch_id" = ?'
    months_sql = (
        f'INSERT INTO decision_months ({month_key}, "count") '
        f'SELECT "service", "system", {month}, count(*) FROM decisions WHERE {where} '
        f'GROUP BY "service", "system", {month} ORDER BY "system", {month} '
        f'ON CONFLICT ({month_key}) DO UPDATE SET "count" = decision_months."count" + '
        'excluded."count"'
    )
    return insert_sql, months_sql


def _decision_rows(items: Sequence[Mapping[str, Any]]) -> list[tuple[str, str, str]]:
    """(reference, system, at) once per decision, the earliest time kept, in key order."""
    first: dict[tuple[str, str], str] = {}
    for item in items:
        key = (item["reference"], item["system"])
        at: str = item["at"]
        if key not in first or at < first[key]:
            first[key] = at
    return [(reference, system, at) for (reference, system), at in sorted(first.items())]


_CountKey = tuple[str, str, str, str, bool, str]


@dataclass(frozen=True, slots=True)
class Prepared:
    """A batch as it is written: counts summed per key, days, decisions, all sorted."""

    counts: list[tuple[_CountKey, int]]
    daily: list[tuple[tuple[str, str], list[int]]]
    decisions: list[tuple[str, str, str]]
    dropped: int

    def digest(self) -> str:
        """SHA-256 of what the batch stores: its summed counts, decisions and drops
        (not ``sent_at``, ``window_seconds`` or ``sdk``, which are not stored)."""
        content = [[[*key, number] for key, number in self.counts], self.decisions, self.dropped]
        text = json.dumps(content, separators=(",", ":"), ensure_ascii=True)
        return hashlib.sha256(text.encode("ascii")).hexdigest()


def prepare(batch: Mapping[str, Any]) -> Prepared:
    """A valid batch as ``ingest`` writes it (CPU only: run it off the event loop)."""
    rows: Sequence[Mapping[str, Any]] = batch["counts"]
    summed: dict[_CountKey, int] = {}
    daily: dict[tuple[str, str], list[int]] = {}
    for row in rows:
        number = int(row["count"])
        shown = row["notice_shown"]
        system = row["system"]
        window = row["window_start"]
        key = (system, window, row["route"], row["mode"], shown, row.get("language", ""))
        summed[key] = summed.get(key, 0) + number
        day = daily.get((system, window[:10]))
        if day is None:
            day = daily[(system, window[:10])] = [0, 0]
        day[0] += number
        if shown:
            day[1] += number
    return Prepared(
        sorted(summed.items()),
        sorted(daily.items()),
        _decision_rows(batch.get("decisions", ())),
        int(batch.get("dropped", 0)),
    )


K = TypeVar("K")
V = TypeVar("V")

#: Parsed manifests kept in memory, by (service, version): the current manifest of
#: up to this many services. A register with more services parses the others again
#: when a page needs them.
PARSED_CACHE = 128


class _LRU(Generic[K, V]):
    """A mapping that forgets its least recently used item beyond ``size`` items."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[K, V] = OrderedDict()

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)

    def __len__(self) -> int:
        return len(self._items)


def _canonical(data: Mapping[str, Any]) -> tuple[str, str, str]:
    """The canonical JSON of a manifest, its SHA-256 and its system ids (a JSON list)."""
    content = canonical_json(data)
    digest = hashlib.sha256(content.encode("utf-8")).hexdigest()
    return content, digest, json.dumps(sorted(str(s["id"]) for s in data.get("systems", ())))


def heads_query() -> Select[Any]:
    """Each service's current version, in service order (``published``, ``listing``)."""
    return (
        select(services.c.id, services.c.current_version, services.c.updated_at)
        .where(services.c.current_version.is_not(None))
        .order_by(services.c.id)
    )


def content_query(service: str, version: int) -> Select[Any]:
    """One stored manifest version's date and content."""
    v = manifest_versions.c
    return select(v.created_at, v.content).where(v.service == service, v.version == version)


def load_published(
    service: str, version: int, created_at: datetime, content: str
) -> Published | None:
    """A stored manifest parsed (CPU only: run off the event loop); None, logged,
    for one that no longer loads."""
    try:
        manifest = parse_manifest(json.loads(content), source=f"{service} v{version}")
    except ManifestError:
        log.exception("stored manifest %s v%s no longer loads; left out", service, version)
        return None
    return Published(manifest, version, _utc(created_at))


def _parse(data: Mapping[str, Any], service: str) -> Manifest:
    return parse_manifest(dict(data), source=f"{service} manifest")


def content_digest(batch: Mapping[str, Any]) -> str:
    """The digest ``ingest`` stores for a valid ``batch``."""
    return prepare(batch).digest()


class Store:
    """The registry's data, over ``engine`` (SQLite or PostgreSQL)."""

    def __init__(self, engine: AsyncEngine, *, workers: Workers | None = None) -> None:
        self.engine = engine
        self.postgresql = engine.dialect.name == "postgresql"
        dialect = postgresql if self.postgresql else sqlite
        self._claim = dialect.insert(batches).on_conflict_do_nothing(
            index_elements=["service", "batch_id"]
        )
        self._service_row = dialect.insert(services).on_conflict_do_nothing(index_elements=["id"])
        self._count_sql, self._daily_sql = _upsert_sql(self.postgresql)
        self._decision_sql, self._months_sql = _decision_sql(self.postgresql)
        # Imported here: listing builds on entries, which builds on this module.
        from .listing import listing_rows, replace_statements

        self._listing_rows = listing_rows
        self._unlist, self._list = replace_statements(not self.postgresql)
        #: Threads for CPU-heavy work, shared by the API and the store (and by a
        #: store over a read replica, given the primary's).
        self.workers = workers if workers is not None else Workers()
        self._parsed: _LRU[tuple[str, int], Published] = _LRU(PARSED_CACHE)
        #: How many manifest contents were read from the database (each a full
        #: manifest): pages read the current one, never old ones.
        self.contents_read = 0

    # --- ingest ---------------------------------------------------------------

    @finishes
    async def token_owner(self, token: str) -> TokenOwner | None:
        """Who ``token`` speaks for, if it is live."""
        query = (
            select(tokens.c.service, services.c.systems)
            .select_from(tokens.outerjoin(services, services.c.id == tokens.c.service))
            .where(tokens.c.hash == hash_token(token), tokens.c.revoked_at.is_(None))
        )
        async with self.engine.connect() as connection:
            row = (await connection.execute(query)).first()
        if row is None:
            return None
        systems = None if row.systems is None else frozenset(json.loads(row.systems))
        return TokenOwner(service=row.service, systems=systems)

    @finishes
    async def ingest(
        self, batch: Mapping[str, Any], prepared: Prepared | None = None
    ) -> IngestResult:
        """Store a valid batch once; a batch id the service used before changes
        nothing (``duplicate`` if the content is the same, ``conflict`` if not).
        ``prepared`` is ``prepare(batch)``, done off the event loop by the caller."""
        service: str = batch["service"]
        if prepared is None:
            prepared = await self.workers.run(prepare, batch, service=service)
        count_rows, daily_rows, decision_rows = (
            prepared.counts,
            prepared.daily,
            prepared.decisions,
        )
        digest = prepared.digest()
        records = len(batch["counts"])
        batch_id: str = batch["batch_id"]
        async with self.engine.begin() as connection:
            claimed = await connection.execute(
                self._claim,
                {
                    "batch_id": batch_id,
                    "service": service,
                    "received_at": datetime.now(UTC),
                    "records": records,
                    "dropped": prepared.dropped,
                    "digest": digest,
                },
            )
            if claimed.rowcount == 0:
                stored = await self._stored(connection, service, batch_id)
                if stored is None:  # cannot happen: the row that blocked the claim is there
                    return IngestResult(ReceiptStatus.DUPLICATE, records)
                if stored.replayed_by(digest):
                    return IngestResult(ReceiptStatus.DUPLICATE, stored.records)
                return IngestResult("conflict", stored.records)
            if count_rows:
                # Driver-level statements: the ORM-free fast path for thousands of rows.
                if self.postgresql:
                    columns = list(zip(*((*k, n) for k, n in count_rows), strict=True))
                    await connection.exec_driver_sql(self._count_sql, (service, *columns))
                    days = list(zip(*((*k, n, s) for k, (n, s) in daily_rows), strict=True))
                    await connection.exec_driver_sql(self._daily_sql, (service, *days))
                else:
                    await connection.exec_driver_sql(
                        self._count_sql, [(service, *k, n) for k, n in count_rows]
                    )
                    await connection.exec_driver_sql(
                        self._daily_sql, [(service, *k, n, s) for k, (n, s) in daily_rows]
                    )
            if decision_rows:
                if self.postgresql:
                    columns = list(zip(*decision_rows, strict=True))
                    await connection.exec_driver_sql(
                        self._decision_sql, (service, batch_id, *columns)
                    )
                else:
                    await connection.exec_driver_sql(
                        self._decision_sql, [(service, *d, batch_id) for d in decision_rows]
                    )
                await connection.exec_driver_sql(self._months_sql, (service, batch_id))
        return IngestResult(ReceiptStatus.STORED, records)

    @finishes
    async def stored_batch(self, service: str, batch_id: str) -> StoredBatch | None:
        """The service's stored batch ``batch_id``; None if it never stored one."""
        async with self.engine.connect() as connection:
            return await self._stored(connection, service, batch_id)

    @staticmethod
    async def _stored(
        connection: AsyncConnection, service: str, batch_id: str
    ) -> StoredBatch | None:
        query = select(batches.c.records, batches.c.digest).where(
            batches.c.service == service, batches.c.batch_id == batch_id
        )
        row = (await connection.execute(query)).first()
        return None if row is None else StoredBatch(int(row.records), row.digest)

    # --- manifests ------------------------------------------------------------

    @finishes
    async def publish(
        self, service: str, data: Mapping[str, Any], manifest: Manifest | None = None
    ) -> PublishResult:
        """Record ``data`` as the service's manifest; a new version only if it changed.
        ``manifest``, ``data`` already parsed, is kept so pages need not parse it again.
        The service's rows of ``listed_systems`` are rewritten in the same transaction,
        so lists never show a manifest other than the current one, and so are the
        histories of the systems this version added, changed or removed."""
        content, digest, systems = await self.workers.run(_canonical, data, service=service)
        if manifest is None:
            manifest = await self.workers.run(_parse, data, service, service=service)
        now = datetime.now(UTC)
        async with self.engine.begin() as connection:
            # Writing first takes the write lock on SQLite; FOR UPDATE serialises on PostgreSQL.
            await connection.execute(self._service_row, {"id": service, "created_at": now})
            current = (
                await connection.execute(
                    select(services.c.current_version)
                    .where(services.c.id == service)
                    .with_for_update()
                )
            ).scalar()
            if current is not None:
                latest = (
                    await connection.execute(
                        select(manifest_versions.c.sha256).where(
                            manifest_versions.c.service == service,
                            manifest_versions.c.version == current,
                        )
                    )
                ).scalar()
                if latest == digest:
                    return PublishResult(version=int(current), changed=False)
            version = (current or 0) + 1
            await connection.execute(
                insert(manifest_versions).values(
                    service=service, version=version, created_at=now, sha256=digest, content=content
                )
            )
            await connection.execute(
                update(services)
                .where(services.c.id == service)
                .values(current_version=version, updated_at=now, systems=systems)
            )
            # Each system's history gets this version's entry, compared with the
            # digests stored for the last one: no old manifest is read.
            known = histories.read(await connection.execute(histories.query(service)))
            changed = await self.workers.run(
                histories.advance, known, version, now.date().isoformat(), data, service=service
            )
            for write, parameters in histories.writes(service, changed):
                await connection.execute(write, parameters)
            changes = {s: h.changes for s, h in {**known, **changed}.items()}
            rows = await self.workers.run(
                self._listing_rows, Published(manifest, version, now), changes, service=service
            )
            for statement in self._unlist:
                await connection.execute(statement, {"service": service})
            if rows:
                await connection.execute(insert(listed_systems), rows)
            for statement in self._list:
                await connection.execute(statement, {"service": service})
        self._parsed.put((service, version), Published(manifest, version, now))
        return PublishResult(version=version, changed=True)

    @finishes
    async def published(self, service: str | None = None) -> list[Published]:
        """Current manifests, by service id; each version parsed once (off the event
        loop) and kept in a bounded cache."""
        query = heads_query()
        if service is not None:
            query = query.where(services.c.id == service)
        found: dict[tuple[str, int], Published] = {}
        async with self.engine.connect() as connection:
            heads = (await connection.execute(query)).all()
            missing = []
            for head in heads:
                key = (head.id, head.current_version)
                cached = self._parsed.get(key)
                if cached is None:
                    missing.append(head)
                else:
                    found[key] = cached
            # One manifest at a time: a register of big manifests never holds all their texts.
            for head in missing:
                row = (
                    await connection.execute(content_query(head.id, head.current_version))
                ).first()
                if row is None:
                    continue
                self.contents_read += 1
                parsed = await self.workers.run(
                    load_published, head.id, head.current_version, row.created_at, row.content
                )
                if parsed is not None:
                    self._parsed.put((head.id, head.current_version), parsed)
                    found[(head.id, head.current_version)] = parsed
        return [
            found[(h.id, h.current_version)] for h in heads if (h.id, h.current_version) in found
        ]

    @finishes
    async def versions(self, service: str) -> list[ManifestVersion]:
        """Every version of the service's manifest, oldest first: numbers, dates and
        digests, never their content."""
        query = (
            select(
                manifest_versions.c.version,
                manifest_versions.c.created_at,
                manifest_versions.c.sha256,
            )
            .where(manifest_versions.c.service == service)
            .order_by(manifest_versions.c.version)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [ManifestVersion(r.version, _utc(r.created_at), r.sha256) for r in rows]

    @finishes
    async def manifest_content(self, service: str, version: int) -> dict[str, Any] | None:
        """The content of one version of the service's manifest, as stored."""
        query = select(manifest_versions.c.content).where(
            manifest_versions.c.service == service, manifest_versions.c.version == version
        )
        async with self.engine.connect() as connection:
            content = (await connection.execute(query)).scalar()
        if content is None:
            return None
        self.contents_read += 1
        data: dict[str, Any] = await self.workers.run(json.loads, content)
        return data

    @finishes
    async def changes(self, service: str, system: str) -> list[Change]:
        """The versions of the service's manifest that added, changed or removed the
        system, oldest first: its stored history (``histories``), one indexed read."""
        h = system_histories.c
        query = select(h.changes).where(h.service == service, h.system == system)
        async with self.engine.connect() as connection:
            found = (await connection.execute(query)).scalar()
        return [] if found is None else list(from_json(json.loads(found)))

    # --- counts ---------------------------------------------------------------

    @finishes
    async def totals(self, service: str | None = None) -> dict[tuple[str, str], Totals]:
        """Disclosure totals per (service, system)."""
        query = totals_query(self.postgresql)
        if service is not None:
            query = query.where(daily_totals.c.service == service)
        async with self.engine.connect() as connection:
            return read_totals((await connection.execute(query)).all())

    @finishes
    async def daily(
        self, service: str, system: str, *, until: str | None = None, last: int | None = None
    ) -> list[DayCount]:
        """The system's disclosures per UTC day, oldest first: every day, or only the
        ``last`` days with counts up to the day ``until`` (YYYY-MM-DD)."""
        query = select(
            daily_totals.c.day,
            daily_totals.c.count.label("total"),
            daily_totals.c.notice_shown,
        ).where(daily_totals.c.service == service, daily_totals.c.system == system)
        if until is not None:
            query = query.where(daily_totals.c.day <= until)
        if last is not None:
            query = query.order_by(daily_totals.c.day.desc()).limit(last)
        else:
            query = query.order_by(daily_totals.c.day)
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        days = [DayCount(r.day, int(r.total), int(r.notice_shown)) for r in rows]
        return days[::-1] if last is not None else days

    @finishes
    async def stats(
        self,
        *,
        service: str | None,
        system: str | None,
        start: str | None,
        end: str | None,
        offset: int,
        limit: int,
    ) -> tuple[int, list[StatsRow]]:
        """Counts per day and system, filtered, one page of them and how many in all."""
        conditions = []
        if service is not None:
            conditions.append(daily_totals.c.service == service)
        if system is not None:
            conditions.append(daily_totals.c.system == system)
        if start is not None:
            conditions.append(daily_totals.c.day >= start)
        if end is not None:
            conditions.append(daily_totals.c.day <= end)
        base: Select[Any] = select(
            daily_totals.c.day,
            daily_totals.c.service,
            daily_totals.c.system,
            daily_totals.c.count.label("total"),
            daily_totals.c.notice_shown,
        ).where(*conditions)
        key = (daily_totals.c.day, daily_totals.c.service, daily_totals.c.system)
        total_query = select(func.count()).select_from(base.subquery())
        async with self.engine.connect() as connection:
            total = int((await connection.execute(total_query)).scalar_one())
            if offset >= total:
                return total, []
            if offset > total // 2:
                # Past the middle, read from the end (the same index, backwards): the
                # last page costs what the first does.
                backwards = total - offset - min(limit, total - offset)
                query = (
                    base.order_by(*(c.desc() for c in key))
                    .offset(backwards)
                    .limit(min(limit, total - offset))
                )
                rows = list(reversed((await connection.execute(query)).all()))
            else:
                query = base.order_by(*key).offset(offset).limit(limit)
                rows = list((await connection.execute(query)).all())
        return total, [
            StatsRow(r.day, r.service, r.system, int(r.total), int(r.notice_shown)) for r in rows
        ]

    # --- decisions (never published one by one) --------------------------------

    @finishes
    async def decision_months(self, service: str, system: str) -> list[MonthCount]:
        """How many decisions the system took per UTC month, oldest first."""
        query = (
            select(decision_months.c.month, decision_months.c.count.label("total"))
            .where(decision_months.c.service == service, decision_months.c.system == system)
            .order_by(decision_months.c.month)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [MonthCount(r.month, int(r.total)) for r in rows]

    @finishes
    async def decisions_for(self, service: str, reference: str) -> list[DecisionRecord]:
        """The service's decisions logged under ``reference`` (one per system), oldest first."""
        query = (
            select(decisions.c.system, decisions.c.reference, decisions.c.at)
            .where(decisions.c.service == service, decisions.c.reference == reference)
            .order_by(decisions.c.at, decisions.c.system)
        )
        async with self.engine.connect() as connection:
            rows = (await connection.execute(query)).all()
        return [DecisionRecord(r.system, r.reference, r.at) for r in rows]
