"""The registry's tables (SQLAlchemy Core), identical on SQLite and PostgreSQL.

Counts are keyed by everything a batch row says except the count itself, so that
re-sent windows add up in one row (``count = count + excluded.count``). Window
starts are stored as their canonical UTC text (``2026-11-26T10:00:00Z``): it sorts
chronologically and its first ten characters are the day, on both backends.
``daily_totals`` rolls counts up per system and day as they arrive, so the public
pages never scan the raw counts.

``decisions`` is the decision-level log: one row per (service, system, reference),
never published; ``decision_months`` counts them per system and UTC month for the
public pages, kept in the same transaction.

``listed_systems`` is the register as lists read it: one row per system of each
service's current manifest, written by ``Store.publish`` in the transaction that
publishes the manifest (see ``listing.py``). Lists, filters, search, counts and
exports are SQL over it, returning only the page they show; nothing on a request
path parses every manifest. Its search index is not a table of this metadata: on
PostgreSQL a GIN index over the ``SEARCH_COLUMN``, on SQLite the FTS5 table
``SEARCH_TABLE`` (created by migration 0004).

``system_histories`` holds each system's history (the manifest versions that
added, changed or removed it), advanced by ``Store.publish`` in the same
transaction (see ``histories.py``), with a digest of the system's current content
to compare the next version with. A removed system keeps its row (digest NULL), so
its history goes on if a later version declares it again; the listed card copies
the history, so bulk downloads never read old manifests.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

__all__ = [
    "SEARCH_COLUMN",
    "SEARCH_TABLE",
    "SEARCH_VECTOR",
    "batches",
    "counts",
    "daily_totals",
    "decision_months",
    "decisions",
    "listed_systems",
    "manifest_versions",
    "metadata",
    "outside_metadata",
    "services",
    "system_histories",
    "tokens",
]

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

IDENTIFIER = 64
LANGUAGE = 35

services = Table(
    "services",
    metadata,
    Column("id", String(IDENTIFIER), primary_key=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=True),
    # The latest manifest: its version and, for the ingest check, its system ids.
    Column("current_version", Integer, nullable=True),
    Column("systems", Text, nullable=True),  # JSON list of system ids
    # The newest manifest in the register: half of the public reads' ETag.
    Index("ix_services_updated_at", "updated_at"),
)

manifest_versions = Table(
    "manifest_versions",
    metadata,
    Column("service", String(IDENTIFIER), ForeignKey("services.id"), nullable=False),
    Column("version", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content", Text, nullable=False),  # canonical JSON of the manifest
    PrimaryKeyConstraint("service", "version"),
)

tokens = Table(
    "tokens",
    metadata,
    Column("id", String(32), primary_key=True),
    Column("service", String(IDENTIFIER), nullable=False, index=True),
    Column("hash", String(64), nullable=False, unique=True),  # sha256 of the token
    Column("label", String(200), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
)

batches = Table(
    "batches",
    metadata,
    # Batch ids are unique per service: one service cannot claim, or learn about,
    # another's batch by sending its id.
    Column("batch_id", String(36), nullable=False),
    Column("service", String(IDENTIFIER), nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("records", Integer, nullable=False),
    Column("dropped", BigInteger, nullable=False, server_default="0"),
    # SHA-256 of what the batch stored, to tell a replay from another batch under the
    # same id; NULL for batches stored before migration 0003.
    Column("digest", String(64), nullable=True),
    PrimaryKeyConstraint("service", "batch_id"),
    Index("ix_batches_service_received_at", "service", "received_at"),
    # The newest batch in the register: the other half of the public reads' ETag.
    Index("ix_batches_received_at", "received_at"),
)

counts = Table(
    "counts",
    metadata,
    Column("service", String(IDENTIFIER), nullable=False),
    Column("system", String(IDENTIFIER), nullable=False),
    Column("window_start", String(20), nullable=False),
    Column("route", String(512), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("notice_shown", Boolean, nullable=False),
    # BCP 47 tags of at most 35 characters (RFC 5646 4.4.1); "" when unknown.
    Column("language", String(LANGUAGE), nullable=False, server_default=""),
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint(
        "service", "system", "window_start", "route", "mode", "notice_shown", "language"
    ),
)

daily_totals = Table(
    "daily_totals",
    metadata,
    Column("service", String(IDENTIFIER), nullable=False),
    Column("system", String(IDENTIFIER), nullable=False),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD, UTC
    Column("count", BigInteger, nullable=False),
    Column("notice_shown", BigInteger, nullable=False),
    PrimaryKeyConstraint("service", "system", "day"),
    # /v1/stats pages in (day, service, system) order, read from either end.
    Index("ix_daily_totals_day_service_system", "day", "service", "system"),
)

decisions = Table(
    "decisions",
    metadata,
    Column("service", String(IDENTIFIER), nullable=False),
    Column("system", String(IDENTIFIER), nullable=False),
    Column("reference", String(128), nullable=False),
    Column("at", String(20), nullable=False),  # UTC text, like window_start
    Column("batch_id", String(36), nullable=False),  # the batch that first brought it
    # Unique per (service, system, reference): a replayed decision is stored once. The
    # reference comes before the system so that the lookup by reference uses this key.
    PrimaryKeyConstraint("service", "reference", "system"),
    Index("ix_decisions_batch_id", "batch_id"),
)

decision_months = Table(
    "decision_months",
    metadata,
    Column("service", String(IDENTIFIER), nullable=False),
    Column("system", String(IDENTIFIER), nullable=False),
    Column("month", String(7), nullable=False),  # YYYY-MM, UTC
    Column("count", BigInteger, nullable=False),
    PrimaryKeyConstraint("service", "system", "month"),
)


#: SQLite's search index: an FTS5 table whose rowid is ``listed_systems.id``.
SEARCH_TABLE = "listed_search"
#: PostgreSQL's search document: a stored column computed from the words (title
#: words weigh more, ``A``), indexed with GIN. It is not part of this metadata (SQLite
#: has no such type); migration 0004 adds it. Both word columns are already folded
#: and cut by ``search.words``, so the ``simple`` configuration only records them.
SEARCH_COLUMN = "search"
SEARCH_VECTOR = (
    "setweight(to_tsvector('simple'::regconfig, title), 'A') || "
    "to_tsvector('simple'::regconfig, body)"
)


def outside_metadata(name: str | None, kind: str) -> bool:
    """Whether a database object belongs to the search index rather than to this
    metadata (FTS5's table and its shadow tables; PostgreSQL's search column and its
    GIN index), so that schema comparisons leave it out."""
    if name is None:
        return False
    return (
        (kind == "table" and name.startswith(SEARCH_TABLE))
        or (kind == "column" and name == SEARCH_COLUMN)
        or (kind == "index" and name == "ix_listed_systems_search")
    )


listed_systems = Table(
    "listed_systems",
    metadata,
    # A stable integer key: SQLite's FTS5 rows point at it (a plain rowid may change
    # on VACUUM).
    Column("id", BigInteger().with_variant(Integer, "sqlite"), primary_key=True),
    Column("service", String(IDENTIFIER), nullable=False),
    Column("system", String(IDENTIFIER), nullable=False),
    Column("position", Integer, nullable=False),  # order in the manifest
    Column("version", Integer, nullable=False),  # the manifest version it shows
    Column("status", String(32), nullable=False),
    Column("interaction", String(32), nullable=False),
    Column("origin", String(32), nullable=False),
    Column("audience", String(32), nullable=False),
    Column("reviewed", Boolean, nullable=False),
    Column("card", Text, nullable=False),  # JSON: what lists and exports show
    Column("title", Text, nullable=False),  # folded words of its names and ids
    Column("body", Text, nullable=False),  # folded words of its other searched texts
    UniqueConstraint("service", "system"),
    # Register order: by service, then as the manifest lists them.
    Index("ix_listed_systems_service_position", "service", "position", unique=True),
    Index("ix_listed_systems_status", "status"),
    Index("ix_listed_systems_interaction", "interaction"),
)

system_histories = Table(
    "system_histories",
    metadata,
    Column("service", String(IDENTIFIER), nullable=False),
    Column("system", String(IDENTIFIER), nullable=False),
    # Hex BLAKE2b-128 of the system's content in the current manifest; NULL once removed.
    Column("digest", String(32), nullable=True),
    Column("changes", Text, nullable=False),  # JSON: [[version, "YYYY-MM-DD", kind], ...]
    PrimaryKeyConstraint("service", "system"),
)
