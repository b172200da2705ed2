"""An on-disk spool of unsent batches: a SQLite file, so they survive restarts and crashes.

Every batch is written here *before* its first send and deleted once the
registry has acknowledged it, so a process killed at any point loses nothing
that was cut: the next process replays the spool. A batch keeps its body, hence
its ``batch_id``, byte for byte; if it had in fact been stored before the crash,
the registry answers "duplicate" and nothing is counted twice.

Several processes may share one spool (workers of one server, or a restart
while the old process is still stopping). Each row carries a lease: a process
sends only the rows it owns, rows whose lease expired, or rows of a process on
this host that no longer exists - so live siblings do not send the same batch
at once, and a crashed process's batches are taken over at once.

A batch the registry cannot take (one it keeps failing on while it stores
others, or a ``409 Conflict``) is *parked*: moved to the ``parked`` table, out of
the queue, so later batches flow. Parked batches keep their exact body; the
``ai-disclosure registry parked`` commands list and resend them.

Blocking calls throughout: the logger runs them in a thread
(``asyncio.to_thread``), never on the event loop or the request path.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from ._errors import AIDisclosureError

__all__ = ["ParkedEntry", "Spool", "SpoolEntry", "SpoolError"]

log = logging.getLogger("ai_disclosure.logging")

# Still 1 with the ``parked`` table: the change is additive, and an older SDK that
# opens the file keeps using the queue and ignores the table.
_VERSION: Final = 1
_SCHEMA: Final = """
CREATE TABLE IF NOT EXISTS batch (
    batch_id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    records INTEGER NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL,
    owner TEXT,
    lease_until REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS batch_order ON batch (created);
CREATE TABLE IF NOT EXISTS parked (
    batch_id TEXT PRIMARY KEY,
    created REAL NOT NULL,
    parked_at REAL NOT NULL,
    records INTEGER NOT NULL,
    size INTEGER NOT NULL,
    body BLOB NOT NULL,
    reason TEXT NOT NULL
);
"""


class SpoolError(AIDisclosureError):
    """The spool file cannot be used (permissions, a newer format, ...)."""


@dataclass(frozen=True, slots=True)
class SpoolEntry:
    """One unsent batch: its id, the exact request body (gzip JSON) and its increments."""

    batch_id: str
    body: bytes
    records: int
    created: float = 0.0


@dataclass(frozen=True, slots=True)
class ParkedEntry:
    """A batch set aside: its body as it was sent, when, and the registry's answer."""

    batch_id: str
    body: bytes
    records: int
    created: float
    parked_at: float
    reason: str


class Spool:
    """A bounded, crash-safe queue of unsent batches in ``directory/{service}.spool.sqlite3``.

    Bounds are checked on ``put``: a batch that would exceed ``max_batches`` or
    ``max_bytes`` is refused and returned, for the caller to drop and count.
    """

    def __init__(
        self,
        directory: str | os.PathLike[str],
        service: str,
        *,
        max_batches: int = 10_000,
        max_bytes: int = 64 * 1024 * 1024,
        max_parked: int = 1_000,
        lease_seconds: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.max_batches = max_batches
        self.max_bytes = max_bytes
        self.max_parked = max_parked
        self.lease_seconds = lease_seconds
        self._clock = clock
        self._host = socket.gethostname()
        self._pid = os.getpid()
        self.owner = f"{self._host}:{self._pid}:{secrets.token_hex(4)}"
        self._lock = threading.Lock()
        directory = Path(directory)
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        except OSError as exc:
            raise SpoolError(f"cannot create the spool directory {directory}: {exc}") from exc
        self.path = directory / f"{service}.spool.sqlite3"
        self._conn = self._open()

    # --- opening ----------------------------------------------------------------

    def _open(self) -> sqlite3.Connection:
        try:
            return self._connect()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and not self._looks_corrupt(exc):
                raise SpoolError(f"cannot open the spool {self.path}: {exc}") from exc
            aside = self.path.with_name(f"{self.path.name}.corrupt-{int(time.time())}")
            log.error("spool %s is unreadable (%s); moved aside to %s", self.path, exc, aside)
            for suffix in ("", "-wal", "-shm"):
                part = Path(f"{self.path}{suffix}")
                if part.exists():
                    part.rename(f"{aside}{suffix}")
            try:
                return self._connect()
            except sqlite3.Error as again:
                raise SpoolError(f"cannot open the spool {self.path}: {again}") from again

    @staticmethod
    def _looks_corrupt(exc: sqlite3.Error) -> bool:
        text = str(exc).lower()
        return "not a database" in text or "malformed" in text or "corrupt" in text

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=10.0, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            # FULL: an acknowledged put is on disk even if the machine, not only
            # the process, dies. One fsync per window is cheap.
            conn.execute("PRAGMA synchronous=FULL")
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > _VERSION:
                raise SpoolError(
                    f"spool {self.path} was written by a newer ai-disclosure "
                    f"(format {version}); upgrade, or point spool_dir elsewhere"
                )
            conn.executescript(_SCHEMA)
            conn.execute(f"PRAGMA user_version={_VERSION}")
        except BaseException:
            conn.close()
            raise
        return conn

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            conn = self._conn
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    # --- the queue --------------------------------------------------------------

    def put(self, entries: Sequence[SpoolEntry]) -> list[SpoolEntry]:
        """Store ``entries`` (owned by this process); return those the bounds refused.

        Putting an id already present is a no-op: a batch is never stored twice.
        """
        refused: list[SpoolEntry] = []
        now = self._clock()
        with self._transaction() as conn:
            count, size = conn.execute(
                "SELECT count(*), coalesce(sum(size), 0) FROM batch"
            ).fetchone()
            for entry in entries:
                length = len(entry.body)
                if count + 1 > self.max_batches or size + length > self.max_bytes:
                    refused.append(entry)
                    continue
                cursor = conn.execute(
                    "INSERT OR IGNORE INTO batch"
                    " (batch_id, created, records, size, body, owner, lease_until)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        entry.batch_id,
                        entry.created or now,
                        entry.records,
                        length,
                        entry.body,
                        self.owner,
                        now + self.lease_seconds,
                    ),
                )
                if cursor.rowcount:
                    count += 1
                    size += length
        return refused

    def claim(self, limit: int = 16) -> list[SpoolEntry]:
        """The oldest batches this process may send now, leased to it; oldest first.

        Those are its own, unowned ones, ones whose lease expired and ones whose
        owner was a process on this host that has since died.
        """
        now = self._clock()
        with self._transaction() as conn:
            others = conn.execute(
                "SELECT DISTINCT owner FROM batch"
                " WHERE owner IS NOT NULL AND owner != ? AND lease_until >= ?",
                (self.owner, now),
            ).fetchall()
            dead = [owner for (owner,) in others if self._is_dead(owner)]
            sql = (
                "SELECT batch_id, body, records, created FROM batch"
                " WHERE owner IS NULL OR owner = ? OR lease_until < ?"
            )
            params: list[object] = [self.owner, now]
            if dead:
                sql += f" OR owner IN ({', '.join('?' * len(dead))})"
                params += dead
            rows = conn.execute(sql + " ORDER BY created, rowid LIMIT ?", (*params, limit))
            entries = [
                SpoolEntry(bid, bytes(body), rec, created) for bid, body, rec, created in rows
            ]
            conn.executemany(
                "UPDATE batch SET owner = ?, lease_until = ? WHERE batch_id = ?",
                [(self.owner, now + self.lease_seconds, e.batch_id) for e in entries],
            )
        return entries

    def _is_dead(self, owner: str) -> bool:
        host, _, rest = owner.partition(":")
        pid_text = rest.partition(":")[0]
        if host != self._host or not pid_text.isdigit():
            return False  # another machine or container: wait for its lease to expire
        pid = int(pid_text)
        if pid == self._pid:
            return True  # our pid, another owner token: a previous process that had our pid
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        except OSError:
            return False  # exists, but belongs to someone else
        return False

    def delete(self, batch_id: str) -> None:
        """Forget a batch the registry acknowledged (or refused for good)."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM batch WHERE batch_id = ?", (batch_id,))

    def replace(self, batch_id: str, entries: Sequence[SpoolEntry]) -> None:
        """Swap a refused batch for the smaller ones derived from it, atomically."""
        now = self._clock()
        with self._transaction() as conn:
            conn.execute("DELETE FROM batch WHERE batch_id = ?", (batch_id,))
            conn.executemany(
                "INSERT OR IGNORE INTO batch"
                " (batch_id, created, records, size, body, owner, lease_until)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        e.batch_id,
                        e.created or now,
                        e.records,
                        len(e.body),
                        e.body,
                        self.owner,
                        now + self.lease_seconds,
                    )
                    for e in entries
                ],
            )

    def release(self, batch_ids: Iterable[str] | None = None) -> None:
        """Give up the leases of this process (all of them by default), e.g. on shutdown."""
        with self._transaction() as conn:
            if batch_ids is None:
                conn.execute(
                    "UPDATE batch SET owner = NULL, lease_until = 0 WHERE owner = ?",
                    (self.owner,),
                )
            else:
                conn.executemany(
                    "UPDATE batch SET owner = NULL, lease_until = 0"
                    " WHERE batch_id = ? AND owner = ?",
                    [(bid, self.owner) for bid in batch_ids],
                )

    # --- parked batches -------------------------------------------------------------

    def park(self, batch_id: str, reason: str) -> int:
        """Move a batch from the queue to the parked table; return how many old parked
        batches the ``max_parked`` bound evicted (they were already counted as dropped)."""
        now = self._clock()
        with self._transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO parked"
                " (batch_id, created, parked_at, records, size, body, reason)"
                " SELECT batch_id, created, ?, records, size, body, ? FROM batch"
                " WHERE batch_id = ?",
                (now, reason, batch_id),
            )
            conn.execute("DELETE FROM batch WHERE batch_id = ?", (batch_id,))
            evicted = conn.execute(
                "DELETE FROM parked WHERE batch_id IN (SELECT batch_id FROM parked"
                " ORDER BY parked_at DESC, rowid DESC LIMIT -1 OFFSET ?)",
                (self.max_parked,),
            ).rowcount
        return max(evicted, 0)

    def parked(self, batch_ids: Sequence[str] = ()) -> list[ParkedEntry]:
        """The parked batches (only ``batch_ids`` if given), oldest parked first."""
        sql = "SELECT batch_id, body, records, created, parked_at, reason FROM parked"
        if batch_ids:
            sql += f" WHERE batch_id IN ({', '.join('?' * len(batch_ids))})"
        with self._lock:
            rows = self._conn.execute(sql + " ORDER BY parked_at, rowid", tuple(batch_ids))
            return [
                ParkedEntry(bid, bytes(body), rec, created, at, reason)
                for bid, body, rec, created, at, reason in rows
            ]

    def unpark(self, batch_id: str) -> None:
        """Forget a parked batch, once the registry has taken it."""
        with self._transaction() as conn:
            conn.execute("DELETE FROM parked WHERE batch_id = ?", (batch_id,))

    def stats(self) -> dict[str, int]:
        """Batches, increments and bytes held, whoever owns them; parked batches apart."""
        with self._lock:
            batches, records, size = self._conn.execute(
                "SELECT count(*), coalesce(sum(records), 0), coalesce(sum(size), 0) FROM batch"
            ).fetchone()
            parked, parked_records = self._conn.execute(
                "SELECT count(*), coalesce(sum(records), 0) FROM parked"
            ).fetchone()
        return {
            "batches": batches,
            "records": records,
            "bytes": size,
            "parked": parked,
            "parked_records": parked_records,
        }

    def close(self) -> None:
        with self._lock:
            self._conn.close()
