"""AI content marked in the page, in real Chromium: accessible in every notice
language, visible, and marked the same way by the server and by the script."""

from __future__ import annotations

from typing import Any

import pytest

from ai_disclosure._catalog import catalogs
from ai_disclosure._notice import notice_languages

from .conftest import NewPage, describe, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="session")

LABEL = "[data-ai-mark]"


async def open_content(new_page: NewPage, site: str, lang: str) -> Any:
    page = await new_page()
    await page.goto(f"{site}/content/{lang}")
    await wait_until(page, "window.AIDisclosure !== undefined")
    return page


@pytest.mark.parametrize("lang", notice_languages())
async def test_marked_content_is_accessible_and_labelled_in_every_language(
    new_page: NewPage, site: str, run_axe: Any, lang: str
) -> None:
    page = await open_content(new_page, site, lang)
    strings = catalogs()[lang]
    for container, value in (("#answer", "ai-autonomous"), ("#article", "ai-assisted")):
        label = page.locator(f"{container} > {LABEL}")
        assert await label.is_visible()
        assert (await label.inner_text()).startswith(strings("notice.pill"))
        content = page.locator(f"{container} > [ai-disclosure]")
        assert await content.get_attribute("ai-disclosure") == value
        # The label is seen first: above or before the content it labels.
        label_box, content_box = await label.bounding_box(), await content.bounding_box()
        assert label_box is not None
        assert content_box is not None
        assert label_box["y"] < content_box["y"] + 1
    article = page.locator("#article > [ai-disclosure]")
    assert await article.get_attribute("ai-model") == "mistral-small"
    violations = await run_axe(page)
    assert not violations, describe(violations)


@pytest.mark.parametrize("lang", ["fr", "ar"])
async def test_the_script_marks_like_the_server(new_page: NewPage, site: str, lang: str) -> None:
    page = await open_content(new_page, site, lang)
    marked = await page.evaluate(
        "async () => { const p = document.querySelector('#marked');"
        " await AIDisclosure.mark(p, {value: 'ai-autonomous'});"
        " return document.querySelector('#script').innerHTML; }"
    )
    server = await page.evaluate("document.querySelector('#answer').innerHTML")
    # Same label, same attributes: only the script's paragraph has its own id.
    assert marked == server.replace("<p ", '<p id="marked" ')
    with_model = await page.evaluate(
        "async () => { const p = document.querySelector('#marked');"
        " await AIDisclosure.mark(p, {value: 'ai-assisted', model: 'm', provider: 'P'});"
        " return [p.getAttribute('ai-model'), p.getAttribute('ai-provider')]; }"
    )
    assert with_model == ["m", "P"]
    # Marking again reuses the label the server wrote; a no-AI value removes it.
    again = await page.evaluate(
        "async () => { const p = document.querySelector('#answer > p');"
        " await AIDisclosure.mark(p, {value: 'ai-autonomous'});"
        " return document.querySelectorAll('#answer [data-ai-mark]').length; }"
    )
    assert again == 1
    removed = await page.evaluate(
        "async () => { const p = document.querySelector('#answer > p');"
        " await AIDisclosure.mark(p, {value: 'human-only'});"
        " return document.querySelectorAll('#answer [data-ai-mark]').length; }"
    )
    assert removed == 0
