"""One path for the template helpers: ``disclosure_head``/``disclosure_notice`` and
the jinja2 globals forward every option of ``render_head``/``render_notice``."""

from __future__ import annotations

import importlib.util
import inspect
import os
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

import html5lib  # type: ignore[import-untyped]
import httpx
import pytest
from jinja2 import Environment
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ai_disclosure import (
    AIDisclosureMiddleware,
    disclosure_head,
    disclosure_notice,
    load_manifest,
)
from ai_disclosure._notice import (
    TemplateFragments,
    install_jinja_globals,
    render_head,
    render_notice,
)
from ai_disclosure.testing import assert_disclosed

from .conftest import EXAMPLE_MANIFEST
from .servers import thread_server

MANIFEST = load_manifest(EXAMPLE_MANIFEST)
SYSTEM = "traduction-pages"
CHROMIUM = Path("/usr/bin/chromium")


class _Tags(HTMLParser):
    """Every start tag of a page, with its attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))


def tags(html: str, name: str) -> list[dict[str, str | None]]:
    parser = _Tags()
    parser.feed(html)
    return [attrs for tag, attrs in parser.tags if tag == name]


def stylesheet(html: str) -> dict[str, str | None]:
    (link,) = [a for a in tags(html, "link") if a.get("rel") == "stylesheet"]
    return link


def module_script(html: str) -> dict[str, str | None]:
    (script,) = [a for a in tags(html, "script") if a.get("type") == "module"]
    return script


def options(function: Any) -> set[str]:
    """Parameters a caller may name, past the fixed leading ones."""
    return {
        name
        for name, p in inspect.signature(function).parameters.items()
        if p.default is not inspect.Parameter.empty
    }


def test_every_option_of_the_renderers_reaches_every_helper() -> None:
    """The asset prefix is bound by the middleware or by ``install_jinja_globals``;
    every other option of a renderer must pass through each helper."""
    env = Environment(autoescape=True)
    install_jinja_globals(env, MANIFEST)
    head_options = options(render_head) - {"asset_prefix"}
    notice_options = options(render_notice) - {"asset_prefix"}
    assert {"nonce", "style_nonce"} <= head_options
    for helper in (disclosure_head, TemplateFragments.head, env.globals["ai_disclosure_head"]):
        assert head_options <= options(helper), helper
    for helper in (
        disclosure_notice,
        TemplateFragments.notice,
        env.globals["ai_disclosure_notice"],
    ):
        assert notice_options <= options(helper), helper


def test_the_jinja_head_global_carries_both_nonces_and_the_prefix() -> None:
    env = Environment(autoescape=True)
    install_jinja_globals(env, MANIFEST, asset_prefix="/static/ai/")
    template = env.from_string(
        "<head>{{ ai_disclosure_head([system], 'fr', nonce='s1', style_nonce='s2') }}</head>"
        "<main>{{ ai_disclosure_notice([system], 'fr', page_language='fr') }}</main>"
    )
    html = template.render(system=SYSTEM)
    link, script = stylesheet(html), module_script(html)
    assert link["nonce"] == "s2"
    assert link["href"] == "/static/ai/ai-notice.css"
    assert script["nonce"] == "s1"
    assert script["src"] == "/static/ai/ai-notice.js"
    assert html.count("<ai-notice") == 1
    # Positional, as before: a template written for the older globals keeps working.
    positional = env.from_string("{{ ai_disclosure_head([system], 'fr', 'n1', 'n2') }}")
    html = positional.render(system=SYSTEM)
    assert module_script(html)["nonce"] == "n1"
    assert stylesheet(html)["nonce"] == "n2"


def test_without_a_style_nonce_the_stylesheet_has_none() -> None:
    html = TemplateFragments(MANIFEST).head([SYSTEM], "fr", nonce="s1")
    assert "nonce" not in stylesheet(html)
    assert module_script(html)["nonce"] == "s1"


@pytest.mark.parametrize(
    ("nonce", "style_nonce"), [(None, None), ("n1", None), (None, "s2"), ('n"<1', "s&2"), ("", "")]
)
def test_the_cached_head_is_what_the_renderer_gives(
    nonce: str | None, style_nonce: str | None
) -> None:
    """Rendered once with marks for the nonces, each call still gets the bytes
    ``render_head`` would give it, escaped the same, attributes left out alike."""
    fragments = TemplateFragments(MANIFEST, "/static/ai")
    fragments.head([SYSTEM], "fr", nonce="other", style_nonce="other")  # fills the cache
    for language in ("fr", "en"):
        expected = render_head(
            MANIFEST,
            [MANIFEST.system(SYSTEM)],
            language,
            nonce=nonce,
            style_nonce=style_nonce,
            asset_prefix="/static/ai",
        )
        assert fragments.head([SYSTEM], language, nonce, style_nonce) == expected


def document(html: str) -> bytes:
    """The tree a browser builds from ``html`` (character references resolved)."""
    tree = html5lib.parse(html, namespaceHTMLElements=False)
    return ElementTree.tostring(tree, encoding="utf-8")


@pytest.mark.parametrize("page_language", [None, "fr", "fr-BE", "en", "EN"])
@pytest.mark.parametrize("language", ["fr", "en", "en-GB", "xx", "ar"])
def test_the_cached_notice_is_what_the_renderer_gives(
    language: str, page_language: str | None
) -> None:
    """The same document as ``render_notice``'s, in ASCII where that costs little."""
    fragments = TemplateFragments(MANIFEST)
    for other in ("fr", "en", None):  # other page languages first: the cache is warm
        fragments.notice([SYSTEM], language, page_language=other)
    expected = render_notice(
        MANIFEST, [MANIFEST.system(SYSTEM)], language, page_language=page_language
    )
    notice = fragments.notice([SYSTEM], language, page_language=page_language)
    assert document(notice) == document(expected)
    if language == "ar":  # in ASCII it would grow by a third: as rendered
        assert notice == expected
        assert not notice.isascii()
    else:
        assert notice.isascii()
        assert notice != expected  # the catalogs write "é", "’"


def test_an_ascii_page_stays_ascii_with_the_helpers() -> None:
    """Python encodes an ASCII str with one copy and any other one character by
    character (~40 us for a 23 KB page): a notice holding one "é" would make the
    whole page pay that. A page in Arabic pays it anyway, and keeps its notice's
    UTF-8 (a third shorter than character references)."""
    environment = Environment(autoescape=True)
    install_jinja_globals(environment, MANIFEST)
    template = environment.from_string(
        "<!doctype html><html lang={{ lang }}><head>{{ ai_disclosure_head([system], lang) }}"
        "</head><body>{{ ai_disclosure_notice([system], lang, page_language=lang) }}"
        "<main><p>{{ text }}</p></main></body></html>"
    )
    for lang in ("fr", "en", "de", "es", "pl", "vi"):
        page = template.render(lang=lang, system=SYSTEM, text="Opening hours")
        assert page.isascii(), lang
        assert "data-ai-disclosure-notice" in page
    arabic = template.render(lang="ar", system=SYSTEM, text="ساعات العمل")
    notice = arabic[arabic.index("<ai-notice") : arabic.index("</ai-notice>")]
    assert not notice.isascii()


def test_jinja2_renders_each_combination_once(monkeypatch: pytest.MonkeyPatch) -> None:
    from ai_disclosure import _notice

    calls: list[str] = []
    for name in ("render_head", "render_notice"):
        real = getattr(_notice, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> str:
            calls.append(_name)
            return str(_real(*args, **kwargs))

        monkeypatch.setattr(_notice, name, counted)
    fragments = TemplateFragments(MANIFEST)
    for nonce in ("a", "b", "c"):
        fragments.head([SYSTEM], "fr", nonce=nonce, style_nonce=nonce)
        fragments.notice([SYSTEM], "fr", page_language="fr")
    assert sorted(calls) == ["render_head", "render_notice"]


# --- A real app under a CSP with nonces -------------------------------------

NONCE = "x"
CSP = f"default-src 'self'; style-src 'nonce-{NONCE}'; script-src 'nonce-{NONCE}'"
PAGE = (
    "<!doctype html><html lang=fr><head><meta charset=utf-8><title>Page</title>"
    "{{ head }}</head><body><main><h1>Traduction</h1><p>Texte.</p></main></body></html>"
)


def csp_app() -> AIDisclosureMiddleware:
    """An app that places the head itself under ``style-src 'nonce-x'``; ``/no-style``
    forgets ``style_nonce``, as the helper once forced every app to."""
    template = Environment(autoescape=True).from_string(PAGE)

    async def page(request: Request) -> Response:
        if request.url.path == "/no-style":
            head = disclosure_head(request, "fr", nonce=NONCE)
        else:
            head = disclosure_head(request, "fr", nonce=NONCE, style_nonce=NONCE)
        return HTMLResponse(template.render(head=head), headers={"content-security-policy": CSP})

    routes = [Route("/{path:path}", page)]
    data: dict[str, Any] = dict(MANIFEST.raw)
    data["routes"] = [{"path": "/*", "systems": [SYSTEM]}]
    return AIDisclosureMiddleware(Starlette(routes=routes), manifest=data)


def test_an_app_placing_the_head_under_a_style_nonce_gets_it_on_its_stylesheet() -> None:
    with thread_server(csp_app(), ws="none") as base:
        page = httpx.get(f"{base}/traduction")
        css = httpx.get(f"{base}/.well-known/ai-disclosure/ai-notice.css")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    link = stylesheet(page.text)
    assert link["nonce"] == NONCE
    assert module_script(page.text)["nonce"] == NONCE
    assert css.status_code == 200
    assert httpx.URL(base).join(str(link["href"])) == css.url
    # The head is the app's, the notice the middleware's: one of each.
    assert page.text.count('rel="stylesheet"') == 1
    assert_disclosed(page, notice=True)


@pytest.mark.browser
@pytest.mark.slow
@pytest.mark.skipif(
    (not CHROMIUM.exists() or importlib.util.find_spec("playwright") is None)
    and not os.environ.get("CI"),  # in CI a missing browser fails loudly
    reason="needs Debian Chromium and playwright",
)
async def test_chromium_applies_the_stylesheet_only_with_the_style_nonce() -> None:
    from playwright.async_api import async_playwright

    async def load(url: str) -> tuple[bool, list[str]]:
        page = await browser.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))
        await page.goto(url, wait_until="load")
        # The stylesheet loaded and styles the notice (a custom element is inline
        # unless ai-notice.css says otherwise).
        applied = await page.evaluate(
            "() => document.querySelector('link[rel=stylesheet]').sheet !== null"
            " && getComputedStyle(document.querySelector('ai-notice')).display === 'block'"
        )
        await page.close()
        return bool(applied), [text for text in refused if "Content Security Policy" in text]

    with thread_server(csp_app(), ws="none") as base:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
            )
            try:
                applied, refusals = await load(f"{base}/traduction")
                forgotten, forgotten_refusals = await load(f"{base}/no-style")
            finally:
                await browser.close()
    assert applied, refusals
    assert refusals == []
    # The same page without the style nonce: the browser blocks the stylesheet.
    assert not forgotten
    assert any("stylesheet" in text for text in forgotten_refusals), forgotten_refusals
