"""Whole-register downloads kept as files, so that a national register's bulk
export (100,000 systems, tens of megabytes) is sent from disk in the time its bytes
take, not rebuilt from the database for each download.

A snapshot is one export of the whole register (no filter) for one base URL, built
in the background from the same chunks a live export streams, into a file that is
renamed into place when complete. A download is answered from the snapshot when it
was built from the current register (the marker's key), or when it is younger than
``Settings.export_max_age`` (counts arrive all the time at scale: the register is
never still long enough for an exact copy); otherwise the export is streamed live
while a new snapshot is built. A stale snapshot is rebuilt once half its allowed age
has passed, so that steady downloads always find a usable one, and one build at a
time runs per export and base: nothing is built when nobody downloads.

Files live in ``Settings.export_dir`` or a private temporary directory removed at
shutdown; each registry instance keeps its own (they are caches, not state).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import shutil
import tempfile
import zlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path

from .reads import Marker

__all__ = ["Snapshot", "Snapshots"]

_log = logging.getLogger("ai_disclosure.registry")

#: Seconds a replaced snapshot's file stays, for the downloads that chose it.
_RETIRE_AFTER = 60.0


@dataclass(frozen=True, slots=True)
class Snapshot:
    """One complete export file, and the same gzipped for the clients that take it
    (a tenth of the bytes for a CSV)."""

    path: Path
    gzipped: Path
    #: The register it was built from: it is served with that register's
    #: validators, the ones a live export had then.
    marker: Marker
    #: When its build started (the registry's clock): its data is at least that fresh.
    built: float

    @property
    def key(self) -> str:
        return self.marker.key


class Snapshots:
    """The snapshots of one registry instance, by (export name, base URL)."""

    def __init__(self, directory: Path | None, max_age: float, clock: Callable[[], float]) -> None:
        self._given = directory
        self._directory: Path | None = None
        self.max_age = max_age
        self.clock = clock
        self._ready: dict[tuple[str, str], Snapshot] = {}
        self._building: dict[tuple[str, str], asyncio.Task[None]] = {}
        self._retired: list[Path] = []

    def usable(self, name: str, base: str, marker: Marker) -> Snapshot | None:
        """The snapshot a download may be answered from, if any."""
        snapshot = self._ready.get((name, base))
        if snapshot is None:
            return None
        if snapshot.key == marker.key or self.clock() - snapshot.built < self.max_age:
            return snapshot
        return None

    def refresh(
        self,
        name: str,
        base: str,
        marker: Marker,
        body: Callable[[], AsyncIterator[bytes]],
    ) -> None:
        """Start building a new snapshot from ``body`` if the one there is not of
        the current register and is past half its allowed age (or missing), and
        no build of it runs already."""
        where = (name, base)
        snapshot = self._ready.get(where)
        if snapshot is not None and (
            snapshot.key == marker.key or self.clock() - snapshot.built < self.max_age / 2
        ):
            return
        if where in self._building:
            return
        task = asyncio.create_task(self._build(where, marker, body))
        self._building[where] = task
        task.add_done_callback(lambda _task: self._building.pop(where, None))

    async def _build(
        self,
        where: tuple[str, str],
        marker: Marker,
        body: Callable[[], AsyncIterator[bytes]],
    ) -> None:
        started = self.clock()
        directory = self._ensure_directory()
        name, base = where
        digest = hashlib.sha256(f"{name}|{base}|{marker.key}".encode()).hexdigest()[:32]
        final = directory / f"{digest}.export"
        packed = directory / f"{digest}.export.gz"
        partials = (final.with_suffix(".partial"), packed.with_suffix(".partial"))
        try:
            writer = await asyncio.to_thread(_Writer, *partials)
            try:
                async for piece in body():
                    await asyncio.to_thread(writer.write, piece)
            finally:
                await asyncio.to_thread(writer.close)
            for partial, done in zip(partials, (final, packed), strict=True):
                partial.replace(done)
        except BaseException as error:
            for partial in partials:
                partial.unlink(missing_ok=True)
            if not isinstance(error, Exception):
                raise
            # A failed build (the database went away) leaves the old snapshot in
            # service; the next download tries again.
            _log.exception("building the %s download failed", name)
            return
        old = self._ready.get(where)
        self._ready[where] = Snapshot(final, packed, marker, started)
        if old is not None and old.path != final:
            # A download that has opened the old file keeps it: removing its name
            # does not cut it short. One that has just chosen it, and not opened it
            # yet, is given a minute.
            for path in (old.path, old.gzipped):
                self._retired.append(path)
                asyncio.get_running_loop().call_later(_RETIRE_AFTER, self._remove, path)

    def _remove(self, path: Path) -> None:
        if path in self._retired:
            self._retired.remove(path)
            path.unlink(missing_ok=True)

    def _ensure_directory(self) -> Path:
        if self._directory is None:
            if self._given is not None:
                self._given.mkdir(parents=True, exist_ok=True)
                self._directory = self._given
            else:
                self._directory = Path(tempfile.mkdtemp(prefix="ai-disclosure-exports-"))
        return self._directory

    async def settled(self) -> None:
        """Wait for the builds running now (for shutdown and tests)."""
        await asyncio.gather(*self._building.values(), return_exceptions=True)

    async def close(self) -> None:
        """Stop the builds; remove the files (the whole directory if it is ours)."""
        for task in list(self._building.values()):
            task.cancel()
        for task in list(self._building.values()):
            with contextlib.suppress(asyncio.CancelledError):
                await task
        ready, self._ready = self._ready, {}
        if self._directory is None:
            return
        if self._given is None:
            await asyncio.to_thread(shutil.rmtree, self._directory, True)
        else:
            files = [p for snapshot in ready.values() for p in (snapshot.path, snapshot.gzipped)]
            for path in [*files, *self._retired]:
                path.unlink(missing_ok=True)
        self._retired.clear()
        self._directory = None


class _Writer:
    """Writes a snapshot and its gzipped copy (in a worker thread: zlib lets go of
    the interpreter while it compresses)."""

    def __init__(self, plain: Path, packed: Path) -> None:
        self.plain = plain.open("wb")
        self.packed = packed.open("wb")
        self.compressor = zlib.compressobj(6, zlib.DEFLATED, 31)  # 31: a gzip member

    def write(self, piece: bytes) -> None:
        self.plain.write(piece)
        self.packed.write(self.compressor.compress(piece))

    def close(self) -> None:
        try:
            self.packed.write(self.compressor.flush())
        finally:
            self.plain.close()
            self.packed.close()
