"""Small sites for the auditor: the demo, a register, and one broken site per failure.

Every site is an ASGI app served on its own 127.0.0.1 port (its own origin). The
baseline AI page (``GOOD``) passes every check; each broken site changes one
thing, so a test can assert that exactly that check fails, with its reason.
``no_ai`` uses no AI and declares nothing, as most sites on the web.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from ai_disclosure._types import ASGIApp, Receive, Scope, Send
from ai_disclosure.demo import wrapped_site

SITES = (
    "demo",
    "register",
    "good",
    "missing_header",
    "garbage_header",
    "no_meta",
    "meta_mismatch",
    "no_notice",
    "notice_lang",
    "register_404",
    "manifest_invalid",
    "manifest_mismatch",
    "robots",
    "deep",
    "wide",
    "crosslink",
    "other",
    "polite",
    "generic",
    "moved",
    "no_ai",
    "notice_only",
    "register_json",
    "own_register",
    "own_register_json",
)


class Hits:
    """Requests a site received: (method, path, start time), (method, path,
    ``Accept``), and the most that were in flight at once."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, str, float]] = []
        self.accepts: list[tuple[str, str, str]] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def paths(self, method: str = "GET") -> list[str]:
        return [path for m, path, _ in self.requests if m == method]

    def wrap(self, app: ASGIApp) -> ASGIApp:
        async def recorded(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            query = scope.get("query_string", b"").decode("latin-1")
            target = scope["path"] + (f"?{query}" if query else "")
            self.requests.append((scope["method"], target, time.monotonic()))
            accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
            self.accepts.append((scope["method"], scope["path"], accept))
            self.in_flight += 1
            self.most_in_flight = max(self.most_in_flight, self.in_flight)
            try:
                await app(scope, receive, send)
            finally:
                self.in_flight -= 1

        return recorded


def html(body: str, *, lang: str | None = "fr", head: str = "") -> str:
    lang_attr = f' lang="{lang}"' if lang is not None else ""
    return (
        f'<!doctype html><html{lang_attr}><head><meta charset="utf-8"><title>Page</title>'
        f"{head}</head><body>{body}</body></html>"
    )


def manifest(*routes: tuple[str, str], origin: str = "ai-originated") -> dict[str, Any]:
    """A valid manifest with one system, ``bot``, on the given (path, system) rules."""
    return {
        "service": {
            "id": "service",
            "name": "Service",
            "operator": "Ville",
            "contact": "mailto:ia@example.org",
            "default_language": "fr",
        },
        "systems": [
            {
                "id": "bot",
                "name": "Assistant",
                "interaction": "chatbot",
                "origin": origin,
                "human_review": False,
                "purpose": "Répondre aux questions.",
            }
        ],
        "routes": [{"path": path, "systems": [system]} for path, system in routes],
    }


@dataclass(frozen=True)
class AIPage:
    """The parts of an AI page; ``{register}`` in any of them is the register's URL."""

    headers: Mapping[str, str] = field(
        default_factory=lambda: {
            "AI-Disclosure": 'mode=ai-originated, provider="Ville"',
            "Link": '<{register}/systems/service/bot>; rel="ai-disclosure"',
        }
    )
    head: str = '<meta name="ai-disclosure" content="ai-autonomous">'
    body: str = (
        "<header><a href='/'>Accueil</a></header>"
        "<div data-ai-disclosure-notice><p>Vous échangez avec une IA.</p>"
        '<p><a href="{register}/systems/service/bot">Fiche du registre</a>'
        ' <a href="mailto:ia@example.org">Contact</a></p></div>'
        "<main><p>Posez votre question sur le tri.</p></main>"
    )
    lang: str | None = "fr"


GOOD = AIPage()


def _page(page: AIPage, register: str) -> Callable[[Request], Response]:
    def fill(text: str) -> str:
        return text.replace("{register}", register)

    def endpoint(request: Request) -> Response:
        body = html(fill(page.body), lang=page.lang, head=fill(page.head))
        headers = {name: fill(value) for name, value in page.headers.items()}
        return HTMLResponse(body, headers=headers)

    return endpoint


def _no_ai(links: str = "") -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        body = html(f"<main><h1>Accueil</h1><p>Bienvenue.</p>{links}</main>")
        return HTMLResponse(body, headers={"AI-Disclosure": "mode=none"})

    return endpoint


def ai_site(
    register: str,
    pages: Mapping[str, AIPage],
    *,
    declared: Any = None,
    robots: str | None = None,
    home_links: str = "",
) -> Starlette:
    """A home page without AI linking to ``pages``; the manifest ``declared`` (a
    rule ``/ai*`` for ``bot`` by default; a ``Response`` is served as is)."""
    links = "".join(f'<a href="{path}">{path}</a> ' for path in pages) + home_links
    routes = [Route("/", _no_ai(links))]
    routes += [Route(path, _page(page, register)) for path, page in pages.items()]
    document = manifest(("/ai*", "bot")) if declared is None else declared

    def well_known(request: Request) -> Response:
        if isinstance(document, Response):
            return document
        return JSONResponse(document, headers={"AI-Disclosure": "mode=none"})

    routes.append(Route("/.well-known/ai-disclosure", well_known))
    if robots is not None:
        text = robots
        routes.append(Route("/robots.txt", lambda request: PlainTextResponse(text)))
    return Starlette(routes=routes)


def prefers_html(accept: str) -> bool:
    """Whether an ``Accept`` value ranks ``text/html`` above ``application/json``
    (a plain reading of q-values, enough for the auditor's requests)."""

    def quality(media: str) -> float:
        for part in accept.lower().split(","):
            name, *params = (piece.strip() for piece in part.split(";"))
            if name == media:
                q = next((p[2:] for p in params if p.startswith("q=")), "1")
                return float(q)
        return 0.0

    return quality("text/html") > quality("application/json")


_ENTRY = b"<!doctype html><html lang='fr'><title>Registre</title><h1>Assistant</h1></html>"


def register_app() -> ASGIApp:
    """A register, its entries readable by people. Under /systems/ an HTML page
    (HEAD and GET); /get-only/ refuses HEAD (405) but answers GET; /untyped/
    answers HTML without a media type; /json/ answers JSON only; /negotiated/
    answers HTML to browsers and JSON to ``Accept: application/json``;
    /moved/X redirects to /systems/X; everything else is 404."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        path, method = scope["path"], scope["method"]
        accept = dict(scope["headers"]).get(b"accept", b"").decode("latin-1")
        status, content_type, body = 200, b"text/html; charset=utf-8", _ENTRY
        extra: list[tuple[bytes, bytes]] = []
        if path.startswith("/systems/"):
            pass
        elif path.startswith("/get-only/"):
            status = 200 if method == "GET" else 405
        elif path.startswith("/untyped/"):
            content_type = b""
        elif path.startswith("/json/") or (
            path.startswith("/negotiated/") and not prefers_html(accept)
        ):
            content_type, body = b"application/json", b'{"system": "bot"}'
        elif path.startswith("/negotiated/"):
            pass
        elif path.startswith("/moved/"):
            status, body = 302, b""
            extra = [(b"location", b"/systems/" + path.removeprefix("/moved/").encode())]
        else:
            status, content_type, body = 404, b"text/plain", b"not found"
        headers = [(b"content-length", str(len(body)).encode()), *extra]
        if content_type:
            headers.append((b"content-type", content_type))
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": b"" if method == "HEAD" else body})

    return app


def _plain(title: str, links: str = "") -> Callable[[Request], Response]:
    """A page that uses no AI and says nothing about it: no header, no meta."""

    def endpoint(request: Request) -> Response:
        return HTMLResponse(html(f"<main><h1>{title}</h1><p>Horaires.</p>{links}</main>"))

    return endpoint


def own_register(entry_lang: str = "fr", *, negotiates: bool = True) -> Starlette:
    """A site whose notice links to its own ``/.well-known/ai-disclosure`` (no
    register URL). ``negotiates``: it answers people an HTML page and machines
    (``Accept: application/json``) the manifest; else the manifest only."""
    document = manifest(("/ai*", "bot"))
    page = replace(
        GOOD,
        headers={
            "AI-Disclosure": "mode=ai-originated",
            "Link": '</.well-known/ai-disclosure>; rel="ai-disclosure"',
        },
        body="<div data-ai-disclosure-notice><p>Vous échangez avec une IA.</p>"
        '<a href="/.well-known/ai-disclosure">Fiche complète dans le registre</a></div>',
    )

    def well_known(request: Request) -> Response:
        headers = {"AI-Disclosure": "mode=none", "Vary": "Accept"}
        if negotiates and prefers_html(request.headers.get("accept", "")):
            text = html(
                "<main><h1>Intelligence artificielle : Assistant</h1></main>", lang=entry_lang
            )
            return HTMLResponse(text, headers=headers)
        return JSONResponse(document, headers=headers)

    return Starlette(
        routes=[
            Route("/", _no_ai('<a href="/ai">ai</a>')),
            Route("/ai", _page(page, "")),
            Route("/.well-known/ai-disclosure", well_known),
        ]
    )


def _chain(depth: int) -> list[Route]:
    """/d0 -> /d1 -> ... each a page without AI linking to the next."""
    return [Route(f"/d{n}", _no_ai(f'<a href="/d{n + 1}">next</a>')) for n in range(depth)]


def build(urls: Mapping[str, str]) -> tuple[dict[str, ASGIApp], dict[str, Hits]]:
    """Every site's app, given every site's base URL; and the request logs."""
    register = urls["register"]
    hits = {name: Hits() for name in SITES}
    garbage = replace(GOOD, headers={**GOOD.headers, "AI-Disclosure": "???garbage"})
    robot_mode = replace(GOOD, headers={**GOOD.headers, "AI-Disclosure": "mode=robot"})
    no_header = replace(GOOD, headers={"Link": GOOD.headers["Link"]})
    human = replace(
        GOOD,
        headers={**GOOD.headers, "AI-Disclosure": "mode=none"},
        head='<meta name="ai-disclosure" content="human-only">',
    )
    wrong_lang = replace(
        GOOD,
        body='<section lang="en"><div data-ai-disclosure-notice><p>You are talking to an AI.'
        "</p></div></section><main><p>Posez votre question.</p></main>",
    )
    own_lang = replace(
        GOOD,
        body='<div data-ai-disclosure-notice lang="en"><p>You are talking to an AI.</p></div>'
        "<main><p>Posez votre question.</p></main>",
    )
    dead_link = replace(
        GOOD,
        headers={**GOOD.headers, "Link": '<{register}/gone>; rel="ai-disclosure"'},
        body="<div data-ai-disclosure-notice><p>Vous échangez avec une IA.</p>"
        '<a href="{register}/get-only/bot">Registre</a></div>',
    )
    invalid = manifest(("/ai*", "bot"))
    invalid["systems"][0]["origin"] = "robotic"
    generic_page = AIPage(
        headers={"AI-Disclosure": "mode=ai-originated"},
        head='<meta name="ai-disclosure" content="ai-generated">',
        body="<article><h1>Budget</h1><p>Enquête de nos journalistes.</p></article>"
        '<aside aidisclosure="ai-generated"><p>Résumé IA : le budget augmente.</p></aside>',
    )
    notice_only = AIPage(headers={}, head="")
    json_register = replace(
        GOOD,
        headers={"AI-Disclosure": "mode=ai-originated"},
        body="<div data-ai-disclosure-notice><p>Vous échangez avec une IA.</p>"
        '<a href="{register}/json/bot">Fiche du registre</a></div>',
    )
    keyword_page = AIPage(
        headers={"AI-Disclosure": "mode=ai-modified"},
        head='<meta name="ai-disclosure" content="ai-assisted">',
        body="<main><p>Cette page a été traduite par une <b>IA</b>.</p></main>",
    )
    apps: dict[str, ASGIApp] = {
        "demo": wrapped_site(register_url=register),
        "register": register_app(),
        "good": ai_site(register, {"/ai": GOOD}),
        "missing_header": ai_site(register, {"/ai": no_header}),
        "garbage_header": ai_site(register, {"/ai": garbage, "/ai-robot": robot_mode}),
        "no_meta": ai_site(register, {"/ai": replace(GOOD, head="")}),
        "meta_mismatch": ai_site(
            register,
            {"/ai": replace(GOOD, head='<meta name="ai-disclosure" content="human-only">')},
        ),
        "no_notice": ai_site(
            register, {"/ai": replace(GOOD, body="<main><p>Posez votre question.</p></main>")}
        ),
        "notice_lang": ai_site(register, {"/ai": wrong_lang, "/ai-own": own_lang}),
        "register_404": ai_site(register, {"/ai": dead_link, "/ai-again": dead_link}),
        "manifest_invalid": ai_site(register, {"/ai": GOOD}, declared=invalid),
        "manifest_mismatch": ai_site(register, {"/ai": human, "/elsewhere": GOOD}),
        "robots": ai_site(
            register,
            {"/ai": GOOD},
            robots="User-agent: *\nDisallow: /private\n\n"
            "User-agent: ai-disclosure-check\nDisallow: /private\nDisallow: /no-auditors\n",
            home_links='<a href="/private/page">private</a> <a href="/no-auditors">x</a>',
        ),
        "deep": Starlette(routes=[Route("/", _no_ai('<a href="/d1">d1</a>')), *_chain(10)]),
        "wide": Starlette(
            routes=[
                Route("/", _no_ai("".join(f'<a href="/p{n}">p{n}</a>' for n in range(10)))),
                *(Route(f"/p{n}", _no_ai()) for n in range(10)),
            ]
        ),
        "crosslink": Starlette(
            routes=[
                Route(
                    "/",
                    _no_ai(
                        f'<a href="{urls["other"]}/x">other origin</a>'
                        '<a href="/same#part">same</a> <a href="/same">again</a>'
                        '<a href="mailto:a@example.org">mail</a>'
                        '<a href="javascript:void(0)">js</a> <a href="#top">top</a>'
                        '<a href="/file.pdf">pdf</a>'
                    ),
                ),
                Route("/same", _no_ai()),
                Route(
                    "/file.pdf",
                    lambda r: Response(b"%PDF-1.4" + b"0" * 100_000, media_type="application/pdf"),
                ),
            ]
        ),
        "other": Starlette(routes=[Route("/x", _no_ai())]),
        "polite": Starlette(
            routes=[
                Route("/", _no_ai('<a href="/a">a</a> <a href="/b">b</a>')),
                Route("/a", _no_ai()),
                Route("/b", _no_ai()),
            ]
        ),
        "generic": ai_site(
            register,
            {"/summary": generic_page, "/translated": keyword_page},
            declared=PlainTextResponse("Not Found", status_code=404),
        ),
        "no_ai": Starlette(
            routes=[
                Route("/", _plain("Accueil", '<a href="/piscine">p</a> <a href="/doc.pdf">d</a>')),
                Route("/piscine", _plain("Piscine", '<a href="/">accueil</a>')),
                Route("/doc.pdf", lambda r: Response(b"%PDF-1.4", media_type="application/pdf")),
            ]
        ),
        "notice_only": ai_site(
            register,
            {"/ai": notice_only},
            declared=PlainTextResponse("Not Found", status_code=404),
        ),
        "register_json": ai_site(
            register,
            {
                "/ai": json_register,
                "/ai-negotiated": replace(
                    json_register, body=json_register.body.replace("/json/", "/negotiated/")
                ),
                "/ai-untyped": replace(
                    json_register, body=json_register.body.replace("/json/", "/untyped/")
                ),
                "/ai-moved": replace(
                    json_register, body=json_register.body.replace("/json/", "/moved/")
                ),
            },
        ),
        "own_register": own_register(),
        "own_register_json": own_register(negotiates=False),
        "moved": Starlette(
            routes=[
                Route(
                    "/",
                    lambda r: Response(status_code=301, headers={"location": urls["good"] + "/"}),
                )
            ]
        ),
    }
    return {name: hits[name].wrap(app) for name, app in apps.items()}, hits
