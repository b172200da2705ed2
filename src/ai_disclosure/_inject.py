"""A streaming HTML injector: bytes in, bytes out, no I/O (sans-I/O, like h11).

``Injector`` puts ``head`` (meta, JSON-LD, stylesheet) in the page's head and
``notice`` at the chosen position in its body, however the page is cut into
chunks. It follows the HTML parsing algorithm as far as these two places need:

* the tokenizer: comments (``-->``, ``--!>``), doctype, bogus comments, tags with
  their attributes (a quote only opens a value after ``=``), raw text of
  ``<script>`` (with its escaped states), ``<style>``, ``<title>``,
  ``<textarea>``, ``<noscript>``... never hold an insertion point;
* tree construction up to the body: ``<html>``, ``<head>`` and ``<body>`` are
  optional, so the head fragment goes before ``</head>``, or before the first
  token that would end the head (text, a tag that is not the head's, ``</body>``,
  ``</html>``, ``</br>``), or before a ``<noscript>`` in the head (its content is
  text with scripting on, markup without: before it is in the head either way);
  never right after ``<head>``, where a JSON-LD block could push ``<meta
  charset>`` past the first 1024 bytes. The body starts after ``<body>``, or right
  before the first token that implies it, or at the end of the document;
  ``<template>`` content implies nothing. A ``<frameset>`` page is left alone.

Promises, for any split of a page into chunks:

* the output is the same as for the page in one chunk;
* either both fragments are inserted exactly once, or the page is unchanged
  (``gave_up``, ``reason`` says why). One addition: a page that ends inside a
  comment, raw text (``<title>``, ``<script>``...) or a ``<template>`` before
  anything implied the body gets, before the fragments, the end the parser
  implies there (``-->``, ``</title>``, ``</template>``...): the same tree, then
  a body to show the notice in. (A script closed so runs, where a browser would
  have skipped it; such a page shows nothing without the notice.) A script cut
  in its double-escaped state or a doctype cut short has no such end: untouched;
* memory stays bounded: held bytes never exceed ``max_holdback`` plus one
  partial token of at most ``_TOKEN_LIMIT`` bytes.

Scanning is done by compiled regular expressions, so the page's ordinary text
and tags are skipped in C; Python sees only the few tokens that matter, and in
the usual page none: one match reads its start up to ``<body>``, one more its
skip links.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from enum import Enum, StrEnum

__all__ = ["MARKER", "PLACEHOLDER", "Injector", "Position"]

PLACEHOLDER = b"<!--ai-disclosure-notice-->"
MARKER = b"data-ai-disclosure-notice"


class Position(StrEnum):
    """Where the notice goes in ``<body>``."""

    AFTER_SKIP_LINKS = "after-skip-links"  # after the leading skip link(s), else body start
    BODY_START = "body-start"  # right after the <body> tag, or where the body starts
    BODY_END = "body-end"  # right before the first </body>, else at the end
    PLACEHOLDER = "placeholder"  # right after <!--ai-disclosure-notice-->, else at the end


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
_COMMENT_RE = rb"<!--(?:>|->|(?:[^-d]++|-(?!-!?>)|" + _NO_MARKER + rb")*+--!?>)"
_BOGUS_RE = rb"(?:<\?|</(?![a-zA-Z>])|<!(?!--|\[CDATA\[))(?:[^>d]++|" + _NO_MARKER + rb")*+>"


def _raw_element(name: bytes) -> bytes:
    """A whole raw-text element, start tag to just before its end tag (scripts
    holding ``<!--``, whose end depends on escape states, go the slow way)."""
    escape = b"|!--" if name == b"script" else b""
    return (
        rb"<" + name + _SEP + _ATTRS
        + rb"(?:[^<d]++|<(?!/" + name + rb"[\t\n\f\r />]" + escape + rb")|" + _NO_MARKER + rb")*+"
        rb"(?=</" + name + _SEP + _ATTRS + rb")"  # a whole end tag: cut short, it is text
    )  # fmt: skip


def _alternatives(names: tuple[bytes, ...]) -> bytes:
    return b"".join(b"|" + _raw_element(name) for name in names)


#: Before the body: what never ends the head nor starts the body, in any of the
#: modes before it: whitespace, comments, doctype, the head's void elements and
#: raw-text elements, <head>, and the end tags the parser ignores there.
_HEAD_SKIPPED = (
    rb"(?:[\t\n\f\r ]++"
    rb"|<(?:meta|link|base|basefont|bgsound|head)" + _SEP + _ATTRS
    + rb"|</(?:meta|link|base|basefont|bgsound|script|style|title|noframes)" + _SEP + _ATTRS
    + _alternatives((b"script", b"style", b"title", b"noframes"))
    + rb"|" + _COMMENT_RE
    + rb"|" + _BOGUS_RE + rb"|<!\[CDATA\[(?:[^>d]++|" + _NO_MARKER + rb")*+>"
    + rb"|</>"
    + rb")*+"
)  # fmt: skip
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


#: One step of reading skip links: whitespace and comments (1), then a tag (2: "/"
#: of an end tag, 3: name) or text (4).
_SKIP_STEP = re.compile(
    rb"((?:[\t\n\f\r ]++|" + _COMMENT_RE + rb")*+)"
    rb"(?:<(/?)([a-zA-Z][^\t\n\f\r />]*+)" + _ATTRS + rb"|([^<\t\n\f\r ][^<]*+))?",
    re.IGNORECASE,
)
_HEAD_SKIP = re.compile(_HEAD_SKIPPED, re.IGNORECASE)
_SKIP_SKIP = re.compile(_SKIP_SKIPPED, re.IGNORECASE)
_BODY_SKIP = {
    True: re.compile(_body_skipped(comments=True), re.IGNORECASE),
    False: re.compile(_body_skipped(comments=False), re.IGNORECASE),
}

#: The common case in one C-level match: a whole page start, in one chunk, up to its
#: <body> tag, with nothing but head content before it and at most one <html> tag
#: and one </head>. Anything else (and any doubt: a marker, a long tag) goes the
#: token-by-token way, which gives the same bytes - the split-invariance tests hold
#: both to that.
_FAST = re.compile(
    rb"(?:\xef\xbb\xbf)?" + _HEAD_SKIPPED
    + rb"(?P<html><html" + _SEP + _ATTRS + rb")?" + _HEAD_SKIPPED
    + rb"(?P<head></head" + _SEP + _ATTRS + rb")?" + _HEAD_SKIPPED
    + rb"(?P<body><body" + _SEP + _ATTRS + rb")",
    re.IGNORECASE,
)  # fmt: skip

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
_VOID = frozenset(
    (b"area", b"base", b"basefont", b"bgsound", b"br", b"col", b"embed", b"hr", b"img",
     b"image", b"input", b"keygen", b"link", b"meta", b"param", b"source", b"track", b"wbr",
     b"frame")
)  # fmt: skip
_FOCUSABLE = frozenset(
    (b"button", b"select", b"textarea", b"iframe", b"embed", b"object", b"summary",
     b"details", b"area", b"keygen", b"frame", b"frameset", b"plaintext")
)  # fmt: skip
#: Start tags that close an open <p>, or whose handling depends on scopes not followed.
_CLOSES_P = frozenset(
    (b"address", b"article", b"aside", b"blockquote", b"center", b"details", b"dialog",
     b"dir", b"div", b"dl", b"fieldset", b"figcaption", b"figure", b"footer", b"header",
     b"hgroup", b"main", b"menu", b"nav", b"ol", b"p", b"search", b"section", b"summary",
     b"ul", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"pre", b"listing", b"form", b"hr",
     b"xmp", b"table", b"li", b"dd", b"dt")
)  # fmt: skip
_NOT_FOLLOWED = frozenset(
    (b"table", b"caption", b"colgroup", b"col", b"tbody", b"thead", b"tfoot", b"tr", b"td",
     b"th", b"select", b"option", b"optgroup", b"math", b"frameset", b"a", b"nobr",
     b"applet", b"marquee", b"object", b"button", b"ruby", b"rb", b"rp", b"rt", b"rtc")
)  # fmt: skip
_HEADINGS = frozenset((b"h1", b"h2", b"h3", b"h4", b"h5", b"h6"))
#: Elements whose end tag the parser implies when their parent closes.
_IMPLIED_END = frozenset((b"li", b"p", b"dd", b"dt"))
#: Start tags that need more than being pushed while reading skip links.
_SPECIAL_START = (
    _FOCUSABLE | _NOT_FOLLOWED | _VOID | frozenset(_RAW) | _HEADINGS
    | {b"a", b"input", b"audio", b"video", b"li", b"dd", b"dt", b"svg", b"math",
       b"template", b"body", b"html", b"head"}
)  # fmt: skip
#: Where a notice (a block with a <section>) may go without changing how the page
#: parses or reads: the innermost open element, and every one around it.
_SAFE_INNER = frozenset(
    (b"div", b"header", b"nav", b"main", b"section", b"article", b"aside", b"footer",
     b"search", b"form", b"center", b"blockquote", b"li", b"dd", b"figure")
)  # fmt: skip
_SAFE_AROUND = _SAFE_INNER | {b"ul", b"ol", b"menu", b"dl"}
#: Inside <svg>/<math>: HTML start tags that leave foreign content.
_BREAKOUT = frozenset(
    (b"b", b"big", b"blockquote", b"body", b"br", b"center", b"code", b"dd", b"div", b"dl",
     b"dt", b"em", b"embed", b"h1", b"h2", b"h3", b"h4", b"h5", b"h6", b"head", b"hr", b"i",
     b"img", b"li", b"listing", b"menu", b"meta", b"nobr", b"ol", b"p", b"pre", b"ruby",
     b"s", b"small", b"span", b"strong", b"strike", b"sub", b"sup", b"table", b"tt", b"u",
     b"ul", b"var", b"font")
)  # fmt: skip

#: Renders (head, notice) once the page's own language (``<html lang>``) is known.
Render = Callable[[str | None], tuple[bytes, bytes]]


#: Start tags whose attributes matter while reading skip links, whatever they are.
_ATTRIBUTES_MATTER = frozenset((b"a", b"input", b"audio", b"video"))
_FOCUS_ATTRIBUTE = re.compile(rb"[\t\n\f\r /](?:tabindex|contenteditable|xlink:href)", re.I)

# --- reading skip links in a few C-level matches ------------------------------
# The usual body start is matched whole: (A) the containers opened before the skip
# links, then the links, alone or one group per list item; (B) from where the
# notice's place can no longer move, the start tags up to the token that surely
# ends the reading. In between, end tags go one by one through the general rules.
# Anything else (and any doubt: a marker, a focus attribute, a long tag, a chunk
# cut short) is left to the token-by-token loop, which gives the same bytes: the
# tests hold the two to that. These patterns spell letters as [xX] rather than use
# re.IGNORECASE, so that an alternative failing on its first byte costs nothing.


def _ci(text: bytes) -> bytes:
    """``text`` in either case, letters as ``[xX]``."""
    return b"".join(
        b"[%c%c]" % (c, c - 32) if 0x61 <= c <= 0x7A else re.escape(bytes((c,)))
        for c in text.lower()
    )


def _names(names: Iterable[bytes]) -> bytes:
    """One of ``names``, whole (``divx`` is not ``div``), in either case, as a prefix tree."""

    def tree(words: list[bytes]) -> bytes:
        ends = b"" in words
        first: dict[int, list[bytes]] = {}
        for word in words:
            if word:
                first.setdefault(word[0], []).append(word[1:])
        branches = b"|".join(_ci(bytes([c])) + tree(rest) for c, rest in sorted(first.items()))
        if not first:
            return b""
        return b"(?:" + branches + (b")?" if ends else b")")

    return tree(sorted({name.lower() for name in names})) + _SEP


#: What changes nothing while reading skip links: whitespace, comments, and whole
#: script, style and noscript elements (raw text: their content is passed over).
_QUIET = (
    rb"(?:[\t\n\f\r ]++|<(?:" + _COMMENT_RE[1:]  # one '<', then alternatives cheap to skip
    + b"".join(
        rb"|" + _ci(name) + _SEP + _ATTRS
        + rb"(?:[^<d]++|<(?!/" + _ci(name) + rb"[\t\n\f\r />]" + escape + rb")|" + _NO_MARKER
        + rb")*+</" + _ci(name) + _SEP + _ATTRS
        for name, escape in ((b"script", b"|!--"), (b"style", b""), (b"noscript", b""))
    )
    + rb"))*+"
)  # fmt: skip
#: Whitespace and comments only.
_BLANK = rb"(?:[\t\n\f\r ]++|" + _COMMENT_RE + rb")*+"
_VALUE = (
    rb"(?:[\t\n\f\r ]*+=[\t\n\f\r ]*+(?:\"[^\"]*+\"|'[^']*+'|[^\t\n\f\r >\"'][^\t\n\f\r >]*+|(?=>))"
    rb"|(?![\t\n\f\r ]*+=))"
)
#: An ``<a>`` start tag whose first ``href`` links within the page, as ``_attributes``
#: reads it: the value, stripped, is ``#`` and at least one more byte.
_SKIP_LINK_START = (
    rb"<[aA]" + _SEP
    + rb"(?:[\t\n\f\r /]++|(?!" + _names((b"href",)) + rb"|[hH][rR][eE][fF]=)"
    + rb"[^\t\n\f\r />][^\t\n\f\r /=>]*+" + _VALUE + rb")*+"
    + rb"[hH][rR][eE][fF][\t\n\f\r ]*+=[\t\n\f\r ]*+"
    + rb"(?:\"[\t\n\f\r ]*+#[\t\n\f\r ]*+[^\t\n\f\r \"][^\"]*+\""
    + rb"|'[\t\n\f\r ]*+#[\t\n\f\r ]*+[^\t\n\f\r '][^']*+'"
    + rb"|#[^\t\n\f\r >]++)"
    + _ATTRS
)  # fmt: skip
#: Containers opened before the skip links, one group each (a group in a repetition
#: keeps only its last match); whitespace and comments between them. Their names
#: are checked after the match: a tag that does more than open a container
#: (``_PUSHED_NOT``) leaves the page to the token-by-token reading.
_LEAD_DEPTH = 8
_LEAD = b""
for _depth in range(_LEAD_DEPTH, 0, -1):
    _LEAD = (
        b"(?:<(?P<o%d>(?!" % _depth + _names((b"a", b"li")) + rb")[a-zA-Z][^\t\n\f\r />]*+)"
        + _ATTRS + _BLANK + _LEAD + rb")?"
    )  # fmt: skip
#: Start tags that do more than open a container (<p>: its end is implied).
_PUSHED_NOT = _SPECIAL_START | {b"p"}


#: Inline elements a skip link may hold (with text only), each with its own end
#: tag (a backreference in a possessive repetition upsets Python 3.11's re module).
_INLINE = b"|".join(
    _ci(name) + _SEP + _ATTRS + rb"[^<]*+</" + _ci(name) + rb">"
    for name in (b"span", b"strong", b"em", b"b", b"i", b"small", b"abbr", b"bdi")
)
#: Skip links, each holding text, inline elements with text, images and line
#: breaks, with only quiet things between them.
_LINKS = (
    rb"(?:" + _QUIET + _SKIP_LINK_START
    + rb"(?:[^<]++|<(?:" + _INLINE + rb")|<" + _names((b"img", b"br", b"wbr")) + _ATTRS
    + rb"|" + _COMMENT_RE
    + rb")*+</[aA]" + _SEP + _ATTRS + rb")++"
)  # fmt: skip
_ITEM_START = rb"<[lL][iI]" + _SEP + _ATTRS
_ITEM_END = rb"</[lL][iI]" + _SEP + _ATTRS


#: (B) Start tags, which never move the notice's place (they are pushed, or end
#: the reading: either way the place stays), up to text or an ``<a>``, which end the
#: reading (unless it is a skip link: checked after the match). Left out: what
#: changes how what follows reads (links, templates, SVG, raw text other than the
#: quiet elements, <html> and its language).
_TRAIL = (
    _QUIET
    + rb"(?:<(?!" + _names({*_RAW, b"a", b"template", b"svg", b"html", b"body", b"head"})
    + rb")[a-zA-Z][^\t\n\f\r />]*+" + _ATTRS + _QUIET + rb")*+"
    + rb"(?:(?P<text>[^<\t\n\f\r ])|(?!" + _SKIP_LINK_START + rb")(?P<tag><[aA]" + _SEP + _ATTRS
    + rb"))"
)  # fmt: skip
_TO_THE_END = re.compile(_TRAIL)
#: (A) From the body start: containers, then skip links at their level (``fk`` marks
#: the end of the last) or one group of them per list item (``lk``: the end of the
#: last item's links, ``le``: the end of its ``</li>``, when it has one); then, from
#: ``read``, (B) when it follows at once. No group is in a possessive repetition.
_SKIP_LINKS = re.compile(
    _QUIET + _LEAD
    + rb"(?:" + _LINKS + rb"(?P<fk>)"
    + rb"|(?:" + _ITEM_START + _LINKS + _BLANK + rb"(?:" + _ITEM_END + rb")?+" + _BLANK + rb")*"
    + _ITEM_START + _LINKS + rb"(?P<lk>)" + _BLANK
    + rb"(?:" + _ITEM_END + rb"(?P<le>))?" + _BLANK + rb")"
    + rb"(?P<read>)(?:" + _TRAIL + rb")?"
)  # fmt: skip
_FK, _LK, _LE = (_SKIP_LINKS.groupindex[name] for name in ("fk", "lk", "le"))
_LEAD_GROUPS = tuple(_SKIP_LINKS.groupindex[f"o{depth}"] for depth in range(1, _LEAD_DEPTH + 1))
#: An end tag after whitespace and comments, for the general rules.
_END_STEP = re.compile(
    rb"((?:[\t\n\f\r ]++|" + _COMMENT_RE + rb")*+)</([a-zA-Z][^\t\n\f\r />]*+)" + _ATTRS
)


def _safe(stack: list[bytes]) -> bool:
    """Whether a notice may go where ``stack`` is open (see ``_SAFE_INNER``)."""
    return not stack or (stack[-1] in _SAFE_INNER and _SAFE_AROUND.issuperset(stack))


def _read_links(found: re.Match[bytes]) -> tuple[list[bytes], int, int] | None:
    """What reading the skip links of a ``_SKIP_LINKS`` match leaves, as
    ``Injector._want`` would at each ``</a>`` and ``</li>``: the open elements, the
    notice's last safe place (-1: none), the depth to move on from; None when a tag
    before the links does more than open a container."""
    stack: list[bytes] = []
    lead = found.group(*_LEAD_GROUPS)
    if lead[0] is not None:
        stack = [name.lower() for name in lead if name]
        if not _PUSHED_NOT.isdisjoint(stack):
            return None
    depth = len(stack)
    at = found.start(_FK)
    if at >= 0:
        return stack, at if _safe(stack) else -1, depth
    stack.append(b"li")
    place = found.start(_LK) if _safe(stack) else -1
    at = found.start(_LE)
    if at < 0:
        return stack, place, depth + 1
    stack.pop()
    return stack, at if _safe(stack) else place, depth


def _stop(found: re.Match[bytes]) -> int:
    """Where a match of ``_TRAIL`` surely ends the reading, or -1."""
    start, end = found.span("tag")
    if start < 0:
        return found.start("text")  # -1 when the trail was not matched
    return start if end - start <= _TOKEN_LIMIT else -1  # a long tag is streamed, not read


def _skip_href(attributes: dict[bytes, bytes]) -> bool:
    """Whether an ``<a>`` with these attributes links within the page (``#`` alone
    does not: it is the page's top)."""
    href = attributes.get(b"href")
    if href is None:
        return False
    href = href.strip(_WS)
    return href.startswith(b"#") and len(href) >= 2


def _attributes(tag: bytes, name_end: int) -> dict[bytes, bytes]:
    """A tag's attributes, names lower-cased, the first of each name kept."""
    found: dict[bytes, bytes] = {}
    for match in _ATTR.finditer(tag, name_end, len(tag) - 1):
        key = match.group(1).lower()
        if key not in found:
            found[key] = match.group(2) or match.group(3) or match.group(4) or b""
    return found


def _comment_ending(text: bytes) -> bytes:
    """What ends a comment whose text so far ends with ``text``, keeping its data."""
    if text.endswith((b"--", b"--!")):
        return b">"
    return b"->" if text.endswith(b"-") else b"-->"


class Injector:
    """Insert ``head`` and ``notice`` into one HTML page fed in chunks.

    With ``render``, the fragments are made at the first insertion, from the
    language of the page's ``<html lang>`` (None when it has none).

    ``Position.AFTER_SKIP_LINKS`` (the default) reads on from the body start,
    holding what it reads (bounded by ``max_holdback``; at the bound it decides
    with what it knows): whitespace, comments, scripts, styles, templates,
    ``<noscript>`` and elements nobody can focus are passed over; a skip link (an
    ``<a href="#…">`` with a non-empty fragment, met before any other focusable
    element or text) moves the notice's place to right after its ``</a>``, and an
    end tag that then closes an element opened since the body start moves it past
    that end tag (so a ``<ul>`` or ``<nav>`` of skip links stays whole); the first
    other focusable element (a link elsewhere, a button, a form field, an iframe,
    ``tabindex``...) or text outside a skip link ends the reading. The notice goes
    at the last such place that is safe (never inside a ``<p>``, a list without
    its item, a table or foreign content), the body start when there is none.

    When nothing is inserted, ``gave_up`` is True and ``reason`` says why:

    * ``"marker"``: the page carries a notice already (``data-ai-disclosure-notice``);
    * ``"frameset"``: a frameset page has no body to show it in;
    * ``"holdback"``: more than ``max_holdback`` bytes between the head fragment's
      place and the body start;
    * ``"truncated"``: the page ends where no end keeps its tree (inside a
      doctype, a tag too long to hold, ``<plaintext>``, a script in its
      double-escaped state); with ``body-end`` and ``placeholder`` the head
      fragment is already out then;
    * ``"empty"``: the page is empty or whitespace: nothing is shown, nothing
      to disclose on (not a missed notice).

    The other positions: ``BODY_START`` at the body start; ``BODY_END`` before the
    first ``</body>`` outside templates, else at the end; ``PLACEHOLDER`` after
    the first ``<!--ai-disclosure-notice-->`` in the body, else at the end.
    """

    __slots__ = (
        "_after_head",
        "_blank",
        "_cand",
        "_cand_depth",
        "_doctype",
        "_foreign",
        "_fresh",
        "_held",
        "_holding",
        "_link",
        "_phase",
        "_quote",
        "_raw",
        "_script",
        "_skip",
        "_stack",
        "_start",
        "_state",
        "_tag_name",
        "_tail",
        "_templates",
        "gave_up",
        "head",
        "injected",
        "max_holdback",
        "notice",
        "page_language",
        "position",
        "reason",
        "render",
    )

    def __init__(
        self,
        head: bytes,
        notice: bytes,
        position: Position = Position.AFTER_SKIP_LINKS,
        *,
        max_holdback: int = 65536,
        render: Render | None = None,
    ) -> None:
        self.head = head
        self.notice = notice
        self.render = render
        self.page_language: str | None = None
        self.position = position if type(position) is Position else Position(position)
        self.max_holdback = max_holdback
        self.injected = False
        self.gave_up = False
        self.reason: str | None = None
        self._state = _State.DATA
        self._phase = _Phase.HEAD
        self._skip = _HEAD_SKIP.match
        self._tail = b""  # unscanned bytes: a partial token, rescanned with the next chunk
        self._held = bytearray()  # scanned bytes waiting behind a pending head insertion
        self._holding = False  # True from the head fragment's place until the decision
        self._start = True  # nothing scanned yet: a UTF-8 BOM may come, the fast path apply
        self._blank = True  # nothing but whitespace so far
        self._after_head = False  # the head is closed ("after head" insertion mode)
        self._templates = 0  # open <template> elements (their content implies nothing)
        self._raw = b""  # the raw-text element we are in
        self._script = 0  # script data: 0 plain, 1 escaped (<!--), 2 double escaped
        self._doctype = False  # the long <!...> being streamed is a doctype
        self._quote = _T_NAME  # attribute state while in a long tag
        self._tag_name = b""
        # Reading skip links:
        self._stack: list[bytes] = []  # elements opened since the body start
        self._link = -1  # index in _stack of the skip link being read, or -1
        self._foreign = 0  # open <svg>/<math> elements
        self._cand = 0  # offset in _held where the notice would go
        self._cand_depth = 0  # depth of the stack the candidate wants to be at
        self._fresh = False  # the skip links' reading has not started: try the fast path

    # --- public API ---------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Scan ``data``; return the bytes that are ready to be sent."""
        if self._state is _State.DONE:
            if self._tail:
                data, self._tail = self._tail + data, b""
            return data
        out: list[bytes] = []
        buf = self._tail + data if self._tail else data
        self._tail = b""
        i = 0
        if self._start:
            if len(buf) < 3 and _BOM.startswith(buf):
                self._tail = buf
                return b""
            self._start = False
            fast = self._fast(buf, out)
            if fast is not None:
                return fast
            if buf.startswith(_BOM):
                out.append(_BOM)
                i = 3
        return self._out(buf, self._scan(buf, i, out), out)

    def close(self) -> bytes:
        """End of the page: return everything still held, the notice if it is due.

        A page cut short inside a comment, raw text or a template is first closed
        the way the parser closes it at the end of the input (same tree), so the
        fragments can follow."""
        out: list[bytes] = []
        tail, self._tail = self._tail, b""
        phase = self._phase
        if self._state is _State.DONE:
            return tail
        if phase is _Phase.SKIP:
            self._decide(self._cand, out)  # the candidate always precedes what is open
            out.append(tail)
            return b"".join(out)
        # Past the bound whatever the chunks were, or once the end is added: untouched.
        bounded = phase is _Phase.HEAD and self._holding
        room = self.max_holdback - len(self._held)
        ending = self._ending(tail)
        if bounded and len(tail) > room:
            self._give_up(out, "holdback")
        elif ending is None:
            self._give_up(out, "truncated")
        elif phase is _Phase.HEAD and self._blank and not tail:
            self._give_up(out, "empty")
        elif bounded and len(ending[0]) > room:
            self._give_up(out, "holdback")
        else:
            before, after = ending
            self._emit(out, before)
            if phase is _Phase.HEAD:
                # The parser implies the body at the end: head and notice go there.
                self._at_body(out)
                if self._phase is _Phase.SKIP:
                    self._decide(self._cand, out)
                elif self._phase is _Phase.BODY:
                    self._inject_notice(out)
            else:
                # body-end / placeholder: no </body> or placeholder came; parsers put
                # content after the end of the document in the body anyway.
                self._inject_notice(out)
            tail = after
        out.append(tail)
        return b"".join(out)

    def _ending(self, tail: bytes) -> tuple[bytes, bytes] | None:
        """What goes before the fragments at the end of the page and what after:
        the unscanned ``tail`` and the end tags or terminators that close what is
        open with the same tree as the end of the input does; None when nothing
        can (a doctype, a tag, plaintext, a script in its double-escaped state)."""
        templates = b"</template>" * self._templates
        state = self._state
        if state is _State.RAWTEXT:
            if self._raw == b"plaintext" or (self._raw == b"script" and self._script == 2):
                return None
            return tail + b"</" + self._raw + b">" + templates, b""
        if state is _State.COMMENT:
            return tail + _comment_ending(tail) + templates, b""
        if state is _State.BOGUS:
            return None if self._doctype else (tail + b">" + templates, b"")
        if state is _State.CDATA:
            return tail + b"]]>" + templates, b""
        if state is _State.TAG:
            return None
        if tail.startswith(b"<!--"):
            return tail + _comment_ending(tail) + templates, b""
        if tail[:1] == b"<" and (
            tail[1:2].isalpha() or (tail[1:2] == b"/" and tail[2:3].isalpha())
        ):
            return templates, tail  # a tag cut by the end is dropped by the parser
        if tail.startswith((b"<!", b"<?")) or (tail.startswith(b"</") and len(tail) > 2):
            # A bogus comment; a doctype ended by EOF forces quirks mode: not closed.
            return None if tail[2:9].upper() == b"DOCTYPE" else (tail + b">" + templates, b"")
        if not self._templates:
            return b"", tail  # text (a '<', '</'): the body starts before it
        if tail == b"<":
            return tail + templates, b""
        return None if tail else (templates, b"")

    # --- the fast path ------------------------------------------------------

    def _fast(self, data: bytes, out: list[bytes]) -> bytes | None:
        """The page start up to <body> in one regex match, when the first chunk allows."""
        found = _FAST.match(data)
        if found is None:
            return None
        html_start, html_end = found.span("html")
        head_start, head_end = found.span("head")
        body_start, body_end = found.span("body")
        hold_from = head_start if head_start >= 0 else body_start
        if (
            data.find(MARKER, 0, body_end) >= 0
            or len(_HTML_TAG.findall(data, 0, body_end)) != (html_start >= 0)
            or body_end - hold_from > self.max_holdback
            or body_end - body_start > _TOKEN_LIMIT
            or html_end - html_start > _TOKEN_LIMIT
            or head_end - head_start > _TOKEN_LIMIT
        ):
            return None
        if html_start >= 0:
            self._note_language(data[html_start:html_end])
        self._blank = False
        place = -1  # where the notice goes, when it is known already
        if self.position is Position.BODY_START:
            place = body_end
        elif self.position is Position.AFTER_SKIP_LINKS:
            place = self._place(data, body_end, hold_from)
        if place >= 0:
            self._render()
            self.injected = True
            self._state = _State.DONE
            self._phase = _Phase.DONE
            view = memoryview(data)  # slices without copies: the page is copied once, by join
            return b"".join(
                (
                    view[:hold_from],
                    self.head,
                    view[hold_from:place],
                    self.notice,
                    view[place:],
                )
            )
        out.append(data[:hold_from])
        self._holding = True
        self._held += data[hold_from:body_end]
        self._at_body(out)
        i = body_end
        if self._phase is _Phase.SKIP:
            self._fresh = False
            i = self._skip_fast(data, i, out)
            if self._state is _State.DONE:
                return self._out(data, i, out)
        return self._out(data, self._scan(data, i, out), out)

    def _place(self, data: bytes, i: int, hold_from: int) -> int:
        """Where the notice goes when the skip links' reading from the body start
        at ``i`` ends in the fast matches at once, or -1."""
        found = _SKIP_LINKS.match(data, i)
        if found is not None:
            end = found.start("read")
            read = _read_links(found)
            if (
                read is None
                or _stop(found) < 0
                or end - i > _TOKEN_LIMIT
                or end - hold_from > self.max_holdback
                or data.find(MARKER, i, found.end()) >= 0
                or _FOCUS_ATTRIBUTE.search(data, i, end) is not None
            ):
                return -1
            return i if read[1] < 0 else read[1]
        found = _TO_THE_END.match(data, i)
        if found is None or data.find(MARKER, i, found.end()) >= 0 or _stop(found) < 0:
            return -1
        return i

    # --- scanning -----------------------------------------------------------

    @staticmethod
    def _out(buf: bytes, rest: int, out: list[bytes]) -> bytes:
        """``out`` and what is left of ``buf`` from ``rest`` on, in one copy."""
        if rest < len(buf):
            return b"".join((*out, memoryview(buf)[rest:]))
        return b"".join(out)

    def _emit(self, out: list[bytes], chunk: bytes) -> None:
        if self._holding:
            self._held += chunk
        else:
            out.append(chunk)

    def _give_up(self, out: list[bytes], reason: str) -> None:
        """Leave the page as it is: release what was held, untouched."""
        if self._held:
            out.append(bytes(self._held))
            self._held.clear()
        self._holding = False
        if not self.injected:
            self.gave_up = True
            self.reason = reason
        self._state = _State.DONE
        self._phase = _Phase.DONE

    def _scan(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """Scan ``buf`` from ``i``; return where the decision left the rest of it
        to pass through as is (``len(buf)`` when all of it went to ``out``)."""
        n = len(buf)
        while i < n:
            if self._holding and len(self._held) > self.max_holdback:
                if self._phase is _Phase.SKIP:
                    self._decide(self._cand, out)  # decide with what is known
                else:
                    self._give_up(out, "holdback")
            state = self._state
            if state is _State.DONE:
                return i
            if state is _State.DATA:
                if self._phase is _Phase.SKIP and not self._templates:
                    step = self._skip_step(buf, i, out)
                    if step > i or self._state is _State.DONE:
                        i = step
                        continue
                end = self._skip(buf, i).end()  # type: ignore[union-attr]
                if end > i:
                    if self._blank and self._phase is _Phase.HEAD and buf[i:end].strip(_WS):
                        self._blank = False
                    if self._marker_in_tag(buf, i, end):
                        self._emit(out, buf[i:end])
                        self._give_up(out, "marker")
                        i = end
                        continue
                    self._emit(out, buf[i:end])
                    i = end
                    if i >= n:
                        return n
                    continue  # the held bytes may have reached the bound
                self._blank = False
                step = self._token(buf, i, out)
                if step < 0:  # incomplete token: keep it for the next chunk
                    self._tail = buf[i:]
                    return n
                i = step
            elif state is _State.RAWTEXT:
                i = self._rawtext(buf, i, out)
                if i < 0:
                    return n
            elif state is _State.TAG:
                i = self._long_tag(buf, i, out)
            else:
                i = self._until_end(buf, i, out)
                if i < 0:
                    return n
        if self._holding and len(self._held) > self.max_holdback:
            if self._phase is _Phase.SKIP:
                self._decide(self._cand, out)
            else:
                self._give_up(out, "holdback")
        return n

    def _skip_step(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """Reading skip links, the common tokens in one match each (whitespace and
        comments, then a whole tag or a text run), in one loop. Returns where it
        stopped: at anything else (cut tokens, raw text, long tags, markers...),
        which the general path takes, or where the decision was made."""
        held = self._held  # always holding in this phase
        limit = self.max_holdback
        if self._fresh:
            self._fresh = False
            i = self._skip_fast(buf, i, out)
            if self._state is _State.DONE or len(held) > limit:
                return i
        match = _SKIP_STEP.match
        while True:
            found = match(buf, i)
            assert found is not None  # the pattern can match the empty string
            start = found.end(1)
            if start > i:
                held += buf[i:start]
                if len(held) > limit:
                    return start  # decided at the bound, before the tag
            name = found.group(3)
            if name is not None:
                end = found.end()
                tag = buf[start:end]
                if end - start > _TOKEN_LIMIT or MARKER in tag:
                    return start
                name = name.lower()
                if found.group(2):
                    name = b"/" + name
                elif name in _RAW:
                    return start
                if not self._follows(name, tag):
                    self._decide(self._cand, out)
                    out.append(tag)
                    return end
                held += tag
            elif found.group(4) is not None and (self._link >= 0 or found.end() < len(buf)):
                end = found.end()
                if self._link < 0:
                    self._decide(self._cand, out)  # text outside a skip link
                    return start
                held += buf[start:end]
            else:
                return start
            i = end
            if len(held) > limit or self._templates:
                return i

    def _skip_fast(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """The skip links of the usual body start in a few matches: where the
        reading got to (decided, or to go on token by token)."""
        if self._link >= 0 or self._foreign:
            return i
        held = self._held
        limit = self.max_holdback
        if not self._stack:
            found = _SKIP_LINKS.match(buf, i)
            if found is not None:
                end = found.start("read")
                read = _read_links(found)
                if (
                    read is not None
                    and end - i <= _TOKEN_LIMIT  # every tag in it is short
                    and len(held) + end - i <= limit
                    and buf.find(MARKER, i, found.end()) < 0
                    and _FOCUS_ATTRIBUTE.search(buf, i, end) is None
                ):
                    offset = len(held) - i  # buf[k] goes to held[offset + k]
                    held += buf[i:end]
                    self._stack, place, self._cand_depth = read
                    if place >= 0:
                        self._cand = offset + place
                    stop = _stop(found)
                    if stop >= 0:
                        held += buf[end:stop]
                        self._decide(self._cand, out)
                        return stop
                    i = self._end_tags(buf, end, out)
                    if self._state is _State.DONE or len(held) > limit:
                        return i
        found = _TO_THE_END.match(buf, i)
        if found is None or buf.find(MARKER, i, found.end()) >= 0:
            return i
        stop = _stop(found)
        if stop < 0:
            return i
        held += buf[i:stop]
        self._decide(self._cand, out)
        return stop

    def _end_tags(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """End tags (after whitespace and comments) through the general rules."""
        held = self._held
        while True:
            found = _END_STEP.match(buf, i)
            if found is None:
                return i
            start, end = found.span(2)[0] - 2, found.end()
            tag = buf[start:end]
            if end - start > _TOKEN_LIMIT or MARKER in tag:
                return i
            held += buf[i:start]
            if len(held) > self.max_holdback:
                return start  # decided at the bound, before the tag
            if not self._follows_end(found.group(2).lower(), len(held) + len(tag)):
                self._decide(self._cand, out)
                out.append(tag)
                return end
            held += tag
            i = end
            if len(held) > self.max_holdback:
                return i

    def _until_end(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """Inside a long comment, CDATA section or bogus comment: stream to its end."""
        n = len(buf)
        state = self._state
        if state is _State.COMMENT:
            found = _COMMENT_END.search(buf, i)
            keep = n - 3
            k = found.end() if found is not None else -1
        else:
            terminator = b"]]>" if state is _State.CDATA else b">"
            k = buf.find(terminator, i)
            keep = n - len(terminator) + 1
            if k >= 0:
                k += len(terminator)
        if k < 0:
            keep = max(i, keep)
            self._emit(out, buf[i:keep])
            self._tail = buf[keep:]
            return -1
        self._emit(out, buf[i:k])
        self._state = _State.DATA
        return k

    def _rawtext(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """Inside a raw-text element: stream to its end tag; -1 when the chunk ends."""
        n = len(buf)
        raw = self._raw
        scanned = i  # tokens before this offset have been followed (scripts)
        if raw == b"script":
            end, scanned = self._script_end(buf, i)
        elif raw == b"plaintext":
            end = -1  # nothing ends it
        else:
            found = _RAW_END[raw].search(buf, i)
            end = found.start() if found is not None else -1
        if end < 0:
            # Keep just enough to recognise an end tag cut by the chunk boundary.
            keep = max(scanned, n - 10)
            self._emit(out, buf[i:keep])
            self._tail = buf[keep:]
            return -1
        # The element ends only with its whole end tag: cut short, it is text at EOF.
        rest = _TAG_REST.match(buf, end + 2 + len(raw))
        if rest is None and n - end < _TOKEN_LIMIT:
            self._emit(out, buf[i:end])
            self._tail = buf[end:]
            return -1
        # Back to markup; the end tag is an ordinary tag for the skipper.
        self._emit(out, buf[i:end])
        self._state = _State.DATA
        return end

    def _script_end(self, buf: bytes, i: int) -> tuple[int, int]:
        """Where a script's end tag starts, following the escaped states
        (``<!--`` ... ``<script>`` ... ``-->``), or -1; and the offset up to
        which tokens were followed (never to be scanned again)."""
        pos = i
        while True:
            found = _SCRIPT_TOKEN.search(buf, pos)
            if found is None:
                return -1, pos
            token = found.group()
            state = self._script
            if token == b"<!--":
                if state == 0:
                    self._script = 1
                pos = found.end() - 2  # "<!-->" closes at once
            elif token == b"-->":
                self._script = 0
                pos = found.end()
            elif found.group(1):  # </script
                if state != 2:
                    self._script = 0
                    return found.start(), pos
                self._script = 1
                pos = found.end() - 1
            else:  # <script
                if state == 1:
                    self._script = 2
                pos = found.end() - 1

    def _marker_in_tag(self, buf: bytes, start: int, end: int) -> bool:
        """Whether a tag between ``start`` and ``end`` carries the notice marker."""
        if self.injected:
            return False
        at = buf.find(MARKER, start, end)
        while at >= 0:
            opening = buf.rfind(b"<", start, at)
            # Inside a tag: after its '<name', before any '>'; and, as for long tags,
            # within the tag's first _TOKEN_LIMIT bytes.
            if (
                opening >= 0
                and buf[opening + 1 : opening + 2].isalpha()
                and opening > buf.rfind(b">", start, at)
                and at + len(MARKER) - opening <= _TOKEN_LIMIT
            ):
                return True
            at = buf.find(MARKER, at + 1, end)
        return False

    def _token(self, buf: bytes, j: int, out: list[bytes]) -> int:
        """Handle the token at ``buf[j]``; return where to go on, or -1 when the
        token is cut by the end of the chunk."""
        n = len(buf)
        if buf[j] != 0x3C:  # "<"
            return self._text(buf, j, out)
        if j + 1 >= n:
            return -1
        second = buf[j + 1]
        if second == 0x21:  # "!"
            if buf.startswith(b"<!--", j):
                return self._comment(buf, j, out)
            if n - j < 4 and b"<!--".startswith(buf[j:]):
                return -1
            if self._phase is _Phase.BODY or self._foreign:  # a real CDATA section
                if buf[j : j + 9].upper() == _CDATA:
                    return self._until(buf, j, j + 9, b"]]>", _State.CDATA, out)
                if n - j < 9 and _CDATA.startswith(buf[j:].upper()):
                    return -1
            self._doctype = buf[j + 2 : j + 9].upper() == b"DOCTYPE"
            return self._until(buf, j, j + 2, b">", _State.BOGUS, out)
        if second == 0x3F:  # "?"
            self._doctype = False
            return self._until(buf, j, j + 2, b">", _State.BOGUS, out)
        name_match = _NAME.match(buf, j)
        if name_match is None:
            if second == 0x2F:  # "</" then not a letter
                if j + 2 >= n:
                    return -1
                if buf[j + 2] == 0x3E:  # "</>" is nothing at all
                    self._emit(out, buf[j : j + 3])
                    return j + 3
                self._doctype = False
                return self._until(buf, j, j + 2, b">", _State.BOGUS, out)
            return self._text(buf, j, out)  # a '<' that starts no tag is text
        if name_match.end() >= n and n - j < _TOKEN_LIMIT:
            return -1
        name = name_match.group(1).lower()
        if second == 0x2F:
            name = b"/" + name
        rest = _TAG_REST.match(buf, name_match.end())
        if rest is None or rest.end() - j > _TOKEN_LIMIT:
            if rest is None and n - j < _TOKEN_LIMIT:
                return -1
            # Too long to hold: stream it, and never insert inside it.
            if not self.injected and buf.find(MARKER, j, j + _TOKEN_LIMIT) >= 0:
                self._emit(out, buf[j:])
                self._give_up(out, "marker")
                return n
            self._dispatch(name, None, out)
            if self._state is _State.DONE:
                return j
            self._state = _State.TAG
            self._quote = _T_NAME
            self._tag_name = name
            self._emit(out, buf[j : name_match.end()])
            return self._long_tag(buf, name_match.end(), out)
        end = rest.end()
        if self._marker_in_tag(buf, j, end):
            self._emit(out, buf[j:end])
            self._give_up(out, "marker")
            return end
        self._dispatch(name, buf[j:end], out)  # the tag always goes out, held or not
        if name in _RAW and self._state is _State.DATA:
            self._enter_raw(name)
        return end

    def _enter_raw(self, name: bytes) -> None:
        self._raw = name
        self._script = 0
        self._state = _State.RAWTEXT

    def _text(self, buf: bytes, j: int, out: list[bytes]) -> int:
        """Text that is not whitespace (or a '<' that starts no tag) at ``buf[j]``."""
        phase = self._phase
        if phase is _Phase.BODY:
            self._emit(out, buf[j : j + 1])
            return j + 1
        if self._templates or (phase is _Phase.SKIP and self._link >= 0):
            k = buf.find(b"<", j + 1)
            k = len(buf) if k < 0 else k
            self._emit(out, buf[j:k])
            return k
        if phase is _Phase.HEAD:
            self._implied_body(out)
        else:
            self._decide(self._cand, out)
        return j

    def _comment(self, buf: bytes, j: int, out: list[bytes]) -> int:
        n = len(buf)
        # "<!-->" and "<!--->" are complete (empty) comments in HTML.
        if buf.startswith(b">", j + 4):
            end = j + 5
        elif buf.startswith(b"->", j + 4):
            end = j + 6
        else:
            found = _COMMENT_END.search(buf, j + 4)
            if found is None:
                if n - j < _COMMENT_HOLD:
                    return -1
                self._emit(out, buf[j : j + 4])
                self._state = _State.COMMENT
                return j + 4
            end = found.end()
        self._emit(out, buf[j:end])
        if (
            self.position is Position.PLACEHOLDER
            and self._phase is _Phase.BODY
            and not self._templates
            and buf[j:end] == PLACEHOLDER
        ):
            self._inject_notice(out)
        return end

    def _until(
        self, buf: bytes, j: int, body: int, terminator: bytes, state: _State, out: list[bytes]
    ) -> int:
        """A construct closed by ``terminator``: emitted, never inserted into."""
        k = buf.find(terminator, body)
        if k < 0:
            if len(buf) - j < _COMMENT_HOLD:
                return -1
            self._emit(out, buf[j:body])
            self._state = state
            return body
        end = k + len(terminator)
        self._emit(out, buf[j:end])
        return end

    def _long_tag(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """Inside a tag too long to hold: find its '>' as the tokenizer would
        (through the attribute states), streaming."""
        n = len(buf)
        while i < n:
            q = self._quote
            if q in (_T_DQ, _T_SQ):
                k = buf.find(b'"' if q == _T_DQ else b"'", i)
                if k < 0:
                    self._emit(out, buf[i:])
                    return n
                self._emit(out, buf[i : k + 1])
                self._quote = _T_BEFORE  # "after attribute value (quoted)" acts alike
                i = k + 1
                continue
            found = _LONG_STOP[q].search(buf, i)
            if found is None:
                self._emit(out, buf[i:])
                return n
            k = found.start()
            c = buf[k]
            self._emit(out, buf[i : k + 1])
            i = k + 1
            if c == 0x3E:  # ">"
                self._state = _State.DATA
                self._after_long_tag(out)
                return i
            if c in _WS:
                self._quote = _T_AFTER if q == _T_ATTR else _T_BEFORE
            elif c == 0x2F:  # "/"
                self._quote = _T_UNQUOTED if q == _T_VALUE else _T_BEFORE
            elif c == 0x3D:  # "="
                self._quote = (
                    _T_ATTR if q == _T_BEFORE else _T_UNQUOTED if q == _T_VALUE else _T_VALUE
                )
            elif q == _T_VALUE:
                self._quote = _T_DQ if c == 0x22 else _T_SQ if c == 0x27 else _T_UNQUOTED
            else:
                self._quote = _T_ATTR
        return n

    def _after_long_tag(self, out: list[bytes]) -> None:
        name = self._tag_name
        if name in _RAW:
            self._enter_raw(name)
        elif name == b"body" and self._phase is _Phase.HEAD and not self._templates:
            self._at_body(out)

    # --- the tags that matter -----------------------------------------------

    def _dispatch(self, name: bytes, tag: bytes | None, out: list[bytes]) -> None:
        """Hand the tag to the current phase, again if it moved the phase on.
        ``tag`` is None for a long tag, which the caller streams."""
        while True:
            phase = self._phase
            if phase is _Phase.HEAD:
                done = self._head_tag(name, tag, out)
            elif phase is _Phase.SKIP:
                done = self._skip_tag(name, tag, out)
            elif phase is _Phase.BODY:
                done = self._body_tag(name, tag, out)
            else:
                if tag is not None:
                    self._emit(out, tag)
                return
            if done:
                return

    def _head_tag(self, name: bytes, tag: bytes | None, out: list[bytes]) -> bool:
        """A tag before the body. False: the body starts before it (seen again)."""
        if self._templates:
            if name == b"template":
                self._templates += 1
            elif name == b"/template":
                self._templates -= 1
        elif name[0] == 0x2F:  # "/": an end tag
            if name == b"/head" and not self._after_head:
                self._start_holding()
                self._after_head = True
            elif name in _IMPLY_BODY_END_TAGS:
                self._implied_body(out)
                return False
            # any other end tag is ignored before the body
        elif name in _HEAD_ELEMENTS:
            if name == b"html" and tag is not None:
                self._note_language(tag)
            elif name == b"template":
                self._templates += 1
        elif name == b"noscript" and not self._after_head:
            self._start_holding()  # its content may end the head when scripting is off
        elif name == b"body":
            self._start_holding()
            if tag is not None:
                self._emit(out, tag)
                self._at_body(out)
            return True
        elif name == b"frameset":
            self._give_up(out, "frameset")
            return False
        else:
            self._implied_body(out)
            return False
        if tag is not None:
            self._emit(out, tag)
        return True

    def _skip_tag(self, name: bytes, tag: bytes | None, out: list[bytes]) -> bool:
        """A tag while reading past skip links. Always handled."""
        if self._templates:
            if name == b"template":
                self._templates += 1
            elif name == b"/template":
                self._templates -= 1
            if tag is not None:
                self._emit(out, tag)
            return True
        if tag is None or not self._follows(name, tag):
            self._decide(self._cand, out)
            if tag is not None:
                self._emit(out, tag)
            return True
        self._emit(out, tag)
        return True

    def _follows(self, name: bytes, tag: bytes) -> bool:
        """Follow ``tag`` while reading past skip links; False when it ends the
        reading. Candidate moves count the tag as already emitted."""
        if name[0] == 0x2F:
            return self._follows_end(name[1:], len(self._held) + len(tag))
        stack = self._stack
        if (
            name not in _SPECIAL_START
            and not self._foreign
            and self._link < 0
            and _FOCUS_ATTRIBUTE.search(tag) is None
        ):  # the common case: an element nobody focuses, as a container
            if b"p" in stack and (name in _CLOSES_P or name in _HEADINGS):
                return False
            stack.append(name)
            return True
        # Attributes are read only where they decide something (most tags have none
        # of these): the reading is per tag, in Python.
        if name in _ATTRIBUTES_MATTER or _FOCUS_ATTRIBUTE.search(tag) is not None:
            attributes = _attributes(tag, len(name) + 1)
        else:
            attributes = {}
        # "/>" closes an element only in SVG and MathML.
        opens = not tag.endswith(b"/>") or not (self._foreign or name == b"svg")
        if self._foreign:
            if (
                name in _BREAKOUT
                or name in _RAW
                or b"tabindex" in attributes
                or (name == b"a" and (b"href" in attributes or b"xlink:href" in attributes))
            ):
                return False
        elif self._link >= 0:
            # Inside the skip link: its content is passed over, its nesting followed.
            if name == b"a" or name in _FOCUSABLE or name in _NOT_FOLLOWED or name == b"svg":
                return False
        else:
            if b"tabindex" in attributes or b"contenteditable" in attributes:
                return False
            if name == b"a":
                if not _skip_href(attributes):
                    # the first focusable element is not a skip link, or an anchor
                    # that is no link at all (not followed: adoption rules)
                    return False
                self._link = len(stack)
            elif name in _FOCUSABLE or name in _NOT_FOLLOWED:
                return False
            elif name == b"input":
                if attributes.get(b"type", b"").strip(_WS).lower() != b"hidden":
                    return False
            elif (name == b"audio" or name == b"video") and b"controls" in attributes:
                return False
            elif name in (b"body", b"html", b"head"):
                if name == b"html":
                    self._note_language(tag)
                return True  # the parser merges or ignores them
            elif name == b"template":
                self._templates += 1
                return True
        if name in _VOID or name in _RAW:
            return True
        if name == b"li" or name == b"dd" or name == b"dt":
            items = (b"li",) if name == b"li" else (b"dd", b"dt")
            if stack and stack[-1] in items:
                stack.pop()  # an open item closes before the next
            elif any(e in items for e in stack):
                return False
        if b"p" in stack and (name in _CLOSES_P or name in _HEADINGS):
            return False
        if name in _HEADINGS and stack and stack[-1] in _HEADINGS:
            return False
        if opens:
            stack.append(name)
            if name == b"svg":
                self._foreign += 1
        return True

    def _follows_end(self, name: bytes, after: int) -> bool:
        """An end tag while reading past skip links: close what it closes."""
        stack = self._stack
        if name not in stack:
            # </p> and </br> make elements, </body> ends the body; others are ignored.
            return name not in (b"p", b"br", b"body", b"html", b"svg", b"math")
        top = len(stack) - 1
        while stack[top] != name:
            if stack[top] not in _IMPLIED_END:
                return False  # misnested: the parser's repairs are not followed
            top -= 1
        if top < self._link:
            return False
        del stack[top:]
        if self._foreign:
            self._foreign = stack.count(b"svg")
        if top == self._link:  # the skip link's </a>
            self._link = -1
            self._want(after, len(stack))
        elif self._link < 0 and len(stack) < self._cand_depth:
            self._want(after, len(stack))
        return True

    def _want(self, at: int, depth: int) -> None:
        """The notice would go at ``at`` (with ``depth`` elements open): take it
        if that place is safe, and remember the depth to move on from."""
        self._cand_depth = depth
        if _safe(self._stack):
            self._cand = at

    def _body_tag(self, name: bytes, tag: bytes | None, out: list[bytes]) -> bool:
        """A tag in the body, for ``body-end`` and ``placeholder``."""
        if name == b"template":
            self._templates += 1
        elif name == b"/template":
            if self._templates:
                self._templates -= 1
        elif (
            name == b"/body"
            and self.position is Position.BODY_END
            and not self._templates
            and not self.injected
        ):
            self._inject_notice(out)
            if tag is not None:
                out.append(tag)
            return True
        if tag is not None:
            self._emit(out, tag)
        return True

    # --- insertion points ---------------------------------------------------

    def _note_language(self, tag: bytes) -> None:
        if self.page_language is None:
            found = _LANG.search(tag)
            self.page_language = found.group(1).decode("ascii").lower() if found else ""

    def _start_holding(self) -> None:
        """The head fragment's place is here: hold what follows until the body."""
        if not self._holding:
            self._holding = True
            self._held.clear()

    def _implied_body(self, out: list[bytes]) -> None:
        """The token at hand ends the head and starts the body, before it."""
        self._start_holding()
        self._at_body(out)

    def _at_body(self, out: list[bytes]) -> None:
        """The body starts here (with the head fragment's place already held)."""
        self._start_holding()
        if len(self._held) > self.max_holdback:
            self._give_up(out, "holdback")
            return
        position = self.position
        if position is Position.BODY_START:
            self._decide(len(self._held), out)
        elif position is Position.AFTER_SKIP_LINKS:
            self._phase = _Phase.SKIP
            self._skip = _SKIP_SKIP.match
            self._cand = len(self._held)
            self._cand_depth = 0
            self._fresh = True
        else:
            self._render()
            out.append(self.head)
            out.append(bytes(self._held))
            self._held.clear()
            self._holding = False
            self._phase = _Phase.BODY
            self._skip = _BODY_SKIP[position is not Position.PLACEHOLDER].match

    def _decide(self, at: int, out: list[bytes]) -> None:
        """Both fragments go out: the head at the start of what is held, the
        notice ``at`` bytes into it."""
        self._render()
        held = bytes(self._held)
        self._held.clear()
        self._holding = False
        out.append(self.head)
        out.append(held[:at])
        out.append(self.notice)
        out.append(held[at:])
        self.injected = True
        self._state = _State.DONE
        self._phase = _Phase.DONE

    def _render(self) -> None:
        if self.render is not None:
            self.head, self.notice = self.render(self.page_language or None)
            self.render = None

    def _inject_notice(self, out: list[bytes]) -> None:
        self._render()
        out.append(self.notice)
        self.injected = True
        self._state = _State.DONE
        self._phase = _Phase.DONE
