"""The public register pages in a real browser: WCAG 2.1 A/AA (axe-core), the
keyboard, and the strict Content-Security-Policy (nothing blocked)."""

from __future__ import annotations

from typing import Any

import pytest

from ai_disclosure._catalog import catalogs

from .conftest import NewPage, describe

pytestmark = pytest.mark.asyncio(loop_scope="session")

PAGES = [
    "/",
    "/?lang=en",
    "/?q=eau&interaction=automated-decision",
    "/systems/demarches/assistant-dechets",
    "/systems/demarches/assistant-dechets?lang=en",
    "/systems/demarches/tri-courrier",
    "/services/demarches",
    "/?per_page=1&page=2",  # the pagination bar
    "/services/demarches?per_page=1&page=3&lang=en",
    "/nope",
    "/guide",
]
#: The register in a sample of languages: both directions, scripts, plural rules.
SAMPLE = ("fr", "en", "de", "ar", "fa", "zh-Hans", "ga", "oc")
SAMPLE_PAGES = (
    "/",
    "/systems/demarches/assistant-dechets",
    "/services/demarches?per_page=1&page=2",
    "/guide",
)
OVERFLOW = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


@pytest.mark.parametrize("path", PAGES)
async def test_register_pages_pass_axe(
    register: str, new_page: NewPage, run_axe: Any, path: str
) -> None:
    # axe is injected from the test site: let it past the register's own policy.
    page = await new_page(bypass_csp=True)
    await page.goto(register + path)
    violations = await run_axe(page)
    assert not violations, describe(violations)


@pytest.mark.parametrize("path", PAGES)
async def test_nothing_is_blocked_by_the_content_security_policy(
    register: str, new_page: NewPage, path: str
) -> None:
    page = await new_page()
    response = await page.goto(register + path)
    assert response is not None
    assert "default-src 'self'" in response.headers["content-security-policy"]
    colour = await page.eval_on_selector("body", "b => getComputedStyle(b).color")
    assert colour == "rgb(29, 33, 37)"  # the stylesheet applied
    blocked = [m for m in page.console_log if "Content Security Policy" in m]
    assert not blocked, blocked


async def test_skip_link_is_the_first_stop_and_visible(register: str, new_page: NewPage) -> None:
    page = await new_page()
    await page.goto(register + "/systems/demarches/assistant-dechets")
    await page.keyboard.press("Tab")
    focused = await page.evaluate("document.activeElement.getAttribute('href')")
    assert focused == "#main"
    top = await page.eval_on_selector(".skip-link", "e => e.getBoundingClientRect().top")
    assert top >= 0
    outline = await page.eval_on_selector(".skip-link", "e => getComputedStyle(e).outlineStyle")
    assert outline == "solid"
    await page.keyboard.press("Enter")
    assert await page.evaluate("document.activeElement.id") == "main"


async def test_filters_work_with_the_keyboard_and_no_script(
    register: str, new_page: NewPage
) -> None:
    page = await new_page(java_script_enabled=False, locale="fr-FR")  # Accept-Language: fr-FR
    await page.goto(register + "/")
    assert await page.evaluate("document.documentElement.lang") == "fr"
    await page.select_option("#interaction", "translation")
    await page.focus("#q")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**interaction=translation**")
    titles = await page.eval_on_selector_all(".card__title", "els => els.map(e => e.textContent)")
    assert [t.strip() for t in titles] == ["Traduction automatique des pages"]


@pytest.mark.parametrize("lang", SAMPLE)
async def test_register_pages_in_a_sample_of_languages(
    register: str, new_page: NewPage, run_axe: Any, lang: str
) -> None:
    """Each kind of page, on a phone's 320 px, its language switcher open: no axe
    violation, the language's ``lang`` and ``dir``, nothing wider than the screen."""
    strings = catalogs()[lang]
    page = await new_page(bypass_csp=True, viewport={"width": 320, "height": 640})
    for path in SAMPLE_PAGES:
        separator = "&" if "?" in path else "?"
        await page.goto(f"{register}{path}{separator}lang={lang}")
        said = await page.evaluate("[document.documentElement.lang, document.dir]")
        assert said == [lang, strings.dir], path
        assert strings("register.site_title") in await page.title(), path
        await page.click(".languages summary")
        scroll, client = await page.evaluate(OVERFLOW)
        assert scroll <= client, f"{path} scrolls sideways at 320 px in {lang}"
        violations = await run_axe(page)
        assert not violations, f"{path}\n" + describe(violations)


async def test_the_switcher_leads_to_every_language(register: str, new_page: NewPage) -> None:
    page = await new_page(java_script_enabled=False)
    await page.goto(register + "/systems/demarches/assistant-dechets")
    await page.click(".languages summary")
    for lang in ("en", "ar"):
        await page.click(f'.languages a[hreflang="{lang}"]')
        await page.wait_for_url(f"**?lang={lang}")
        assert await page.evaluate("document.documentElement.lang") == lang
        await page.click(".languages summary")
