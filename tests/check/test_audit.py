"""The auditor end to end: real servers on 127.0.0.1, one broken thing per site."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from ai_disclosure.check import Options, PageReport, RunReport, SiteReport, Status, audit, crawl
from ai_disclosure.check.results import Declaration
from ai_disclosure.check.rules import CHECKS

from .conftest import LocalOnly, Servers

PASS, WARN, FAIL, NA = Status.PASS, Status.WARN, Status.FAIL, Status.NA
UNDECLARED = Status.UNDECLARED
ALL_PASS = dict.fromkeys(CHECKS, PASS)


async def run(*urls: str, **options: Any) -> RunReport:
    settings = {"delay": 0.0, "timeout": 5.0, **options}
    return await audit(list(urls), Options(**settings), transport=LocalOnly())


async def site(url: str, **options: Any) -> SiteReport:
    return (await run(url, **options)).sites[0]


def page(report: SiteReport, path: str) -> PageReport:
    for found in report.pages:
        if found.url == report.origin + path:
            return found
    raise AssertionError(f"{path} not audited; pages: {[p.url for p in report.pages]}")


def statuses(found: PageReport) -> dict[str, Status]:
    return {name: verdict.status for name, verdict in found.checks.items()}


def reason(found: PageReport, check: str) -> str:
    return found.checks[check].reason


def only_failure(found: PageReport, check: str) -> str:
    """The reason of ``check``, asserting that it is the page's only failure."""
    failing = [name for name, status in statuses(found).items() if status is FAIL]
    assert failing == [check], {n: v.reason for n, v in found.checks.items()}
    return reason(found, check)


# --- The demo: everything passes ---------------------------------------------------


async def test_the_demo_passes_every_check(servers: Servers) -> None:
    report = await run(servers["demo"] + "/")
    assert report.exit_code == 0
    (demo,) = report.sites
    paths = {p.url.removeprefix(demo.origin) for p in demo.pages}
    assert paths >= {
        "/",
        "/dechets/assistant",
        "/eau/alertes",
        "/eau/alertes/journal",
        "/courrier",
        "/actualites",
        "/en/waste",
        "/.well-known/ai-disclosure",
    }
    assert {p.verdict for p in demo.pages} == {PASS}
    assert demo.manifest_state == "valid"
    assert demo.robots.startswith("no robots.txt (HTTP 404)")
    chatbot = page(demo, "/dechets/assistant")
    assert statuses(chatbot) == ALL_PASS | {"labels": NA}  # no answer asked yet
    translated = page(demo, "/en/waste")
    assert statuses(translated) == ALL_PASS
    assert reason(translated, "labels") == "1 element marked with an AI value, with a visible label"
    assert reason(chatbot, "header") == "AI-Disclosure mode=ai-originated"
    assert reason(chatbot, "meta") == "meta ai-autonomous agrees with header mode=ai-originated"
    assert reason(chatbot, "notice").startswith("[data-ai-disclosure-notice] on <ai-notice>")
    # The Link header's, and the notice's in the page's language.
    assert reason(chatbot, "register") == (
        f"register link {servers['register']}/systems/demarches/assistant-dechets answered 200"
        " (and 1 more)"
    )
    assert reason(chatbot, "manifest") == (
        'header mode=ai-originated matches manifest rule "/dechets/assistant*" (assistant-dechets)'
    )
    # Decision support whose output people do not see: mode=none, yet AI is involved.
    mail = page(demo, "/courrier")
    assert reason(mail, "meta") == "meta human-only agrees with header mode=none"
    assert statuses(mail)["notice"] is PASS
    assert (
        reason(page(demo, "/en/waste"), "language")
        == "notice <ai-notice> in the page's language (en)"
    )
    assert chatbot.declaration is Declaration.AI
    home = page(demo, "/")
    assert home.declaration is Declaration.NO_AI
    assert statuses(home) == {
        "header": PASS,
        "meta": NA,
        "notice": NA,
        "language": NA,
        "labels": NA,
        "register": NA,
        "manifest": PASS,
    }


async def test_each_register_link_is_checked_once_per_run(servers: Servers) -> None:
    before = len(servers.hits["register"].requests)
    await run(servers["demo"] + "/", servers["good"] + "/")
    requested = [path for _, path, _ in servers.hits["register"].requests[before:]]
    assert sorted(requested) == sorted(set(requested))
    assert "/systems/demarches/detection-fuites" in requested  # on two demo pages
    assert "/systems/demarches/detection-fuites?lang=fr" in requested  # their notices


async def test_the_good_baseline_passes(servers: Servers) -> None:
    good = await site(servers["good"])
    assert statuses(page(good, "/ai")) == ALL_PASS | {"labels": NA}


# --- One failure per site ----------------------------------------------------------


async def test_a_missing_header_is_not_a_failure(servers: Servers) -> None:
    report = await run(servers["missing_header"])
    found = page(report.sites[0], "/ai")
    assert found.verdict is PASS
    assert statuses(found)["header"] is NA
    assert reason(found, "header") == "no AI-Disclosure header (optional)"
    assert reason(found, "meta") == "meta ai-autonomous (no AI-Disclosure header to compare)"
    assert found.declaration is Declaration.AI
    assert report.exit_code == 0


async def test_header_garbage_warns(servers: Servers) -> None:
    report = await run(servers["garbage_header"])
    (garbage_site,) = report.sites
    garbage = page(garbage_site, "/ai")
    assert garbage.verdict is WARN
    assert reason(garbage, "header").startswith(
        "AI-Disclosure '???garbage' invalid: AI-Disclosure is not a"
    )
    robot = page(garbage_site, "/ai-robot")
    assert statuses(robot)["header"] is WARN
    assert reason(robot, "header").startswith(
        "AI-Disclosure 'mode=robot' invalid: unknown mode 'robot'"
    )
    assert report.exit_code == 0
    strict = page(await site(servers["garbage_header"], strict=True), "/ai")
    assert only_failure(strict, "header") == reason(garbage, "header")


async def test_meta_missing_on_an_ai_page(servers: Servers) -> None:
    found = page(await site(servers["no_meta"]), "/ai")
    assert only_failure(found, "meta") == (
        "meta ai-disclosure missing on a page involving AI (header mode=ai-originated, "
        'Link rel="ai-disclosure", [data-ai-disclosure-notice], manifest rule "/ai*")'
    )


async def test_meta_inconsistent_with_header(servers: Servers) -> None:
    found = page(await site(servers["meta_mismatch"]), "/ai")
    assert only_failure(found, "meta") == "meta says human-only but header mode=ai-originated"


async def test_ai_page_without_any_notice(servers: Servers) -> None:
    found = page(await site(servers["no_notice"]), "/ai")
    assert only_failure(found, "notice") == (
        "no human-readable notice on a page involving AI (header mode=ai-originated, "
        'Link rel="ai-disclosure", meta ai-autonomous, manifest rule "/ai*")'
    )
    assert reason(found, "language") == "no notice to compare"


async def test_notice_language_differs_from_the_page(servers: Servers) -> None:
    report = await site(servers["notice_lang"])
    inherited = page(report, "/ai")
    assert only_failure(inherited, "language") == (
        "no notice in the page's language (lang=fr): notice <div> inherits lang=en from <section>"
    )
    declared = page(report, "/ai-own")
    assert only_failure(declared, "language") == (
        "no notice in the page's language (lang=fr): notice <div> is lang=en"
    )


async def test_register_link_404(servers: Servers) -> None:
    hits = servers.hits["register"]
    before = len(hits.requests)
    report = await site(servers["register_404"])
    found = page(report, "/ai")
    assert only_failure(found, "register") == (
        f"register link {servers['register']}/gone answered 404"
    )
    assert reason(page(report, "/ai-again"), "register") == reason(found, "register")
    # Two pages with the same links: each URL once; HEAD refused (405), then GET.
    assert sorted((m, p) for m, p, _ in hits.requests[before:]) == [
        ("GET", "/get-only/bot"),
        ("GET", "/gone"),
        ("HEAD", "/get-only/bot"),
        ("HEAD", "/gone"),
    ]


async def test_manifest_invalid_names_the_pointer(servers: Servers) -> None:
    report = await site(servers["manifest_invalid"])
    assert report.manifest_state == "invalid"
    assert [pointer for pointer, _ in report.manifest_problems] == ["/systems/0/origin"]
    assert "'robotic' is not allowed" in report.manifest_problems[0][1]
    found = page(report, "/ai")
    assert only_failure(found, "manifest") == (
        "the site's manifest is invalid (1 problem at /systems/0/origin)"
    )
    assert report.manifest_reason == (
        f"manifest at {servers['manifest_invalid']}/.well-known/ai-disclosure invalid: "
        "1 problem at /systems/0/origin"
    )
    assert page(report, "/").checks["manifest"].status is FAIL


async def test_manifest_inconsistent_with_pages(servers: Servers) -> None:
    report = await site(servers["manifest_mismatch"])
    human = page(report, "/ai")
    assert only_failure(human, "manifest") == (
        'manifest rule "/ai*" (bot) implies mode=ai-originated but the page declares '
        "header mode=none"
    )
    stray = page(report, "/elsewhere")
    assert statuses(stray)["manifest"] is WARN
    assert reason(stray, "manifest").endswith("but no manifest rule matches /elsewhere")


async def test_robots_txt_is_respected(servers: Servers) -> None:
    report = await site(servers["robots"])
    skipped = {s.url.removeprefix(report.origin): s.reason for s in report.skipped}
    assert skipped == {
        "/private/page": "disallowed by robots.txt",
        "/no-auditors": "disallowed by robots.txt",
    }
    fetched = servers.hits["robots"].paths()
    assert "/private/page" not in fetched
    assert "/no-auditors" not in fetched
    assert fetched.index("/robots.txt") == 0
    assert report.robots == "robots.txt read (HTTP 200)"
    # Another agent falls in the "*" group, which allows /no-auditors.
    other = await site(servers["robots"], user_agent="OtherBot/2.0")
    assert [s.url.removeprefix(other.origin) for s in other.skipped] == ["/private/page"]
    assert page(other, "/no-auditors").checks["header"].reason == (
        "HTTP 404 (broken link?): page not audited"
    )


async def test_depth_limit(servers: Servers) -> None:
    report = await site(servers["deep"], max_depth=2)
    assert [p.url.removeprefix(report.origin) for p in report.pages] == ["/", "/d1", "/d2"]
    assert [p.depth for p in report.pages] == [0, 1, 2]
    assert report.unvisited == 1  # /d3, linked from /d2
    only_start = await site(servers["deep"], max_depth=0)
    assert len(only_start.pages) == 1


async def test_page_limit(servers: Servers) -> None:
    report = await site(servers["wide"], max_pages=4)
    assert [p.url.removeprefix(report.origin) for p in report.pages] == ["/", "/p0", "/p1", "/p2"]
    assert report.unvisited == 7


async def test_other_origins_are_not_followed(servers: Servers) -> None:
    before = len(servers.hits["other"].requests)
    report = await site(servers["crosslink"])
    assert len(servers.hits["other"].requests) == before
    paths = [p.url.removeprefix(report.origin) for p in report.pages]
    assert paths == ["/", "/same", "/file.pdf"]  # fragment dropped, mailto/js ignored
    pdf = page(report, "/file.pdf")
    assert pdf.content_type == "application/pdf"
    assert reason(pdf, "meta") == "not an HTML page"
    assert statuses(pdf)["header"] is NA
    assert pdf.verdict is UNDECLARED


async def test_requests_are_polite(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> None:
    """The crawler's clock stands still but for the waits it asks for, so each
    request after the first must have asked to wait out the whole delay."""
    now = [1000.0]
    waits: list[float] = []

    async def wait(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    monkeypatch.setattr(crawl, "time", SimpleNamespace(monotonic=lambda: now[0]))
    monkeypatch.setattr(crawl, "asyncio", SimpleNamespace(Lock=asyncio.Lock, sleep=wait))
    hits = servers.hits["polite"]
    before = len(hits.requests)
    await site(servers["polite"], delay=0.15)
    # robots.txt, the manifest, /, /a, /b: one at a time, each after a full delay.
    assert len(hits.requests) - before == 5
    assert waits == pytest.approx([0.15] * 4)
    assert hits.most_in_flight == 1


async def test_a_site_that_does_not_use_this_project(servers: Servers) -> None:
    report = await site(servers["generic"])
    assert report.manifest_state == "missing"
    summary = page(report, "/summary")
    assert statuses(summary) == {
        "header": PASS,
        "meta": PASS,
        "notice": PASS,
        "language": PASS,
        "labels": PASS,
        "register": WARN,
        "manifest": WARN,
    }
    assert reason(summary, "meta") == "meta ai-generated agrees with header mode=ai-originated"
    assert reason(summary, "notice") == (
        '<aside aidisclosure="ai-generated"> with visible text "Résumé IA : le budget augmente."'
    )
    assert reason(summary, "manifest") == (
        f"no manifest at {servers['generic']}/.well-known/ai-disclosure (HTTP 404)"
    )
    translated = page(report, "/translated")
    assert reason(translated, "notice") == ('visible text names AI ("IA") in <b>: "IA"')
    assert reason(translated, "language") == "notice <b> in the page's language (fr)"
    assert (await run(servers["generic"])).exit_code == 0


async def test_a_start_url_redirecting_to_another_origin(servers: Servers) -> None:
    report = await site(servers["moved"] + "/")
    assert report.origin == servers["good"]
    moved = report.pages[0]
    assert moved.http_status == 301
    assert set(statuses(moved).values()) == {NA}
    assert page(report, "/ai").verdict is PASS


async def test_an_unreachable_start_url(closed_port: int) -> None:
    report = await run(f"http://127.0.0.1:{closed_port}/")
    assert report.exit_code == 2
    assert report.sites[0].error is not None
    assert "unreachable: ConnectError" in report.sites[0].error


async def test_failing_pages_make_exit_code_1(servers: Servers) -> None:
    report = await run(servers["good"], servers["no_meta"])
    assert report.exit_code == 1
    assert [s.counts()[FAIL] for s in report.sites] == [0, 1]
    assert all(set(p.checks) == set(CHECKS) for s in report.sites for p in s.pages)


@pytest.mark.parametrize("bad", ["ftp://127.0.0.1/", "http:///nohost"])
async def test_a_bad_url_is_reported_not_crawled(bad: str) -> None:
    report = await run(bad)
    assert report.sites[0].error == f"not an http(s) URL: {bad}"
    assert report.exit_code == 2


# --- Law 6, not the draft: declaring nothing is not a failure -------------------------------


async def test_a_site_without_ai_declares_nothing_and_passes(servers: Servers) -> None:
    report = await run(servers["no_ai"])
    assert report.exit_code == 0
    (quiet,) = report.sites
    assert quiet.manifest_state == "missing"
    assert sorted(p.url.removeprefix(quiet.origin) for p in quiet.pages) == [
        "/",
        "/doc.pdf",
        "/piscine",
    ]
    assert {p.declaration for p in quiet.pages} == {Declaration.UNDECLARED}
    assert {p.verdict for p in quiet.pages} == {UNDECLARED}
    assert quiet.counts()[UNDECLARED] == 3
    home = page(quiet, "/")
    assert reason(home, "header") == "no AI-Disclosure header (optional)"
    assert set(statuses(home).values()) == {NA}


async def test_strict_fails_pages_that_declare_nothing(servers: Servers) -> None:
    report = await run(servers["no_ai"], strict=True)
    assert report.exit_code == 1
    assert report.strict
    (quiet,) = report.sites
    assert {p.verdict for p in quiet.pages} == {FAIL}
    assert only_failure(page(quiet, "/piscine"), "header") == (
        "nothing declared: no AI-Disclosure header, no ai-disclosure meta (--strict: every "
        "page must declare, mode=none or human-only where no AI is involved)"
    )
    assert reason(page(quiet, "/doc.pdf"), "header").startswith(
        "nothing declared: no AI-Disclosure header, not an HTML page"
    )
    # Pages that declare, mode=none included, pass as before.
    good = await run(servers["good"], strict=True)
    assert good.exit_code == 0
    assert {p.verdict for p in good.sites[0].pages} == {PASS}


async def test_a_notice_without_the_meta_fails(servers: Servers) -> None:
    report = await run(servers["notice_only"])
    assert report.exit_code == 1
    found = page(report.sites[0], "/ai")
    assert found.declaration is Declaration.AI
    assert only_failure(found, "meta") == (
        "meta ai-disclosure missing on a page involving AI ([data-ai-disclosure-notice])"
    )
    assert reason(found, "header") == "no AI-Disclosure header (optional)"


async def test_a_register_link_answering_json_only_fails(servers: Servers) -> None:
    report = await run(servers["register_json"])
    assert report.exit_code == 1
    (json_site,) = report.sites
    register = servers["register"]
    assert only_failure(page(json_site, "/ai"), "register") == (
        f"register link {register}/json/bot answers JSON only (application/json), "
        "not a page people can read"
    )
    # HTML to a browser, JSON to machines: a citizen gets the page.
    negotiated = page(json_site, "/ai-negotiated")
    assert negotiated.verdict is PASS
    assert reason(negotiated, "register") == f"register link {register}/negotiated/bot answered 200"
    # No media type: recognised as HTML by its first bytes, as browsers do.
    assert page(json_site, "/ai-untyped").verdict is PASS
    # A redirect is followed to the page it leads to.
    assert reason(page(json_site, "/ai-moved"), "register") == (
        f"register link {register}/moved/bot answered 200"
    )


async def test_register_links_are_asked_for_as_a_browser_asks(servers: Servers) -> None:
    hits = servers.hits["register"]
    before = len(hits.accepts)
    await run(servers["register_json"])
    asked = {(method, path): accept for method, path, accept in hits.accepts[before:]}
    for path in ("/json/bot", "/negotiated/bot"):
        assert asked["HEAD", path].startswith("text/html,"), asked
    # HEAD named no media type: GET, to recognise HTML by its first bytes.
    assert asked["GET", "/untyped/bot"].startswith("text/html,")


async def test_a_site_serving_its_own_register_page(servers: Servers) -> None:
    """No register URL: the notice links to /.well-known/ai-disclosure, which
    answers people a page and the auditor (asking for JSON) the manifest."""
    report = await run(servers["own_register"])
    assert report.exit_code == 0
    (own,) = report.sites
    assert own.manifest_state == "valid"
    manifest_get = next(
        accept
        for method, path, accept in servers.hits["own_register"].accepts
        if (method, path) == ("GET", "/.well-known/ai-disclosure")
    )
    assert manifest_get == "application/json"
    found = page(own, "/ai")
    assert statuses(found) == ALL_PASS | {"labels": NA}
    assert reason(found, "register") == (
        f"register link {own.origin}/.well-known/ai-disclosure answered 200"
    )
    assert (
        reason(found, "manifest") == 'header mode=ai-originated matches manifest rule "/ai*" (bot)'
    )


async def test_a_register_link_to_the_raw_manifest_fails(servers: Servers) -> None:
    report = await run(servers["own_register_json"])
    assert report.exit_code == 1
    (raw,) = report.sites
    assert raw.manifest_state == "valid"
    assert only_failure(page(raw, "/ai"), "register") == (
        f"register link {raw.origin}/.well-known/ai-disclosure answers JSON only "
        "(application/json), not a page people can read"
    )
