"""The whole register's downloads are sent from a snapshot file when one is usable:
the same bytes and validators a live export had for that register, resumable,
no older than ``export_max_age``; filtered exports and a register that moved on past
that age are streamed live while a new snapshot is built."""

from __future__ import annotations

import csv
import gzip
import io
from pathlib import Path
from typing import Any

import pytest

from ai_disclosure.registry import snapshots as snapshots_module
from ai_disclosure.registry.reads import Reads

from .conftest import Harness, batch, row

CSV = "/v1/systems.csv"
PLAIN = {"Accept-Encoding": "identity"}


def _disclosures(text: str) -> str:
    """The waste assistant's count in a CSV export."""
    [count] = [
        r["disclosures"]
        for r in csv.DictReader(io.StringIO(text))
        if r["system"] == "assistant-dechets"
    ]
    return count


async def _get(harness: Harness, headers: dict[str, str] | None = None) -> Any:
    """The CSV as sent, not gzipped."""
    return await harness.client.get(CSV, headers={**PLAIN, **(headers or {})})


def _from_snapshot(response: Any) -> bool:
    # Files are sent with their length and accept ranges; live exports stream.
    return response.headers.get("accept-ranges") == "bytes"


class Clock:
    def __init__(self) -> None:
        self.now = 1_795_700_000.0  # 2026-11-26, the rows' day

    def __call__(self) -> float:
        return self.now


async def test_the_whole_register_is_sent_from_a_snapshot_identical_to_the_live_export(
    make_harness: Any, tmp_path: Path
) -> None:
    harness: Harness = await make_harness(export_dir=tmp_path / "exports")
    token = await harness.ready()
    assert (await harness.send(token, batch([row(count=3)]))).status_code == 202

    live = await harness.client.get(CSV)
    assert live.status_code == 200
    assert not _from_snapshot(live)
    assert "content-encoding" not in live.headers
    assert live.headers["vary"] == "Accept-Encoding"
    await harness.registry.snapshots.settled()
    sent = await harness.client.get(CSV, headers=PLAIN)
    assert _from_snapshot(sent)
    assert sent.content == live.content
    for name in ("etag", "last-modified", "cache-control", "content-disposition", "vary"):
        assert sent.headers[name] == live.headers[name], name
    assert sent.headers["content-length"] == str(len(live.content))
    assert _disclosures(sent.text) == "3"
    again = await harness.client.get(CSV, headers={"If-None-Match": sent.headers["etag"], **PLAIN})
    assert again.status_code == 304
    # A download cut short resumes where it stopped.
    part = await harness.client.get(
        CSV, headers={"Range": "bytes=10-", "If-Range": sent.headers["etag"], **PLAIN}
    )
    assert part.status_code == 206
    assert part.content == live.content[10:]

    # A client that takes gzip gets the same text in a tenth of the bytes, under
    # its own tag.
    async with harness.client.stream("GET", CSV, headers={"Accept-Encoding": "gzip"}) as packed:
        raw = b"".join([piece async for piece in packed.aiter_raw()])
    assert packed.headers["content-encoding"] == "gzip"
    assert gzip.decompress(raw) == live.content
    assert packed.headers["content-length"] == str(len(raw))
    assert packed.headers["etag"] not in (live.headers["etag"], "")
    assert packed.headers["vary"] == "Accept-Encoding"
    refused = await harness.client.get(CSV, headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in refused.headers
    cached = {"If-None-Match": packed.headers["etag"], "Accept-Encoding": "gzip"}
    assert (await harness.client.get(CSV, headers=cached)).status_code == 304
    assert sorted(p.name.split(".", 1)[1] for p in (tmp_path / "exports").iterdir()) == [
        "export",
        "export.gz",
    ]


async def test_filtered_exports_are_always_live(harness: Harness) -> None:
    token = await harness.ready()
    await _get(harness)
    await harness.registry.snapshots.settled()
    assert (await harness.send(token, batch([row(count=5)]))).status_code == 202
    filtered = await harness.client.get(CSV, params={"q": "dechets"})
    assert not _from_snapshot(filtered)
    assert _disclosures(filtered.text) == "5"


async def test_a_snapshot_lags_the_register_by_at_most_export_max_age(make_harness: Any) -> None:
    clock = Clock()
    harness: Harness = await make_harness(export_max_age=300, clock=clock)
    token = await harness.ready()
    first = await _get(harness)
    await harness.registry.snapshots.settled()
    assert (await harness.send(token, batch([row(count=2)]))).status_code == 202

    # Within half the allowed age: the snapshot is sent as it is and not rebuilt.
    clock.now += 100
    stale = await _get(harness)
    assert _from_snapshot(stale)
    assert stale.content == first.content
    assert stale.headers["etag"] == first.headers["etag"]
    await harness.registry.snapshots.settled()
    assert (await _get(harness)).content == first.content

    # Past half of it: still sent, and a new one is built from the current register.
    clock.now += 100
    assert (await _get(harness)).content == first.content
    await harness.registry.snapshots.settled()
    rebuilt = await _get(harness)
    assert _from_snapshot(rebuilt)
    assert _disclosures(rebuilt.text) == "2"
    assert rebuilt.headers["etag"] != first.headers["etag"]

    # Past the whole age with a register that moved on: live, never older.
    assert (await harness.send(token, batch([row(count=4)]))).status_code == 202
    clock.now += 301
    current = await _get(harness)
    assert not _from_snapshot(current)
    assert _disclosures(current.text) == "6"


async def test_with_no_lag_allowed_every_download_is_current(make_harness: Any) -> None:
    harness: Harness = await make_harness(export_max_age=0)
    token = await harness.ready()
    await _get(harness)
    await harness.registry.snapshots.settled()
    assert _from_snapshot(await _get(harness))  # the register has not moved
    assert (await harness.send(token, batch([row(count=7)]))).status_code == 202
    moved = await _get(harness)
    assert not _from_snapshot(moved)
    assert _disclosures(moved.text) == "7"


async def test_a_failed_build_keeps_the_snapshot_in_service(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    harness: Harness = await make_harness(export_max_age=0)
    token = await harness.ready()
    await _get(harness)
    await harness.registry.snapshots.settled()
    kept = await _get(harness)
    assert _from_snapshot(kept)

    original = Reads.totals

    async def broken(self: Reads, keys: Any) -> Any:
        raise RuntimeError("the database went away")

    assert (await harness.send(token, batch([row(count=1)]))).status_code == 202
    monkeypatch.setattr(Reads, "totals", broken)
    with pytest.raises(RuntimeError):
        await _get(harness)  # the live export fails as it would have
    await harness.registry.snapshots.settled()
    assert "building the systems.csv download failed" in caplog.text
    monkeypatch.setattr(Reads, "totals", original)
    assert (await _get(harness, {"If-None-Match": "x"})).status_code == 200
    snapshots = harness.registry.snapshots
    assert not any(p.suffix == ".partial" for s in snapshots._ready.values() for p in [s.path])


async def test_replaced_and_own_files_are_removed(
    make_harness: Any, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(snapshots_module, "_RETIRE_AFTER", 0.0)
    given = tmp_path / "exports"
    harness: Harness = await make_harness(export_max_age=0, export_dir=given)
    token = await harness.ready()
    await _get(harness)
    await harness.registry.snapshots.settled()
    assert (await harness.send(token, batch([row(count=1)]))).status_code == 202
    await _get(harness)
    await harness.registry.snapshots.settled()
    await _get(harness)  # lets the loop run the removal
    assert len(list(given.iterdir())) == 2  # the file and its gzipped copy
    await harness.registry.close()
    assert given.is_dir()
    assert not list(given.iterdir())

    private: Harness = await make_harness()
    await _get(private)
    await private.registry.snapshots.settled()
    [snapshot] = private.registry.snapshots._ready.values()
    directory = snapshot.path.parent
    await private.registry.close()
    assert not directory.exists()
