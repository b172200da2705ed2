"""Choosing a language (the notice's, the declaration page's, the register's), and
adding one: one catalog file."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from starlette.responses import HTMLResponse

from ai_disclosure import AIDisclosureMiddleware, load_manifest
from ai_disclosure._catalog import Catalog, catalogs
from ai_disclosure._language import best_match, choose_language, parse_accept_language
from ai_disclosure._notice import notice_languages, render_notice, service_languages
from ai_disclosure.testing import assert_disclosed

from .conftest import EXAMPLE_MANIFEST

AVAILABLE = ("fr", "en", "oc", "ar")


def test_accept_language_order_and_quality() -> None:
    assert parse_accept_language("en;q=0.5, ar, fr-CA;q=0.8, *;q=0.1, de;q=0") == (
        "ar",
        "fr-ca",
        "en",
    )
    assert parse_accept_language("en;q=bad, oc") == ("oc",)


@pytest.mark.parametrize(
    ("page", "accept", "expected"),
    [
        ("en", "ar", ("en", False)),  # the page's language wins
        ("en-GB", None, ("en", False)),  # primary subtag
        ("de", "ar, en", ("ar", True)),  # page language not offered: negotiate
        (None, "es, en;q=0.9", ("en", True)),
        (None, "es", ("fr", True)),  # nothing matches: default, still negotiated
        (None, None, ("fr", True)),
    ],
)
def test_choose_language(page: str | None, accept: str | None, expected: tuple[str, bool]) -> None:
    assert choose_language(AVAILABLE, "fr", page, accept) == expected


def test_one_language_never_varies() -> None:
    assert choose_language(("fr",), "fr", None, "en") == ("fr", False)


@pytest.mark.parametrize(
    ("tag", "expected"),
    [
        ("zh-Hans", "zh-Hans"),
        ("ZH-hans-cn", "zh-Hans"),  # tags are case-insensitive
        ("zh-CN", "zh-Hans"),  # CLDR: Chinese in China is written in Simplified script
        ("zh", "zh-Hans"),
        ("zh-SG", "zh-Hans"),
        ("zh-TW", None),  # Traditional script: not offered
        ("zh-Hant", None),
        ("pt-BR", "pt"),
        ("sr-Latn", None),  # Serbian is Cyrillic by default: not the same script
        ("fr-CA", "fr"),
        ("x-klingon", None),
    ],
)
def test_a_tag_reads_the_language_of_the_same_script(tag: str, expected: str | None) -> None:
    assert best_match(tag, ("fr", "zh-Hans", "pt", "sr")) == expected


def test_accept_language_finds_a_script_subtag() -> None:
    available = ("fr", "en", "zh-Hans")
    assert choose_language(available, "fr", None, "zh-CN, en;q=0.5") == ("zh-Hans", True)
    assert choose_language(available, "fr", "zh-hans", "en") == ("zh-Hans", False)


# --- Adding a language: one file ----------------------------------------------------
#
# One place: widgets/i18n/<tag>.json, every key of en.json translated (tests in
# test_catalog.py hold it to that). The notice, its script, the declaration page and
# the register then offer it; a service offers it in its notice by listing it in
# ``service.languages``. The ``add_language`` fixture writes such a file, as a
# translator would, into a copy of the folder.

NEW = "eo"


@pytest.fixture
def new_language(add_language: Callable[..., Catalog]) -> Catalog:
    return add_language(NEW)


def offering(*languages: str) -> dict[str, Any]:
    """The example manifest, its service offering ``languages``."""
    data: dict[str, Any] = json.loads(json.dumps(dict(MANIFEST.raw), default=dict))
    data["service"]["languages"] = list(languages)
    return data


MANIFEST = load_manifest(EXAMPLE_MANIFEST)
PAGE = "<!doctype html><html><head></head><body><main>x</main></body></html>"


async def page(manifest: dict[str, Any], path: str, **headers: str) -> httpx.Response:
    app = AIDisclosureMiddleware(HTMLResponse(PAGE), manifest)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app), base_url="http://p") as c:
        return await c.get(path, headers=headers)


def test_a_file_in_the_catalog_is_a_notice_language(new_language: Catalog) -> None:
    assert NEW in notice_languages()
    assert new_language.name == "Esperanto"
    systems = [MANIFEST.system("assistant-dechets")]
    for tag in (NEW, "eo-XX"):  # a regional variant falls back to it
        html = render_notice(MANIFEST, systems, tag)
        assert f'lang="{NEW}" dir="ltr"' in html
        assert new_language("notice.title") in html
        assert new_language("notice.label_chatbot") in html


def test_a_right_to_left_file_is_written_right_to_left(
    add_language: Callable[..., Catalog],
) -> None:
    hebrew = add_language("he", "rtl")
    html = render_notice(MANIFEST, [MANIFEST.system("assistant-dechets")], "he-IL")
    assert 'lang="he" dir="rtl"' in html
    assert hebrew("notice.label_chatbot") in html


async def test_negotiation_picks_it_for_a_service_that_offers_it(new_language: Catalog) -> None:
    response = await page(offering("fr", NEW), "/dechets/assistant", **{"Accept-Language": "eo"})
    assert_disclosed(response, notice=True)
    assert new_language("notice.label_chatbot") in response.text
    assert "accept-language" in response.headers["vary"].lower()
    french = await page(offering("fr", NEW), "/dechets/assistant", **{"Accept-Language": "de"})
    assert catalogs()["fr"]("notice.label_chatbot") in french.text
    # A service that does not list it keeps its own languages.
    other = await page(offering("fr", "en"), "/dechets/assistant", **{"Accept-Language": "eo"})
    assert new_language("notice.label_chatbot") not in other.text


async def test_the_declaration_page_is_offered_in_it(new_language: Catalog) -> None:
    response = await page(
        offering("fr", NEW), f"/.well-known/ai-disclosure?lang={NEW}", Accept="text/html"
    )
    assert response.status_code == 200
    assert f'<html lang="{NEW}"' in response.text
    assert new_language("declaration.title") in response.text
    assert 'hreflang="eo"' in response.text


@pytest.mark.usefixtures("languages")
async def test_a_service_offers_the_catalog_language_each_of_its_tags_reads() -> None:
    manifest = load_manifest(offering("fr", "zh-CN", "en-GB", "ja", "en"))
    assert service_languages(manifest) == ("fr", "zh-Hans", "en")  # ja: not in the catalog
    response = await page(
        offering("fr", "zh-CN"), "/dechets/assistant", **{"Accept-Language": "zh"}
    )
    assert catalogs()["zh-Hans"]("notice.label_chatbot") in response.text
    assert "?lang=zh-Hans" in response.text  # the register opens in the notice's language
