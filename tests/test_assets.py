"""``GET /.well-known/ai-disclosure``: the page to browsers, the JSON to machines."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ai_disclosure import AIDisclosureMiddleware
from ai_disclosure._catalog import catalogs
from ai_disclosure._schemas import validator

from .servers import thread_server
from .test_declaration import CHROMIUM_ACCEPT, DECLARATION, FIREFOX_ACCEPT, MANIFEST, parse

pytestmark = pytest.mark.usefixtures("languages")
WELL_KNOWN = "/.well-known/ai-disclosure"
#: Today's body, byte for byte: what machines and the register already read.
JSON_BODY = json.dumps(dict(MANIFEST.raw), ensure_ascii=False, indent=2).encode("utf-8")
PAGE = (
    "<!doctype html><html lang={lang}><head><meta charset=utf-8><title>Tri</title></head>"
    "<body><a href=#main>Aller au contenu</a><main id=main><h1>Déchets</h1></main></body></html>"
)


async def page(request: Request) -> Response:
    """A page in ``?lang=`` (French by default), as a multilingual site serves it."""
    return HTMLResponse(PAGE.format(lang=request.query_params.get("lang", "fr")))


def wrapped(**options: Any) -> AIDisclosureMiddleware:
    app = Starlette(routes=[Route("/{path:path}", page)])
    return AIDisclosureMiddleware(app, MANIFEST, **options)


@asynccontextmanager
async def client(**options: Any) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(wrapped(**options))
    async with httpx.AsyncClient(transport=transport, base_url="http://portail") as http:
        yield http


async def fetch(path: str = WELL_KNOWN, method: str = "GET", **headers: str) -> httpx.Response:
    async with client() as http:
        return await http.request(method, path, headers=headers)


def is_page(response: httpx.Response, lang: str = "fr") -> bool:
    if not response.headers["content-type"].startswith("text/html"):
        return False
    root = parse(response.text)
    return root.get("lang") == lang


# --- Which representation ------------------------------------------------------------


@pytest.mark.parametrize("accept", [CHROMIUM_ACCEPT, FIREFOX_ACCEPT, "text/html"])
async def test_browsers_get_the_page(accept: str) -> None:
    response = await fetch(accept=accept)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert is_page(response)
    assert catalogs()["fr"]("declaration.title") in response.text
    assert response.headers["ai-disclosure"] == "mode=none"
    assert response.headers["content-length"] == str(len(response.content))
    # No script, no inline style, one stylesheet from the same origin: a policy says so.
    csp = response.headers["content-security-policy"]
    assert "default-src 'none'" in csp
    assert "style-src 'self'" in csp
    assert "script-src" not in csp


@pytest.mark.parametrize(
    "accept",
    [None, "*/*", "application/json", "application/json, text/html", "text/html;q=0.1, */*"],
)
async def test_machines_get_todays_json(accept: str | None) -> None:
    headers = {} if accept is None else {"accept": accept}
    async with client() as http:
        request = http.build_request("GET", WELL_KNOWN, headers=headers)
        if accept is None:
            del request.headers["accept"]  # httpx sends */* unless told
        response = await http.send(request)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.content == JSON_BODY
    data = response.json()
    assert list(validator("manifest").iter_errors(data)) == []
    assert data == DECLARATION
    assert "content-security-policy" not in response.headers
    assert "content-language" not in response.headers


async def test_format_in_the_query_overrides_accept() -> None:
    as_json = await fetch(f"{WELL_KNOWN}?format=json", accept=CHROMIUM_ACCEPT)
    assert as_json.content == JSON_BODY
    as_html = await fetch(f"{WELL_KNOWN}?format=html&lang=en", accept="application/json")
    assert is_page(as_html, "en")
    unknown = await fetch(f"{WELL_KNOWN}?format=pdf", accept=CHROMIUM_ACCEPT)
    assert is_page(unknown)


@pytest.mark.parametrize(
    ("query", "accept_language", "lang"),
    [
        ("", None, "fr"),
        ("", "ar-MA,ar;q=0.9,fr;q=0.5", "ar"),
        ("?lang=en", "ar", "en"),
        ("?lang=oc#assistant-dechets", None, "oc"),
        ("?lang=ja", "es", "es"),
        ("?lang=ja", "ja", "fr"),
        ("", "zh-CN", "zh-Hans"),
    ],
)
async def test_language_query_then_reader_then_service(
    query: str, accept_language: str | None, lang: str
) -> None:
    headers = {"accept": CHROMIUM_ACCEPT}
    if accept_language:
        headers["accept-language"] = accept_language
    response = await fetch(WELL_KNOWN + query, **headers)
    assert is_page(response, lang)
    assert parse(response.text).get("dir") == ("rtl" if lang == "ar" else "ltr")
    assert response.headers["content-language"] == lang


# --- Caches -----------------------------------------------------------------------------


async def test_vary_and_one_etag_per_representation() -> None:
    async with client() as http:
        answers = {
            "json": await http.get(WELL_KNOWN, headers={"accept": "application/json"}),
            "fr": await http.get(WELL_KNOWN, headers={"accept": CHROMIUM_ACCEPT}),
            "ar": await http.get(f"{WELL_KNOWN}?lang=ar", headers={"accept": CHROMIUM_ACCEPT}),
            "en": await http.get(
                WELL_KNOWN, headers={"accept": CHROMIUM_ACCEPT, "accept-language": "en"}
            ),
        }
        again = await http.get(WELL_KNOWN, headers={"accept": CHROMIUM_ACCEPT})
    for response in answers.values():
        assert response.headers["vary"] == "Accept, Accept-Language"
        assert response.headers["etag"].startswith('"')  # strong: the bytes are fixed
        assert "max-age" in response.headers["cache-control"]
    etags = [response.headers["etag"] for response in answers.values()]
    assert len(set(etags)) == len(etags)
    assert again.headers["etag"] == answers["fr"].headers["etag"]
    assert again.content == answers["fr"].content


async def test_not_modified_only_for_the_same_representation() -> None:
    async with client() as http:
        page = await http.get(WELL_KNOWN, headers={"accept": CHROMIUM_ACCEPT})
        etag = page.headers["etag"]
        same = await http.get(
            WELL_KNOWN, headers={"accept": CHROMIUM_ACCEPT, "if-none-match": etag}
        )
        assert same.status_code == 304
        assert same.content == b""
        assert same.headers["etag"] == etag
        assert same.headers["vary"] == "Accept, Accept-Language"
        weak = await http.get(
            WELL_KNOWN, headers={"accept": CHROMIUM_ACCEPT, "if-none-match": f'"x", W/{etag}'}
        )
        assert weak.status_code == 304
        # The same tag does not stand for the JSON nor for another language.
        as_json = await http.get(
            WELL_KNOWN, headers={"accept": "application/json", "if-none-match": etag}
        )
        assert as_json.status_code == 200
        assert as_json.content == JSON_BODY
        other = await http.get(
            f"{WELL_KNOWN}?lang=ar", headers={"accept": CHROMIUM_ACCEPT, "if-none-match": etag}
        )
        assert other.status_code == 200
        assert is_page(other, "ar")
        json_etag = as_json.headers["etag"]
        assert (
            await http.get(WELL_KNOWN, headers={"accept": "*/*", "if-none-match": json_etag})
        ).status_code == 304


async def test_head_says_what_get_sends() -> None:
    async with client() as http:
        for accept in (CHROMIUM_ACCEPT, "application/json"):
            got = await http.get(WELL_KNOWN, headers={"accept": accept})
            head = await http.head(WELL_KNOWN, headers={"accept": accept})
            assert head.status_code == 200
            assert head.content == b""
            assert head.headers["content-length"] == str(len(got.content))
            assert head.headers["content-type"] == got.headers["content-type"]
            assert head.headers["etag"] == got.headers["etag"]
            assert head.headers["vary"] == "Accept, Accept-Language"


async def test_other_methods_are_refused() -> None:
    response = await fetch(method="POST", accept=CHROMIUM_ACCEPT)
    assert response.status_code == 405
    assert response.headers["allow"] == "GET, HEAD"


async def test_pages_are_rendered_once_at_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    app = wrapped()
    calls: list[str] = []

    def counting(*args: Any, **kwargs: Any) -> str:
        calls.append("render")
        return ""

    # From here on, rendering would be visible: every answer must come from memory.
    monkeypatch.setattr("ai_disclosure._declaration.render_declaration", counting)
    monkeypatch.setattr("ai_disclosure._assets.render_declaration", counting)
    transport = httpx.ASGITransport(app)
    async with httpx.AsyncClient(transport=transport, base_url="http://portail") as http:
        for lang in ("fr", "ar", "en", "ca"):
            response = await http.get(f"{WELL_KNOWN}?lang={lang}", headers={"accept": "text/html"})
            assert is_page(response, lang)
    assert calls == []


# --- Served under the prefix, with its stylesheet ------------------------------------


async def test_stylesheet_is_served_under_the_prefix() -> None:
    async with client(prefix="/ia") as http:
        response = await http.get("/ia", headers={"accept": CHROMIUM_ACCEPT})
        assert is_page(response)
        [sheet] = [e for e in parse(response.text).iter("link") if e.get("rel") == "stylesheet"]
        assert sheet.get("href") == "/ia/declaration.css"
        css = await http.get("/ia/declaration.css")
        assert css.status_code == 200
        assert css.headers["content-type"] == "text/css; charset=utf-8"
        assert ".system:target" in css.text
        assert (await http.get("/ia", headers={"accept": "*/*"})).content == JSON_BODY
        assert "<h1>Déchets</h1>" in (await http.get(WELL_KNOWN)).text  # the app's page


async def test_the_notices_link_lands_on_the_system_in_the_readers_language() -> None:
    async with client() as http:
        response = await http.get("/dechets/assistant?lang=ar", headers={"accept": CHROMIUM_ACCEPT})
        root = parse(response.text)
        links = [
            a.get("href") or ""
            for host in root.iter()
            if host.get("data-ai-disclosure-notice") is not None
            for a in host.iter("a")
            if "#" in (a.get("href") or "")
        ]
        assert links == [f"{WELL_KNOWN}?lang=ar#assistant-dechets"]
        target = await http.get(links[0].split("#")[0], headers={"accept": CHROMIUM_ACCEPT})
        landed = parse(target.text)
        assert landed.get("lang") == "ar"
        [section] = [e for e in landed.iter("section") if e.get("id") == "assistant-dechets"]
        assert "مساعد فرز النفايات" in "".join(section.itertext())


def test_over_a_real_server() -> None:
    with thread_server(wrapped()) as base:
        browser = httpx.get(base + WELL_KNOWN + "?lang=es", headers={"accept": FIREFOX_ACCEPT})
        assert is_page(browser, "es")
        machine = httpx.get(base + WELL_KNOWN)  # httpx says Accept: */*
        assert machine.content == JSON_BODY
        assert machine.headers["vary"] == "Accept, Accept-Language"


async def test_the_script_modules_are_served_not_the_package_manifest() -> None:
    async with client() as http:
        for name in ("ai-notice.js", "ai-notice-core.js"):
            response = await http.get(f"{WELL_KNOWN}/{name}")
            assert response.status_code == 200
            assert response.headers["content-type"] == "text/javascript; charset=utf-8"
        core = await http.get(f"{WELL_KNOWN}/ai-notice-core.js")
        assert "export const parseDisclosure" in core.text
        manifest = await http.get(f"{WELL_KNOWN}/package.json")
        assert "@ai-disclosure/widget" not in manifest.text
