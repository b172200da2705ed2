"""The auditor end to end: real servers on 127.0.0.1, one broken thing per site."""

from __future__ import annotations

import itertools
from typing import Any

import pytest

from ai_disclosure.check import Options, PageReport, RunReport, SiteReport, Status, audit
from ai_disclosure.check.results import CHECKS

from .conftest import LocalOnly, Servers

PASS, WARN, FAIL, NA = Status.PASS, Status.WARN, Status.FAIL, Status.NA


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
    assert set(statuses(chatbot).values()) == {PASS}
    assert reason(chatbot, "header") == "AI-Disclosure mode=ai-originated"
    assert reason(chatbot, "meta") == "meta ai-autonomous agrees with header mode=ai-originated"
    assert reason(chatbot, "notice").startswith("[data-ai-disclosure-notice] on <ai-notice>")
    assert reason(chatbot, "register") == (
        f"register link {servers['register']}/systems/demarches/assistant-dechets answered 200"
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
    home = page(demo, "/")
    assert statuses(home) == {
        "header": PASS,
        "meta": NA,
        "notice": NA,
        "language": NA,
        "register": NA,
        "manifest": PASS,
    }


async def test_each_register_link_is_checked_once_per_run(servers: Servers) -> None:
    before = len(servers.hits["register"].requests)
    await run(servers["demo"] + "/", servers["good"] + "/")
    requested = [path for _, path, _ in servers.hits["register"].requests[before:]]
    assert sorted(requested) == sorted(set(requested))
    assert "/systems/demarches/detection-fuites" in requested  # on two demo pages


async def test_the_good_baseline_passes(servers: Servers) -> None:
    good = await site(servers["good"])
    assert set(statuses(page(good, "/ai")).values()) == {PASS}


# --- One failure per site ----------------------------------------------------------


async def test_header_missing(servers: Servers) -> None:
    found = page(await site(servers["missing_header"]), "/ai")
    assert only_failure(found, "header") == "AI-Disclosure header missing"
    assert statuses(found)["meta"] is WARN
    assert (
        reason(found, "meta") == "meta says ai-autonomous but the AI-Disclosure header is missing"
    )


async def test_header_garbage(servers: Servers) -> None:
    report = await site(servers["garbage_header"])
    garbage = only_failure(page(report, "/ai"), "header")
    assert garbage.startswith("AI-Disclosure '???garbage' invalid: AI-Disclosure is not a")
    robot = only_failure(page(report, "/ai-robot"), "header")
    assert robot.startswith("AI-Disclosure 'mode=robot' invalid: unknown mode 'robot'")


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
    assert statuses(inherited)["language"] is WARN
    assert reason(inherited, "language") == (
        "notice <div> inherits lang=en from <section> but the page is lang=fr; "
        "give the notice its own lang"
    )
    assert inherited.verdict is WARN
    declared = page(report, "/ai-own")
    assert reason(declared, "language") == "notice <div> declares lang=en on a lang=fr page"
    assert declared.verdict is PASS


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
    assert statuses(pdf)["header"] is FAIL


async def test_requests_are_polite(servers: Servers) -> None:
    hits = servers.hits["polite"]
    before = len(hits.requests)
    await site(servers["polite"], delay=0.15)
    times = [at for _, _, at in hits.requests[before:]]
    # robots.txt, the manifest, /, /a, /b: one at a time, 0.15 s apart.
    assert len(times) == 5
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.14
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
        "register": WARN,
        "manifest": WARN,
    }
    assert reason(summary, "meta") == "meta ai-generated agrees with header mode=ai-originated"
    assert reason(summary, "notice") == (
        '<aside aidisclosure="ai-generated"> with visible text "Résumé : le budget augmente."'
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
