"""Rule (6): the page says what the site's manifest says of its path."""

from __future__ import annotations

import json

from ai_disclosure.check.wellknown import read_manifest

from .pages import (
    FAIL,
    NA,
    PASS,
    VALID,
    WARN,
    body,
    no_manifest,
    replaced,
    site_of,
    verdicts,
    without,
)
from .sites import manifest


def test_manifest_rules_and_page_modes() -> None:
    weaker = verdicts(replaced("AI-Disclosure", "mode=ai-modified"))["manifest"]
    assert weaker == (
        FAIL,
        'manifest rule "/ai*" (bot) implies mode=ai-originated but the page declares '
        "header mode=ai-modified",
    )
    nothing = verdicts(without("AI-Disclosure"), body(head=b""))["manifest"]
    assert nothing == (
        FAIL,
        'manifest rule "/ai*" (bot) implies mode=ai-originated but the page declares '
        "nothing (no valid AI-Disclosure header, no meta)",
    )
    meta_only = verdicts(without("AI-Disclosure"))["manifest"]
    assert meta_only == (
        PASS,
        'meta ai-autonomous agrees with manifest rule "/ai*" (bot) (mode=ai-originated)',
    )
    stray = verdicts(url="https://ville.example/autre")["manifest"]
    assert stray == (
        WARN,
        'page declares AI (header mode=ai-originated, Link rel="ai-disclosure", meta '
        "ai-autonomous, [data-ai-disclosure-notice]) but no manifest rule matches /autre",
    )


def test_a_page_declaring_ai_on_a_site_that_declares_none_fails() -> None:
    none = manifest()
    none["systems"] = []
    assert verdicts(site=site_of(none))["manifest"] == (
        FAIL,
        'page declares AI (header mode=ai-originated, Link rel="ai-disclosure", meta '
        "ai-autonomous, [data-ai-disclosure-notice]) but the site's manifest declares no AI "
        "system",
    )
    plain = (("Content-Type", "text/html"),)
    quiet = verdicts(plain, body(content=b"<p>Horaires.</p>", head=b""), site=site_of(none))
    assert quiet["manifest"] == (PASS, "no manifest rule matches /ai; the page declares no AI")


def test_a_rule_naming_no_system_is_no_ai_for_its_path() -> None:
    # A specific rule first that names no system overrides the broad one after it.
    document = manifest(("/ai*", "bot"))
    document["routes"].insert(0, {"path": "/ai/aide", "systems": []})
    site = site_of(document)
    plain = (("Content-Type", "text/html"),)
    help_page = body(content=b"<p>Aide.</p>", head=b"")
    url = "https://ville.example/ai/aide"
    quiet = verdicts(plain, help_page, url=url, site=site)
    assert quiet["manifest"] == (
        PASS,
        'manifest rule "/ai/aide" names no system for /ai/aide; the page declares no AI',
    )
    assert quiet["notice"] == (NA, "the page does not involve AI")
    assert verdicts(url=url, site=site)["manifest"][0] is WARN  # disclosed at run time?


def test_a_weaker_rule_than_the_page_passes() -> None:
    site = read_manifest(
        VALID.url,
        200,
        "application/json",
        json.dumps(manifest(("/ai*", "bot"), origin="ai-modified")).encode(),
    )
    assert verdicts(site=site)["manifest"] == (
        PASS,
        'header mode=ai-originated is stronger than manifest rule "/ai*" (bot) '
        "(mode=ai-modified), as when more systems are disclosed at run time",
    )


def test_manifest_states_on_pages() -> None:
    missing = no_manifest()
    assert verdicts(site=missing)["manifest"] == (WARN, f"no manifest at {missing.url} (HTTP 404)")
    plain = (("Content-Type", "text/html"), ("AI-Disclosure", "mode=none"))
    quiet = verdicts(plain, body(content=b"<p>Horaires.</p>", head=b""), site=missing)
    assert quiet["manifest"] == (NA, f"no manifest at {missing.url} (HTTP 404)")
    broken = read_manifest(missing.url, 200, "application/json", b'{"service": {}}')
    status, reason = verdicts(site=broken)["manifest"]
    assert status is FAIL
    assert reason.startswith("the site's manifest is invalid (")
    assert "/service/id" in reason
    assert "/systems" in reason


def test_percent_encoded_paths_match_decoded_rules() -> None:
    url = "https://ville.example/%C3%A9t%C3%A9"
    site = read_manifest(
        VALID.url,
        200,
        "application/json",
        json.dumps(manifest(("/été", "bot"))).encode(),
    )
    assert verdicts(url=url, site=site)["manifest"][0] is PASS
