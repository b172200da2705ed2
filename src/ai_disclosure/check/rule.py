"""What a rule is: a name, a title and one check, and the context every check reads.

Every check has the same signature, ``check(context) -> Verdict``: the context
bundles what any rule may need (the page, the site's manifest and its rule for
the page's path, the register links' answers, ``strict``) with the evidence
worked out once per page, so a new rule needs no new plumbing. The table of
rules, in report order, is ``rules.RULES``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from .._routing import Match
from .evidence import ai_evidence, declaration_from
from .page import LinkResult, Page
from .results import Declaration, Verdict
from .wellknown import SiteManifest

__all__ = ["Check", "PageContext", "Rule"]


@dataclass(frozen=True, slots=True)
class PageContext:
    """One audited page (a 2xx response) and everything its rules may read.

    ``evidence`` is everything saying the page involves AI, the manifest rule
    for its path included; ``declared`` is what the page itself says, without
    the manifest (what the manifest rule compares against); ``declaration``
    sums the evidence up (see ``evidence.declaration_from``).
    """

    page: Page
    site: SiteManifest
    links: Mapping[str, LinkResult]
    strict: bool
    manifest_rule: Match | None
    evidence: tuple[str, ...]
    declared: tuple[str, ...]
    declaration: Declaration

    @classmethod
    def of(
        cls,
        page: Page,
        site: SiteManifest,
        links: Mapping[str, LinkResult],
        *,
        strict: bool = False,
    ) -> PageContext:
        """The context of ``page`` on ``site``, given the answers of its register
        links (see ``page.register_targets``)."""
        manifest_rule = site.rule_for(page.path)
        evidence = ai_evidence(page, manifest_rule)
        return cls(
            page=page,
            site=site,
            links=links,
            strict=strict,
            manifest_rule=manifest_rule,
            evidence=evidence,
            declared=ai_evidence(page),
            declaration=declaration_from(page, evidence),
        )


#: A rule's check: pure, one verdict for one page.
Check = Callable[[PageContext], Verdict]


@dataclass(frozen=True, slots=True)
class Rule:
    """One check of every audited page.

    ``name`` is the key in JSON reports (renaming one changes the report's
    ``format``), ``title`` the table's column heading, ``check`` the verdict.
    """

    name: str
    title: str
    check: Check
