"""The declaration page: the manifest as a citizen reads it, one page per language.

The notice's register link lands here when a service has no public register:
``GET {prefix}`` answers this page to browsers and the manifest JSON to
machines (:func:`prefers_html`). Pure functions over the manifest and header
values; :class:`~ai_disclosure._assets.Assets` renders every language once, at
start-up, and serves the bytes from memory.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import Markup, escape

from ._catalog import Catalog, catalog_language, fill, language_options
from ._language import choose_language
from ._model import Manifest, Route, System
from ._notice import (
    ASSET_PREFIX,
    _contact_link,
    _environment,
    _Item,
    _translator,
    _View,
    service_languages,
)

__all__ = [
    "declaration_languages",
    "page_language",
    "pages_concerned",
    "pages_in_words",
    "prefers_html",
    "render_declaration",
]

_HTML = ("text/html", "text/*", "*/*")
_JSON = ("application/json", "application/*", "*/*")


# --- Negotiation ------------------------------------------------------------


@lru_cache(maxsize=256)
def prefers_html(accept: str | None) -> bool:
    """Whether ``Accept`` rates ``text/html`` above ``application/json``.

    Each type gets the quality of its most specific matching range (RFC 9110,
    12.5.1). A tie - no header, ``*/*`` alone, or both listed equally - goes to
    JSON: machines that name neither keep what they always had, while every
    browser lists ``text/html`` above its ``*/*;q=0.8``.
    """
    if not accept:
        return False
    ranges: dict[str, float] = {}
    for item in accept.split(",")[:64]:
        media, *params = item.split(";")
        media = media.strip().lower()
        quality = 1.0
        for param in params:
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = min(max(float(value), 0.0), 1.0)
                except ValueError:
                    quality = 0.0
        if media and media not in ranges:
            ranges[media] = quality

    def quality_of(candidates: tuple[str, ...]) -> float:
        for media in candidates:  # most specific first
            if media in ranges:
                return ranges[media]
        return 0.0

    return quality_of(_HTML) > quality_of(_JSON)


def declaration_languages(manifest: Manifest) -> tuple[str, ...]:
    """Languages the page is offered in: the notice's (so its link always finds
    its language)."""
    return service_languages(manifest)


def page_language(manifest: Manifest, requested: str | None, accept_language: str | None) -> str:
    """``?lang=`` first, then ``Accept-Language``, then the service's default."""
    available = declaration_languages(manifest)
    default = manifest.service.default_language
    if default not in available:
        default = available[0]
    language, _ = choose_language(available, default, requested or None, accept_language)
    return language


# --- Routes in words --------------------------------------------------------


def pages_concerned(routes: Sequence[Route], system_id: str) -> tuple[tuple[str, str], ...]:
    """The pages a system concerns, as (kind, path) pairs a template puts in words.

    ``all`` (every page), ``exact`` (one page), ``prefix`` (pages whose address
    starts with ``path``) or ``pattern`` (``*`` inside the path). Empty when no
    rule names the system: the pages say so themselves at run time.
    """
    found: dict[tuple[str, str], None] = {}
    for route in routes:
        if system_id not in route.systems:
            continue
        path = route.path
        if path in ("*", "/*"):
            found["all", ""] = None
        elif "*" not in path:
            found["exact", path] = None
        elif path.endswith("*") and "*" not in path[:-1]:
            found["prefix", path[:-1]] = None
        else:
            found["pattern", path] = None
    if ("all", "") in found:
        return (("all", ""),)
    return tuple(found)


# --- Rendering --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Entry:
    """One system as the page shows it."""

    id: str
    item: _Item
    provider: str | None
    model: str | None
    audience: str
    status: str
    pages: tuple[Markup, ...]
    register_href: str | None


def _path_html(path: str) -> str:
    """A path as code, always left to right (it sits in Arabic sentences too)."""
    return str(Markup('<code dir="ltr">{}</code>').format(path))


def pages_in_words(strings: Catalog, routes: Sequence[Route], system_id: str) -> list[Markup]:
    """The pages a system concerns as sentences of ``strings``' language ("The
    pages whose address starts with /dechets/"), the paths as code; empty when
    no rule names the system. The declaration page and the register say it so."""
    return [
        Markup(fill(str(escape(strings(f"routes.{kind}"))), {"path": _path_html(path)}))
        for kind, path in pages_concerned(routes, system_id)
    ]


def _entry(manifest: Manifest, view: _View, strings: Catalog, system: System) -> _Entry:
    external = system.register_url or manifest.service.register_url
    return _Entry(
        id=system.id,
        item=view.item(system, system.id),
        provider=system.provider,
        model=system.model,
        audience=system.audience,
        status=system.status,
        pages=tuple(pages_in_words(strings, manifest.routes, system.id)),
        # Without a register this page is the system's entry: no link to itself.
        register_href=view.register_href(system) if external else None,
    )


def render_declaration(manifest: Manifest, language: str, *, prefix: str = ASSET_PREFIX) -> str:
    """The declaration page in ``language``: the service, then each AI system
    under an ``id`` equal to the system's id, and a link to the JSON."""
    lang = catalog_language(language)
    prefix = prefix.rstrip("/") or "/"
    view = _View(manifest, lang, language, prefix=prefix)
    service = manifest.service
    strings, fill_markup = _translator(lang)
    contact_text, contact_href = _contact_link(service.contact)
    options = language_options(
        declaration_languages(manifest), lang, lambda code: f"{prefix}?lang={code}"
    )
    template = _environment().get_template("declaration.html")
    return template.render(
        lang=lang,
        dir=strings.dir,
        prefix=prefix,
        json_href=f"{prefix}?format=json",
        languages=options,
        service_name=view.plain(service.name),
        operator=view.plain(service.operator),
        description=view.text(service.description),
        contact_text=contact_text,
        contact_href=contact_href,
        systems=[_entry(manifest, view, strings, system) for system in manifest.systems],
        _=strings,
        fill=fill_markup,
    )
