"""Audit any website for AI disclosure: ``ai-disclosure check URL...``.

Checks the standards, not this project's markup alone: the IETF
``AI-Disclosure`` header, the W3C ``ai-disclosure`` meta and attribute, a notice
people can read, its language, the register links, and the site's
``/.well-known/ai-disclosure`` manifest. See docs/check.md.

``rules`` and ``html`` are pure (bytes in, verdicts out); ``crawl`` does the I/O;
``report`` renders the result.
"""

from __future__ import annotations

from .crawl import DEFAULT_USER_AGENT, Options, Progress, audit
from .report import render_table, to_json
from .results import CHECKS, PageReport, RunReport, SiteReport, Skipped, Status, Verdict

__all__ = [
    "CHECKS",
    "DEFAULT_USER_AGENT",
    "Options",
    "PageReport",
    "Progress",
    "RunReport",
    "SiteReport",
    "Skipped",
    "Status",
    "Verdict",
    "audit",
    "render_table",
    "to_json",
]
