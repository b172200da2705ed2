"""robots.txt, read the way RFC 9309 says, matched by ``urllib.robotparser``. Pure.

The fetch is the crawler's; this module only turns what the server answered into
rules: a 4xx means no rules (everything allowed), a 5xx means the server cannot
say, so nothing may be fetched. ``urllib.robotparser`` applies the first
matching rule of a group and knows no ``*``/``$`` patterns: good enough for
deciding what an auditor may read, and what the standard library offers.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.robotparser import RobotFileParser

__all__ = ["Robots", "read_robots", "robots_token"]

#: RFC 9309: crawlers must parse at least the first 500 KiB.
MAX_ROBOTS_BYTES = 500 * 1024


def robots_token(user_agent: str) -> str:
    """The product token robots.txt groups are matched against (``name`` of ``name/1.0``)."""
    return user_agent.strip().split("/", 1)[0].split(" ", 1)[0] or user_agent


@dataclass(frozen=True, slots=True)
class Robots:
    """An origin's robots.txt rules and a one-line description of where they came from."""

    url: str
    note: str
    parser: RobotFileParser

    def allows(self, user_agent: str, url: str) -> bool:
        return bool(self.parser.can_fetch(robots_token(user_agent), url))

    def crawl_delay(self, user_agent: str) -> float | None:
        """The ``Crawl-delay`` for this agent, in seconds, if robots.txt sets one."""
        delay = self.parser.crawl_delay(robots_token(user_agent))
        return float(delay) if delay is not None else None


def read_robots(url: str, status: int, body: bytes) -> Robots:
    """Rules from what ``url`` answered (after redirects)."""
    parser = RobotFileParser(url)
    if 200 <= status < 300:
        text = body[:MAX_ROBOTS_BYTES].decode("utf-8", "replace")
        parser.parse(text.splitlines())
        return Robots(url, f"robots.txt read (HTTP {status})", parser)
    if 400 <= status < 500:
        parser.parse([])  # read, and empty: every URL allowed
        return Robots(url, f"no robots.txt (HTTP {status}): everything allowed", parser)
    parser.parse(["User-agent: *", "Disallow: /"])
    note = f"robots.txt answered HTTP {status}: nothing may be fetched (RFC 9309)"
    return Robots(url, note, parser)
