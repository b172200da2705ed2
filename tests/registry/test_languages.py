"""The register in every language of the catalog: negotiation, the switcher and
its alternates, direction, links that keep the language, CLDR words, the review
status, "How to read this register", and a language added by one file."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from urllib.parse import parse_qs, urlsplit

import pytest

from ai_disclosure._catalog import Catalog, catalogs
from ai_disclosure._manifest import load_manifest
from ai_disclosure._notice import notice_languages, render_notice
from ai_disclosure.registry.pages import GLOSSARY, GUIDE_FIELDS

from ..conftest import with_named_languages
from .conftest import Harness, batch, example_manifest, row
from .test_pages import parse

LANGUAGES = with_named_languages(notice_languages())
pytestmark = pytest.mark.usefixtures("languages")
ENTRY = "/systems/demarches/assistant-dechets"


@pytest.fixture
async def published(harness: Harness) -> Harness:
    token = await harness.ready()
    rows = [row(window_start=f"2026-11-{day:02d}T08:00:00Z", count=day) for day in (20, 24)]
    assert (await harness.send(token, batch(rows))).status_code == 202
    return harness


def html_lang(html: str) -> tuple[str | None, str | None]:
    [(_, attrs)] = [(tag, attrs) for tag, attrs in parse(html).tags if tag == "html"]
    return attrs.get("lang"), attrs.get("dir")


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_every_language_by_query_and_by_accept_language(
    published: Harness, lang: str
) -> None:
    t = catalogs()[lang]
    client = published.client
    for response in (
        await client.get(ENTRY, params={"lang": lang}),
        await client.get(ENTRY, headers={"Accept-Language": f"{lang};q=0.9, ja;q=0.8"}),
    ):
        assert response.status_code == 200
        assert response.headers["content-language"] == lang
        assert html_lang(response.text) == (lang, t.dir)
        assert t("register.site_title") in response.text
        assert t.date("2026-11-24") in response.text  # CLDR's long date, in the language
        assert t.plural("register.chart_days", 5) in response.text  # 20 to 24 November


@pytest.mark.parametrize(
    ("query", "accept", "expected"),
    [
        ({"lang": "ja"}, None, "fr"),  # a language the catalog lacks: the default
        ({"lang": "<script>"}, None, "fr"),
        ({"lang": ""}, "en-GB,en;q=0.9", "en"),
        ({}, "zh-CN", "zh-Hans"),
        ({"lang": "ja"}, "de-AT", "de"),
        ({"lang": "AR"}, None, "ar"),
    ],
)
async def test_unknown_languages_fall_back_with_no_error(
    published: Harness, query: Mapping[str, str], accept: str | None, expected: str
) -> None:
    headers = {"Accept-Language": accept} if accept else {}
    response = await published.client.get("/", params=query, headers=headers)
    assert response.status_code == 200
    assert response.headers["content-language"] == expected
    assert "<script>" not in response.text


async def test_the_default_is_the_registers(make_harness: Callable[..., object]) -> None:
    harness = await make_harness(language="en")  # type: ignore[operator]
    response = await harness.client.get("/", headers={"Accept-Language": "ja"})
    assert response.headers["content-language"] == "en"


async def test_the_switcher_lists_every_language_in_its_own_name(published: Harness) -> None:
    response = await published.client.get("/", params={"lang": "fr", "q": "eau"})
    page = parse(response.text)
    switcher = [
        attrs for tag, attrs in page.tags if tag == "a" and attrs.get("hreflang") is not None
    ]
    assert [a["hreflang"] for a in switcher] == list(catalogs())
    for attrs in switcher:
        code = attrs["hreflang"] or ""
        assert attrs["lang"] == code
        assert attrs["dir"] == catalogs()[code].dir
        # Only the query changes, its filters kept.
        assert parse_qs(urlsplit(attrs["href"] or "").query) == {"q": ["eau"], "lang": [code]}
        assert (attrs.get("aria-current") == "true") is (code == "fr")
    names = [
        text.strip() for text in page.text if text.strip() in {c.name for c in catalogs().values()}
    ]
    assert {catalogs()[code].name for code in catalogs()} <= set(names)
    alternates = [
        attrs["hreflang"] for tag, attrs in page.tags if tag == "link" and attrs.get("hreflang")
    ]
    assert alternates == [*catalogs(), "x-default"]


async def test_links_keep_a_language_asked_for(published: Harness) -> None:
    client = published.client
    listing = (await client.get("/", params={"lang": "en"})).text
    assert f'href="{ENTRY}?lang=en"' in listing
    assert 'href="/guide?lang=en"' in listing
    assert 'href="/v1/systems.csv?lang=en"' in listing
    assert '<input type="hidden" name="lang" value="en">' in listing
    entry = (await client.get(ENTRY, params={"lang": "en"})).text
    assert 'href="/services/demarches?lang=en"' in entry
    assert f'href="/v1{ENTRY}/atrs.json?lang=en"' in entry
    # Chosen by Accept-Language: the next page is chosen the same way.
    negotiated = (await client.get("/", headers={"Accept-Language": "en"})).text
    assert f'href="{ENTRY}"' in negotiated
    # An export speaks the page's language only when the service wrote in it.
    german = (await client.get(ENTRY, params={"lang": "de"})).text
    assert f'href="/v1{ENTRY}/atrs.json"' in german
    assert (await client.get(f"/v1{ENTRY}/atrs.json", params={"lang": "en"})).status_code == 200


@pytest.mark.parametrize("lang", ["ar", "fa"])
async def test_right_to_left_languages(published: Harness, lang: str) -> None:
    html = (await published.client.get(ENTRY, params={"lang": lang})).text
    assert html_lang(html) == (lang, "rtl")
    # Texts the service wrote only in French are marked as French, left to right.
    assert '<p lang="fr" dir="ltr">Mission de service public' in html
    assert '<code dir="ltr">/dechets/assistant</code>' in html


async def test_the_review_status_is_said(
    published: Harness, add_language: Callable[..., Catalog]
) -> None:
    new = add_language("eo")
    french = (await published.client.get("/")).text
    assert catalogs()["fr"]("common.status_reviewed") in french
    machine = (await published.client.get("/", params={"lang": "eo"})).text
    assert new("common.status_machine") in machine


@pytest.mark.parametrize("lang", LANGUAGES)
async def test_how_to_read_the_register(harness: Harness, lang: str) -> None:
    t = catalogs()[lang]
    response = await harness.client.get("/guide", params={"lang": lang})
    assert response.status_code == 200
    for field in GUIDE_FIELDS:
        assert t(f"register.{field}") in response.text
        assert t(f"guide.{field}") in response.text
    for word in GLOSSARY:
        assert t(f"guide.term_{word}") in response.text
    assert t("guide.contest_steps") in response.text


async def test_a_37th_language_is_one_file(
    published: Harness, add_language: Callable[..., Catalog]
) -> None:
    esperanto = add_language("eo")
    page = await published.client.get(ENTRY, headers={"Accept-Language": "eo"})
    assert page.headers["content-language"] == "eo"
    assert esperanto("register.site_title") in page.text
    assert 'hreflang="eo"' in (await published.client.get("/")).text
    assert f">{esperanto.name}</a>" in page.text
    manifest = load_manifest(example_manifest())
    notice = render_notice(manifest, [manifest.system("assistant-dechets")], "eo")
    assert esperanto("notice.label_chatbot") in notice
    assert f'href="http://registry.test{ENTRY}?lang=eo"' in notice or "?lang=eo" in notice


async def test_the_services_own_words_keep_their_language(published: Harness) -> None:
    english = (await published.client.get(ENTRY, params={"lang": "en"})).text
    assert '<span lang="fr">Démarches en ligne</span>' in english  # the service's name
    assert 'Service “<span lang="fr">Démarches en ligne</span>”, ' in english
    service = (await published.client.get("/services/demarches", params={"lang": "ar"})).text
    assert '<h1><span lang="fr" dir="ltr">Démarches en ligne</span></h1>' in service
    french = (await published.client.get(ENTRY)).text
    assert '<span lang="fr">' not in french
