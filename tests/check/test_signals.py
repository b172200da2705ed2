"""Rules (1) and (2): the AI-Disclosure header and the W3C meta."""

from __future__ import annotations

import pytest

from ai_disclosure.check.results import Status

from .pages import FAIL, META_AI, NA, PASS, WARN, body, replaced, verdicts, without

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
