"""Reading past a page's skip links, for the notice's default place.

``Position.AFTER_SKIP_LINKS`` reads on from the body start: whitespace,
comments, scripts, styles, templates, ``<noscript>`` and elements nobody can
focus are passed over; a skip link (an ``<a href="#…">`` with a non-empty
fragment, met before any other focusable element or text) moves the notice's
place to right after its ``</a>``, and an end tag that then closes an element
opened since the body start moves it past that end tag; the first other
focusable element or text outside a skip link ends the reading, but for a
heading's text inside a ``<nav>`` (``_labels``). The notice goes at the last
such place that is safe (``_safe``).

The usual body start is read in a few C-level matches (``_SKIP_LINKS``,
``_TO_THE_END``); anything else goes token by token (``_follows``), with the
same result: the tests hold the two to that. ``SkipLinkReader`` is the
injector's middle layer, over ``Tokenizer``: ``Injector`` holds the bytes read
so far and makes the decision (``_decide``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._htmlsyntax import (
    _ATTRS,
    _COMMENT_RE,
    _NO_MARKER,
    _RAW,
    _SEP,
    _TOKEN_LIMIT,
    _WS,
    MARKER,
    _attributes,
    _State,
)
from ._tokenizer import Tokenizer

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

#: Start tags whose attributes matter while reading skip links, whatever they are.
_ATTRIBUTES_MATTER = frozenset((b"a", b"input", b"audio", b"video"))
_FOCUS_ATTRIBUTE = re.compile(rb"[\t\n\f\r /](?:tabindex|contenteditable|xlink:href)", re.I)

#: One step of reading skip links: whitespace and comments (1), then a tag (2: "/"
#: of an end tag, 3: name) or text (4).
_SKIP_STEP = re.compile(
    rb"((?:[\t\n\f\r ]++|" + _COMMENT_RE + rb")*+)"
    rb"(?:<(/?)([a-zA-Z][^\t\n\f\r />]*+)" + _ATTRS + rb"|([^<\t\n\f\r ][^<]*+))?",
    re.IGNORECASE,
)
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


#: Body starts read before (``SkipLinkReader._place``): their first ``_KEY`` bytes
#: -> (the bytes the reading read, up to the token that ended it; the notice's
#: place and the end of the skip links, both from the body start; for a reading
#: that went through end tags, the end of all of it: the bound is checked against
#: that). The reading is the tokenizer's, token by token (the fast matches give
#: its result, as the tests hold them to): what it decides depends on those bytes
#: alone, so a page carrying the very same bytes after its body start gets the
#: same place. Only the holdback bound depends on where the head ended: checked
#: on every page.
_read_before: dict[bytes, tuple[bytes, int, int]] = {}
_KEY = 64
#: Body starts kept, and the longest reading kept (memory under _LIMIT x _LONGEST).
_LIMIT = 64
_LONGEST = 8192


def _remember(key: bytes, reading: bytes, place: int, end: int) -> None:
    if len(reading) <= _LONGEST:
        if len(_read_before) >= _LIMIT:
            _read_before.clear()
        _read_before[key] = (reading, place, end)


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


#: A heading's and a ``<nav>``'s start tags: text after both may be a navigation's
#: label (``_labels``), which the token-by-token reading decides.
_HEADING_START = re.compile(rb"<[hH][1-6][\t\n\f\r />]")
_NAV_START = re.compile(rb"<[nN][aA][vV][\t\n\f\r />]")


def _stop(found: re.Match[bytes], nav_open: bool = False) -> int:
    """Where a match of ``_TRAIL`` surely ends the reading, or -1. The match holds
    start tags only: a ``<nav>`` in it is open at its end, as one in ``nav_open``."""
    start, end = found.span("tag")
    if start < 0:
        text = found.start("text")  # -1 when the trail was not matched
        if text >= 0:
            data, begin = found.string, found.start()
            heading = _HEADING_START.search(data, begin, text)
            if heading is not None and (
                nav_open or _NAV_START.search(data, begin, heading.start())
            ):
                return -1
        return text
    return start if end - start <= _TOKEN_LIMIT else -1  # a long tag is streamed, not read


def _labels(stack: list[bytes]) -> bool:
    """Whether text where ``stack`` is open labels a navigation: in a heading in a
    ``<nav>`` (Liferay 7.0 - 7.3 writes ``<h1 class="sr-only">Navigation</h1>``
    before its skip links). Nobody can focus it: a skip link after it is still
    the first Tab stop, so the reading goes on."""
    return b"nav" in stack and not _HEADINGS.isdisjoint(stack)


def _skip_href(attributes: dict[bytes, bytes]) -> bool:
    """Whether an ``<a>`` with these attributes links within the page (``#`` alone
    does not: it is the page's top)."""
    href = attributes.get(b"href")
    if href is None:
        return False
    href = href.strip(_WS)
    return href.startswith(b"#") and len(href) >= 2


class SkipLinkReader(Tokenizer):
    """Reading the skip links after the body start: the injector's middle layer."""

    __slots__ = ("_cand", "_cand_depth", "_foreign", "_fresh", "_link", "_read_end", "_stack")

    _stack: list[bytes]  # elements opened since the body start
    _link: int  # index in _stack of the skip link being read, or -1
    _foreign: int  # open <svg>/<math> elements
    _cand: int  # offset in _held where the notice would go
    _cand_depth: int  # depth of the stack the candidate wants to be at
    _fresh: bool  # the reading has not started: try the fast matches
    # Where the bytes that decided end, when the end tags after the skip links or
    # the match after them decided (-1 otherwise): the deciding token included.
    # Every match that read those bytes succeeded: a construct one of them left
    # unread (an unclosed comment or script) stops the later ones too, and then
    # nothing is decided here.
    _read_end: int
    # Held by ``Injector``: the bytes read since the head fragment's place.
    _held: bytearray
    max_holdback: int

    # What the injector decides.
    def _decide(self, at: int, out: list[bytes]) -> None:
        raise NotImplementedError

    def _note_language(self, tag: bytes) -> None:
        raise NotImplementedError

    def _place(self, data: bytes, i: int, hold_from: int) -> tuple[int, int]:
        """Where the notice goes when the skip links' reading from the body start
        at ``i`` ends in the fast matches at once, or -1 (see ``_read_before``); and
        where the reading ended."""
        key = data[i : i + _KEY]
        known = _read_before.get(key)
        if known is not None and data.startswith(known[0], i):
            reading, place, end = known
            if i + end - hold_from > self.max_holdback:
                return -1, i
            return i + place, i + len(reading)
        found = _SKIP_LINKS.match(data, i)
        if found is not None:
            end = found.start("read")
            read = _read_links(found)
            if (
                read is None
                or _stop(found) < 0
                or end - i > _TOKEN_LIMIT
                or data.find(MARKER, i, found.end()) >= 0
                or _FOCUS_ATTRIBUTE.search(data, i, end) is not None
            ):
                return -1, i
            place = i if read[1] < 0 else read[1]
            _remember(key, data[i : found.end()], place - i, end - i)
            if end - hold_from > self.max_holdback:
                return -1, i
            return place, found.end()
        found = _TO_THE_END.match(data, i)
        if found is None or data.find(MARKER, i, found.end()) >= 0 or _stop(found) < 0:
            return -1, i
        _remember(key, data[i : found.end()], 0, 0)
        return i, found.end()

    def _kept_reading(self, data: bytes, i: int, hold_from: int) -> int:
        """Once the end tags after the skip links, or the match after them, decided
        (``_read_end``) on a page held from ``hold_from``: keep the reading from the
        body start at ``i`` for pages with another head (``_read_before``), recalled
        only where all of it fits in their bound (no check of it could then end it
        otherwise); where the notice went."""
        place = hold_from + self._cand
        end = self._read_end - i
        _remember(data[i : i + _KEY], data[i : self._read_end], place - i, end)
        return place

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
                if self._link < 0 and not _labels(self._stack):
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
        stop = _stop(found, b"nav" in self._stack)
        if stop < 0:
            return i
        held += buf[i:stop]
        self._read_end = found.end()
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
                self._read_end = end
                self._decide(self._cand, out)
                out.append(tag)
                return end
            held += tag
            i = end
            if len(held) > self.max_holdback:
                return i

    def _skip_tag(self, name: bytes, tag: bytes | None, out: list[bytes]) -> bool:
        """A tag while reading past skip links. Always handled."""
        if self._templates:
            self._nested_template(name)
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
