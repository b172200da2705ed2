"""One response, read once: what its headers and HTML say. Pure.

Every rule reads a page through ``Page``: the parsed ``AI-Disclosure`` header
(or why it could not be read), the ``Link rel="ai-disclosure"`` targets, the
scanned HTML document and the page's language. ``LinkResult`` is what a
register link answered, so the register rule stays pure too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import unquote, urldefrag, urljoin, urlsplit

from .._headers import AIDisclosureHeader, HeaderError, parse_header
from .html import Document, decode, is_html, scan

__all__ = [
    "Headers",
    "LinkResult",
    "Page",
    "link_targets",
    "notice_links",
    "read_page",
    "register_targets",
]

Headers = Sequence[tuple[str, str]]

_LINK_VALUE = re.compile(r"<([^>]*)>([^<]*)")
_REL = re.compile(r';\s*rel\s*=\s*(?:"([^"]*)"|([^\s;,]+))', re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class LinkResult:
    """What a register link answered, asked as a browser asks and redirects
    followed: a status with its media type (``html``: a page people can read,
    by type or, without one, by its first bytes), a transport error, or why it
    was not requested."""

    url: str
    status: int | None = None
    error: str | None = None
    skipped: str | None = None
    media_type: str = ""
    html: bool = False

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 400

    def describe(self) -> str:
        if self.skipped is not None:
            return f"not checked: {self.skipped}"
        if self.status is not None:
            return f"answered {self.status}"
        return f"unreachable: {self.error}"

    def unreadable(self) -> str | None:
        """Why a citizen following the link would not get a page to read; None if
        they would (2xx HTML). Only for answers that are not failures already."""
        if self.html:
            return None
        media = self.media_type
        if media == "application/json" or media.endswith("+json"):
            return f"answers JSON only ({media}), not a page people can read"
        return f"answers {media or 'no media type'}, not an HTML page people can read"


@dataclass(frozen=True, slots=True)
class Page:
    """One response, read once: what its headers and HTML say."""

    url: str
    status: int
    content_type: str
    header_value: str | None
    header: AIDisclosureHeader | None
    header_error: str | None
    link_targets: tuple[str, ...]
    location: str | None
    document: Document | None
    content_language: str | None = None

    @property
    def is_html(self) -> bool:
        return self.document is not None

    @property
    def language(self) -> str | None:
        """The page's language: ``<html lang>``, else a single ``Content-Language``."""
        if self.document is not None and self.document.lang:
            return self.document.lang
        return self.content_language

    @property
    def path(self) -> str:
        """The decoded path, as the server's router sees it."""
        return unquote(urlsplit(self.url).path) or "/"


def _values(headers: Headers, name: str) -> list[str]:
    return [value for key, value in headers if key.lower() == name]


def link_targets(values: Iterable[str], rel: str, base: str) -> tuple[str, ...]:
    """Absolute targets of the ``Link`` header values whose ``rel`` includes ``rel``."""
    found: dict[str, None] = {}
    for value in values:
        for target, params in _LINK_VALUE.findall(value):
            match = _REL.search(params)
            rels = (match.group(1) or match.group(2) or "") if match else ""
            if rel in rels.lower().split():
                found[urljoin(base, target.strip())] = None
    return tuple(found)


def read_page(url: str, status: int, headers: Headers, body: bytes) -> Page:
    """Read a response: ``headers`` as (name, value) pairs, ``body`` the bytes read
    (empty for pages that are not HTML)."""
    content_type = next(iter(_values(headers, "content-type")), "")
    values = _values(headers, "ai-disclosure")
    # Several fields combine into one structured-field dictionary (RFC 9651).
    header_value = ", ".join(values) if values else None
    header: AIDisclosureHeader | None = None
    header_error: str | None = None
    if header_value is not None:
        try:
            header = parse_header(header_value)
        except HeaderError as exc:
            header_error = str(exc)
    document = None
    if 200 <= status < 300 and is_html(content_type, body):
        document = scan(decode(body, content_type))
    location = next(iter(_values(headers, "location")), None)
    languages = [
        tag.strip().lower()
        for value in _values(headers, "content-language")
        for tag in value.split(",")
    ]
    languages = [tag for tag in languages if tag]
    return Page(
        url=url,
        status=status,
        content_type=content_type,
        header_value=header_value,
        header=header,
        header_error=header_error,
        link_targets=link_targets(_values(headers, "link"), "ai-disclosure", url),
        location=urljoin(url, location) if location else None,
        document=document,
        # Several languages name the audience, not the language of the text.
        content_language=languages[0] if len(languages) == 1 else None,
    )


def notice_links(page: Page) -> tuple[str, ...]:
    """The http(s) links inside the page's notices (the register link a citizen
    follows among them), absolute, without fragment, each once."""
    document = page.document
    if document is None:
        return ()
    found: dict[str, None] = {}
    base = urljoin(page.url, document.base) if document.base else page.url
    for element in document.notices:
        for href in element.links:
            url = urldefrag(urljoin(base, href)).url
            if urlsplit(url).scheme in ("http", "https") and url != urldefrag(page.url).url:
                found[url] = None
    return tuple(found)


def register_targets(page: Page) -> tuple[str, ...]:
    """Register URLs to check: ``Link rel="ai-disclosure"`` targets, then the
    http(s) links inside the page's notices, each once. The crawler asks each
    once per run and hands the answers to the rules as ``LinkResult``s."""
    return tuple(dict.fromkeys((*page.link_targets, *notice_links(page))))
