"""The HTML tokenizer's vocabulary, as byte patterns and tables (no state, no I/O).

What ``Injector`` needs to read a page the way the HTML parsing algorithm does,
compiled once: the rest of a tag after its name (a quote only opens a value
after ``=``), comments and bogus comments, raw-text elements, what may come
before the body without ending the head, what may be skipped in the body, and
the one match that reads the usual page start up to ``<body>``.

Everything is matched in C by ``re``; Python sees only the tokens that matter.
"""

from __future__ import annotations

import re
from enum import Enum

PLACEHOLDER = b"<!--ai-disclosure-notice-->"
MARKER = b"data-ai-disclosure-notice"


class _State(Enum):
    DATA = 0  # markup: looking for the next token that matters
    COMMENT = 1  # inside a long comment: looking for --> or --!>
    CDATA = 2  # inside a long CDATA section (foreign content): looking for ]]>
    BOGUS = 3  # inside a long <!...> or <?...>: looking for >
    RAWTEXT = 4  # inside script/style/textarea/title...: looking for its end tag
    TAG = 5  # inside a tag too long to hold: looking for its end
    DONE = 6  # decided (injected or gave up): pass everything through


class _Phase(Enum):
    HEAD = 0  # before the body: tracking where the head ends and the body starts
    SKIP = 1  # after the body start: reading past the leading skip links
    BODY = 2  # in the body: looking for </body> or the placeholder
    DONE = 3


#: Elements whose content is text to the HTML parser: tags inside do not count
#: (``<noscript>`` as browsers, which run scripts, read it).
_RAW = (
    b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes",
    b"noscript", b"plaintext",
)  # fmt: skip
#: A token longer than this is not held whole; it is streamed and never inserted at.
_TOKEN_LIMIT = 4096
#: Comments shorter than this are held whole, so the placeholder is always seen whole.
_COMMENT_HOLD = 64
_WS = b"\t\n\x0c\r "
_SEP = rb"(?=[\t\n\f\r />])"

#: The rest of a tag after its name, up to its '>', as the tokenizer reads it.
_ATTRS = (
    rb"(?:[\t\n\f\r /]++"
    rb"|[^\t\n\f\r />][^\t\n\f\r /=>]*+"
    # after '=' a value must follow (a quote opens one only there), or the '>'
    rb"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+"
    rb"(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+|(?=>))"
    rb"|(?![\t\n\f\r ]*+=))"
    rb")*+>"
)
#: In skipped text the marker must not hide: such constructs go the slow way.
_NO_MARKER = rb"d(?!ata-ai-disclosure-notice)"


def _comment(marker: bool = True) -> bytes:
    """A whole comment; with ``marker``, none holding the marker."""
    if not marker:
        return rb"<!--(?:>|->|(?:[^-]++|-(?!-!?>))*+--!?>)"
    return rb"<!--(?:>|->|(?:[^-d]++|-(?!-!?>)|" + _NO_MARKER + rb")*+--!?>)"


def _bogus(marker: bool = True) -> bytes:
    """A whole bogus comment (``<?...>``, ``</ ...>``, ``<!...>``)."""
    text = rb"(?:[^>d]++|" + _NO_MARKER + rb")*+" if marker else rb"[^>]*+"
    return rb"(?:<\?|</(?![a-zA-Z>])|<!(?!--|\[CDATA\[))" + text + rb">"


_COMMENT_RE = _comment()
_BOGUS_RE = _bogus()


def _raw_element(name: bytes, marker: bool = True) -> bytes:
    """A whole raw-text element, start tag to just before its end tag (scripts
    holding ``<!--``, whose end depends on escape states, go the slow way)."""
    escape = b"|!--" if name == b"script" else b""
    run, marked = (rb"[^<d]++", rb"|" + _NO_MARKER) if marker else (rb"[^<]++", b"")
    return (
        rb"<" + name + _SEP + _ATTRS
        + rb"(?:" + run + rb"|<(?!/" + name + rb"[\t\n\f\r />]" + escape + rb")" + marked + rb")*+"
        rb"(?=</" + name + _SEP + _ATTRS + rb")"  # a whole end tag: cut short, it is text
    )  # fmt: skip


def _alternatives(names: tuple[bytes, ...], marker: bool = True) -> bytes:
    return b"".join(b"|" + _raw_element(name, marker) for name in names)


def _head_pieces(marker: bool, noscript: bool = False) -> bytes:
    """Before the body, one of what never ends the head nor starts the body, in
    any of the modes before it: whitespace, comments, doctype, the head's void
    elements and raw-text elements, <head>, and the end tags the parser ignores
    there. Without ``marker``, text may hold the marker: for a match whose every
    byte is searched for it afterwards (stopping at each "d" made the match ten
    times slower on scripts and styles). With ``noscript``, <noscript> elements
    too (raw text, as browsers that run scripts read them): they stay in the
    head only before </head>, and the head fragment goes before the first."""
    cdata = rb"(?:[^>d]++|" + _NO_MARKER + rb")*+" if marker else rb"[^>]*+"
    raw = (b"script", b"style", b"title", b"noframes") + ((b"noscript",) if noscript else ())
    return (
        rb"[\t\n\f\r ]++"
        rb"|<(?:meta|link|base|basefont|bgsound|head)" + _SEP + _ATTRS
        + rb"|</(?:meta|link|base|basefont|bgsound|" + b"|".join(raw) + rb")" + _SEP + _ATTRS
        + _alternatives(raw, marker)
        + rb"|" + _comment(marker)
        + rb"|" + _bogus(marker) + rb"|<!\[CDATA\[" + cdata + rb">"
        + rb"|</>"
    )  # fmt: skip


def _head_skipped(marker: bool, noscript: bool = False) -> bytes:
    """Before the body: any run of ``_head_pieces(marker, noscript)``."""
    return rb"(?:" + _head_pieces(marker, noscript) + rb")*+"


_HEAD_SKIPPED = _head_skipped(marker=True)
#: After the body start, reading skip links: only whitespace, comments and doctype.
_SKIP_SKIPPED = rb"(?:[\t\n\f\r ]++|" + _COMMENT_RE + rb"|" + _BOGUS_RE + rb"|</>)*+"


def _body_skipped(comments: bool) -> bytes:
    """In the body: everything but </body>, templates, plaintext, comments (when
    the placeholder matters) and what a chunk cut short."""
    comment = rb"|" + _COMMENT_RE if comments else b""
    raw = (b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed",
           b"noframes", b"noscript")  # fmt: skip
    return (
        rb"(?:[^<]++"
        rb"|</?(?!(?:body|template|plaintext|" + b"|".join(raw) + rb")[\t\n\f\r />])"
        rb"[a-zA-Z][^\t\n\f\r />]*+" + _ATTRS
        + rb"|</(?:" + b"|".join(raw) + rb")" + _SEP + _ATTRS
        + rb"|<body" + _SEP + _ATTRS
        + _alternatives(raw)
        + comment
        + rb"|<!\[CDATA\[(?:[^\]d]++|\](?!\]>)|" + _NO_MARKER + rb")*+\]\]>"
        + rb"|" + _BOGUS_RE + rb"|</>"
        + rb"|<(?=[^a-zA-Z/!?]))*+"
    )  # fmt: skip


_HEAD_SKIP = re.compile(_HEAD_SKIPPED, re.IGNORECASE)
_SKIP_SKIP = re.compile(_SKIP_SKIPPED, re.IGNORECASE)
_BODY_SKIP = {
    True: re.compile(_body_skipped(comments=True), re.IGNORECASE),
    False: re.compile(_body_skipped(comments=False), re.IGNORECASE),
}


def _page_start(marker: bool) -> re.Pattern[bytes]:
    """The page start up to ``<body>``, skipping as ``_head_skipped(marker)`` does,
    and <noscript> elements before </head>."""
    head, after = _head_skipped(marker, noscript=True), _head_skipped(marker)
    return re.compile(
        rb"(?:\xef\xbb\xbf)?" + head
        + rb"(?P<html><html" + _SEP + _ATTRS + rb")?" + head
        + rb"(?P<head></head" + _SEP + _ATTRS + rb")?" + after
        + rb"(?P<body><body" + _SEP + _ATTRS + rb")",
        re.IGNORECASE,
    )  # fmt: skip


#: The common case in one C-level match: a whole page start, in one chunk, up to its
#: <body> tag, with nothing but head content before it and at most one <html> tag
#: and one </head>. Anything else (and any doubt: a marker, a long tag) goes the
#: token-by-token way, which gives the same bytes - the split-invariance tests hold
#: both to that. Its text may hold the marker: ``_pagestart`` searches every byte
#: it matched for it.
_FAST = _page_start(marker=False)
#: One piece of a page start ``_FAST`` read, the <html> tag and </head> included:
#: to walk it token by token (``_pagestart.inert_spans``).
_HEAD_PIECE = re.compile(
    rb"<html" + _SEP + _ATTRS
    + rb"|</head" + _SEP + _ATTRS
    + rb"|" + _head_pieces(marker=False, noscript=True),
    re.IGNORECASE,
)  # fmt: skip
_NOSCRIPT = re.compile(rb"<noscript" + _SEP, re.IGNORECASE)

_NAME = re.compile(rb"</?([a-zA-Z][^\t\n\f\r />]*+)")
_TAG_REST = re.compile(_ATTRS)
_ATTR = re.compile(
    rb"([^\t\n\f\r />][^\t\n\f\r /=>]*)"
    rb"(?:[\t\n\f\r ]*=[\t\n\f\r ]*(?:\"([^\"]*)\"|'([^']*)'|([^\t\n\f\r >\"'][^\t\n\f\r >]*)))?"
)
_RAW_END = {name: re.compile(rb"</" + name + rb"[\t\n\f\r />]", re.IGNORECASE) for name in _RAW}
_SCRIPT_TOKEN = re.compile(rb"<!--|-->|<(/?)script[\t\n\f\r />]", re.IGNORECASE)
_COMMENT_END = re.compile(rb"--!?>")
_CDATA = b"<![CDATA["
_BOM = b"\xef\xbb\xbf"
_HTML_TAG = re.compile(rb"<html(?=[\t\n\f\r />])", re.IGNORECASE)
_LANG = re.compile(rb"\slang\s*=\s*[\"']?\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)", re.IGNORECASE)

#: Long tags: what ends the run in each attribute state (see ``_long_tag``).
_T_NAME, _T_BEFORE, _T_ATTR, _T_AFTER, _T_VALUE, _T_DQ, _T_SQ, _T_UNQUOTED = range(8)
_LONG_STOP = {
    _T_NAME: re.compile(rb"[\t\n\f\r />]"),
    _T_ATTR: re.compile(rb"[\t\n\f\r /=>]"),
    _T_UNQUOTED: re.compile(rb"[\t\n\f\r >]"),
    _T_BEFORE: re.compile(rb"[^\t\n\f\r ]"),
    _T_AFTER: re.compile(rb"[^\t\n\f\r ]"),
    _T_VALUE: re.compile(rb"[^\t\n\f\r ]"),
}

#: Start tags that stay in the head even after </head> (the parser moves them there).
_HEAD_ELEMENTS = frozenset(
    (b"base", b"basefont", b"bgsound", b"link", b"meta", b"noframes", b"script", b"style",
     b"template", b"title", b"head", b"html")
)  # fmt: skip
_IMPLY_BODY_END_TAGS = (b"/body", b"/html", b"/br")


def _attributes(tag: bytes, name_end: int) -> dict[bytes, bytes]:
    """A tag's attributes, names lower-cased, the first of each name kept."""
    found: dict[bytes, bytes] = {}
    for match in _ATTR.finditer(tag, name_end, len(tag) - 1):
        key = match.group(1).lower()
        if key not in found:
            found[key] = match.group(2) or match.group(3) or match.group(4) or b""
    return found
