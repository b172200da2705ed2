"""Rules (3) and (4): a notice people can read, in the page's language."""

from __future__ import annotations

import pytest

from ai_disclosure.check.results import Status

from .pages import AI_HEADERS, FAIL, META_AI, NOTICE, PASS, WARN, body, verdicts

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
