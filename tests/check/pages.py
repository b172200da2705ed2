"""Pages for the rules' tests: an AI page that passes every rule, and the helpers
that change one thing in it. ``verdicts`` runs the whole table (``evaluate``)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

from ai_disclosure.check.page import LinkResult, read_page
from ai_disclosure.check.results import Status
from ai_disclosure.check.rules import evaluate
from ai_disclosure.check.wellknown import SiteManifest, read_manifest

from .sites import manifest

PASS, WARN, FAIL, NA = Status.PASS, Status.WARN, Status.FAIL, Status.NA
URL = "https://ville.example/ai"
REGISTER = "https://registre.example/systems/service/bot"
#: The register entry as a browser gets it: an HTML page.
ENTRY = LinkResult(REGISTER, status=200, media_type="text/html", html=True)
NOTICE = (
    b"<div data-ai-disclosure-notice><p>Vous \xc3\xa9changez avec une IA.</p>"
    b'<a href="https://registre.example/systems/service/bot#top">Registre</a>'
    b'<a href="mailto:ia@ville.example">Contact</a> <a href="#more">Plus</a></div>'
)
META_AI = b'<meta name="ai-disclosure" content="ai-autonomous">'
AI_HEADERS = (
    ("Content-Type", "text/html; charset=utf-8"),
    ("AI-Disclosure", "mode=ai-originated"),
    ("Link", f'<{REGISTER}>; rel="ai-disclosure"'),
)


def body(content: bytes = NOTICE, head: bytes = META_AI, lang: bytes = b"fr") -> bytes:
    return (
        b'<!doctype html><html lang="' + lang + b'"><head><meta charset="utf-8">' + head
        + b"</head><body>" + content + b"</body></html>"
    )  # fmt: skip


def no_manifest(url: str = "https://ville.example/.well-known/ai-disclosure") -> SiteManifest:
    return read_manifest(url, 404, "text/plain", b"")


VALID = read_manifest(
    "https://ville.example/.well-known/ai-disclosure",
    200,
    "application/json",
    json.dumps(manifest(("/ai*", "bot"), ("/quiet", "bot"))).encode(),
)


def verdicts(
    headers: Sequence[tuple[str, str]] = AI_HEADERS,
    content: bytes | None = None,
    *,
    status: int = 200,
    url: str = URL,
    site: SiteManifest = VALID,
    links: Mapping[str, LinkResult] | None = None,
    strict: bool = False,
) -> dict[str, tuple[Status, str]]:
    page = read_page(url, status, headers, body() if content is None else content)
    results = links if links is not None else {REGISTER: ENTRY}
    found = evaluate(page, site, results, strict=strict)
    return {name: (v.status, v.reason) for name, v in found.items()}


def without(name: str) -> tuple[tuple[str, str], ...]:
    return tuple((k, v) for k, v in AI_HEADERS if k.lower() != name.lower())


def replaced(name: str, value: str) -> tuple[tuple[str, str], ...]:
    return (*without(name), (name, value))


def site_of(document: dict[str, object]) -> SiteManifest:
    """The site's manifest, valid or not, as read from ``document``."""
    return read_manifest(VALID.url, 200, "application/json", json.dumps(document).encode())
