"""The notice on real sites' markup, through the middleware, in real Chromium.

Each page in ``tests/fixtures/templates/`` reproduces the start of a real
template family's body (GOV.UK Frontend, DSFR, WordPress classic and block
themes, Wagtail bakerydemo, Drupal's Olivero, Decidim) with the CSS that places
its skip link; Joomla's Cassiopeia and SPIP's default templates, which lead with
none; and the Flask tutorial's page with no optional tags. The skip link must
stay the first Tab stop with the notice the second, a focused skip link must not
cover the notice's first line, and axe-core must find nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route as Endpoint

from ai_disclosure import AIDisclosureMiddleware
from ai_disclosure._model import Manifest, Route

from ..servers import thread_server
from .conftest import AXE, WCAG_TAGS, NewPage, describe, sample_manifest

pytestmark = pytest.mark.asyncio(loop_scope="session")

TEMPLATES = Path(__file__).resolve().parents[1] / "fixtures" / "templates"
NOTICE = "[data-ai-disclosure-notice]"
SUMMARY = f"{NOTICE} .ai-notice__summary"
#: One system on /one/*, two on /two/*.
SYSTEMS = {"one": ("alertes-fuites",), "two": ("tri-dechets", "alertes-fuites")}


@dataclass(frozen=True)
class Family:
    skip_link: str  # the first skip link
    skip_box: str  # what a sighted user sees once it has focus
    links: int = 1  # how many skip links lead the page
    scripted: bool = False  # the page's own script adds its skip link


FAMILIES = {
    "govuk-frontend": Family(".govuk-skip-link", ".govuk-skip-link"),
    "dsfr": Family(".fr-skiplinks a", ".fr-skiplinks", links=3),
    "wordpress-twentytwentyone": Family("a.skip-link", "a.skip-link"),
    "wordpress-block-theme": Family("#wp-skip-link", "#wp-skip-link"),
    "wordpress-block-theme-script": Family("#wp-skip-link", "#wp-skip-link", scripted=True),
    "wagtail-bakerydemo": Family("a.skip-link", "a.skip-link"),
    "drupal-olivero": Family("a.skip-link", "a.skip-link"),
    "decidim": Family(".layout-container__skip", ".layout-container__skip"),
}


def manifest() -> Manifest:
    base = sample_manifest()
    routes = tuple(Route(f"/{count}/*", systems) for count, systems in SYSTEMS.items())
    return Manifest(service=base.service, systems=base.systems, routes=routes)


def template_page(request: Request) -> Response:
    """A fixture page; ``?lang=`` rewrites its <html lang> (and dir) to ask for
    the notice in that language."""
    name = request.path_params["name"]
    path = TEMPLATES / f"{name}.html"
    if not re.fullmatch(r"[a-z0-9-]+", name) or not path.exists():
        return Response(status_code=404)
    text = path.read_text(encoding="utf-8")
    lang = request.query_params.get("lang")
    if lang:
        direction = "rtl" if lang == "ar" else "ltr"
        tag = re.search(r"<html\b[^>]*>", text)
        assert tag is not None, name
        rewritten = re.sub(r'\s(?:lang|dir)="[^"]*"', "", tag[0]).replace(
            "<html", f'<html lang="{lang}" dir="{direction}"', 1
        )
        text = text[: tag.start()] + rewritten + text[tag.end() :]
    return HTMLResponse(text)


def build_app() -> Any:
    app = Starlette(
        routes=[
            Endpoint("/one/{name}", template_page),
            Endpoint("/two/{name}", template_page),
            Endpoint(
                "/static/style.css",
                lambda r: Response((TEMPLATES / "flaskr.css").read_bytes(), media_type="text/css"),
            ),
            Endpoint("/favicon.ico", lambda r: Response(status_code=204)),
        ]
    )
    return AIDisclosureMiddleware(app, manifest())  # the default position: after skip links


@pytest.fixture(scope="module")
def templates_site() -> Iterator[str]:
    """The fixture pages behind the middleware, on a real uvicorn server."""
    with thread_server(build_app(), ws="none") as url:
        yield url


async def open_page(new_page: NewPage, url: str, **options: Any) -> Any:
    page = await new_page(**options)
    await page.goto(url)
    await page.wait_for_selector(f"ai-notice[data-upgraded]{NOTICE}", state="attached")
    return page


async def tab(page: Any) -> None:
    await page.keyboard.press("Tab")


async def focused_is(page: Any, selector: str) -> bool:
    result: bool = await page.evaluate(
        "s => document.activeElement === document.querySelector(s)", selector
    )
    return result


async def box(page: Any, selector: str) -> dict[str, float]:
    return await page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height}; }",
    )


def overlap(a: dict[str, float], b: dict[str, float]) -> bool:
    return (
        a["x"] < b["x"] + b["width"]
        and b["x"] < a["x"] + a["width"]
        and a["y"] < b["y"] + b["height"]
        and b["y"] < a["y"] + a["height"]
    )


async def first_lines(page: Any) -> list[str]:
    """Selectors of the notice's first visible line(s): its title when shown
    (several systems), and its first summary."""
    title = f"{NOTICE} .ai-notice__title"
    shown = await page.eval_on_selector(title, "e => !e.classList.contains('ai-notice__vh')")
    return [title, SUMMARY] if shown else [SUMMARY]


# --- Tab order ---------------------------------------------------------------------


@pytest.mark.parametrize("count", ["one", "two"])
@pytest.mark.parametrize("family", FAMILIES)
async def test_skip_link_first_then_the_notice(
    new_page: NewPage, templates_site: str, family: str, count: str
) -> None:
    page = await open_page(new_page, f"{templates_site}/{count}/{family}")
    assert await page.locator(NOTICE).count() == 1
    await tab(page)
    assert await focused_is(page, FAMILIES[family].skip_link), await page.evaluate(
        "document.activeElement.outerHTML"
    )
    for _ in range(FAMILIES[family].links - 1):  # the rest of a list of skip links
        await tab(page)
        assert await page.evaluate("document.activeElement.getAttribute('href')[0] === '#'")
    await tab(page)
    assert await focused_is(page, SUMMARY), await page.evaluate("document.activeElement.outerHTML")
    if count == "two":
        await tab(page)
        second = f"{NOTICE} li:nth-child(2) .ai-notice__summary"
        assert await focused_is(page, second)


# --- The focused skip link and the notice's first line ------------------------------


async def assert_first_line_clear(page: Any, family: str) -> None:
    """With the skip link focused, the notice's first line is neither under
    the skip link's box nor under anything else."""
    await tab(page)
    assert await focused_is(page, FAMILIES[family].skip_link)
    skip = await box(page, FAMILIES[family].skip_box)
    assert skip["width"] > 1, "the focused skip link is shown"
    assert skip["height"] > 1, "the focused skip link is shown"
    for line in await first_lines(page):
        target = await box(page, line)
        assert not overlap(skip, target), (line, skip, target)
        on_top = await page.evaluate(
            "([s, x, y]) => document.querySelector(s).contains(document.elementFromPoint(x, y))",
            [line, target["x"] + target["width"] / 2, target["y"] + target["height"] / 2],
        )
        assert on_top, line


@pytest.mark.parametrize("width", [1024, 360])
@pytest.mark.parametrize("count", ["one", "two"])
@pytest.mark.parametrize("family", FAMILIES)
async def test_a_focused_skip_link_leaves_the_first_line_visible(
    new_page: NewPage,
    templates_site: str,
    screenshots: Path,
    family: str,
    count: str,
    width: int,
) -> None:
    page = await open_page(
        new_page,
        f"{templates_site}/{count}/{family}",
        viewport={"width": width, "height": 640},
        reduced_motion="reduce",
    )
    # Never sticky: the notice scrolls with the page.
    positions = await page.eval_on_selector(
        NOTICE,
        "e => [getComputedStyle(e).position, getComputedStyle(e.firstElementChild).position]",
    )
    assert not {"sticky", "fixed"} & set(positions), positions
    await assert_first_line_clear(page, family)
    if count == "one" and width == 1024:
        await page.screenshot(path=screenshots / f"template-{family}.png")


@pytest.mark.parametrize("family", [name for name, f in FAMILIES.items() if not f.scripted])
async def test_the_room_needs_no_script(
    new_page: NewPage, templates_site: str, family: str
) -> None:
    page = await new_page(java_script_enabled=False)
    await page.goto(f"{templates_site}/one/{family}")
    await assert_first_line_clear(page, family)


@pytest.mark.parametrize("family", ["govuk-frontend", "dsfr"])
async def test_no_extra_room_below_a_skip_link_in_the_flow(
    new_page: NewPage, templates_site: str, family: str
) -> None:
    page = await open_page(new_page, f"{templates_site}/one/{family}")
    await tab(page)
    skip = await box(page, FAMILIES[family].skip_box)
    notice = await box(page, f"{NOTICE} .ai-notice")
    margin = await page.eval_on_selector(
        f"{NOTICE} .ai-notice", "e => parseFloat(getComputedStyle(e).marginBlockStart)"
    )
    assert margin == 16  # --ai-notice-margin's default, not the room
    assert 0 <= notice["y"] - (skip["y"] + skip["height"]) <= margin


async def test_the_room_is_only_taken_while_the_skip_link_has_focus(
    new_page: NewPage, templates_site: str
) -> None:
    page = await open_page(new_page, f"{templates_site}/one/wagtail-bakerydemo")
    before = await box(page, SUMMARY)
    await tab(page)
    during = await box(page, SUMMARY)
    await tab(page)  # on to the notice
    after = await box(page, SUMMARY)
    assert during["y"] > before["y"]
    assert after["y"] == before["y"]


# --- Accessibility ------------------------------------------------------------------


@pytest.mark.parametrize("lang", ["fr", "ar"])
@pytest.mark.parametrize("family", FAMILIES)
async def test_axe_finds_nothing(
    new_page: NewPage, templates_site: str, run_axe: Any, family: str, lang: str
) -> None:
    page = await open_page(new_page, f"{templates_site}/two/{family}?lang={lang}")
    direction = "rtl" if lang == "ar" else "ltr"
    assert await page.eval_on_selector(NOTICE, "e => getComputedStyle(e).direction") == direction
    violations = await run_axe(page)
    assert not violations, describe(violations)
    await tab(page)  # the skip link shown, the notice moved down
    violations = await run_axe(page)
    assert not violations, "skip link focused:\n" + describe(violations)


# --- No skip link -------------------------------------------------------------------

#: Pages that lead with no skip link, as their CMS ships them: Joomla 5's
#: Cassiopeia and SPIP 4's default templates.
NO_SKIP_LINK = ["joomla-cassiopeia", "spip"]


@pytest.mark.parametrize("lang", ["fr", "ar"])
@pytest.mark.parametrize("family", NO_SKIP_LINK)
async def test_a_page_without_a_skip_link_opens_with_the_notice(
    new_page: NewPage, templates_site: str, family: str, lang: str
) -> None:
    """No skip link to keep first: the notice opens the body, before the page's
    header, and is the first Tab stop; axe finds nothing in it, in French and
    Arabic."""
    page = await open_page(new_page, f"{templates_site}/two/{family}?lang={lang}")
    assert await page.locator(NOTICE).count() == 1
    assert await page.eval_on_selector(
        NOTICE, "n => n.parentElement === document.body && !n.previousElementSibling"
    )
    direction = "rtl" if lang == "ar" else "ltr"
    assert await page.eval_on_selector(NOTICE, "e => getComputedStyle(e).direction") == direction
    await tab(page)
    assert await focused_is(page, SUMMARY), await page.evaluate("document.activeElement.outerHTML")
    # SPIP's own menu links miss 4.5:1 (#db1762 on #f0f0f0): check the notice.
    await assert_axe_finds_nothing_in_the_notice(page)


async def assert_axe_finds_nothing_in_the_notice(page: Any) -> None:
    """axe-core on the notice alone: the page's own flaws are not the notice's."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "([s, tags]) => axe.run(document.querySelector(s),"
        " {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        [NOTICE, WCAG_TAGS],
    )
    assert not result["violations"], describe(result["violations"])


# --- No optional tags ---------------------------------------------------------------


async def test_a_page_without_html_head_or_body_tags(
    new_page: NewPage, templates_site: str, screenshots: Path
) -> None:
    page = await open_page(new_page, f"{templates_site}/one/flaskr")
    assert (
        await page.evaluate("document.head.querySelectorAll('meta[name=\"ai-disclosure\"]').length")
        == 1
    )
    assert await page.eval_on_selector(NOTICE, "e => e.parentElement === document.body")
    assert await page.eval_on_selector(NOTICE, "e => e.checkVisibility()")
    notice = await box(page, NOTICE)
    assert notice["height"] > 20
    # No skip link on this page: the notice opens the body, first Tab stop.
    await tab(page)
    assert await focused_is(page, SUMMARY)
    assert await page.eval_on_selector(
        NOTICE, "n => !!(n.compareDocumentPosition(document.querySelector('nav')) & 4)"
    ), "the notice comes before the page's nav"
    await page.screenshot(path=screenshots / "template-flaskr.png")
    # The page's own colours and missing lang are not the notice's: check the notice.
    await assert_axe_finds_nothing_in_the_notice(page)
