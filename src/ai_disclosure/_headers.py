"""The ``AI-Disclosure`` and ``Link`` header codec (IETF draft-abaris-aicdh).

The header is an RFC 9651 structured-field dictionary::

    AI-Disclosure: mode=ai-originated, model="mistral-small", provider="Mistral AI"

The parser also reads the draft's example form, where the keys are parameters
of ``mode``: ``mode=ai-originated;model="gpt-4";provider="OpenAI"``. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import MappingProxyType
from typing import Any

import http_sf

from ._errors import AIDisclosureError
from ._model import MODES, Involvement

__all__ = [
    "HEADER_NAME",
    "AIDisclosureHeader",
    "HeaderError",
    "header_for",
    "link_header",
    "parse_header",
    "serialize_header",
]

HEADER_NAME = "AI-Disclosure"
_STRING_KEYS = {"model": "model", "provider": "provider", "reviewed-by": "reviewed_by"}


class HeaderError(AIDisclosureError, ValueError):
    """An ``AI-Disclosure`` header value that cannot be read; says why."""


@dataclass(frozen=True, slots=True)
class AIDisclosureHeader:
    """The fields of an ``AI-Disclosure`` header; ``extra`` keeps unknown keys."""

    mode: str
    model: str | None = None
    provider: str | None = None
    reviewed_by: str | None = None
    date: datetime | None = None
    extra: Mapping[str, Any] = field(default_factory=lambda: MappingProxyType({}))

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise HeaderError(f"unknown mode {self.mode!r}; expected one of {_modes()}")


def _is_sf_string(value: str) -> bool:
    return all(" " <= ch <= "~" for ch in value)


def _modes() -> str:
    return ", ".join(sorted(MODES))


def serialize_header(header: AIDisclosureHeader) -> str:
    """The header value in dictionary form."""
    members: dict[str, Any] = {"mode": http_sf.Token(header.mode)}
    for key, attr in _STRING_KEYS.items():
        value = getattr(header, attr)
        if value is not None:
            # Non-ASCII text (a French reviewer's name) needs an RFC 9651 display string.
            members[key] = value if _is_sf_string(value) else http_sf.DisplayString(value)
    if header.date is not None:
        members["date"] = header.date.replace(microsecond=0)
    members.update(header.extra)
    try:
        return http_sf.ser(members)
    except (ValueError, TypeError) as exc:  # e.g. a model name with non-ASCII text
        raise HeaderError(f"cannot serialize AI-Disclosure: {exc}") from None


def parse_header(value: str | bytes) -> AIDisclosureHeader:
    """Read a header value in either syntax; ``HeaderError`` says what is wrong."""
    raw = value.encode("latin-1", "replace") if isinstance(value, str) else value
    try:
        parsed: dict[str, Any] = http_sf.parse(raw, tltype="dictionary")  # type: ignore[assignment]
    except (http_sf.StructuredFieldError, ValueError) as exc:
        raise HeaderError(f"AI-Disclosure is not a structured-field dictionary: {exc}") from None
    if "mode" not in parsed:
        raise HeaderError(f"AI-Disclosure has no 'mode' key; expected mode=one of {_modes()}")
    mode_value, mode_params = parsed.pop("mode")
    if not isinstance(mode_value, http_sf.Token):
        raise HeaderError(f"AI-Disclosure mode must be a token, one of {_modes()}")
    # The draft's example form: keys as parameters of mode. Dictionary members win.
    members: dict[str, Any] = dict(mode_params)
    members.update({key: item for key, (item, _params) in parsed.items()})
    fields: dict[str, Any] = {}
    for key, attr in _STRING_KEYS.items():
        if key in members:
            item = members.pop(key)
            if not isinstance(item, str | http_sf.DisplayString):
                raise HeaderError(f"AI-Disclosure {key} must be a string, found {item!r}")
            fields[attr] = str(item)
    if "date" in members:
        date = members.pop("date")
        if isinstance(date, int) and not isinstance(date, bool):  # the draft's integer form
            try:
                date = datetime.fromtimestamp(date, UTC)
            except (ValueError, OverflowError, OSError):
                raise HeaderError(f"AI-Disclosure date {date} is out of range") from None
        if not isinstance(date, datetime):
            raise HeaderError(f"AI-Disclosure date must be a date (@seconds), found {date!r}")
        fields["date"] = date
    return AIDisclosureHeader(mode=str(mode_value), extra=MappingProxyType(members), **fields)


def header_for(involvement: Involvement, date: datetime | None = None) -> AIDisclosureHeader:
    """The header describing a response that involves these systems."""
    return AIDisclosureHeader(
        mode=involvement.ietf_mode,
        model=involvement.model,
        provider=involvement.provider,
        reviewed_by=involvement.reviewed_by,
        date=date,
    )


def link_header(urls: Iterable[str]) -> str:
    """``Link`` value pointing at the register entries: ``<url>; rel="ai-disclosure"``."""
    seen = dict.fromkeys(u.replace(">", "%3E").replace("<", "%3C") for u in urls)
    return ", ".join(f'<{url}>; rel="ai-disclosure"' for url in seen)
