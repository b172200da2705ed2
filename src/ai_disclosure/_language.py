"""Choose a language: the page's (or the one a link asks for), else the reader's,
else the default. The notice, the declaration page and the register all choose here.

A tag matches a language offered with the same tag (any case), else one of the
same language and script, the script filled in by CLDR's likely subtags: ``fr-BE``
reads ``fr``, ``zh-CN`` and ``zh`` read ``zh-Hans``, ``zh-TW`` does not. Pure
functions over strings; no I/O (CLDR's table is read once, at import).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from functools import lru_cache

from babel.core import get_global

__all__ = ["best_match", "choose_language", "parse_accept_language"]


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


_LIKELY: Mapping[str, str] = get_global("likely_subtags")


@lru_cache(maxsize=1024)
def _language_and_script(tag: str) -> tuple[str, str]:
    """A tag's language and script (lower case), the script from CLDR's likely
    subtags when the tag leaves it out (``zh-CN`` -> ``zh``, ``hans``)."""
    language, *rest = tag.lower().replace("_", "-").split("-")
    script = next((part for part in rest if len(part) == 4 and part.isalpha()), "")
    if not script:
        region = next((part for part in rest if len(part) == 2 and part.isalpha()), "")
        likely = _LIKELY.get(f"{language}_{region.upper()}") or _LIKELY.get(language, "")
        parts = likely.split("_")
        script = parts[1].lower() if len(parts) == 3 else ""
    return language, script


@lru_cache(maxsize=256)
def _index(available: tuple[str, ...]) -> Mapping[str | tuple[str, str], str]:
    """Offered tags by lower-case tag and by (language, script); the shortest tag
    stands for its language and script."""
    index: dict[str | tuple[str, str], str] = {}
    for tag in sorted(available, key=len):
        index.setdefault(tag.lower(), tag)
        index.setdefault(_language_and_script(tag), tag)
    return index


def best_match(tag: str, available: Collection[str]) -> str | None:
    """The offered language ``tag`` reads, if any."""
    index = _index(tuple(available))
    return index.get(tag.lower()) or index.get(_language_and_script(tag))


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
        chosen = best_match(page_language, available)
        if chosen:
            return chosen, False
    negotiated = len(available) > 1
    if accept_language:
        for tag in parse_accept_language(accept_language):
            chosen = best_match(tag, available)
            if chosen:
                return chosen, negotiated
    return default, negotiated
