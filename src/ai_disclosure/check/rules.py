"""The rules of ``ai-disclosure check``, as one ordered table. Pure.

``RULES`` is the only list of rules: ``evaluate`` gives a verdict per rule, the
report draws its columns (``title``) and JSON keys (``name``) from it in this
order, and docs/check.md lists every rule (a test compares the two).

Each rule answers pass / warn / fail / n/a with a one-line reason precise
enough to act on. Failures are contradictions: AI declared without a notice
people can read in the page's language, a notice without the page-level meta,
a register link that is broken or lands on JSON only, a page that disagrees
with its header, meta or the site's manifest. A page that declares nothing is
not a failure, except under ``strict`` (see ``evidence``).

To add a rule: write ``check(context: PageContext) -> Verdict`` in the module
of its concern (or a new one), add ``Rule(name, title, check)`` to ``RULES``
where its column belongs, and describe it in docs/check.md.
"""

from __future__ import annotations

from collections.abc import Mapping

from .agreement import check_manifest
from .labels import check_labels
from .links import check_register
from .notices import check_language, check_notice
from .page import LinkResult, Page
from .results import Status, Verdict
from .rule import PageContext, Rule
from .signals import check_header, check_meta
from .wellknown import SiteManifest

__all__ = ["CHECKS", "HEADER", "RULES", "evaluate", "not_fetched"]

#: The header rule. Also the column where a response that was not audited (a
#: redirect, an error page, a fetch failure) says why: the header is the one
#: signal any response can carry, whatever its type.
HEADER = Rule("header", "Header", check_header)

#: Every rule, in report order (table columns, JSON keys).
RULES: tuple[Rule, ...] = (
    HEADER,
    Rule("meta", "Meta", check_meta),
    Rule("notice", "Notice", check_notice),
    Rule("language", "Lang", check_language),
    Rule("labels", "Labels", check_labels),
    Rule("register", "Register", check_register),
    Rule("manifest", "Manifest", check_manifest),
)

#: The rules' names, in report order: the keys of every page's ``checks``.
#: Derived once, for callers; this package reads ``RULES`` each time instead.
CHECKS: tuple[str, ...] = tuple(rule.name for rule in RULES)


def _every(status: Status, reason: str, header: Verdict | None = None) -> dict[str, Verdict]:
    """One verdict for every rule of a response that was not audited; ``header``,
    when given, says in the header's column why."""
    verdicts = {rule.name: Verdict(status, reason) for rule in RULES}
    if header is not None:
        verdicts[HEADER.name] = header
    return verdicts


def not_fetched(reason: str) -> dict[str, Verdict]:
    """Verdicts for a URL that could not be fetched: a warning, nothing checked."""
    return _every(Status.NA, "not checked", Verdict(Status.WARN, f"could not fetch: {reason}"))


def evaluate(
    page: Page,
    site: SiteManifest,
    results: Mapping[str, LinkResult],
    *,
    strict: bool = False,
) -> dict[str, Verdict]:
    """Every rule's verdict for one page, given the site's manifest and the
    answers of the register links (see ``page.register_targets``). ``strict``:
    a page that declares nothing fails (see ``evidence.declaration_of``)."""
    if 300 <= page.status < 400:
        target = page.location or "nowhere (no Location)"
        return _every(Status.NA, f"HTTP {page.status} redirect to {target}")
    if not 200 <= page.status < 300:
        why = "broken link?" if 400 <= page.status < 500 else "server error"
        warning = Verdict(Status.WARN, f"HTTP {page.status} ({why}): page not audited")
        return _every(Status.NA, "not audited", warning)
    context = PageContext.of(page, site, results, strict=strict)
    return {rule.name: rule.check(context) for rule in RULES}
