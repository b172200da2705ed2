"""The public register as server-rendered HTML: a searchable list, one page per
system (the address every notice links to) and one per service. Every manifest
string goes through Jinja's autoescaping; pages carry no script and no inline
style, so they work under ``default-src 'self'``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from .._model import Manifest, Text
from .api import INTERACTIONS, STATUSES, strict_number
from .chart import MAX_DAYS, daily_chart
from .entries import Entry, system_uuid
from .exports import EXPORTS, Export, RegisterExport, SystemExport
from .i18n import Translator, language_of
from .reads import Filters, Listed
from .state import RegistryState
from .store import Totals

__all__ = ["INDEX_MAX_PER_PAGE", "INDEX_PER_PAGE", "STATIC_DIR", "Pager", "Pages", "page_numbers"]

HERE = Path(__file__).resolve().parent
STATIC_DIR = HERE / "static"
_RTL = frozenset(("ar", "he", "fa", "ur", "yi", "ps", "ckb"))
#: Systems per page of the index unless ``per_page`` says otherwise.
INDEX_PER_PAGE = 50
#: The most systems one index page shows, whatever the API allows: at ~0.5 KB a
#: system, a page stays under 100 KB for people on slow connections.
INDEX_MAX_PER_PAGE = 100
#: Services the index's filter lists by name; beyond, it takes a service's id.
SERVICE_CHOICES = 200


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
        lang = language_of(request.query_params.get("lang"))
        t = Translator(lang)
        root: str = request.scope.get("root_path", "")

        def link(path: str, **params: str | None) -> str:
            query = {k: v for k, v in params.items() if v}
            if lang == "en":
                query["lang"] = "en"
            return root + path + ("?" + urlencode(query) if query else "")

        def text(source: Manifest | str, value: Text | None) -> Shown | None:
            """``value`` in the page's language, else in ``source``'s default
            language (a manifest's, or the one given)."""
            if value is None:
                return None
            default = source if isinstance(source, str) else source.service.default_language
            language = lang if lang in value else default
            if language not in value:
                language = next(iter(value))
            own = None if language == lang else language
            direction = "rtl" if language.split("-")[0] in _RTL else None
            return Shown(value[language], own, direction)

        other = "fr" if lang == "en" else "en"
        other_query = {k: v for k, v in request.query_params.items() if k != "lang"}
        if other == "en":
            other_query["lang"] = "en"
        # Only the query changes: a link relative to this very page, so a crafted
        # path such as //evil.example/ can never become a link to another site.
        other_url = "?" + urlencode(other_query) if other_query else "?"
        page = self.env.get_template(template).render(
            {
                "lang": lang,
                "other_lang": other,
                "other_url": other_url,
                "t": t,
                "link": link,
                "text": text,
                "static": lambda name: f"{root}/static/{name}",
                "operator": self.registry.settings.operator,
                "register_exports": self.register_exports,
                **context,
            }
        )
        response = HTMLResponse(page, status_code=status, headers=headers)
        response.headers["Content-Language"] = lang
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
        routes = [r.path for r in entry.manifest.routes if entry.system.id in r.systems]
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
                "routes": routes,
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

    async def error(self, request: Request, status: int, headers: Mapping[str, str]) -> Response:
        return self._render(
            request, "error.html", {"status": status}, status=status, headers=headers
        )
