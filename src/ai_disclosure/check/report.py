"""Render an audit: a table people can scan, or JSON machines can rely on.

The JSON structure is documented in ``docs/check.md`` and versioned by
``format``; add fields freely, never rename or remove one without bumping it.
The columns and the per-check keys come from the table of rules
(``rules.RULES``), read when a report is rendered, so a new rule shows up here
without a change to this module.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .._version import __version__
from . import rules
from .results import CHECK_STATUSES, Declaration, PageReport, RunReport, SiteReport, Status

__all__ = ["ASCII_SYMBOLS", "FORMAT", "SYMBOLS", "render_table", "symbols_for", "to_json"]

#: Version of the JSON structure.
FORMAT = 1

SYMBOLS: Mapping[Status, str] = {
    Status.PASS: "✓",
    Status.WARN: "!",
    Status.FAIL: "✗",
    Status.NA: "–",
    Status.UNDECLARED: "–",
}
#: For terminals and pipes that cannot encode the symbols above.
ASCII_SYMBOLS: Mapping[Status, str] = {
    Status.PASS: "ok",
    Status.WARN: "!",
    Status.FAIL: "X",
    Status.NA: "-",
    Status.UNDECLARED: "-",
}
#: The table's "Declares" column.
_DECLARES = {
    Declaration.AI: "AI",
    Declaration.NO_AI: "no AI",
    Declaration.UNDECLARED: "nothing",
}
#: Page verdicts in summaries: the check statuses, then pages that declare nothing.
_VERDICTS = (Status.PASS, Status.WARN, Status.FAIL, Status.NA, Status.UNDECLARED)
_PAGE_WIDTH = 48


def symbols_for(encoding: str | None) -> Mapping[Status, str]:
    """The symbols a stream with this encoding can print."""
    try:
        "".join(SYMBOLS.values()).encode(encoding or "ascii")
    except (UnicodeEncodeError, LookupError):
        return ASCII_SYMBOLS
    return SYMBOLS


# --- JSON -------------------------------------------------------------------------


def _counts(statuses: Iterable[Status], among: Iterable[Status] = _VERDICTS) -> dict[str, int]:
    found = Counter(statuses)
    return {status.value: found[status] for status in among}


def _declarations(pages: Iterable[PageReport]) -> dict[str, int]:
    found = Counter(page.declaration for page in pages)
    return {declaration.value: found[declaration] for declaration in Declaration}


def _page_json(page: PageReport) -> dict[str, Any]:
    return {
        "url": page.url,
        "depth": page.depth,
        "http_status": page.http_status,
        "content_type": page.content_type,
        "declaration": page.declaration.value if page.declaration is not None else None,
        "verdict": page.verdict.value,
        "checks": {
            name: {"status": verdict.status.value, "reason": verdict.reason}
            for name, verdict in page.checks.items()
        },
    }


def _site_json(site: SiteReport) -> dict[str, Any]:
    return {
        "start_url": site.start_url,
        "origin": site.origin,
        "error": site.error,
        "robots": site.robots,
        "manifest": {
            "url": site.manifest_url,
            "state": site.manifest_state,
            "reason": site.manifest_reason,
            "problems": [{"pointer": p, "message": m} for p, m in site.manifest_problems],
        },
        "pages": [_page_json(page) for page in site.pages],
        "skipped": [{"url": s.url, "reason": s.reason} for s in site.skipped],
        "unvisited": site.unvisited,
        "summary": {
            "pages": len(site.pages),
            **_counts(p.verdict for p in site.pages),
            "declarations": _declarations(site.pages),
        },
    }


def to_json(report: RunReport) -> dict[str, Any]:
    """The whole run as JSON-ready data (see docs/check.md)."""
    pages = [page for site in report.sites for page in site.pages]
    return {
        "format": FORMAT,
        "tool": f"ai-disclosure {__version__}",
        "checks": [rule.name for rule in rules.RULES],
        "strict": report.strict,
        "exit_code": report.exit_code,
        "summary": {
            "sites": len(report.sites),
            "unreachable": sum(1 for site in report.sites if site.error),
            "pages": len(pages),
            "verdicts": _counts(page.verdict for page in pages),
            "declarations": _declarations(pages),
            "checks": {
                name: _counts((page.checks[name].status for page in pages), CHECK_STATUSES)
                for name in (rule.name for rule in rules.RULES)
            },
        },
        "sites": [_site_json(site) for site in report.sites],
    }


# --- Table ------------------------------------------------------------------------


def _short(url: str, origin: str) -> str:
    """The page as people read it in a table: its path when on the site's origin."""
    text = url
    if origin and url.startswith(origin + "/"):
        parts = urlsplit(url)
        text = parts.path + (f"?{parts.query}" if parts.query else "")
    return text if len(text) <= _PAGE_WIDTH else text[: _PAGE_WIDTH - 1] + "…"


def _summary(statuses: Counter[Status], pages: int) -> str:
    noun = "page" if pages == 1 else "pages"
    parts = [f"{statuses[s]} {s.value}" for s in (Status.PASS, Status.WARN, Status.FAIL)]
    parts.append(f"{statuses[Status.UNDECLARED]} no AI declared")
    if statuses[Status.NA]:
        parts.append(f"{statuses[Status.NA]} not audited")
    return f"{pages} {noun}: " + ", ".join(parts)


def _site_table(site: SiteReport, symbols: Mapping[Status, str]) -> list[str]:
    lines = [f"{site.origin or site.start_url}  (from {site.start_url})"]
    if site.error:
        return [*lines, f"  {symbols[Status.FAIL]} not audited: {site.error}", ""]
    lines.append(f"  robots.txt: {site.robots}")
    lines.append(f"  manifest:   {site.manifest_reason}")
    for pointer, message in site.manifest_problems:
        lines.append(f"    {pointer}: {message}")
    lines.append("")
    if site.pages:
        header = ["Page", "HTTP", "Declares", *(rule.title for rule in rules.RULES)]
        rows = [
            [
                _short(page.url, site.origin),
                str(page.http_status) if page.http_status is not None else "-",
                _DECLARES[page.declaration] if page.declaration is not None else "-",
                *(symbols[page.checks[rule.name].status] for rule in rules.RULES),
            ]
            for page in site.pages
        ]
        widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
        for row in [header, *rows]:
            cells = (cell.ljust(width) for cell, width in zip(row, widths, strict=True))
            lines.append("  " + "  ".join(cells).rstrip())
        lines.append("")
    problems = [
        (page, name, verdict)
        for page in site.pages
        for name, verdict in page.checks.items()
        if verdict.status in (Status.FAIL, Status.WARN)
    ]
    if problems:
        lines.append("  Failures and warnings:")
        for page, name, verdict in problems:
            where = _short(page.url, site.origin)
            lines.append(f"  {symbols[verdict.status]} {where}  {name}: {verdict.reason}")
        lines.append("")
    if site.skipped:
        lines.append("  Not fetched:")
        lines += [
            f"  {symbols[Status.NA]} {_short(s.url, site.origin)}  {s.reason}" for s in site.skipped
        ]
        lines.append("")
    if site.unvisited:
        lines.append(f"  URLs found beyond the depth or page limit: {site.unvisited}")
    lines.append("  " + _summary(site.counts(), len(site.pages)))
    lines.append("")
    return lines


def render_table(report: RunReport, symbols: Mapping[Status, str] = SYMBOLS) -> str:
    """The run as text: per site, a row per page with what it declares and a
    symbol per check, then the reason of every failure and warning."""
    lines: list[str] = []
    for site in report.sites:
        lines += _site_table(site, symbols)
    pages = [page for site in report.sites for page in site.pages]
    legend = ", ".join(
        f"{symbols[s]} {s.value}" for s in (Status.PASS, Status.WARN, Status.FAIL, Status.NA)
    )
    total = _summary(Counter(page.verdict for page in pages), len(pages))
    sites = len(report.sites)
    strict = " Strict: pages that declare nothing fail." if report.strict else ""
    lines.append(f"{sites} site{'s' * (sites != 1)}, {total}.  ({legend}){strict}")
    return "\n".join(lines) + "\n"
