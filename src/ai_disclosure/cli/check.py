"""``ai-disclosure check URL...``: audit websites for AI disclosure (law 6, AI Act Art. 50).

Exit 0 when no page fails (a page that declares nothing about AI does not fail,
unless ``--strict``), 1 when any page fails, 2 on a usage error or when a start
URL cannot be reached (the audit is then incomplete), 130 if interrupted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import Any

from ..check.crawl import DEFAULT_USER_AGENT, Options, audit, normalize
from ..check.progress import progress_for
from ..check.report import render_table, symbols_for, to_json

__all__ = ["register", "run"]


def _number(kind: Callable[[str], float], minimum: float, strict: bool) -> Callable[[str], Any]:
    """An argparse type: a number at least (or, if ``strict``, above) ``minimum``."""

    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value < minimum or (strict and value == minimum):
            bound = "above" if strict else "at least"
            raise argparse.ArgumentTypeError(f"must be {bound} {minimum:g}, got {text}")
        return value

    return parse


def register(subparsers: Any) -> None:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "check",
        help="audit websites: is AI disclosed on every page? (law 6, AI Act Art. 50)",
        description="Crawl each site (same origin, breadth-first, robots.txt respected) and "
        "report every contradiction: AI declared (AI-Disclosure header, W3C ai-disclosure "
        "meta or attribute, the site's /.well-known/ai-disclosure) without a readable notice "
        "in the page's language, a notice without the meta, a register link that is broken "
        "or answers JSON only, a page disagreeing with its header, meta or manifest. A page "
        "that declares nothing is 'no AI declared', not a failure. Exit 0 when no page "
        "fails, 1 when any page fails, 2 on usage errors or an unreachable start URL.",
    )
    parser.add_argument("urls", nargs="+", metavar="URL", help="start pages (https:// assumed)")
    parser.add_argument(
        "--max-pages", type=_number(int, 1, False), default=50, help="pages per site (50)"
    )
    parser.add_argument(
        "--max-depth",
        type=_number(int, 0, False),
        default=3,
        help="links to follow from the start page (3; 0 checks the start page only)",
    )
    parser.add_argument(
        "--delay",
        type=_number(float, 0, False),
        default=0.5,
        help="seconds between requests to one site (0.5; robots.txt Crawl-delay wins if longer)",
    )
    parser.add_argument(
        "--timeout", type=_number(float, 0, True), default=10.0, help="seconds per request (10)"
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail pages that declare nothing (no AI-Disclosure header, no ai-disclosure meta): "
        "for services that promised to declare every page, mode=none where no AI is involved",
    )
    parser.add_argument("--json", action="store_true", help="print JSON (see docs/check.md)")
    parser.add_argument("--user-agent", default=DEFAULT_USER_AGENT, help="User-Agent to send")
    parser.set_defaults(run=run)


def _start_url(text: str) -> str:
    """``example.org`` means ``https://example.org/``: what people type."""
    return text if "://" in text else "https://" + text


def run(args: argparse.Namespace) -> int:
    urls = [_start_url(url) for url in args.urls]
    for url in urls:
        try:
            normalize(url)
        except ValueError as exc:
            print(f"ai-disclosure check: error: {exc}", file=sys.stderr)
            return 2
    options = Options(
        max_pages=int(args.max_pages),
        max_depth=int(args.max_depth),
        delay=float(args.delay),
        timeout=float(args.timeout),
        user_agent=args.user_agent,
        strict=bool(args.strict),
    )
    progress = progress_for(sys.stderr)
    try:
        report = asyncio.run(audit(urls, options, progress=progress))
    except KeyboardInterrupt:
        progress.finished()
        print("ai-disclosure check: interrupted", file=sys.stderr)
        return 130
    for site in report.sites:
        if site.error:
            print(f"ai-disclosure check: {site.error}", file=sys.stderr)
    if args.json:
        print(json.dumps(to_json(report), indent=2))
    else:
        encoding = sys.stdout.encoding or "utf-8"
        table = render_table(report, symbols_for(encoding))
        # Reasons quote pages verbatim: never crash on a terminal that cannot show them.
        sys.stdout.write(table.encode(encoding, "replace").decode(encoding))
    sys.stdout.flush()
    return report.exit_code
