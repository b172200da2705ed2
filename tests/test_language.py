"""Choosing the notice's language, and adding one."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import httpx
import pytest
from starlette.responses import HTMLResponse

from ai_disclosure import AIDisclosureMiddleware, load_manifest
from ai_disclosure._language import choose_language, parse_accept_language
from ai_disclosure._notice import catalog, notice_languages, render_notice
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


# --- Recipe: add a language to the notice ---------------------------------------------
#
# One place: a new entry in widgets/i18n/strings.json, under the language's primary
# subtag, with every key French has ("dir" is "ltr" or "rtl").
# test_notice.py::test_catalog_has_every_key_in_every_language holds the entry to
# that, and every test over LANGUAGES (notice, declaration page) then covers it. A
# service offers it by listing it in its manifest's ``service.languages``.
#
# The fixture adds one (Esperanto) to the loaded catalog, as that entry would.

NEW = "eo"


@pytest.fixture
def new_language(monkeypatch: pytest.MonkeyPatch) -> Mapping[str, str]:
    """The catalog with one more language, for this test only (``catalog()`` is
    read once and cached: every caller sees the same mapping)."""
    english = catalog()["en"]
    strings = {key: f"{text} [eo]" for key, text in english.items()} | {"dir": "ltr"}
    monkeypatch.setitem(catalog(), NEW, strings)  # type: ignore[arg-type]
    return strings


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


def test_a_language_in_the_catalog_is_a_notice_language(new_language: Mapping[str, str]) -> None:
    assert set(new_language) == set(catalog()["fr"])
    assert NEW in notice_languages()
    systems = [MANIFEST.system("assistant-dechets")]
    for tag in (NEW, "eo-XX"):  # a regional variant falls back to it
        html = render_notice(MANIFEST, systems, tag)
        assert f'lang="{NEW}" dir="ltr"' in html
        assert new_language["title"] in html
        assert new_language["label_chatbot"] in html


async def test_negotiation_picks_it_for_a_service_that_offers_it(
    new_language: Mapping[str, str],
) -> None:
    response = await page(offering("fr", NEW), "/dechets/assistant", **{"Accept-Language": "eo"})
    assert_disclosed(response, notice=True)
    assert new_language["label_chatbot"] in response.text
    assert "accept-language" in response.headers["vary"].lower()
    french = await page(offering("fr", NEW), "/dechets/assistant", **{"Accept-Language": "de"})
    assert catalog()["fr"]["label_chatbot"] in french.text
    # A service that does not list it keeps its own languages.
    other = await page(offering("fr", "en"), "/dechets/assistant", **{"Accept-Language": "eo"})
    assert new_language["label_chatbot"] not in other.text


async def test_the_declaration_page_is_offered_in_it(new_language: Mapping[str, str]) -> None:
    response = await page(
        offering("fr", NEW), f"/.well-known/ai-disclosure?lang={NEW}", Accept="text/html"
    )
    assert response.status_code == 200
    assert f'<html lang="{NEW}"' in response.text
    assert new_language["decl_title"] in response.text
