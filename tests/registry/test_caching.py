"""Public reads carry register-wide validators and are answered 304 when unchanged;
writes and token-protected reads never are."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from ai_disclosure.registry.caching import PublicCaching, is_public_read, not_modified, validators
from ai_disclosure.registry.reads import Marker

from .conftest import SERVICE, Harness, batch, example_manifest, row

NOW = datetime(2026, 12, 10, 12, 0, tzinfo=UTC)
CHANGED = datetime(2026, 12, 10, 9, 30, 15, 123456, tzinfo=UTC)


@pytest.mark.parametrize(
    ("method", "path", "public"),
    [
        ("GET", "/", True),
        ("HEAD", "/", True),
        ("GET", "/systems/demarches/assistant-dechets", True),
        ("GET", "/services/demarches", True),
        ("GET", "/v1/systems", True),
        ("GET", "/v1/systems.csv", True),
        ("GET", "/v1/systems/demarches/assistant-dechets/atrs.json", True),
        ("GET", "/v1/services/demarches", True),
        ("GET", "/v1/stats", True),
        ("GET", "/v1/services/demarches/decisions/DOSSIER-1", False),
        ("PUT", "/v1/services/demarches/manifest", False),
        ("POST", "/v1/disclosures", False),
        ("POST", "/", False),
        ("GET", "/openapi.json", False),
        ("GET", "/static/registry.css", False),
        ("GET", "/healthz", False),
    ],
)
def test_public_reads(method: str, path: str, public: bool) -> None:
    assert is_public_read(method, path) is public


def test_validators_follow_the_marker_and_the_day() -> None:
    marker = Marker('"abc"', CHANGED)
    etag, last = validators(marker, NOW.timestamp())
    assert last == CHANGED.replace(microsecond=0)
    assert validators(marker, (NOW + timedelta(hours=1)).timestamp()) == (etag, last)
    tomorrow, since = validators(marker, (NOW + timedelta(days=1)).timestamp())
    assert tomorrow != etag
    assert since == datetime(2026, 12, 11, tzinfo=UTC)  # the day's start, later than CHANGED
    assert validators(Marker('"abd"', CHANGED), NOW.timestamp())[0] != etag
    empty = validators(Marker('"e"', None), NOW.timestamp())
    assert empty[1] == datetime(2026, 12, 10, tzinfo=UTC)


def _client(marker: Marker, calls: list[str]) -> httpx.AsyncClient:
    async def page(request: Request) -> Response:
        calls.append(request.url.path)
        return PlainTextResponse("page", headers={"Cache-Control": "no-cache"})

    async def missing(request: Request) -> Response:
        calls.append(request.url.path)
        return PlainTextResponse("no", status_code=404)

    async def current() -> Marker:
        return marker

    app = Starlette(
        routes=[
            Route("/v1/systems", page),
            Route("/v1/systems/{service}/{system}", missing),
            Route("/v1/services/{service}/decisions/{reference}", page),
            Route("/v1/disclosures", page, methods=["POST"]),
        ]
    )
    wrapped = PublicCaching(app, marker=current, clock=NOW.timestamp, max_age=120)
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=wrapped), base_url="http://r.test")


async def test_conditional_requests_are_answered_304_without_building_the_page() -> None:
    calls: list[str] = []
    async with _client(Marker('"m1"', CHANGED), calls) as client:
        first = await client.get("/v1/systems")
        assert first.status_code == 200
        assert first.headers["cache-control"] == "public, max-age=120"
        etag, modified = first.headers["etag"], first.headers["last-modified"]
        assert modified == format_datetime(CHANGED.replace(microsecond=0), usegmt=True)
        assert calls == ["/v1/systems"]

        for headers in (
            {"If-None-Match": etag},
            {"If-None-Match": f'"other", W/{etag}'},
            {"If-None-Match": "*"},
            {"If-Modified-Since": modified},
            {"If-Modified-Since": format_datetime(NOW, usegmt=True)},
        ):
            again = await client.get("/v1/systems", headers=headers)
            assert again.status_code == 304, headers
            assert again.content == b""
            assert again.headers["etag"] == etag
        assert calls == ["/v1/systems"]  # no page built for a 304

        for headers in (
            {"If-None-Match": '"other"'},
            # If-None-Match wins: an old tag is stale whatever the date says.
            {"If-None-Match": '"other"', "If-Modified-Since": modified},
            {"If-Modified-Since": format_datetime(CHANGED - timedelta(seconds=1), usegmt=True)},
            {"If-Modified-Since": "not a date"},
        ):
            assert (await client.get("/v1/systems", headers=headers)).status_code == 200, headers
        assert len(calls) == 5


async def test_errors_writes_and_private_reads_carry_no_validators() -> None:
    calls: list[str] = []
    async with _client(Marker('"m1"', CHANGED), calls) as client:
        missing = await client.get("/v1/systems/a/b")
        assert missing.status_code == 404
        assert "etag" not in missing.headers
        private = await client.get("/v1/services/a/decisions/R-1", headers={"If-None-Match": "*"})
        assert private.status_code == 200
        assert "etag" not in private.headers
        assert private.headers["cache-control"] == "no-cache"
        posted = await client.post("/v1/disclosures", headers={"If-None-Match": "*"})
        assert posted.status_code == 200
        assert "etag" not in posted.headers


async def test_the_registry_answers_public_reads_304_until_the_register_changes(
    harness: Harness,
) -> None:
    token = await harness.ready()
    client = harness.client
    urls = ["/", "/?q=eau", "/v1/systems", "/v1/systems.csv", f"/services/{SERVICE}"]
    # Uncompressed: the register's gzipped download is another representation,
    # with its own tag (test_snapshots).
    client.headers["Accept-Encoding"] = "identity"
    first = {url: await client.get(url) for url in urls}
    # Register-wide: one tag for the API's answers, one per language for the pages.
    api = {r.headers["etag"] for url, r in first.items() if url.startswith("/v1/")}
    pages = {r.headers["etag"] for url, r in first.items() if not url.startswith("/v1/")}
    assert len(api) == len(pages) == 1
    assert api != pages
    for url, response in first.items():
        assert response.status_code == 200, url
        assert response.headers["cache-control"] == "public, max-age=60"
        again = await client.get(url, headers={"If-None-Match": response.headers["etag"]})
        assert again.status_code == 304, url
        since = {"If-Modified-Since": response.headers["last-modified"]}
        assert (await client.get(url, headers=since)).status_code == 304, url

    # A batch changes the counts the pages show: a new tag.
    etag = first["/"].headers["etag"]
    assert (await harness.send(token, batch([row(count=2)]))).status_code == 202
    counted = await client.get("/", headers={"If-None-Match": etag})
    assert counted.status_code == 200
    assert counted.headers["etag"] != etag
    # A manifest published again unchanged changes nothing; a changed one does.
    assert (await harness.publish(token)).status_code == 200
    current = counted.headers["etag"]
    assert (await client.get("/", headers={"If-None-Match": current})).status_code == 304
    renamed = example_manifest()
    renamed["service"]["name"] = "Démarches, nouveau nom"
    assert (await harness.publish(token, renamed)).status_code == 201
    page = await client.get("/", headers={"If-None-Match": current})
    assert page.status_code == 200
    assert "Démarches, nouveau nom" in page.text


async def test_writes_and_token_reads_are_never_cached(harness: Harness) -> None:
    token = await harness.ready()
    auth = {"Authorization": f"Bearer {token}", "If-None-Match": "*"}
    published = await harness.client.put(
        f"/v1/services/{SERVICE}/manifest", json=example_manifest(), headers=auth
    )
    assert published.status_code == 200
    assert "etag" not in published.headers
    sent = await harness.send(token, batch([row()]), **{"If-None-Match": "*"})
    assert sent.status_code == 202
    assert "etag" not in sent.headers
    lookup = await harness.client.get(f"/v1/services/{SERVICE}/decisions/NONE-1", headers=auth)
    assert lookup.status_code == 404
    assert "etag" not in lookup.headers


def test_an_if_none_match_split_over_lines_is_read_whole() -> None:
    etag, last = validators(Marker('"m1"', CHANGED), NOW.timestamp())
    lines = [(b"if-none-match", b'"old"'), (b"if-none-match", etag.encode())]
    assert not_modified(lines, etag, last)
    assert not not_modified(lines[:1], etag, last)


async def test_a_page_in_another_language_is_another_representation(harness: Harness) -> None:
    await harness.ready()
    client = harness.client
    french = await client.get("/")
    english = await client.get("/", headers={"Accept-Language": "en"})
    assert english.headers["content-language"] == "en"
    assert english.headers["etag"] != french.headers["etag"]
    assert "accept-language" in english.headers["vary"].lower()
    # A copy in French is not current for a reader who asks for English...
    stale = {"If-None-Match": french.headers["etag"], "Accept-Language": "en"}
    assert (await client.get("/", headers=stale)).status_code == 200
    # ...and a current one is answered 304, saying what it varied on.
    fresh = {"If-None-Match": english.headers["etag"], "Accept-Language": "en"}
    unchanged = await client.get("/", headers=fresh)
    assert unchanged.status_code == 304
    assert unchanged.headers["vary"] == "Accept-Language"
    # ?lang= is in the address: no Vary, the same tag as the negotiated page.
    asked = await client.get("/?lang=en", headers={"Accept-Language": "fr"})
    assert "vary" not in asked.headers
    assert asked.headers["etag"] == english.headers["etag"]
