"""A system's notice as its service's pages show it, for pages no server of the
service touches: ``<ai-notice src="…/v1/systems/SERVICE/SYSTEM">`` fetches it.

The markup is the one ``_notice.render_notice`` gives the middleware (one
template, one set of words); only its link changes: a service without a
register of its own links its declaration page, which a foreign page cannot
reach, so the notice links this register's entry instead."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from .._notice import render_notice
from .entries import Entry

__all__ = ["notice_json"]


def notice_json(
    entry: Entry, language: str, page_language: str | None, register_base: str
) -> dict[str, Any]:
    """The body of ``GET /v1/systems/{service}/{system}/notice``: the notice in
    ``language`` (one of the catalog's), with its own ``lang`` unless the page
    (``page_language``, the language the page asked for) is in that language."""
    manifest = entry.manifest
    if not (entry.system.register_url or manifest.service.register_url):
        manifest = replace(manifest, service=replace(manifest.service, register_url=register_base))
    system = manifest.system(entry.system.id)
    html = render_notice(manifest, [system], language, page_language=page_language)
    return {
        "service": entry.service_id,
        "system": system.id,
        "lang": language,
        "html": html,
    }
