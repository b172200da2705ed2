"""Reading a response: the header, the Link targets, the notice links, HTML sniffing."""

from __future__ import annotations

from ai_disclosure.check.page import link_targets, read_page, register_targets

from .pages import AI_HEADERS, REGISTER, URL, body, replaced


def test_several_header_fields_combine() -> None:
    headers = (*AI_HEADERS, ("AI-Disclosure", 'provider="Ville"'))
    page = read_page(URL, 200, headers, body())
    assert page.header is not None
    assert page.header.provider == "Ville"


def test_register_targets_come_from_the_link_header_and_the_notice() -> None:
    headers = replaced("Link", '</reg/a>; rel="ai-disclosure", </style.css>; rel=preload')
    page = read_page(URL, 200, headers, body())
    # Fragment dropped, mailto: and same-page anchors ignored, relative URLs resolved.
    assert register_targets(page) == ("https://ville.example/reg/a", REGISTER)


def test_link_header_parsing() -> None:
    values = [
        '<https://r.example/a>; rel="ai-disclosure describedby", <https://r.example/b>; rel=next',
        "<https://r.example/c>;REL=AI-Disclosure, <https://r.example/a>; rel=ai-disclosure",
    ]
    assert link_targets(values, "ai-disclosure", URL) == (
        "https://r.example/a",
        "https://r.example/c",
    )


def test_pages_without_content_type_are_sniffed() -> None:
    page = read_page(URL, 200, (("AI-Disclosure", "mode=none"),), b"<!DOCTYPE html><p>x</p>")
    assert page.is_html
    data = read_page(URL, 200, (), b"\x89PNG\r\n")
    assert not data.is_html
