"""Match request paths to the manifest's route rules; the bounded path cache.

A rule's ``path`` is a pattern where ``*`` matches any run of characters, ``/``
included; everything else is literal. The first matching rule wins. The rule's
pattern, not the path, is what the logs record: it names a route, not a person's
request.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from ._model import Manifest, Route, System

__all__ = ["Match", "PathCache", "Router", "normalize"]

T = TypeVar("T")


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
    """The path as the application will see it: dot segments resolved, repeated
    slashes merged (httpx, proxies and many servers do so) and each segment's
    ``;parameters`` dropped (servlet containers map ``/a;jsessionid=X/b`` as ``/a/b``:
    Tomcat writes such links on a first visit), so ``/x/../ai``, ``//ai`` or
    ``/ai;x/page`` cannot dodge the rule for ``/ai*``."""
    if "//" not in path and "/." not in path and ";" not in path:
        return path
    segments: list[str] = []
    for raw in path.split("/"):
        segment = raw.partition(";")[0]
        if segment in ("", "."):
            continue
        if segment == "..":
            if segments:
                segments.pop()
            continue
        segments.append(segment)
    normal = "/" + "/".join(segments)
    if segments and path.rpartition("/")[2].partition(";")[0] in ("", ".", ".."):
        normal += "/"
    return normal


class Router:
    """Finds the first rule matching a path. Pure: callers that see the same paths
    again keep the answers in a :class:`PathCache`."""

    def __init__(self, manifest: Manifest) -> None:
        self._rules: Sequence[_Rule] = [
            _Rule(route, Match(route.path, tuple(manifest.system(s) for s in route.systems)))
            for route in manifest.routes
        ]

    def match(self, path: str) -> Match | None:
        """The first rule matching ``path`` (normalised), or None."""
        normal = normalize(path)
        return next((rule.match for rule in self._rules if rule.matches(normal)), None)


class PathCache(dict[str, T]):
    """Answers per request path, at most ``size`` of them: the package's one path
    cache, read by the middleware on every response.

    A plain dict emptied when full costs one C-level ``get`` on a hit. Evicting
    one entry at a time (an ordered dict) costs more on every miss and buys
    nothing here: a site's paths are its few pages plus a tail of one-offs (ids,
    typos, scanners) that only need memory to stay flat.
    """

    __slots__ = ("size",)

    def __init__(self, size: int = 4096) -> None:
        super().__init__()
        self.size = size

    def remember(self, path: str, answer: T) -> T:
        """Keep ``answer`` for ``path`` (starting over when full) and return it."""
        if len(self) >= self.size:
            self.clear()
        self[path] = answer
        return answer
