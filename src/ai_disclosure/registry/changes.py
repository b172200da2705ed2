"""What each version of a service's manifest did to each of its systems, built one
version at a time (sans I/O).

A system's history (added, changed, removed) needs every version's content once;
afterwards only a short digest of each system's last content is kept, so pages
never load old versions again and a new version costs one parse."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

__all__ = ["Change", "ChangeKind", "History"]


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


def _systems(content: Mapping[str, Any]) -> dict[str, bytes]:
    """A 16-byte digest of each system's own content, by system id."""
    found: dict[str, bytes] = {}
    for system in content.get("systems", ()):
        if isinstance(system, Mapping) and isinstance(system.get("id"), str):
            text = json.dumps(system, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
            found.setdefault(system["id"], hashlib.blake2b(text.encode(), digest_size=16).digest())
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
        current = _systems(content)
        for system in current.keys() | self._last.keys():
            before, now = self._last.get(system), current.get(system)
            if before == now:
                continue
            kind = (
                ChangeKind.ADDED
                if before is None
                else ChangeKind.REMOVED
                if now is None
                else ChangeKind.CHANGED
            )
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
