"""Route rules: '*' matches anything, first rule wins; the one path cache stays bounded."""

from __future__ import annotations

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
        # ;parameters, as servlet containers drop them from each segment
        ("/ai;jsessionid=0123/x", "/ai/x"),
        ("/x;v=1/ai;a=b", "/x/ai"),
        ("/x/..;/ai/x", "/ai/x"),
        ("/ai/x/;jsessionid=1", "/ai/x/"),
        ("/;x/ai", "/ai"),
        ("/x;/ai", "/x/ai"),
    ],
)
def test_paths_are_matched_as_the_application_sees_them(path: str, normal: str) -> None:
    assert normalize(path) == normal
    rules = router(("/ai*", ["autre"]))
    assert (rules.match(path) is not None) is normal.startswith("/ai")


class Scanned(str):
    """A path that keeps count of the searches made in it, and of the characters
    they could have looked at."""

    searches = 0
    searched = 0

    def find(self, sub: str, start: Any = None, end: Any = None) -> int:  # type: ignore[override]
        found = super().find(sub, start, end)
        first = start or 0
        last = len(self) if end is None else end
        self.searches += 1
        self.searched += (found + len(sub) if found >= 0 else last) - first
        return found


HOSTILE = [  # a backtracking regex took minutes on paths like these
    ("/" + "a/" * 50_000, None),
    ("/" + "a" * 100_000, None),
    ("/" + "x" * 100_000 + "b", None),
    ("/" + "a/" * 50_000 + "answer", "/*/*/*/answer"),
    ("/" + "x" * 100_000 + "aaab", "/*a*a*a*b"),
]


@pytest.mark.parametrize(("path", "template"), HOSTILE, ids=range(len(HOSTILE)))
def test_many_wildcards_match_in_linear_time(path: str, template: str | None) -> None:
    """Each rule looks for each literal between its wildcards once, from where the
    previous one ended: a path is read at most once per rule, however it is made."""
    rules = router(("/*/*/*/answer", ["autre"]), ("/*a*a*a*b", ["assistant-dechets"]))
    match = rules.match(path)
    assert (match and match.template) == template
    for rule in rules._rules:
        scanned = Scanned(path)
        assert rule.matches(scanned) is (rule.match.template == template)
        assert scanned.searches <= len(rule.middle)
        assert scanned.searched <= len(path)


def test_many_wildcards_still_match() -> None:
    rules = router(("/*/*/*/answer", ["autre"]), ("/*a*a*a*b", ["assistant-dechets"]))
    assert rules.match("/x/y/z/answer") is not None
    assert rules.match("/xaya/zab") is not None
    assert rules.match("/xaya/zb") is None


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
