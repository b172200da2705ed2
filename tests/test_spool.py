"""The SQLite spool: order, bounds, leases between processes, crash survival."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from ai_disclosure._spool import Spool, SpoolEntry, SpoolError


class Clock:
    def __init__(self, now: float = 1_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def entry(n: int, size: int = 10) -> SpoolEntry:
    return SpoolEntry(f"00000000-0000-4000-8000-{n:012d}", bytes([n % 256]) * size, n)


def ids(entries: list[SpoolEntry]) -> list[str]:
    return [e.batch_id for e in entries]


@pytest.fixture
def spool(tmp_path: Path) -> Iterator[Spool]:
    s = Spool(tmp_path, "demarches")
    yield s
    s.close()


def test_put_claim_delete_in_order(spool: Spool) -> None:
    assert spool.put([entry(1), entry(2), entry(3)]) == []
    claimed = spool.claim(2)
    assert ids(claimed) == ids([entry(1), entry(2)])
    assert claimed[0].body == entry(1).body
    assert claimed[0].records == 1
    spool.delete(claimed[0].batch_id)
    assert ids(spool.claim(10)) == ids([entry(2), entry(3)])
    assert spool.stats() == {
        "batches": 2,
        "records": 5,
        "bytes": 20,
        "parked": 0,
        "parked_records": 0,
    }


def test_a_batch_id_is_stored_once(spool: Spool) -> None:
    spool.put([entry(1)])
    spool.put([entry(1)])
    assert spool.stats()["batches"] == 1


def test_bounds_refuse_what_does_not_fit(tmp_path: Path) -> None:
    by_count = Spool(tmp_path / "a", "demarches", max_batches=2)
    refused = by_count.put([entry(1), entry(2), entry(3)])
    assert ids(refused) == [entry(3).batch_id]
    by_count.close()

    by_bytes = Spool(tmp_path / "b", "demarches", max_bytes=25)
    refused = by_bytes.put([entry(1), entry(2), entry(3), entry(4, size=5)])
    assert ids(refused) == [entry(3).batch_id]
    assert by_bytes.stats()["bytes"] == 25
    by_bytes.close()


def test_replay_after_reopening_keeps_batch_ids_and_bodies(tmp_path: Path) -> None:
    first = Spool(tmp_path, "demarches")
    first.put([entry(1), entry(2)])
    first.close()  # the process ends without releasing its leases
    second = Spool(tmp_path, "demarches")  # same pid, another owner: the old one is gone
    claimed = second.claim()
    assert ids(claimed) == ids([entry(1), entry(2)])
    assert [e.body for e in claimed] == [entry(1).body, entry(2).body]
    second.close()


def test_a_live_process_keeps_its_batches_until_its_lease_expires(tmp_path: Path) -> None:
    clock = Clock()
    mine = Spool(tmp_path, "demarches", clock=clock, lease_seconds=60)
    other = Spool(tmp_path, "demarches", clock=clock, lease_seconds=60)
    # Make 'other' look like a live process on this host: our parent.
    other.owner = f"{other.owner.split(':')[0]}:{os.getppid()}:abcd"
    other.put([entry(1)])
    assert mine.claim() == []
    clock.now += 61
    assert ids(mine.claim()) == [entry(1).batch_id]
    mine.close()
    other.close()


def test_batches_of_a_dead_process_are_taken_over_at_once(tmp_path: Path) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    spool = Spool(tmp_path, "demarches")
    other = Spool(tmp_path, "demarches")
    other.owner = f"{other.owner.split(':')[0]}:{dead.pid}:abcd"
    other.put([entry(1)])
    assert ids(spool.claim()) == [entry(1).batch_id]
    spool.close()
    other.close()


def test_another_host_waits_for_the_lease(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, "demarches", clock=clock, lease_seconds=60)
    other = Spool(tmp_path, "demarches", clock=clock, lease_seconds=60)
    other.owner = "another-host:1:abcd"
    other.put([entry(1)])
    assert spool.claim() == []
    other.release()
    assert ids(spool.claim()) == [entry(1).batch_id]
    spool.close()
    other.close()


def test_replace_swaps_atomically(spool: Spool) -> None:
    spool.put([entry(1), entry(9)])
    spool.replace(entry(1).batch_id, [entry(2), entry(3)])
    assert set(ids(spool.claim())) == set(ids([entry(2), entry(3), entry(9)]))


def test_a_corrupt_file_is_moved_aside(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    path = tmp_path / "demarches.spool.sqlite3"
    path.write_bytes(b"this is not a database" * 100)
    spool = Spool(tmp_path, "demarches")
    assert spool.put([entry(1)]) == []
    assert list(tmp_path.glob("demarches.spool.sqlite3.corrupt-*"))
    assert "unreadable" in caplog.text
    spool.close()


def test_a_newer_format_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "demarches.spool.sqlite3"
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA user_version=99")
    conn.close()
    with pytest.raises(SpoolError, match="newer"):
        Spool(tmp_path, "demarches")


def test_unusable_directory_raises_spool_error(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(SpoolError):
        Spool(blocker / "spool", "demarches")


def test_survives_kill_9(tmp_path: Path) -> None:
    script = textwrap.dedent(
        f"""
        import os, signal
        from ai_disclosure._spool import Spool, SpoolEntry
        spool = Spool({str(tmp_path)!r}, "demarches")
        spool.put([SpoolEntry("00000000-0000-4000-8000-000000000001", b"body", 7)])
        os.kill(os.getpid(), signal.SIGKILL)
        """
    )
    process = subprocess.run([sys.executable, "-c", script], check=False)
    assert process.returncode == -signal.SIGKILL
    spool = Spool(tmp_path, "demarches")
    [claimed] = spool.claim()
    assert (claimed.body, claimed.records) == (b"body", 7)
    spool.close()


# --- parked batches ------------------------------------------------------------------


def test_a_parked_batch_leaves_the_queue_with_its_body_and_reason(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, "demarches", clock=clock)
    spool.put([entry(1), entry(2)])
    clock.now = 2_000.0
    assert spool.park(entry(1).batch_id, "500 Internal Server Error: 5 server errors") == 0
    assert ids(spool.claim(10)) == ids([entry(2)])
    [parked] = spool.parked()
    assert (parked.batch_id, parked.body, parked.records) == (
        entry(1).batch_id,
        entry(1).body,
        1,
    )
    assert (parked.created, parked.parked_at) == (1_000.0, 2_000.0)
    assert parked.reason.startswith("500 ")
    assert spool.stats()["parked"] == 1
    assert spool.stats()["batches"] == 1
    assert spool.parked(["nope"]) == []
    spool.unpark(parked.batch_id)
    assert spool.parked() == []
    spool.close()


def test_parked_batches_survive_reopening_and_are_bounded(tmp_path: Path) -> None:
    clock = Clock()
    spool = Spool(tmp_path, "demarches", max_parked=2, clock=clock)
    spool.put([entry(n) for n in (1, 2, 3)])
    evicted = []
    for n in (1, 2, 3):
        clock.now += 1
        evicted.append(spool.park(entry(n).batch_id, "409 Conflict"))
    assert evicted == [0, 0, 1]  # the oldest parked one goes
    spool.close()
    again = Spool(tmp_path, "demarches", max_parked=2)
    assert [p.batch_id for p in again.parked()] == ids([entry(2), entry(3)])
    assert again.claim(10) == []
    again.close()


def test_a_spool_of_the_first_format_gains_the_parked_table(tmp_path: Path) -> None:
    path = tmp_path / "demarches.spool.sqlite3"
    with sqlite3.connect(path) as conn:
        conn.executescript(
            "CREATE TABLE batch (batch_id TEXT PRIMARY KEY, created REAL NOT NULL,"
            " records INTEGER NOT NULL, size INTEGER NOT NULL, body BLOB NOT NULL,"
            " owner TEXT, lease_until REAL NOT NULL DEFAULT 0);"
            "PRAGMA user_version=1;"
        )
        conn.execute(
            "INSERT INTO batch VALUES (?, 1.0, 1, 1, x'01', NULL, 0)", (entry(1).batch_id,)
        )
    conn.close()
    spool = Spool(tmp_path, "demarches")
    spool.park(entry(1).batch_id, "409 Conflict")
    assert [p.batch_id for p in spool.parked()] == [entry(1).batch_id]
    spool.close()
