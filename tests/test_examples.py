"""The worked examples for Flask (WSGI), Django (WSGI and ASGI) and FastAPI."""

from __future__ import annotations

import importlib
from typing import Any

import httpx
import pytest

from ai_disclosure.testing import assert_disclosed

EXAMPLES = [
    ("examples.flask.app", "app"),
    ("examples.django.site", "wsgi_app"),
    ("examples.django.site", "asgi_app"),
    ("examples.fastapi.app", "app"),
]


def example(module: str, name: str) -> Any:
    return getattr(importlib.import_module(module), name)


@pytest.mark.parametrize(("module", "name"), EXAMPLES)
async def test_example_pages_and_answers_are_disclosed(module: str, name: str) -> None:
    transport = httpx.ASGITransport(example(module, name))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/dechets/assistant")
        assert page.status_code == 200
        assert_disclosed(page, mode="ai-originated", notice=True)
        assert "Vous échangez avec une IA" in page.text
        answer = await client.post("/api/question", json={"question": "verre"})
        assert answer.status_code == 200
        assert answer.json()["answer"].startswith("Le verre")
        assert_disclosed(answer, mode="ai-originated")
        assert answer.headers["link"].endswith('rel="ai-disclosure"')


@pytest.mark.parametrize("name", ["wsgi_app", "asgi_app"])
async def test_django_pages_compressed_by_django_still_get_the_notice(name: str) -> None:
    transport = httpx.ASGITransport(example("examples.django.site", name))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/dechets/assistant", headers={"accept-encoding": "gzip"})
    assert page.headers["content-encoding"] == "gzip"  # Django compressed it, so do we
    assert_disclosed(page, notice=True)
    assert 'name="ai-disclosure"' in page.text
    assert int(page.headers["content-length"]) == page.num_bytes_downloaded


@pytest.mark.parametrize(("module", "name"), EXAMPLES)
async def test_the_notice_is_in_the_body_and_the_meta_in_the_head(module: str, name: str) -> None:
    """As a browser builds the page: the Flask layout leaves out <html>, <head>, <body>."""
    import html5lib

    transport = httpx.ASGITransport(example(module, name))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/dechets/assistant")
    tree = html5lib.parse(page.text, namespaceHTMLElements=False)
    assert tree.find("head/meta[@name='ai-disclosure']") is not None
    assert len(tree.findall("body//*[@data-ai-disclosure-notice]")) == 1


@pytest.mark.parametrize(("module", "name"), EXAMPLES)
async def test_an_answer_in_the_page_is_marked_and_labelled(module: str, name: str) -> None:
    import html5lib

    transport = httpx.ASGITransport(example(module, name))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        page = await client.get("/dechets/reponse")
    assert page.status_code == 200
    assert_disclosed(page, mode="ai-originated", notice=True)
    tree = html5lib.parse(page.text, namespaceHTMLElements=False)
    answer = tree.find(".//p[@ai-disclosure='ai-autonomous']")
    assert answer is not None
    assert answer.get("ai-model") == "mistral-small"
    assert answer.text == "Le verre va dans la colonne à verre."
    label = tree.find(".//span[@data-ai-mark]")
    assert label is not None
    assert " ".join("".join(label.itertext()).split()) == "IA Généré par IA"
