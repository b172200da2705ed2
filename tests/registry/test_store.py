"""Store queries read from either end of an index give the same pages."""

from __future__ import annotations

from ai_disclosure.registry.store import Store

from .conftest import Harness, batch, row


async def test_stats_pages_are_the_same_read_forwards_or_backwards(harness: Harness) -> None:
    await harness.ready()
    store: Store = await harness.store()
    counts = [
        row(system=system, window_start=f"2026-11-{day:02d}T10:00:00Z", count=day)
        for day in range(20, 28)
        for system in ("assistant-dechets", "tri-courrier", "detection-fuites")
    ]
    await store.ingest(batch(counts))
    total, everything = await store.stats(
        service=None, system=None, start=None, end=None, offset=0, limit=100
    )
    assert total == len(everything) == 24
    assert everything == sorted(everything, key=lambda r: (r.day, r.service, r.system))
    for limit in (1, 5, 7, 24):
        for offset in range(0, 26):
            count, rows = await store.stats(
                service=None, system=None, start=None, end=None, offset=offset, limit=limit
            )
            assert count == total
            assert rows == everything[offset : offset + limit], (offset, limit)
    _count, filtered = await store.stats(
        service=None, system="tri-courrier", start="2026-11-22", end=None, offset=4, limit=10
    )
    assert [(r.day, r.system) for r in filtered] == [
        ("2026-11-26", "tri-courrier"),
        ("2026-11-27", "tri-courrier"),
    ]
