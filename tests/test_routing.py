"""Route rules: '*' matches anything, first rule wins; the one path cache stays bounded."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from ai_disclosure import load_manifest
from ai_disclosure._routing import PathCache, Router, normalize

from .conftest import MINIMAL_MANIFEST


def router(*rules: tuple[str, list[str]]) -> Router:
    data: dict[str, Any] = load_manifest(MINIMAL_MANIFEST).raw  # type: ignore[assignment]
    data = dict(data)
    second = dict(data["systems"][0], id="autre")
    data["systems"] = [data["systems"][0], second]
    data["routes"] = [{"path": path, "systems": systems} for path, systems in rules]
    return Router(load_manifest(data))


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("/dechets/assistant*", "/dechets/assistant", True),
        ("/dechets/assistant*", "/dechets/assistant/question", True),
        ("/dechets/assistant*", "/dechets/assistan", False),
        ("/dechets", "/dechets", True),
        ("/dechets", "/dechets/", False),
        ("/*/alertes", "/eau/alertes", True),
        ("/*/alertes", "/eau/compteurs/alertes", True),
        ("/*/alertes", "/eau/alertes/1", False),
        ("/a.b*", "/aXb", False),  # '.' is literal
        ("/a+b*", "/a+b/c", True),
        ("/*", "/anything", True),
        ("/x/*/y/*", "/x/1/y/2", True),
    ],
)
def test_patterns(pattern: str, path: str, matches: bool) -> None:
    found = router((pattern, ["assistant-dechets"])).match(path)
    assert (found is not None) is matches
    if found:
        assert found.template == pattern
        assert [s.id for s in found.systems] == ["assistant-dechets"]


def test_first_matching_rule_wins() -> None:
    rules = router(("/eau/alertes*", ["autre"]), ("/eau*", ["assistant-dechets"]))
    assert [s.id for s in rules.match("/eau/alertes/3").systems] == ["autre"]  # type: ignore[union-attr]
    assert [s.id for s in rules.match("/eau/factures").systems] == ["assistant-dechets"]  # type: ignore[union-attr]
    assert rules.match("/dechets") is None


@pytest.mark.parametrize(
    ("path", "normal"),
    [
        ("/ai/x", "/ai/x"),
        ("/x/../ai/x", "/ai/x"),
        ("//ai/x", "/ai/x"),
        ("/ai/./x/", "/ai/x/"),
        ("/../../ai", "/ai"),
        ("/ai/x/..", "/ai/"),
        ("/", "/"),
    ],
)
def test_paths_are_matched_as_the_application_sees_them(path: str, normal: str) -> None:
    assert normalize(path) == normal
    rules = router(("/ai*", ["autre"]))
    assert (rules.match(path) is not None) is normal.startswith("/ai")


def test_many_wildcards_match_in_linear_time() -> None:
    rules = router(("/*/*/*/answer", ["autre"]), ("/*a*a*a*b", ["assistant-dechets"]))
    hostile = "/" + "a/" * 50_000
    started = time.perf_counter()
    assert rules.match(hostile) is None
    assert rules.match("/" + "a" * 100_000) is None
    assert time.perf_counter() - started < 1.0  # a regex took minutes on these
    assert rules.match("/x/y/z/answer") is not None
    assert rules.match("/xaya/zab") is not None


def test_a_full_cache_starts_over() -> None:
    cache: PathCache[int] = PathCache(size=3)
    for n in range(10):
        assert cache.remember(f"/{n}", n) == n
        assert len(cache) <= 3
        assert cache[f"/{n}"] == n
    assert cache.get("/0") is None


async def test_the_middleware_answers_from_its_one_path_cache() -> None:
    """One path cache: the router does not keep answers, the middleware's cache
    decides every response's route, and stays bounded."""
    from starlette.responses import PlainTextResponse

    from ai_disclosure import AIDisclosureMiddleware

    async def app(scope: Any, receive: Any, send: Any) -> None:
        await PlainTextResponse("ok")(scope, receive, send)

    data: dict[str, Any] = dict(load_manifest(MINIMAL_MANIFEST).raw)
    data["routes"] = [{"path": "/ai*", "systems": [data["systems"][0]["id"]]}]
    middleware = AIDisclosureMiddleware(app, manifest=data)
    cache = middleware._by_path
    assert isinstance(cache, PathCache)
    assert not any(isinstance(v, dict) for v in vars(middleware.router).values())
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ai = await client.get("/ai/1")
        plain = await client.get("/autre")
        # The cached answer is what decides: change it, and the next response follows.
        cache["/autre"] = cache["/ai/1"]
        now_ai = await client.get("/autre")
        cache.size = 2
        for n in range(5):
            assert (await client.get(f"/ai/{n}")).headers["ai-disclosure"] == (
                ai.headers["ai-disclosure"]
            )
    assert "mode=none" not in ai.headers["ai-disclosure"]
    assert plain.headers["ai-disclosure"] == "mode=none"
    assert now_ai.headers["ai-disclosure"] == ai.headers["ai-disclosure"]
    assert len(cache) <= 2
