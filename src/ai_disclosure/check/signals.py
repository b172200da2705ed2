"""Rules (1) and (2): the page's machine-readable declarations. Pure.

The ``AI-Disclosure`` header and the W3C ``<meta name="ai-disclosure">``: each
readable, and the two agreeing.
"""

from __future__ import annotations

from .._model import Origin
from .evidence import AI_VALUES, KNOWN_VALUES, NO_AI_VALUES, because, metas, snippet
from .results import Declaration, Status, Verdict
from .rule import PageContext

__all__ = ["check_header", "check_meta"]


def check_header(context: PageContext) -> Verdict:
    """(1) ``AI-Disclosure`` readable when present (IETF draft-abaris-aicdh, an
    expired individual draft: optional, but the only signal a JSON API can
    carry). Under ``strict``, the column where a page declaring nothing fails."""
    page, strict = context.page, context.strict
    if page.header_value is None:
        if strict and context.declaration is Declaration.UNDECLARED:
            what = "no ai-disclosure meta" if page.is_html else "not an HTML page"
            return Verdict(
                Status.FAIL,
                f"nothing declared: no AI-Disclosure header, {what} (--strict: every page "
                "must declare, mode=none or human-only where no AI is involved)",
            )
        return Verdict(Status.NA, "no AI-Disclosure header (optional)")
    if page.header is None:
        value = snippet(page.header_value, 40)
        status = Status.FAIL if strict else Status.WARN
        return Verdict(status, f"AI-Disclosure {value!r} invalid: {page.header_error}")
    return Verdict(Status.PASS, f"AI-Disclosure mode={page.header.mode}")


def check_meta(context: PageContext) -> Verdict:
    """(2) W3C ``<meta name="ai-disclosure">`` on every HTML page involving AI (one
    that shows a notice included), agreeing with the header when there is one."""
    page, evidence = context.page, context.evidence
    document = page.document
    if document is None:
        return Verdict(Status.NA, "not an HTML page")
    values = metas(document)
    if not values:
        if evidence:
            return Verdict(
                Status.FAIL,
                f"meta ai-disclosure missing on a page involving AI ({because(evidence)})",
            )
        return Verdict(Status.NA, "no meta ai-disclosure; the page does not involve AI")
    if len(values) > 1:
        return Verdict(
            Status.FAIL, f"{len(values)} meta ai-disclosure disagree: {', '.join(values)}"
        )
    value = values[0]
    if value not in AI_VALUES | NO_AI_VALUES:
        return Verdict(Status.FAIL, f"meta ai-disclosure {value!r} is not one of {KNOWN_VALUES}")
    if page.header is None:
        state = "no" if page.header_value is None else "an unreadable"
        return Verdict(Status.PASS, f"meta {value} ({state} AI-Disclosure header to compare)")
    mode = page.header.mode
    if (value in AI_VALUES) != (mode != Origin.NONE):
        return Verdict(Status.FAIL, f"meta says {value} but header mode={mode}")
    return Verdict(Status.PASS, f"meta {value} agrees with header mode={mode}")
