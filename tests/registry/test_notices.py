"""``GET /v1/systems/{service}/{system}/notice``: the notice for pages no service
server touches, and CORS on the public reads only."""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import pytest

from ai_disclosure._manifest import parse_manifest
from ai_disclosure._notice import render_notice

from .answers import conforms
from .conftest import SERVICE, Harness, batch, example_manifest, row

NOTICE = f"/v1/systems/{SERVICE}/assistant-dechets/notice"


class _Host(HTMLParser):
    """The notice host's attributes and every link of the notice."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.host: dict[str, str | None] = {}
        self.links: list[str] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "ai-notice":
            self.host = dict(attrs)
        if tag == "a":
            self.links.append(dict(attrs).get("href") or "")


async def notice(harness: Harness, **params: str) -> Any:
    response = await harness.client.get(NOTICE, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == "*"
    return conforms(response, "register-notice")


async def test_the_notice_is_the_servers_own_markup(harness: Harness) -> None:
    await harness.ready()
    body = await notice(harness, lang="en")
    assert (body["service"], body["system"], body["lang"]) == (SERVICE, "assistant-dechets", "en")
    manifest = parse_manifest(example_manifest())
    expected = render_notice(
        manifest, [manifest.system("assistant-dechets")], "en", page_language="en"
    )
    assert body["html"] == expected
    host = _Host(body["html"])
    assert "data-ai-disclosure-notice" in host.host
    assert "lang" not in host.host  # the page is in English: no language of its own


async def test_a_language_the_catalog_lacks_gets_a_notice_that_says_its_own(
    harness: Harness,
) -> None:
    await harness.ready()
    body = await notice(harness, lang="tlh")
    host = _Host(body["html"])
    assert (body["lang"], host.host["lang"], host.host["dir"]) == ("fr", "fr", "ltr")
    assert (await notice(harness))["lang"] == "fr"  # no lang: the service's language


async def test_without_a_register_url_the_link_leads_to_this_register(harness: Harness) -> None:
    manifest = example_manifest()
    manifest["service"].pop("register_url", None)
    for system in manifest["systems"]:
        system.pop("register_url", None)
    token = await harness.token()
    assert (await harness.publish(token, manifest)).status_code in (200, 201)
    body = await notice(harness, lang="fr")
    links = _Host(body["html"]).links
    assert f"http://registry.test/systems/{SERVICE}/assistant-dechets?lang=fr" in links
    assert not any(".well-known" in link for link in links)


async def test_an_unknown_system_is_a_problem(harness: Harness) -> None:
    await harness.ready()
    response = await harness.client.get(f"/v1/systems/{SERVICE}/nope/notice")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "nope" in response.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("POST", "/v1/disclosures"),
        ("PUT", f"/v1/services/{SERVICE}/manifest"),
        ("OPTIONS", NOTICE),
        ("OPTIONS", "/v1/disclosures"),
    ],
)
async def test_writes_and_preflights_get_no_cors(harness: Harness, method: str, path: str) -> None:
    token = await harness.ready()
    body = batch([row()]) if method == "POST" else example_manifest()
    response = await harness.client.request(
        method,
        path,
        json=body if method != "OPTIONS" else None,
        headers={
            "authorization": f"Bearer {token}",
            "origin": "https://www.example.org",
            "access-control-request-method": "POST",
        },
    )
    assert response.status_code < 500
    assert not any(k.startswith("access-control-") for k in response.headers)


async def test_token_protected_reads_get_no_cors(harness: Harness) -> None:
    token = await harness.ready()
    response = await harness.client.get(
        f"/v1/services/{SERVICE}/decisions/ref-1",
        headers={"authorization": f"Bearer {token}", "origin": "https://www.example.org"},
    )
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code in (200, 404)
