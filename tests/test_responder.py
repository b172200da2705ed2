"""One response on its way out: streamed as it comes, compressed pages redone in
kind, lengths and ETags kept true, corrupt pages ended or left untouched."""

from __future__ import annotations

from typing import Any

import pytest

from ai_disclosure import Position
from ai_disclosure._inject import MARKER
from ai_disclosure.testing import assert_disclosed, capture_missed_notices

from .test_middleware import (
    HTML,
    PAGE,
    get,
    gzip_app,
    page_app,
    raw_app,
    run_asgi,
    streaming_app,
    two_message_app,
)


async def test_strong_etag_becomes_weak_and_length_is_exact() -> None:
    app = page_app(headers={"ETag": '"v1"'})
    response = await get(app, "/dechets/assistant")
    assert response.headers["etag"] == 'W/"v1"'
    assert int(response.headers["content-length"]) == len(response.content)
    untouched = await get(app, "/actualites")
    assert untouched.headers["etag"] == '"v1"'


async def test_a_stream_is_not_buffered() -> None:
    page = PAGE.encode()
    chunks = [page[i : i + 16] for i in range(0, len(page), 16)] + [b"<p>more</p>" * 100] * 50
    sent = await run_asgi(streaming_app(chunks))
    start, *bodies = sent
    headers = dict(start["headers"])
    assert b"content-length" not in headers  # length unknown: chunked
    assert headers[b"etag"] == b'W/"s"'
    assert len(bodies) == len(chunks) + 1  # one message out for each message in
    # After the notice, every chunk goes out as it came.
    assert [b["body"] for b in bodies[-51:-1]] == chunks[-50:]
    whole = b"".join(b["body"] for b in bodies)
    assert whole.count(MARKER) == 1


async def test_streamed_and_single_message_pages_are_identical() -> None:
    page = PAGE.encode()
    single = await run_asgi(raw_app(page, HTML))
    for size in (1, 7, 64):
        chunks = [page[i : i + size] for i in range(0, len(page), size)]
        streamed = await run_asgi(streaming_app(chunks))
        assert b"".join(m["body"] for m in streamed[1:]) == single[1]["body"]


async def test_unknown_messages_and_pathsend_pass_through() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": HTML})
        await send({"type": "http.response.pathsend", "path": "/srv/page.html"})
        await send({"type": "http.response.debug", "info": {}})

    sent = await run_asgi(app)
    assert [m["type"] for m in sent] == [
        "http.response.start",
        "http.response.pathsend",
        "http.response.debug",
    ]
    assert dict(sent[0]["headers"])[b"ai-disclosure"].startswith(b"mode=ai-originated")


async def test_a_page_the_app_gzips_gets_the_notice_gzipped() -> None:
    response = await get(gzip_app(), "/dechets/assistant", headers={"accept-encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"
    assert_disclosed(response, notice=True)  # httpx undid the gzip: the notice is in the page
    assert 'name="ai-disclosure"' in response.text
    # Exact length of what was sent, compressed; still varies as the app said.
    sent = int(response.headers["content-length"])
    assert sent == response.num_bytes_downloaded < len(response.text.encode())
    assert "accept-encoding" in response.headers["vary"].lower()


async def test_compressed_pages_read_the_same_as_plain_ones() -> None:
    plain = await get(page_app(), "/dechets/assistant")
    zipped = await get(gzip_app(), "/dechets/assistant", headers={"accept-encoding": "gzip"})
    assert zipped.text == plain.text


@pytest.mark.parametrize("coding", ["gzip", "deflate", "br", "zstd"])
async def test_every_coding_the_app_may_use_is_redone_in_kind(coding: str) -> None:
    from ai_disclosure._encoding import Recoder

    encoder = Recoder(coding.encode())
    body = encoder.encode(PAGE.encode()) + encoder.finish()
    headers = [*HTML, (b"content-encoding", coding.encode()), (b"etag", b'"z"')]
    start, message = await run_asgi(raw_app(body, headers))
    sent = dict(start["headers"])
    assert sent[b"content-encoding"] == coding.encode()
    assert sent[b"etag"] == b'W/"z"'
    assert int(sent[b"content-length"]) == len(message["body"])
    decoded = b"".join(Recoder(coding.encode()).decode(message["body"]))
    assert decoded.count(MARKER) == 1
    assert decoded.replace(MARKER, b"").startswith(b"<!doctype html>")


async def test_a_compressed_stream_stays_a_stream() -> None:
    import zlib

    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    page = PAGE.encode() + b"<p>suite</p>" * 2000
    chunks = [compressor.compress(page[i : i + 500]) + compressor.flush(zlib.Z_SYNC_FLUSH)
              for i in range(0, len(page), 500)] + [compressor.flush()]  # fmt: skip

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [*HTML, (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in chunks:
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    start, *bodies = await run_asgi(app)
    assert b"content-length" not in dict(start["headers"])
    assert len(bodies) == len(chunks) + 1
    # Each message decodes on its own as it arrives: a reader sees the page grow.
    decoder = zlib.decompressobj(31)
    first = decoder.decompress(bodies[0]["body"])
    assert MARKER in first or MARKER in decoder.decompress(bodies[1]["body"])
    whole = zlib.decompress(b"".join(b["body"] for b in bodies), 31)
    assert whole.replace(whole[whole.index(b"<meta name") : whole.index(b"</head>")], b"")


async def test_a_corrupt_compressed_page_passes_untouched_and_is_reported() -> None:
    body = b"\x1f\x8b not gzip at all"
    headers = [*HTML, (b"content-encoding", b"gzip"), (b"content-length", b"19")]
    with capture_missed_notices() as missed:
        start, message = await run_asgi(raw_app(body, headers))
    assert message["body"] == body
    assert dict(start["headers"])[b"content-length"] == b"19"
    assert [(m.route, m.reason) for m in missed] == [("/dechets/assistant*", "corrupt")]


async def test_a_stream_corrupt_midway_ends_cleanly() -> None:
    import zlib

    compressor = zlib.compressobj(6, zlib.DEFLATED, 31)
    good = compressor.compress(PAGE.encode()) + compressor.flush(zlib.Z_SYNC_FLUSH)

    async def app(scope: Any, receive: Any, send: Any) -> None:
        headers = [*HTML, (b"content-encoding", b"gzip")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        for chunk in (good, b"\xff" * 64, b"more"):
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    _, *bodies = await run_asgi(app)
    assert [b.get("more_body", False) for b in bodies] == [True, False]  # nothing after the end
    page = zlib.decompress(b"".join(b["body"] for b in bodies), 31)
    assert page.count(MARKER) == 1


async def test_an_unchanged_page_keeps_its_length_and_etag() -> None:
    page = PAGE.replace("</main>", "</main><ai-notice data-ai-disclosure-notice>IA</ai-notice>")
    app = page_app(page, headers={"etag": '"x"'})
    response = await get(app, "/dechets/assistant", position=Position.BODY_END)
    assert response.headers["content-length"] == str(len(page.encode()))
    assert response.headers["etag"] == '"x"'


async def test_a_page_of_declared_length_keeps_an_exact_length() -> None:
    start, *bodies = await run_asgi(two_message_app(PAGE.encode(), HTML))
    sent = b"".join(b["body"] for b in bodies)
    assert sent.count(MARKER) == 1
    assert dict(start["headers"])[b"content-length"] == str(len(sent)).encode()


SKIP_PAGE = PAGE.replace(
    "<body>", "<body><a href=#main>Aller au contenu</a><nav><a href=/>Accueil</a>"
)


@pytest.mark.parametrize(
    ("body", "headers", "request_headers"),
    [
        (SKIP_PAGE, {}, {}),
        (PAGE.replace(" lang=fr", ""), {"ETag": '"v1"'}, {"Accept-Language": "ar, en;q=0.5"}),
        (SKIP_PAGE, {"Content-Security-Policy": "script-src 'nonce-abc'"}, {}),
        (SKIP_PAGE.encode("latin-1", "xmlcharrefreplace"), {"Content-Type": "text/html"}, {}),
        (SKIP_PAGE, {}, {"Sec-Fetch-Dest": "empty"}),
        (SKIP_PAGE.encode("utf-16"), {}, {}),  # left alone, both times
    ],
)
async def test_a_page_decided_before_goes_out_as_the_injector_sends_it(
    body: str | bytes, headers: dict[str, str], request_headers: dict[str, str]
) -> None:
    """The usual page of a site, seen again, skips the injector (``_lane``): the same
    bytes, the same headers, counted alike."""
    from ai_disclosure import _inject

    from .test_middleware import client

    _inject._decided.clear()
    recorded: list[tuple[Any, ...]] = []

    class Logger:
        def record(self, *args: Any) -> None:
            recorded.append(args)

    async with client(page_app(body, headers=headers), logger=Logger()) as http:
        first = await http.get("/dechets/assistant", headers=request_headers)
        kept = dict(_inject._decided)
        second = await http.get("/dechets/assistant", headers=request_headers)
    assert (second.status_code, second.headers.raw, second.content) == (
        first.status_code, first.headers.raw, first.content
    )  # fmt: skip
    assert recorded[0] == recorded[1]
    left_alone = isinstance(body, bytes) and body.startswith(b"\xff\xfe")
    assert bool(kept) is not left_alone
    assert (first.content.count(MARKER) == 1) is not left_alone


async def test_a_page_not_decided_before_is_looked_up_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The lane looks a whole page up in the decisions kept; when it is not there,
    the injector that reads it does not look again."""
    from ai_disclosure import _inject, _responder

    from .test_middleware import client

    _inject._decided.clear()
    calls: list[int] = []
    real = _inject.decided_before

    def counted(*args: Any) -> Any:
        calls.append(1)
        return real(*args)

    monkeypatch.setattr(_responder, "decided_before", counted)
    monkeypatch.setattr(_inject, "decided_before", counted)
    async with client(page_app(SKIP_PAGE)) as http:
        first = await http.get("/dechets/assistant")  # read, and kept
        second = await http.get("/dechets/assistant")  # recalled by the lane
    assert calls == [1, 1]
    assert first.content == second.content
    assert first.content.count(MARKER) == 1


async def test_a_page_with_a_new_token_in_its_head_goes_out_without_an_injector(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A portal that writes a new CSRF token and CSP nonce into its head on every
    request (Laravel, Spring, Django with nonces): after the first page, each goes
    out through the decision kept, byte for byte what reading it anew gives."""
    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import HTMLResponse, Response
    from starlette.routing import Route

    from ai_disclosure import _inject, _pagestart, _responder

    from .test_middleware import client

    async def endpoint(request: Request) -> Response:
        token = request.query_params["t"]
        page = SKIP_PAGE.replace(
            "<title>",
            f'<meta name="csrf-token" content="{token * 40}">'
            f'<script nonce="{token * 22}" src="/a.js"></script><title>',
        )
        policy = f"script-src 'nonce-{token * 22}'"
        return HTMLResponse(page, headers={"Content-Security-Policy": policy})

    app = Starlette(routes=[Route("/dechets/assistant", endpoint)])
    _inject._decided.clear()
    async with client(app) as http:
        await http.get("/dechets/assistant?t=a")  # read, and kept
        with monkeypatch.context() as patch:
            patch.setattr(_responder, "Injector", None)  # the lane needs none
            recalled = [await http.get(f"/dechets/assistant?t={t}") for t in "bc"]
        for response, token in zip(recalled, "bc", strict=True):
            _inject._decided.clear()
            _pagestart._known.clear()
            read = await http.get(f"/dechets/assistant?t={token}")
            assert (response.headers.raw, response.content) == (read.headers.raw, read.content)
            assert response.content.count(MARKER) == 1
            assert f'nonce="{token * 22}"'.encode() in response.content  # the widget's own


async def test_a_piece_fetched_by_a_script_is_left_alone_though_decided_before() -> None:
    """The same bytes shown as a page, then fetched by a script that may put them in
    a page already shown: a start that is not a document's stays untouched."""
    from ai_disclosure import _inject

    from .test_middleware import client

    _inject._decided.clear()
    piece = "<link rel=stylesheet href=/p.css><body><a href=#m>Aller au contenu</a>Texte"
    async with client(page_app(piece)) as http:
        shown = await http.get("/dechets/assistant")
        assert _inject._decided
        fetched = await http.get("/dechets/assistant", headers={"Sec-Fetch-Dest": "empty"})
    assert shown.content.count(MARKER) == 1
    assert fetched.text == piece
