"""The helpers apps use in their own tests."""

from __future__ import annotations

import httpx
import pytest

from ai_disclosure.testing import assert_disclosed, assert_not_disclosed, disclosure_of


def response(header: str | None, text: str = "") -> httpx.Response:
    headers = {"AI-Disclosure": header} if header is not None else {}
    return httpx.Response(200, headers=headers, text=text)


NOTICE = "<ai-notice data-ai-disclosure-notice>IA</ai-notice>"


def test_disclosed_with_mode_model_and_notice() -> None:
    page = response('mode=ai-originated, model="m"', NOTICE)
    header = assert_disclosed(page, mode="ai-originated", model="m", notice=True)
    assert header.model == "m"
    assert_disclosed(response("mode=ai-modified"), notice=False)


@pytest.mark.parametrize(
    ("page", "kwargs", "words"),
    [
        (response(None), {}, "has no AI-Disclosure header"),
        (response("garbage !!"), {}, "not a structured-field dictionary"),
        (response("mode=none"), {}, "says mode=none"),
        (response("mode=ai-modified"), {"mode": "ai-originated"}, "expected mode=ai-originated"),
        (response("mode=ai-modified"), {"notice": True}, "found it 0 times"),
        (response("mode=ai-modified", NOTICE * 2), {"notice": True}, "found it 2 times"),
        (response("mode=ai-modified", NOTICE), {"notice": False}, "expected no notice"),
        (response('mode=ai-modified, model="a"'), {"model": "b"}, "expected model='b'"),
    ],
)
def test_failures_say_what_differs(
    page: httpx.Response, kwargs: dict[str, object], words: str
) -> None:
    with pytest.raises(AssertionError, match=words):
        assert_disclosed(page, **kwargs)  # type: ignore[arg-type]


def test_not_disclosed() -> None:
    assert_not_disclosed(response("mode=none", "<p>x</p>"))
    with pytest.raises(AssertionError, match="says mode=ai-modified"):
        assert_not_disclosed(response("mode=ai-modified"))
    with pytest.raises(AssertionError, match="carries one"):
        assert_not_disclosed(response("mode=none", NOTICE))
    assert disclosure_of(response("mode=none")).mode == "none"


async def test_capture_missed_notices_sees_each_miss_while_open() -> None:
    from starlette.responses import Response

    from ai_disclosure import AIDisclosureMiddleware
    from ai_disclosure.testing import capture_missed_notices

    from .conftest import EXAMPLE_MANIFEST

    async def app(scope: object, receive: object, send: object) -> None:
        page = Response("<p>x</p>", media_type="application/xhtml+xml")
        await page(scope, receive, send)  # type: ignore[arg-type]

    transport = httpx.ASGITransport(AIDisclosureMiddleware(app, EXAMPLE_MANIFEST))
    async with httpx.AsyncClient(transport=transport, base_url="http://p") as http:
        with capture_missed_notices() as missed:
            await http.get("/dechets/assistant")
        await http.get("/dechets/assistant")  # after the block: not collected
    assert [(m.route, m.reason) for m in missed] == [("/dechets/assistant*", "xhtml")]
    assert "text/html" in missed[0].explanation


async def test_capturing_recorder_keeps_each_record_call_in_order() -> None:
    from starlette.responses import HTMLResponse

    from ai_disclosure import AIDisclosureMiddleware
    from ai_disclosure.testing import CapturingRecorder, Recorded

    from .conftest import EXAMPLE_MANIFEST

    page = "<!doctype html><html lang=fr><head></head><body><main>x</main></body></html>"

    async def app(scope: object, receive: object, send: object) -> None:
        await HTMLResponse(page)(scope, receive, send)  # type: ignore[arg-type]

    recorder = CapturingRecorder()
    middleware = AIDisclosureMiddleware(app, EXAMPLE_MANIFEST, logger=recorder)
    transport = httpx.ASGITransport(middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://p") as http:
        await http.get("/actualites")  # no AI: nothing to count
        assert recorder.records == []
        shown = await http.get("/dechets/assistant")
        await http.head("/dechets/assistant")  # a HEAD shows nobody anything
        await http.get("/dechets/assistant")
    assert_disclosed(shown, notice=True)
    first = recorder.records[0]
    assert first == Recorded("assistant-dechets", "/dechets/assistant*", "ai-originated",
                             True, "fr")  # fmt: skip
    assert first.notice_shown  # fields by name, too
    assert recorder.records == [first, first]  # one per response, in order


def test_capturing_recorder_is_a_disclosure_recorder() -> None:
    from ai_disclosure._middleware import DisclosureRecorder
    from ai_disclosure.testing import CapturingRecorder

    recorder: DisclosureRecorder = CapturingRecorder()  # mypy checks the protocol
    recorder.record("s", "/r", "ai-modified", False, None)
    assert recorder.records == [("s", "/r", "ai-modified", False, None)]  # type: ignore[attr-defined]
