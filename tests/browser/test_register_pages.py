"""The public register pages in a real browser: WCAG 2.1 A/AA (axe-core), the
keyboard, and the strict Content-Security-Policy (nothing blocked)."""

from __future__ import annotations

import socket
import threading
import time
import tomllib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from ai_disclosure._catalog import catalogs
from ai_disclosure.registry import create_app, create_token

from .conftest import ROOT, NewPage, describe

pytestmark = pytest.mark.asyncio(loop_scope="session")

MANIFEST = ROOT / "examples" / "montpellier" / "ai-disclosure.toml"
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


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread
        pass


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A registry on uvicorn with the Montpellier manifest and a week of counts."""
    folder: Path = tmp_path_factory.mktemp("register")
    url = f"sqlite+aiosqlite:///{folder / 'registry.sqlite3'}"
    token = create_token(url, "demarches")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(create_app(url), log_level="warning", access_log=False, ws="none")
    server = _Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the registry did not start")
        time.sleep(0.02)
    base = f"http://127.0.0.1:{port}"
    with MANIFEST.open("rb") as file:
        manifest = tomllib.load(file)
    rows = [
        {
            "system": "assistant-dechets",
            "route": "/dechets/assistant*",
            "mode": "ai-originated",
            "notice_shown": True,
            "language": "fr",
            "window_start": f"2026-11-{day:02d}T09:00:00Z",
            "count": day * 3,
        }
        for day in range(10, 27)
        if day % 4
    ]
    with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}) as client:
        assert client.put("/v1/services/demarches/manifest", json=manifest).status_code == 201
        body = {"batch_id": str(uuid.uuid4()), "service": "demarches", "counts": rows}
        assert client.post("/v1/disclosures", json=body).status_code == 202
    yield base
    server.should_exit = True
    thread.join(timeout=15)
    sock.close()


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
