"""One piece of AI content marked in the page: the W3C attributes and its label."""

from __future__ import annotations

from typing import Any
from xml.etree.ElementTree import Element

import html5lib  # type: ignore[import-untyped]
import httpx
import pytest
from jinja2 import Environment
from markupsafe import Markup
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

from ai_disclosure import AIDisclosureMiddleware, ai_content
from ai_disclosure._catalog import catalogs
from ai_disclosure._content import (
    MARK_BY_ICON,
    content_attributes,
    mark_for,
    render_content,
    render_label,
)
from ai_disclosure._model import EUIcon, Interaction, Origin
from ai_disclosure._notice import install_jinja_globals, notice_languages
from ai_disclosure.testing import assert_disclosed

from .test_notice import CHATBOT, LEAKS, MANIFEST, TRANSLATION, make_manifest, make_system
from .test_template_helpers import options

LANGUAGES = notice_languages()
REVIEWED_TRANSLATION = make_system(
    "traduction-relue",
    Interaction.TRANSLATION,
    Origin.AI_MODIFIED,
    reviewed=True,
    by="la rédaction du magazine",
    model="mistral-small",
    provider="Mistral AI",
)
ALL = make_manifest(CHATBOT, LEAKS, TRANSLATION, REVIEWED_TRANSLATION)


def parse(html: str) -> tuple[Element, list[Any]]:
    """The fragment as a browser reads it inside <main>, and html5lib's parse errors."""
    parser = html5lib.HTMLParser(namespaceHTMLElements=False)
    document = parser.parse(f"<!doctype html><html lang=fr><title>t</title><main>{html}</main>")
    main = document.find(".//main")
    assert main is not None
    return main, parser.errors


def text_of(element: Element) -> str:
    return " ".join("".join(element.itertext()).split())


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("system", [CHATBOT, LEAKS, TRANSLATION, REVIEWED_TRANSLATION])
def test_the_content_element_carries_the_attribute_and_a_label_comes_before_it(
    language: str, system: Any
) -> None:
    html = render_content(ALL, [system], "Le verre va dans la colonne verte.", language, tag="p")
    main, errors = parse(html)
    assert errors == []  # valid HTML: nothing for a browser to repair
    label, content = list(main)
    assert content.tag == "p"
    assert content.get("ai-disclosure") == system.w3c_value.value
    assert text_of(content) == "Le verre va dans la colonne verte."
    assert label.tag == "span"
    assert label.get("data-ai-mark") == ""
    strings = catalogs()[language]
    assert label.get("lang") == language
    assert label.get("dir") == strings.dir
    icon = label.find("{http://www.w3.org/2000/svg}svg")
    assert icon is not None
    assert icon.get("aria-hidden") == "true"
    strong = label.find("strong")
    assert strong is not None
    assert strong.text == strings("notice.pill")  # the capitalised "IA" / "AI"
    mark = mark_for([system])
    assert mark is not None
    said = text_of(label)
    assert said.startswith(strings("notice.pill") + " " + strings(mark.key).split("{")[0].strip())


def test_the_wording_follows_the_facts() -> None:
    fr = catalogs()["fr"]

    def said(system: Any, language: str = "fr") -> str:
        main, _ = parse(render_label(ALL, [system], language))
        return text_of(main.find("span/span"))  # type: ignore[arg-type]

    assert said(CHATBOT) == fr("notice.mark_generated") == "Généré par IA"
    assert said(TRANSLATION) == "Traduit par IA"
    assert said(LEAKS) == "Réalisé avec l’aide d’une IA, relu par agents du service de l’eau"
    # A reviewed translation: with the help of AI, reviewed by someone; never "automatically".
    assert said(REVIEWED_TRANSLATION) == (
        "Traduit avec l’aide d’une IA, relu par la rédaction du magazine"
    )
    assert said(REVIEWED_TRANSLATION, "en") == (
        "Translated with the help of AI, reviewed by la rédaction du magazine"
    )
    for language in LANGUAGES:
        for system in (REVIEWED_TRANSLATION, LEAKS):
            assert "automat" not in said(system, language).lower()
    assert set(MARK_BY_ICON) == set(EUIcon)


def test_the_reviewer_keeps_the_language_it_is_written_in() -> None:
    main, _ = parse(render_label(ALL, [REVIEWED_TRANSLATION], "en"))
    name = main.find("span/span/span")
    assert name is not None
    assert (name.get("lang"), name.get("dir"), name.text) == (
        "fr",
        "ltr",
        "la rédaction du magazine",
    )
    main, _ = parse(render_label(ALL, [REVIEWED_TRANSLATION], "fr"))
    assert main.find("span/span/span") is None


def test_the_label_states_its_language_only_when_the_page_speaks_another() -> None:
    main, _ = parse(render_label(ALL, [CHATBOT], "fr", page_language="fr-FR"))
    assert main.find("span").get("lang") is None  # type: ignore[union-attr]
    main, _ = parse(render_label(ALL, [CHATBOT], "en", page_language="fr"))
    assert main.find("span").get("lang") == "en"  # type: ignore[union-attr]
    # A language the catalog lacks (a private-use tag): French.
    main, _ = parse(render_label(ALL, [CHATBOT], "qaa"))
    assert main.find("span").get("lang") == "fr"  # type: ignore[union-attr]


def test_model_and_provider_come_from_the_manifest_when_the_systems_agree() -> None:
    assert content_attributes([REVIEWED_TRANSLATION]) == {
        "ai-disclosure": "ai-assisted",
        "ai-model": "mistral-small",
        "ai-provider": "Mistral AI",
    }
    other = make_system("autre", provider="Autre")
    assert content_attributes([REVIEWED_TRANSLATION, other]) == {"ai-disclosure": "ai-autonomous"}
    triage = make_system("tri", Interaction.DECISION_SUPPORT, Origin.NONE, model="m")
    assert content_attributes([triage]) == {"ai-disclosure": "human-only"}


def test_content_people_do_not_see_as_ai_gets_no_label() -> None:
    triage = make_system("tri", Interaction.DECISION_SUPPORT, Origin.NONE)
    assert mark_for([triage]) is None
    html = render_content(make_manifest(triage), [triage], "Courrier.", "fr")
    assert html == '<div ai-disclosure="human-only">Courrier.</div>'


def test_text_is_escaped_and_markup_kept() -> None:
    escaped = render_content(ALL, [CHATBOT], "<script>alert(1)</script>", "fr")
    assert "<script>" not in escaped
    assert "&lt;script&gt;" in escaped
    kept = render_content(ALL, [CHATBOT], Markup("<p>Un</p><p>Deux</p>"), "fr", tag="article")
    assert kept.endswith('<article ai-disclosure="ai-autonomous"><p>Un</p><p>Deux</p></article>')
    with pytest.raises(ValueError, match="tag must be an element name"):
        render_content(ALL, [CHATBOT], "x", "fr", tag='div onclick="x"')


def test_the_jinja_global_and_its_options() -> None:
    env = Environment(autoescape=True)
    install_jinja_globals(env, ALL)
    template = env.from_string(
        "<main>{{ ai_disclosure_content(['tri-dechets'], answer, 'fr', tag='p',"
        " page_language='fr') }}</main>"
    )
    html = template.render(answer="Le <verre>.")
    expected = render_content(ALL, [CHATBOT], "Le <verre>.", "fr", tag="p", page_language="fr")
    assert html == f"<main>{expected}</main>"
    renderer = options(render_content)
    assert renderer <= options(env.globals["ai_disclosure_content"])
    assert renderer - {"tag", "page_language"} | {"language"} <= options(ai_content) | {"language"}


# --- Through the middleware: ai_content() in a handler -------------------------------


def app() -> AIDisclosureMiddleware:
    async def answer(request: Request) -> Response:
        lang = request.query_params["lang"]
        marked = ai_content(
            request, "Glass goes in the bank.", "tri-dechets", tag="p", page_language=lang
        )
        return HTMLResponse(
            f"<!doctype html><html lang={lang}><head><title>Tri</title></head>"
            f"<body><main><h1>Assistant</h1>{marked}</main></body></html>"
        )

    return AIDisclosureMiddleware(Starlette(routes=[Route("/tri", answer)]), MANIFEST)


@pytest.mark.parametrize(("lang", "said"), [("en", "AI AI-generated"), ("fr", "IA Généré par IA")])
async def test_ai_content_discloses_the_response_and_labels_in_the_pages_language(
    lang: str, said: str
) -> None:
    transport = httpx.ASGITransport(app())
    async with httpx.AsyncClient(transport=transport, base_url="http://portail") as client:
        response = await client.get(f"/tri?lang={lang}")
    assert_disclosed(response, mode="ai-originated", notice=True)
    html = response.text
    assert '<meta name="ai-disclosure" content="ai-autonomous"' in html
    main = html5lib.parse(html, namespaceHTMLElements=False).find(".//main")
    label = main.find("span[@data-ai-mark]")
    assert label is not None
    assert label.get("lang") is None  # the page's own language
    assert text_of(label) == said
    assert main.find("p[@ai-disclosure='ai-autonomous']") is not None
