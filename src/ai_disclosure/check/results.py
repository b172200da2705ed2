"""What an audit finds: a verdict per check, per page, per site, and the counts.

Plain frozen data, so the rules stay pure and the report can be rendered as a
table or as JSON without knowing how it was gathered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "CHECKS",
    "PageReport",
    "RunReport",
    "SiteReport",
    "Skipped",
    "Status",
    "Verdict",
    "worst",
]


class Status(StrEnum):
    """Outcome of one check on one page."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    NA = "n/a"


#: Severity order: a page is as bad as its worst check.
_SEVERITY: Mapping[Status, int] = MappingProxyType(
    {Status.NA: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}
)

#: The checks, in report order (JSON keys and table columns).
CHECKS: tuple[str, ...] = ("header", "meta", "notice", "language", "register", "manifest")


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe status; ``n/a`` when there is none."""
    return max(statuses, key=_SEVERITY.__getitem__, default=Status.NA)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check's outcome and the one-line reason for it."""

    status: Status
    reason: str


@dataclass(frozen=True, slots=True)
class PageReport:
    """One fetched URL and its verdicts, one per name in ``CHECKS``."""

    url: str
    depth: int
    http_status: int | None
    content_type: str | None
    checks: Mapping[str, Verdict]

    @property
    def verdict(self) -> Status:
        return worst(v.status for v in self.checks.values())


@dataclass(frozen=True, slots=True)
class Skipped:
    """A URL found but not fetched, and why (robots.txt, limits)."""

    url: str
    reason: str


@dataclass(frozen=True, slots=True)
class SiteReport:
    """One start URL's crawl.

    ``error`` is set when the site could not be audited at all (unreachable).
    ``skipped`` lists the URLs robots.txt kept from being fetched; ``unvisited``
    counts the same-origin URLs found but left out by the depth or page limits.
    ``robots`` and ``manifest`` describe the site-wide files in one line each;
    ``manifest_problems`` lists the manifest's errors as (JSON pointer, message).
    """

    start_url: str
    origin: str
    pages: tuple[PageReport, ...] = ()
    skipped: tuple[Skipped, ...] = ()
    unvisited: int = 0
    robots: str = ""
    manifest_url: str = ""
    manifest_state: str = "not-fetched"
    manifest_reason: str = ""
    manifest_problems: tuple[tuple[str, str], ...] = ()
    error: str | None = None

    def counts(self) -> Counter[Status]:
        """Pages per verdict."""
        return Counter(page.verdict for page in self.pages)


@dataclass(frozen=True, slots=True)
class RunReport:
    """Every site of one ``check`` run."""

    sites: tuple[SiteReport, ...] = field(default_factory=tuple)

    @property
    def exit_code(self) -> int:
        """2 when a site could not be reached, else 1 when any page fails, else 0."""
        if any(site.error for site in self.sites):
            return 2
        if any(page.verdict is Status.FAIL for site in self.sites for page in site.pages):
            return 1
        return 0
