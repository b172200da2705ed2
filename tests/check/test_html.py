"""Reading HTML for the checks: languages, hidden text, notices, links, keywords."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ai_disclosure.check.html import decode, find_ai_keyword, is_html, scan


@pytest.mark.parametrize(
    ("text", "keyword"),
    [
        ("Ce service utilise l'intelligence artificielle.", "intelligence artificielle"),
        ("Built with ARTIFICIAL  INTELLIGENCE", "artificial intelligence"),
        ("Usamos inteligencia artificial.", "inteligencia artificial"),
        ("Fem servir la intel·ligència artificial.", "intel·ligència artificial"),
        ("Fem servir la intel.ligència artificial.", "intel·ligència artificial"),
        ("Utilizam l'intelligéncia artificiala.", "intelligéncia artificiala"),
        ("تستخدم هذه الخدمة الذكاء الاصطناعي.", "ذكاء اصطناعي"),
        ("نظام ذكاء اصطناعي", "ذكاء اصطناعي"),
        ("Réponse de l'IA", "IA"),
        ("Answer written by AI.", "AI"),
        ("(AI)", "AI"),
        ("J'ai une question, j’ai lu le guide.", None),
        ("Envoyez un MAIL, un email, IAM, AIDE, Ai", None),
        ("", None),
    ],
)
def test_ai_keywords(text: str, keyword: str | None) -> None:
    assert find_ai_keyword(text) == keyword


def test_languages_are_inherited_from_the_nearest_ancestor() -> None:
    document = scan(
        '<html lang="FR"><body><section lang="en"><div class="x">'
        "<aside data-ai-disclosure-notice><p>AI here</p></aside></div></section>"
        '<div data-ai-disclosure-notice lang="oc"><p>IA aicí</p></div></body></html>'
    )
    assert document.lang == "fr"
    inherited, own = document.notices
    assert (inherited.tag, inherited.own_lang, inherited.lang, inherited.lang_from) == (
        "aside",
        None,
        "en",
        "section",
    )
    assert (own.own_lang, own.lang, own.text) == ("oc", "oc", "IA aicí")


def test_hidden_and_unseen_text_is_ignored() -> None:
    document = scan(
        "<html><head><title>AI title</title><style>.ai{}</style></head><body>"
        "<p hidden>AI one</p><p aria-hidden=\"true\">AI two</p><p style='display:none'>AI</p>"
        "<template><p>AI</p></template><script>let AI = 1</script><p>Visible</p></body></html>"
    )
    assert document.text == "Visible"
    assert document.keyword is None


def test_notice_text_links_and_void_elements() -> None:
    document = scan(
        "<body><ai-notice data-ai-disclosure-notice><img src=x alt=''><br>"
        '<p>Une IA <a href="/registre">registre</a><input type=hidden value=AI></p>'
        '<button hidden>IA</button></ai-notice><a href="/other">Autre</a></body>'
    )
    (notice,) = document.notices
    assert notice.tag == "ai-notice"
    assert notice.text == "Une IA registre"
    assert notice.links == ("/registre",)
    assert document.links == ("/registre", "/other")


def test_unclosed_and_stray_tags_are_tolerated() -> None:
    document = scan(
        '<html lang="fr"><body><div data-ai-disclosure-notice><p>Une IA<p>répond'
        "</span></div><p lang=en>After</body>"
    )
    (notice,) = document.notices
    assert notice.text == "Une IA répond"
    assert document.text == "Une IA répond After"


def test_marked_elements_in_both_spellings_and_metas() -> None:
    document = scan(
        '<head><meta name="AI-Disclosure" content=" ai-assisted "><base href="/base/">'
        '<base href="/ignored/"></head><body><p ai-disclosure="ai-autonomous">x</p>'
        '<aside aidisclosure="ai-generated">y</aside><section ai-disclosure>z</section></body>'
    )
    assert document.metas == ("ai-assisted",)
    assert document.base == "/base/"
    assert [(e.tag, e.attribute, e.value, e.text) for e in document.marked] == [
        ("p", "ai-disclosure", "ai-autonomous", "x"),
        ("aside", "aidisclosure", "ai-generated", "y"),
        ("section", "ai-disclosure", "", "z"),
    ]


def test_first_of_duplicate_attributes_wins() -> None:
    document = scan('<html lang="fr" lang="en"><body><p>x</p></body></html>')
    assert document.lang == "fr"


def test_keyword_split_across_elements_is_found_on_the_page() -> None:
    document = scan('<html lang="fr"><body><p>intelligence <em>artificielle</em></p></body>')
    assert document.keyword is not None
    assert document.keyword.keyword == "intelligence artificielle"
    assert document.keyword.element is None
    assert document.keyword.text == "intelligence artificielle"
    long = scan("<p>" + "mot " * 20 + "<b>intelligence</b> artificielle" + " fin" * 20 + "</p>")
    assert long.keyword is not None
    assert (
        long.keyword.text
        == "…mot mot mot mot mot mot mot intelligence artificielle fin fin fin fin fin fin fin…"
    )


def test_decoding() -> None:
    assert decode("é".encode("latin-1"), "text/html; charset=ISO-8859-1") == "é"
    assert decode(b'<meta charset="windows-1252"><p>\x80', None).endswith("€")
    assert decode("\ufeffé".encode(), "text/html; charset=latin-1") == "é"  # BOM wins
    assert decode("é".encode("utf-16"), None) == "é"
    assert decode(b"\xff", "text/html; charset=nonsense") == "\ufffd"


def test_html_detection() -> None:
    assert is_html("text/html; charset=utf-8")
    assert is_html("application/xhtml+xml")
    assert not is_html("application/json", b"<html>")
    assert is_html(None, b"  <!-- c --> <!DOCTYPE html><p>")
    assert not is_html("", b"%PDF-1.7")


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("<>/=\"' abcpdivlang-hidden!")), max_size=200))
def test_any_markup_scans_without_error(markup: str) -> None:
    document = scan(markup)
    for notice in document.notices:
        assert notice.text in document.text
