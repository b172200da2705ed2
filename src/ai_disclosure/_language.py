"""Choose the notice's language: the page's, else the reader's, else the service's.

Pure functions over strings; no I/O.
"""

from __future__ import annotations

from collections.abc import Collection
from functools import lru_cache

__all__ = ["choose_language", "parse_accept_language"]


@lru_cache(maxsize=512)
def parse_accept_language(value: str) -> tuple[str, ...]:
    """Language ranges of an ``Accept-Language`` header, most wanted first."""
    ranked: list[tuple[float, int, str]] = []
    for position, item in enumerate(value.split(",")[:32]):
        tag, _, params = item.strip().partition(";")
        tag = tag.strip().lower()
        if not tag or tag == "*":
            continue
        quality = 1.0
        params = params.strip()
        if params.startswith("q="):
            try:
                quality = float(params[2:])
            except ValueError:
                continue
        if quality > 0:
            ranked.append((-quality, position, tag))
    return tuple(tag for _, _, tag in sorted(ranked))


def _best(tag: str, available: Collection[str]) -> str | None:
    """``tag`` if available, else its primary language (``fr-BE`` -> ``fr``)."""
    if tag in available:
        return tag
    primary = tag.split("-", 1)[0]
    return primary if primary in available else None


def choose_language(
    available: Collection[str],
    default: str,
    page_language: str | None = None,
    accept_language: str | None = None,
) -> tuple[str, bool]:
    """The language to speak, and whether the answer depends on ``Accept-Language``
    (then the response must say ``Vary: Accept-Language``).

    The page's own language wins, so the notice reads like the page around it.
    """
    if page_language:
        chosen = _best(page_language.lower(), available)
        if chosen:
            return chosen, False
    negotiated = len(available) > 1
    if accept_language:
        for tag in parse_accept_language(accept_language):
            chosen = _best(tag, available)
            if chosen:
                return chosen, negotiated
    return default, negotiated
