"""The JSON API: services write batches and manifests, anyone reads the register."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Protocol

from starlette.requests import Request
from starlette.responses import FileResponse, Response, StreamingResponse

from .._catalog import choose_catalog_language
from .._manifest import ManifestError, parse_manifest
from .._model import Interaction, Manifest, SystemStatus
from .._patterns import DATE
from .._problems import (
    batch_conflict,
    check_manifest_service,
    invalid_batch,
    invalid_manifest,
    manifest_object,
    other_service,
    undeclared_systems,
)
from .._rawheaders import accepted_codings, first
from .._receipts import ReceiptStatus, batch_receipt, manifest_receipt
from .auth import authenticate
from .body import read_json
from .caching import cache_headers, not_modified, validators
from .catalog import CatalogData, catalog_frame, system_dataset
from .entries import Entry, service_json, system_json, system_summary
from .exports import (
    Export,
    RegisterData,
    RegisterExport,
    SystemData,
    SystemExport,
    XlsxBook,
    system_row,
)
from .notices import notice_json
from .problems import Problem
from .reads import Filters, Marker
from .state import RegistryState
from .store import DecisionRecord, Prepared, Store, TokenOwner, Totals, prepare
from .validation import MAX_ERRORS, REFERENCE, FieldError, accepted_range, check_batch

__all__ = ["Api", "json_response"]

Endpoint = Callable[[Request], Awaitable[Response]]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

STATUSES = tuple(s.value for s in SystemStatus)
INTERACTIONS = tuple(i.value for i in Interaction)
# ASCII digits only: str.isdigit() also accepts '²' or '٣', which int() refuses.
_NUMBER = re.compile(r"[0-9]{1,10}")


def json_bytes(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def json_response(
    data: Any, status: int = 200, headers: Mapping[str, str] | None = None
) -> Response:
    return Response(
        json_bytes(data), status_code=status, headers=headers, media_type="application/json"
    )


def export_response(export: Export, body: object) -> Response:
    """An export's answer: text as UTF-8, anything else as the API's JSON."""
    content = body.encode("utf-8") if isinstance(body, str) else json_bytes(body)
    headers = (
        {"Content-Disposition": f'attachment; filename="{export.filename}"'}
        if export.filename
        else None
    )
    return Response(content, headers=headers, media_type=export.media_type)


def _parse(data: dict[str, Any], source: str) -> Manifest:
    return parse_manifest(data, source=source)


def _bad_parameter(name: str, detail: str) -> Problem:
    return Problem(
        400,
        "invalid-query",
        f"query parameter {name!r}: {detail}",
        errors=[{"parameter": name, "detail": detail}],
    )


def _checked(batch: Any, accepted: tuple[str, str]) -> list[FieldError] | Prepared:
    """Every problem of the batch, or the batch as the store writes it (CPU only)."""
    errors = check_batch(batch, accepted)
    return errors if errors else prepare(batch)


def strict_number(raw: str | None, high: int) -> int | None:
    """``raw`` as a whole number from 1 to ``high`` written in ASCII digits, else None."""
    if raw is None or not _NUMBER.fullmatch(raw) or not 1 <= int(raw) <= high:
        return None
    return int(raw)


def _int_param(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return default
    number = strict_number(raw, high)
    if number is None:
        raise _bad_parameter(name, f"must be a whole number from 1 to {high}")
    return number


def _choice(request: Request, name: str, allowed: tuple[str, ...]) -> str | None:
    value = request.query_params.get(name) or None
    if value is not None and value not in allowed:
        raise _bad_parameter(name, f"must be one of {', '.join(allowed)}")
    return value


def _day(request: Request, name: str) -> str | None:
    value = request.query_params.get(name) or None
    if value is None:
        return None
    try:
        if not DATE.fullmatch(value):
            raise ValueError
        date.fromisoformat(value)
    except ValueError:
        raise _bad_parameter(name, "must be a date written YYYY-MM-DD") from None
    return value


def _page(request: Request, max_per_page: int, default: int) -> tuple[int, int]:
    # The default never exceeds the configured maximum: a register set to 20 per
    # page answers 20 when asked for no particular size.
    per_page = _int_param(request, "per_page", min(default, max_per_page), max_per_page)
    page = _int_param(request, "page", 1, 10**9)
    return page, per_page


def _filters(request: Request) -> Filters:
    """What the request narrows the register to (the list's and the register
    exports'); a value out of its vocabulary is a 400."""
    return Filters(
        service=request.query_params.get("service") or None,
        interaction=_choice(request, "interaction", INTERACTIONS),
        status=_choice(request, "status", STATUSES),
        query=request.query_params.get("q") or None,
    )


def _takes_gzip(request: Request) -> bool:
    accepted = first(request.scope["headers"], b"accept-encoding") or b""
    return accepted_codings(accepted, lambda coding: coding == b"gzip") != b"identity"


class Download(Protocol):
    """What a download of the register is sent as (an ``Export`` is one)."""

    @property
    def name(self) -> str: ...
    @property
    def media_type(self) -> str: ...
    @property
    def filename(self) -> str | None: ...


@dataclass(frozen=True, slots=True)
class _Download:
    name: str
    media_type: str
    filename: str | None = None


_CATALOG = _Download("catalog.jsonld", "application/ld+json")
_XLSX = _Download("systems.xlsx", XLSX, "ai-systems.xlsx")


class _File(FileResponse):
    """A file sent in pieces of 1 MiB: a download of tens of megabytes in tens of
    messages through the middleware, not a thousand."""

    chunk_size = 1 << 20


def base_url(request: Request, public_url: str | None = None) -> str:
    """Where absolute links point: the configured public address, else the request's."""
    return (public_url or str(request.base_url)).rstrip("/")


class Api:
    """The ``/v1`` endpoints, bound to one registry."""

    def __init__(self, registry: RegistryState) -> None:
        self.registry = registry
        self.settings = registry.settings

    def _throttle(self, service: str) -> None:
        limiter = self.registry.limiter
        if limiter is None:
            return
        wait = limiter.acquire(service)
        if wait:
            raise Problem(
                429,
                "rate-limited",
                f"service {service!r} sends more than {limiter.rate:g} requests per second; "
                f"retry in {wait} s",
                headers={"Retry-After": str(wait)},
            )

    # --- writes ---------------------------------------------------------------

    async def post_disclosures(self, request: Request) -> Response:
        store = await self.registry.store()
        owner = await authenticate(request, store)
        self._throttle(owner.service)
        batch = await read_json(request, self.settings.max_body_bytes)
        claimed = batch.get("service") if isinstance(batch, dict) else None
        if isinstance(claimed, str) and claimed != owner.service:
            raise other_service(owner.service, f"the batch for {claimed!r}")
        # Off the event loop: the schema takes seconds over thousands of invalid rows.
        checked = await store.workers.run(
            _checked, batch, accepted_range(self.settings.clock()), service=owner.service
        )
        if not isinstance(checked, Prepared):
            raise invalid_batch([e.as_json() for e in checked[: MAX_ERRORS + 1]])
        unknown = await self._unknown_systems(store, owner, batch, checked)
        if unknown is not None:
            return unknown
        result = await store.ingest(batch, checked)
        if result.status == "conflict":
            raise batch_conflict(owner.service, batch["batch_id"])
        status, body = batch_receipt(batch["batch_id"], result.status, result.records)
        return json_response(body, status)

    async def _unknown_systems(
        self, store: Store, owner: TokenOwner, batch: dict[str, Any], prepared: Prepared
    ) -> Response | None:
        """Refuse counts and decisions for systems the service's manifest does not declare."""
        declared = owner.systems
        lists = {"counts": batch["counts"], "decisions": batch.get("decisions", [])}
        named = {row["system"] for rows in lists.values() for row in rows}
        if declared is not None and named <= declared:
            return None
        errors = []
        for field, rows in lists.items():
            for index, row in enumerate(rows):
                system = row["system"]
                if declared is None:
                    detail = (
                        f"service {owner.service!r} has not published its AI manifest; publish "
                        "it first with: ai-disclosure registry push-manifest ai-disclosure.toml"
                    )
                elif system not in declared:
                    known = ", ".join(sorted(declared)) or "none"
                    detail = (
                        f"system {system!r} is not in the published manifest of "
                        f"{owner.service!r} (declared: {known}); add it and run: "
                        "ai-disclosure registry push-manifest"
                    )
                else:
                    continue
                errors.append({"pointer": f"/{field}/{index}/system", "detail": detail})
        if not errors:
            return None
        # A retry of a batch stored before the manifest changed is still just a duplicate.
        stored = await store.stored_batch(owner.service, batch["batch_id"])
        if stored is not None:
            if not stored.replayed_by(prepared.digest()):
                raise batch_conflict(owner.service, batch["batch_id"])
            status, body = batch_receipt(batch["batch_id"], ReceiptStatus.DUPLICATE, stored.records)
            return json_response(body, status)
        raise undeclared_systems(errors, errors[0]["detail"] if declared is None else "")

    async def _owner(self, request: Request, service: str) -> Store:
        """The store, once the request's token is proved to be ``service``'s own
        (401 otherwise, 403 for another service's token) and within its rate."""
        store = await self.registry.store()
        owner = await authenticate(request, store)
        if owner.service != service:
            raise other_service(owner.service, f"not {service!r}")
        self._throttle(owner.service)
        return store

    async def put_manifest(self, request: Request) -> Response:
        service_id: str = request.path_params["service_id"]
        store = await self._owner(request, service_id)
        data = manifest_object(await read_json(request, self.settings.max_body_bytes))
        try:
            # Off the event loop: thousands of systems take seconds to check.
            manifest = await store.workers.run(
                _parse, data, f"PUT /v1/services/{service_id}/manifest", service=service_id
            )
        except ManifestError as exc:
            raise invalid_manifest(exc) from None
        check_manifest_service(manifest, service_id)
        result = await store.publish(service_id, data, manifest)
        status, body = manifest_receipt(service_id, result.version, result.changed)
        return json_response(body, status)

    async def get_decision(self, request: Request) -> Response:
        """A decision of the service, for the service alone: which system took it, when,
        and where the system's public entry is."""
        service: str = request.path_params["service"]
        reference: str = request.path_params["reference"]
        store = await self._owner(request, service)
        if not REFERENCE.fullmatch(reference):
            detail = (
                "must be an opaque case reference: 1 to 128 letters, digits, '.', '_', ':', "
                "'/' or '-', starting with a letter or digit"
            )
            raise Problem(
                400,
                "invalid-query",
                f"path parameter 'reference': {detail}",
                errors=[{"parameter": "reference", "detail": detail}],
            )
        found = await store.decisions_for(service, reference)
        if not found:
            raise Problem(
                404, "not-found", f"service {service!r} logged no decision under this reference"
            )
        published = await store.published(service)
        declared = {s.id for s in published[0].manifest.systems} if published else set()
        base = base_url(request, self.settings.public_url)

        def item(decision: DecisionRecord) -> dict[str, Any]:
            url = (
                f"{base}/systems/{service}/{decision.system}"
                if decision.system in declared
                else None
            )
            return {
                "system": decision.system,
                "reference": decision.reference,
                "at": decision.at,
                "system_entry_url": url,
            }

        body = {**item(found[0]), "decisions": [item(d) for d in found]}
        return json_response(body, headers={"Cache-Control": "no-store"})

    # --- reads ----------------------------------------------------------------

    async def _entry(self, store: Store, service: str, system: str) -> Entry:
        for published in await store.published(service):
            for candidate in published.manifest.systems:
                if candidate.id == system:
                    return Entry(published, candidate)
        raise Problem(404, "not-found", f"no AI system {system!r} in service {service!r}")

    async def list_systems(self, request: Request) -> Response:
        page, per_page = _page(request, self.settings.max_per_page, 50)
        filters = _filters(request)
        reads = await self.registry.reads()
        found = await reads.page(filters, offset=(page - 1) * per_page, limit=per_page)
        totals = await reads.totals([item.key for item in found.items])
        items = [
            {**item.card["summary"], "disclosures": totals.get(item.key, Totals()).count}
            for item in found.items
        ]
        return json_response(
            {"items": items, "page": page, "per_page": per_page, "total": found.total}
        )

    async def get_system(self, request: Request) -> Response:
        store, _reads = await self.registry.public()
        service, system = request.path_params["service"], request.path_params["system"]
        entry = await self._entry(store, service, system)
        totals = (await store.totals(service)).get(entry.key, Totals())
        changes = await store.changes(service, system)
        body = system_json(
            entry, totals=totals, daily=await store.daily(service, system), changes=changes
        )
        return json_response(body)

    async def get_notice(self, request: Request) -> Response:
        """The system's notice in the page's language (``?lang=``), for
        ``<ai-notice src>`` on pages no server of the service touches."""
        store, _reads = await self.registry.public()
        entry = await self._entry(
            store, request.path_params["service"], request.path_params["system"]
        )
        # The page's language decides, never Accept-Language: one answer per URL.
        asked = request.query_params.get("lang") or None
        language, _ = choose_catalog_language(asked, entry.manifest.service.default_language)
        base = base_url(request, self.settings.public_url)
        return json_response(notice_json(entry, language, asked, base))

    async def get_service(self, request: Request) -> Response:
        store, _reads = await self.registry.public()
        service: str = request.path_params["service"]
        found = await store.published(service)
        if not found:
            raise Problem(404, "not-found", f"no published service {service!r}")
        published = found[0]
        totals = await store.totals(service)
        versions = await store.versions(service)
        body = service_json(published)
        body["systems"] = [
            system_summary(Entry(published, s), totals.get((service, s.id), Totals()))
            for s in published.manifest.systems
        ]
        body["versions"] = [
            {"version": v.version, "date": v.created_at.isoformat(), "sha256": v.sha256}
            for v in versions
        ]
        body["manifest"] = dict(published.manifest.raw)
        return json_response(body)

    async def get_stats(self, request: Request) -> Response:
        page, per_page = _page(request, self.settings.max_per_page, 100)
        start, end = _day(request, "from"), _day(request, "to")
        if start and end and start > end:
            raise _bad_parameter("to", "must not be before 'from'")
        store, _reads = await self.registry.public()
        total, rows = await store.stats(
            service=request.query_params.get("service") or None,
            system=request.query_params.get("system") or None,
            start=start,
            end=end,
            offset=(page - 1) * per_page,
            limit=per_page,
        )
        items = [
            {
                "date": r.day,
                "service": r.service,
                "system": r.system,
                "count": r.count,
                "notice_shown": r.notice_shown,
            }
            for r in rows
        ]
        return json_response({"items": items, "page": page, "per_page": per_page, "total": total})

    # --- exports --------------------------------------------------------------

    def export(self, export: Export) -> Endpoint:
        """The endpoint of ``export``: it reads what the format needs, the format renders."""
        if isinstance(export, SystemExport):
            render_system = export.render

            async def system_endpoint(request: Request) -> Response:
                return export_response(export, render_system(await self._system_data(request)))

            return system_endpoint
        if isinstance(export, RegisterExport):
            render_register = export.render

            async def register_endpoint(request: Request) -> Response:
                return await self._register_export(request, export, render_register)

            return register_endpoint
        raise TypeError(f"{export.name}: an export is a SystemExport or a RegisterExport")

    def catalog(self, exports: tuple[Export, ...]) -> Endpoint:
        """The DCAT-AP catalogue of the register and its exports, streamed like a
        register export: one chunk of systems' datasets after the other."""

        async def catalog_endpoint(request: Request) -> Response:
            reads = await self.registry.reads()
            marker = await self.registry.marker()
            base = base_url(request, self.settings.public_url)
            data = CatalogData(base, self.settings.operator, exports, marker.last_modified)

            async def body() -> AsyncIterator[bytes]:
                before, after = catalog_frame(data)
                yield before.encode("utf-8")
                async for chunk in reads.chunks(Filters()):
                    yield "".join(
                        "," + json.dumps(system_dataset(data, listed), ensure_ascii=False)
                        for listed in chunk
                    ).encode("utf-8")
                yield after.encode("utf-8")

            return self._download(request, _CATALOG, marker, body, whole=True)

        return catalog_endpoint

    async def systems_xlsx(self, request: Request) -> Response:
        """The CSV download as a spreadsheet (the ``xlsx`` extra), written row by
        row off the event loop; its memory does not grow with the register."""
        filters = _filters(request)
        reads = await self.registry.reads()
        base = base_url(request, self.settings.public_url)

        async def body() -> AsyncIterator[bytes]:
            book = await asyncio.to_thread(XlsxBook)
            try:
                async for chunk, totals in reads.counted_chunks(filters):
                    rows = [
                        system_row(item, totals.get(item.key, Totals()), base) for item in chunk
                    ]
                    await asyncio.to_thread(book.append, rows)
                workbook = await asyncio.to_thread(book.finish)
            finally:
                book.discard()
            yield workbook

        marker = await self.registry.marker()
        return self._download(request, _XLSX, marker, body, whole=filters == Filters())

    async def _register_export(
        self, request: Request, export: Export, render: Callable[[RegisterData], str]
    ) -> Response:
        """The export streamed chunk by chunk (``Reads.chunks``): its memory does not
        grow with the register, and its first bytes leave before its last are read."""
        filters = _filters(request)  # a bad filter is a 400, before anything is sent
        reads = await self.registry.reads()
        base = base_url(request, self.settings.public_url)

        async def body() -> AsyncIterator[bytes]:
            opening = True
            async for chunk, totals in reads.counted_chunks(filters):
                # Rendered in a worker thread: the loop answers other requests
                # between a whole register's chunks.
                data = RegisterData(chunk, totals, base, opening)
                yield (await asyncio.to_thread(render, data)).encode("utf-8")
                opening = False
            if opening:
                yield render(RegisterData([], {}, base)).encode("utf-8")

        marker = await self.registry.marker()
        return self._download(request, export, marker, body, whole=filters == Filters())

    def _download(
        self,
        request: Request,
        export: Download,
        marker: Marker,
        body: Callable[[], AsyncIterator[bytes]],
        *,
        whole: bool,
    ) -> Response:
        """A download of the register, with its validators. The whole register's is
        sent from its snapshot when there is a usable one (``snapshots``), and a new
        one is built when it is due; a filtered one is streamed live."""
        snapshot = None
        if whole:
            base = base_url(request, self.settings.public_url)
            snapshots = self.registry.snapshots
            snapshot = snapshots.usable(export.name, base, marker)
            snapshots.refresh(export.name, base, marker, body)
        etag, last = validators(snapshot.marker if snapshot else marker, self.settings.clock())
        packed = snapshot is not None and _takes_gzip(request)
        if packed:
            etag = etag[:-1] + '-gzip"'  # another representation, another tag
        headers = cache_headers(etag, last, self.settings.public_max_age)
        if whole:
            # The same address answers gzipped or not, from a file or live.
            headers["Vary"] = "Accept-Encoding"
        if not_modified(request.scope["headers"], etag, last):
            return Response(status_code=304, headers=headers)
        if export.filename:
            headers["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        if snapshot is not None:
            if packed:
                headers["Content-Encoding"] = "gzip"
            path = snapshot.gzipped if packed else snapshot.path
            return _File(path, headers=headers, media_type=export.media_type)
        return StreamingResponse(body(), headers=headers, media_type=export.media_type)

    async def _system_data(self, request: Request) -> SystemData:
        store, _reads = await self.registry.public()
        service, system = request.path_params["service"], request.path_params["system"]
        entry = await self._entry(store, service, system)
        language = request.query_params.get("lang") or entry.manifest.service.default_language
        if language not in entry.manifest.languages:
            raise _bad_parameter(
                "lang",
                f"must be one of the manifest's languages: {', '.join(entry.manifest.languages)}",
            )
        url = base_url(request, self.settings.public_url) + entry.path
        totals = (await store.totals(entry.service_id)).get(entry.key, Totals())
        changes = await store.changes(entry.service_id, entry.system.id)
        return SystemData(entry, language, url, totals, changes)
