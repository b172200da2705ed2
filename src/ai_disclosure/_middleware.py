"""The ASGI middleware: tag every response, inject the notice into HTML pages.

A stateless middleware object creates one ``_Responder`` per HTTP request (the
shape of ``starlette.middleware.gzip``). The responder holds
``http.response.start`` back until it knows whether the body will change, then:

* adds ``AI-Disclosure`` (and ``Link`` when AI is involved) to every response;
* streams HTML pages that involve AI through the sans-I/O ``Injector``, fixing
  ``Content-Length`` and weakening a strong ``ETag``;
* leaves every body it cannot safely change untouched;
* records one increment per system in the disclosure log - a dict update, no I/O.
"""

from __future__ import annotations

import os
import re
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ._assets import Assets
from ._encoding import DecodeError, Recoder, decodable
from ._headers import HEADER_NAME, header_for, link_header, serialize_header
from ._inject import Injector, Position
from ._language import choose_language
from ._manifest import load_manifest
from ._misses import Misses
from ._model import Involvement, Manifest, System, involvement
from ._notice import (
    ASSET_PREFIX,
    TemplateFragments,
    notice_languages,
    render_head,
    render_notice,
)
from ._rawheaders import add_vary, drop, first, set_content_length, weaken_etag
from ._routing import Match, PathCache, Router
from ._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SCOPE_KEY", "AIDisclosureMiddleware", "DisclosureRecorder", "RequestDisclosure"]

#: Where the per-request state lives in the ASGI scope (shared by scope copies).
SCOPE_KEY = "ai_disclosure"

_HEADER = HEADER_NAME.lower().encode("latin-1")
_NONCE_SENTINEL = "aidisclosurenoncesentinel"
_NONCE_SENTINEL_BYTES = _NONCE_SENTINEL.encode("ascii")
_STYLE_SENTINEL = "aidisclosurestylenoncesentinel"
_STYLE_SENTINEL_BYTES = _STYLE_SENTINEL.encode("ascii")
_NONCE = re.compile(rb"'nonce-([A-Za-z0-9+/_=-]{1,200})'", re.IGNORECASE)
#: Where a script's or a stylesheet's nonce is read, most specific first (CSP Level 3).
_SCRIPT_DIRECTIVES = (b"script-src-elem", b"script-src", b"default-src")
_STYLE_DIRECTIVES = (b"style-src-elem", b"style-src", b"default-src")
#: 2xx answers that carry no page: no content, reset, a part of a file.
_NOT_A_PAGE = frozenset({204, 205, 206})
#: The injector's reasons that are no miss: the page has its own notice, or is blank.
_NOT_MISSED = frozenset({"marker", "empty", ""})
_UTF16_BOMS = (b"\xff\xfe", b"\xfe\xff")
#: Pages of declared length up to this are gathered whole before they change.
_COLLECT_LIMIT = 262144
_ASCII_COMPATIBLE = (
    "utf-8", "utf8", "us-ascii", "ascii", "iso-8859-", "iso8859-", "latin", "windows-12",
    "cp12", "koi8", "euc-", "gb2312", "gbk", "gb18030", "big5", "shift_jis",
)  # fmt: skip


class DisclosureRecorder(Protocol):
    """What the middleware needs from a disclosure logger: one cheap call per system."""

    def record(
        self, system: str, route: str, mode: str, notice_shown: bool, language: str | None
    ) -> None: ...


class RequestDisclosure:
    """Per-request state, reachable from handlers through the ASGI scope."""

    __slots__ = (
        "head_placed",
        "language",
        "middleware",
        "negotiated",
        "notice_placed",
        "path",
        "started",
        "systems",
    )

    def __init__(self, middleware: AIDisclosureMiddleware, path: str) -> None:
        self.middleware = middleware
        self.path = path
        self.systems: dict[str, System] | None = None  # set by disclose()
        self.started = False  # the response's headers have gone
        # Set by the template helpers when the app places the fragments itself:
        self.notice_placed = False
        self.head_placed = False
        self.language: str | None = None
        self.negotiated = False

    @property
    def manifest(self) -> Manifest:
        return self.middleware.manifest

    def add(self, system_ids: Iterable[str]) -> None:
        if self.started:
            # The header has gone out saying otherwise: failing loudly beats a false
            # statement to the public.
            raise RuntimeError(
                "disclose() was called after the response started; call it before "
                "returning the response (for a streamed answer, before the first chunk)"
            )
        if self.systems is None:
            self.systems = {}
        for system_id in system_ids:
            self.systems[system_id] = self.manifest.system(system_id)

    def involved(self) -> tuple[System, ...]:
        """The systems this response involves so far: its route rule's, then disclosed."""
        match = self.middleware._route(self.path)[2]
        found = {s.id: s for s in match.systems} if match else {}
        found.update(self.systems or {})
        return tuple(found.values())


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to say for one combination of systems, computed once."""

    key: tuple[str, ...]
    found: Involvement
    headers: tuple[tuple[bytes, bytes], ...]


#: A path's route rule: its plan, its template, its match (None: no rule matched).
_Routed = tuple[_Plan, str, Match | None]


class AIDisclosureMiddleware:
    """Wrap an ASGI app so every response tells whether AI was involved.

    ``manifest`` is a loaded ``Manifest``, a path to a ``.toml``/``.json`` file or
    a mapping. ``position`` places the notice: ``"after-skip-links"`` (the
    default: right after the page's leading skip links, else at the body start),
    ``"body-start"``, ``"body-end"`` or ``"placeholder"`` (at the page's
    ``<!--ai-disclosure-notice-->``). ``prefix`` is where the public
    manifest and the widget assets are served. ``logger`` receives one
    ``record()`` call per AI system per tagged response.
    """

    def __init__(
        self,
        app: ASGIApp,
        manifest: Manifest | str | os.PathLike[str] | Mapping[str, Any],
        *,
        position: Position | str = Position.AFTER_SKIP_LINKS,
        prefix: str = "/.well-known/ai-disclosure",
        inject: bool = True,
        logger: DisclosureRecorder | None = None,
    ) -> None:
        self.app = app
        self.manifest = load_manifest(manifest)
        self.position = Position(position)
        self.prefix = prefix.rstrip("/")
        self.inject = inject
        self.logger = logger
        self.router = Router(self.manifest)
        #: What the template helpers (``disclosure_head``/``disclosure_notice``) render.
        self.templates = TemplateFragments(self.manifest, self.prefix)
        self.misses = Misses()
        self.assets = Assets(self.manifest, self.prefix)
        self.languages = tuple(
            lang for lang in self.manifest.service.languages if lang in notice_languages()
        ) or (self.manifest.service.default_language,)
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._by_path: PathCache[_Routed] = PathCache()
        self._fragments: dict[
            tuple[tuple[str, ...], str, bool, bool], tuple[bytes, bytes, bytes]
        ] = {}
        self.no_ai = self.plan({})
        self._route_plans = {
            route.path: self.plan({sid: self.manifest.system(sid) for sid in route.systems})
            for route in self.manifest.routes
        }

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            if scope["type"] == "lifespan" and self.logger is not None:
                await self._lifespan(scope, receive, send)
                return
            await self.app(scope, receive, send)
            return
        if scope["path"].startswith(self.prefix) and await self.assets(scope, receive, send):
            return
        state = scope[SCOPE_KEY] = RequestDisclosure(self, scope["path"])
        responder: _Responder | None = None
        by_path = self._by_path

        def send_with_disclosure(message: Message) -> Awaitable[None]:
            # The hot path: most responses only need two headers added. A plain
            # function handing back the server's own awaitable saves a coroutine
            # frame per message.
            nonlocal responder
            if responder is not None:
                return responder.send(message)
            if message["type"] != "http.response.start":
                return send(message)
            state.started = True
            if state.systems is None:  # no disclose() call: the route decides alone
                found = by_path.get(state.path)
                plan, route, _ = found if found is not None else self._route(state.path)
            else:
                plan, route = self._plan_for(scope, state)
            headers, app_spoke = _add_headers(message.get("headers", ()), plan.headers)
            message["headers"] = headers
            if app_spoke or not plan.found.involves_ai:
                # An app that sets AI-Disclosure speaks for itself (or an inner
                # AIDisclosureMiddleware did): a notice or a count would contradict it.
                return send(message)
            status: int = message["status"]
            if not 200 <= status < 300 or status in _NOT_A_PAGE:
                # A redirect, an error page, an empty or a partial answer is not the
                # AI's work shown to someone: nothing is shown or counted (the header
                # still describes the route).
                return send(message)
            if scope.get("method") == "HEAD":
                # A HEAD shows nobody anything: not counted. Its length would be the
                # app's, without the notice GET adds: say none rather than a wrong one.
                if self.inject and not state.notice_placed and _page(headers)[0]:
                    drop(headers, b"content-length")
                    weaken_etag(headers)
                return send(message)
            if state.notice_placed:
                if state.negotiated:
                    add_vary(headers, b"Accept-Language")
                self._record(plan, route, notice_shown=True, language=state.language)
                return send(message)
            if self.inject:
                ok, coding, miss = _page(headers)
                fetched = _fetched(scope) if ok else _NAVIGATION
                if fetched is _FRAGMENT:
                    # A piece a script puts into a page already shown (htmx, Turbo
                    # frames, XHR): that page carries the notice, not the piece.
                    ok = False
                if ok:
                    # Held until the first body message decides how the page changes.
                    responder = _Responder(self, scope, state, send, plan, route, message)
                    if coding is not None:
                        responder.recoder = Recoder(coding)
                    responder.needs_document = fetched is _SCRIPTED
                    return _done()
                if miss is not None:
                    self.misses.report(route, miss)
            self._record(plan, route, notice_shown=False, language=None)
            return send(message)

        await self.app(scope, receive, send_with_disclosure)

    def _plan_for(self, scope: Scope, state: RequestDisclosure) -> tuple[_Plan, str]:
        """Systems from the route rule and from ``disclose()`` calls, combined, and
        the route template that logs may name (never the raw path)."""
        plan, route, match = self._route(state.path)
        extra = state.systems
        if not extra:
            return plan, route
        if match is not None:
            return self.plan({**{s.id: s for s in match.systems}, **extra}), route
        template = getattr(scope.get("route"), "path", None)
        if not (isinstance(template, str) and template.startswith("/")):
            template = "/*"
        return self.plan(extra), template

    def _route(self, path: str) -> _Routed:
        """The plan of a path's route rule, the template logs may name (never the
        raw path) and the rule's match; cached per path."""
        found = self._by_path.get(path)
        if found is None:
            match = self.router.match(path)
            if match is None:
                found = (self.no_ai, "/*", None)
            else:
                found = (self._route_plans[match.template], match.template, match)
            self._by_path.remember(path, found)
        return found

    def _record(self, plan: _Plan, route: str, notice_shown: bool, language: str | None) -> None:
        logger = self.logger
        if logger is None:
            return
        mode = plan.found.ietf_mode
        for system in plan.found.systems:
            logger.record(system.id, route, mode, notice_shown, language)

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start and stop the logger with the app, when it has start/aclose."""
        logger: Any = self.logger

        async def wrapped_receive() -> Message:
            message = await receive()
            if message["type"] == "lifespan.startup" and hasattr(logger, "start"):
                await logger.start()
            elif message["type"] == "lifespan.shutdown" and hasattr(logger, "aclose"):
                await logger.aclose()
            return message

        await self.app(scope, wrapped_receive, send)

    # --- cached per combination of systems: headers and rendered fragments ---

    def plan(self, systems: Mapping[str, System]) -> _Plan:
        """The plan for a set of systems (cached: a manifest has few combinations)."""
        key = tuple(sorted(systems))
        found = self._plans.get(key)
        if found is None:
            combined = involvement(systems.values())
            headers = [(_HEADER, serialize_header(header_for(combined)).encode("latin-1"))]
            if combined.involves_ai:
                urls = (self._entry(s) for s in combined.systems)
                headers.append((b"link", link_header(urls).encode("latin-1")))
            found = self._plans[key] = _Plan(key, combined, tuple(headers))
        return found

    def _entry(self, system: System) -> str:
        """The system's register entry; without a register, the declaration this
        middleware serves under its prefix."""
        url = self.manifest.register_url_for(system)
        return self.prefix if url == ASSET_PREFIX else url

    def fragments(
        self,
        key: tuple[str, ...],
        systems: tuple[System, ...],
        language: str,
        own_lang: bool,
        legacy: bool,
    ) -> tuple[bytes, bytes, bytes]:
        """(head with nonce sentinels, head without nonces, notice) as bytes ready to
        insert, rendered once per combination; ``legacy`` gives them as ASCII with
        character references, which read right in any ASCII-compatible charset."""
        cache_key = (key, language, own_lang, legacy)
        found = self._fragments.get(cache_key)
        if found is None:
            manifest, prefix = self.manifest, self.prefix
            page_language = language if own_lang else None
            texts = (
                render_head(
                    manifest,
                    systems,
                    language,
                    nonce=_NONCE_SENTINEL,
                    style_nonce=_STYLE_SENTINEL,
                    asset_prefix=prefix,
                ),
                render_head(manifest, systems, language, asset_prefix=prefix),
                render_notice(
                    manifest, systems, language, page_language=page_language, asset_prefix=prefix
                ),
            )
            if legacy:
                head, plain, notice = (t.encode("ascii", "xmlcharrefreplace") for t in texts)
            else:
                head, plain, notice = (t.encode("utf-8") for t in texts)
            found = self._fragments[cache_key] = (head, plain, notice)
        return found


def _charset(content_type: bytes) -> str | None:
    for param in content_type.split(b";")[1:]:
        key, _, value = param.strip().partition(b"=")
        if key.strip().lower() == b"charset":
            return value.strip().strip(b"\"'").decode("latin-1").lower()
    return None


def _page(headers: list[tuple[bytes, bytes]]) -> tuple[bool, bytes | None, str | None]:
    """Whether the body is an HTML page this middleware may safely change: (yes,
    the content-coding to undo first or None, why not when it is a page that
    should have shown the notice)."""
    content_type = b""
    coding: bytes | None = None
    for key, value in headers:
        name = key.lower()
        if name == b"content-type":
            content_type = value.lower()
        elif name == b"content-encoding":
            coding = value.strip().lower()
        elif name == b"content-range" or (
            name == b"content-disposition" and value.strip().lower().startswith(b"attachment")
        ):
            return False, None, None  # a part of a file, or a download: not a page view
        elif name == b"cache-control" and b"no-transform" in value.lower():
            miss: str | None = "no-transform"
            break
    else:
        miss = None
    media = content_type.split(b";", 1)[0].strip()
    if media != b"text/html":
        # application/xhtml+xml goes to an XML parser, which would reject the HTML
        # fragments (void elements, bare attributes): headers only, page untouched.
        return False, None, "xhtml" if media == b"application/xhtml+xml" else None
    if miss is not None:
        return False, None, miss
    charset = _charset(content_type)
    if charset is not None and not charset.startswith(_ASCII_COMPATIBLE):
        return False, None, "charset"
    if coding in (None, b"", b"identity"):
        return True, None, None
    assert coding is not None
    if decodable(coding):
        return True, coding, None
    return False, None, "encoding"


_NAVIGATION, _SCRIPTED, _FRAGMENT = object(), object(), object()
#: Sec-Fetch-Dest values of a page shown as a page (navigation, frames, embeds).
_DOCUMENT_DESTS = frozenset({b"document", b"iframe", b"frame", b"fencedframe", b"embed", b"object"})
_DOCUMENT_STARTS = (b"<!doctype", b"<html", b"<!--", b"<?xml", b"<head", b"<title", b"<meta")


def _fetched(scope: Scope) -> object:
    """How the page was asked for: as a page (``_NAVIGATION``), by a script that
    may show it whole or put a piece of it in a page (``_SCRIPTED``: Turbo Drive
    and htmx boosting swap whole pages; a bare fetch may take a fragment), or as a
    fragment for sure (``_FRAGMENT``: htmx without boosting, Turbo frames, XHR)."""
    found = _NAVIGATION
    htmx = boosted = False
    for key, value in scope.get("headers", ()):
        if key == b"sec-fetch-dest":
            if value.lower() not in _DOCUMENT_DESTS:
                found = _SCRIPTED
        elif key == b"hx-request":
            htmx = True
        elif key == b"hx-boosted":
            boosted = True
        elif key == b"turbo-frame" or (
            key == b"x-requested-with" and value.lower() == b"xmlhttprequest"
        ):
            return _FRAGMENT
    if htmx:
        # htmx swaps the whole body of a boosted link's page, else a piece.
        return _SCRIPTED if boosted else _FRAGMENT
    return found


def _fragment(start: bytes) -> bool:
    """Whether a body starts as a piece of a page rather than a whole one."""
    start = start.lstrip(b" \t\r\n\f").removeprefix(b"\xef\xbb\xbf").lstrip()
    return bool(start) and not start[:9].lower().startswith(_DOCUMENT_STARTS)


async def _done() -> None:
    """An awaitable that does nothing: the start message is held, not sent yet."""


def _add_headers(
    app_headers: Iterable[tuple[bytes, bytes]], ours: tuple[tuple[bytes, bytes], ...]
) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The app's headers plus ours, the app's winning; and whether the app set
    ``AI-Disclosure`` itself."""
    headers = list(app_headers)
    # One C-level look at all names first: most apps set neither header.
    names = b"\n".join([key for key, _ in headers]).lower()
    if _HEADER not in names and b"link" not in names:
        headers.extend(ours)
        return headers, False
    has_disclosure = has_link = False
    for key, value in headers:
        name = key.lower()
        if name == _HEADER:
            has_disclosure = True
        elif name == b"link" and b"ai-disclosure" in value:
            has_link = True
    if has_disclosure:
        return headers, True  # the app speaks for itself: add nothing to what it said
    for name, value in ours:
        if not (name == b"link" and has_link):
            headers.append((name, value))
    return headers, has_disclosure


class _Responder:
    """Per-request state machine for a page that may get the notice."""

    __slots__ = (
        "_collected",
        "_send",
        "choose",
        "content_type",
        "ended",
        "fed",
        "injector",
        "language",
        "left_alone",
        "middleware",
        "needs_document",
        "plan",
        "recoder",
        "route",
        "scope",
        "start",
        "state",
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
    ) -> None:
        self.middleware = middleware
        self.scope = scope
        self.state = state
        self._send = send
        self.plan = plan
        self.route = route
        self.start: Message | None = start
        self.content_type = first(start["headers"], b"content-type") or b""
        self.injector: Injector | None = None
        self.recoder: Recoder | None = None
        self.language: str | None = None
        self.fed = False  # some page bytes went through the injector
        self.needs_document = False  # fetched by a script: inject only into a whole page
        self.ended = False  # the page was ended early (corrupt): drop what follows
        self.left_alone: str | None = None  # why the page passes unchanged, once known
        # Body messages of a page of known, small length, gathered so its
        # Content-Length can stay exact (WSGI bridges send a page in two messages).
        self._collected: list[bytes] | None = None

    async def send(self, message: Message) -> None:
        if message["type"] != "http.response.body":
            if self.start is not None:  # e.g. http.response.pathsend: nothing to change
                start, self.start = self.start, None
                await self._send(start)
                self.middleware.misses.report(self.route, "file")
                self._log(notice_shown=False)
            await self._send(message)
        elif self.start is not None:
            await self._on_first_body(message)
        elif self.injector is not None:
            await self._on_body(message)
        elif not self.ended:
            await self._send(message)

    async def _on_first_body(self, message: Message) -> None:
        start = self.start
        assert start is not None
        body: bytes = message.get("body", b"")
        more: bool = message.get("more_body", False)
        collected = self._collected
        if collected is not None or (more and self._worth_collecting(start, body)):
            if collected is None:
                collected = self._collected = []
            collected.append(body)
            if more and sum(map(len, collected)) <= _COLLECT_LIMIT:
                return  # still gathering a page of known length
            self._collected = None
            body = message["body"] = b"".join(collected)
        self.start = None
        headers: list[tuple[bytes, bytes]] = start["headers"]
        if self.state.notice_placed:
            # The app placed the notice itself: nothing to change.
            await self._untouched(start, message, notice_shown=True)
            return
        injector = self.injector = self._make_injector(headers)
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
        if self.choose(injector.page_language or None)[1]:
            add_vary(headers, b"Accept-Language")
        if not more:
            if injector.injected:
                set_content_length(headers, len(output))
                weaken_etag(headers)
                message["body"] = output
            elif first(headers, b"content-length") is None:
                # Unchanged: the app's own bytes and ETag, and a length it did not give.
                set_content_length(headers, len(body))
            await self._send(start)
            await self._send(message)
            self._done(injector)
            return
        # Streaming: the final length is unknown, so the declared one must go.
        drop(headers, b"content-length")
        weaken_etag(headers)
        await self._send(start)
        message["body"] = output
        await self._send(message)

    async def _untouched(self, start: Message, message: Message, notice_shown: bool) -> None:
        """Send the page as the app did; what follows passes as it comes."""
        self.injector = None
        await self._send(start)
        await self._send(message)
        self._log(notice_shown=notice_shown)

    def _check_start(self, piece: bytes) -> None:
        """The page's first (decoded) bytes say whether it may change at all; when not,
        ``left_alone`` says why ("" when it is no miss)."""
        if piece[:2] in _UTF16_BOMS:
            self.left_alone = "charset"  # UTF-16 (BOM): ASCII fragments would break it
        elif self.needs_document and _fragment(piece):
            self.left_alone = ""  # fetched by a script, a piece of a page: not a page view

    def _worth_collecting(self, start: Message, body: bytes) -> bool:
        """A body of declared length small enough to gather before deciding."""
        length = first(start["headers"], b"content-length")
        return (
            length is not None and length.isdigit() and len(body) <= int(length) <= _COLLECT_LIMIT
        )

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

    def _make_injector(self, headers: list[tuple[bytes, bytes]]) -> Injector:
        middleware = self.middleware
        found = self.plan.found
        manifest = middleware.manifest
        accept = None
        for key, value in self.scope.get("headers", ()):
            if key == b"accept-language":
                accept = value.decode("latin-1")
                break
        nonce = _csp_nonce(headers, _SCRIPT_DIRECTIVES)
        style_nonce = _csp_nonce(headers, _STYLE_DIRECTIVES)
        charset = _charset(self.content_type)
        legacy = charset is None or not charset.startswith(("utf-8", "utf8"))

        def choose(page_lang: str | None) -> tuple[str, bool]:
            return choose_language(
                middleware.languages, manifest.service.default_language, page_lang, accept
            )

        def render(page_lang: str | None) -> tuple[bytes, bytes]:
            language, _ = choose(page_lang)
            self.language = language
            own_lang = page_lang is not None and page_lang.split("-")[0] == language
            head, plain, notice = middleware.fragments(
                self.plan.key, found.systems, language, own_lang, legacy
            )
            if self.state.head_placed:
                head = b""  # the app's template carries it already
            elif nonce is None and style_nonce is None:
                head = plain
            else:
                head = _with_nonce(head, _NONCE_SENTINEL_BYTES, nonce)
                head = _with_nonce(head, _STYLE_SENTINEL_BYTES, style_nonce)
            return head, notice

        self.choose = choose
        return Injector(b"", b"", middleware.position, render=render)

    def _log(self, notice_shown: bool) -> None:
        language = self.language if notice_shown else None
        self.middleware._record(self.plan, self.route, notice_shown, language)


def _csp_nonce(headers: list[tuple[bytes, bytes]], governing: tuple[bytes, ...]) -> str | None:
    """The nonce the page's CSP allows scripts (or stylesheets) with: from the
    directive that governs them (a nonce for styles would not let a script run)."""
    for key, value in headers:
        if key.lower() != b"content-security-policy":
            continue
        directives: dict[bytes, bytes] = {}
        for directive in value.split(b";"):
            name, _, sources = directive.strip().partition(b" ")
            directives.setdefault(name.lower(), sources)
        for name in governing:
            if name in directives:
                found = _NONCE.search(directives[name])
                if found:
                    return found.group(1).decode("ascii")
                break  # this directive governs them, and it has no nonce
    return None


def _with_nonce(head: bytes, sentinel: bytes, nonce: str | None) -> bytes:
    if nonce is None:
        return head.replace(b' nonce="' + sentinel + b'"', b"")
    return head.replace(sentinel, nonce.encode("ascii"))
