"""The usual page start, up to its ``<body>`` tag, matched once per distinct start.

``_FAST`` reads a page start in one regular-expression match, but that match
tries every construct of the head at every token. The pages of a site mostly
share their start byte for byte (one template), so what the match found is kept
per start: the next page whose bytes before its first ``<body`` are the same
costs a search, a hash, a comparison and one short match of its ``<body>`` tag.

Sound because nothing of the match up to that ``<body`` depends on what follows
it: no construct the head may hold (comments, raw text, tags, ``<html>``,
``</head>``) begins with ``<body``, so the body group starts exactly at the
search's hit whenever it did once; and the match's look-aheads past a token's end
(``(?=[\\t\\n\\f\\r />])``) would have to read ``<`` there, which none of them
accepts. The match's text may hold the notice marker (stopping at each "d" to
look for it made the match several times slower on scripts and styles):
``_clean`` searches every byte matched for it, and a start holding it goes the
token-by-token way.

The memo holds at most ``_LIMIT`` starts of at most ``_LONGEST`` bytes each; a
page with something new in its head every time pays the whole match (6 - 15 us
for the 2 - 3 KB heads of the real templates in tests/fixtures, 40 - 64 while
text stopped at each "d") plus a search and a hash, unless what is new lies only
inside the head's text (``inert_spans``: a CSRF token, nonces in attribute values
or in a script's JSON): ``_inject.decided_before`` then recalls the whole
decision first.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ._htmlsyntax import (
    _ATTR,
    _ATTRS,
    _BOM,
    _FAST,
    _HEAD_PIECE,
    _HTML_TAG,
    _NOSCRIPT,
    _SEP,
    _TAG_REST,
    MARKER,
)

__all__ = ["Inert", "inert_spans", "page_start"]

#: The page start's spans as ``_FAST`` gives them: <html> tag (-1, -1 when
#: none), </head> tag (idem), where the head fragment goes (``_hold_from``),
#: <body> tag; and whether the start is clean (no notice marker, and an <html>
#: tag only where the match saw it).
Spans = tuple[int, int, int, int, int, int, int, bool]

_BODY_TAG = re.compile(rb"<body" + _SEP + _ATTRS, re.IGNORECASE)
_START_NAME = re.compile(rb"<([a-zA-Z][^\t\n\f\r />]*+)")
#: Starts kept, and the longest one kept (memory stays under _LIMIT x _LONGEST).
_LIMIT = 64
_LONGEST = 16384
#: Bytes before "<body" -> (html and head spans, where the head fragment goes,
#: whether those bytes are clean).
_known: dict[bytes, tuple[int, int, int, int, int, bool]] = {}


def _clean(data: bytes, start: int, end: int, html_tags: int) -> bool:
    """No marker in ``data[start:end]`` and exactly ``html_tags`` <html> tags."""
    return data.find(MARKER, start, end) < 0 and len(_HTML_TAG.findall(data, start, end)) == (
        html_tags
    )


def page_start(data: bytes) -> Spans | None:
    """Where ``_FAST`` finds the <html>, </head> and <body> tags of ``data``, and
    whether the start is clean; None when it does not match."""
    at = data.find(b"<body")
    key = data[:at] if 0 <= at <= _LONGEST else None
    if key is not None:
        known = _known.get(key)
        if known is not None:
            body = _BODY_TAG.match(data, at)
            if body is not None:
                html_start, html_end, head_start, head_end, hold_from, clean = known
                end = body.end()
                return (
                    html_start, html_end, head_start, head_end, hold_from, at, end,
                    clean and _clean(data, at, end, 0),
                )  # fmt: skip
    found = _FAST.match(data)
    if found is None:
        return None
    html_start, html_end = found.span("html")
    head_start, head_end = found.span("head")
    body_start, body_end = found.span("body")
    hold_from = _hold_from(data, head_start if head_start >= 0 else body_start)
    html_tags = int(html_start >= 0)
    if key is None or body_start != at:
        clean = _clean(data, 0, body_end, html_tags)
    else:
        # In two parts, as a page with this start is checked: neither the marker
        # nor an <html> tag can run across the "<body" between them.
        prefix_clean = _clean(data, 0, at, html_tags)
        clean = prefix_clean and _clean(data, at, body_end, 0)
        if len(_known) >= _LIMIT:
            _known.clear()
        _known[key] = (html_start, html_end, head_start, head_end, hold_from, prefix_clean)
    return html_start, html_end, head_start, head_end, hold_from, body_start, body_end, clean


def _hold_from(data: bytes, end: int) -> int:
    """Where the head fragment goes in a start ``_FAST`` read, ``end`` being its
    </head> or else its <body> tag: before its first <noscript> (read as text by
    browsers that run scripts, its content may end the head in those that do
    not: before it is in the head either way), else at ``end``. A "<noscript"
    inside a script, a comment or a value is no element: the start is walked."""
    if _NOSCRIPT.search(data, 0, end) is None:
        return end
    for piece in _pieces(data, end):
        if _NOSCRIPT.match(data, piece.start()):
            return piece.start()
    return end


def _pieces(data: bytes, end: int) -> Iterator[re.Match[bytes]]:
    """The pieces of ``data[:end]``, a page start ``_FAST`` read, one by one
    (``_HEAD_PIECE``), up to its <body> tag."""
    at = len(_BOM) if data.startswith(_BOM) else 0
    while at < end:
        piece = _HEAD_PIECE.match(data, at, end)
        if piece is None:  # the <body> tag
            return
        yield piece
        at = piece.end()


#: Where a page start only holds text, and the byte that would end that text
#: early: (start, end, byte).
Inert = tuple[int, int, bytes]
#: ``_ATTR``'s last group matched -> the quote of the value it holds.
_QUOTES = {2: b'"', 3: b"'"}
#: In raw text, a "<" and the bytes after it that may make it an end tag
#: ("</noframes" and the byte after the name) or, in a script, "<!--": not text.
_AFTER_BRACKET = 11


def inert_spans(data: bytes, end: int) -> list[Inert]:
    """The spans of ``data[:end]``, a page start ``_FAST`` read whole, that only
    hold text: the quoted attribute values of its tags, but the <html> tag's (its
    language counts), and the text of its raw-text elements (scripts, styles,
    titles, noframes, noscript) but each "<" in it and the bytes after it
    (``_AFTER_BRACKET`` in all). Any of their bytes may change but their end
    byte (a quote, "<") and every token of the page stays where it was, as it
    was: in a value nothing but its quote ends it; in raw text nothing but an
    end tag, and ``<!--`` in a script, which need a "<" and the bytes right
    after it. (``_HEAD_PIECE`` takes a <noscript> anywhere: it only walks what
    ``_FAST`` read.)"""
    spans: list[Inert] = []
    for piece in _pieces(data, end):
        at = piece.end()
        name = _START_NAME.match(data, piece.start())
        if name is None or name.group(1).lower() == b"html":
            continue
        # The piece holds the whole tag: the rest of it matches.
        tag_end = _TAG_REST.match(data, name.end()).end()  # type: ignore[union-attr]
        for attribute in _ATTR.finditer(data, name.end(), tag_end - 1):
            group = attribute.lastindex
            if group in _QUOTES:
                spans.append((*attribute.span(group), _QUOTES[group]))
        text = tag_end  # a raw-text element's text runs on to ``at``
        while text < at:
            bracket = data.find(b"<", text, at)
            stop = at if bracket < 0 else bracket
            if text < stop:
                spans.append((text, stop, b"<"))
            text = stop + _AFTER_BRACKET
    return spans
