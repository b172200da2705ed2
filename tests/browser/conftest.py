"""Shared fixtures for tests that drive a real browser.

- ``browser``: one headless Debian Chromium (``/usr/bin/chromium``) for the
  whole session, driven by Playwright's async API. Async fixtures and tests
  that use it run in the session's event loop: put
  ``pytestmark = pytest.mark.asyncio(loop_scope="session")`` in the module.
- ``new_page``: opens a page in a fresh context (keyword arguments go to
  ``browser.new_context``), records console messages on ``page.console_log``
  and closes everything after the test.
- ``site``: a real uvicorn server on 127.0.0.1 (a free port) serving the
  widget assets and test pages under a strict Content-Security-Policy.
- ``register``: a registry on uvicorn (SQLite) with the Montpellier manifest
  published and a few weeks of counts; its base URL.
- ``run_axe``: runs axe-core (from ``node_modules``, see ``package.json``) on
  a page for the WCAG 2.1 A and AA rules and returns the violations.

Without Chromium or Playwright the browser tests are skipped, unless the ``CI``
environment variable is set: in CI they run, and fail loudly if either is missing.
"""

from __future__ import annotations

import html
import importlib.util
import json
import os
import shutil
import socket
import threading
import time
import tomllib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from starlette.applications import Starlette
from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ai_disclosure import _catalog
from ai_disclosure._catalog import catalog_dir, catalogs
from ai_disclosure._content import render_content
from ai_disclosure._model import (
    HumanReview,
    Interaction,
    Manifest,
    Origin,
    Service,
    System,
)
from ai_disclosure._notice import notice_languages, render_head, render_notice, widgets_dir
from ai_disclosure.registry import create_app, create_token

from ..conftest import EXAMPLE_MANIFEST, NAMED_LANGUAGES, marked_catalog, with_named_languages
from ..servers import thread_server

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "test-artifacts" / "screenshots"
CSP = "default-src 'self'; style-src 'self'; script-src 'self'"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
IN_CI = bool(os.environ.get("CI"))
CHROMIUM_INSTALLED = CHROMIUM.exists()


def _unavailable() -> str | None:
    """Why a real browser cannot run here, or None."""
    if not CHROMIUM_INSTALLED:
        return f"{CHROMIUM} is not installed (apt-get install -y chromium)"
    if importlib.util.find_spec("playwright") is None:
        return "playwright is not importable (pip install -e '.[test]')"
    return None


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip browser tests without Chromium or Playwright; never in CI."""
    reason = _unavailable()
    if reason is None or IN_CI:
        return  # in CI the ``browser`` fixture fails loudly instead
    here = Path(__file__).parent
    for item in items:
        if here in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.skip(reason=reason))


# --- The sample manifest ----------------------------------------------------


#: Every language of the catalog, and those the tests name.
LANGS = tuple(with_named_languages(notice_languages()))
#: The languages the sample manifest's texts are written in.
TEXT_LANGS = ("fr", "en", "oc", "es", "ca", "ar")


@pytest.fixture(scope="package", autouse=True)
def named_languages(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """While a named language is being translated, the browser tests read a copy of
    the catalog with a file made for it (English, marked); else the catalog itself."""
    missing = [tag for tag in NAMED_LANGUAGES if tag not in catalogs()]
    if not missing:
        yield
        return
    folder = tmp_path_factory.mktemp("catalog") / "i18n"
    shutil.copytree(catalog_dir(), folder)
    for tag in missing:
        text = json.dumps(marked_catalog(tag, NAMED_LANGUAGES[tag]), ensure_ascii=False)
        (folder / f"{tag}.json").write_text(text, encoding="utf-8")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_catalog, "catalog_dir", lambda: folder)
        catalogs.cache_clear()
        yield
    catalogs.cache_clear()


def _t(*texts: str) -> dict[str, str]:
    """Text in fr, en, oc, es, ca, ar (in that order; trailing ones may be left out)."""
    return dict(zip(TEXT_LANGS, texts, strict=False))


def sample_manifest(**service_overrides: Any) -> Manifest:
    """Montpellier's three example systems, with text in the six notice languages."""
    service_fields: dict[str, Any] = {
        "id": "montpellier-3m",
        "name": "Services en ligne de la Métropole",
        "operator": "Montpellier Méditerranée Métropole",
        "contact": "ia@montpellier3m.fr",
        "default_language": "fr",
        "languages": LANGS,
        "register_url": "https://registre.montpellier3m.fr",
    }
    service_fields.update(service_overrides)
    chatbot = System(
        id="tri-dechets",
        name=_t(
            "Assistant du tri des déchets",
            "Waste sorting assistant",
            "Assistent del triatge dels rebuts",
            "Asistente de separación de residuos",
            "Assistent de separació de residus",
            "مساعد فرز النفايات",
        ),
        interaction=Interaction.CHATBOT,
        origin=Origin.AI_ORIGINATED,
        human_review=HumanReview(reviewed=False),
        purpose=_t(
            "Répondre à vos questions sur le tri et la collecte des déchets.",
            "Answers your questions about waste sorting and collection.",
            "Respondre a vòstras questions sus lo triatge e la collècta dels rebuts.",
            "Responder a sus preguntas sobre la separación y la recogida de residuos.",
            "Respondre les vostres preguntes sobre la separació i la recollida de residus.",
            "الإجابة عن أسئلتك حول فرز النفايات وجمعها.",
        ),
        data_sources=(
            _t(
                "Guide du tri de la Métropole",
                "The Metropole's sorting guide",
                "Guida del triatge de la Metropòli",
                "Guía de separación de la Metrópoli",
                "Guia de separació de la Metròpoli",
                "دليل الفرز في ميتروبول مونبلييه",
            ),
            _t(
                "Calendriers de collecte",
                "Collection calendars",
                "Calendièrs de collècta",
                "Calendarios de recogida",
                "Calendaris de recollida",
                "مواعيد جمع النفايات",
            ),
        ),
        recourse=_t(
            "Demandez à parler à un agent au 04 67 00 00 00, du lundi au vendredi.",
            "Ask to speak to an agent on +33 4 67 00 00 00, Monday to Friday.",
            "Demandatz de parlar a un agent al 04 67 00 00 00, del diluns al divendres.",
            "Pida hablar con un agente en el +33 4 67 00 00 00, de lunes a viernes.",
            "Demaneu parlar amb un agent al +33 4 67 00 00 00, de dilluns a divendres.",
            "اطلب التحدث إلى موظف على الرقم \u2066+33 4 67 00 00 00\u2069، من الاثنين إلى الجمعة.",
        ),
    )
    leaks = System(
        id="alertes-fuites",
        name=_t(
            "Alertes de fuite d’eau",
            "Water leak alerts",
            "Alèrtas de fuga d’aiga",
            "Alertas de fuga de agua",
            "Alertes de fuita d’aigua",
            "تنبيهات تسرّب المياه",
        ),
        interaction=Interaction.AUTOMATED_DECISION,
        origin=Origin.MACHINE_GENERATED,
        human_review=HumanReview(reviewed=True, by="agents du service de l’eau"),
        purpose=_t(
            "Repérer une consommation anormale sur votre compteur communicant et vous prévenir.",
            "Spots unusual use on your smart meter and warns you.",
            "Reperar un consum anormal sus vòstre comptador comunicant e vos avertir.",
            "Detectar un consumo anómalo en su contador inteligente y avisarle.",
            "Detectar un consum anòmal al vostre comptador intel·ligent i avisar-vos.",
            "رصد الاستهلاك غير المعتاد في عدّادك الذكي وتنبيهك.",
        ),
        data_sources=(
            _t(
                "Relevés horaires de votre compteur",
                "Hourly meter readings",
                "Relevats oraris de vòstre comptador",
                "Lecturas horarias de su contador",
                "Lectures horàries del vostre comptador",
                "قراءات عدّادك كل ساعة",
            ),
        ),
    )
    translation = System(
        id="traduction",
        name=_t(
            "Traduction automatique des pages",
            "Machine translation of pages",
            "Traduccion automatica de las paginas",
            "Traducción automática de las páginas",
            "Traducció automàtica de les pàgines",
            "الترجمة الآلية للصفحات",
        ),
        interaction=Interaction.TRANSLATION,
        origin=Origin.AI_MODIFIED,
        human_review=HumanReview(reviewed=False),
        purpose=_t(
            "Proposer les pages du site dans d’autres langues que le français.",
            "Offers the site's pages in languages other than French.",
            "Prepausar las paginas del site dins d’autras lengas que lo francés.",
            "Ofrecer las páginas del sitio en otros idiomas además del francés.",
            "Oferir les pàgines del web en altres llengües a més del francès.",
            "إتاحة صفحات الموقع بلغات أخرى غير الفرنسية.",
        ),
        data_sources=(
            _t(
                "Le texte des pages",
                "The text of the pages",
                "Lo tèxt de las paginas",
                "El texto de las páginas",
                "El text de les pàgines",
                "نص الصفحات",
            ),
        ),
    )
    return Manifest(
        service=Service(**service_fields),
        systems=(chatbot, leaks, translation),
    )


#: The test page's own text, per language: home link, heading, sentence, link.
PAGE_TEXT = {
    "fr": (
        "Accueil",
        "Collecte des déchets",
        "Les jours de collecte dépendent de votre adresse.",
        "Trouver mes jours de collecte",
    ),
    "en": (
        "Home",
        "Waste collection",
        "Collection days depend on your address.",
        "Find my collection days",
    ),
    "oc": (
        "Acuèlh",
        "Collècta dels rebuts",
        "Los jorns de collècta dependon de vòstra adreça.",
        "Trobar mos jorns de collècta",
    ),
    "es": (
        "Inicio",
        "Recogida de residuos",
        "Los días de recogida dependen de su dirección.",
        "Consultar mis días de recogida",
    ),
    "ca": (
        "Inici",
        "Recollida de residus",
        "Els dies de recollida depenen de la vostra adreça.",
        "Consultar els meus dies de recollida",
    ),
    "ar": ("الرئيسية", "جمع النفايات", "تعتمد أيام الجمع على عنوانك.", "اعرف أيام الجمع الخاصة بك"),
}


MANIFEST = sample_manifest()
#: The same with long unbreakable strings, for narrow screens.
LONG_MANIFEST = sample_manifest(
    operator="Montpellier Méditerranée Métropole, direction de la collecte et du traitement"
    " des déchets ménagers et assimilés",
    contact="collecte.tri.dechets.menagers.assimiles.metropole@montpellier3m.fr",
    register_url="https://registre-des-algorithmes-publics.montpellier-mediterranee-metropole.fr",
)
ALL_SYSTEMS = ("tri-dechets", "alertes-fuites", "traduction")
#: A translation a newsroom reviews before publication, for marked content.
REVIEWED_TRANSLATION = System(
    id="traduction-relue",
    name={"fr": "Traduction des articles", "en": "Translation of articles"},
    interaction=Interaction.TRANSLATION,
    origin=Origin.AI_MODIFIED,
    human_review=HumanReview(reviewed=True, by="la rédaction"),
    purpose={"fr": "Traduire les articles.", "en": "Translate the articles."},
    provider="Mistral AI",
    model="mistral-small",
)


# --- The test site ----------------------------------------------------------


def _page(lang: str, head: str, body: str, title: str = "Test") -> str:
    direction = catalogs()[lang].dir if lang in catalogs() else "ltr"
    return (
        f'<!doctype html><html lang="{lang}" dir="{direction}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/site.css">'
        f"{head}</head><body>{body}</body></html>"
    )


SITE_CSS = """
body { margin: 0; font: 16px/1.5 "DejaVu Sans", "Liberation Sans", sans-serif; }
body { color: #1d2125; background: #fff; }
header, main, footer { max-width: 46rem; margin: 0 auto; padding: .75rem 1rem; }
header { border-bottom: 1px solid #d9dde2; }
header a, main a, footer a { color: #0b5b66; }
h1 { font-size: 1.5rem; margin: .5rem 0; }
"""

SPA_JS = """
import { watchFetch } from "/.well-known/ai-disclosure/ai-notice.js";
watchFetch();
const out = document.querySelector("#answer");
for (const button of document.querySelectorAll("[data-ask]")) {
  button.addEventListener("click", async () => {
    const response = await fetch(button.dataset.ask);
    const data = await response.json();
    out.textContent = data.answer;
  });
}
"""


def notice_page(request: Request) -> HTMLResponse:
    lang = request.path_params["lang"]
    ids = request.query_params.get("systems", ",".join(ALL_SYSTEMS)).split(",")
    # A page written in a language of its own, else a French page around the notice.
    page_lang = request.query_params.get("page", lang if lang in PAGE_TEXT else "fr")
    manifest = LONG_MANIFEST if request.query_params.get("manifest") == "long" else MANIFEST
    systems = [manifest.system(i) for i in ids if i]
    head = render_head(manifest, systems, lang)
    notice = render_notice(manifest, systems, lang, page_language=page_lang)
    home, heading, sentence, link = PAGE_TEXT.get(page_lang, PAGE_TEXT["fr"])
    body = (
        f'<header><a href="/" id="before">{home}</a></header>'
        f"<main><h1>{heading}</h1>{notice}"
        f'<p id="after-text">{sentence} <a href="/collecte" id="after">{link}</a></p></main>'
        "<footer><p>Montpellier Méditerranée Métropole</p></footer>"
    )
    return HTMLResponse(_page(page_lang, head, body, heading))


def content_page(request: Request) -> HTMLResponse:
    """A page with AI content marked by ``render_content`` (a chatbot answer and a
    reviewed translation), and an empty paragraph for the script to mark."""
    lang = request.path_params["lang"]
    chatbot, translation = MANIFEST.system("tri-dechets"), REVIEWED_TRANSLATION
    manifest = Manifest(MANIFEST.service, (chatbot, translation))
    head = render_head(manifest, [chatbot, translation], lang)
    notice = render_notice(manifest, [chatbot, translation], lang, page_language=lang)
    home, heading, sentence, link = PAGE_TEXT.get(lang, PAGE_TEXT["fr"])
    answer = render_content(manifest, [chatbot], sentence, lang, tag="p", page_language=lang)
    article = render_content(
        manifest, [translation], f"<p>{html.escape(sentence)}</p>", lang, page_language=lang
    )
    body = (
        f'<header><a href="/" id="before">{home}</a></header>'
        f'<main><h1>{heading}</h1>{notice}<div id="answer">{answer}</div>'
        f'<div id="article">{article}</div><div id="script"><p id="marked">{sentence}</p></div>'
        f'<p><a href="/collecte">{link}</a></p></main>'
    )
    return HTMLResponse(_page(lang, head, body, heading))


def spa_page(request: Request) -> HTMLResponse:
    head = render_head(MANIFEST, [], "fr") + '<script type="module" src="/spa.js"></script>'
    body = (
        "<main><h1>Poser une question</h1>"
        '<button type="button" data-ask="/api/answer" id="ask">Demander</button> '
        '<button type="button" data-ask="/api/answer-params" id="ask-params">Demander (2)</button> '
        '<button type="button" data-ask="/api/plain" id="ask-plain">Sans IA</button>'
        '<p id="answer"></p><p id="marked">Résumé de la délibération.</p></main>'
    )
    return HTMLResponse(_page("fr", head, body, "Question"))


def answer(header: str | None) -> Callable[[Request], Response]:
    def endpoint(request: Request) -> Response:
        response = JSONResponse({"answer": "Le verre va dans la colonne verte."})
        if header:
            response.headers["AI-Disclosure"] = header
        return response

    return endpoint


class StrictCSP:
    """ASGI wrapper: every response gets the strict policy and no caching."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers["Content-Security-Policy"] = CSP
                headers["Cache-Control"] = "no-store"
            await send(message)

        await self.app(scope, receive, send_with_headers)


def build_app() -> ASGIApp:
    app = Starlette(
        routes=[
            Route("/notice/{lang}", notice_page),
            Route("/spa", spa_page),
            Route("/content/{lang}", content_page),
            Route("/api/answer", answer('mode=ai-originated, model="mistral-small"')),
            Route("/api/answer-params", answer('mode=ai-originated;model="mistral-small"')),
            Route("/api/plain", answer("mode=none")),
            Route("/favicon.ico", lambda r: Response(status_code=204)),
            Route("/site.css", lambda r: Response(SITE_CSS, media_type="text/css")),
            Route("/spa.js", lambda r: Response(SPA_JS, media_type="text/javascript")),
            Route("/axe.js", lambda r: FileResponse(AXE, media_type="text/javascript")),
            Mount("/.well-known/ai-disclosure", app=StaticFiles(directory=widgets_dir())),
        ]
    )
    return StrictCSP(app)


@pytest.fixture(scope="session")
def site() -> Iterator[str]:
    """Base URL of the test site, served by uvicorn in a thread."""
    with thread_server(build_app(), ws="none") as url:
        yield url


# --- The browser ------------------------------------------------------------


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for the session."""
    if not CHROMIUM_INSTALLED:
        pytest.fail(f"{CHROMIUM} is missing: apt-get install -y chromium", pytrace=False)
    if importlib.util.find_spec("playwright") is None:
        pytest.fail("playwright is missing: pip install -e '.[test]'", pytrace=False)
    from playwright.async_api import async_playwright

    playwright = await async_playwright().start()
    try:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            await chromium.close()
    finally:
        await playwright.stop()


NewPage = Callable[..., Awaitable[Any]]


@pytest_asyncio.fixture(loop_scope="session")
async def new_page(browser: Any) -> AsyncIterator[NewPage]:
    """Factory: ``page = await new_page(viewport=..., java_script_enabled=...)``."""
    contexts: list[Any] = []

    async def make(**options: Any) -> Any:
        options.setdefault("viewport", {"width": 1024, "height": 768})
        context = await browser.new_context(**options)
        contexts.append(context)
        page = await context.new_page()
        page.console_log = []
        page.on("console", lambda message: page.console_log.append(message.text))
        page.on("pageerror", lambda error: page.console_log.append(f"pageerror: {error}"))
        return page

    yield make
    for context in contexts:
        await context.close()


@pytest.fixture(scope="session")
def run_axe(site: str) -> Callable[[Any], Awaitable[list[dict[str, Any]]]]:
    """``violations = await run_axe(page)``: WCAG 2.1 A/AA rules only."""
    if not AXE.exists():
        pytest.fail(f"{AXE} is missing: run `npm ci` at the repository root", pytrace=False)

    async def run(page: Any) -> list[dict[str, Any]]:
        if not await page.evaluate("typeof window.axe !== 'undefined'"):
            await page.add_script_tag(url=f"{site}/axe.js")
        result = await page.evaluate(
            "tags => axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})",
            WCAG_TAGS,
        )
        violations: list[dict[str, Any]] = result["violations"]
        return violations

    return run


def describe(violations: list[dict[str, Any]]) -> str:
    """Readable summary of axe violations for assertion messages."""
    lines = []
    for violation in violations:
        targets = [node["target"] for node in violation["nodes"]]
        lines.append(f"{violation['id']}: {violation['help']} {targets}")
        for node in violation["nodes"][:3]:
            lines.append(f"    {node.get('failureSummary', '')}")
    return "\n".join(lines)


@pytest.fixture(scope="session")
def screenshots() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


async def wait_until(page: Any, expression: str, arg: Any = None, seconds: float = 15) -> None:
    """Poll ``expression`` (a JS function of ``arg``, or an expression) from Python.

    ``page.wait_for_function`` compiles its predicate with eval inside the page, which a
    strict CSP (the one these tests serve) forbids as soon as it has to poll.
    """
    import asyncio

    deadline = asyncio.get_running_loop().time() + seconds
    while not await page.evaluate(expression, arg):
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out after {seconds}s waiting for {expression}")
        await asyncio.sleep(0.05)


# --- A running register ----------------------------------------------------------


class _Server(uvicorn.Server):
    def install_signal_handlers(self) -> None:  # not the main thread
        pass


@pytest.fixture(scope="session")
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
    with EXAMPLE_MANIFEST.open("rb") as file:
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
