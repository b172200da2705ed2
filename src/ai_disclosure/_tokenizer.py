"""The tokenizer's side of ``Injector``: tokens cut by a chunk's end, and the
constructs too long to hold (raw text, scripts and their escape states, long
comments, CDATA sections, bogus comments and tags), streamed without ever
inserting inside them.

``Tokenizer`` is the lowest of the injector's layers (``Tokenizer``, then
``SkipLinkReader``, then ``Injector``); ``Injector`` decides what a tag means
(``_dispatch``), what text does (``_text``), where a comment may be the
placeholder (``_comment``) and where the bytes go (``_emit``: held or out).
"""

from __future__ import annotations

from ._htmlsyntax import (
    _CDATA,
    _COMMENT_END,
    _COMMENT_HOLD,
    _LONG_STOP,
    _NAME,
    _RAW,
    _RAW_END,
    _SCRIPT_TOKEN,
    _T_AFTER,
    _T_ATTR,
    _T_BEFORE,
    _T_DQ,
    _T_NAME,
    _T_SQ,
    _T_UNQUOTED,
    _T_VALUE,
    _TAG_REST,
    _TOKEN_LIMIT,
    _WS,
    MARKER,
    _Phase,
    _State,
)


def _comment_ending(text: bytes) -> bytes:
    """What ends a comment whose text so far ends with ``text``, keeping its data."""
    if text.endswith((b"--", b"--!")):
        return b">"
    return b"->" if text.endswith(b"-") else b"-->"


class Tokenizer:
    """Reading tokens and streaming long constructs: the injector's lowest layer."""

    __slots__ = (
        "_doctype",
        "_quote",
        "_raw",
        "_script",
        "_state",
        "_tag_name",
        "_tail",
        "_templates",
    )

    _state: _State  # what is being read: markup, or a long construct to stream
    _tail: bytes  # unscanned bytes: a partial token, rescanned with the next chunk
    _raw: bytes  # the raw-text element we are in
    _script: int  # script data: 0 plain, 1 escaped (<!--), 2 double escaped
    _doctype: bool  # the long <!...> being streamed is a doctype
    _quote: int  # attribute state while in a long tag
    _tag_name: bytes  # the long tag being streamed
    _templates: int  # open <template> elements (their content implies nothing)
    # Held by the layers above.
    _phase: _Phase
    _foreign: int
    injected: bool

    # What the injector decides.
    def _emit(self, out: list[bytes], chunk: bytes) -> None:
        raise NotImplementedError

    def _give_up(self, out: list[bytes], reason: str) -> None:
        raise NotImplementedError

    def _dispatch(self, name: bytes, tag: bytes | None, out: list[bytes]) -> None:
        raise NotImplementedError

    def _text(self, buf: bytes, j: int, out: list[bytes]) -> int:
        raise NotImplementedError

    def _comment(self, buf: bytes, j: int, out: list[bytes]) -> int:
        raise NotImplementedError

    def _after_long_tag(self, out: list[bytes]) -> None:
        raise NotImplementedError

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
            return self._hold(buf, i, max(i, keep), out)
        return self._back_to_markup(buf, i, k, out)

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
            return self._hold(buf, i, max(scanned, n - 10), out)
        # The element ends only with its whole end tag: cut short, it is text at EOF.
        rest = _TAG_REST.match(buf, end + 2 + len(raw))
        if rest is None and n - end < _TOKEN_LIMIT:
            return self._hold(buf, i, end, out)
        # Back to markup; the end tag is an ordinary tag for the skipper.
        return self._back_to_markup(buf, i, end, out)

    def _hold(self, buf: bytes, i: int, keep: int, out: list[bytes]) -> int:
        """Stream ``buf[i:keep]``; keep the rest, to be read again with the next chunk: -1."""
        self._emit(out, buf[i:keep])
        self._tail = buf[keep:]
        return -1

    def _back_to_markup(self, buf: bytes, i: int, end: int, out: list[bytes]) -> int:
        """Stream ``buf[i:end]``, the rest of a construct; markup follows from ``end``."""
        self._emit(out, buf[i:end])
        self._state = _State.DATA
        return end

    def _nested_template(self, name: bytes) -> None:
        """Inside a template: follow the templates it nests (nothing else counts there)."""
        if name == b"template":
            self._templates += 1
        elif name == b"/template":
            self._templates -= 1

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
