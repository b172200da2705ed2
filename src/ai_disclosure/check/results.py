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
    "CHECK_STATUSES",
    "Declaration",
    "PageReport",
    "RunReport",
    "SiteReport",
    "Skipped",
    "Status",
    "Verdict",
    "worst",
]


class Status(StrEnum):
    """Outcome of one check on one page; ``UNDECLARED`` is a page verdict only:
    a page that declares nothing about AI and has nothing wrong."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    NA = "n/a"
    UNDECLARED = "undeclared"


#: The statuses a single check can give.
CHECK_STATUSES: tuple[Status, ...] = (Status.PASS, Status.WARN, Status.FAIL, Status.NA)


class Declaration(StrEnum):
    """What a page says about AI, all signals taken together."""

    AI = "ai"  # something machine-readable says AI is involved
    NO_AI = "no-ai"  # a header mode=none or a meta human-only/none, and nothing more
    UNDECLARED = "undeclared"  # no signal at all: "no AI declared"


#: Severity order: a page is as bad as its worst check.
_SEVERITY: Mapping[Status, int] = MappingProxyType(
    {Status.NA: 0, Status.UNDECLARED: 0, Status.PASS: 1, Status.WARN: 2, Status.FAIL: 3}
)


def worst(statuses: Iterable[Status]) -> Status:
    """The most severe check status; ``n/a`` when there is none."""
    return max(statuses, key=_SEVERITY.__getitem__, default=Status.NA)


@dataclass(frozen=True, slots=True)
class Verdict:
    """One check's outcome and the one-line reason for it."""

    status: Status
    reason: str


@dataclass(frozen=True, slots=True)
class PageReport:
    """One fetched URL and its verdicts, one per rule of ``rules.RULES``, in its order.

    ``declaration`` is ``None`` for responses that were not audited (redirects,
    errors, pages that could not be fetched).
    """

    url: str
    depth: int
    http_status: int | None
    content_type: str | None
    checks: Mapping[str, Verdict]
    declaration: Declaration | None = None

    @property
    def verdict(self) -> Status:
        """The worst check; ``undeclared`` instead of pass or n/a for a page that
        declares nothing, so that such pages are counted apart."""
        found = worst(v.status for v in self.checks.values())
        if self.declaration is Declaration.UNDECLARED and found in (Status.PASS, Status.NA):
            return Status.UNDECLARED
        return found


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
    """Every site of one ``check`` run; ``strict`` when pages had to declare."""

    sites: tuple[SiteReport, ...] = field(default_factory=tuple)
    strict: bool = False

    @property
    def exit_code(self) -> int:
        """2 when a site could not be reached, else 1 when any page fails, else 0
        (pages that declare nothing do not fail, unless ``strict`` made them)."""
        if any(site.error for site in self.sites):
            return 2
        if any(page.verdict is Status.FAIL for site in self.sites for page in site.pages):
            return 1
        return 0
