"""Match request paths to the manifest's route rules. Pure and cached.

A rule's ``path`` is a pattern where ``*`` matches any run of characters, ``/``
included; everything else is literal. The first matching rule wins. The rule's
pattern, not the path, is what the logs record: it names a route, not a person's
request.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from ._model import Manifest, Route, System

__all__ = ["Match", "Router", "normalize"]


@dataclass(frozen=True, slots=True)
class Match:
    """The rule that matched a path and the systems it names."""

    template: str
    systems: tuple[System, ...]


class _Rule:
    __slots__ = ("exact", "head", "match", "middle", "tail")

    def __init__(self, route: Route, match: Match) -> None:
        self.match = match
        parts = route.path.split("*")
        self.exact: str | None = route.path if len(parts) == 1 else None
        self.head, self.tail = parts[0], parts[-1]
        self.middle = parts[1:-1]

    def matches(self, path: str) -> bool:
        """Glob match in linear time: with only ``*`` wildcards, taking each inner
        literal at its leftmost place is always right - and no regex backtracking
        lets a crafted path stall the server."""
        if self.exact is not None:
            return path == self.exact
        head, tail = self.head, self.tail
        end = len(path) - len(tail)
        if end < len(head) or not path.startswith(head) or not path.endswith(tail):
            return False
        position = len(head)
        for part in self.middle:
            found = path.find(part, position, end)
            if found < 0:
                return False
            position = found + len(part)
        return True


def normalize(path: str) -> str:
    """The path as the application will see it: dot segments resolved and repeated
    slashes merged (httpx, proxies and many servers do so), so ``/x/../ai`` or
    ``//ai`` cannot dodge the rule for ``/ai*``."""
    if "//" not in path and "/." not in path:
        return path
    segments: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normal = "/" + "/".join(segments)
    if segments and (path.endswith("/") or path.endswith("/.") or path.endswith("/..")):
        normal += "/"
    return normal


class Router:
    """Finds the rule for a path; remembers the last ``cache_size`` answers."""

    def __init__(self, manifest: Manifest, cache_size: int = 2048) -> None:
        self._rules: Sequence[_Rule] = [
            _Rule(route, Match(route.path, tuple(manifest.system(s) for s in route.systems)))
            for route in manifest.routes
        ]
        self._cache: OrderedDict[str, Match | None] = OrderedDict()
        self._cache_size = cache_size

    def match(self, path: str) -> Match | None:
        cache = self._cache
        try:
            found = cache[path]
        except KeyError:
            pass
        else:
            return found
        normal = normalize(path)
        found = next((rule.match for rule in self._rules if rule.matches(normal)), None)
        cache[path] = found
        if len(cache) > self._cache_size:
            # Paths are unbounded (ids, typos, scanners): keep memory flat.
            cache.popitem(last=False)
        return found
