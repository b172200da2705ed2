"""The table of rules: every rule's verdict for a page, responses that are not
pages, and how a new rule reaches the verdicts, the table, the JSON and the docs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import ai_disclosure.check
from ai_disclosure.check import rules
from ai_disclosure.check.evidence import declaration_of
from ai_disclosure.check.page import read_page
from ai_disclosure.check.report import render_table, to_json
from ai_disclosure.check.results import (
    Declaration,
    PageReport,
    RunReport,
    SiteReport,
    Status,
    Verdict,
)
from ai_disclosure.check.rule import PageContext, Rule
from ai_disclosure.check.rules import CHECKS, HEADER, RULES, evaluate, not_fetched
from ai_disclosure.check.wellknown import read_manifest

from .pages import (
    AI_HEADERS,
    ENTRY,
    FAIL,
    NA,
    NOTICE,
    PASS,
    REGISTER,
    URL,
    VALID,
    WARN,
    body,
    no_manifest,
    verdicts,
)

DOCS = Path(__file__).resolve().parents[2] / "docs" / "check.md"


#: A chatbot answer marked and labelled as ``ai_content()`` writes it.
ANSWER = (
    "<span class=ai-mark data-ai-mark><strong>IA</strong> Généré par IA</span>"
    '<p ai-disclosure="ai-autonomous">Le verre va dans la colonne verte.</p>'
).encode()


def test_a_complete_ai_page_passes() -> None:
    found = verdicts(content=body(NOTICE + ANSWER))
    assert {status for status, _ in found.values()} == {PASS}
    assert found["labels"][1] == "1 element marked with an AI value, with a visible label"
    assert found["header"][1] == "AI-Disclosure mode=ai-originated"
    assert found["notice"][1] == (
        '[data-ai-disclosure-notice] on <div>: "Vous échangez avec une IA. Registre Contact Plus"'
    )
    assert found["register"][1] == f"register link {REGISTER} answered 200"
    assert found["manifest"][1] == ('header mode=ai-originated matches manifest rule "/ai*" (bot)')


# --- Responses that are not pages --------------------------------------------------------


def test_redirects_errors_and_non_html() -> None:
    moved = verdicts((("Location", "/ailleurs"),), b"", status=302)
    assert set(moved.values()) == {(NA, "HTTP 302 redirect to https://ville.example/ailleurs")}
    missing = verdicts((("Content-Type", "text/html"),), b"", status=404)
    assert missing["header"] == (WARN, "HTTP 404 (broken link?): page not audited")
    assert {v for k, v in missing.items() if k != "header"} == {(NA, "not audited")}
    failing = verdicts((("Content-Type", "text/html"),), b"", status=503)
    assert failing["header"] == (WARN, "HTTP 503 (server error): page not audited")
    headers = (("Content-Type", "application/json"), ("AI-Disclosure", "mode=ai-originated"))
    api = verdicts(headers, b"", url="https://ville.example/ai/answer")
    assert api["header"][0] is PASS
    assert api["meta"] == (NA, "not an HTML page")
    assert api["notice"] == (NA, "not an HTML page")
    assert api["register"][0] is WARN


def test_not_fetched_pages_warn() -> None:
    found = not_fetched("ReadTimeout after 10s")
    assert found["header"].status is WARN
    assert found["header"].reason == "could not fetch: ReadTimeout after 10s"
    assert set(found) == set(CHECKS)


def test_a_page_declaring_nothing_is_no_ai_declared_not_a_failure() -> None:
    plain = (("Content-Type", "text/html; charset=utf-8"),)
    content = body(content=b"<main><p>Horaires de la piscine.</p></main>", head=b"")
    url = "https://ville.example/piscine"
    found = verdicts(plain, content, url=url)
    assert found == {
        "header": (NA, "no AI-Disclosure header (optional)"),
        "meta": (NA, "no meta ai-disclosure; the page does not involve AI"),
        "notice": (NA, "the page does not involve AI"),
        "language": (NA, "the page does not involve AI"),
        "labels": (NA, "no element marked with an AI value"),
        "register": (NA, "no register link; the page does not involve AI"),
        "manifest": (PASS, "no manifest rule matches /piscine; the page declares no AI"),
    }
    page = read_page(url, 200, plain, content)
    checks = evaluate(page, no_manifest(), {})
    report = PageReport(url, 0, 200, "text/html", checks, declaration_of(page))
    assert report.verdict is Status.UNDECLARED
    strict = verdicts(plain, content, url=url, strict=True)
    assert strict["header"] == (
        FAIL,
        "nothing declared: no AI-Disclosure header, no ai-disclosure meta (--strict: every "
        "page must declare, mode=none or human-only where no AI is involved)",
    )
    assert [name for name, (status, _) in strict.items() if status is FAIL] == ["header"]


def test_a_page_with_a_failure_is_a_failure_whatever_it_declares() -> None:
    page = read_page(
        URL, 200, (("Content-Type", "text/html"),), body(content=b"<p>x</p>", head=b"")
    )
    broken = read_manifest(VALID.url, 200, "application/json", b"{}")
    checks = evaluate(page, broken, {})
    report = PageReport(URL, 0, 200, "text/html", checks, Declaration.UNDECLARED)
    assert report.verdict is FAIL


# --- The table ----------------------------------------------------------------------


def test_every_rule_has_its_own_key_and_column_in_table_order() -> None:
    assert len({rule.name for rule in RULES}) == len(RULES)
    assert len({rule.title for rule in RULES}) == len(RULES)
    assert tuple(rule.name for rule in RULES) == CHECKS
    assert ai_disclosure.check.CHECKS == CHECKS
    assert ai_disclosure.check.RULES == RULES
    assert tuple(verdicts()) == CHECKS


def test_a_response_not_audited_says_why_in_the_header_column_wherever_it_stands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reordered = tuple(reversed(RULES))
    assert reordered[0] is not HEADER
    monkeypatch.setattr(rules, "RULES", reordered)
    found = not_fetched("ReadTimeout after 10s")
    assert tuple(found) == tuple(rule.name for rule in reordered)
    assert found[HEADER.name] == Verdict(WARN, "could not fetch: ReadTimeout after 10s")
    assert {v for k, v in found.items() if k != HEADER.name} == {Verdict(NA, "not checked")}
    missing = verdicts((("Content-Type", "text/html"),), b"", status=404)
    assert missing[HEADER.name] == (WARN, "HTTP 404 (broken link?): page not audited")


_DOC_ROW = re.compile(r"^\| (\d+) \| `([^`|]+)` \| ([^|]+?) \|", re.MULTILINE)


def test_the_docs_list_every_rule_by_key_and_column_in_table_order() -> None:
    text = DOCS.read_text(encoding="utf-8")
    rows = _DOC_ROW.findall(text)
    assert [(name, title) for _, name, title in rows] == [(r.name, r.title) for r in RULES]
    assert [int(number) for number, _, _ in rows] == list(range(1, len(RULES) + 1))
    # The JSON example names the same keys.
    assert f'"checks": {json.dumps(list(CHECKS))}' in text


# --- How to extend: a new rule is one entry in the table -------------------------------


def check_fake(context: PageContext) -> Verdict:
    """A rule a contributor might add: it fails pages under /ai, naming what it read."""
    if context.page.path.startswith("/ai"):
        return Verdict(FAIL, f"fake rule failed {context.page.path} ({context.declaration})")
    return Verdict(PASS, "fake rule passed")


FAKE = Rule("fake", "Fake", check_fake)


@pytest.fixture
def fake_rule(monkeypatch: pytest.MonkeyPatch) -> Rule:
    """``FAKE`` added where every rule is added: at the end of ``rules.RULES``."""
    monkeypatch.setattr(rules, "RULES", (*rules.RULES, FAKE))
    return FAKE


def test_a_rule_added_to_the_table_reaches_verdicts_table_and_json(fake_rule: Rule) -> None:
    page = read_page(URL, 200, AI_HEADERS, body(NOTICE + ANSWER))
    checks = evaluate(page, VALID, {REGISTER: ENTRY})
    assert tuple(checks) == (*CHECKS, "fake")
    assert checks["fake"] == Verdict(FAIL, "fake rule failed /ai (ai)")
    assert {v.status for name, v in checks.items() if name != "fake"} == {PASS}
    assert tuple(not_fetched("refused")) == (*CHECKS, "fake")
    origin = "https://ville.example"
    report = RunReport(
        (
            SiteReport(
                origin + "/",
                origin,
                pages=(PageReport(URL, 0, 200, "text/html", checks, Declaration.AI),),
            ),
        )
    )
    assert report.exit_code == 1
    table = render_table(report).splitlines()
    columns = next(line for line in table if line.lstrip().startswith("Page")).split()
    assert columns == ["Page", "HTTP", "Declares", *(r.title for r in RULES), "Fake"]
    assert "  ✗ /ai  fake: fake rule failed /ai (ai)" in table
    data = json.loads(json.dumps(to_json(report)))
    assert data["checks"] == [*CHECKS, "fake"]
    assert data["summary"]["checks"]["fake"] == {"pass": 0, "warn": 0, "fail": 1, "n/a": 0}
    (audited,) = data["sites"][0]["pages"]
    assert audited["checks"]["fake"] == {"status": "fail", "reason": "fake rule failed /ai (ai)"}
    assert audited["verdict"] == "fail"
