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
inside attribute values (a CSRF token, nonces): ``_inject.decided_before`` then
recalls the whole decision first.
"""

from __future__ import annotations

import re

from ._htmlsyntax import _ATTRS, _FAST, _HTML_TAG, _SEP, MARKER

__all__ = ["page_start"]

#: The page start's spans as ``_FAST`` gives them: <html> tag (-1, -1 when
#: none), </head> tag (idem), <body> tag; and whether the start is clean (no
#: notice marker, and an <html> tag only where the match saw it).
Spans = tuple[int, int, int, int, int, int, bool]

_BODY_TAG = re.compile(rb"<body" + _SEP + _ATTRS, re.IGNORECASE)
#: Starts kept, and the longest one kept (memory stays under _LIMIT x _LONGEST).
_LIMIT = 64
_LONGEST = 16384
#: Bytes before "<body" -> (html and head spans, whether those bytes are clean).
_known: dict[bytes, tuple[int, int, int, int, bool]] = {}


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
                html_start, html_end, head_start, head_end, clean = known
                end = body.end()
                return (
                    html_start, html_end, head_start, head_end, at, end,
                    clean and _clean(data, at, end, 0),
                )  # fmt: skip
    found = _FAST.match(data)
    if found is None:
        return None
    html_start, html_end = found.span("html")
    head_start, head_end = found.span("head")
    body_start, body_end = found.span("body")
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
        _known[key] = (html_start, html_end, head_start, head_end, prefix_clean)
    return html_start, html_end, head_start, head_end, body_start, body_end, clean
