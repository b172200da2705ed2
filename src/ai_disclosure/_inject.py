"""A streaming HTML injector: bytes in, bytes out, no I/O (sans-I/O, like h11).

``Injector`` puts ``head`` (meta, JSON-LD, stylesheet) right before ``</head>``
and ``notice`` at the chosen position in ``<body>``, however the page is cut
into chunks. It understands just enough HTML to not be fooled: comments,
``<script>``/``<style>``/``<textarea>``/``<title>`` text, quoted attribute values,
CDATA sections, doctype and processing instructions never hold an insertion
point. It holds back only what could still be a partial token, plus - to keep
the all-or-nothing promise - the few bytes between ``</head>`` and ``<body>``.

Promises, for any split of a page into chunks:

* the output is the same as for the page in one chunk;
* either both fragments are inserted exactly once, or the page is unchanged
  (``gave_up``), e.g. no ``<body>`` or a notice (``data-ai-disclosure-notice``)
  is already there;
* memory stays bounded: held bytes never exceed ``max_holdback`` plus one
  partial token of at most ``_TOKEN_LIMIT`` bytes.

Scanning is done by compiled regular expressions, so the page's ordinary text
and tags are skipped in C; Python sees only the few tokens that matter.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from enum import Enum, StrEnum

__all__ = ["MARKER", "PLACEHOLDER", "Injector", "Position"]

PLACEHOLDER = b"<!--ai-disclosure-notice-->"
MARKER = b"data-ai-disclosure-notice"


class Position(StrEnum):
    """Where the notice goes in ``<body>``."""

    BODY_START = "body-start"  # right after the <body> tag (default)
    BODY_END = "body-end"  # right before the first </body>
    PLACEHOLDER = "placeholder"  # right after <!--ai-disclosure-notice-->


class _State(Enum):
    DATA = 0  # markup: looking for the next token that matters
    COMMENT = 1  # inside a long comment: looking for -->
    CDATA = 2  # inside a long CDATA section: looking for ]]>
    BOGUS = 3  # inside a long <!...> or <?...>: looking for >
    RAWTEXT = 4  # inside script/style/textarea/title...: looking for its end tag
    TAG = 5  # inside a tag too long to hold: looking for its > outside quotes
    DONE = 6  # decided (injected or gave up): pass everything through


#: Elements whose content is text to the HTML parser: tags inside do not count.
_RAW = (b"script", b"style", b"textarea", b"title", b"xmp", b"iframe", b"noembed", b"noframes")
_RAW_ALT = b"|".join(_RAW)
#: A token longer than this is not held whole; it is streamed and never inserted at.
_TOKEN_LIMIT = 4096
#: Comments shorter than this are held whole, so the placeholder is always seen whole.
_COMMENT_HOLD = 64

_TAG_BODY = rb"(?:[^\"'>]++|\"[^\"]*+\"|'[^']*+')*+>"
#: In skipped text the marker must not hide: such constructs go the slow way.
_NO_MARKER = rb"d(?!ata-ai-disclosure-notice)"


def _skipped(comments: bool, interesting: bytes) -> bytes:
    """Alternatives for everything Python need not look at: text, complete tags other
    than ``interesting`` ones (quoted attributes included), complete raw-text
    elements, comments (unless the placeholder matters), CDATA and doctype."""
    comment = rb"|<!--(?:>|->|(?:[^-d]++|-(?!->)|" + _NO_MARKER + rb")*+-->)" if comments else b""
    return (
        rb"(?:[^<]++"
        rb"|<(?!(?:" + interesting + rb"|" + _RAW_ALT + rb")[\s/>])[a-zA-Z/]" + _TAG_BODY
        + b"".join(
            rb"|<" + name + rb"(?=[\s/>])" + _TAG_BODY
            + rb"(?:[^<d]++|<(?!/" + name + rb"[\s/>])|" + _NO_MARKER + rb")*+"
            rb"(?=</" + name + rb"[\s/>])"
            for name in _RAW  # one branch each: no backreference, no capture group
        )
        + comment
        + rb"|<!\[CDATA\[(?:[^\]d]++|\](?!\]>)|" + _NO_MARKER + rb")*+\]\]>"
        rb"|<(?:!(?!--|\[CDATA\[)|\?)(?:[^>d]++|" + _NO_MARKER + rb")*+>"
        rb"|<(?=[^a-zA-Z/!?]))*+"
    )  # fmt: skip


def _skipper(comments: bool) -> re.Pattern[bytes]:
    """One C-level pass that stops at the '<' of a token that matters (html,
    </head>, body) or of one cut by the end of the chunk."""
    return re.compile(_skipped(comments, rb"/head|/?body|html"), re.IGNORECASE)


#: The common case in one C-level match: a whole page start, in one chunk, up to its
#: <body> tag, with at most one <html> tag and one </head> before it. Anything else
#: (and any doubt: a marker, a long tag) goes the token-by-token way, which gives the
#: same bytes - the split-invariance tests hold both to that.
_FAST = re.compile(
    _skipped(True, rb"/head|/?body|html")
    + rb"(?P<html><html(?=[\s/>])" + _TAG_BODY + rb")?"
    + _skipped(True, rb"/head|/?body|html")
    + rb"(?:(?P<head></head(?=[\s/>])" + _TAG_BODY + rb")" + _skipped(True, rb"/?body|html")
    + rb")?"
    + rb"(?P<body><body(?=[\s/>])" + _TAG_BODY + rb")",
    re.IGNORECASE,
)  # fmt: skip


_SKIP = {True: _skipper(comments=True), False: _skipper(comments=False)}
_NAME = re.compile(rb"</?([a-zA-Z][^\s/>\x00]*+)")
_TAG_REST = re.compile(rb"(?:[^\"'>]++|\"[^\"]*+\"|'[^']*+')*+>")
_QUOTE_OR_END = re.compile(rb"[\"'>]")
_RAW_END = {name: re.compile(rb"</" + name + rb"[\s/>]", re.IGNORECASE) for name in _RAW}
_CDATA = b"<![CDATA["
_HTML_TAG = re.compile(rb"<html(?=[\s/>])", re.IGNORECASE)
_LANG = re.compile(rb"\slang\s*=\s*[\"']?\s*([A-Za-z]{2,3}(?:-[A-Za-z0-9]{1,8})*)", re.IGNORECASE)

#: Renders (head, notice) once the page's own language (``<html lang>``) is known.
Render = Callable[[str | None], tuple[bytes, bytes]]


class Injector:
    """Insert ``head`` and ``notice`` into one HTML page fed in chunks.

    With ``render``, the fragments are made at the first insertion, from the
    language of the page's ``<html lang>`` (None when it has none).
    """

    __slots__ = (
        "_body_seen",
        "_fresh",
        "_held",
        "_holding",
        "_quote",
        "_raw",
        "_state",
        "_tag_name",
        "_tail",
        "gave_up",
        "head",
        "injected",
        "max_holdback",
        "notice",
        "page_language",
        "position",
        "render",
    )

    def __init__(
        self,
        head: bytes,
        notice: bytes,
        position: Position = Position.BODY_START,
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
        self._state = _State.DATA
        self._tail = b""  # unscanned bytes: a partial token, rescanned with the next chunk
        self._held = bytearray()  # scanned bytes waiting behind a pending head insertion
        self._holding = False  # True from </head> (or <body) until the decision
        self._body_seen = False
        self._fresh = True  # nothing fed yet: the one-match fast path may apply
        self._raw = b""  # the raw-text element we are in
        self._quote = 0  # quote byte while in a long tag, else 0
        self._tag_name = b""

    # --- public API ---------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Scan ``data``; return the bytes that are ready to be sent."""
        if self._state is _State.DONE:
            if self._tail:
                data, self._tail = self._tail + data, b""
            return data
        if self._fresh and self.position is Position.BODY_START:
            self._fresh = False
            fast = self._fast(data)
            if fast is not None:
                return fast
        self._fresh = False
        out: list[bytes] = []
        buf = self._tail + data if self._tail else data
        self._tail = b""
        self._scan(buf, out)
        if self._holding and len(self._held) > self.max_holdback:
            self._give_up(out)
        return b"".join(out)

    def _fast(self, data: bytes) -> bytes | None:
        """The whole insertion in one regex match, when the first chunk allows it."""
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
            lang = _LANG.search(data, html_start, html_end)
            self.page_language = lang.group(1).decode("ascii").lower() if lang else ""
        self._body_seen = True
        self._render()
        self.injected = True
        self._state = _State.DONE
        view = memoryview(data)  # slices without copies: the page is copied once, by join
        return b"".join(
            (view[:hold_from], self.head, view[hold_from:body_end], self.notice, view[body_end:])
        )

    def close(self) -> bytes:
        """End of the page: return everything still held, the notice if it is due."""
        out: list[bytes] = []
        tail, self._tail = self._tail, b""
        if self._state is not _State.DONE and self._body_seen and not self._holding:
            # body-end / placeholder: no </body> or placeholder came; parsers put
            # content after the end of the document in the body anyway.
            self._emit(out, tail)
            self._render()
            out.append(self.notice)
            self.injected = True
            self._state = _State.DONE
            return b"".join(out)
        if self._state is not _State.DONE:
            self._give_up(out)
        out.append(tail)
        return b"".join(out)

    # --- scanning -----------------------------------------------------------

    def _emit(self, out: list[bytes], chunk: bytes) -> None:
        if self._holding:
            self._held += chunk
        else:
            out.append(chunk)

    def _give_up(self, out: list[bytes]) -> None:
        """Leave the page as it is: release what was held, untouched."""
        if self._held:
            out.append(bytes(self._held))
            self._held.clear()
        self._holding = False
        self.gave_up = not self.injected
        self._state = _State.DONE

    def _scan(self, buf: bytes, out: list[bytes]) -> None:
        i = 0
        n = len(buf)
        skip = _SKIP[self.position is not Position.PLACEHOLDER].match
        while i < n:
            state = self._state
            if state is _State.DONE:
                self._emit(out, buf[i:])
                return
            if state is _State.DATA:
                end = skip(buf, i).end()  # type: ignore[union-attr]
                if end > i:
                    if self._marker_in_tag(buf, i, end):
                        self._emit(out, buf[i:end])
                        self._already_there(out)
                        i = end
                        continue
                    self._emit(out, buf[i:end])
                    i = end
                    if i >= n:
                        return
                step = self._token(buf, i, out)
                if step < 0:  # incomplete token: keep it for the next chunk
                    self._tail = buf[i:]
                    return
                i = step
            elif state is _State.RAWTEXT:
                found = _RAW_END[self._raw].search(buf, i)
                if found is None:
                    # Keep just enough to recognise an end tag cut by the chunk boundary.
                    keep = max(i, n - len(self._raw) - 2)
                    self._emit(out, buf[i:keep])
                    self._tail = buf[keep:]
                    return
                # Back to markup; the end tag is an ordinary tag for the skipper.
                self._emit(out, buf[i : found.start()])
                self._state = _State.DATA
                i = found.start()
            elif state is _State.TAG:
                i = self._long_tag(buf, i, out)
            else:
                terminator = {_State.COMMENT: b"-->", _State.CDATA: b"]]>", _State.BOGUS: b">"}[
                    state
                ]
                k = buf.find(terminator, i)
                if k < 0:
                    keep = max(i, n - len(terminator) + 1)
                    self._emit(out, buf[i:keep])
                    self._tail = buf[keep:]
                    return
                k += len(terminator)
                self._emit(out, buf[i:k])
                self._state = _State.DATA
                i = k

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

    def _already_there(self, out: list[bytes]) -> None:
        """The page carries a notice of its own: never add a second one."""
        self._give_up(out)

    def _token(self, buf: bytes, j: int, out: list[bytes]) -> int:
        """Handle the token at ``buf[j] == b'<'``; return where to go on, or -1
        when the token is cut by the end of the chunk."""
        n = len(buf)
        if j + 1 >= n:
            return -1
        second = buf[j + 1]
        if second == 0x21:  # "!"
            if buf.startswith(b"<!--", j):
                return self._comment(buf, j, out)
            if n - j < 4 and b"<!--".startswith(buf[j:]):
                return -1
            if buf[j : j + 9].upper() == _CDATA:
                return self._until(buf, j, j + 9, b"]]>", _State.CDATA, out)
            if n - j < 9 and _CDATA.startswith(buf[j:].upper()):
                return -1
            return self._until(buf, j, j + 2, b">", _State.BOGUS, out)
        if second == 0x3F:  # "?"
            return self._until(buf, j, j + 2, b">", _State.BOGUS, out)
        name_match = _NAME.match(buf, j)
        if name_match is None:
            if second == 0x2F:  # "</" then not a letter
                if j + 2 >= n:
                    return -1
                return self._until(buf, j, j + 2, b">", _State.BOGUS, out)
            self._emit(out, buf[j : j + 1])  # a lone '<' in text
            return j + 1
        if name_match.end() >= n and n - j < _TOKEN_LIMIT:
            return -1
        name = name_match.group(1).lower()
        if second == 0x2F:
            name = b"/" + name
        rest = _TAG_REST.match(buf, name_match.end())
        if rest is None or rest.end() - j > _TOKEN_LIMIT:
            if rest is None and n - j < _TOKEN_LIMIT:
                return -1
            # Too long to hold: stream it, and never insert next to it.
            if not self.injected and buf.find(MARKER, j, j + _TOKEN_LIMIT) >= 0:
                self._emit(out, buf[j:])
                self._already_there(out)
                return n
            self._enter_long_tag(name)
            self._emit(out, buf[j : name_match.end()])
            return self._long_tag(buf, name_match.end(), out)
        end = rest.end()
        self._on_tag(name, buf, j, end, out)
        return end

    def _comment(self, buf: bytes, j: int, out: list[bytes]) -> int:
        n = len(buf)
        # "<!-->" and "<!--->" are complete (empty) comments in HTML.
        if buf.startswith(b">", j + 4):
            end = j + 5
        elif buf.startswith(b"->", j + 4):
            end = j + 6
        else:
            k = buf.find(b"-->", j + 4)
            if k < 0:
                if n - j < _COMMENT_HOLD:
                    return -1
                self._emit(out, buf[j : j + 4])
                self._state = _State.COMMENT
                return j + 4
            end = k + 3
        self._emit(out, buf[j:end])
        if (
            self.position is Position.PLACEHOLDER
            and self._body_seen
            and buf[j:end] == PLACEHOLDER
            and not self.injected
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

    def _enter_long_tag(self, name: bytes) -> None:
        self._state = _State.TAG
        self._quote = 0
        self._tag_name = name

    def _long_tag(self, buf: bytes, i: int, out: list[bytes]) -> int:
        """Inside a tag too long to hold: find its '>' outside quotes, streaming."""
        n = len(buf)
        while i < n:
            if self._quote:
                k = buf.find(bytes((self._quote,)), i)
                if k < 0:
                    self._emit(out, buf[i:])
                    return n
                self._emit(out, buf[i : k + 1])
                self._quote = 0
                i = k + 1
                continue
            found = _QUOTE_OR_END.search(buf, i)
            if found is None:
                self._emit(out, buf[i:])
                return n
            k = found.start()
            self._emit(out, buf[i : k + 1])
            i = k + 1
            if buf[k] == 0x3E:  # ">"
                self._state = _State.DATA
                name = self._tag_name
                if name in _RAW:
                    self._raw = name
                    self._state = _State.RAWTEXT
                elif name in (b"body", b"/head", b"/body") and not self.injected:
                    # A huge insertion-point tag: no safe way to place the notice.
                    self._give_up(out)
                return i
            self._quote = buf[k]
        return n

    # --- the tags that matter -----------------------------------------------

    def _on_tag(self, name: bytes, buf: bytes, start: int, end: int, out: list[bytes]) -> None:
        if self._marker_in_tag(buf, start, end):
            self._emit(out, buf[start:end])
            self._already_there(out)
            return
        if name in _RAW:
            self._emit(out, buf[start:end])
            self._raw = name
            self._state = _State.RAWTEXT
        elif name == b"/head" and not self._holding and not self._body_seen:
            self._start_holding(out)
            self._emit(out, buf[start:end])
        elif name == b"html" and self.page_language is None:
            self._emit(out, buf[start:end])
            found = _LANG.search(buf, start, end)
            self.page_language = found.group(1).decode("ascii").lower() if found else ""
        elif name == b"body" and not self._body_seen:
            self._on_body(buf[start:end], out)
        elif name == b"/body" and self.position is Position.BODY_END and self._body_seen:
            if not self.injected:
                self._inject_notice(out)
            self._emit(out, buf[start:end])
        else:
            self._emit(out, buf[start:end])

    def _start_holding(self, out: list[bytes]) -> None:
        self._holding = True
        self._held.clear()

    def _on_body(self, tag: bytes, out: list[bytes]) -> None:
        self._body_seen = True
        if not self._holding:  # no </head>: the head fragment goes before <body>
            self._start_holding(out)
        if len(self._held) + len(tag) > self.max_holdback:
            self._emit(out, tag)
            self._give_up(out)
            return
        held = bytes(self._held)
        self._held.clear()
        self._holding = False
        self._render()
        out.append(self.head)
        out.append(held)
        out.append(tag)
        if self.position is Position.BODY_START:
            self._inject_notice(out)

    def _render(self) -> None:
        if self.render is not None:
            self.head, self.notice = self.render(self.page_language or None)
            self.render = None

    def _inject_notice(self, out: list[bytes]) -> None:
        self._render()
        out.append(self.notice)
        self.injected = True
        self._state = _State.DONE
