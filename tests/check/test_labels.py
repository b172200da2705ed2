"""Rule (5): every element marked with an AI value shows a visible label."""

from __future__ import annotations

import pytest

from ai_disclosure._content import render_content
from ai_disclosure._notice import notice_languages
from ai_disclosure.check.html import scan

from ..test_notice import CHATBOT, MANIFEST, TRANSLATION
from .pages import FAIL, NA, NOTICE, PASS, body, verdicts

LABEL = "<span data-ai-mark><strong>IA</strong> Généré par IA</span>"
ANSWER = '<p ai-disclosure="ai-autonomous">Le verre va dans la colonne verte.</p>'


def labels(content: str) -> tuple[object, str]:
    return verdicts(content=body(NOTICE + content.encode()))["labels"]


@pytest.mark.parametrize(
    "content",
    [
        LABEL + ANSWER,  # right before it, as ai_content() writes it
        LABEL + "\n  " + ANSWER,  # text between them is only white space
        '<p ai-disclosure="ai-autonomous"><span data-ai-mark>IA</span> Le verre…</p>',  # inside
        '<p ai-disclosure="ai-generated">Résumé généré par IA : le verre…</p>',  # its own words
    ],
)
def test_a_labelled_element_passes(content: str) -> None:
    assert labels(content) == (PASS, "1 element marked with an AI value, with a visible label")


@pytest.mark.parametrize(
    "content",
    [
        ANSWER,  # no label at all
        "<span data-ai-mark></span>" + ANSWER,  # a label that shows nothing
        "<span data-ai-mark hidden>IA</span>" + ANSWER,  # a hidden one
        "<div>" + LABEL + "</div>" + ANSWER,  # not the element right before it
        LABEL + "<br>" + ANSWER,  # nor is this
    ],
)
def test_an_element_without_its_label_fails(content: str) -> None:
    assert labels(content) == (
        FAIL,
        "1 of 1 elements marked with an AI value show no visible label (no [data-ai-mark] "
        'inside or right before it, no words naming AI in it): <p ai-disclosure="ai-autonomous">',
    )


def test_one_label_labels_one_element() -> None:
    status, reason = labels(LABEL + ANSWER + ANSWER)
    assert status is FAIL
    assert reason.startswith("1 of 2 elements marked with an AI value show no visible label")


def test_no_ai_element_no_verdict() -> None:
    assert labels('<p ai-disclosure="human-only">Horaires.</p>') == (
        NA,
        "no element marked with an AI value",
    )


@pytest.mark.parametrize("language", notice_languages())
def test_what_ai_content_writes_is_labelled_in_every_language(language: str) -> None:
    for system in (CHATBOT, TRANSLATION):
        html = render_content(MANIFEST, [system], "Texte.", language)
        (element,) = scan(f"<main>{html}</main>").marked
        assert element.labelled, (language, system.id)


def test_an_ai_autonomous_page_default_with_nothing_visible_fails() -> None:
    plain = (("Content-Type", "text/html; charset=utf-8"),)
    content = body(content=b"<main><p>Horaires de la piscine.</p></main>")  # meta ai-autonomous
    found = verdicts(plain, content, url="https://ville.example/piscine")
    assert found["notice"] == (
        FAIL,
        "no human-readable notice on a page involving AI (meta ai-autonomous)",
    )
