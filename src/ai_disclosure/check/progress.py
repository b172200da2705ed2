"""Show that a crawl is moving: one live line on a terminal, plain lines elsewhere.

A crawl with a polite delay takes minutes; people at a terminal need to see it
advance, while logs and pipes must not fill with carriage returns.
"""

from __future__ import annotations

import shutil
from typing import TextIO

__all__ = ["LineProgress", "TerminalProgress", "progress_for"]


class TerminalProgress:
    """Rewrites one status line in place."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def fetching(self, origin: str, count: int, limit: int, url: str) -> None:
        width = max(20, shutil.get_terminal_size().columns - 1)
        line = f"checking {count}/{limit} {url}"
        if len(line) > width:
            line = line[: width - 1] + "…"
        self.stream.write("\r\x1b[K" + line)
        self.stream.flush()

    def finished(self) -> None:
        self.stream.write("\r\x1b[K")
        self.stream.flush()


class LineProgress:
    """One plain line per page fetched."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def fetching(self, origin: str, count: int, limit: int, url: str) -> None:
        self.stream.write(f"checking {count}/{limit} {url}\n")
        self.stream.flush()

    def finished(self) -> None:
        pass


def progress_for(stream: TextIO) -> TerminalProgress | LineProgress:
    """The live line on a terminal, plain lines otherwise."""
    return TerminalProgress(stream) if stream.isatty() else LineProgress(stream)
