"""Rule (5): every piece of content marked as AI-made shows its label. Pure.

The EU AI Act Art. 50 Code of Practice asks for a label at the content itself,
recognisable at once; a page-level notice alone does not label one answer or
one translated article. An element whose ``ai-disclosure`` value says AI is
labelled when a ``[data-ai-mark]`` element with visible text is inside it or is
the element right before it (what ``ai_content()`` and ``ai-notice.js`` write),
or when its own visible text names AI (a site's own wording).
"""

from __future__ import annotations

from .evidence import marked_ai, marking
from .results import Status, Verdict
from .rule import PageContext

__all__ = ["check_labels"]


def check_labels(context: PageContext) -> Verdict:
    """(5) Each element marked with an AI value shows a visible label."""
    document = context.page.document
    if document is None:
        return Verdict(Status.NA, "not an HTML page")
    marked = marked_ai(document)
    if not marked:
        return Verdict(Status.NA, "no element marked with an AI value")
    bare = [element for element in marked if not element.labelled]
    if bare:
        return Verdict(
            Status.FAIL,
            f"{len(bare)} of {len(marked)} elements marked with an AI value show no visible "
            f"label (no [data-ai-mark] inside or right before it, no words naming AI in it): "
            f"{marking(bare[0])}",
        )
    many = "each with its" if len(marked) > 1 else "with a"
    return Verdict(
        Status.PASS,
        f"{len(marked)} element{'s' if len(marked) > 1 else ''} marked with an AI value, "
        f"{many} visible label",
    )
