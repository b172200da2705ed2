"""Size of the notice widget as shipped: gzip -9 of each file, against the budget.

    python bench/widget_size.py

Prints one line per file and exits 1 when the script or the stylesheet is over
budget. The notice needs no script at all; ``ai-notice.js`` only enhances it.
The script is ES modules: each line is what one kind of page loads, summed.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

WIDGETS = Path(__file__).resolve().parents[1] / "widgets"

_BASE = ("ai-notice.js", "ai-notice-core.js")
#: What a page loads -> its files and budget in bytes after gzip -9; None means reported only.
#: The script is ES modules: the entry and its pure core, plus what a page's features
#: load on first need (each gzipped on its own, as served).
BUDGETS: dict[str, tuple[tuple[str, ...], int | None]] = {
    "notice page": (_BASE, 5 * 1024),
    "+ mark/watchFetch": ((*_BASE, "ai-notice-dom.js"), 5 * 1024),
    "+ <ai-notice src>": ((*_BASE, "ai-notice-remote.js"), 5 * 1024),
    "+ SPA routes": ((*_BASE, "ai-notice-routes.js"), 5 * 1024),
    "+ src and routes": ((*_BASE, "ai-notice-remote.js", "ai-notice-routes.js"), 5 * 1024),
    # When the register cannot be reached, a page's fallback (in the element or in its
    # <noscript>) is shown with no more script; only a page that gave none gets a
    # sentence built from the catalog's words, which loads ai-notice-dom.js.
    "+ src, unreachable, no fallback given": (
        (*_BASE, "ai-notice-remote.js", "ai-notice-dom.js"),
        None,
    ),
    "ai-notice.css": (("ai-notice.css",), 3 * 1024),
    # One language, fetched only by pages with no server-rendered notice.
    "i18n/fr.json": (("i18n/fr.json",), None),
}


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def main() -> int:
    over = []
    print(f"{'page loads':<20} {'raw':>8} {'gzip -9':>8} {'budget':>8}")
    for name, (files, budget) in BUDGETS.items():
        paths = [WIDGETS / file for file in files]
        raw = sum(path.stat().st_size for path in paths)
        packed = sum(gzipped_size(path) for path in paths)
        limit = f"{budget}" if budget is not None else "-"
        flag = ""
        if budget is not None and packed > budget:
            over.append(name)
            flag = "  OVER BUDGET"
        print(f"{name:<20} {raw:>8} {packed:>8} {limit:>8}{flag}")
    print("script needed for the notice to work: 0 bytes")
    if over:
        print(f"over budget: {', '.join(over)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
