"""A site's ``/.well-known/ai-disclosure`` manifest, as an auditor sees it. Pure.

The manifest is read with the same checks as ``ai-disclosure validate`` (schema,
then cross-checks), so an auditor and a service owner get the same JSON pointers
for the same mistake. A valid manifest then says, through its route rules, which
IETF mode each path should carry.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .._manifest import ManifestError, ManifestProblem, parse_manifest
from .._model import Manifest
from .._routing import Match, Router
from .html import media_type

__all__ = ["WELL_KNOWN_PATH", "SiteManifest", "read_manifest", "unavailable"]

WELL_KNOWN_PATH = "/.well-known/ai-disclosure"

#: What a page may say about the manifest, by ``SiteManifest.state``.
VALID, INVALID, MISSING, UNAVAILABLE = "valid", "invalid", "missing", "unavailable"


@dataclass(frozen=True, slots=True)
class SiteManifest:
    """The outcome of fetching one origin's manifest.

    ``state`` is ``valid``, ``invalid`` (``problems`` says where and why),
    ``missing`` (404, or a page that is not JSON) or ``unavailable`` (server
    error, unreachable, disallowed by robots.txt). ``reason`` is one line.
    """

    url: str
    state: str
    reason: str
    problems: tuple[ManifestProblem, ...] = ()
    manifest: Manifest | None = None
    router: Router | None = field(default=None, compare=False, repr=False)

    def rule_for(self, path: str) -> Match | None:
        """The first route rule matching ``path`` (a decoded URL path), if any."""
        return self.router.match(path) if self.router is not None else None

    @property
    def pointers(self) -> str:
        """The problems' JSON pointers, for one-line reasons."""
        return ", ".join(p.pointer or "/" for p in self.problems)


def unavailable(url: str, reason: str) -> SiteManifest:
    """A manifest that could not be fetched."""
    return SiteManifest(url, UNAVAILABLE, reason)


def read_manifest(url: str, status: int, content_type: str | None, body: bytes) -> SiteManifest:
    """Judge what ``url`` answered: status, ``Content-Type`` and body."""
    if status in (404, 410):
        return SiteManifest(url, MISSING, f"no manifest at {url} (HTTP {status})")
    if not 200 <= status < 300:
        return unavailable(url, f"manifest at {url} answered HTTP {status}")
    media = media_type(content_type)
    if media in ("text/html", "application/xhtml+xml"):
        return SiteManifest(url, MISSING, f"no manifest at {url}: it answered an HTML page")
    try:
        data = json.loads(body.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        return _invalid(url, [ManifestProblem("", f"not UTF-8 text (byte {exc.start})")])
    except json.JSONDecodeError as exc:
        problem = ManifestProblem("", f"not JSON: line {exc.lineno} column {exc.colno}: {exc.msg}")
        return _invalid(url, [problem])
    if not isinstance(data, dict):
        return _invalid(
            url, [ManifestProblem("", "not a JSON object with 'service' and 'systems'")]
        )
    try:
        manifest = parse_manifest(data, source=url)
    except ManifestError as exc:
        return _invalid(url, exc.problems)
    systems, rules = len(manifest.systems), len(manifest.routes)
    reason = (
        f"valid: service {manifest.service.id!r}, {systems} AI system{'s' * (systems != 1)}, "
        f"{rules} route rule{'s' * (rules != 1)}"
    )
    return SiteManifest(url, VALID, reason, manifest=manifest, router=Router(manifest))


def _invalid(
    url: str, problems: list[ManifestProblem] | tuple[ManifestProblem, ...]
) -> SiteManifest:
    count = len(problems)
    pointers = ", ".join(p.pointer or "/" for p in problems)
    reason = f"manifest at {url} invalid: {count} problem{'s' * (count != 1)} at {pointers}"
    return SiteManifest(url, INVALID, reason, problems=tuple(problems))
