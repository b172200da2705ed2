"""Which responses are pages the middleware may change, and which pages fetched by
scripts are whole pages rather than pieces of one."""

from __future__ import annotations

import pytest

from ai_disclosure import parse_header
from ai_disclosure._pagecheck import (
    _FRAGMENT,
    _NAVIGATION,
    _SCRIPTED,
    PageHeaders,
    _charset,
    _fetched,
    _fragment,
)
from ai_disclosure.testing import CapturingRecorder, assert_disclosed, capture_missed_notices

from .test_middleware import HTML, PAGE, get, gzip_app, page_app, raw_app, run_asgi


def _page(headers: list[tuple[bytes, bytes]]) -> tuple[bool, bytes | None, str | None]:
    """What PageHeaders decides: (a page it may change, the coding to undo, the miss)."""
    found = PageHeaders(headers)
    return found.ok, found.coding, found.miss


@pytest.mark.parametrize(
    ("reason", "headers", "status", "method"),
    [
        ("204", HTML, 204, "GET"),
        ("304", HTML, 304, "GET"),
        ("206", HTML, 206, "GET"),
        ("Content-Range", [*HTML, (b"content-range", b"bytes 0-10/100")], 200, "GET"),
        ("not really gzip", [*HTML, (b"content-encoding", b"gzip")], 200, "GET"),
        ("compress", [*HTML, (b"content-encoding", b"compress")], 200, "GET"),
        ("event stream", [(b"content-type", b"text/event-stream")], 200, "GET"),
        ("attachment", [*HTML, (b"content-disposition", b"attachment; filename=a")], 200, "GET"),
        ("no-transform", [*HTML, (b"cache-control", b"public, no-transform")], 200, "GET"),
        ("utf-16", [(b"content-type", b"text/html; charset=UTF-16LE")], 200, "GET"),
        ("json", [(b"content-type", b"application/json")], 200, "GET"),
        ("no content type", [], 200, "GET"),
    ],
)  # fmt: skip
async def test_bodies_it_cannot_safely_change_pass_untouched(
    reason: str, headers: list[tuple[bytes, bytes]], status: int, method: str
) -> None:
    body = b"" if status in (204, 304) else PAGE.encode()
    headers = [*headers, (b"content-length", str(len(body)).encode()), (b"etag", b'"e"')]
    start, message = await run_asgi(raw_app(body, headers, status), method=method)
    assert message["body"] == body
    sent = dict(start["headers"])
    assert sent[b"etag"] == b'"e"'
    assert sent[b"content-length"] == str(len(body)).encode()
    assert sent[b"ai-disclosure"].startswith(b"mode=ai-originated")


async def test_utf16_bom_without_charset_passes_untouched() -> None:
    body = PAGE.encode("utf-16")
    response = await get(raw_app(body, HTML[:1]), "/dechets/assistant")
    assert response.content == body


async def test_xhtml_documents_keep_their_body_and_get_the_headers() -> None:
    page = PAGE.replace("<!doctype html><html", '<html xmlns="http://www.w3.org/1999/xhtml"')
    headers = {"Content-Type": "application/xhtml+xml; charset=utf-8"}
    response = await get(page_app(page, headers=headers), "/dechets/assistant")
    assert response.text == page
    assert_disclosed(response, notice=False)
    assert response.headers["ai-disclosure"].startswith("mode=ai-originated")


FRAGMENT = "<div class=reponse><p>Le verre va dans la colonne à verre.</p></div>"


@pytest.mark.parametrize(
    "headers",
    [
        {"hx-request": "true", "sec-fetch-dest": "empty"},  # htmx swapping a piece
        {"turbo-frame": "reponse"},
        {"x-requested-with": "XMLHttpRequest"},
        {"sec-fetch-dest": "empty"},  # a bare fetch() of a fragment
    ],
)
async def test_a_fragment_fetched_by_a_script_gets_no_notice(headers: dict[str, str]) -> None:
    recorder = CapturingRecorder()
    with capture_missed_notices() as missed:
        response = await get(
            page_app(FRAGMENT), "/dechets/assistant", headers=headers, logger=recorder
        )
    assert response.text == FRAGMENT
    assert parse_header(response.headers["ai-disclosure"]).mode == "ai-originated"
    assert [r.notice_shown for r in recorder.records] == [False]  # counted, shown by its page
    assert missed == []


@pytest.mark.parametrize(
    "headers",
    [
        {"sec-fetch-dest": "document"},  # a navigation
        {"sec-fetch-dest": "empty"},  # Turbo Drive fetches whole pages
        {"hx-request": "true", "hx-boosted": "true", "sec-fetch-dest": "empty"},
        {"sec-fetch-dest": "iframe"},
    ],
)
async def test_a_whole_page_fetched_by_a_script_gets_the_notice(headers: dict[str, str]) -> None:
    response = await get(page_app(), "/dechets/assistant", headers=headers)
    assert_disclosed(response, notice=True)
    zipped = await get(
        gzip_app(), "/dechets/assistant", headers={**headers, "accept-encoding": "gzip"}
    )
    assert_disclosed(zipped, notice=True)


async def test_a_gzipped_fragment_fetched_by_a_script_is_left_alone() -> None:
    headers = {"sec-fetch-dest": "empty", "accept-encoding": "gzip"}
    response = await get(gzip_app(FRAGMENT), "/dechets/assistant", headers=headers)
    assert response.headers["content-encoding"] == "gzip"
    assert response.text == FRAGMENT


async def test_a_compressed_utf16_page_passes_untouched_and_is_reported() -> None:
    import gzip

    from ai_disclosure.testing import capture_missed_notices

    body = gzip.compress(PAGE.encode("utf-16"))
    headers = [*HTML[:1], (b"content-encoding", b"gzip")]
    with capture_missed_notices() as missed:
        _, message = await run_asgi(raw_app(body, headers))
    assert message["body"] == body  # the app's own bytes: ASCII fragments would break it
    assert [(m.route, m.reason) for m in missed] == [("/dechets/assistant*", "charset")]


TYPE = (b"content-type", b"text/html")


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([(b"Content-Type", b"text/html")], (True, None, None)),
        ([(b"content-type", b"TEXT/HTML; Charset=\"ISO-8859-1\"")], (True, None, None)),
        ([TYPE, (b"content-encoding", b" GZIP ")], (True, b"gzip", None)),
        ([TYPE, (b"content-encoding", b"identity")], (True, None, None)),
        ([TYPE, (b"content-encoding", b"compress")],
         (False, None, "encoding")),
        ([(b"content-type", b"text/html; charset=utf-16")], (False, None, "charset")),
        ([(b"content-type", b"application/xhtml+xml")], (False, None, "xhtml")),
        ([TYPE, (b"cache-control", b"No-Transform")],
         (False, None, "no-transform")),
        ([TYPE, (b"content-range", b"bytes 0-1/9")], (False, None, None)),
        ([TYPE, (b"content-disposition", b"Attachment; filename=a")],
         (False, None, None)),
        ([TYPE, (b"content-disposition", b"inline")], (True, None, None)),
        ([(b"content-type", b"application/json")], (False, None, None)),
        ([], (False, None, None)),
    ],
)  # fmt: skip
def test_which_responses_are_pages_it_may_change(
    headers: list[tuple[bytes, bytes]], expected: tuple[bool, bytes | None, str | None]
) -> None:
    assert _page(headers) == expected


def test_the_order_of_the_headers_changes_nothing() -> None:
    headers = [(b"cache-control", b"no-transform"), TYPE]
    assert _page(headers) == _page(headers[::-1]) == (False, None, "no-transform")
    download = [(b"content-disposition", b"attachment"), (b"cache-control", b"no-transform"), TYPE]
    assert _page(download) == _page(download[::-1]) == (False, None, None)


def test_one_pass_reads_what_the_page_needs() -> None:
    policy = (b"Content-Security-Policy", b"script-src 'nonce-abc'")
    found = PageHeaders([(b"Content-Length", b"12"), policy, TYPE])
    assert (found.ok, found.length) == (True, b"12")
    assert found.policies == [(b"content-security-policy", policy[1])]
    assert found.legacy  # no charset: ASCII with character references
    assert not PageHeaders([(b"content-type", b"text/html; charset=UTF-8")]).legacy
    assert PageHeaders([(b"content-type", b"text/html; charset=latin1")]).legacy


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ([], _NAVIGATION),
        ([(b"sec-fetch-dest", b"document")], _NAVIGATION),
        ([(b"sec-fetch-dest", b"IFRAME")], _NAVIGATION),
        ([(b"sec-fetch-dest", b"empty")], _SCRIPTED),
        ([(b"hx-request", b"true"), (b"hx-boosted", b"true")], _SCRIPTED),
        ([(b"hx-request", b"true")], _FRAGMENT),
        ([(b"turbo-frame", b"x"), (b"sec-fetch-dest", b"document")], _FRAGMENT),
        ([(b"x-requested-with", b"XMLHttpRequest")], _FRAGMENT),
        ([(b"x-requested-with", b"other")], _NAVIGATION),
    ],
)
def test_how_a_page_was_asked_for(headers: list[tuple[bytes, bytes]], expected: object) -> None:
    assert _fetched({"type": "http", "headers": headers}) is expected


@pytest.mark.parametrize(
    ("start", "fragment"),
    [
        (b"", False),
        (b"  \n", False),
        (b"<!DOCTYPE html><html>", False),
        (b"\xef\xbb\xbf\n<html lang=fr>", False),
        (b"<!-- a comment --><div>", False),
        (b"<?xml version='1.0'?>", False),
        (b"<Title>t</title>", False),
        (b"<div class=x>", True),
        (b"\n<p>text", True),
        (b"text", True),
    ],
)
def test_what_starts_as_a_piece_of_a_page(start: bytes, fragment: bool) -> None:
    assert _fragment(start) is fragment


def test_the_charset_parameter_is_read_whatever_its_spelling() -> None:
    assert _charset(b"text/html; CHARSET='UTF-8'") == "utf-8"
    assert _charset(b'text/html;foo=1; charset = "Windows-1252"') == "windows-1252"
    assert _charset(b"text/html") is None
