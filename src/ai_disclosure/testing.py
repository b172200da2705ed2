"""Helpers for an app's own tests: assert what its responses disclose.

docs/testing.md walks through each, with examples the project's tests run.

Works with any response object that has ``headers`` and ``text`` (httpx,
Starlette's test client, requests)::

    from ai_disclosure.testing import assert_disclosed, assert_not_disclosed

    response = client.get("/dechets/assistant")
    assert_disclosed(response, mode="ai-originated", notice=True)
    assert_not_disclosed(client.get("/actualites"))

An AI page the middleware could not put the notice in (a coding it cannot
decode, XHTML, no placeholder...) is logged once per route; in tests, catch
every one::

    with capture_missed_notices() as missed:
        client.get("/dechets/assistant")
    assert missed == []

What the middleware counts for the registry, without a registry: give it a
``CapturingRecorder`` as its logger and read what it recorded::

    from ai_disclosure.testing import CapturingRecorder

    recorder = CapturingRecorder()
    app = AIDisclosureMiddleware(app, "ai-disclosure.toml", logger=recorder)
    ...
    client.get("/dechets/assistant")
    assert [r.route for r in recorder.records] == ["/dechets/assistant*"]
    assert recorder.records[0].notice_shown

What reaches the registry, without a registry: point the real logger at a
``fake_registry`` and read the register it kept (faults can be injected too)::

    from ai_disclosure.testing import fake_registry

    with fake_registry("ai-disclosure.toml") as registry:
        logger = DisclosureLogger("demarches", registry.url, registry.token,
                                  transport=registry.transport)
        ...
        await logger.aclose()
    assert registry.total("assistant-dechets") == 1
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

from ._fake_registry import DayCount, FakeRegistry, fake_registry
from ._headers import HEADER_NAME, AIDisclosureHeader, HeaderError, parse_header
from ._inject import MARKER
from ._misses import MissedNotice, listeners

__all__ = [
    "CapturingRecorder",
    "DayCount",
    "FakeRegistry",
    "MissedNotice",
    "Recorded",
    "assert_disclosed",
    "assert_not_disclosed",
    "capture_missed_notices",
    "disclosure_of",
    "fake_registry",
]

_MARKER = MARKER.decode("ascii")


def disclosure_of(response: Any) -> AIDisclosureHeader:
    """The parsed ``AI-Disclosure`` header; ``AssertionError`` if missing or invalid."""
    value = response.headers.get(HEADER_NAME)
    if value is None:
        raise AssertionError(f"the response has no {HEADER_NAME} header")
    try:
        return parse_header(value)
    except HeaderError as exc:
        raise AssertionError(str(exc)) from None


def _notices(response: Any) -> int:
    return str(getattr(response, "text", "")).count(_MARKER)


def assert_disclosed(
    response: Any,
    *,
    mode: str | None = None,
    notice: bool | None = None,
    model: str | None = None,
) -> AIDisclosureHeader:
    """Assert the response discloses AI (any mode but ``none``, or exactly ``mode``),
    and, when ``notice`` is given, whether the page carries the notice (once)."""
    header = disclosure_of(response)
    if mode is None and header.mode == "none":
        raise AssertionError(f"expected AI to be disclosed, but {HEADER_NAME} says mode=none")
    if mode is not None and header.mode != mode:
        raise AssertionError(f"expected mode={mode}, but {HEADER_NAME} says mode={header.mode}")
    if model is not None and header.model != model:
        raise AssertionError(f"expected model={model!r}, but the header says {header.model!r}")
    if notice is not None:
        count = _notices(response)
        if notice and count != 1:
            raise AssertionError(f"expected the notice once in the page, found it {count} times")
        if not notice and count:
            raise AssertionError("expected no notice in the page, but it carries one")
    return header


def assert_not_disclosed(response: Any) -> None:
    """Assert the response says no AI was involved (``mode=none``) and shows no notice."""
    header = disclosure_of(response)
    if header.mode != "none":
        raise AssertionError(f"expected mode=none, but {HEADER_NAME} says mode={header.mode}")
    if _notices(response):
        raise AssertionError("expected no notice in the page, but it carries one")


@contextmanager
def capture_missed_notices() -> Iterator[list[MissedNotice]]:
    """Collect every AI page served without its notice while the block runs, as
    ``MissedNotice(route, reason)`` (``.explanation`` says why and what to do)."""
    found: list[MissedNotice] = []
    listeners.append(found)
    try:
        yield found
    finally:
        listeners.remove(found)


class Recorded(NamedTuple):
    """One ``record()`` call: what a disclosure logger would count for one system."""

    system: str
    route: str
    mode: str
    notice_shown: bool
    language: str | None


class CapturingRecorder:
    """A disclosure logger that keeps every ``record()`` call in ``records``
    and sends nothing: pass it as the middleware's ``logger`` in tests.

    ``records`` holds one ``Recorded`` per system per response, in order; a
    ``Recorded`` is a named tuple, so it also compares equal to a plain tuple.
    """

    def __init__(self) -> None:
        self.records: list[Recorded] = []

    def record(
        self, system: str, route: str, mode: str, notice_shown: bool, language: str | None
    ) -> None:
        """Keep the call (the middleware's ``DisclosureRecorder`` protocol)."""
        self.records.append(Recorded(system, route, mode, notice_shown, language))
