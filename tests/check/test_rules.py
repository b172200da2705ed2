"""The pure per-page rules, from status, headers and body bytes."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pytest

from ai_disclosure.check.evidence import ai_evidence, declaration_of
from ai_disclosure.check.page import (
    LinkResult,
    Page,
    link_targets,
    notice_links,
    read_page,
    register_targets,
)
from ai_disclosure.check.results import Declaration, PageReport, Status
from ai_disclosure.check.rules import CHECKS, evaluate, not_fetched
from ai_disclosure.check.wellknown import SiteManifest, read_manifest

from .sites import manifest

PASS, WARN, FAIL, NA = Status.PASS, Status.WARN, Status.FAIL, Status.NA
URL = "https://ville.example/ai"
REGISTER = "https://registre.example/systems/service/bot"
#: The register entry as a browser gets it: an HTML page.
ENTRY = LinkResult(REGISTER, status=200, media_type="text/html", html=True)
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
    strict: bool = False,
) -> dict[str, tuple[Status, str]]:
    page = read_page(url, status, headers, body() if content is None else content)
    results = links if links is not None else {REGISTER: ENTRY}
    found = evaluate(page, site, results, strict=strict)
    return {name: (v.status, v.reason) for name, v in found.items()}


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


def test_a_missing_header_is_never_a_failure() -> None:
    # An expired draft: the meta, the notice and the manifest say the rest.
    found = verdicts(without("AI-Disclosure"))
    assert found["header"] == (NA, "no AI-Disclosure header (optional)")
    assert {status for status, _ in found.values()} == {PASS, NA}
    # Even under --strict, when the page declares through its meta.
    assert verdicts(without("AI-Disclosure"), strict=True)["header"][0] is NA


def test_an_invalid_header_warns_and_fails_under_strict() -> None:
    status, reason = verdicts(replaced("AI-Disclosure", "mode=sentient"))["header"]
    assert status is WARN
    assert reason.startswith("AI-Disclosure 'mode=sentient' invalid: unknown mode 'sentient'")
    status, reason = verdicts(replaced("AI-Disclosure", 'model="x"'))["header"]
    assert reason.startswith("AI-Disclosure 'model=\"x\"' invalid: AI-Disclosure has no 'mode'")
    assert verdicts(replaced("AI-Disclosure", "mode=sentient"), strict=True)["header"][0] is FAIL


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


def test_meta_without_header_passes_and_no_ai_page_needs_none() -> None:
    assert verdicts(without("AI-Disclosure"))["meta"] == (
        PASS,
        "meta ai-autonomous (no AI-Disclosure header to compare)",
    )
    assert verdicts(replaced("AI-Disclosure", "mode=robot"))["meta"] == (
        PASS,
        "meta ai-autonomous (an unreadable AI-Disclosure header to compare)",
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
            (FAIL, "no notice in the page's language (lang=oc): notice <div> is lang=en"),
        ),
        (
            b'<footer lang="en"><div data-ai-disclosure-notice><p>An AI.</p></div></footer>',
            b"fr",
            (
                FAIL,
                "no notice in the page's language (lang=fr): notice <div> inherits lang=en "
                "from <footer>",
            ),
        ),
        (  # one notice per language: the page's is there
            b'<div data-ai-disclosure-notice lang="en"><p>An AI.</p></div>'
            b'<div data-ai-disclosure-notice lang="ar" dir="rtl">'
            b"<p>\xd8\xb0\xd9\x83\xd8\xa7\xd8\xa1</p></div>",
            b"ar",
            (PASS, "notice <div> lang=ar, like the page"),
        ),
        (
            b'<div data-ai-disclosure-notice lang="en"><p>An AI.</p></div>'
            b'<div data-ai-disclosure-notice lang="es"><p>Una IA.</p></div>',
            b"ca",
            (
                FAIL,
                "no notice in the page's language (lang=ca): notice <div> is lang=en, "
                "and 1 more in other languages",
            ),
        ),
        (  # a notice that is only hidden text is no notice at all
            b'<div data-ai-disclosure-notice lang="fr" hidden><p>Une IA.</p></div>'
            b'<div data-ai-disclosure-notice lang="en"><p>An AI.</p></div>',
            b"fr",
            (FAIL, "no notice in the page's language (lang=fr): notice <div> is lang=en"),
        ),
    ],
)
def test_notice_language(content: bytes, lang: bytes, expected: tuple[Status, str]) -> None:
    assert verdicts(content=body(content=content, lang=lang))["language"] == expected


def test_page_without_lang_warns() -> None:
    page = b"<!doctype html><html><head>" + META_AI + b"</head><body>" + NOTICE + b"</body></html>"
    assert verdicts(content=page)["language"] == (
        WARN,
        "the page declares no language (no <html lang>, no Content-Language): "
        "the notice's language is unknown",
    )


def test_content_language_stands_in_for_a_missing_html_lang() -> None:
    english = b'<div data-ai-disclosure-notice lang="en"><p>An AI answers.</p></div>'
    page = b"<!doctype html><html><head>" + META_AI + b"</head><body>" + english + b"</body></html>"
    french = (*AI_HEADERS, ("Content-Language", "fr"))
    assert verdicts(french, page)["language"] == (
        FAIL,
        "no notice in the page's language (lang=fr): notice <div> is lang=en",
    )
    assert verdicts((*AI_HEADERS, ("Content-Language", "en-GB")), page)["language"] == (
        PASS,
        "notice <div> lang=en, like the page",
    )
    # Several languages name an audience, not the text's language; <html lang> wins.
    assert verdicts((*AI_HEADERS, ("Content-Language", "fr, en")), page)["language"][0] is WARN
    assert verdicts(french, body(content=english, lang=b"en"))["language"][0] is PASS


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
    gone = {REGISTER: LinkResult(REGISTER, status=404, media_type="text/html", html=True)}
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
    # Redirects are followed: what remains a 3xx has nowhere to go.
    moved = {REGISTER: LinkResult(REGISTER, status=301)}
    assert verdicts(links=moved)["register"] == (FAIL, f"register link {REGISTER} answered 301")


def test_a_notice_link_must_land_on_a_page_people_can_read() -> None:
    json_only = {REGISTER: LinkResult(REGISTER, status=200, media_type="application/json")}
    assert verdicts(links=json_only)["register"] == (
        FAIL,
        f"register link {REGISTER} answers JSON only (application/json), "
        "not a page people can read",
    )
    ld = {REGISTER: LinkResult(REGISTER, status=200, media_type="application/ld+json")}
    assert "answers JSON only (application/ld+json)" in verdicts(links=ld)["register"][1]
    text = {REGISTER: LinkResult(REGISTER, status=200, media_type="text/plain")}
    assert verdicts(links=text)["register"] == (
        FAIL,
        f"register link {REGISTER} answers text/plain, not an HTML page people can read",
    )
    untyped = {REGISTER: LinkResult(REGISTER, status=200, html=True)}
    assert verdicts(links=untyped)["register"] == (PASS, f"register link {REGISTER} answered 200")


def test_a_link_header_target_is_for_machines() -> None:
    # Only in the Link header: JSON is fine, it must answer.
    machine = "https://ville.example/.well-known/ai-disclosure"
    headers = replaced("Link", f'<{machine}>; rel="ai-disclosure"')
    page = read_page(URL, 200, headers, body())
    assert notice_links(page) == (REGISTER,)
    assert register_targets(page) == (machine, REGISTER)
    links = {
        machine: LinkResult(machine, status=200, media_type="application/json"),
        REGISTER: ENTRY,
    }
    assert verdicts(headers, links=links)["register"] == (
        PASS,
        f"register link {machine} answered 200 (and 1 more)",
    )
    gone = {**links, machine: LinkResult(machine, status=410)}
    assert verdicts(headers, links=gone)["register"] == (
        FAIL,
        f"register link {machine} answered 410",
    )


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


def _site(document: dict[str, object]) -> SiteManifest:
    return read_manifest(VALID.url, 200, "application/json", json.dumps(document).encode())


def test_a_page_declaring_ai_on_a_site_that_declares_none_fails() -> None:
    none = manifest()
    none["systems"] = []
    assert verdicts(site=_site(none))["manifest"] == (
        FAIL,
        'page declares AI (header mode=ai-originated, Link rel="ai-disclosure", meta '
        "ai-autonomous, [data-ai-disclosure-notice]) but the site's manifest declares no AI "
        "system",
    )
    plain = (("Content-Type", "text/html"),)
    quiet = verdicts(plain, body(content=b"<p>Horaires.</p>", head=b""), site=_site(none))
    assert quiet["manifest"] == (PASS, "no manifest rule matches /ai; the page declares no AI")


def test_a_rule_naming_no_system_is_no_ai_for_its_path() -> None:
    # A specific rule first that names no system overrides the broad one after it.
    document = manifest(("/ai*", "bot"))
    document["routes"].insert(0, {"path": "/ai/aide", "systems": []})
    site = _site(document)
    plain = (("Content-Type", "text/html"),)
    help_page = body(content=b"<p>Aide.</p>", head=b"")
    url = "https://ville.example/ai/aide"
    quiet = verdicts(plain, help_page, url=url, site=site)
    assert quiet["manifest"] == (
        PASS,
        'manifest rule "/ai/aide" names no system for /ai/aide; the page declares no AI',
    )
    assert quiet["notice"] == (NA, "the page does not involve AI")
    assert verdicts(url=url, site=site)["manifest"][0] is WARN  # disclosed at run time?


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


# --- What a page declares; --strict -------------------------------------------------------


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


def test_a_page_declaring_nothing_is_no_ai_declared_not_a_failure() -> None:
    plain = (("Content-Type", "text/html; charset=utf-8"),)
    content = body(content=b"<main><p>Horaires de la piscine.</p></main>", head=b"")
    url = "https://ville.example/piscine"
    found = verdicts(plain, content, url=url)
    assert found == {
        "header": (NA, "no AI-Disclosure header (optional)"),
        "meta": (NA, "no meta ai-disclosure; the page does not involve AI"),
        "notice": (NA, "the page does not involve AI"),
        "language": (NA, "the page does not involve AI"),
        "register": (NA, "no register link; the page does not involve AI"),
        "manifest": (PASS, "no manifest rule matches /piscine; the page declares no AI"),
    }
    page = read_page(url, 200, plain, content)
    checks = evaluate(page, no_manifest(), {})
    report = PageReport(url, 0, 200, "text/html", checks, declaration_of(page))
    assert report.verdict is Status.UNDECLARED
    strict = verdicts(plain, content, url=url, strict=True)
    assert strict["header"] == (
        FAIL,
        "nothing declared: no AI-Disclosure header, no ai-disclosure meta (--strict: every "
        "page must declare, mode=none or human-only where no AI is involved)",
    )
    assert [name for name, (status, _) in strict.items() if status is FAIL] == ["header"]


def test_strict_is_satisfied_by_a_header_or_a_no_ai_meta() -> None:
    url = "https://ville.example/piscine"
    html_page = body(content=b"<p>Horaires.</p>", head=b"")
    declared = (("Content-Type", "text/html"), ("AI-Disclosure", "mode=none"))
    assert verdicts(declared, html_page, url=url, strict=True)["header"] == (
        PASS,
        "AI-Disclosure mode=none",
    )
    human = body(
        content=b"<p>Horaires.</p>", head=b'<meta name="ai-disclosure" content="human-only">'
    )
    found = verdicts((("Content-Type", "text/html"),), human, url=url, strict=True)
    assert found["header"] == (NA, "no AI-Disclosure header (optional)")
    pdf = verdicts((("Content-Type", "application/pdf"),), b"%PDF", url=url, strict=True)
    assert pdf["header"][0] is FAIL
    assert "no AI-Disclosure header, not an HTML page" in pdf["header"][1]


def test_a_page_with_a_failure_is_a_failure_whatever_it_declares() -> None:
    page = read_page(
        URL, 200, (("Content-Type", "text/html"),), body(content=b"<p>x</p>", head=b"")
    )
    broken = read_manifest(VALID.url, 200, "application/json", b"{}")
    checks = evaluate(page, broken, {})
    report = PageReport(URL, 0, 200, "text/html", checks, Declaration.UNDECLARED)
    assert report.verdict is FAIL
