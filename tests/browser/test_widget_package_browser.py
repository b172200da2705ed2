"""The front-end package on pages no Python server touches: a plain static server
on 127.0.0.1 serves the pages and the package installed from its tarball, under a
strict Content-Security-Policy with a nonce; the notice comes from a running
register's public JSON (``<ai-notice src>``) or follows a single-page app's routes."""

from __future__ import annotations

import html
import json
import secrets
import threading
from collections.abc import Iterator
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from ai_disclosure._manifest import load_manifest
from ai_disclosure.cli.render import Static

from ..conftest import EXAMPLE_MANIFEST
from ..npm_package import NAME, install, needs_npm, pack
from .conftest import NewPage, describe, wait_until

pytestmark = [
    pytest.mark.asyncio(loop_scope="session"),
    needs_npm,
]

PACKAGE = f"/node_modules/{NAME}"
ENTRY = "/v1/systems/demarches/detection-fuites"
NAMES = {"fr": "Détection des fuites d'eau", "ar": "كشف تسربات المياه"}
UPGRADED = "ai-notice[data-upgraded] [data-ai-notice-system]"
#: Every text the live region says, in order (the region may be made later).
RECORD_ANNOUNCEMENTS = """
window.__said = [];
window.__violations = [];
document.addEventListener("securitypolicyviolation",
  (e) => window.__violations.push(`${e.violatedDirective} ${e.blockedURI}`));
new MutationObserver(() => {
  const r = document.querySelector("[data-ai-notice-status]");
  const text = r && r.textContent;
  if (text && text !== window.__said.at(-1)) window.__said.push(text);
}).observe(document, { subtree: true, childList: true, characterData: true });
"""
SPA_JS = """
const heading = document.querySelector("h1");
for (const link of document.querySelectorAll("a[data-route]")) {
  link.addEventListener("click", (event) => {
    event.preventDefault();
    history.pushState({}, "", link.href);
    heading.textContent = link.textContent;
  });
}
const replace = document.querySelector("#replace");
replace.addEventListener("click", () => history.replaceState({}, "", "/contact"));
"""


class _Handler(SimpleHTTPRequestHandler):
    """A plain static server, as nginx or a CDN would be: files and one header."""

    csp = ""

    def end_headers(self) -> None:
        self.send_header("Content-Security-Policy", self.csp)
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # no request lines (no IPs) in the test output


def _page(lang: str, nonce: str, body: str, head: str = "") -> str:
    direction = "rtl" if lang == "ar" else "ltr"
    if not head:
        head = (
            f'<link rel="stylesheet" href="{PACKAGE}/ai-notice.css">'
            f'<script type="module" src="{PACKAGE}/ai-notice.js" nonce="{nonce}"></script>'
        )
    return (
        f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>Collecte</title>{head}</head><body>"
        f'<header><a href="/">Montpellier</a></header><main>{body}</main></body></html>'
    )


@pytest.fixture(scope="module")
def static_site(
    register: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    """(base URL, nonce) of a static site using only the installed package."""
    root = tmp_path_factory.mktemp("static-site")
    install(pack(tmp_path_factory.mktemp("pack")), root)
    nonce = secrets.token_urlsafe(16)
    entry_page = html.escape(f"{register}/systems/demarches/detection-fuites")
    fallback = (
        f'<p>Ce service utilise une IA : <a href="{entry_page}">sa fiche au registre</a>.</p>'
    )
    nope = f"{register}/v1/systems/demarches/nope"
    notices = {
        "fr.html": ("fr", f'<ai-notice src="{register}{ENTRY}">{fallback}</ai-notice>'),
        "ar.html": ("ar", f'<ai-notice src="{register}{ENTRY}">{fallback}</ai-notice>'),
        "own-fallback.html": ("fr", f'<ai-notice src="{nope}">{fallback}</ai-notice>'),
        "noscript-fallback.html": (
            "fr",
            f'<ai-notice src="{nope}"><noscript>{fallback}</noscript></ai-notice>',
        ),
        "no-fallback.html": ("fr", f'<ai-notice src="{nope}"></ai-notice>'),
    }
    pages = {
        name: _page(lang, nonce, f"<h1>Collecte</h1>{body}")
        for name, (lang, body) in notices.items()
    }
    manifest = load_manifest(EXAMPLE_MANIFEST)
    static = Static(manifest, manifest.systems, "fr", PACKAGE, nonce, routes=True)
    head, notice = static.fragments(page_language="fr")
    nav = (
        '<nav><a data-route href="/dechets/assistant">Assistant</a> '
        '<a data-route href="/eau/alertes">Alertes</a> '
        '<a data-route href="/courrier">Courrier</a> '
        '<button type="button" id="replace">Contact</button></nav>'
    )
    spa_head = head + f'<script type="module" src="/spa.js" nonce="{nonce}"></script>'
    pages["app.html"] = _page("fr", nonce, f"<h1>Accueil</h1>{nav}{notice}", spa_head)
    for name, text in pages.items():
        (root / name).write_text(text, encoding="utf-8")
    (root / "spa.js").write_text(SPA_JS, encoding="utf-8")
    policy = (
        f"default-src 'none'; script-src 'nonce-{nonce}'; style-src 'self'; img-src 'self'; "
        f"connect-src 'self' {register}; base-uri 'none'; form-action 'none'"
    )
    handler = type("Handler", (_Handler,), {"csp": policy})
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(handler, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", nonce
    server.shutdown()
    server.server_close()


async def _open(new_page: NewPage, url: str, **options: Any) -> Any:
    page = await new_page(**options)
    await page.add_init_script(RECORD_ANNOUNCEMENTS)
    await page.goto(url)
    return page


async def _no_violation(page: Any) -> None:
    assert await page.evaluate("window.__violations") == []
    errors = [m for m in page.console_log if "pageerror" in m or "Content Security" in m]
    assert not errors, errors


@pytest.mark.parametrize("lang", ["fr", "ar"])
async def test_the_notice_comes_from_the_register_axe_clean(
    static_site: tuple[str, str], register: str, new_page: NewPage, run_axe: Any, lang: str
) -> None:
    base, _ = static_site
    # axe is injected from the test site: let it past this site's policy.
    page = await _open(new_page, f"{base}/{lang}.html", bypass_csp=True)
    await page.wait_for_selector(UPGRADED, state="attached")
    host = await page.eval_on_selector(
        "ai-notice", "e => [e.getAttribute('lang'), e.getAttribute('dir'), e.textContent]"
    )
    # The register's notice in the page's language (or, if it lacks it, in one it states).
    answer = await (await page.request.get(f"{register}{ENTRY}/notice?lang={lang}")).json()
    if answer["lang"] == lang:
        assert host[:2] == [None, None]
        assert NAMES[lang] in host[2]
    else:
        assert host[:2] == [answer["lang"], "ltr"]
    assert "sa fiche au registre" not in host[2]  # the fallback made way
    violations = await run_axe(page)
    assert not violations, describe(violations)
    await page.click("ai-notice summary")
    link = await page.eval_on_selector(".ai-notice__register", "a => a.href")
    assert link.startswith("https://registre-ia.montpellier3m.example/systems/demarches/")
    violations = await run_axe(page)
    assert not violations, describe(violations)
    # The script's own buttons work on the fetched notice: minimise, reopen.
    await page.click("[data-ai-notice-collapse]")
    await page.click("[data-ai-notice-expand]")
    assert await page.is_visible("ai-notice summary")


async def test_the_nonce_policy_lets_everything_run(
    static_site: tuple[str, str], new_page: NewPage
) -> None:
    base, nonce = static_site
    page = await _open(new_page, f"{base}/fr.html")
    await page.wait_for_selector(UPGRADED, state="attached")
    response = await page.request.get(f"{base}/fr.html")
    assert f"script-src 'nonce-{nonce}'" in response.headers["content-security-policy"]
    style = await page.eval_on_selector(
        ".ai-notice", "e => getComputedStyle(e).borderInlineStartWidth"
    )
    assert style == "4px"  # the package's stylesheet applied
    await _no_violation(page)


async def test_when_the_register_fails_the_pages_fallback_stays(
    static_site: tuple[str, str], new_page: NewPage
) -> None:
    base, _ = static_site
    page = await _open(new_page, f"{base}/own-fallback.html")
    await page.wait_for_selector("ai-notice[data-upgraded]", state="attached")
    await wait_until(page, "() => !document.querySelector('[data-ai-notice-system]')")
    text = await page.eval_on_selector("ai-notice", "e => e.textContent")
    assert "sa fiche au registre" in text
    await _no_violation(page)


async def test_when_the_register_fails_a_noscript_fallback_shows_with_no_more_script(
    static_site: tuple[str, str], new_page: NewPage
) -> None:
    base, _ = static_site
    page = await new_page()
    await page.add_init_script(RECORD_ANNOUNCEMENTS)
    loaded: list[str] = []
    page.on("request", lambda r: loaded.append(r.url.rsplit("/", 1)[-1]))
    await page.goto(f"{base}/noscript-fallback.html")
    await page.wait_for_selector("ai-notice > p > a", state="visible")
    text = await page.eval_on_selector("ai-notice", "e => e.innerText")
    assert text == "Ce service utilise une IA : sa fiche au registre."
    # The page's own words: no catalog, and only the modules an <ai-notice src> needs.
    assert not [name for name in loaded if name.endswith(".json") and "fr" in name]
    assert "ai-notice-dom.js" not in loaded
    await _no_violation(page)


async def test_without_a_fallback_the_script_says_where_to_read_more(
    static_site: tuple[str, str], new_page: NewPage, register: str
) -> None:
    base, _ = static_site
    page = await new_page()
    await page.add_init_script(RECORD_ANNOUNCEMENTS)
    catalogs: list[str] = []
    page.on("request", lambda r: catalogs.append(r.url) if "/i18n/" in r.url else None)
    await page.goto(f"{base}/no-fallback.html")
    await page.wait_for_selector(".ai-notice__fallback a", state="attached")
    # The words come from one catalog, the page's language's: never all of them.
    assert catalogs == [f"{base}{PACKAGE}/i18n/fr.json"]
    link = await page.eval_on_selector(".ai-notice__fallback a", "a => [a.href, a.textContent]")
    assert link == [
        f"{register}/systems/demarches/nope",
        "Fiche complète dans le registre des algorithmes",
    ]
    await _no_violation(page)


async def test_without_javascript_the_fallback_shows(
    static_site: tuple[str, str], new_page: NewPage
) -> None:
    base, _ = static_site
    page = await new_page(java_script_enabled=False)
    await page.goto(f"{base}/noscript-fallback.html")
    shown = await page.eval_on_selector(
        "ai-notice", "e => [e.innerText, e.querySelector('a').getBoundingClientRect().height > 0]"
    )
    assert shown == ["Ce service utilise une IA : sa fiche au registre.", True]


async def test_a_single_page_app_notice_follows_the_route(
    static_site: tuple[str, str], new_page: NewPage
) -> None:
    base, _ = static_site
    page = await _open(new_page, f"{base}/app.html")
    await page.wait_for_selector("ai-notice[data-upgraded]", state="attached")
    shown = (
        "() => { const n = document.querySelector('ai-notice');"
        " return n.hidden ? null : [...n.querySelectorAll('[data-ai-notice-system]')]"
        ".filter((i) => !i.hidden).map((i) => i.getAttribute('data-ai-notice-system')); }"
    )
    assert await page.evaluate(shown) is None  # no rule for /app.html: no notice
    labels = await page.eval_on_selector_all(
        "[data-ai-notice-system]",
        "items => Object.fromEntries(items.map((i) => [i.getAttribute('data-ai-notice-system'),"
        " i.querySelector('.ai-notice__label').textContent]))",
    )
    await page.click("text=Assistant")
    assert await page.evaluate(shown) == ["demarches/assistant-dechets"]
    await page.click("text=Alertes")
    assert await page.evaluate(shown) == ["demarches/detection-fuites"]
    await page.go_back()  # popstate
    assert await page.evaluate("location.pathname") == "/dechets/assistant"
    assert await page.evaluate(shown) == ["demarches/assistant-dechets"]
    await page.click("text=Courrier")
    assert await page.evaluate(shown) == ["demarches/tri-courrier"]
    said = [
        labels[f"demarches/{s}"] for s in ("assistant-dechets", "detection-fuites", "tri-courrier")
    ]
    await wait_until(page, "n => window.__said.length >= n", 3)
    # Each system announced once, politely: going back to one is not announced again.
    assert await page.evaluate("window.__said") == said
    role = await page.eval_on_selector("[data-ai-notice-status]", "r => r.getAttribute('role')")
    assert role == "status"
    await page.click("#replace")  # replaceState to a page without AI
    assert await page.evaluate(shown) is None
    await _no_violation(page)
    assert json.loads(await page.eval_on_selector("[data-ai-notice-routes]", "s => s.textContent"))
