"""One response on its way out: held until its first body message decides how the
page changes, then streamed through the ``Injector`` (decoded and re-encoded when
compressed), with ``Content-Length`` and ``ETag`` kept true."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import TYPE_CHECKING

from ._csp import (
    _NONCE_SENTINEL_BYTES,
    _SCRIPT_DIRECTIVES,
    _STYLE_DIRECTIVES,
    _STYLE_SENTINEL_BYTES,
    _csp_nonce,
    _with_nonce,
)
from ._encoding import DecodeError, Recoder
from ._inject import Injector, decided_before, splice
from ._pagecheck import PageHeaders, _fragment
from ._rawheaders import add_vary, changed_body, request_header
from ._types import Message, Scope, Send

if TYPE_CHECKING:
    from ._middleware import AIDisclosureMiddleware, RequestDisclosure, _Plan, _Rendered

#: The injector's reasons that are no miss: the page has its own notice, or is blank.
_NOT_MISSED = frozenset({"marker", "empty", ""})
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Pages of declared length up to this are gathered whole before they change.
COLLECT_LIMIT = 262144


def _left_alone(start: bytes, needs_document: bool) -> str | None:
    """Why a page whose first (decoded) bytes are ``start`` may not change at all
    ("" when that is no miss), or None when it may."""
    if start[:2] in _UTF16_BOMS:
        return "charset"  # UTF-16 (BOM): ASCII fragments would break it
    if needs_document and _fragment(start):
        return ""  # fetched by a script, a piece of a page: not a page view
    return None


async def nothing() -> None:
    """An awaitable that does nothing (a message held back, or dropped)."""


class _Responder:
    """Per-request state machine for a page that may get the notice."""

    __slots__ = (
        "_collected",
        "_send",
        "accept",
        "ended",
        "fed",
        "injector",
        "language",
        "left_alone",
        "middleware",
        "needs_document",
        "page",
        "plan",
        "recoder",
        "route",
        "scope",
        "start",
        "state",
        "vary",
    )

    def __init__(
        self,
        middleware: AIDisclosureMiddleware,
        scope: Scope,
        state: RequestDisclosure,
        send: Send,
        plan: _Plan,
        route: str,
        start: Message,
        page: PageHeaders,
    ) -> None:
        self.middleware = middleware
        self.scope = scope
        self.state = state
        self._send = send
        self.plan = plan
        self.route = route
        self.start: Message | None = start
        self.page = page  # what its headers said, read once
        self.accept: str | None = None  # the reader's Accept-Language
        self.injector: Injector | None = None
        self.recoder: Recoder | None = None
        self.language: str | None = None
        self.vary: bool | None = None  # the notice's language depends on Accept-Language
        self.fed = False  # some page bytes went through the injector
        self.needs_document = False  # fetched by a script: inject only into a whole page
        self.ended = False  # the page was ended early (corrupt): drop what follows
        self.left_alone: str | None = None  # why the page passes unchanged, once known
        # Body messages of a page of known, small length, gathered so its
        # Content-Length can stay exact (WSGI bridges send a page in two messages).
        self._collected: list[bytes] | None = None

    def send(self, message: Message) -> Awaitable[None]:
        # A plain function handing back an awaitable, as the middleware's own send:
        # most messages need no coroutine of their own here.
        if message["type"] != "http.response.body":
            return self._other(message)
        if self.start is not None:
            return self._on_first_body(message)
        if self.injector is not None:
            return self._on_body(message)
        if not self.ended:
            return self._send(message)
        return nothing()

    async def _other(self, message: Message) -> None:
        if self.start is not None:  # e.g. http.response.pathsend: nothing to change
            start, self.start = self.start, None
            await self._send(start)
            self.middleware.misses.report(self.route, "file")
            self._log(notice_shown=False)
        await self._send(message)

    async def _on_first_body(self, message: Message) -> None:
        start = self.start
        assert start is not None
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        collected = self._collected
        if collected is not None or (more and self._worth_collecting(body)):
            if collected is None:
                collected = self._collected = []
            collected.append(body)
            if more and sum(map(len, collected)) <= COLLECT_LIMIT:
                return  # still gathering a page of known length
            self._collected = None
            body = message["body"] = b"".join(collected)
        self.start = None
        headers: list[tuple[bytes, bytes]] = start["headers"]
        if self.state.notice_placed:
            # The app placed the notice itself: nothing to change.
            await self._untouched(start, message, notice_shown=True)
            return
        # A whole page is looked up in the decisions kept here, once.
        whole = not more and self.recoder is None
        if whole and self._lane(start, message, body):
            await self._send(start)
            await self._send(message)
            self._log(notice_shown=True)
            return
        injector = self.injector = self._make_injector(recall=not whole)
        try:
            output = self._process(body, final=not more)
        except DecodeError:
            # Not valid in its coding: nothing was sent yet, so the page goes untouched.
            self.left_alone = "corrupt"
        if self.left_alone is not None:
            # Nothing was sent yet: the app's own bytes, as they came.
            if self.left_alone:
                self.middleware.misses.report(self.route, self.left_alone)
            await self._untouched(start, message, notice_shown=False)
            return
        # Headers go out now, perhaps before the page's <html lang> arrived (then
        # page_language is None): say Vary whenever the answer could depend on it.
        vary = self.vary
        if vary is None:  # not rendered yet
            vary = self._rendered(injector.page_language or None)[1]
        if vary:
            add_vary(headers, b"Accept-Language")
        if not more:
            if injector.injected:
                changed_body(headers, len(output))
                message["body"] = output
            elif self.page.length is None:
                # Unchanged: the app's own bytes and ETag, and a length it did not give.
                headers.append((b"content-length", b"%d" % len(body)))
            await self._send(start)
            await self._send(message)
            self._done(injector)
            return
        # Streaming: the final length is unknown, so the declared one must go.
        changed_body(headers, None)
        await self._send(start)
        message["body"] = output
        await self._send(message)

    def _lane(self, start: Message, message: Message, body: bytes) -> bool:
        """A whole page whose start was decided before (the usual page of a site):
        its fragments go in without an ``Injector``; False when it needs one.
        Leaves the messages ready to send."""
        decided = decided_before(body, self.middleware.position)
        if decided is None or _left_alone(body, self.needs_document) is not None:
            return False
        hold_from, place, language = decided
        self.accept = request_header(self.scope, b"accept-language")
        head, notice = self._render(language or None)
        headers = start["headers"]
        if self.vary:
            add_vary(headers, b"Accept-Language")
        message["body"] = output = splice(body, hold_from, head, place, notice)
        changed_body(headers, len(output))
        return True

    async def _untouched(self, start: Message, message: Message, notice_shown: bool) -> None:
        """Send the page as the app did; what follows passes as it comes."""
        self.injector = None
        await self._send(start)
        await self._send(message)
        self._log(notice_shown=notice_shown)

    def _check_start(self, piece: bytes) -> None:
        """The page's first (decoded) bytes say whether it may change at all."""
        self.left_alone = _left_alone(piece, self.needs_document)

    def _worth_collecting(self, body: bytes) -> bool:
        """A body of declared length small enough to gather before deciding."""
        length = self.page.length
        return length is not None and length.isdigit() and len(body) <= int(length) <= COLLECT_LIMIT

    async def _on_body(self, message: Message) -> None:
        injector = self.injector
        assert injector is not None
        final = not message.get("more_body", False)
        try:
            output = self._process(message.get("body", b""), final=final)
        except DecodeError:
            # Corrupt mid-stream: the reader's browser could not decode the rest
            # either. End the page cleanly with what was valid.
            self.middleware.misses.report(self.route, "corrupt")
            assert self.recoder is not None
            output, final = self.recoder.finish(), True
            message["more_body"] = False
            self.ended = True
        message["body"] = output
        if final:
            self._done(injector)
        await self._send(message)

    def _process(self, body: bytes, *, final: bool) -> bytes:
        """The injector's output for one body message, decoded and re-encoded when
        the page is compressed; ``final`` closes the page."""
        injector = self.injector
        assert injector is not None
        recoder = self.recoder
        if recoder is None:
            if body and not self.fed:
                self.fed = True
                self._check_start(body)
            if self.left_alone is not None:
                return body
            output = injector.feed(body)
            if final:
                output += self._close(injector)
            return output
        parts = []
        for piece in recoder.decode(body):
            if not self.fed:
                self.fed = True
                self._check_start(piece)
            if self.left_alone is None:
                piece = injector.feed(piece)
            parts.append(recoder.encode(piece))
        if final:
            if self.left_alone is None:
                parts.append(recoder.encode(self._close(injector)))
            parts.append(recoder.finish())
        else:
            parts.append(recoder.encode(b"", flush=True))
        return b"".join(parts)

    def _close(self, injector: Injector) -> bytes:
        # An empty body is no page: never a notice on its own.
        return injector.close() if self.fed else b""

    def _done(self, injector: Injector) -> None:
        self.injector = None
        reason = injector.reason if self.left_alone is None else self.left_alone
        if not injector.injected and self.fed and reason not in _NOT_MISSED:
            self.middleware.misses.report(self.route, reason or "truncated")
        self._log(notice_shown=injector.injected)

    def _make_injector(self, recall: bool) -> Injector:
        self.accept = request_header(self.scope, b"accept-language")
        position = self.middleware.position
        return Injector(b"", b"", position, render=self._render, recall=recall)

    def _rendered(self, page_lang: str | None) -> _Rendered:
        return self.middleware.rendered(self.plan, self.page.legacy, page_lang, self.accept)

    def _render(self, page_lang: str | None) -> tuple[bytes, bytes]:
        """The fragments for this page, once its ``<html lang>`` is known."""
        language, self.vary, head, plain, notice = self._rendered(page_lang)
        self.language = language
        policies = self.page.policies
        if self.state.head_placed:
            head = b""  # the app's template carries it already
        elif not policies:
            head = plain
        else:
            nonce = _csp_nonce(policies, _SCRIPT_DIRECTIVES)
            style_nonce = _csp_nonce(policies, _STYLE_DIRECTIVES)
            if nonce is None and style_nonce is None:
                head = plain
            else:
                head = _with_nonce(head, _NONCE_SENTINEL_BYTES, nonce)
                head = _with_nonce(head, _STYLE_SENTINEL_BYTES, style_nonce)
        return head, notice

    def _log(self, notice_shown: bool) -> None:
        language = self.language if notice_shown else None
        self.middleware._record(self.plan, self.route, notice_shown, language)
