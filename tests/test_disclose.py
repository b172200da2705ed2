"""disclose() and the helpers for apps that place the notice themselves."""

from __future__ import annotations

import html
from types import SimpleNamespace

import httpx
import pytest
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ai_disclosure import (
    AIDisclosureMiddleware,
    disclose,
    disclosure_head,
    disclosure_notice,
    load_manifest,
)
from ai_disclosure._disclose import request_disclosure
from ai_disclosure._inject import MARKER
from ai_disclosure._middleware import SCOPE_KEY, RequestDisclosure
from ai_disclosure.testing import CapturingRecorder, assert_disclosed, assert_not_disclosed

from .conftest import EXAMPLE_MANIFEST

MANIFEST = load_manifest(EXAMPLE_MANIFEST)
TEMPLATE = (
    "<!doctype html><html lang=fr><head>{{ ai_disclosure_head(request, 'fr') }}</head>"
    "<body><main><h1>Page</h1>{{ ai_disclosure_notice(request, 'fr') }}</main></body></html>"
)


def templated_app() -> Starlette:
    env = Environment(autoescape=True)
    env.globals["ai_disclosure_head"] = disclosure_head
    env.globals["ai_disclosure_notice"] = disclosure_notice
    template = env.from_string(TEMPLATE)

    async def page(request: Request) -> Response:
        if request.query_params.get("answer"):
            disclose(request, "traduction-pages")
        return HTMLResponse(template.render(request=request))

    return Starlette(routes=[Route("/{path:path}", page)])


async def fetch(path: str, **headers: str) -> httpx.Response:
    app = AIDisclosureMiddleware(templated_app(), MANIFEST)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        return await client.get(path, headers=headers)


async def test_a_page_placing_the_notice_itself_gets_it_once_where_it_put_it() -> None:
    response = await fetch("/dechets/assistant")
    assert_disclosed(response, mode="ai-originated", notice=True)
    text = response.text
    assert text.index("<h1>Page</h1>") < text.index(MARKER.decode())  # where the app put it
    assert text.count('<meta name="ai-disclosure"') == 1


async def test_the_helpers_include_systems_disclosed_before_rendering() -> None:
    text = html.unescape((await fetch("/dechets/assistant?answer=1")).text)
    assert "Assistant tri des déchets" in text
    assert "Traduction automatique des pages" in text


async def test_no_ai_means_the_helpers_render_nothing() -> None:
    response = await fetch("/actualites")
    assert_not_disclosed(response)
    assert "ai-disclosure" not in response.text


def test_outside_the_middleware_the_helpers_say_how_to_fix_it() -> None:
    with pytest.raises(RuntimeError, match="wrap the app with AIDisclosureMiddleware"):
        disclosure_notice({"type": "http", "path": "/"})
    with pytest.raises(RuntimeError, match="wrap the app"):
        request_disclosure(object())


def test_a_wsgi_environ_reaches_the_asgi_scope() -> None:
    app = AIDisclosureMiddleware(templated_app(), MANIFEST)
    scope: dict[str, object] = {"type": "http", "path": "/x"}
    scope[SCOPE_KEY] = RequestDisclosure(app, "/x")
    disclose({"asgi.scope": scope}, "assistant-dechets")

    flask_like = SimpleNamespace(environ={"asgi.scope": scope})  # Werkzeug's request
    django_like = SimpleNamespace(META={"asgi.scope": scope})  # Django's WSGIRequest
    disclose(flask_like, "detection-fuites")
    disclose(django_like, "tri-courrier")
    state = request_disclosure(scope)
    assert [s.id for s in state.involved()] == [
        "assistant-dechets",
        "detection-fuites",
        "tri-courrier",
    ]


async def test_placed_notices_are_counted_as_shown_and_vary_when_negotiated() -> None:
    recorder = CapturingRecorder()
    env = Environment(autoescape=True)
    env.globals["notice"] = disclosure_notice
    template = env.from_string(
        "<!doctype html><html lang=fr><head></head><body>{{ notice(request, page_language='fr') }}"
    )

    async def page(request: Request) -> Response:
        return HTMLResponse(template.render(request=request))

    app = AIDisclosureMiddleware(Starlette(routes=[Route("/{p:path}", page)]), MANIFEST,
                                 logger=recorder)  # fmt: skip
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        english = await client.get("/dechets/assistant", headers={"Accept-Language": "en"})
    assert english.headers["vary"] == "Accept-Language"
    assert 'lang="en"' in english.text  # English inside a French page says so
    assert_disclosed(english, notice=True)
    assert recorder.records == [
        ("assistant-dechets", "/dechets/assistant*", "ai-originated", True, "en")
    ]


async def test_a_placed_head_alone_still_gets_the_notice_injected() -> None:
    env = Environment(autoescape=True)
    env.globals["head"] = disclosure_head
    template = env.from_string(
        "<!doctype html><html lang=fr><head>{{ head(request, 'fr') }}</head><body><main>x</main>"
    )

    async def page(request: Request) -> Response:
        return HTMLResponse(template.render(request=request))

    app = AIDisclosureMiddleware(Starlette(routes=[Route("/{p:path}", page)]), MANIFEST)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        response = await client.get("/dechets/assistant")
    assert response.text.count('<meta name="ai-disclosure"') == 1
    assert_disclosed(response, notice=True)
