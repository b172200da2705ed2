"""``ai-disclosure demo``: the demo site, served by the CLI on a real uvicorn server."""

from __future__ import annotations

import time
from collections.abc import Iterator

import httpx
import pytest

from ai_disclosure import parse_header
from ai_disclosure._inject import MARKER
from ai_disclosure.demo import answer

from .servers import cli_server, free_port


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    port = free_port()
    with cli_server(["demo", "--port", str(port)], port) as process:
        yield f"http://127.0.0.1:{port}"
    output = process.output  # type: ignore[attr-defined]
    assert f"Demo site: http://127.0.0.1:{port}/" in output


def test_home_has_no_ai(demo: str) -> None:
    response = httpx.get(demo + "/")
    assert response.headers["ai-disclosure"] == "mode=none"
    assert MARKER.decode() not in response.text


def test_chatbot_page_shows_the_notice_before_the_form(demo: str) -> None:
    response = httpx.get(demo + "/dechets/assistant")
    text = response.text
    assert parse_header(response.headers["ai-disclosure"]).mode == "ai-originated"
    assert text.count(MARKER.decode()) == 1
    assert text.index(MARKER.decode()) < text.index("<form")
    assert "Vous échangez avec une IA" in text


def test_chatbot_answers_are_disclosed(demo: str) -> None:
    api = httpx.post(demo + "/api/dechets/question", json={"question": "Et le verre ?"})
    assert api.json()["answer"] == answer("verre")
    assert parse_header(api.headers["ai-disclosure"]).mode == "ai-originated"
    form = httpx.post(demo + "/dechets/assistant", data={"question": "un matelas"})
    assert "rendez-vous" in form.text
    assert form.text.count(MARKER.decode()) == 1
    bad = httpx.post(demo + "/api/dechets/question", content=b"nope")
    assert bad.status_code == 400


def test_streamed_page_arrives_in_pieces_with_the_notice(demo: str) -> None:
    arrivals = []
    body = b""
    with httpx.stream("GET", demo + "/eau/alertes/journal") as response:
        assert "content-length" not in response.headers
        assert parse_header(response.headers["ai-disclosure"]).mode == "machine-generated"
        start = time.monotonic()
        for chunk in response.iter_raw():
            arrivals.append(time.monotonic() - start)
            body += chunk
    assert body.count(MARKER) == 1
    assert body.index(MARKER) < body.index(b"Jour 1")
    # Not buffered: the pieces came over about a second, not all at the end.
    assert len(arrivals) >= 4
    assert arrivals[-1] - arrivals[0] > 0.5


def test_translated_page_and_declaration(demo: str) -> None:
    page = httpx.get(demo + "/en/waste")
    assert parse_header(page.headers["ai-disclosure"]).mode == "ai-modified"
    assert "Machine translation of pages" in page.text
    declaration = httpx.get(demo + "/.well-known/ai-disclosure").json()
    assert {s["id"] for s in declaration["systems"]} >= {"assistant-dechets", "traduction-pages"}
