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

``Injector`` is the top of three layers, each a class over the one below:
``_tokenizer.Tokenizer`` reads tokens and streams what is too long to hold,
``_skiplinks.SkipLinkReader`` reads past the skip links, and ``Injector`` (here)
follows the tree up to the body and decides where the fragments go. The
patterns all three match with are in ``_htmlsyntax``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from enum import StrEnum

from ._htmlsyntax import (
    _BODY_SKIP,
    _BOM,
    _COMMENT_END,
    _COMMENT_HOLD,
    _HEAD_ELEMENTS,
    _HEAD_SKIP,
    _IMPLY_BODY_END_TAGS,
    _LANG,
    _RAW,
    _SKIP_SKIP,
    _T_NAME,
    _TOKEN_LIMIT,
    _WS,
    MARKER,
    PLACEHOLDER,
    _Phase,
    _State,
)
from ._pagestart import Inert, inert_spans, page_start
from ._skiplinks import SkipLinkReader, _labels

__all__ = ["MARKER", "MAX_HOLDBACK", "PLACEHOLDER", "Injector", "Position", "decided_before"]


class Position(StrEnum):
    """Where the notice goes in ``<body>``."""

    AFTER_SKIP_LINKS = "after-skip-links"  # after the leading skip link(s), else body start
    BODY_START = "body-start"  # right after the <body> tag, or where the body starts
    BODY_END = "body-end"  # right before the first </body>, else at the end
    PLACEHOLDER = "placeholder"  # right after <!--ai-disclosure-notice-->, else at the end


#: A change found outside the head's text (where the pages of a key change
#: outside it, as in an unquoted token, a comment or right after a "<" in a
#: script): so many next pages changed there are read anew without walking the
#: head again (the walk costs more than reading the page; one in this many + 1
#: still walks, should that place have become text).
_SKIP_WALKS = 64
#: (start, end, pages left): none.
_NO_SKIP = (0, 0, 0)


class _Decided:
    """A decision kept for the pages sharing ``read``, their bytes up to the end
    of what decided it (up to ``body``, their head): where the head fragment and
    the notice go, the page's language, where its head only holds text
    (``inert``, walked when first needed), and where a change was found outside
    that text (``skip``, handed on to the next decision of its key)."""

    __slots__ = ("_inert", "body", "hold_from", "language", "place", "read", "skip")

    def __init__(
        self,
        read: bytes,
        body: int,
        hold_from: int,
        place: int,
        language: str | None,
        skip: tuple[int, int, int] = _NO_SKIP,
    ) -> None:
        self.read = read
        self.body = body
        self.hold_from = hold_from
        self.place = place
        self.language = language
        self.skip = skip
        self._inert: tuple[list[int], list[Inert]] | None = None

    def inert(self) -> tuple[list[int], list[Inert]]:
        """The spans of text of the head (``inert_spans``) and their starts."""
        if self._inert is None:
            spans = inert_spans(self.read, self.body)
            self._inert = [span[0] for span in spans], spans
        return self._inert


#: Pages decided by the fast path (its one match of the skip links, or the end
#: tags and the match after them, as in the DSFR's ``<div><nav><ul><li>``):
#: (where their first "<body" is, position, bound) -> the decision. A page is
#: recalled by comparing its bytes with those kept, never by slicing and hashing
#: them; a page whose bytes differ only inside the text of its head (a CSRF
#: token, nonces: ``_differs_in_text``) is recalled too. Sound for the reasons
#: ``_pagestart`` and ``_skiplinks._read_before`` give: nothing that decided
#: depends on a byte past that end. Bounded like them.
_decided: dict[tuple[int, Position, int], _Decided] = {}
_DECIDED_LIMIT = 64
_DECIDED_LONGEST = 32768

#: <html> tags seen -> the language they give ("" for none): a site's pages share a few.
_languages: dict[bytes, str] = {}
_LANGUAGES_KEPT = 256
_LANGUAGE_TAG_KEPT = 512

#: Bytes held at most between the head fragment's place and the notice's, by default.
MAX_HOLDBACK = 65536


def decided_before(
    data: bytes, position: Position, max_holdback: int = MAX_HOLDBACK
) -> tuple[int, int, str | None] | None:
    """Where the head fragment and the notice go in a whole page, and its language,
    when its bytes up to what decided are those of a page decided before
    (``_decided``), or differ from them only inside the text of its head; None
    otherwise (the ``Injector`` reads it)."""
    body = data.find(b"<body")
    known = _decided.get((body, position, max_holdback))
    if known is not None and (data.startswith(known.read) or _differs_in_text(data, known)):
        return known.hold_from, known.place, known.language
    return None


def _differs_in_text(data: bytes, known: _Decided) -> bool:
    """Whether ``data``, which does not start with the kept bytes, differs from
    them only inside spans of its head that only hold text (``inert_spans``:
    quoted values, as a CSRF token in a ``<meta content="...">`` or nonces in
    ``<script nonce="...">``; the text of a script, as WordPress's nonces in
    ``{"nonce":"..."}``), none of the span's bytes being the one that would end
    it, and no notice marker near. The tokens are then those of the page kept,
    at the same offsets."""
    kept = known.read
    read = len(kept)
    if len(data) < read:
        return False
    first = _first_difference(data, kept, 0)
    low, high, left = known.skip
    if left and low <= first < high:
        known.skip = low, high, left - 1
        return False
    starts, spans = known.inert()
    while first < read:
        at = bisect_right(starts, first) - 1
        if at < 0 or first >= spans[at][1]:  # between two spans of text
            after = at + 1
            known.skip = (
                spans[at][1] if at >= 0 else 0,
                spans[after][0] if after < len(spans) else read,
                _SKIP_WALKS,
            )
            return False
        start, end, stop = spans[at]
        if (
            data.find(stop, start, end) >= 0
            or data.find(MARKER, max(start - len(MARKER), 0), end + len(MARKER)) >= 0
        ):
            return False
        first = _first_difference(data, kept, end)
    return True


def _first_difference(data: bytes, kept: bytes, start: int) -> int:
    """The first offset from ``start`` on where ``data`` differs from ``kept``,
    ``len(kept)`` when none: halving the range, each half compared in C."""
    low, high = start, len(kept)
    if data.startswith(kept[low:], low):
        return high
    # No difference before low; one before high.
    while high - low > 1:
        middle = (low + high) // 2
        if data.startswith(kept[low:middle], low):
            low = middle
        else:
            high = middle
    return low


def splice(data: bytes, hold_from: int, head: bytes, place: int, notice: bytes) -> bytes:
    """``data`` with ``head`` at ``hold_from`` and ``notice`` at ``place``."""
    view = memoryview(data)  # slices without copies: the page is copied once, by join
    return b"".join((view[:hold_from], head, view[hold_from:place], notice, view[place:]))


#: Renders (head, notice) once the page's own language (``<html lang>``) is known.
Render = Callable[[str | None], tuple[bytes, bytes]]


class Injector(SkipLinkReader):
    """Insert ``head`` and ``notice`` into one HTML page fed in chunks.

    With ``render``, the fragments are made at the first insertion, from the
    language of the page's ``<html lang>`` (None when it has none). With
    ``recall=False`` the first chunk is not looked up in the decisions kept
    (``decided_before``): for a caller that looked it up already.

    ``Position.AFTER_SKIP_LINKS`` (the default) reads on from the body start,
    holding what it reads (bounded by ``max_holdback``; at the bound it decides
    with what it knows): whitespace, comments, scripts, styles, templates,
    ``<noscript>`` and elements nobody can focus are passed over; a skip link (an
    ``<a href="#…">`` with a non-empty fragment, met before any other focusable
    element or text) moves the notice's place to right after its ``</a>``, and an
    end tag that then closes an element opened since the body start moves it past
    that end tag (so a ``<ul>`` or ``<nav>`` of skip links stays whole); the first
    other focusable element (a link elsewhere, a button, a form field, an iframe,
    ``tabindex``...) or text outside a skip link ends the reading (not a heading's
    text inside a ``<nav>``: that navigation's label, which nobody focuses). The
    notice goes at the last such place that is safe (never inside a ``<p>``, a list
    without its item, a table or foreign content), the body start when there is
    none.

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
        "_held",
        "_holding",
        "_phase",
        "_recall",
        "_skip",
        "_start",
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
        max_holdback: int = MAX_HOLDBACK,
        render: Render | None = None,
        recall: bool = True,
    ) -> None:
        self.head = head
        self.notice = notice
        self.render = render
        self._recall = recall
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
        self._read_end = -1  # where what the fast matches decided from ends

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

    # --- the fast path ------------------------------------------------------

    def _fast(self, data: bytes, out: list[bytes]) -> bytes | None:
        """The page start up to <body> in one regex match (or none, for a start seen
        before: ``_pagestart``), when the first chunk allows; a page whose bytes up
        to its decision are those of one decided before is decided alike at once."""
        position = self.position
        decided = decided_before(data, position, self.max_holdback) if self._recall else None
        if decided is not None:
            hold_from, place, self.page_language = decided
            self._blank = False
            return self._inject_at(data, hold_from, place)
        found = page_start(data)
        if found is None:
            return None
        html_start, html_end, head_start, head_end, hold_from, body_start, body_end, clean = found
        if (
            not clean
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
        read = body_end  # the end of what decided it
        if position is Position.BODY_START:
            place = body_end
        elif position is Position.AFTER_SKIP_LINKS:
            place, read = self._place(data, body_end, hold_from)
        if place >= 0:
            self._keep(data, body_start, hold_from, place, read)
            return self._inject_at(data, hold_from, place)
        out.append(data[:hold_from])
        self._holding = True
        self._held += data[hold_from:body_end]
        self._at_body(out)
        i = body_end
        if self._phase is _Phase.SKIP:
            self._fresh = False
            i = self._skip_fast(data, i, out)
            if self._state is _State.DONE:
                if self.injected and self._read_end >= 0:
                    # Decided by the fast matches and the end tags between them
                    # (links in <div><nav><ul><li>): what is held is the page from
                    # the head fragment's place on, byte for byte.
                    place = self._kept_reading(data, body_end, hold_from)
                    self._keep(data, body_start, hold_from, place, self._read_end)
                return self._out(data, i, out)
        return self._out(data, self._scan(data, i, out), out)

    def _keep(self, data: bytes, body_start: int, hold_from: int, place: int, read: int) -> None:
        """Keep the decision for the pages sharing ``data[:read]`` (``_decided``)."""
        if read <= _DECIDED_LONGEST and data.find(b"<body") == body_start:
            if len(_decided) >= _DECIDED_LIMIT:
                _decided.clear()
            key = body_start, self.position, self.max_holdback
            before = _decided.get(key)
            _decided[key] = _Decided(
                data[:read],
                body_start,
                hold_from,
                place,
                self.page_language,
                before.skip if before is not None else _NO_SKIP,
            )

    def _inject_at(self, data: bytes, hold_from: int, place: int) -> bytes:
        """The whole page with the head fragment at ``hold_from`` and the notice at
        ``place``: decided, nothing more to read."""
        self._render()
        self.injected = True
        self._state = _State.DONE
        self._phase = _Phase.DONE
        return splice(data, hold_from, self.head, place, self.notice)

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

    def _text(self, buf: bytes, j: int, out: list[bytes]) -> int:
        """Text that is not whitespace (or a '<' that starts no tag) at ``buf[j]``."""
        phase = self._phase
        if phase is _Phase.BODY:
            self._emit(out, buf[j : j + 1])
            return j + 1
        if self._templates or (phase is _Phase.SKIP and (self._link >= 0 or _labels(self._stack))):
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
            self._nested_template(name)
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
            language = _languages.get(tag)
            if language is None:
                found = _LANG.search(tag)
                language = found.group(1).decode("ascii").lower() if found else ""
                if len(tag) <= _LANGUAGE_TAG_KEPT:
                    if len(_languages) >= _LANGUAGES_KEPT:
                        _languages.clear()
                    _languages[tag] = language
            self.page_language = language

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
