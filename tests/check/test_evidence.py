"""What a page declares about AI, and what never counts as declaring it."""

from __future__ import annotations

from collections.abc import Sequence

import pytest

from ai_disclosure.check.evidence import ai_evidence, declaration_of
from ai_disclosure.check.page import read_page
from ai_disclosure.check.results import Declaration

from .pages import URL, VALID, body


def test_words_alone_never_make_a_page_involve_ai() -> None:
    headers = (("Content-Type", "text/html"), ("AI-Disclosure", "mode=none"))
    page = read_page(
        "https://ville.example/",
        200,
        headers,
        body(content=b"<p>Notre charte sur l'intelligence artificielle.</p>", head=b""),
    )
    assert ai_evidence(page) == ()


# --- What a page declares -------------------------------------------------------


def _declaration(headers: Sequence[tuple[str, str]], content: bytes) -> Declaration:
    page = read_page("https://ville.example/x", 200, headers, content)
    return declaration_of(page, VALID.rule_for(page.path))


@pytest.mark.parametrize(
    ("headers", "content", "expected"),
    [
        ((), body(content=b"<p>Horaires.</p>", head=b""), Declaration.UNDECLARED),
        ((("Content-Type", "application/pdf"),), b"%PDF-1.4", Declaration.UNDECLARED),
        ((("AI-Disclosure", "???"),), body(content=b"<p>x</p>", head=b""), Declaration.UNDECLARED),
        ((("AI-Disclosure", "mode=none"),), body(content=b"<p>x</p>", head=b""), Declaration.NO_AI),
        (
            (),
            body(content=b"<p>x</p>", head=b'<meta name="ai-disclosure" content="none">'),
            Declaration.NO_AI,
        ),
        ((("AI-Disclosure", "mode=ai-modified"),), b"", Declaration.AI),
        ((), body(head=b""), Declaration.AI),  # a notice alone
        (
            (),
            body(content=b'<p aidisclosure="mixed">R\xc3\xa9sum\xc3\xa9</p>', head=b""),
            Declaration.AI,
        ),
        # Words alone never declare AI.
        ((), body(content=b"<p>Notre charte IA.</p>", head=b""), Declaration.UNDECLARED),
    ],
)
def test_what_a_page_declares(
    headers: tuple[tuple[str, str], ...], content: bytes, expected: Declaration
) -> None:
    assert _declaration(headers, content) is expected


def test_a_manifest_rule_declares_ai_for_its_path() -> None:
    page = read_page(URL, 200, (), body(content=b"<p>Question ?</p>", head=b""))
    assert declaration_of(page) is Declaration.UNDECLARED
    assert declaration_of(page, VALID.rule_for(page.path)) is Declaration.AI
