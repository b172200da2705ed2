"""Audit any website for AI disclosure: ``ai-disclosure check URL...``.

Reads every signal in use, not this project's markup alone: the
``AI-Disclosure`` header (an expired IETF individual draft), the W3C
``ai-disclosure`` meta and attribute, a notice people can read, its language,
the register links, and the site's ``/.well-known/ai-disclosure`` manifest. A
page fails only on a contradiction; one that declares nothing is "no AI
declared" (a failure only under ``strict``). See docs/check.md.

``rules`` and ``html`` are pure (bytes in, verdicts out); ``crawl`` does the I/O;
``report`` renders the result.
"""

from __future__ import annotations

from .crawl import DEFAULT_USER_AGENT, Options, Progress, audit
from .report import render_table, to_json
from .results import (
    CHECKS,
    Declaration,
    PageReport,
    RunReport,
    SiteReport,
    Skipped,
    Status,
    Verdict,
)

__all__ = [
    "CHECKS",
    "DEFAULT_USER_AGENT",
    "Declaration",
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
