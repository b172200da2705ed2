"""Raw ASGI header lists, read and changed in place. Sans-I/O.

ASGI gives headers as a list of ``(name, value)`` byte pairs, names usually but
not always lowercase (an app may send ``b"ETag"``): every lookup here compares
lowercased names, and every ``name`` argument is lowercase. The middleware's hot
path and the proxy share these rather than wrapping each list in Starlette's
``MutableHeaders``, which would cost an object per response.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from email.utils import formatdate
from typing import Any

__all__ = [
    "RawHeaders",
    "accepted_codings",
    "add_vary",
    "changed_body",
    "date_header",
    "first",
    "has",
    "if_none_match",
    "request_header",
    "tokens",
    "with_date",
]

RawHeaders = list[tuple[bytes, bytes]]


def first(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bytes | None:
    """The value of the first ``name`` header, or None."""
    for key, value in headers:
        if key.lower() == name:
            return value
    return None


def request_header(scope: Mapping[str, Any], name: bytes) -> str | None:
    """The first ``name`` header of an ASGI request as text (Latin-1), or None.
    Names compared as they are: servers give a request's names lowercase (ASGI),
    so the request path skips the lowering ``first`` does for apps' headers."""
    for key, value in scope.get("headers", ()):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def has(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> bool:
    return any(key.lower() == name for key, _ in headers)


def tokens(headers: Iterable[tuple[bytes, bytes]], name: bytes) -> set[bytes]:
    """The comma-separated tokens of every ``name`` header, lowercased (``Connection``)."""
    return {
        token.strip().lower()
        for key, value in headers
        if key.lower() == name
        for token in value.split(b",")
    }


def if_none_match(headers: Iterable[tuple[bytes, bytes]], etag: bytes) -> bool | None:
    """Whether the request's ``If-None-Match`` names ``etag`` (or ``*``), compared
    weakly (RFC 9110 13.1.2), over every line of the header; None without one."""
    found = None
    for key, value in headers:
        if key.lower() == b"if-none-match":
            tags = [tag.strip().removeprefix(b"W/") for tag in value.split(b",")]
            if etag.removeprefix(b"W/") in tags or b"*" in tags:
                return True
            found = False
    return found


def accepted_codings(accepted: bytes, usable: Callable[[bytes], bool]) -> bytes:
    """An ``Accept-Encoding`` value cut down to the codings ``usable`` accepts and
    the client did not refuse (``q=0``); ``*`` is dropped, as it names no coding.
    With nothing left, ``identity``."""
    kept = []
    for item in accepted.split(b","):
        coding, _, params = item.partition(b";")
        coding = coding.strip().lower()
        if not coding or coding in (b"*", b"identity") or not usable(coding):
            continue
        quality = params.strip().lower()
        if quality.startswith(b"q=") and _refused(quality[2:]):
            continue
        kept.append(item.strip())
    return b", ".join(kept) or b"identity"


def _refused(quality: bytes) -> bool:
    try:
        return float(quality) <= 0
    except ValueError:
        return True


def changed_body(headers: RawHeaders, length: int | None) -> None:
    """The headers of a body that changed, in one pass: one ``Content-Length``
    saying ``length`` (none when None: the length is not known yet), and a strong
    ``ETag`` made weak, since the body is no longer byte-identical to what the app
    tagged (RFC 9110 8.8.1: caches still revalidate with it)."""
    kept = []
    for key, value in headers:
        name = key.lower()
        if name == b"content-length":
            continue
        if name == b"etag" and not value.startswith(b"W/"):
            value = b"W/" + value
        kept.append((key, value))
    if length is not None:
        kept.append((b"content-length", b"%d" % length))
    headers[:] = kept


def add_vary(headers: RawHeaders, name: bytes) -> None:
    """Say the answer varies with request header ``name``: appended to the first
    ``Vary`` unless it names it already or says ``*``."""
    for index, (key, value) in enumerate(headers):
        if key.lower() == b"vary":
            if name.lower() not in value.lower() and value.strip() != b"*":
                headers[index] = (key, value + b", " + name)
            return
    headers.append((b"vary", name))


def date_header() -> tuple[bytes, bytes]:
    """A ``Date`` header for now (RFC 9110 6.6.1)."""
    return b"date", formatdate(usegmt=True).encode("ascii")


def with_date(headers: RawHeaders) -> RawHeaders:
    """``headers`` when they carry a ``Date``, else a copy with one for now."""
    if has(headers, b"date"):
        return headers
    return [*headers, date_header()]
