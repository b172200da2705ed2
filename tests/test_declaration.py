"""The declaration page: the manifest as a citizen reads it, and the notice's way to it."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from typing import Any
from xml.etree.ElementTree import Element

import html5lib  # type: ignore[import-untyped]
import pytest

from ai_disclosure import load_manifest
from ai_disclosure._catalog import Catalog, catalogs
from ai_disclosure._declaration import (
    declaration_languages,
    page_language,
    pages_concerned,
    prefers_html,
    render_declaration,
)
from ai_disclosure._model import Manifest, Route
from ai_disclosure._notice import notice_languages, render_notice, widgets_dir

from .conftest import with_named_languages

#: Every language of the catalog (and those the tests name), all offered by the
#: service below.
LANGUAGES = with_named_languages(notice_languages())
pytestmark = pytest.mark.usefixtures("languages")

#: A service without a register: its notices link to the declaration page.
DECLARATION: dict[str, Any] = {
    "service": {
        "id": "demarches",
        "name": "Démarches en ligne",
        "operator": "Montpellier Méditerranée Métropole",
        "contact": "mailto:ia@example.org",
        "default_language": "fr",
        "languages": list(LANGUAGES),
        "description": {
            "fr": "Le portail des démarches de la Métropole.",
            "en": "The Metropolis's online services portal.",
        },
    },
    "systems": [
        {
            "id": "assistant-dechets",
            "interaction": "chatbot",
            "origin": "ai-originated",
            "human_review": False,
            "provider": "Mistral AI",
            "model": "mistral-small",
            "name": {
                "fr": "Assistant tri des déchets",
                "en": "Waste-sorting assistant",
                "oc": "Assistent de tria dels rebuts",
                "es": "Asistente de clasificación de residuos",
                "ca": "Assistent de separació de residus",
                "ar": "مساعد فرز النفايات",
            },
            "purpose": {
                "fr": "Répondre aux questions sur le tri des déchets.",
                "en": "Answer questions about waste sorting.",
                "ar": "الإجابة عن الأسئلة المتعلقة بفرز النفايات.",
            },
            "data_sources": [{"fr": "Guide du tri de la Métropole", "en": "The sorting guide"}],
            "recourse": {
                "fr": "Pour parler à un agent : 0 800 88 11 77.",
                "en": "To talk to a person: 0 800 88 11 77.",
            },
        },
        {
            "id": "detection-fuites",
            "interaction": "automated-decision",
            "origin": "machine-generated",
            "human_review": {"reviewed": True, "by": "Régie des eaux"},
            "name": {"fr": "Détection des fuites d'eau", "en": "Water-leak detection"},
            "purpose": {"fr": "Prévenir l'abonné d'une fuite probable.", "en": "Warn of leaks."},
        },
        {
            "id": "tri-courrier",
            "interaction": "decision-support",
            "origin": "none",
            "human_review": True,
            "audience": "internal",
            "status": "in-development",
            "name": {"fr": "Aide au tri du courrier"},
            "purpose": {"fr": "Proposer aux agents le service compétent."},
        },
        {
            "id": "traduction-pages",
            "interaction": "translation",
            "origin": "ai-modified",
            "human_review": False,
            "register_url": "https://registre.example/fiches/traduction-pages",
            "name": {"fr": "Traduction automatique des pages", "en": "Machine translation"},
            "purpose": {"fr": "Traduire les pages.", "en": "Translate the pages."},
        },
    ],
    "routes": [
        {"path": "/dechets/assistant*", "systems": ["assistant-dechets"]},
        {"path": "/eau/alertes", "systems": ["detection-fuites"]},
        {"path": "/eau/*/alertes*", "systems": ["detection-fuites"]},
        {"path": "/*", "systems": ["traduction-pages"]},
    ],
}
MANIFEST = load_manifest(DECLARATION)

CHROMIUM_ACCEPT = (
    "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,"
    "image/apng,*/*;q=0.8,application/signed-exchange;v=b3;q=0.7"
)
FIREFOX_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def manifest_with(**service: Any) -> Manifest:
    data = {**DECLARATION, "service": {**DECLARATION["service"], **service}}
    return load_manifest(data)


def parse(html: str) -> Element:
    root: Element = html5lib.parse(html, namespaceHTMLElements=False)
    return root


def text_of(element: Element) -> str:
    # ASCII whitespace only: the catalog's no-break spaces are part of the text.
    return re.sub(r"[ \t\n\r\f]+", " ", "".join(element.itertext())).strip()


def by_id(root: Element, element_id: str) -> Element:
    [found] = [e for e in root.iter() if e.get("id") == element_id]
    return found


# --- Negotiation ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("accept", "html"),
    [
        (CHROMIUM_ACCEPT, True),
        (FIREFOX_ACCEPT, True),
        ("text/html", True),
        ("TEXT/HTML", True),
        ("text/*", True),
        ("text/html; level=1; q=0.9, */*;q=0.1", True),
        ("application/json;q=0.5, text/html", True),
        ("application/*;q=0.2, text/html;q=0.3", True),
        (None, False),
        ("", False),
        ("*/*", False),  # curl, httpx, most clients
        ("application/json", False),
        ("application/json, text/html", False),  # a tie keeps JSON
        ("text/html;q=0.5, application/json", False),
        ("text/html;q=0, */*", False),
        ("text/html;q=oops", False),
        ("application/xhtml+xml", False),  # neither acceptable: the JSON as ever
    ],
)
def test_html_only_when_preferred_over_json(accept: str | None, html: bool) -> None:
    assert prefers_html(accept) is html


def test_languages_are_the_services_that_the_catalog_has() -> None:
    assert declaration_languages(MANIFEST) == tuple(LANGUAGES)
    assert declaration_languages(manifest_with(languages=["fr", "en", "ja"])) == ("fr", "en")
    assert declaration_languages(manifest_with(languages=["fr"])) == ("fr",)


@pytest.mark.parametrize(
    ("query", "accept_language", "expected"),
    [
        (None, None, "fr"),
        ("ar", None, "ar"),
        ("ar", "en", "ar"),  # the notice's link says which language: it wins
        ("AR", None, "ar"),
        ("ca-ES", None, "ca"),
        (None, "es-ES,es;q=0.9,en;q=0.5", "es"),
        (None, "ja, en;q=0.5", "en"),
        ("ja", "oc", "oc"),  # a language not offered: the reader's next
        ("ja", "ja", "fr"),  # ...else the service's
        (None, "zh-CN", "zh-Hans"),
        ("", "en", "en"),
    ],
)
def test_page_language(query: str | None, accept_language: str | None, expected: str) -> None:
    assert page_language(MANIFEST, query, accept_language) == expected


def test_page_language_stays_among_the_services_languages() -> None:
    manifest = manifest_with(languages=["fr", "en"])
    assert page_language(manifest, "ar", None) == "fr"
    assert page_language(manifest, None, "ar, en;q=0.1") == "en"


# --- Routes in words ---------------------------------------------------------------


def test_pages_concerned() -> None:
    routes = (
        Route("/dechets/assistant*", ("a",)),
        Route("/eau/alertes", ("b",)),
        Route("/eau/*/alertes*", ("b",)),
        Route("/en/*", ("c", "b")),
        Route("/en/*", ("c",)),
        Route("*", ("d",)),
        Route("/aide", ("d",)),
    )
    assert pages_concerned(routes, "a") == (("prefix", "/dechets/assistant"),)
    assert pages_concerned(routes, "b") == (
        ("exact", "/eau/alertes"),
        ("pattern", "/eau/*/alertes*"),
        ("prefix", "/en/"),
    )
    assert pages_concerned(routes, "c") == (("prefix", "/en/"),)  # once
    assert pages_concerned(routes, "d") == (("all", ""),)
    assert pages_concerned(routes, "z") == ()


# --- The page ----------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_page_structure_in_every_language(lang: str) -> None:
    html = render_declaration(MANIFEST, lang)
    strings = catalogs()[lang]
    root = parse(html)
    assert html.startswith("<!doctype html>")
    parser = html5lib.HTMLParser()
    parser.parse(html)
    assert parser.errors == []  # valid HTML: no parse error to recover from
    assert root.get("lang") == lang
    assert root.get("dir") == strings.dir
    [h1] = list(root.iter("h1"))
    assert text_of(h1) == strings("declaration.title")
    assert strings("declaration.title") in text_of(root.find("head/title"))  # type: ignore[arg-type]
    assert len(list(root.iter("main"))) == 1
    assert len(list(root.iter("header"))) == len(list(root.iter("footer"))) == 1
    # The skip link is the first link and reaches <main>.
    first_link = next(root.iter("a"))
    assert first_link.get("href") == "#decl_main"
    assert text_of(first_link) == strings("common.skip")
    assert by_id(root, "decl_main").tag == "main"
    ids = Counter(e.get("id") for e in root.iter() if e.get("id"))
    assert [i for i, n in ids.items() if n > 1] == []
    # Every language offered, each named in itself; the current one marked.
    nav = next(n for n in root.iter("nav") if n.get("aria-label") == strings("common.languages"))
    links = {a.get("hreflang") or "": a for a in nav.iter("a")}
    assert list(links) == list(LANGUAGES)
    for code, link in links.items():
        assert link.get("href") == f"/.well-known/ai-disclosure?lang={code}"
        assert text_of(link) == catalogs()[code].name  # CLDR's name, in the language
        assert (link.get("aria-current") == "true") is (code == lang)
        assert link.get("lang") == (None if code == lang else code)


def test_no_script_and_no_inline_style() -> None:
    for lang in LANGUAGES:
        html = render_declaration(MANIFEST, lang)
        root = parse(html)
        assert list(root.iter("script")) == []
        assert list(root.iter("style")) == []
        assert [e.tag for e in root.iter() if e.get("style") is not None] == []
        assert not re.search(r"\son\w+=", html)
        [sheet] = [link for link in root.iter("link") if link.get("rel") == "stylesheet"]
        assert sheet.get("href") == "/.well-known/ai-disclosure/declaration.css"
    assert (widgets_dir() / "declaration.css").is_file()


def test_every_system_is_anchored_by_its_id_with_what_the_notice_says() -> None:
    root = parse(render_declaration(MANIFEST, "fr"))
    fr = catalogs()["fr"]
    for system in MANIFEST.systems:
        section = by_id(root, system.id)
        assert section.tag == "section"
        [heading] = list(section.iter("h3"))
        assert text_of(heading) == system.name["fr"]
        assert section.get("aria-labelledby") == heading.get("id")
    chatbot = text_of(by_id(root, "assistant-dechets"))
    for expected in (
        fr("notice.label_chatbot"),
        fr("notice.purpose"),
        "Répondre aux questions sur le tri des déchets.",
        fr("notice.review"),
        fr("notice.review_no"),
        fr("notice.responsible"),
        "Montpellier Méditerranée Métropole",
        "ia@example.org",
        fr("notice.data"),
        "Guide du tri de la Métropole",
        fr("notice.recourse"),
        "Pour parler à un agent : 0 800 88 11 77.",
        fr("declaration.provider"),
        "Mistral AI",
        fr("declaration.model"),
        "mistral-small",
        fr("audience.public"),
        fr("status.in-use"),
    ):
        assert expected in chatbot, expected
    contact = by_id(root, "assistant-dechets").find(".//a[@href='mailto:ia@example.org']")
    assert contact is not None
    leaks = text_of(by_id(root, "detection-fuites"))
    assert fr("notice.label_decision") in leaks
    assert fr("notice.review_yes") in leaks
    assert fr("notice.review_by", by="Régie des eaux") in leaks
    assert fr("notice.recourse_default") in leaks  # no recourse declared: the default way
    # Provider and model only when declared.
    assert fr("declaration.provider") not in leaks
    assert fr("declaration.model") not in leaks
    mail = text_of(by_id(root, "tri-courrier"))
    assert fr("audience.internal") in mail
    assert fr("status.in-development") in mail


def test_pages_are_said_in_words_not_globs() -> None:
    html = render_declaration(MANIFEST, "fr")
    root = parse(html)
    fr = catalogs()["fr"]
    chatbot = by_id(root, "assistant-dechets")
    assert fr("routes.prefix", path="/dechets/assistant") in text_of(chatbot)
    [code] = list(chatbot.iter("code"))
    assert code.get("dir") == "ltr"  # a path reads left to right, in Arabic too
    assert "/dechets/assistant*" not in html
    leaks = text_of(by_id(root, "detection-fuites"))
    assert fr("routes.exact", path="/eau/alertes") in leaks
    assert fr("routes.pattern", path="/eau/*/alertes*") in leaks
    assert fr("routes.all") in text_of(by_id(root, "traduction-pages"))
    assert fr("routes.runtime") in text_of(by_id(root, "tri-courrier"))  # no rule
    english = text_of(by_id(parse(render_declaration(MANIFEST, "en")), "assistant-dechets"))
    assert "Pages whose address starts with /dechets/assistant" in english


def test_texts_missing_in_the_page_language_come_in_the_default_one_marked() -> None:
    root = parse(render_declaration(MANIFEST, "ar"))
    chatbot = by_id(root, "assistant-dechets")
    assert text_of(chatbot.find("h3")) == "مساعد فرز النفايات"  # type: ignore[arg-type]
    assert chatbot.find(".//h3/span") is None  # in the page's language: not marked
    assert "الإجابة عن الأسئلة المتعلقة بفرز النفايات." in text_of(chatbot)
    marked = {text_of(s): (s.get("lang"), s.get("dir")) for s in chatbot.iter("span")}
    assert marked["Pour parler à un agent : 0 800 88 11 77."] == ("fr", "ltr")
    assert marked["Guide du tri de la Métropole"] == ("fr", "ltr")
    name = by_id(root, "tri-courrier").find("h3/span")
    assert name is not None
    assert (name.get("lang"), name.get("dir"), text_of(name)) == (
        "fr",
        "ltr",
        "Aide au tri du courrier",
    )


def test_links_to_the_json_and_to_register_entries() -> None:
    root = parse(render_declaration(MANIFEST, "fr"))
    [alternate] = [e for e in root.iter("link") if e.get("type") == "application/json"]
    assert alternate.get("rel") == "alternate"
    assert alternate.get("href") == "/.well-known/ai-disclosure?format=json"
    [visible] = [a for a in root.iter("a") if a.get("type") == "application/json"]
    assert visible.get("href") == "/.well-known/ai-disclosure?format=json"
    assert text_of(visible) == catalogs()["fr"]("declaration.json")
    # A system with its own register entry links to it; the others are this page.
    register = catalogs()["fr"]("notice.register")
    own = by_id(root, "traduction-pages").findall(".//a")
    assert "https://registre.example/fiches/traduction-pages?lang=fr" in [
        a.get("href") for a in own
    ]
    assert register not in text_of(by_id(root, "assistant-dechets"))
    with_register = parse(
        render_declaration(manifest_with(register_url="https://registre.example"), "fr")
    )
    hrefs = [a.get("href") for a in by_id(with_register, "assistant-dechets").iter("a")]
    assert "https://registre.example/systems/demarches/assistant-dechets?lang=fr" in hrefs


def test_prefix_is_where_everything_is_linked() -> None:
    html = render_declaration(MANIFEST, "en", prefix="/ia/")
    assert 'href="/ia/declaration.css"' in html
    assert 'href="/ia?format=json"' in html
    assert 'href="/ia?lang=ar"' in html
    assert "/.well-known" not in html


def test_manifest_text_is_escaped() -> None:
    data = {**DECLARATION, "service": {**DECLARATION["service"], "name": "<script>x</script>"}}
    html = render_declaration(load_manifest(data), "fr")
    assert "<script>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html


def test_a_service_without_systems_says_so() -> None:
    data = {**DECLARATION, "systems": [], "routes": []}
    root = parse(render_declaration(load_manifest(data), "fr"))
    assert catalogs()["fr"]("declaration.no_system") in text_of(root)
    assert [e.get("class") for e in root.iter("section") if e.get("class")] == []


def test_every_page_speaks_its_own_language() -> None:
    for lang in LANGUAGES:
        assert catalogs()[lang]("declaration.title") in render_declaration(MANIFEST, lang)


# --- The notice's register link --------------------------------------------------


@pytest.mark.parametrize("lang", LANGUAGES)
def test_notice_links_to_the_declaration_in_its_language_at_the_system(lang: str) -> None:
    system = MANIFEST.system("assistant-dechets")
    html = render_notice(MANIFEST, [system], lang)
    assert f'href="/.well-known/ai-disclosure?lang={lang}#assistant-dechets"' in html


def test_notice_link_follows_the_prefix_and_keeps_external_registers() -> None:
    system = MANIFEST.system("assistant-dechets")
    html = render_notice(MANIFEST, [system], "en-GB", asset_prefix="/ia")
    assert 'href="/ia?lang=en#assistant-dechets"' in html
    own = MANIFEST.system("traduction-pages")
    html = render_notice(MANIFEST, [own], "ar")
    assert 'href="https://registre.example/fiches/traduction-pages?lang=ar"' in html
    registered = manifest_with(register_url="https://registre.example/")
    html = render_notice(registered, [registered.system("assistant-dechets")], "ar")
    entry = "https://registre.example/systems/demarches/assistant-dechets"
    assert f'href="{entry}?lang=ar"' in html  # the register opens in the notice's language


def test_the_footer_says_whether_people_reviewed_the_language(
    add_language: Callable[..., Catalog],
) -> None:
    french = parse(render_declaration(MANIFEST, "fr")).find("body/footer")
    assert french is not None
    assert catalogs()["fr"]("common.status_reviewed") in text_of(french)
    esperanto = add_language("eo")
    page = parse(render_declaration(manifest_with(languages=["fr", "eo"]), "eo")).find(
        "body/footer"
    )
    assert page is not None
    assert esperanto("common.status_machine") in text_of(page)
