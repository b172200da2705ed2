"""The index is paginated: bounded pages, strict numbers, accessible links that keep
the filters and the language."""

from __future__ import annotations

import copy
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ai_disclosure.registry.pages import INDEX_MAX_PER_PAGE, INDEX_PER_PAGE, page_numbers

from .conftest import Harness, example_manifest
from .test_pages import Collector

SYSTEMS = 120  # 3 pages of 50


def many_systems(count: int) -> dict[str, Any]:
    """The example manifest with ``count`` systems (copies of its first one)."""
    manifest = example_manifest()
    model = manifest["systems"][0]
    manifest["systems"] = []
    for n in range(count):
        system = copy.deepcopy(model)
        system["id"] = f"systeme-{n:03d}"
        system.pop("uuid", None)  # each system has its own
        system["name"] = {"fr": f"Système numéro {n:03d}", "en": f"System number {n:03d}"}
        system["status"] = "retired" if n % 3 == 0 else "in-use"
        manifest["systems"].append(system)
    manifest["routes"] = []
    return manifest


@pytest.fixture
async def crowded(harness: Harness) -> Harness:
    token = await harness.token()
    response = await harness.publish(token, many_systems(SYSTEMS))
    assert response.status_code == 201, response.text
    return harness


class Page(Collector):
    html = ""


async def index(harness: Harness, **params: str) -> Page:
    response = await harness.client.get("/", params=params)
    assert response.status_code == 200, response.text
    page = Page()
    page.feed(response.text)
    page.html = response.text
    return page


def cards(page: Collector) -> list[str]:
    """The systems a page lists, by the link of each card."""
    return [
        attrs["href"] or ""
        for tag, attrs in page.tags
        if tag == "a" and (attrs.get("href") or "").startswith("/systems/")
    ]


class _Links(HTMLParser):
    """The links inside ``<nav class="pagination">``, in order."""

    def __init__(self) -> None:
        super().__init__()
        self.inside = False
        self.links: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "nav" and dict(attrs).get("class") == "pagination":
            self.inside = True
        elif tag == "a" and self.inside:
            self.links.append(dict(attrs))

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self.inside = False


def pagination(page: Page) -> list[dict[str, str | None]]:
    """The links inside the pagination ``nav``, in order."""
    links = _Links()
    links.feed(page.html)
    return links.links


def query(href: str | None) -> dict[str, list[str]]:
    return parse_qs(urlsplit(href or "").query)


async def test_the_index_shows_one_page_of_systems(crowded: Harness) -> None:
    first = await index(crowded)
    assert len(cards(first)) == INDEX_PER_PAGE
    assert cards(first)[0] == "/systems/demarches/systeme-000"
    last = await index(crowded, page="3")
    assert len(cards(last)) == SYSTEMS - 2 * INDEX_PER_PAGE
    assert cards(last)[-1] == "/systems/demarches/systeme-119"
    seen = cards(first) + cards(await index(crowded, page="2")) + cards(last)
    assert len(set(seen)) == SYSTEMS  # every system on exactly one page
    assert "120 systèmes trouvés, page 3 sur 3" in "".join(last.text)


async def test_pagination_links_are_accessible(crowded: Harness) -> None:
    page = await index(crowded, page="2")
    navs = [a for tag, a in page.tags if tag == "nav" and a.get("class") == "pagination"]
    assert navs == [{"class": "pagination", "aria-label": "Pages de résultats"}]
    links = pagination(page)
    current = [link for link in links if link.get("aria-current") == "page"]
    assert len(current) == 1
    assert current[0]["aria-label"] == "Page 2"
    assert query(current[0]["href"]) == {"page": ["2"]}
    assert links[0]["rel"] == "prev"
    assert query(links[0]["href"]) == {}  # page 1 is the index itself
    assert links[-1]["rel"] == "next"
    assert query(links[-1]["href"]) == {"page": ["3"]}
    assert "Page précédente" in page.text
    assert "Page suivante" in page.text


async def test_first_and_last_pages_have_no_link_beyond(crowded: Harness) -> None:
    first = pagination(await index(crowded))
    assert first[0].get("aria-current") == "page"
    assert all(link.get("rel") != "prev" for link in first)
    last = pagination(await index(crowded, page="3"))
    assert last[-1].get("aria-current") == "page"
    assert all(link.get("rel") != "next" for link in last)


async def test_links_keep_the_filters_the_size_and_the_language(crowded: Harness) -> None:
    page = await index(crowded, status="in-use", per_page="10", lang="en", q="number")
    assert len(cards(page)) == 10
    navs = [a for tag, a in page.tags if tag == "nav" and a.get("class") == "pagination"]
    assert navs[0]["aria-label"] == "Result pages"
    for link in pagination(page):
        kept = query(link["href"])
        assert kept["status"] == ["in-use"]
        assert kept["per_page"] == ["10"]
        assert kept["lang"] == ["en"]
        assert kept["q"] == ["number"]
    # 80 systems in use, 10 a page: 1 2 3 ... 8 and next, the gap shown, not linked.
    numbers = [link["aria-label"] for link in pagination(page) if link.get("rel") is None]
    assert numbers == ["Page 1", "Page 2", "Page 3", "Page 8"]
    assert "…" in page.text
    assert "80 systems found, page 1 of 8" in "".join(page.text)


@pytest.mark.parametrize(
    ("params", "expected_first"),
    [
        ({"page": "²"}, "systeme-000"),  # not ASCII digits: ignored, page 1
        ({"page": "٣"}, "systeme-000"),
        ({"page": "0"}, "systeme-000"),
        ({"page": "-2"}, "systeme-000"),
        ({"page": "99999999999999999999"}, "systeme-000"),  # too long a number: ignored
        ({"page": "1000000000"}, "systeme-100"),  # past the end: the last page
        ({"page": "3"}, "systeme-100"),
        ({"per_page": "²"}, "systeme-000"),
        ({"per_page": "501"}, "systeme-000"),  # over the API's bound: the default size
    ],
)
async def test_page_numbers_are_read_strictly(
    crowded: Harness, params: dict[str, str], expected_first: str
) -> None:
    page = await index(crowded, **params)
    listed = cards(page)
    assert listed[0] == f"/systems/demarches/{expected_first}"
    assert len(listed) in (INDEX_PER_PAGE, SYSTEMS - 2 * INDEX_PER_PAGE)


async def test_no_pagination_for_a_small_register(harness: Harness) -> None:
    await harness.ready()
    page = await index(harness)
    assert pagination(page) == []
    assert len(cards(page)) == len(example_manifest()["systems"])


@pytest.mark.parametrize(
    ("page", "pages", "expected"),
    [
        (1, 1, [1]),
        (1, 2, [1, 2]),
        (1, 8, [1, 2, 3, None, 8]),
        (5, 10, [1, None, 3, 4, 5, 6, 7, None, 10]),
        (4, 8, [1, 2, 3, 4, 5, 6, None, 8]),
        (8, 8, [1, None, 6, 7, 8]),
    ],
)
def test_page_numbers(page: int, pages: int, expected: list[int | None]) -> None:
    assert page_numbers(page, pages) == expected


async def test_a_service_page_lists_its_systems_by_page(crowded: Harness) -> None:
    response = await crowded.client.get("/services/demarches", params={"page": "3", "lang": "en"})
    assert response.status_code == 200
    page = Page()
    page.feed(response.text)
    page.html = response.text
    assert cards(page)[0] == "/systems/demarches/systeme-100?lang=en"
    assert len(cards(page)) == SYSTEMS - 2 * INDEX_PER_PAGE
    links = pagination(page)
    assert links[0]["rel"] == "prev"
    assert urlsplit(links[0]["href"] or "").path == "/services/demarches"
    assert query(links[0]["href"]) == {"page": ["2"], "lang": ["en"]}
    assert links[-1].get("aria-current") == "page"
    assert "120 systems found, page 3 of 3" in "".join(page.text)
    # Every version is still listed, on every page.
    assert "Version 1" in response.text


async def test_an_index_page_is_bounded_whatever_the_api_allows(crowded: Harness) -> None:
    # The API may allow 500 per page; an index page keeps to what reads well.
    assert crowded.registry.settings.max_per_page > INDEX_MAX_PER_PAGE
    bounded = await index(crowded, per_page=str(INDEX_MAX_PER_PAGE))
    assert len(cards(bounded)) == INDEX_MAX_PER_PAGE
    assert len(bounded.html.encode()) < 100_000
    beyond = await index(crowded, per_page=str(INDEX_MAX_PER_PAGE + 1))
    assert len(cards(beyond)) == INDEX_PER_PAGE  # not a size it serves: the default


async def test_the_default_page_size_keeps_to_a_lower_maximum(make_harness: Any) -> None:
    harness: Harness = await make_harness(max_per_page=7)
    token = await harness.token()
    assert (await harness.publish(token, many_systems(20))).status_code == 201
    assert len(cards(await index(harness))) == 7
    listed = (await harness.client.get("/v1/systems")).json()
    assert (listed["per_page"], len(listed["items"]), listed["total"]) == (7, 7, 20)
    stats = (await harness.client.get("/v1/stats")).json()
    assert stats["per_page"] == 7
