"""Rule (5): register links answer, a notice's with a page people can read."""

from __future__ import annotations

from ai_disclosure.check.page import LinkResult, notice_links, read_page, register_targets

from .pages import ENTRY, FAIL, PASS, REGISTER, URL, WARN, body, replaced, verdicts, without


def test_register_link_failures() -> None:
    gone = {REGISTER: LinkResult(REGISTER, status=404, media_type="text/html", html=True)}
    assert verdicts(links=gone)["register"] == (FAIL, f"register link {REGISTER} answered 404")
    down = {REGISTER: LinkResult(REGISTER, error="ConnectError: refused")}
    assert verdicts(links=down)["register"] == (
        FAIL,
        f"register link {REGISTER} unreachable: ConnectError: refused",
    )
    robots = {REGISTER: LinkResult(REGISTER, skipped="disallowed by robots.txt")}
    assert verdicts(links=robots)["register"] == (
        WARN,
        f"register link {REGISTER} not checked: disallowed by robots.txt",
    )
    # Redirects are followed: what remains a 3xx has nowhere to go.
    moved = {REGISTER: LinkResult(REGISTER, status=301)}
    assert verdicts(links=moved)["register"] == (FAIL, f"register link {REGISTER} answered 301")


def test_a_notice_link_must_land_on_a_page_people_can_read() -> None:
    json_only = {REGISTER: LinkResult(REGISTER, status=200, media_type="application/json")}
    assert verdicts(links=json_only)["register"] == (
        FAIL,
        f"register link {REGISTER} answers JSON only (application/json), "
        "not a page people can read",
    )
    ld = {REGISTER: LinkResult(REGISTER, status=200, media_type="application/ld+json")}
    assert "answers JSON only (application/ld+json)" in verdicts(links=ld)["register"][1]
    text = {REGISTER: LinkResult(REGISTER, status=200, media_type="text/plain")}
    assert verdicts(links=text)["register"] == (
        FAIL,
        f"register link {REGISTER} answers text/plain, not an HTML page people can read",
    )
    untyped = {REGISTER: LinkResult(REGISTER, status=200, html=True)}
    assert verdicts(links=untyped)["register"] == (PASS, f"register link {REGISTER} answered 200")


def test_a_link_header_target_is_for_machines() -> None:
    # Only in the Link header: JSON is fine, it must answer.
    machine = "https://ville.example/.well-known/ai-disclosure"
    headers = replaced("Link", f'<{machine}>; rel="ai-disclosure"')
    page = read_page(URL, 200, headers, body())
    assert notice_links(page) == (REGISTER,)
    assert register_targets(page) == (machine, REGISTER)
    links = {
        machine: LinkResult(machine, status=200, media_type="application/json"),
        REGISTER: ENTRY,
    }
    assert verdicts(headers, links=links)["register"] == (
        PASS,
        f"register link {machine} answered 200 (and 1 more)",
    )
    gone = {**links, machine: LinkResult(machine, status=410)}
    assert verdicts(headers, links=gone)["register"] == (
        FAIL,
        f"register link {machine} answered 410",
    )


def test_ai_page_without_register_link_warns() -> None:
    content = body(content=b"<div data-ai-disclosure-notice><p>Une IA.</p></div>")
    assert verdicts(without("Link"), content)["register"] == (
        WARN,
        'no register link on a page involving AI (no Link rel="ai-disclosure", '
        "no link in a notice)",
    )
