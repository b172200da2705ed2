"""The ASGI middleware: every response tagged, HTML pages told, nothing broken."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi import Request as FastAPIRequest
from fastapi.responses import HTMLResponse as FastAPIHTML
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.responses import StreamingResponse as StarletteStreaming
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from ai_disclosure import AIDisclosureMiddleware, Position, disclose, load_manifest
from ai_disclosure._disclose import request_disclosure
from ai_disclosure._inject import MARKER
from ai_disclosure._schemas import validator
from ai_disclosure.testing import (
    CapturingRecorder,
    assert_disclosed,
    assert_not_disclosed,
    capture_missed_notices,
)

from .conftest import EXAMPLE_MANIFEST

PAGE = (
    "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Tri</title></head>"
    "<body><a href=#main>Aller au contenu</a><main id=main><h1>Déchets</h1></main></body></html>"
)
MANIFEST = load_manifest(EXAMPLE_MANIFEST)


def page_app(
    body: str | bytes = PAGE, status: int = 200, headers: dict[str, str] | None = None
) -> Starlette:
    async def endpoint(request: Request) -> Response:
        return HTMLResponse(body, status_code=status, headers=headers)

    return Starlette(routes=[Route("/{path:path}", endpoint, methods=["GET", "HEAD", "POST"])])


def client(app: Any, **options: Any) -> httpx.AsyncClient:
    wrapped = AIDisclosureMiddleware(app, MANIFEST, **options)
    return httpx.AsyncClient(transport=httpx.ASGITransport(wrapped), base_url="http://portail")


async def get(app: Any, path: str, method: str = "GET", **options: Any) -> httpx.Response:
    headers = options.pop("headers", {})
    async with client(app, **options) as http:
        return await http.request(method, path, headers=headers)


# Apps and a bare ASGI runner, shared with the responder, page check and CSP tests.


def raw_app(body: bytes, headers: list[tuple[bytes, bytes]], status: int = 200) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": body})

    return app


HTML = [(b"content-type", b"text/html; charset=utf-8")]


def streaming_app(chunks: list[bytes], log: list[str] | None = None) -> Any:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [*HTML, (b"etag", b'"s"')]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in chunks:
            if log is not None:
                log.append(f"app sent {len(chunk)}")
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


async def run_asgi(
    app: Any, path: str = "/dechets/assistant", method: str = "GET"
) -> list[dict[str, Any]]:
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
        "scheme": "http", "path": path, "raw_path": path.encode(), "query_string": b"",
        "headers": [], "server": ("127.0.0.1", 80), "client": ("127.0.0.1", 5000),
    }  # fmt: skip
    await AIDisclosureMiddleware(app, MANIFEST)(scope, receive, send)
    return sent


def gzip_app(body: str = PAGE, minimum_size: int = 10) -> Any:
    from starlette.middleware.gzip import GZipMiddleware

    return GZipMiddleware(page_app(body), minimum_size=minimum_size)


def two_message_app(body: bytes, headers: list[tuple[bytes, bytes]]) -> Any:
    """How WSGI bridges send a page: the body, then an empty last message."""

    async def app(scope: Any, receive: Any, send: Any) -> None:
        declared = [*headers, (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 200, "headers": declared})
        await send({"type": "http.response.body", "body": body, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    return app


# --- headers on every response ------------------------------------------------


async def test_a_page_without_ai_says_mode_none_and_is_untouched() -> None:
    response = await get(page_app(), "/actualites")
    assert_not_disclosed(response)
    assert "link" not in response.headers
    assert response.text == PAGE


@pytest.mark.parametrize("status", [200, 201, 301, 404, 500, 503])
async def test_every_status_is_tagged(status: int) -> None:
    response = await get(page_app(status=status), "/dechets/assistant")
    header = assert_disclosed(response, mode="ai-originated", model="mistral-small")
    assert header.provider == "Mistral AI"
    assert response.headers["link"] == (
        "<https://registre-ia.montpellier3m.example/systems/demarches/assistant-dechets>;"
        ' rel="ai-disclosure"'
    )


async def test_a_header_the_app_set_wins() -> None:
    app = page_app(
        headers={"AI-Disclosure": "mode=ai-modified", "Link": '</x>; rel="ai-disclosure"'}
    )
    response = await get(app, "/dechets/assistant")
    assert response.headers.get_list("ai-disclosure") == ["mode=ai-modified"]
    assert response.headers.get_list("link") == ['</x>; rel="ai-disclosure"']
    assert response.text == PAGE  # the app speaks for itself: no notice added


async def test_wrapping_twice_discloses_once() -> None:
    recorder = CapturingRecorder()
    inner = AIDisclosureMiddleware(page_app(), MANIFEST)
    response = await get(inner, "/dechets/assistant", logger=recorder)
    assert_disclosed(response, notice=True)
    assert len(response.headers.get_list("ai-disclosure")) == 1
    assert recorder.records == []  # the inner one speaks; the outer one does not double


async def test_other_links_of_the_app_are_kept_beside_ours() -> None:
    response = await get(
        page_app(headers={"Link": "</style.css>; rel=preload"}), "/dechets/assistant"
    )
    links = response.headers.get_list("link")
    assert links[0] == "</style.css>; rel=preload"
    assert links[1].endswith('rel="ai-disclosure"')


async def test_disclose_marks_a_response_at_run_time() -> None:
    async def answer(request: Request) -> Response:
        disclose(request, "assistant-dechets")
        return JSONResponse({"answer": "Le verre va dans le conteneur vert."})

    async def plain(request: Request) -> Response:
        return JSONResponse({})

    app = Starlette(routes=[Route("/api/answer", answer), Route("/api/plain", plain)])
    assert_disclosed(await get(app, "/api/answer"), mode="ai-originated")
    assert_not_disclosed(await get(app, "/api/plain"))


async def test_disclose_accepts_the_raw_scope_and_combines_with_routes() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        disclose(scope, "detection-fuites")
        await PlainTextResponse("ok")(scope, receive, send)

    response = await get(app, "/dechets/assistant")
    assert_disclosed(response, mode="ai-originated")
    assert len(response.headers["link"].split(", <")) == 2


async def test_disclose_rejects_unknown_ids_and_unwrapped_apps() -> None:
    async def typo(request: Request) -> Response:
        disclose(request, "assistant-dechet")
        return PlainTextResponse("never")

    app = Starlette(routes=[Route("/", typo)])
    with pytest.raises(KeyError, match="known: assistant-dechets"):
        await get(app, "/")
    with pytest.raises(RuntimeError, match="wrap the app with AIDisclosureMiddleware"):
        disclose({"type": "http"}, "assistant-dechets")


# --- HTML injection -----------------------------------------------------------


async def test_ai_page_gets_meta_json_ld_stylesheet_and_notice() -> None:
    response = await get(page_app(), "/dechets/assistant")
    assert_disclosed(response, notice=True)
    text = response.text
    head, body = text.split("</head>")
    assert (
        '<meta name="ai-disclosure" content="ai-autonomous" ai-model="mistral-small" '
        'ai-provider="Mistral AI">'
    ) in head
    json_ld = head.split('<script type="application/ld+json">')[1].split("</script>")[0]
    assert json.loads(json_ld)["digitalSourceType"].endswith("/trainedAlgorithmicMedia")
    assert 'href="/.well-known/ai-disclosure/ai-notice.css"' in head
    # Right after the skip link: "Skip to content" stays the first Tab stop.
    assert body.startswith("<body><a href=#main>Aller au contenu</a><ai-notice")
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.content.replace(b"\n", b"")  # decodes, is complete
    assert text.endswith("</body></html>")


@pytest.mark.parametrize(
    ("position", "before"),
    [
        (Position.BODY_START, "<a href=#main>"),
        (Position.BODY_END, "</body>"),
        (Position.PLACEHOLDER, "<main"),
    ],
)
async def test_position_is_configurable(position: Position, before: str) -> None:
    page = PAGE.replace("<main", "<!--ai-disclosure-notice--><main")
    response = await get(page_app(page), "/dechets/assistant", position=position)
    text = response.text
    notice_end = text.index("</ai-notice>") + len("</ai-notice>")
    assert text[notice_end:].startswith(before)


async def test_notice_speaks_the_pages_language() -> None:
    english = PAGE.replace("lang=fr", "lang=en")
    response = await get(page_app(english), "/dechets/assistant")
    assert "You are talking to an AI" in response.text
    assert "vary" not in response.headers


@pytest.mark.parametrize(("tag", "states_its_own"), [("zh-CN", False), ("zh", False), ("de", True)])
async def test_a_notice_in_the_pages_language_does_not_state_its_own(
    tag: str, states_its_own: bool
) -> None:
    # The rule render_notice follows: a zh-CN page reads the zh-Hans notice.
    data = json.loads(json.dumps(dict(MANIFEST.raw)))
    data["service"]["languages"] = ["fr", "zh-Hans"]
    wrapped = AIDisclosureMiddleware(page_app(PAGE.replace("lang=fr", f"lang={tag}")), data)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(wrapped), base_url="http://t") as c:
        text = (await c.get("/dechets/assistant")).text
    found = re.search(r"<ai-notice[^>]*>", text)
    assert found is not None
    assert ("lang=" in found.group(0)) is states_its_own


@pytest.mark.usefixtures("languages")
async def test_accept_language_is_negotiated_and_varies() -> None:
    page = PAGE.replace(" lang=fr", "")
    response = await get(
        page_app(page), "/dechets/assistant", headers={"Accept-Language": "ar, en;q=0.5"}
    )
    assert 'lang="ar" dir="rtl"' in response.text
    assert response.headers["vary"] == "Accept-Language"
    default = await get(page_app(page), "/dechets/assistant")
    assert "Vous échangez avec une IA" in default.text


async def test_manifest_strings_cannot_break_out() -> None:
    data = json.loads(json.dumps(dict(MANIFEST.raw)))
    data["service"]["name"] = "</script><script>alert(1)</script>"
    data["systems"][0]["purpose"]["fr"] = "<img src=x onerror=alert(1)>"
    wrapped = AIDisclosureMiddleware(page_app(), data)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(wrapped), base_url="http://t") as c:
        text = (await c.get("/dechets/assistant")).text
    assert "<script>alert(1)" not in text
    assert "<img src=x" not in text
    assert "&lt;img src=x onerror=alert(1)&gt;" in text


async def test_a_page_that_already_has_the_notice_gets_no_second_one() -> None:
    page = PAGE.replace("<main", "<aside data-ai-disclosure-notice>déjà là</aside><main")
    # body-start decides at <body>, before it could see the page's own notice: pages
    # that place it themselves say so with request_disclosure(...).notice_placed.
    for position in (Position.BODY_END, Position.PLACEHOLDER):
        response = await get(page_app(page), "/dechets/assistant", position=position)
        assert_disclosed(response, mode="ai-originated", notice=True)
        assert "déjà là" in response.text


async def test_legacy_charset_pages_get_character_references() -> None:
    page = PAGE.replace("Déchets", "D\xe9chets").encode("latin-1")
    app = page_app(headers={"Content-Type": "text/html; charset=iso-8859-1"})

    async def endpoint(request: Request) -> Response:
        return Response(page, media_type="text/html; charset=iso-8859-1")

    app = Starlette(routes=[Route("/{p:path}", endpoint)])
    response = await get(app, "/dechets/assistant")
    assert response.content.isascii() is False  # the page's own é is kept as it was
    assert b"&#233;" in response.content  # the notice's é works in any charset
    assert response.content.count(b"\xe9") == page.count(b"\xe9")


async def test_a_notice_placed_by_the_app_is_not_injected_again() -> None:
    async def endpoint(request: Request) -> Response:
        request_disclosure(request).notice_placed = True
        return HTMLResponse(PAGE)

    response = await get(Starlette(routes=[Route("/{p:path}", endpoint)]), "/dechets/assistant")
    assert response.text == PAGE
    assert_disclosed(response, mode="ai-originated")


# --- never break a response ----------------------------------------------------


async def test_a_page_without_optional_tags_gets_meta_and_notice_where_implied() -> None:
    page = b"<!doctype html><title>t</title><meta charset=utf-8><nav>menu</nav><p>fragment"
    response = await get(raw_app(page, HTML), "/dechets/assistant")
    head, body = response.text.split("<nav>")
    assert head.startswith("<!doctype html><title>t</title><meta charset=utf-8><meta name")
    assert head.count(MARKER.decode()) == 1  # right before <nav>, where the body starts
    assert body == "menu</nav><p>fragment"
    assert response.headers["content-length"] == str(len(response.content))


# --- what is not an HTTP response ---------------------------------------------------


async def test_lifespan_and_websockets_pass_through() -> None:
    events: list[str] = []

    async def ws(websocket: WebSocket) -> None:
        await websocket.accept()
        await websocket.send_text("bonjour")
        await websocket.close()

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        events.append("startup")
        yield
        events.append("shutdown")

    app = Starlette(routes=[WebSocketRoute("/dechets/assistant/ws", ws)], lifespan=lifespan)
    wrapped = AIDisclosureMiddleware(app, MANIFEST)

    async def talk(scope: dict[str, Any], inbound: list[dict[str, Any]]) -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return inbound.pop(0)

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        await wrapped(scope, receive, send)
        return sent

    lifespan_scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
    said = await talk(lifespan_scope, [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}])
    assert [m["type"] for m in said] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert events == ["startup", "shutdown"]
    ws_scope = {
        "type": "websocket", "asgi": {"version": "3.0"}, "scheme": "ws", "path":
        "/dechets/assistant/ws", "raw_path": b"/dechets/assistant/ws", "query_string": b"",
        "headers": [], "subprotocols": [], "client": ("127.0.0.1", 1), "server": ("t", 80),
    }  # fmt: skip
    said = await talk(ws_scope, [{"type": "websocket.connect"}])
    assert [m["type"] for m in said] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert said[1]["text"] == "bonjour"


# --- well-known endpoints ----------------------------------------------------------


async def test_well_known_manifest_is_valid_json() -> None:
    response = await get(page_app(), "/.well-known/ai-disclosure")
    assert response.headers["content-type"] == "application/json"
    data = response.json()
    assert list(validator("manifest").iter_errors(data)) == []
    assert data["service"]["id"] == "demarches"
    assert_not_disclosed(response)


@pytest.mark.parametrize(
    ("name", "media"), [("ai-notice.css", "text/css"), ("ai-notice.js", "text/javascript")]
)
async def test_widget_assets_are_cached_with_etags(name: str, media: str) -> None:
    async with client(page_app()) as http:
        first = await http.get(f"/.well-known/ai-disclosure/{name}")
        assert first.status_code == 200
        assert first.headers["content-type"].startswith(media)
        assert "max-age" in first.headers["cache-control"]
        etag = first.headers["etag"]
        again = await http.get(
            f"/.well-known/ai-disclosure/{name}", headers={"If-None-Match": etag}
        )
        assert again.status_code == 304
        assert again.content == b""
        head = await http.head(f"/.well-known/ai-disclosure/{name}")
        assert head.headers["content-length"] == str(len(first.content))


async def test_prefix_is_configurable_and_unknown_assets_reach_the_app() -> None:
    async with client(page_app(), prefix="/ia") as http:
        assert (await http.get("/ia/ai-notice.css")).status_code == 200
        assert (await http.get("/ia")).json()["service"]["id"] == "demarches"
        missing = await http.get("/ia/templates/notice.html")
        assert "<main" in missing.text  # not an asset: the app answered
        assert (await http.post("/ia/ai-notice.css")).status_code == 405


# --- logging hook ------------------------------------------------------------------


async def test_each_tagged_response_is_recorded_with_a_route_template() -> None:
    recorder = CapturingRecorder()

    async def answer(request: Request) -> Response:
        disclose(request, "detection-fuites")
        return JSONResponse({})

    app = Starlette(
        routes=[
            Route("/api/compteurs/{meter}/alerte", answer),
            Route("/{path:path}", lambda r: HTMLResponse(PAGE)),
        ]
    )
    async with client(app, logger=recorder) as http:
        await http.get("/dechets/assistant/question?texte=ou+va+le+verre")
        await http.get("/api/compteurs/0042-secret/alerte")
        await http.get("/actualites")  # no AI: nothing recorded
    assert recorder.records == [
        ("assistant-dechets", "/dechets/assistant*", "ai-originated", True, "fr"),
        ("detection-fuites", "/api/compteurs/{meter}/alerte", "machine-generated", False, None),
    ]
    assert not any("0042" in str(call) or "verre" in str(call) for call in recorder.records)


# --- frameworks ----------------------------------------------------------------------


async def test_fastapi_app() -> None:
    api = FastAPI()

    @api.get("/dechets/assistant", response_class=FastAPIHTML)
    async def assistant() -> str:
        return PAGE

    @api.post("/api/answer")
    async def answer(request: FastAPIRequest) -> dict[str, str]:
        disclose(request, "assistant-dechets")
        return {"answer": "bac jaune"}

    async with client(api) as http:
        page = await http.get("/dechets/assistant")
        assert_disclosed(page, notice=True)
        answered = await http.post("/api/answer")
        assert answered.json() == {"answer": "bac jaune"}
        assert_disclosed(answered, mode="ai-originated")


# --- what must never be said wrongly ---------------------------------------------------


async def test_disclose_after_the_response_started_fails_loudly() -> None:
    async def stream(request: Request) -> Response:
        async def chunks() -> AsyncIterator[bytes]:
            yield b"first words"
            disclose(request, "assistant-dechets")  # too late: the header has gone
            yield b"more"

        return StarletteStreaming(chunks(), media_type="text/plain")

    app = Starlette(routes=[Route("/api/stream", stream)])
    with pytest.raises(RuntimeError, match="after the response started"):
        await get(app, "/api/stream")


@pytest.mark.parametrize("status", [404, 500])
async def test_error_pages_get_no_notice_and_no_count(status: int) -> None:
    recorder = CapturingRecorder()
    response = await get(page_app(status=status), "/dechets/assistant", logger=recorder)
    assert_disclosed(response, mode="ai-originated", notice=False)  # the route's mode
    assert recorder.records == []


async def test_head_requests_are_not_counted() -> None:
    recorder = CapturingRecorder()
    await get(page_app(), "/dechets/assistant", method="HEAD", logger=recorder)
    assert recorder.records == []


async def test_an_app_that_speaks_for_itself_gets_no_link_either() -> None:
    response = await get(page_app(headers={"AI-Disclosure": "mode=none"}), "/dechets/assistant")
    assert_not_disclosed(response)
    assert "link" not in response.headers


async def test_json_in_scripts_survives_a_page_without_charset() -> None:
    async def endpoint(request: Request) -> Response:
        return Response(PAGE.encode(), headers={"Content-Type": "text/html"})  # no charset

    response = await get(Starlette(routes=[Route("/{p:path}", endpoint)]), "/dechets/assistant")
    body = response.content.decode("utf-8")
    scripts = [part.split("</script>")[0] for part in body.split("<script")[1:]]
    assert scripts
    assert not any("&#" in script for script in scripts)  # references are not read there
    assert "D\\u00e9marches" in body  # JSON escapes are, in any charset
    assert "&#233;" in body  # and the notice's text still reads right


# --- honest counts and lengths -----------------------------------------------------


async def test_head_never_announces_a_length_get_would_not_send() -> None:
    recorder = CapturingRecorder()
    get_response = await get(page_app(), "/dechets/assistant")
    head = await get(page_app(), "/dechets/assistant", method="HEAD", logger=recorder)
    assert head.headers.get("content-length") in (None, get_response.headers["content-length"])
    assert head.headers["etag" if "etag" in head.headers else "ai-disclosure"]
    assert_disclosed(head, mode="ai-originated")
    assert recorder.records == []  # a HEAD shows nobody anything


@pytest.mark.parametrize("status", [301, 302, 303, 304, 307, 404, 500])
async def test_redirects_and_errors_are_not_counted_nor_noticed(status: int) -> None:
    recorder = CapturingRecorder()
    response = await get(page_app(status=status), "/dechets/assistant", logger=recorder)
    assert recorder.records == []
    assert_disclosed(response, mode="ai-originated", notice=False)


async def test_a_post_redirected_after_an_ai_answer_counts_once() -> None:
    recorder = CapturingRecorder()

    async def ask(request: Request) -> Response:
        return Response(status_code=302, headers={"location": "/dechets/assistant/reponse"})

    app = Starlette(
        routes=[
            Route("/dechets/assistant/poser", ask, methods=["POST"]),
            Route("/dechets/assistant/reponse", lambda r: HTMLResponse(PAGE)),
        ]
    )
    async with client(app, logger=recorder) as http:
        response = await http.post("/dechets/assistant/poser", follow_redirects=True)
    assert_disclosed(response, notice=True)
    assert [r.notice_shown for r in recorder.records] == [True]


# --- never silent --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ([(b"content-type", b"application/xhtml+xml")], "xhtml"),
        ([*HTML, (b"cache-control", b"no-transform")], "no-transform"),
        ([(b"content-type", b"text/html; charset=utf-16")], "charset"),
        ([*HTML, (b"content-encoding", b"compress")], "encoding"),
    ],
)
async def test_an_ai_page_without_its_notice_is_logged_once_per_route(
    headers: list[tuple[bytes, bytes]], reason: str, caplog: pytest.LogCaptureFixture
) -> None:
    wrapped = AIDisclosureMiddleware(raw_app(PAGE.encode(), headers), MANIFEST)
    transport = httpx.ASGITransport(wrapped)
    with capture_missed_notices() as missed, caplog.at_level("WARNING", "ai_disclosure"):
        async with httpx.AsyncClient(transport=transport, base_url="http://p") as http:
            for path in ("/dechets/assistant", "/dechets/assistant/2", "/dechets/assistant/3"):
                await http.get(path)
            await http.get("/actualites")  # no AI: nothing to miss
    assert [(m.route, m.reason) for m in missed] == [("/dechets/assistant*", reason)] * 3
    warnings = [r.getMessage() for r in caplog.records if r.name == "ai_disclosure"]
    assert len(warnings) == 1
    assert "/dechets/assistant*" in warnings[0]
    assert "/dechets/assistant/2" not in warnings[0]


async def test_pages_that_are_not_page_views_are_not_misses() -> None:
    cases = [
        [*HTML, (b"content-disposition", b"attachment; filename=a.html")],
        [(b"content-type", b"application/json")],
        [*HTML, (b"content-range", b"bytes 0-10/100")],
    ]
    with capture_missed_notices() as missed:
        for headers in cases:
            await run_asgi(raw_app(PAGE.encode(), headers))
        placed = PAGE.replace("<body>", "<body><div data-ai-disclosure-notice></div>")
        await run_asgi(raw_app(placed.encode(), HTML))
    assert missed == []


async def test_without_a_register_the_link_names_the_declaration_under_its_prefix() -> None:
    raw = dict(MANIFEST.raw)
    raw["service"] = {k: v for k, v in raw["service"].items() if k != "register_url"}
    raw["systems"] = [{k: v for k, v in s.items() if k != "register_url"} for s in raw["systems"]]
    wrapped = AIDisclosureMiddleware(page_app(), raw, prefix="/ia")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(wrapped), base_url="http://p") as h:
        response = await h.get("/dechets/assistant")
    assert response.headers["link"] == '</ia>; rel="ai-disclosure"'


async def test_what_readers_ask_for_is_kept_bounded() -> None:
    """Languages and fragments are worked out once per ``Accept-Language``, and a
    crowd of distinct values (readers choose them) never grows the caches past
    their bound, nor changes what each reader gets."""
    from ai_disclosure import _middleware

    middleware = AIDisclosureMiddleware(page_app(PAGE), EXAMPLE_MANIFEST)
    assert "en" in middleware.languages
    plan = middleware._route("/dechets/assistant")[0]
    for n in range(3 * _middleware._RENDERED_LIMIT):
        accept = f"x-{n}, en;q=0.5"
        assert middleware.choose_language(None, accept) == ("en", True)
        assert middleware.rendered(plan, False, None, accept)[:2] == ("en", True)
        assert len(middleware._choices) <= _middleware._RENDERED_LIMIT
        assert len(middleware._rendered) <= _middleware._RENDERED_LIMIT
    assert middleware.choose_language("fr", "en") == ("fr", False)  # the page's own wins
