"""The ASGI middleware: tag every response, inject the notice into HTML pages.

A stateless middleware object creates one ``_Responder`` per HTTP request (the
shape of ``starlette.middleware.gzip``). The responder holds
``http.response.start`` back until it knows whether the body will change, then:

* adds ``AI-Disclosure`` (and ``Link`` when AI is involved) to every response;
* streams HTML pages that involve AI through the sans-I/O ``Injector``, fixing
  ``Content-Length`` and weakening a strong ``ETag``;
* leaves every body it cannot safely change untouched;
* records one increment per system in the disclosure log - a dict update, no I/O.

This module decides what each response says and whether its page may get the
notice (``_pagecheck``: which responses are pages, how they were asked for);
``_responder`` carries a page through the injector, ``_csp`` gives the head
fragment the page's nonces.
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from ._assets import Assets
from ._csp import _NONCE_SENTINEL, _STYLE_SENTINEL
from ._encoding import Recoder
from ._headers import HEADER_NAME, header_for, link_header, serialize_header
from ._inject import Position
from ._language import choose_language
from ._manifest import load_manifest
from ._misses import Misses
from ._model import Involvement, Manifest, System, involvement
from ._notice import (
    ASSET_PREFIX,
    TemplateFragments,
    in_ascii,
    render_head,
    render_notice,
    same_language,
    service_languages,
)
from ._pagecheck import _FRAGMENT, _NAVIGATION, _SCRIPTED, PageHeaders, _fetched
from ._rawheaders import add_vary, changed_body
from ._responder import _Responder, nothing
from ._routing import Match, PathCache, Router
from ._types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["SCOPE_KEY", "AIDisclosureMiddleware", "DisclosureRecorder", "RequestDisclosure"]

#: Where the per-request state lives in the ASGI scope (shared by scope copies).
SCOPE_KEY = "ai_disclosure"

_HEADER = HEADER_NAME.lower().encode("latin-1")
#: 2xx answers that carry no page: no content, reset, a part of a file.
_NOT_A_PAGE = frozenset({204, 205, 206})


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
        if not self.systems:  # the route's alone (a rule names each system once)
            return match.systems if match else ()
        found = {s.id: s for s in match.systems} if match else {}
        found.update(self.systems or {})
        return tuple(found.values())


@dataclass(frozen=True, slots=True)
class _Plan:
    """What to say for one combination of systems, computed once."""

    key: tuple[str, ...]
    found: Involvement
    headers: tuple[tuple[bytes, bytes], ...]
    ai: bool  # ``found.involves_ai``, read on every response


#: A path's route rule: its plan, its template, its match (None: no rule matched).
_Routed = tuple[_Plan, str, Match | None]
#: (systems, legacy charset, page language, Accept-Language) of a page.
_RenderKey = tuple[tuple[str, ...], bool, str | None, str | None]
#: The notice's language, Vary: Accept-Language, head with nonce sentinels, head
#: without nonces, notice.
_Rendered = tuple[str, bool, bytes, bytes, bytes]
#: Combinations kept; past it the cache starts again (readers choose Accept-Language).
_RENDERED_LIMIT = 1024


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
        self.languages = service_languages(self.manifest)
        self._plans: dict[tuple[str, ...], _Plan] = {}
        self._by_path: PathCache[_Routed] = PathCache()
        self._fragments: dict[
            tuple[tuple[str, ...], str, bool, bool], tuple[bytes, bytes, bytes]
        ] = {}
        self._rendered: dict[_RenderKey, _Rendered] = {}
        self._choices: dict[tuple[str | None, str | None], tuple[str, bool]] = {}
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
            if app_spoke or not plan.ai:
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
                if self.inject and not state.notice_placed and PageHeaders(headers).ok:
                    changed_body(headers, None)
                return send(message)
            if state.notice_placed:
                if state.negotiated:
                    add_vary(headers, b"Accept-Language")
                self._record(plan, route, notice_shown=True, language=state.language)
                return send(message)
            if self.inject:
                page = PageHeaders(headers)
                ok = page.ok
                fetched = _fetched(scope) if ok else _NAVIGATION
                if fetched is _FRAGMENT:
                    # A piece a script puts into a page already shown (htmx, Turbo
                    # frames, XHR): that page carries the notice, not the piece.
                    ok = False
                if ok:
                    # Held until the first body message decides how the page changes.
                    responder = _Responder(self, scope, state, send, plan, route, message, page)
                    if page.coding is not None:
                        responder.recoder = Recoder(page.coding)
                    responder.needs_document = fetched is _SCRIPTED
                    return nothing()  # the start is held, not sent yet
                if page.miss is not None:
                    self.misses.report(route, page.miss)
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
            found = self._plans[key] = _Plan(key, combined, tuple(headers), combined.involves_ai)
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
                head, plain, notice = (in_ascii(t).encode("ascii") for t in texts)
            else:
                head, plain, notice = (t.encode("utf-8") for t in texts)
            found = self._fragments[cache_key] = (head, plain, notice)
        return found

    def choose_language(self, page_language: str | None, accept: str | None) -> tuple[str, bool]:
        """``_language.choose_language`` among the service's languages, worked out
        once per (page language, ``Accept-Language``) (bounded: readers choose the
        latter)."""
        key = (page_language, accept)
        found = self._choices.get(key)
        if found is None:
            if len(self._choices) >= _RENDERED_LIMIT:
                self._choices.clear()
            found = self._choices[key] = choose_language(
                self.languages, self.manifest.service.default_language, page_language, accept
            )
        return found

    def rendered(
        self, plan: _Plan, legacy: bool, page_language: str | None, accept: str | None
    ) -> _Rendered:
        """Everything a page's fragments need that does not depend on its body: the
        notice's language, whether it depends on ``Accept-Language`` (Vary), and the
        fragments; one dict lookup per page once seen (bounded: ``Accept-Language``
        comes from readers)."""
        key = (plan.key, legacy, page_language, accept)
        found = self._rendered.get(key)
        if found is None:
            language, negotiated = self.choose_language(page_language, accept)
            own_lang = same_language(page_language, language)
            head, plain, notice = self.fragments(
                plan.key, plan.found.systems, language, own_lang, legacy
            )
            if len(self._rendered) >= _RENDERED_LIMIT:
                self._rendered.clear()
            found = self._rendered[key] = (language, negotiated, head, plain, notice)
        return found


def _add_headers(
    app_headers: Iterable[tuple[bytes, bytes]], ours: tuple[tuple[bytes, bytes], ...]
) -> tuple[list[tuple[bytes, bytes]], bool]:
    """The app's headers plus ours, the app's winning; and whether the app set
    ``AI-Disclosure`` itself."""
    headers = list(app_headers)
    # A first look at the names (an app sends a few): most set neither header.
    for key, _ in headers:
        name = key.lower()
        if name == _HEADER or name == b"link":
            break
    else:
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
