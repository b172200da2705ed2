"""The notice in a real browser: accessibility, keyboard, no script, strict CSP,
right-to-left, small screens, forced colours, motion, layout stability, and
the script's API (minimising, watchFetch, mark)."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest

from ai_disclosure._catalog import catalogs

from .conftest import LANGS, NewPage, describe, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="session")

NOTICE = "[data-ai-disclosure-notice]"
UPGRADED = "ai-notice[data-upgraded]"
LEAKS = '[data-ai-notice-system="montpellier-3m/alertes-fuites"]'
CHATBOT = '[data-ai-notice-system="montpellier-3m/tri-dechets"]'
OVERFLOW = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


async def open_page(new_page: NewPage, url: str, *, upgraded: bool = True, **options: Any) -> Any:
    page = await new_page(**options)
    await page.goto(url)
    await page.wait_for_selector(NOTICE, state="attached")
    if upgraded and options.get("java_script_enabled", True):
        await page.wait_for_selector(UPGRADED, state="attached")
    return page


async def open_all(page: Any) -> None:
    for summary in await page.query_selector_all(f"{NOTICE} summary"):
        if not await summary.evaluate("s => s.parentElement.open"):
            await summary.click()


async def minimise(page: Any, system: str) -> None:
    """Open the system's panel if needed and press its "minimise" button."""
    if not await page.eval_on_selector(f"{system} details", "d => d.open"):
        await page.click(f"{system} summary")
    await page.click(f"{system} [data-ai-notice-collapse]")


def no_errors(page: Any) -> None:
    errors = [m for m in page.console_log if "pageerror" in m or "Content Security Policy" in m]
    assert not errors, errors


async def box(page: Any, selector: str) -> dict[str, float]:
    return await page.eval_on_selector(
        selector,
        "e => { const r = e.getBoundingClientRect();"
        " return {x: r.x, y: r.y, width: r.width, height: r.height}; }",
    )


# --- Accessibility ---------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
async def test_axe_finds_nothing_in_any_language(
    new_page: NewPage, site: str, run_axe: Any, lang: str
) -> None:
    """Every language of the catalog, on a phone's 320 px: no violation, its own
    ``lang`` and ``dir``, nothing wider than the screen."""
    page = await open_page(
        new_page, f"{site}/notice/{lang}", viewport={"width": 320, "height": 640}
    )
    strings = catalogs()[lang]
    said = await page.evaluate(
        "s => [s.closest('[lang]').lang, getComputedStyle(s).direction]",
        await page.query_selector(".ai-notice"),
    )
    assert said == [lang, strings.dir]
    assert strings("notice.title") in await page.text_content(NOTICE)
    violations = await run_axe(page)
    assert not violations, "collapsed:\n" + describe(violations)
    await open_all(page)
    scroll, client = await page.evaluate(OVERFLOW)
    assert scroll <= client, f"{lang} scrolls sideways at 320 px"
    violations = await run_axe(page)
    assert not violations, "expanded:\n" + describe(violations)
    # Minimised to its small button.
    await minimise(page, LEAKS)
    await page.wait_for_selector(f"{LEAKS} [data-ai-notice-expand]", state="visible")
    violations = await run_axe(page)
    assert not violations, "minimised:\n" + describe(violations)
    no_errors(page)


async def test_axe_single_system_in_another_language_than_the_page(
    new_page: NewPage, site: str, run_axe: Any
) -> None:
    page = await open_page(new_page, f"{site}/notice/en?systems=traduction&page=fr")
    assert await page.get_attribute(NOTICE, "lang") == "en"
    await open_all(page)
    violations = await run_axe(page)
    assert not violations, describe(violations)


async def test_keyboard_only(new_page: NewPage, site: str) -> None:
    page = await open_page(new_page, f"{site}/notice/fr")
    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.id") == "before"
    await page.keyboard.press("Tab")
    focused = "document.activeElement"
    assert await page.evaluate(f"{focused}.matches('{CHATBOT} summary')")
    outline = await page.evaluate(f"getComputedStyle({focused}).outlineStyle")
    assert outline == "solid"  # focus is visible
    await page.keyboard.press("Enter")
    assert await page.evaluate(f"document.querySelector('{CHATBOT} details').open")
    await page.keyboard.press("Enter")
    assert not await page.evaluate(f"document.querySelector('{CHATBOT} details').open")
    await page.keyboard.press("Space")
    assert await page.evaluate(f"document.querySelector('{CHATBOT} details').open")
    # Tab goes through the open panel's links, the other summaries, then leaves.
    seen = []
    for _ in range(12):
        await page.keyboard.press("Tab")
        seen.append(
            await page.evaluate(
                f"({focused}.id || {focused}.className || {focused}.tagName)"
                f" + ' ' + ({focused}.getAttribute('href') || '')"
            )
        )
        if seen[-1].startswith("after"):
            break
    assert seen[-1].startswith("after"), seen
    assert any("mailto:" in s for s in seen), seen
    assert any("registre" in s for s in seen), seen
    assert sum("ai-notice__summary" in s for s in seen) == 2, seen
    # And back out with Shift+Tab: no trap either way.
    for _ in range(len(seen) + 1):
        await page.keyboard.press("Shift+Tab")
    assert await page.evaluate("document.activeElement.id") == "before"


async def test_works_without_javascript(new_page: NewPage, site: str, screenshots: Any) -> None:
    page = await open_page(new_page, f"{site}/notice/fr", java_script_enabled=False)
    assert not await page.query_selector(UPGRADED)
    label = page.locator(f"{CHATBOT} .ai-notice__label")
    assert await label.is_visible()
    assert await label.text_content() == "Vous échangez avec une IA"
    purpose = page.locator(f"{CHATBOT} dd").first
    assert not await purpose.is_visible()
    await page.click(f"{CHATBOT} summary")
    assert await purpose.is_visible()
    assert "Répondre à vos questions" in (await purpose.text_content() or "")
    # The buttons that need the script stay out of the way.
    await page.click(f"{LEAKS} summary")
    assert not await page.locator(f"{LEAKS} [data-ai-notice-collapse]").is_visible()
    assert not await page.locator(f"{LEAKS} [data-ai-notice-expand]").is_visible()


async def test_strict_csp_no_violation_and_styles_applied(new_page: NewPage, site: str) -> None:
    page = await new_page()
    await page.add_init_script(
        "window.__violations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " e => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));"
    )
    response = await page.goto(f"{site}/notice/fr")
    assert "style-src 'self'" in response.headers["content-security-policy"]
    await page.wait_for_selector(UPGRADED, state="attached")
    await open_all(page)
    await minimise(page, LEAKS)
    assert await page.evaluate("window.__violations") == []
    no_errors(page)
    style = await page.eval_on_selector(
        ".ai-notice",
        "e => { const s = getComputedStyle(e); return [s.borderInlineStartWidth,"
        " s.backgroundColor, s.borderTopStyle, s.display]; }",
    )
    assert style == ["4px", "rgb(244, 245, 247)", "solid", "block"]
    marker = await page.eval_on_selector(
        ".ai-notice__summary", "e => getComputedStyle(e).listStyleType"
    )
    assert marker == "none"


# --- Layout ----------------------------------------------------------------------


async def test_arabic_is_right_to_left(new_page: NewPage, site: str, screenshots: Any) -> None:
    page = await open_page(new_page, f"{site}/notice/ar", reduced_motion="reduce")
    await page.click(f"{CHATBOT} summary")
    await page.locator(".ai-notice").screenshot(path=screenshots / "notice-arabic.png")
    await open_all(page)
    aside = await page.eval_on_selector(
        ".ai-notice",
        "e => { const s = getComputedStyle(e); return [s.direction, s.textAlign]; }",
    )
    assert aside == ["rtl", "start"]
    notice, icon = await box(page, ".ai-notice"), await box(page, f"{CHATBOT} .ai-notice__icon")
    label = await box(page, f"{CHATBOT} .ai-notice__label")
    more = await box(page, f"{CHATBOT} .ai-notice__more")
    # Icon at the right, then the label, then "learn more" at the left.
    assert icon["x"] > label["x"] + label["width"] - 1
    assert more["x"] + more["width"] < label["x"]
    assert notice["x"] + notice["width"] - (icon["x"] + icon["width"]) < 40
    dt = await box(page, f"{CHATBOT} dt")
    dd = await box(page, f"{CHATBOT} dd")
    assert dt["x"] > dd["x"]  # term on the right, description on its left
    assert await page.get_attribute("html", "dir") == "rtl"
    text = await page.text_content(f"{CHATBOT} .ai-notice__label")
    assert text == catalogs()["ar"]("notice.label_chatbot")


@pytest.mark.parametrize("width", [320, 640])  # 640: a 1280 px screen at 200 % zoom
@pytest.mark.parametrize("manifest", ["sample", "long"])
async def test_small_screens_do_not_scroll_sideways(
    new_page: NewPage, site: str, screenshots: Any, width: int, manifest: str
) -> None:
    page = await open_page(
        new_page,
        f"{site}/notice/fr?manifest={manifest}",
        viewport={"width": width, "height": 640},
        reduced_motion="reduce",
    )
    scroll, client = await page.evaluate(OVERFLOW)
    assert scroll <= client
    if width == 320 and manifest == "sample":
        await page.click(f"{CHATBOT} summary")
        await page.screenshot(path=screenshots / "notice-mobile-320.png")
    await open_all(page)
    scroll, client = await page.evaluate(OVERFLOW)
    assert scroll <= client
    notice = await box(page, ".ai-notice")
    widest = await page.eval_on_selector_all(
        ".ai-notice *",
        "els => Math.max(...els.filter(e => e.getClientRects().length)"
        ".map(e => e.getBoundingClientRect().right))",
    )
    assert widest <= notice["x"] + notice["width"] + 0.5
    await minimise(page, LEAKS)
    scroll, client = await page.evaluate(OVERFLOW)
    assert scroll <= client


async def test_forced_colours_keep_the_border(new_page: NewPage, site: str) -> None:
    page = await new_page()
    await page.emulate_media(forced_colors="active")
    await page.goto(f"{site}/notice/fr")
    style = await page.eval_on_selector(
        ".ai-notice",
        "e => { const s = getComputedStyle(e); return {style: s.borderTopStyle,"
        " width: parseFloat(s.borderTopWidth), colour: s.borderTopColor,"
        " background: s.backgroundColor, forced: matchMedia('(forced-colors: active)').matches}; }",
    )
    assert style["forced"]
    assert style["style"] == "solid"
    assert style["width"] >= 1
    assert style["colour"] != style["background"]
    assert style["colour"] not in ("transparent", "rgba(0, 0, 0, 0)")


async def test_reduced_motion(new_page: NewPage, site: str) -> None:
    script = (
        "() => getComputedStyle(document.querySelector('.ai-notice__more'), '::after')"
        ".transitionDuration"
    )
    moving = await open_page(new_page, f"{site}/notice/fr", reduced_motion="no-preference")
    assert await moving.evaluate(script) != "0s"
    still = await open_page(new_page, f"{site}/notice/fr", reduced_motion="reduce")
    assert set((await still.evaluate(script)).split(", ")) == {"0s"}


async def test_print_shows_every_panel(new_page: NewPage, site: str) -> None:
    page = await open_page(new_page, f"{site}/notice/fr")
    await minimise(page, LEAKS)
    await page.emulate_media(media="print")
    for system in (CHATBOT, LEAKS):
        assert await page.locator(f"{system} dd").first.is_visible()
    assert not await page.locator(f"{LEAKS} [data-ai-notice-expand]").is_visible()
    assert not await page.locator(f"{CHATBOT} .ai-notice__more").is_visible()


async def test_no_layout_shift_when_the_script_arrives(new_page: NewPage, site: str) -> None:
    page = await new_page()
    release = asyncio.Event()

    async def hold(route: Any) -> None:
        await release.wait()
        await route.continue_()

    await page.route("**/ai-notice.js", hold)
    await page.goto(f"{site}/notice/fr", wait_until="commit")
    await page.wait_for_selector("#after-text", state="attached")
    await wait_until(page, "document.styleSheets.length >= 2")
    assert not await page.query_selector(UPGRADED)
    before = [await box(page, s) for s in (".ai-notice", CHATBOT, LEAKS, "#after-text")]
    release.set()
    await page.wait_for_selector(UPGRADED, state="attached")
    after = [await box(page, s) for s in (".ai-notice", CHATBOT, LEAKS, "#after-text")]
    assert before == after
    no_script = await open_page(new_page, f"{site}/notice/fr", java_script_enabled=False)
    assert [await box(no_script, s) for s in (".ai-notice", "#after-text")] == [
        after[0],
        after[3],
    ]


# --- The script ------------------------------------------------------------------


async def test_minimise_is_remembered_and_always_reversible(
    new_page: NewPage, site: str, screenshots: Any
) -> None:
    strings = catalogs()["fr"]
    page = await open_page(new_page, f"{site}/notice/fr", reduced_motion="reduce")
    pill = page.locator(f"{LEAKS} [data-ai-notice-expand]")
    status = page.locator("[data-ai-notice-status]")
    assert await page.locator("[role=status]").count() == 1
    assert not await pill.is_visible()
    await page.locator(".ai-notice").screenshot(path=screenshots / "notice-collapsed.png")
    await page.click(f"{CHATBOT} summary")
    await page.locator(".ai-notice").screenshot(path=screenshots / "notice-expanded.png")
    await minimise(page, LEAKS)
    assert await pill.is_visible()
    assert await pill.evaluate("p => p === document.activeElement")
    assert not await page.locator(f"{LEAKS} details").is_visible()
    assert (await pill.text_content() or "").startswith("IA")
    await wait_until(
        page,
        "t => document.querySelector('[data-ai-notice-status]').textContent === t",
        strings("notice.status_collapsed"),
    )
    await page.locator(".ai-notice").screenshot(path=screenshots / "notice-minimised.png")

    await page.reload()
    await page.wait_for_selector(UPGRADED, state="attached")
    assert await pill.is_visible()
    assert await status.text_content() == ""  # restoring is silent
    await pill.click()
    assert not await pill.is_visible()
    summary = page.locator(f"{LEAKS} summary")
    assert await summary.is_visible()
    assert await summary.evaluate("s => s === document.activeElement")
    await wait_until(
        page,
        "t => document.querySelector('[data-ai-notice-status]').textContent === t",
        strings("notice.status_expanded"),
    )
    await page.reload()
    await page.wait_for_selector(UPGRADED, state="attached")
    assert await summary.is_visible()
    no_errors(page)


async def test_chatbot_notice_never_goes_below_its_label(new_page: NewPage, site: str) -> None:
    page = await new_page()
    await page.goto(f"{site}/notice/fr")
    await page.evaluate(
        "localStorage.setItem('ai-disclosure:collapsed',"
        " JSON.stringify({'montpellier-3m/tri-dechets': 1}))"
    )
    await page.reload()
    await page.wait_for_selector(UPGRADED, state="attached")
    assert await page.locator(f"{CHATBOT} .ai-notice__label").is_visible()
    assert await page.locator(f"{CHATBOT} [data-ai-notice-collapse]").count() == 0
    await page.click(f"{CHATBOT} summary")
    assert await page.locator(f"{CHATBOT} dd").first.is_visible()


async def test_watch_fetch_shows_and_announces_ai_answers(
    new_page: NewPage, site: str, run_axe: Any
) -> None:
    page = await new_page()
    await page.goto(f"{site}/spa")
    await wait_until(page, "window.AIDisclosure !== undefined")
    assert await page.locator(NOTICE).count() == 0
    await page.click("#ask-plain")  # mode=none: nothing to show
    await wait_until(page, "document.querySelector('#answer').textContent !== ''")
    await asyncio.sleep(0.3)
    assert await page.locator(NOTICE).count() == 0

    await page.click("#ask")
    notice = page.locator(NOTICE)
    await notice.wait_for(state="visible")
    label = catalogs()["fr"]("notice.label_ai_generated")
    assert await notice.locator(".ai-notice__label").text_content() == label
    assert await notice.get_attribute("lang") == "fr"
    # Polled from Python: the page's strict CSP forbids the eval a JS predicate needs.
    await page.locator("[role=status]", has_text=label).wait_for(state="attached")
    await page.click("#ask-params")
    await page.wait_for_timeout(300)
    assert await page.locator(NOTICE).count() == 1
    assert await page.locator("[role=status]").count() == 1
    violations = await run_axe(page)
    assert not violations, describe(violations)
    no_errors(page)


async def test_watch_fetch_reads_the_parameter_form(new_page: NewPage, site: str) -> None:
    page = await new_page()
    await page.goto(f"{site}/spa")
    await wait_until(page, "window.AIDisclosure !== undefined")
    await page.click("#ask-params")
    await page.locator(NOTICE).wait_for(state="visible")


async def test_watch_fetch_on_a_page_with_a_notice_announces_in_its_language(
    new_page: NewPage, site: str
) -> None:
    page = await open_page(new_page, f"{site}/notice/en?systems=tri-dechets&page=fr")
    # (A bare "AIDisclosure.watchFetch()" would hand back unwatchFetch, which
    # evaluate() would then call.)
    await page.evaluate("() => { AIDisclosure.watchFetch(); }")
    await page.evaluate("() => fetch('/api/answer').then(r => r.ok)")
    await wait_until(
        page,
        "t => document.querySelector('[role=status]').textContent === t",
        catalogs()["en"]("notice.label_ai_generated"),
    )
    assert await page.locator(NOTICE).count() == 1
    assert await page.locator("[role=status]").count() == 1
    await page.evaluate("() => { AIDisclosure.unwatchFetch(); }")
    assert await page.evaluate("window.fetch.toString()") == "function fetch() { [native code] }"


async def test_parse_disclosure(new_page: NewPage, site: str) -> None:
    page = await new_page()
    await page.goto(f"{site}/spa")
    await wait_until(page, "window.AIDisclosure !== undefined")
    parse = "h => AIDisclosure.parseDisclosure(h)"
    cases = {
        "mode=ai-originated": {"mode": "ai-originated"},
        'mode=ai-originated, model="mistral-small", provider="Mistral AI"': {
            "mode": "ai-originated",
            "model": "mistral-small",
            "provider": "Mistral AI",
        },
        'mode=ai-modified;model="x, y";reviewed-by="agent \\"eau\\""': {
            "mode": "ai-modified",
            "model": "x, y",
            "reviewed-by": 'agent "eau"',
        },
        "mode=none, reviewed": {"mode": "none", "reviewed": True},
        "": {},
    }
    for header, expected in cases.items():
        assert await page.evaluate(parse, header) == expected, header
    assert await page.evaluate("AIDisclosure.parseDisclosure(null)") == {}


async def test_mark(new_page: NewPage, site: str) -> None:
    strings = catalogs()["fr"]
    page = await new_page()
    await page.goto(f"{site}/spa")
    await wait_until(page, "window.AIDisclosure !== undefined")
    target = page.locator("#marked")
    await page.evaluate(
        "AIDisclosure.mark(document.querySelector('#marked'), {value: 'ai-generated'})"
    )
    assert await target.get_attribute("ai-disclosure") == "ai-generated"
    # The label goes right before the content it labels (as ai_content() puts it).
    label = page.locator("#marked + *, [data-ai-mark]:has(+ #marked)").first
    assert await label.get_attribute("data-ai-mark") == ""
    assert await label.text_content() == "IA " + strings("notice.mark_generated")
    assert await label.is_visible()
    await page.evaluate(
        "AIDisclosure.mark(document.querySelector('#marked'), {value: 'ai-assisted'})"
    )
    assert await page.locator("[data-ai-mark]").count() == 1
    assert await label.text_content() == "IA " + strings("notice.mark_assisted")
    await page.evaluate(
        "AIDisclosure.mark(document.querySelector('#marked'),"
        " {value: 'ai-autonomous', label: 'Résumé automatique'})"
    )
    assert await label.text_content() == "IA Résumé automatique"
    assert await target.get_attribute("ai-disclosure") == "ai-autonomous"
    await page.evaluate(
        "AIDisclosure.mark(document.querySelector('#marked'), {value: 'human-only'})"
    )
    assert await target.get_attribute("ai-disclosure") == "human-only"
    assert await page.locator("[data-ai-mark]").count() == 0
    # Elements that cannot hold a label get it before them too.
    before = await page.evaluate(
        "async () => { const img = document.createElement('img'); img.alt = 'Carte';"
        " document.querySelector('main').append(img);"
        " const tag = await AIDisclosure.mark(img, {value: 'ai-modified'});"
        " return [img.previousElementSibling === tag, img.getAttribute('ai-disclosure')]; }"
    )
    assert before == [True, "ai-modified"]
    same = await page.evaluate(
        "import('/.well-known/ai-disclosure/ai-notice.js')"
        ".then(m => m.mark === AIDisclosure.mark && m.watchFetch === AIDisclosure.watchFetch)"
    )
    assert same
    no_errors(page)


async def test_script_icons_match_the_server_icons(new_page: NewPage, site: str) -> None:
    page = await open_page(new_page, f"{site}/notice/fr")
    paths = await page.evaluate(
        "async () => { const out = {};"
        " for (const [value, icon] of [['ai-generated', 'ai-generated'],"
        " ['ai-modified', 'ai-modified'], ['machine-generated', 'ai']]) {"
        "   const p = document.createElement('p'); document.body.append(p);"
        "   const tag = await AIDisclosure.mark(p, {value});"
        "   out[icon] = tag.querySelector('path').getAttribute('d'); }"
        " return out; }"
    )
    for icon, d in paths.items():
        server = await page.get_attribute(f'[data-ai-notice-icon="{icon}"] summary path', "d")
        assert d == server, icon
    assert json.dumps(paths)
