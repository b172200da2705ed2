"""The pure per-page rules, from status, headers and body bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest

from ai_disclosure.check.results import CHECKS, Status
from ai_disclosure.check.rules import (
    LinkResult,
    Page,
    ai_evidence,
    evaluate,
    link_targets,
    not_fetched,
    read_page,
    register_targets,
)
from ai_disclosure.check.wellknown import SiteManifest, read_manifest

from .sites import manifest

PASS, WARN, FAIL, NA = Status.PASS, Status.WARN, Status.FAIL, Status.NA
URL = "https://ville.example/ai"
REGISTER = "https://registre.example/systems/service/bot"
NOTICE = (
    b"<div data-ai-disclosure-notice><p>Vous \xc3\xa9changez avec une IA.</p>"
    b'<a href="https://registre.example/systems/service/bot#top">Registre</a>'
    b'<a href="mailto:ia@ville.example">Contact</a> <a href="#more">Plus</a></div>'
)
META_AI = b'<meta name="ai-disclosure" content="ai-autonomous">'
AI_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("AI-Disclosure", "mode=ai-originated"),
    ("Link", f'<{REGISTER}>; rel="ai-disclosure"'),
)


def body(content: bytes = NOTICE, head: bytes = META_AI, lang: bytes = b"fr") -> bytes:
    return (
        b'<!doctype html><html lang="' + lang + b'"><head><meta charset="utf-8">' + head
        + b"</head><body>" + content + b"</body></html>"
    )  # fmt: skip


def no_manifest(url: str = "https://ville.example/.well-known/ai-disclosure") -> SiteManifest:
    return read_manifest(url, 404, "text/plain", b"")


VALID = read_manifest(
    "https://ville.example/.well-known/ai-disclosure",
    200,
    "application/json",
    json.dumps(manifest(("/ai*", "bot"), ("/quiet", "bot"))).encode(),
)


def verdicts(
    headers: Sequence[tuple[str, str]] = AI_HEADERS,
    content: bytes | None = None,
    *,
    status: int = 200,
    url: str = URL,
    site: SiteManifest = VALID,
    links: Mapping[str, LinkResult] | None = None,
) -> dict[str, tuple[Status, str]]:
    page = read_page(url, status, headers, body() if content is None else content)
    results = links if links is not None else {REGISTER: LinkResult(REGISTER, status=200)}
    return {name: (v.status, v.reason) for name, v in evaluate(page, site, results).items()}


def without(name: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in AI_HEADERS if k.lower() != name.lower())


def replaced(name: str, value: str) -> tuple[tuple[str, str], ...]:
    return (*without(name), (name, value))


def test_a_complete_ai_page_passes() -> None:
    found = verdicts()
    assert {status for status, _ in found.values()} == {PASS}
    assert found["header"][1] == "AI-Disclosure mode=ai-originated"
    assert found["notice"][1] == (
        '[data-ai-disclosure-notice] on <div>: "Vous échangez avec une IA. Registre Contact Plus"'
    )
    assert found["register"][1] == f"register link {REGISTER} answered 200"
    assert found["manifest"][1] == ('header mode=ai-originated matches manifest rule "/ai*" (bot)')


# --- (1) header ------------------------------------------------------------------


def test_header_missing_and_invalid() -> None:
    assert verdicts(without("AI-Disclosure"))["header"] == (FAIL, "AI-Disclosure header missing")
    status, reason = verdicts(replaced("AI-Disclosure", "mode=sentient"))["header"]
    assert status is FAIL
    assert reason.startswith("AI-Disclosure 'mode=sentient' invalid: unknown mode 'sentient'")
    status, reason = verdicts(replaced("AI-Disclosure", 'model="x"'))["header"]
    assert reason.startswith("AI-Disclosure 'model=\"x\"' invalid: AI-Disclosure has no 'mode'")


def test_header_draft_parameter_form_is_read() -> None:
    value = 'mode=ai-originated;model="gpt-4";provider="OpenAI"'
    assert verdicts(replaced("AI-Disclosure", value))["header"] == (
        PASS,
        "AI-Disclosure mode=ai-originated",
    )


def test_several_header_fields_combine() -> None:
    headers = (*AI_HEADERS, ("AI-Disclosure", 'provider="Ville"'))
    page = read_page(URL, 200, headers, body())
    assert page.header is not None
    assert page.header.provider == "Ville"


# --- (2) meta ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mode", "meta", "expected"),
    [
        ("none", "human-only", (PASS, "meta human-only agrees with header mode=none")),
        ("none", "none", (PASS, "meta none agrees with header mode=none")),
        (
            "ai-modified",
            "ai-assisted",
            (PASS, "meta ai-assisted agrees with header mode=ai-modified"),
        ),
        ("ai-originated", "mixed", (PASS, "meta mixed agrees with header mode=ai-originated")),
        (
            "ai-originated",
            "human-only",
            (FAIL, "meta says human-only but header mode=ai-originated"),
        ),
        ("none", "ai-autonomous", (FAIL, "meta says ai-autonomous but header mode=none")),
    ],
)
def test_meta_agrees_with_the_header(mode: str, meta: str, expected: tuple[Status, str]) -> None:
    head = f'<meta name="ai-disclosure" content="{meta}">'.encode()
    found = verdicts(replaced("AI-Disclosure", f"mode={mode}"), body(head=head))
    assert found["meta"] == expected


def test_meta_missing_unknown_duplicated() -> None:
    assert verdicts(content=body(head=b""))["meta"] == (
        FAIL,
        "meta ai-disclosure missing on a page involving AI (header mode=ai-originated, "
        'Link rel="ai-disclosure", [data-ai-disclosure-notice], manifest rule "/ai*")',
    )
    drupal = b'<meta name="AI-Disclosure" content="ai_summarized; required=undetermined">'
    status, reason = verdicts(content=body(head=drupal))["meta"]
    assert status is FAIL
    assert reason.startswith("meta ai-disclosure 'ai_summarized; required=undetermined' is not")
    two = META_AI + b'<meta name="ai-disclosure" content="human-only">'
    assert verdicts(content=body(head=two))["meta"] == (
        FAIL,
        "2 meta ai-disclosure disagree: ai-autonomous, human-only",
    )


def test_meta_without_header_warns_and_no_ai_page_needs_none() -> None:
    assert verdicts(without("AI-Disclosure"))["meta"] == (
        WARN,
        "meta says ai-autonomous but the AI-Disclosure header is missing",
    )
    plain = (("Content-Type", "text/html"), ("AI-Disclosure", "mode=none"))
    page = body(content=b"<p>Horaires de la piscine.</p>", head=b"")
    found = verdicts(plain, page, url="https://ville.example/piscine")
    assert found["meta"] == (NA, "no meta ai-disclosure; the page does not involve AI")
    assert found["notice"] == (NA, "the page does not involve AI")
    assert found["register"] == (NA, "no register link; the page does not involve AI")
    assert found["manifest"] == (
        PASS,
        "no manifest rule matches /piscine; the page declares no AI",
    )


# --- (3) notice ----------------------------------------------------------------------


def test_notice_evidence_is_named_precisely() -> None:
    marked = b'<p ai-disclosure="ai-autonomous">R\xc3\xa9ponse : le verre va au bac.</p>'
    assert verdicts(content=body(content=marked))["notice"] == (
        PASS,
        '<p ai-disclosure="ai-autonomous"> with visible text "Réponse : le verre va au bac."',
    )
    words = "<main><p>Ce service utilise l’intelligence artificielle.</p></main>".encode()
    assert verdicts(content=body(content=words))["notice"] == (
        PASS,
        'visible text names AI ("intelligence artificielle") in <p>: '
        '"Ce service utilise l’intelligence artificielle."',
    )


def test_no_notice_is_a_failure_and_hidden_text_does_not_count() -> None:
    hidden = (
        b"<div data-ai-disclosure-notice hidden><p>Une IA r\xc3\xa9pond.</p></div>"
        b'<p style="display: none">IA</p><script>var ai = "IA";</script>'
        b"<p>J'ai une question sur les d\xc3\xa9chets.</p>"
    )
    status, reason = verdicts(content=body(content=hidden))["notice"]
    assert status is FAIL
    assert reason == (
        "no human-readable notice on a page involving AI (header mode=ai-originated, "
        'Link rel="ai-disclosure", meta ai-autonomous, [data-ai-disclosure-notice], '
        'manifest rule "/ai*") ([data-ai-disclosure-notice] present but shows no text)'
    )


def test_words_alone_never_make_a_page_involve_ai() -> None:
    headers = (("Content-Type", "text/html"), ("AI-Disclosure", "mode=none"))
    page = read_page(
        "https://ville.example/",
        200,
        headers,
        body(content=b"<p>Notre charte sur l'intelligence artificielle.</p>", head=b""),
    )
    assert ai_evidence(page) == ()


# --- (4) language ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "lang", "expected"),
    [
        (NOTICE, b"fr-FR", (PASS, "notice <div> in the page's language (fr-fr)")),
        (
            b'<div data-ai-disclosure-notice lang="fr"><p>Une IA.</p></div>',
            b"fr",
            (PASS, "notice <div> lang=fr, like the page"),
        ),
        (
            b'<div data-ai-disclosure-notice lang="en" dir="ltr"><p>An AI.</p></div>',
            b"oc",
            (PASS, "notice <div> declares lang=en on a lang=oc page"),
        ),
        (
            b'<footer lang="en"><div data-ai-disclosure-notice><p>An AI.</p></div></footer>',
            b"fr",
            (
                WARN,
                "notice <div> inherits lang=en from <footer> but the page is lang=fr; "
                "give the notice its own lang",
            ),
        ),
    ],
)
def test_notice_language(content: bytes, lang: bytes, expected: tuple[Status, str]) -> None:
    assert verdicts(content=body(content=content, lang=lang))["language"] == expected


def test_page_without_lang_warns() -> None:
    page = b"<!doctype html><html><head>" + META_AI + b"</head><body>" + NOTICE + b"</body></html>"
    assert verdicts(content=page)["language"] == (
        WARN,
        "the page has no <html lang>: the notice's language is unknown",
    )


# --- (5) register links ----------------------------------------------------------------


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


def test_register_link_failures() -> None:
    gone = {REGISTER: LinkResult(REGISTER, status=404)}
    assert verdicts(links=gone)["register"] == (FAIL, f"register link {REGISTER} answered 404")
    down = {REGISTER: LinkResult(REGISTER, error="ConnectError: refused")}
    assert verdicts(links=down)["register"] == (
        FAIL,
        f"register link {REGISTER} unreachable: ConnectError: refused",
    )
    robots = {REGISTER: LinkResult(REGISTER, skipped="disallowed by robots.txt")}
    assert verdicts(links=robots)["register"] == (
        WARN,
        f"register link {REGISTER} not checked: disallowed by robots.txt",
    )
    moved = {REGISTER: LinkResult(REGISTER, status=301)}
    assert verdicts(links=moved)["register"][0] is PASS


def test_ai_page_without_register_link_warns() -> None:
    content = body(content=b"<div data-ai-disclosure-notice><p>Une IA.</p></div>")
    assert verdicts(without("Link"), content)["register"] == (
        WARN,
        'no register link on a page involving AI (no Link rel="ai-disclosure", '
        "no link in a notice)",
    )


# --- (6) manifest ------------------------------------------------------------------------


def test_manifest_rules_and_page_modes() -> None:
    weaker = verdicts(replaced("AI-Disclosure", "mode=ai-modified"))["manifest"]
    assert weaker == (
        FAIL,
        'manifest rule "/ai*" (bot) implies mode=ai-originated but the page declares '
        "header mode=ai-modified",
    )
    nothing = verdicts(without("AI-Disclosure"), body(head=b""))["manifest"]
    assert nothing == (
        FAIL,
        'manifest rule "/ai*" (bot) implies mode=ai-originated but the page declares '
        "nothing (no valid AI-Disclosure header, no meta)",
    )
    meta_only = verdicts(without("AI-Disclosure"))["manifest"]
    assert meta_only == (
        PASS,
        'meta ai-autonomous agrees with manifest rule "/ai*" (bot) (mode=ai-originated)',
    )
    stray = verdicts(url="https://ville.example/autre")["manifest"]
    assert stray == (
        WARN,
        'page declares AI (header mode=ai-originated, Link rel="ai-disclosure", meta '
        "ai-autonomous, [data-ai-disclosure-notice]) but no manifest rule matches /autre",
    )


def test_a_weaker_rule_than_the_page_passes() -> None:
    site = read_manifest(
        VALID.url,
        200,
        "application/json",
        json.dumps(manifest(("/ai*", "bot"), origin="ai-modified")).encode(),
    )
    assert verdicts(site=site)["manifest"] == (
        PASS,
        'header mode=ai-originated is stronger than manifest rule "/ai*" (bot) '
        "(mode=ai-modified), as when more systems are disclosed at run time",
    )


def test_manifest_states_on_pages() -> None:
    missing = no_manifest()
    assert verdicts(site=missing)["manifest"] == (WARN, f"no manifest at {missing.url} (HTTP 404)")
    plain = (("Content-Type", "text/html"), ("AI-Disclosure", "mode=none"))
    quiet = verdicts(plain, body(content=b"<p>Horaires.</p>", head=b""), site=missing)
    assert quiet["manifest"] == (NA, f"no manifest at {missing.url} (HTTP 404)")
    broken = read_manifest(missing.url, 200, "application/json", b'{"service": {}}')
    status, reason = verdicts(site=broken)["manifest"]
    assert status is FAIL
    assert reason.startswith("the site's manifest is invalid (")
    assert "/service/id" in reason
    assert "/systems" in reason


def test_percent_encoded_paths_match_decoded_rules() -> None:
    url = "https://ville.example/%C3%A9t%C3%A9"
    site = read_manifest(
        VALID.url,
        200,
        "application/json",
        json.dumps(manifest(("/été", "bot"))).encode(),
    )
    assert verdicts(url=url, site=site)["manifest"][0] is PASS


# --- Responses that are not pages --------------------------------------------------------


def test_redirects_errors_and_non_html() -> None:
    moved = verdicts((("Location", "/ailleurs"),), b"", status=302)
    assert set(moved.values()) == {(NA, "HTTP 302 redirect to https://ville.example/ailleurs")}
    missing = verdicts((("Content-Type", "text/html"),), b"", status=404)
    assert missing["header"] == (WARN, "HTTP 404 (broken link?): page not audited")
    assert {v for k, v in missing.items() if k != "header"} == {(NA, "not audited")}
    failing = verdicts((("Content-Type", "text/html"),), b"", status=503)
    assert failing["header"] == (WARN, "HTTP 503 (server error): page not audited")
    headers = (("Content-Type", "application/json"), ("AI-Disclosure", "mode=ai-originated"))
    api = verdicts(headers, b"", url="https://ville.example/ai/answer")
    assert api["header"][0] is PASS
    assert api["meta"] == (NA, "not an HTML page")
    assert api["notice"] == (NA, "not an HTML page")
    assert api["register"][0] is WARN


def test_not_fetched_pages_warn() -> None:
    found = not_fetched("ReadTimeout after 10s")
    assert found["header"].status is WARN
    assert found["header"].reason == "could not fetch: ReadTimeout after 10s"
    assert set(found) == set(CHECKS)


def test_pages_without_content_type_are_sniffed() -> None:
    page = read_page(URL, 200, (("AI-Disclosure", "mode=none"),), b"<!DOCTYPE html><p>x</p>")
    assert isinstance(page, Page)
    assert page.is_html
    data = read_page(URL, 200, (), b"\x89PNG\r\n")
    assert not data.is_html
