"""The declaration page in real Chromium: WCAG 2.1 A/AA (axe-core) in French and
Arabic, its own strict policy blocking nothing, and the notice's register link
landing on the right system in the reader's language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ai_disclosure import AIDisclosureMiddleware

from ..servers import thread_server
from ..test_declaration import MANIFEST
from .conftest import NewPage, describe

pytestmark = pytest.mark.asyncio(loop_scope="session")

WELL_KNOWN = "/.well-known/ai-disclosure"
PAGE = """<!doctype html>
<html lang="{lang}" dir="{dir}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>{title}</title></head>
<body><a href="#main">{skip}</a><main id="main"><h1>{title}</h1><p>{text}</p></main></body></html>
"""
TEXTS = {
    "fr": ("Assistant du tri", "Aller au contenu", "Posez votre question sur le tri."),
    "ar": ("مساعد الفرز", "انتقل إلى المحتوى", "اطرح سؤالك حول فرز النفايات."),
}


async def page(request: Request) -> Response:
    lang = request.query_params.get("lang", "fr")
    title, skip, text = TEXTS[lang]
    direction = "rtl" if lang == "ar" else "ltr"
    return HTMLResponse(PAGE.format(lang=lang, dir=direction, title=title, skip=skip, text=text))


@pytest.fixture(scope="module")
def portal() -> Iterator[str]:
    """A site without a register, behind the middleware, on uvicorn."""
    app = Starlette(routes=[Route("/{path:path}", page)])
    with thread_server(AIDisclosureMiddleware(app, MANIFEST)) as base:
        yield base


@pytest.mark.parametrize(
    "query", ["?lang=fr", "?lang=ar", "?lang=ar#assistant-dechets", "?lang=en#tri-courrier"]
)
async def test_declaration_page_passes_axe(
    portal: str, new_page: NewPage, run_axe: Any, screenshots: Path, query: str
) -> None:
    # axe comes from the test site: let it past the page's own policy.
    page = await new_page(bypass_csp=True)
    response = await page.goto(portal + WELL_KNOWN + query)
    assert response is not None
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    lang = query[6:8]
    assert await page.evaluate("document.documentElement.lang") == lang
    direction = await page.evaluate("getComputedStyle(document.body).direction")
    assert direction == ("rtl" if lang == "ar" else "ltr")
    await page.screenshot(path=screenshots / f"declaration-{lang}.png", full_page=True)
    violations = await run_axe(page)
    assert not violations, describe(violations)


async def test_nothing_is_blocked_by_its_policy(portal: str, new_page: NewPage) -> None:
    page = await new_page()
    response = await page.goto(portal + WELL_KNOWN)
    assert response is not None
    assert "default-src 'none'" in response.headers["content-security-policy"]
    colour = await page.eval_on_selector("body", "b => getComputedStyle(b).color")
    assert colour == "rgb(29, 33, 37)"  # declaration.css applied
    blocked = [m for m in page.console_log if "Content Security Policy" in m]
    assert not blocked, blocked
    assert page.console_log == []


async def test_skip_link_is_the_first_stop(portal: str, new_page: NewPage) -> None:
    page = await new_page()
    await page.goto(portal + WELL_KNOWN + "?lang=ar")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.getAttribute('href')") == "#decl_main"
    top = await page.eval_on_selector(".skip-link", "e => e.getBoundingClientRect().top")
    assert top >= 0  # shown when focused
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "decl_main"


@pytest.mark.parametrize("lang", ["ar", "fr"])
async def test_the_notices_register_link_lands_on_the_system(
    portal: str, new_page: NewPage, lang: str
) -> None:
    page = await new_page(viewport={"width": 800, "height": 600})
    await page.goto(f"{portal}/dechets/assistant?lang={lang}")
    link = page.locator("[data-ai-disclosure-notice] a[href*='#assistant-dechets']")
    assert await link.count() == 1
    details = page.locator("[data-ai-disclosure-notice] details:has(a[href*='#assistant-dechets'])")
    if not await details.evaluate("d => d.open"):
        await details.locator("summary").click()
    await link.click()
    await page.wait_for_url(f"**{WELL_KNOWN}?lang={lang}#assistant-dechets")
    # A page in the reader's language, for people: not a JSON dump.
    assert await page.evaluate("document.contentType") == "text/html"
    assert await page.evaluate("document.documentElement.lang") == lang
    assert await page.evaluate("document.querySelectorAll('h1').length") == 1
    # ...scrolled to the system, which is marked as the one asked for.
    assert await page.evaluate("document.querySelector(':target').id") == "assistant-dechets"
    box = await page.eval_on_selector("#assistant-dechets", "e => e.getBoundingClientRect().top")
    assert 0 <= box < 600
    border = await page.eval_on_selector(
        "#assistant-dechets", "e => getComputedStyle(e).borderTopColor"
    )
    assert border == "rgb(11, 91, 102)"
    heading = await page.eval_on_selector("#assistant-dechets h3", "e => e.textContent")
    assert heading == MANIFEST.system("assistant-dechets").name[lang]
