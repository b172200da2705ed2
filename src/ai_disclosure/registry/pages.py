"""The public register as server-rendered HTML: a searchable list, one page per
system (the address every notice links to), one per service, and how to read
the register. Every manifest string goes through Jinja's autoescaping; pages
carry no script and no inline style, so they work under ``default-src 'self'``.

Pages speak every language of the catalog (``_catalog``): ``?lang=``, else
``Accept-Language``, else the register's default (``Settings.language``); links
keep a language asked by ``?lang=``. One URL per entry, the language as a query
parameter, so notices link to the same address in every language."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.types import Scope

from .._catalog import (
    catalogs,
    choose_catalog_language,
    direction,
    fill,
    language_options,
)
from .._declaration import pages_in_words
from .._language import best_match
from .._model import (
    AIActRole,
    AnnexIIIArea,
    Audience,
    AutomationLevel,
    EthicsStatus,
    Interaction,
    Manifest,
    Origin,
    PublicationCategory,
    RiskCategory,
    SystemStatus,
    Text,
)
from .._rawheaders import first
from .api import INTERACTIONS, STATUSES, strict_number
from .chart import MAX_DAYS, daily_chart
from .entries import Entry, system_uuid
from .exports import EXPORTS, Export, RegisterExport, SystemExport
from .reads import Filters, Listed
from .state import RegistryState
from .store import Totals

__all__ = [
    "GLOSSARY",
    "GUIDE_FIELDS",
    "INDEX_MAX_PER_PAGE",
    "INDEX_PER_PAGE",
    "STATIC_DIR",
    "VOCABULARIES",
    "Pager",
    "Pages",
    "page_language",
    "page_numbers",
]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
#: The manifest's closed vocabularies, by the catalog area that names their values.
VOCABULARIES: Mapping[str, tuple[str, ...]] = {
    "interaction": tuple(Interaction),
    "origin": tuple(Origin),
    "status": tuple(SystemStatus),
    "audience": tuple(Audience),
    "ethics": tuple(EthicsStatus),
    "ai_act_role": tuple(AIActRole),
    "risk": tuple(RiskCategory),
    "annex_iii_area": tuple(AnnexIIIArea),
    "automation": tuple(AutomationLevel),
    "publication_category": tuple(PublicationCategory),
}
#: Systems per page of the index unless ``per_page`` says otherwise.
INDEX_PER_PAGE = 50
#: The most systems one index page shows, whatever the API allows: at ~0.5 KB a
#: system, a page stays under 100 KB for people on slow connections.
INDEX_MAX_PER_PAGE = 100
#: Services the index's filter lists by name; beyond, it takes a service's id.
SERVICE_CHOICES = 200


#: The fields "How to read this register" explains, in the order of a system's page:
#: each is named by ``register.<field>`` and explained by ``guide.<field>``.
GUIDE_FIELDS = (
    "purpose",
    "interaction",
    "origin",
    "human_review",
    "status",
    "audience",
    "provider_model",
    "human_oversight",
    "legal_basis",
    "data_sources",
    "recourse",
    "ethics_review",
    "bias_audit",
    "routes",
    "disclosures",
    "decisions",
    "history",
)
#: The glossary's words: ``guide.term_<word>`` defined by ``guide.def_<word>``.
GLOSSARY = (
    "ai_system",
    "model",
    "automated_decision",
    "notice",
    "declaration",
    "ai_act",
    "open_data",
)


def page_language(scope: Scope, default: str) -> tuple[str, bool]:
    """A page's language - ``?lang=``, else ``Accept-Language``, else ``default``
    (else the catalog's own default) - and whether ``Accept-Language`` decided it
    (then the answer varies with it)."""
    query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
    accept = first(scope.get("headers", ()), b"accept-language")
    asked = query.get("lang") or None
    return choose_catalog_language(asked, default, accept.decode("latin-1") if accept else None)


def vars_of(filters: Filters) -> dict[str, str | None]:
    """A filter's values as the index's query parameters."""
    return {
        "q": filters.query,
        "service": filters.service,
        "interaction": filters.interaction,
        "status": filters.status,
    }


def page_numbers(page: int, pages: int, around: int = 2) -> list[int | None]:
    """The page numbers a pagination bar shows: the first, the last, and ``around``
    on each side of ``page``; ``None`` where numbers are left out."""
    shown = sorted({1, pages, *range(max(1, page - around), min(pages, page + around) + 1)})
    numbers: list[int | None] = []
    for number in shown:
        if numbers and number - (numbers[-1] or 0) > 1:
            numbers.append(None)
        numbers.append(number)
    return numbers


@dataclass(frozen=True, slots=True)
class Pager:
    """One page of a list, and the query that keeps its filters on every page link."""

    page: int
    pages: int
    params: Mapping[str, str]

    @property
    def numbers(self) -> list[int | None]:
        return page_numbers(self.page, self.pages)

    def query(self, number: int) -> dict[str, str]:
        return {**self.params, **({"page": str(number)} if number > 1 else {})}


@dataclass(frozen=True, slots=True)
class Shown:
    """A manifest text as shown on a page: its value and, if not the page's, its language."""

    value: str
    lang: str | None
    dir: str | None


def _shown_html(value: Shown) -> Markup:
    """A manifest string in a ``span`` with its own ``lang`` (and ``dir``) if any."""
    if value.lang is None:
        return escape(value.value)
    if value.dir is None:
        return Markup('<span lang="{}">{}</span>').format(value.lang, value.value)
    return Markup('<span lang="{}" dir="{}">{}</span>').format(value.lang, value.dir, value.value)


@dataclass(frozen=True, slots=True)
class Card:
    """One system as a list of the pages shows it, from the read table or from a
    parsed manifest alike."""

    key: tuple[str, str]
    path: str
    name: Text | None
    purpose: Text | None
    service_name: str
    default_language: str
    interaction: str
    status: str

    @classmethod
    def listed(cls, item: Listed) -> Card:
        card = item.card
        summary = card["summary"]
        return cls(
            item.key,
            summary["url"],
            card["texts"]["name"],
            card["texts"]["purpose"],
            card["service_name"],
            card["default_language"],
            summary["interaction"],
            summary["status"],
        )

    @classmethod
    def entry(cls, entry: Entry) -> Card:
        system = entry.system
        return cls(
            entry.key,
            entry.path,
            system.name,
            system.purpose,
            entry.manifest.service.name,
            entry.manifest.service.default_language,
            system.interaction.value,
            str(system.status),
        )


class Pages:
    """The HTML endpoints, bound to one registry and the exports it serves (which
    every page's footer and each system's page link)."""

    def __init__(self, registry: RegistryState, exports: Sequence[Export] = EXPORTS) -> None:
        self.registry = registry
        self.register_exports = [e for e in exports if isinstance(e, RegisterExport)]
        self.system_exports = [e for e in exports if isinstance(e, SystemExport)]
        self.env = Environment(
            loader=FileSystemLoader(HERE / "templates"),
            autoescape=select_autoescape(default=True, default_for_string=True),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )

    def _render(
        self,
        request: Request,
        template: str,
        context: Mapping[str, Any],
        *,
        status: int = 200,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        asked = request.query_params.get("lang")
        lang, negotiated = page_language(request.scope, self.registry.settings.language)
        t = catalogs()[lang]
        # A language asked for in the address is kept by every link; one chosen by
        # Accept-Language is chosen again on the next page.
        kept = lang if asked and best_match(asked, (lang,)) else None
        root: str = request.scope.get("root_path", "")

        def link(path: str, **params: str | None) -> str:
            query = {k: v for k, v in params.items() if v}
            if kept and "lang" not in params:
                query["lang"] = kept
            return root + path + ("?" + urlencode(query) if query else "")

        def written_in(language: str, value: str) -> Shown:
            """``value``, marked with its language and direction where not the page's."""
            if best_match(language, (lang,)):
                return Shown(value, None, None)
            written = direction(language)
            return Shown(value, language, None if written == t.dir else written)

        def text(source: Manifest | str, value: Text | None) -> Shown | None:
            """``value`` in the page's language, else in ``source``'s default
            language (a manifest's, or the one given)."""
            if value is None:
                return None
            default = source if isinstance(source, str) else source.service.default_language
            language = best_match(lang, value) or default
            if language not in value:
                language = next(iter(value))
            return written_in(language, value[language])

        def plain(source: Manifest | str, value: str) -> Shown:
            """A plain string of a manifest (a name), in its service's default language."""
            default = source if isinstance(source, str) else source.service.default_language
            return written_in(default, value)

        def words(key: str, **values: Shown) -> Markup:
            """A text of the catalog around manifest strings, each marked with its
            language where it is not the page's."""
            html = {name: str(_shown_html(value)) for name, value in values.items()}
            return Markup(fill(str(escape(t(key))), html))

        # Only the query changes: a link relative to this very page, so a crafted
        # path such as //evil.example/ can never become a link to another site.
        others = [(k, v) for k, v in parse_qsl(request.url.query) if k != "lang"]
        languages = language_options(
            catalogs(), lang, lambda code: "?" + urlencode([*others, ("lang", code)])
        )
        page = self.env.get_template(template).render(
            {
                "lang": lang,
                "dir": t.dir,
                "languages": languages,
                "kept_language": kept,
                "unlocalised_url": "?" + urlencode(others),
                "t": t,
                "link": link,
                "text": text,
                "plain": plain,
                "words": words,
                "pages_in_words": lambda manifest, system_id: pages_in_words(
                    t, manifest.routes, system_id
                ),
                "vocabularies": VOCABULARIES,
                "static": lambda name: f"{root}/static/{name}",
                "operator": self.registry.settings.operator,
                "register_exports": self.register_exports,
                **context,
            }
        )
        response = HTMLResponse(page, status_code=status, headers=headers)
        response.headers["Content-Language"] = lang
        if negotiated:
            response.headers.append("Vary", "Accept-Language")
        return response

    def _per_page(self, asked: str | None) -> int:
        """The index's page size: what was asked within bounds, else the default."""
        most = min(self.registry.settings.max_per_page, INDEX_MAX_PER_PAGE)
        return strict_number(asked, most) or min(INDEX_PER_PAGE, most)

    def _paging(self, request: Request, count: int) -> tuple[int, int, int, dict[str, str]]:
        """The page shown of ``count`` items, the page size, the number of pages and the
        size to keep in page links. Numbers are read as the API reads them (ASCII
        digits); a page ignores what it cannot read, and past the end shows the last."""
        params = request.query_params
        per_page = self._per_page(params.get("per_page"))
        pages = max(1, -(-count // per_page))
        page = min(strict_number(params.get("page"), 10**9) or 1, pages)
        kept = {"per_page": str(per_page)} if per_page != INDEX_PER_PAGE else {}
        return page, per_page, pages, kept

    async def index(self, request: Request) -> Response:
        params = request.query_params
        service = params.get("service") or None
        interaction = (
            params.get("interaction") if params.get("interaction") in INTERACTIONS else None
        )
        status = params.get("status") if params.get("status") in STATUSES else None
        query = (params.get("q") or "").strip()[:200] or None
        filters = Filters(service=service, interaction=interaction, status=status, query=query)
        reads = await self.registry.reads()
        per_page = self._per_page(params.get("per_page"))
        asked = strict_number(params.get("page"), 10**9) or 1
        found = await reads.page(filters, offset=(asked - 1) * per_page, limit=per_page)
        page, per_page, pages, kept = self._paging(request, found.total)
        if page != asked:  # past the end: the last page
            found = await reads.page(filters, offset=(page - 1) * per_page, limit=per_page)
        kept.update({k: v for k, v in vars_of(filters).items() if v})
        totals = await reads.totals([item.key for item in found.items])
        choices = await reads.service_choices(SERVICE_CHOICES)
        return self._render(
            request,
            "index.html",
            {
                "entries": [Card.listed(item) for item in found.items],
                "found": found.total,
                "pager": Pager(page, pages, kept),
                "totals": totals,
                "empty_totals": Totals(),
                # A register of many services filters by a typed identifier: a list
                # of every one would outweigh the page.
                "services": choices,
                "selected": {
                    "service": service or "",
                    "interaction": interaction or "",
                    "status": status or "",
                    "q": query or "",
                },
                "filtered": bool(service or interaction or status or query),
            },
        )

    async def _entry(self, request: Request) -> Entry | None:
        store, _reads = await self.registry.public()
        service, system = request.path_params["service"], request.path_params["system"]
        for published in await store.published(service):
            for candidate in published.manifest.systems:
                if candidate.id == system:
                    return Entry(published, candidate)
        return None

    async def system(self, request: Request) -> Response:
        entry = await self._entry(request)
        if entry is None:
            return await self.error(request, 404, {})
        store, _reads = await self.registry.public()
        totals = (await store.totals(entry.service_id)).get(entry.key, Totals())
        # The chart's days only, up to tomorrow by the registry's clock.
        now = datetime.fromtimestamp(self.registry.settings.clock(), UTC)
        until = (now + timedelta(days=1)).date()
        daily = await store.daily(
            entry.service_id, entry.system.id, until=until.isoformat(), last=MAX_DAYS
        )
        # Only how many decisions per month: never a reference.
        months = await store.decision_months(entry.service_id, entry.system.id)
        changes = await store.changes(entry.service_id, entry.system.id)
        return self._render(
            request,
            "system.html",
            {
                "entry": entry,
                "manifest": entry.manifest,
                "system": entry.system,
                "uuid": system_uuid(entry),
                "totals": totals,
                "chart": daily_chart(daily, until=until, earliest=totals.first_day),
                "decision_months": list(reversed(months)),
                "changes": list(reversed(changes)),
                "system_exports": self.system_exports,
            },
        )

    async def service(self, request: Request) -> Response:
        service: str = request.path_params["service"]
        store, _reads = await self.registry.public()
        found = await store.published(service)
        if not found:
            return await self.error(request, 404, {})
        published = found[0]
        versions = await store.versions(service)
        systems = published.manifest.systems
        page, per_page, pages, kept = self._paging(request, len(systems))
        return self._render(
            request,
            "service.html",
            {
                "published": published,
                "manifest": published.manifest,
                "entries": [
                    Card.entry(Entry(published, s))
                    for s in systems[(page - 1) * per_page : page * per_page]
                ],
                "found": len(systems),
                "pager": Pager(page, pages, kept),
                "totals": await store.totals(service),
                "empty_totals": Totals(),
                "versions": list(reversed(versions)),
            },
        )

    async def guide(self, request: Request) -> Response:
        """How to read the register: each field, how to contest, a glossary."""
        return self._render(request, "guide.html", {"fields": GUIDE_FIELDS, "glossary": GLOSSARY})

    async def error(self, request: Request, status: int, headers: Mapping[str, str]) -> Response:
        return self._render(
            request, "error.html", {"status": status}, status=status, headers=headers
        )
