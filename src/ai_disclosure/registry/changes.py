"""What each version of a service's manifest did to each of its systems, built one
version at a time (sans I/O).

A system's history (added, changed, removed) needs every version's content once;
afterwards only a short digest of each system's last content is kept, so pages
never load old versions again and a new version costs one parse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = [
    "Change",
    "ChangeKind",
    "History",
    "compare",
    "from_json",
    "history_json",
    "system_digests",
]


class ChangeKind(StrEnum):
    """What a manifest version did to one system (the register's ``history``)."""

    ADDED = "added"
    CHANGED = "changed"
    REMOVED = "removed"


@dataclass(frozen=True, slots=True)
class Change:
    """A manifest version that touched one system: added, changed or removed."""

    version: int
    date: str
    change: ChangeKind


def history_json(changes: Iterable[Change]) -> list[dict[str, Any]]:
    """A history as the register publishes it: the system's ``history`` array."""
    return [{"version": c.version, "date": c.date, "change": c.change.value} for c in changes]


def from_json(items: Iterable[Mapping[str, Any]]) -> list[Change]:
    """A history read back from ``history_json``'s form."""
    return [Change(c["version"], c["date"], ChangeKind(c["change"])) for c in items]


def system_digests(content: Mapping[str, Any]) -> dict[str, bytes]:
    """A 16-byte digest of each system's own content, by system id."""
    found: dict[str, bytes] = {}
    for system in content.get("systems", ()):
        if isinstance(system, Mapping) and isinstance(system.get("id"), str):
            text = json.dumps(system, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
            found.setdefault(system["id"], hashlib.blake2b(text.encode(), digest_size=16).digest())
    return found


def compare(before: Mapping[str, bytes], now: Mapping[str, bytes]) -> dict[str, ChangeKind]:
    """What a version whose systems digest to ``now`` did to each system, given the
    digests of the version before (systems it left alone are absent)."""
    found: dict[str, ChangeKind] = {}
    for system in sorted(now.keys() | before.keys()):
        old, new = before.get(system), now.get(system)
        if old == new:
            continue
        found[system] = (
            ChangeKind.ADDED
            if old is None
            else ChangeKind.REMOVED
            if new is None
            else ChangeKind.CHANGED
        )
    return found


@dataclass(slots=True)
class History:
    """The changes of every system of one service, up to ``version``."""

    version: int = 0
    _last: dict[str, bytes] = field(default_factory=dict)
    _changes: dict[str, list[Change]] = field(default_factory=dict)

    def add(self, version: int, date: str, content: Mapping[str, Any]) -> None:
        """Take the next version (``version`` must follow the last one taken)."""
        if version <= self.version:
            raise ValueError(f"version {version} after {self.version}")
        current = system_digests(content)
        for system, kind in compare(self._last, current).items():
            self._changes.setdefault(system, []).append(Change(version, date, kind))
        self._last = current
        self.version = version

    def of(self, system: str) -> list[Change]:
        """The versions that added, changed or removed ``system``, oldest first."""
        return list(self._changes.get(system, ()))

    def copy(self) -> History:
        return History(
            self.version, dict(self._last), {k: list(v) for k, v in self._changes.items()}
        )
