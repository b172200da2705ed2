"""Match request paths to the manifest's route rules. Pure and cached.

A rule's ``path`` is a pattern where ``*`` matches any run of characters, ``/``
included; everything else is literal. The first matching rule wins. The rule's
pattern, not the path, is what the logs record: it names a route, not a person's
request.
"""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

from ._model import Manifest, Route, System

__all__ = ["Match", "Router"]


@dataclass(frozen=True, slots=True)
class Match:
    """The rule that matched a path and the systems it names."""

    template: str
    systems: tuple[System, ...]


class _Rule:
    __slots__ = ("exact", "match", "prefix", "regex")

    def __init__(self, route: Route, match: Match) -> None:
        pattern = route.path
        self.match = match
        self.exact: str | None = None
        self.prefix: str | None = None
        self.regex: re.Pattern[str] | None = None
        # Most rules are a literal or a literal followed by one '*': avoid regexes for them.
        if "*" not in pattern:
            self.exact = pattern
        elif pattern.count("*") == 1 and pattern.endswith("*"):
            self.prefix = pattern[:-1]
        else:
            parts = (re.escape(part) for part in pattern.split("*"))
            self.regex = re.compile(".*".join(parts) + r"\Z", re.DOTALL)

    def matches(self, path: str) -> bool:
        if self.exact is not None:
            return path == self.exact
        if self.prefix is not None:
            return path.startswith(self.prefix)
        assert self.regex is not None
        return self.regex.match(path) is not None


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
        found = next((rule.match for rule in self._rules if rule.matches(path)), None)
        cache[path] = found
        if len(cache) > self._cache_size:
            # Paths are unbounded (ids, typos, scanners): keep memory flat.
            cache.popitem(last=False)
        return found
