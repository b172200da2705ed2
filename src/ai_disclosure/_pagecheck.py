"""Whether a response is a page the middleware may change, and how it was asked
for (sans-I/O: headers and first bytes in, a decision out)."""

from __future__ import annotations

from functools import lru_cache

from ._encoding import decodable
from ._types import Scope

#: Charsets in which ASCII bytes stand for ASCII: the fragments (ASCII, with
#: character references for the rest) read right in any of them.
_ASCII_COMPATIBLE = (
    "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-", "iso8859-", "latin", "windows-12",
    "cp12", "koi8", "euc-", "gb2312", "gbk", "gb18030", "big5", "shift_jis",
)  # fmt: skip


def _charset(content_type: bytes) -> str | None:
    """The ``charset`` parameter of a ``Content-Type``, lower-cased, or None."""
    for param in content_type.split(b";")[1:]:
        key, _, value = param.strip().partition(b"=")
        if key.strip().lower() == b"charset":
            return value.strip().strip(b"\"'").decode("latin-1").lower()
    return None


@lru_cache(maxsize=64)
def _media(content_type: bytes) -> tuple[bool, str | None, bool]:
    """What a (lower-cased) ``Content-Type`` alone says, worked out once per value:
    (an HTML page, why not when it should have been, its fragments go as ASCII
    with character references)."""
    media = content_type.split(b";", 1)[0].strip()
    if media != b"text/html":
        # application/xhtml+xml goes to an XML parser, which would reject the HTML
        # fragments (void elements, bare attributes): headers only, page untouched.
        return False, "xhtml" if media == b"application/xhtml+xml" else None, False
    charset = _charset(content_type)
    if charset is not None and not charset.startswith(_ASCII_COMPATIBLE):
        return False, "charset", False
    return True, None, charset is None or not charset.startswith(("utf-8", "utf8"))


class PageHeaders:
    """What one pass over a response's headers says about its page.

    ``ok``: an HTML page this middleware may safely change; ``coding``: the
    content-coding to undo first, or None; ``miss``: why not, when it is a page
    that should have shown the notice; ``legacy``: its fragments go as ASCII with
    character references (no UTF-8 charset); ``length``: its ``Content-Length``;
    ``policies``: its ``Content-Security-Policy`` values (where nonces are read).
    """

    __slots__ = ("coding", "legacy", "length", "miss", "ok", "policies")

    def __init__(self, headers: list[tuple[bytes, bytes]]) -> None:
        self.length: bytes | None = None
        self.policies: list[tuple[bytes, bytes]] = []
        self.coding: bytes | None = None
        self.ok, self.miss, self.legacy = False, None, False
        content_type = b""
        coding: bytes | None = None
        no_transform = False
        for key, value in headers:
            name = key.lower()
            if name == b"content-type":
                content_type = value.lower()
            elif name == b"content-length":
                self.length = value
            elif name == b"content-encoding":
                coding = value.strip().lower()
            elif name == b"content-security-policy":
                self.policies.append((name, value))
            elif name == b"content-range" or (
                name == b"content-disposition" and value.strip().lower().startswith(b"attachment")
            ):
                return  # a part of a file, or a download: not a page view
            elif name == b"cache-control" and b"no-transform" in value.lower():
                no_transform = True
        page, self.miss, self.legacy = _media(content_type)
        if not page:
            return
        if no_transform:
            self.miss = "no-transform"
        elif not coding or coding == b"identity":
            self.ok = True
        elif decodable(coding):
            self.ok, self.coding = True, coding
        else:
            self.miss = "encoding"


_NAVIGATION, _SCRIPTED, _FRAGMENT = object(), object(), object()
#: Sec-Fetch-Dest values of a page shown as a page (navigation, frames, embeds).
_DOCUMENT_DESTS = frozenset({b"document", b"iframe", b"frame", b"fencedframe", b"embed", b"object"})
_DOCUMENT_STARTS = (b"<!doctype", b"<html", b"<!--", b"<?xml", b"<head", b"<title", b"<meta")


def _fetched(scope: Scope) -> object:
    """How the page was asked for: as a page (``_NAVIGATION``), by a script that
    may show it whole or put a piece of it in a page (``_SCRIPTED``: Turbo Drive
    and htmx boosting swap whole pages; a bare fetch may take a fragment), or as a
    fragment for sure (``_FRAGMENT``: htmx without boosting, Turbo frames, XHR)."""
    found = _NAVIGATION
    htmx = boosted = False
    for key, value in scope.get("headers", ()):
        if key == b"sec-fetch-dest":
            if value.lower() not in _DOCUMENT_DESTS:
                found = _SCRIPTED
        elif key == b"hx-request":
            htmx = True
        elif key == b"hx-boosted":
            boosted = True
        elif key == b"turbo-frame" or (
            key == b"x-requested-with" and value.lower() == b"xmlhttprequest"
        ):
            return _FRAGMENT
    if htmx:
        # htmx swaps the whole body of a boosted link's page, else a piece.
        return _SCRIPTED if boosted else _FRAGMENT
    return found


def _fragment(start: bytes) -> bool:
    """Whether a body starts as a piece of a page rather than a whole one."""
    start = start.lstrip(b" \t\r\n\f").removeprefix(b"\xef\xbb\xbf").lstrip()
    return bool(start) and not start[:9].lower().startswith(_DOCUMENT_STARTS)
