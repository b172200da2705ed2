"""Size of the notice widget as shipped: gzip -9 of each file, against the budget.

    python bench/widget_size.py

Prints one line per file and exits 1 when the script or the stylesheet is over
budget. The notice needs no script at all; ``ai-notice.js`` only enhances it.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

WIDGETS = Path(__file__).resolve().parents[1] / "widgets"

#: Budgets in bytes after gzip -9; None means reported only.
BUDGETS: dict[str, int | None] = {
    "ai-notice.js": 5 * 1024,
    "ai-notice.css": 3 * 1024,
    "i18n/fr.json": None,  # one language, fetched only by pages with no server-rendered notice
}


def gzipped_size(path: Path) -> int:
    return len(gzip.compress(path.read_bytes(), compresslevel=9, mtime=0))


def main() -> int:
    over = []
    print(f"{'file':<20} {'raw':>8} {'gzip -9':>8} {'budget':>8}")
    for name, budget in BUDGETS.items():
        path = WIDGETS / name
        raw, packed = path.stat().st_size, gzipped_size(path)
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
