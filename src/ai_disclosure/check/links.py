"""Rule (6): every register link answers, and a notice's lands on a page people can read. Pure.

The crawler asks each link of ``page.register_targets`` once per run; this rule
only judges the answers it was handed (``PageContext.links``).
"""

from __future__ import annotations

from collections.abc import Sequence

from .page import LinkResult, notice_links, register_targets
from .results import Status, Verdict
from .rule import PageContext

__all__ = ["check_register"]


def check_register(context: PageContext) -> Verdict:
    """(6) Every register link answers: a notice's links a page people can read
    (2xx HTML, asked as a browser asks), a ``Link`` target (for machines) 2xx."""
    page, results = context.page, context.links
    targets = register_targets(page)
    if not targets:
        if context.evidence:
            return Verdict(
                Status.WARN,
                'no register link on a page involving AI (no Link rel="ai-disclosure", '
                "no link in a notice)",
            )
        return Verdict(Status.NA, "no register link; the page does not involve AI")
    for_people = set(notice_links(page))
    checked = [results.get(url, LinkResult(url, skipped="not requested")) for url in targets]
    failed: list[tuple[LinkResult, str]] = []
    skipped: list[tuple[LinkResult, str]] = []
    for result in checked:
        if result.skipped is not None:
            skipped.append((result, result.describe()))
        elif not result.ok or (result.url in for_people and not 200 <= (result.status or 0) < 300):
            failed.append((result, result.describe()))
        elif result.url in for_people and (why := result.unreadable()) is not None:
            failed.append((result, why))
    if failed:
        return Verdict(Status.FAIL, _links(failed))
    if skipped:
        return Verdict(Status.WARN, _links(skipped))
    return Verdict(Status.PASS, _links([(r, r.describe()) for r in checked]))


def _links(results: Sequence[tuple[LinkResult, str]]) -> str:
    """The first result in full, then how many more share its fate."""
    (first, why), rest = results[0], len(results) - 1
    return f"register link {first.url} {why}" + (f" (and {rest} more)" if rest else "")
