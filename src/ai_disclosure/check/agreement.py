"""Rule (7): the page says what the site's ``/.well-known/ai-disclosure`` says of its path. Pure.

A rule's expected mode combines its systems as the middleware does (strongest
origin wins); the page may declare more than its rule, since more systems may
be disclosed at run time, never less.
"""

from __future__ import annotations

from .._model import ORIGIN_RANK, Origin, involvement
from .evidence import AI_VALUES, NO_AI_VALUES, because, metas
from .page import Page
from .results import Status, Verdict
from .rule import PageContext
from .wellknown import INVALID, VALID, WELL_KNOWN_PATH

__all__ = ["check_manifest"]


def _declared(page: Page) -> tuple[int | None, str]:
    """The page's own AI claim: an origin rank (None: AI of unknown degree, from
    meta only; -1: nothing declared) and how it was said."""
    if page.header is not None:
        return ORIGIN_RANK[Origin(page.header.mode)], f"header mode={page.header.mode}"
    values = metas(page.document) if page.document is not None else []
    if len(values) == 1 and values[0] in NO_AI_VALUES:
        return 0, f"meta {values[0]}"
    if len(values) == 1 and values[0] in AI_VALUES:
        return None, f"meta {values[0]}"
    if len(values) > 1:
        return -1, "nothing clear (no valid AI-Disclosure header, conflicting metas)"
    return -1, "nothing (no valid AI-Disclosure header, no meta)"


def check_manifest(context: PageContext) -> Verdict:
    """(7) The page says what the site's manifest says of its path."""
    page, site, rule = context.page, context.site, context.manifest_rule
    declared_evidence = context.declared
    if page.path.startswith(WELL_KNOWN_PATH):
        return Verdict(Status.NA, "the manifest's own endpoint")
    if site.state == INVALID:
        count = len(site.problems)
        where = f"{count} problem{'s' * (count != 1)} at {site.pointers}"
        return Verdict(Status.FAIL, f"the site's manifest is invalid ({where})")
    if site.state != VALID:
        status = Status.WARN if declared_evidence else Status.NA
        return Verdict(status, site.reason)
    path = page.path
    rank, said = _declared(page)
    if declared_evidence and site.manifest is not None and not site.manifest.systems:
        return Verdict(
            Status.FAIL,
            f"page declares AI ({because(declared_evidence)}) but the site's manifest "
            "declares no AI system",
        )
    if rule is None or not rule.systems:
        # No system named for the path: the page may still disclose one at run time.
        where = (
            f"no manifest rule matches {path}"
            if rule is None
            else f'manifest rule "{rule.template}" names no system for {path}'
        )
        if declared_evidence:
            return Verdict(
                Status.WARN, f"page declares AI ({because(declared_evidence)}) but {where}"
            )
        return Verdict(Status.PASS, f"{where}; the page declares no AI")
    expected = involvement(rule.systems).origin
    names = ", ".join(s.id for s in rule.systems)
    rule_text = f'manifest rule "{rule.template}" ({names})'
    if rank == -1:
        return Verdict(
            Status.FAIL, f"{rule_text} implies mode={expected} but the page declares {said}"
        )
    run_time = "as when more systems are disclosed at run time"
    if rank is None:
        if expected is Origin.NONE:
            return Verdict(Status.PASS, f"{said} goes beyond {rule_text} (mode=none), {run_time}")
        return Verdict(Status.PASS, f"{said} agrees with {rule_text} (mode={expected})")
    wanted = ORIGIN_RANK[expected]
    if rank < wanted:
        return Verdict(
            Status.FAIL, f"{rule_text} implies mode={expected} but the page declares {said}"
        )
    if rank > wanted:
        return Verdict(
            Status.PASS,
            f"{said} is stronger than {rule_text} (mode={expected}), {run_time}",
        )
    return Verdict(Status.PASS, f"{said} matches {rule_text}")
