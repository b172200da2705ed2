"""Notices that could not be shown: one warning per route and reason, never silent.

An AI page that reaches a citizen without its notice breaks law 6 while its
header still says "AI". The middleware reports each such page here; the first
time a (route, reason) pair is seen it is logged as a warning on the
``ai_disclosure`` logger (per route, not per request: logs stay small and hold
no URL), and ``ai_disclosure.testing.capture_missed_notices()`` sees every one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass

__all__ = ["REASONS", "MissedNotice", "Misses", "listeners"]

_log = logging.getLogger("ai_disclosure")

#: Every reason, and what it means with what to do about it.
REASONS: dict[str, str] = {
    "encoding": "the page is compressed in a coding that cannot be decoded here "
    "(br needs the brotli package, zstd the zstandard package: "
    "pip install 'ai-disclosure[compression]')",
    "corrupt": "the page's compressed body is not valid in its Content-Encoding",
    "charset": "the page's charset is not ASCII-compatible (UTF-16/32); serve it as UTF-8",
    "xhtml": "the page is served as application/xhtml+xml, which an XML parser reads; "
    "serve it as text/html or place the notice in the template with disclosure_notice()",
    "no-transform": "the page says Cache-Control: no-transform; drop it on AI pages, "
    "or place the notice in the template with disclosure_notice()",
    "file": "the page was sent as a file (http.response.pathsend); send it as an ordinary response",
    "frameset": "the page is a frameset, which has no body to show the notice in",
    "holdback": "too much markup between the head and the body start to hold safely "
    "(over 64 KiB); place the notice in the template with disclosure_notice()",
    "truncated": "the page ends where nothing can be added without changing it "
    "(inside a doctype, a tag, <plaintext> or an unclosable script)",
}
_CAP = 1024  # distinct (route, reason) pairs remembered; routes are templates, few


@dataclass(frozen=True, slots=True)
class MissedNotice:
    """An AI page served without its notice: the route rule (never the raw path) and why."""

    route: str
    reason: str

    @property
    def explanation(self) -> str:
        return REASONS.get(self.reason, self.reason)


#: Lists that ``capture_missed_notices()`` is filling (tests may serve from threads).
listeners: list[list[MissedNotice]] = []
_lock = threading.Lock()


class Misses:
    """One middleware's record of what it has already warned about."""

    __slots__ = ("_seen",)

    def __init__(self) -> None:
        self._seen: set[tuple[str, str]] = set()

    def report(self, route: str, reason: str) -> None:
        missed = MissedNotice(route, reason)
        if listeners:
            with _lock:
                for found in listeners:
                    found.append(missed)
        key = (route, reason)
        if key in self._seen:
            return
        if len(self._seen) >= _CAP:
            self._seen.clear()
        self._seen.add(key)
        _log.warning("AI page served without the notice on route %s: %s", route, missed.explanation)
