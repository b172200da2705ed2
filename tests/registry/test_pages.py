"""The public pages: content, escaping, filters, chart, languages and headers."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from typing import Any

import pytest

from ai_disclosure._catalog import catalogs
from ai_disclosure.registry.security import CSP

from .conftest import Harness, batch, example_manifest, row

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'


class Collector(HTMLParser):
    """Elements, attributes and text of a page, to check its structure."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parse(html: str) -> Collector:
    collector = Collector()
    collector.feed(html)
    return collector


@pytest.fixture
async def published(harness: Harness) -> Harness:
    token = await harness.ready()
    rows = [row(window_start=f"2026-11-{day:02d}T08:00:00Z", count=day) for day in (20, 21, 24, 26)]
    assert (await harness.send(token, batch(rows))).status_code == 202
    return harness


async def page(harness: Harness, url: str, expect: int = 200, **params: str) -> str:
    response = await harness.client.get(url, params=params)
    assert response.status_code == expect, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    return response.text


async def test_every_response_has_the_security_headers(published: Harness) -> None:
    for url in (
        "/",
        "/systems/demarches/assistant-dechets",
        "/v1/systems",
        "/static/register.css",
        "/nope",
        "/v1/nope",
    ):
        response = await published.client.get(url)
        assert response.headers["content-security-policy"] == CSP
        assert "'unsafe-inline'" not in response.headers["content-security-policy"]
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["ai-disclosure"] == "mode=none"


async def test_list_page_shows_every_system(published: Harness) -> None:
    html = await page(published, "/")
    assert '<html lang="fr" dir="ltr">' in html
    for path in (
        "/systems/demarches/assistant-dechets",
        "/systems/demarches/detection-fuites",
        "/systems/demarches/tri-courrier",
        "/systems/demarches/traduction-pages",
    ):
        assert f'href="{path}"' in html
    assert "4 systèmes trouvés" in html


async def test_list_page_filters_with_a_plain_get_form(published: Harness) -> None:
    html = await page(published, "/", interaction="translation")
    assert "/systems/demarches/traduction-pages" in html
    assert "/systems/demarches/assistant-dechets" not in html
    assert '<option value="translation" selected>' in html
    tags = parse(html).tags
    form = next(attrs for tag, attrs in tags if tag == "form")
    assert form["method"] == "get"
    labelled = {attrs.get("for") for tag, attrs in tags if tag == "label"}
    controls = {
        attrs.get("id")
        for tag, attrs in tags
        if tag in ("input", "select") and attrs.get("type") != "hidden"
    }
    assert controls <= labelled
    searched = await page(published, "/", q="fuites")
    assert "/systems/demarches/detection-fuites" in searched
    assert "/systems/demarches/assistant-dechets" not in searched
    nothing = await page(published, "/", q="zzzz", status="retired")
    assert "Aucun système ne correspond" in nothing
    # Unknown filter values are ignored, never an error page.
    assert "/systems/demarches/assistant-dechets" in await page(published, "/", interaction="robot")


async def test_a_register_of_many_services_filters_by_a_typed_service(
    published: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ai_disclosure.registry import pages

    listed = await page(published, "/")
    assert '<select id="service" name="service">' in listed
    monkeypatch.setattr(pages, "SERVICE_CHOICES", 0)  # more services than it lists
    typed = await page(published, "/", service="demarches")
    assert '<select id="service"' not in typed
    assert '<input type="text" id="service" name="service" value="demarches"' in typed
    assert "/systems/demarches/assistant-dechets" in typed
    assert "/systems/demarches/" not in await page(published, "/", service="nope")


async def test_system_page_says_everything_the_manifest_says(published: Harness) -> None:
    html = await page(published, "/systems/demarches/assistant-dechets")
    for expected in (
        "Assistant tri des déchets",
        "Répondre aux questions sur le tri des déchets",
        "Les réponses sont générées automatiquement",
        "CGCT art. L2224-13",
        "Guide du tri de la Métropole",
        "0 800 88 11 77",
        "Favorable",
        "CEI-2026-004",
        "AUD-2026-011",
        "Réponses de qualité égale",
        "Mistral AI",
        "mistral-small",
        "Historique des modifications",
        "ajouté au registre",
        # Route rules in words, never as globs.
        'Les pages dont l’adresse commence par <code dir="ltr">/dechets/assistant</code>',
    ):
        assert expected in html, expected
    assert "/dechets/assistant*" not in html


@pytest.mark.parametrize(
    ("lang", "path", "expected"),
    [
        (
            "fr",
            "detection-fuites",
            (
                "Cadre réglementaire",
                "<code>a6d1e0b2-5c3f-4e8a-b7d9-0f1c2e3d4a5b</code>",
                "Fournisseur (il a développé le système)",
                "Risque minimal",
                "Aide à la décision : un agent décide",
                "4\u202f200",
                "Algorithme à impact",
            ),
        ),
        (
            "en",
            "traduction-pages",
            (
                "Regulatory status",
                "Deployer (it uses the system)",
                "Limited risk (transparency, Article 50)",
                "Yes: its public-interest texts are labelled as AI-made.",
                "Other algorithm",
            ),
        ),
    ],
)
async def test_system_page_states_the_texts_in_force(
    published: Harness, lang: str, path: str, expected: tuple[str, ...]
) -> None:
    html = await page(published, f"/systems/demarches/{path}", lang=lang)
    for words in expected:
        assert words in html, words


async def test_the_review_exception_names_who_holds_editorial_responsibility(
    harness: Harness,
) -> None:
    data = example_manifest()
    system = data["systems"][3]
    system["human_review"] = {"reviewed": True, "by": "La rédaction"}
    system["ai_act"] = {
        "role": "deployer",
        "risk": "high-risk",
        "annex_iii_area": "essential-services",
        "public_interest_text": True,
        "editorial_responsibility": "Direction de la communication",
    }
    token = await harness.token()
    assert (await harness.publish(token, data)).status_code == 201
    html = await page(harness, "/systems/demarches/traduction-pages")
    assert (
        "Oui, relus avant publication sous la responsabilité éditoriale de Direction de la "
        "communication : exception de l’article 50, paragraphe 4."
    ) in html
    assert "5. Accès aux services publics et privés essentiels" in html
    # On an English page, the name keeps the language the service wrote it in.
    html = await page(harness, "/systems/demarches/traduction-pages", lang="en")
    assert (
        "under the editorial responsibility of "
        '<span lang="fr">Direction de la communication</span>: the exception of Article 50(4).'
    ) in html
    assert "5. Access to essential public and private services" in html


async def test_system_page_has_a_chart_with_a_text_alternative(published: Harness) -> None:
    html = await page(published, "/systems/demarches/assistant-dechets")
    svg = re.search(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert svg is not None
    assert 'role="img"' in svg.group(0)
    assert 'aria-labelledby="chart-title chart-desc"' in svg.group(0)
    assert svg.group(0).count('class="chart__bar"') == 7  # 20 to 26 November, gaps as zero
    assert "7 jours, du 20 novembre 2026 au 26 novembre 2026" in html
    assert "<table>" in html
    assert (
        '<th scope="row"><time datetime="2026-11-22">22 novembre 2026</time></th><td>0</td>' in html
    )
    assert "style=" not in html
    assert "<script" not in html


async def test_system_without_counts_says_so(published: Harness) -> None:
    html = await page(published, "/systems/demarches/tri-courrier")
    assert "<svg" not in html
    assert catalogs()["fr"]("register.no_counts") in html
    assert catalogs()["fr"]("audience.internal") in html
    assert 'Les pages dont l’adresse commence par <code dir="ltr">/courrier</code>' in html


async def test_english_pages(published: Harness) -> None:
    html = await page(published, "/systems/demarches/assistant-dechets", lang="en")
    assert '<html lang="en" dir="ltr">' in html
    assert "Waste-sorting assistant" in html
    assert "Answer questions about waste sorting" in html
    assert "7 days, from November 20, 2026 to November 26, 2026" in html
    assert 'href="/?lang=en"' in html
    # A text the service wrote only in French is marked as French.
    fuites = await page(published, "/systems/demarches/detection-fuites", lang="en")
    assert "Hourly readings of smart meters" in fuites
    listing = await page(published, "/", lang="en")
    assert 'href="/systems/demarches/assistant-dechets?lang=en"' in listing
    assert '<input type="hidden" name="lang" value="en">' in listing


async def test_the_language_link_never_leaves_the_register(published: Harness) -> None:
    request = published.client.build_request("GET", "http://testserver//evil.example/foo")
    response = await published.client.send(request)
    assert response.status_code == 404
    assert 'href="//evil.example' not in response.text
    assert 'href="?lang=en" hreflang="en"' in response.text


async def test_text_missing_in_english_is_marked_with_its_language(harness: Harness) -> None:
    token = await harness.token()
    manifest = example_manifest()
    manifest["systems"][2]["legal_basis"] = {
        "fr": "Code des relations entre le public et l'administration."
    }
    assert (await harness.publish(token, manifest)).status_code == 201
    html = await page(harness, "/systems/demarches/tri-courrier", lang="en")
    assert '<p lang="fr">Code des relations entre le public et l&#39;administration.</p>' in html


async def test_service_page(published: Harness) -> None:
    html = await page(published, "/services/demarches")
    assert "Démarches en ligne" in html
    assert "Version 1" in html
    assert html.count('class="card"') == 4


async def test_unknown_pages_are_404_pages(published: Harness) -> None:
    for url in ("/systems/demarches/nope", "/services/nope", "/nope"):
        html = await page(published, url, expect=404)
        assert "Page introuvable" in html


async def test_every_manifest_string_is_escaped(harness: Harness) -> None:
    token = await harness.token()
    manifest: dict[str, Any] = example_manifest()
    manifest["service"]["name"] = HOSTILE
    manifest["service"]["operator"] = HOSTILE
    manifest["service"]["description"] = {"fr": HOSTILE}
    system = manifest["systems"][0]
    for name in ("name", "purpose", "human_oversight", "legal_basis", "recourse"):
        system[name] = {"fr": HOSTILE, "en": HOSTILE}
    system["provider"] = HOSTILE
    system["model"] = HOSTILE
    system["data_sources"] = [HOSTILE]
    system["human_review"] = {"reviewed": True, "by": HOSTILE}
    system["ethics_review"]["reference"] = HOSTILE
    system["bias_audit"]["summary"] = HOSTILE
    assert (await harness.publish(token, manifest)).status_code == 201
    assert (await harness.send(token, batch([row()]))).status_code == 202
    for url in ("/", "/systems/demarches/assistant-dechets", "/services/demarches"):
        for lang in ("fr", "en"):
            html = await page(harness, url, lang=lang)
            assert "<script>" not in html
            assert "<img" not in html
            assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    response = await harness.client.get("/", params={"q": HOSTILE})
    assert "<script>" not in response.text


async def test_pages_are_accessible_in_structure(published: Harness) -> None:
    for url in ("/", "/systems/demarches/assistant-dechets", "/services/demarches", "/nope"):
        response = await published.client.get(url)
        collected = parse(response.text)
        tags = [tag for tag, _ in collected.tags]
        assert tags.count("main") == 1
        assert tags.count("h1") == 1
        assert "header" in tags
        assert "footer" in tags
        skip = next(attrs for tag, attrs in collected.tags if tag == "a")
        assert skip["href"] == "#main"
        assert ("main", {"id": "main", "class": "wrap", "tabindex": "-1"}) in collected.tags
        link = next(attrs for tag, attrs in collected.tags if tag == "link")
        assert link["href"] == "/static/register.css"


async def test_stylesheet_is_served(published: Harness) -> None:
    response = await published.client.get("/static/register.css")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/css")
    assert ":focus-visible" in response.text


async def test_unexpected_errors_are_500_with_headers(
    published: Harness, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from ai_disclosure.registry.reads import Reads

    async def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(Reads, "page", broken)
    html = await published.client.get("/")
    assert html.status_code == 500
    assert "Erreur du registre" in html.text
    assert "disk on fire" not in html.text
    assert html.headers["content-security-policy"] == CSP
    api = await published.client.get("/v1/systems")
    assert api.status_code == 500
    assert api.headers["content-type"] == "application/problem+json"
    assert api.json()["type"].endswith("/server-error")
    assert api.headers["x-content-type-options"] == "nosniff"
    assert "disk on fire" in caplog.text
