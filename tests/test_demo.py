"""``ai-disclosure demo``: the whole chain - demo site, proxied legacy site, register -
served by the CLI on real uvicorn servers."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ai_disclosure._inject import MARKER
from ai_disclosure.demo import answer
from ai_disclosure.registry import create_app, create_token
from ai_disclosure.testing import assert_disclosed, assert_not_disclosed

from .servers import cli_server, free_port, thread_server

PORTS: dict[str, int] = {}


@pytest.fixture(scope="module")
def demo() -> Iterator[str]:
    PORTS.update(site=free_port(), legacy=free_port(), registry=free_port())
    args = ["demo", "--port", str(PORTS["site"]), "--legacy-port", str(PORTS["legacy"]),
            "--registry-port", str(PORTS["registry"]), "--window", "1"]  # fmt: skip
    with cli_server(args, PORTS["site"]) as process:
        yield f"http://127.0.0.1:{PORTS['site']}"
    output = process.output  # type: ignore[attr-defined]
    assert f"Demo site:     http://127.0.0.1:{PORTS['site']}/" in output
    assert f"Public AI register:           http://127.0.0.1:{PORTS['registry']}/" in output


def test_home_has_no_ai(demo: str) -> None:
    assert_not_disclosed(httpx.get(demo + "/"))


def test_chatbot_page_shows_the_notice_before_the_form(demo: str) -> None:
    response = httpx.get(demo + "/dechets/assistant")
    text = response.text
    assert_disclosed(response, mode="ai-originated", notice=True)
    assert text.index(MARKER.decode()) < text.index("<form")
    assert "Vous échangez avec une IA" in text


def test_chatbot_answers_are_disclosed(demo: str) -> None:
    api = httpx.post(demo + "/api/dechets/question", json={"question": "Et le verre ?"})
    assert api.json()["answer"] == answer("verre")
    assert_disclosed(api, mode="ai-originated")
    form = httpx.post(demo + "/dechets/assistant", data={"question": "un matelas"})
    assert "rendez-vous" in form.text
    assert_disclosed(form, mode="ai-originated", notice=True)
    # The answer carries the W3C attribute and its label right before it.
    label = '<strong class="ai-mark__ai">IA</strong> <span class="ai-mark__text">Généré par IA'
    marked = '</span><p ai-disclosure="ai-autonomous" ai-model="mistral-small" '
    assert label in form.text
    assert form.text.index(label) < form.text.index(marked) < form.text.index("rendez-vous")


def test_the_chatbots_first_message_says_it_is_an_ai_and_for_whom(demo: str) -> None:
    text = httpx.get(demo + "/dechets/assistant").text
    log = text[text.index('id="chat-log"') :]
    first = log[: log.index("</p>")]
    assert "Je suis une intelligence artificielle" in first
    assert "Montpellier Méditerranée Métropole" in " ".join(first.split())


def test_the_translated_page_is_labelled(demo: str) -> None:
    text = httpx.get(demo + "/en/waste").text
    assert '<span class="ai-mark__text">Translated by AI</span>' in text
    assert '<div ai-disclosure="ai-autonomous" ai-model="mistral-small"' in text
    bad = httpx.post(demo + "/api/dechets/question", content=b"nope")
    assert bad.status_code == 400


def test_streamed_page_arrives_in_pieces_with_the_notice(demo: str) -> None:
    arrivals = []
    body = b""
    with httpx.stream("GET", demo + "/eau/alertes/journal") as response:
        assert "content-length" not in response.headers
        assert_disclosed(response, mode="machine-generated")
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
    assert_disclosed(page, mode="ai-modified")
    assert "Machine translation of pages" in page.text
    declaration = httpx.get(demo + "/.well-known/ai-disclosure").json()
    assert {s["id"] for s in declaration["systems"]} >= {"assistant-dechets", "traduction-pages"}


def register(path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{PORTS['registry']}{path}")


def total(system: str) -> int:
    counts: int = register(f"/v1/systems/demarches/{system}").json()["counts"]["total"]
    return counts


def test_the_notice_links_to_the_register_entry_whose_counts_rise(demo: str) -> None:
    page = httpx.get(demo + "/dechets/assistant").text
    entry = f"http://127.0.0.1:{PORTS['registry']}/systems/demarches/assistant-dechets"
    assert f'href="{entry}?lang=fr"' in page  # in the notice's language
    assert httpx.get(entry + "?lang=fr").headers["content-language"] == "fr"
    before = total("assistant-dechets")
    for _ in range(4):
        httpx.get(demo + "/dechets/assistant")
    deadline = time.monotonic() + 20
    while total("assistant-dechets") < before + 4:
        assert time.monotonic() < deadline, "the counts did not reach the register"
        time.sleep(0.2)
    assert "Assistant tri des déchets" in httpx.get(entry).text


def test_the_legacy_site_behind_the_proxy_discloses_and_logs(demo: str) -> None:
    legacy = f"http://127.0.0.1:{PORTS['legacy']}"
    before = total("detection-fuites")
    page = httpx.get(legacy + "/eau/alertes")
    assert_disclosed(page, mode="machine-generated", notice=True)
    assert "Vos alertes de consommation" in page.text
    home = httpx.get(legacy + "/")
    assert_not_disclosed(home)
    for response in (page, home):  # the legacy server's, relayed: one each
        assert len(response.headers.get_list("date")) == 1
        assert len(response.headers.get_list("server")) == 1
        assert response.headers["server"] != "uvicorn"
    deadline = time.monotonic() + 20
    while total("detection-fuites") < before + 1:
        assert time.monotonic() < deadline, "the proxy's counts did not reach the register"
        time.sleep(0.2)


def test_the_demo_logs_into_a_register_already_running(tmp_path: Path) -> None:
    db = str(tmp_path / "register.sqlite3")
    token = create_token(db, "demarches")
    with thread_server(create_app(db), lifespan="on") as register_url:
        site = free_port()
        args = ["demo", "--port", str(site), "--legacy-port", str(free_port()),
                "--registry", register_url, "--window", "1"]  # fmt: skip
        os.environ["AI_DISCLOSURE_REGISTRY_TOKEN"] = token
        try:
            with cli_server(args, site):
                page = httpx.get(f"http://127.0.0.1:{site}/dechets/assistant").text
                link = f"{register_url}/systems/demarches/assistant-dechets?lang=fr"
                assert f'href="{link}"' in page
        finally:
            del os.environ["AI_DISCLOSURE_REGISTRY_TOKEN"]
        entry = httpx.get(register_url + "/v1/systems/demarches/assistant-dechets").json()
        assert entry["counts"]["total"] == 1  # flushed when the demo stopped
