"""What a site publishes once: robots.txt and /.well-known/ai-disclosure."""

from __future__ import annotations

import json

import pytest

from ai_disclosure.check.robots import read_robots, robots_token
from ai_disclosure.check.wellknown import read_manifest

from .sites import manifest

URL = "https://ville.example/.well-known/ai-disclosure"
UA = "ai-disclosure-check/0.1 (+https://example.org)"


def test_a_valid_manifest_and_its_rules() -> None:
    document = manifest(("/ai/special", "bot"), ("/ai*", "bot"))
    found = read_manifest(URL, 200, "application/json", json.dumps(document).encode())
    assert found.state == "valid"
    assert found.reason == "valid: service 'service', 1 AI system, 2 route rules"
    rule = found.rule_for("/ai/special")
    assert rule is not None
    assert rule.template == "/ai/special"  # first matching rule wins
    assert found.rule_for("/elsewhere") is None


@pytest.mark.parametrize(
    ("status", "content_type", "body", "state", "reason"),
    [
        (404, "text/plain", b"", "missing", f"no manifest at {URL} (HTTP 404)"),
        (410, "text/plain", b"", "missing", f"no manifest at {URL} (HTTP 410)"),
        (503, "text/plain", b"", "unavailable", f"manifest at {URL} answered HTTP 503"),
        (
            200,
            "text/html; charset=utf-8",
            b"<!doctype html><p>Welcome</p>",
            "missing",
            f"no manifest at {URL}: it answered an HTML page",
        ),
        (
            200,
            "application/json",
            b"{nope",
            "invalid",
            f"manifest at {URL} invalid: 1 problem at /",
        ),
        (200, "application/json", b"[]", "invalid", f"manifest at {URL} invalid: 1 problem at /"),
        (200, "application/json", b"\xff", "invalid", f"manifest at {URL} invalid: 1 problem at /"),
    ],
)
def test_manifest_states(
    status: int, content_type: str, body: bytes, state: str, reason: str
) -> None:
    found = read_manifest(URL, status, content_type, body)
    assert (found.state, found.reason) == (state, reason)
    assert found.rule_for("/ai") is None


def test_invalid_manifest_lists_every_pointer() -> None:
    document = manifest(("/ai*", "bot"), ("relative", "ghost"))
    document["systems"][0]["origin"] = "robotic"
    found = read_manifest(URL, 200, "application/json", json.dumps(document).encode())
    assert found.state == "invalid"
    assert found.pointers == "/routes/1/path, /systems/0/origin, /routes/1/systems/0"
    messages = {p.pointer: p.message for p in found.problems}
    assert "'robotic' is not allowed" in messages["/systems/0/origin"]
    assert "unknown system 'ghost'" in messages["/routes/1/systems/0"]
    not_json = read_manifest(URL, 200, "application/json", b"{nope")
    assert not_json.problems[0].message.startswith("not JSON: line 1 column 2")


def test_robots_rules() -> None:
    text = b"User-agent: *\nDisallow: /private\n\nUser-agent: ai-disclosure-check\nDisallow: /x\n"
    robots = read_robots("https://ville.example/robots.txt", 200, text)
    assert robots.note == "robots.txt read (HTTP 200)"
    assert not robots.allows(UA, "https://ville.example/x/page")
    assert robots.allows(UA, "https://ville.example/private")  # our group replaces "*"
    assert not robots.allows("Mozilla/5.0", "https://ville.example/private/a")
    assert robots.crawl_delay(UA) is None


def test_robots_crawl_delay() -> None:
    robots = read_robots("https://v.example/robots.txt", 200, b"User-agent: *\nCrawl-delay: 2\n")
    assert robots.crawl_delay(UA) == 2.0


def test_missing_robots_allows_all_and_server_errors_allow_nothing() -> None:
    missing = read_robots("https://v.example/robots.txt", 404, b"")
    assert missing.allows(UA, "https://v.example/anything")
    assert missing.note == "no robots.txt (HTTP 404): everything allowed"
    failing = read_robots("https://v.example/robots.txt", 503, b"")
    assert not failing.allows(UA, "https://v.example/")
    assert failing.note == "robots.txt answered HTTP 503: nothing may be fetched (RFC 9309)"


def test_robots_token() -> None:
    assert robots_token(UA) == "ai-disclosure-check"
    assert robots_token("Mozilla/5.0 (X11)") == "Mozilla"
    assert robots_token("auditbot") == "auditbot"
