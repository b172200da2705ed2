"""Route rules: '*' matches anything, first rule wins, answers are cached in a bounded way."""

from __future__ import annotations

import time
from typing import Any

import pytest

from ai_disclosure import load_manifest
from ai_disclosure._routing import Router, normalize

from .conftest import MINIMAL_MANIFEST


def router(*rules: tuple[str, list[str]], cache_size: int = 2048) -> Router:
    data: dict[str, Any] = load_manifest(MINIMAL_MANIFEST).raw  # type: ignore[assignment]
    data = dict(data)
    second = dict(data["systems"][0], id="autre")
    data["systems"] = [data["systems"][0], second]
    data["routes"] = [{"path": path, "systems": systems} for path, systems in rules]
    return Router(load_manifest(data), cache_size=cache_size)


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


def test_the_cache_stays_bounded() -> None:
    rules = router(("/a*", ["autre"]), cache_size=10)
    for n in range(1000):
        assert rules.match(f"/a/{n}") is not None
        assert rules.match(f"/b/{n}") is None
    assert len(rules._cache) <= 11


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
