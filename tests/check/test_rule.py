"""What every rule reads: the page's context, worked out once."""

from __future__ import annotations

from ai_disclosure.check.page import read_page
from ai_disclosure.check.results import Declaration
from ai_disclosure.check.rule import PageContext
from ai_disclosure.check.signals import check_header

from .pages import FAIL, URL, VALID, body, no_manifest


def test_the_context_tells_the_page_s_own_evidence_from_the_manifest_s() -> None:
    # No header, meta or notice: only the manifest rule for /ai says AI.
    page = read_page(URL, 200, (("Content-Type", "text/html"),), body(content=b"", head=b""))
    context = PageContext.of(page, VALID, {}, strict=True)
    assert context.manifest_rule is not None
    assert context.manifest_rule.template == "/ai*"
    assert context.evidence == ('manifest rule "/ai*"',)
    assert context.declared == ()
    assert context.declaration is Declaration.AI
    elsewhere = PageContext.of(page, no_manifest(), {})
    assert elsewhere.manifest_rule is None
    assert elsewhere.evidence == ()
    assert elsewhere.declaration is Declaration.UNDECLARED
    assert elsewhere.strict is False


def test_a_check_is_called_with_the_context_alone() -> None:
    plain = read_page(URL, 200, (("Content-Type", "text/html"),), body(content=b"", head=b""))
    undeclared = PageContext.of(plain, no_manifest(), {}, strict=True)
    verdict = check_header(undeclared)
    assert verdict.status is FAIL
    assert verdict.reason.startswith("nothing declared: no AI-Disclosure header")
    # The manifest's rule makes the same page declare AI: nothing to fail under strict.
    assert check_header(PageContext.of(plain, VALID, {}, strict=True)).status is not FAIL
