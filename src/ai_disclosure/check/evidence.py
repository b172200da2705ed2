"""What a page says about AI, and how the rules quote it in their reasons. Pure.

A page *involves AI* when anything machine-readable says so (an AI header
mode, a ``Link rel="ai-disclosure"``, an AI meta value, an element marked with
an AI value, a notice marker, or a manifest rule naming a system for its path);
words on the page alone never make it so, since a page may talk about AI
without using it. A page with no signal at all declares nothing ("no AI
declared"): that is not a failure of law 6, only of a service that promised to
declare every page (``strict``).

Meta and attribute values are read as ``_model.DISCLOSURE_VALUES`` lists them:
the W3C report's (``human-only``, ``ai-assisted``, ``ai-autonomous``) and the
older ones (the explainer's ``none``, ``ai-generated``, ``autonomous``,
``mixed``; IETF modes and EU icon names written on elements).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._model import DISCLOSURE_VALUES, Origin, W3CValue
from .._routing import Match
from .html import Document, Element
from .page import Page
from .results import Declaration

__all__ = [
    "AI_VALUES",
    "KNOWN_VALUES",
    "NO_AI_VALUES",
    "ai_evidence",
    "because",
    "declaration_from",
    "declaration_of",
    "marked_ai",
    "marking",
    "metas",
    "snippet",
]

#: ``ai-disclosure`` values meaning "no AI" (mode ``none``) and "AI" (any other mode).
NO_AI_VALUES = frozenset(value for value, ai in DISCLOSURE_VALUES.items() if not ai)
AI_VALUES = frozenset(value for value, ai in DISCLOSURE_VALUES.items() if ai)
#: The values, as a reason names them: the W3C report's, then the older ones.
KNOWN_VALUES = "{} (or {})".format(
    ", ".join(W3CValue),
    ", ".join(value for value in DISCLOSURE_VALUES if value not in set(W3CValue)),
)


def metas(document: Document) -> list[str]:
    """The page's distinct meta values, lower case, in order."""
    return list(dict.fromkeys(value.lower() for value in document.metas))


def marked_ai(document: Document) -> list[Element]:
    """The elements marked with an AI value, in document order."""
    return [e for e in document.marked if (e.value or "").lower() in AI_VALUES]


def marking(element: Element) -> str:
    """An element's marking as it appears in the page."""
    return f'<{element.tag} {element.attribute}="{element.value}">'


def ai_evidence(page: Page, rule: Match | None = None) -> tuple[str, ...]:
    """Everything machine-readable saying the page involves AI, as short phrases;
    ``rule``, the site's manifest rule for the page's path, counts when it names
    a system."""
    evidence: list[str] = []
    if page.header is not None and page.header.mode != Origin.NONE:
        evidence.append(f"header mode={page.header.mode}")
    if page.link_targets:
        evidence.append('Link rel="ai-disclosure"')
    document = page.document
    if document is not None:
        evidence += [f"meta {value}" for value in metas(document) if value in AI_VALUES]
        marked = marked_ai(document)
        if marked:
            evidence.append(marking(marked[0]))
        if document.notices:
            evidence.append("[data-ai-disclosure-notice]")
    if rule is not None and rule.systems:
        evidence.append(f'manifest rule "{rule.template}"')
    return tuple(evidence)


def declaration_from(page: Page, evidence: Sequence[str]) -> Declaration:
    """What the page says about AI, given its ``ai_evidence``: AI (any evidence),
    no AI (a readable header, necessarily mode=none, or a no-AI meta), or
    nothing at all."""
    if evidence:
        return Declaration.AI
    values = metas(page.document) if page.document is not None else []
    if page.header is not None or any(value in NO_AI_VALUES for value in values):
        return Declaration.NO_AI
    return Declaration.UNDECLARED


def declaration_of(page: Page, rule: Match | None = None) -> Declaration:
    """What the page says about AI, the manifest ``rule`` for its path included."""
    return declaration_from(page, ai_evidence(page, rule))


def because(evidence: Sequence[str]) -> str:
    """The evidence as a reason quotes it."""
    return ", ".join(evidence)


def snippet(text: str, limit: int = 60) -> str:
    """Page text quoted in a reason, cut to ``limit`` characters."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
