"""Audit any website for AI disclosure: ``ai-disclosure check URL...``.

Reads every signal in use, not this project's markup alone: the
``AI-Disclosure`` header (an expired IETF individual draft), the W3C
``ai-disclosure`` meta and attribute, a notice people can read, its language,
the register links, and the site's ``/.well-known/ai-disclosure`` manifest. A
page fails only on a contradiction; one that declares nothing is "no AI
declared" (a failure only under ``strict``). See docs/check.md.

Pure, bytes in and verdicts out: ``page`` reads a response (``html`` scans its
markup), ``evidence`` says what it declares, ``wellknown`` and ``robots`` read
the site-wide files, and ``rules`` holds the table of rules (``RULES``) whose
checks live by concern in ``signals``, ``notices``, ``links`` and
``agreement``, each reading the same ``rule.PageContext``. ``crawl`` does the
I/O; ``results`` is the data found and ``report`` renders it.
"""

from __future__ import annotations

from .crawl import DEFAULT_USER_AGENT, Options, Progress, audit
from .report import render_table, to_json
from .results import (
    Declaration,
    PageReport,
    RunReport,
    SiteReport,
    Skipped,
    Status,
    Verdict,
)
from .rule import Rule
from .rules import CHECKS, RULES

__all__ = [
    "CHECKS",
    "DEFAULT_USER_AGENT",
    "RULES",
    "Declaration",
    "Options",
    "PageReport",
    "Progress",
    "Rule",
    "RunReport",
    "SiteReport",
    "Skipped",
    "Status",
    "Verdict",
    "audit",
    "render_table",
    "to_json",
]
