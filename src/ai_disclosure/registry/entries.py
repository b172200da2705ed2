"""The public entry of each AI system, shared by the JSON API, the exports and the
pages so that they can never disagree about what the register says."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .._model import Manifest, System, Text
from .changes import Change, history_json
from .store import DayCount, Published, Totals

__all__ = [
    "Change",
    "Entry",
    "service_json",
    "system_json",
    "system_summary",
    "system_uuid",
    "text_json",
]

#: The namespace of the UUIDs the register gives systems that declare none.
UUID_NAMESPACE = uuid.UUID("6f1c3a52-8e0d-5b7a-9c4e-2d1f0a9b8c7e")


@dataclass(frozen=True, slots=True)
class Entry:
    """One AI system as published by its service's current manifest."""

    published: Published
    system: System

    @property
    def manifest(self) -> Manifest:
        return self.published.manifest

    @property
    def service_id(self) -> str:
        return self.published.manifest.service.id

    @property
    def key(self) -> tuple[str, str]:
        return (self.service_id, self.system.id)

    @property
    def path(self) -> str:
        return f"/systems/{self.service_id}/{self.system.id}"


def system_uuid(entry: Entry) -> str:
    """The system's own ``uuid``, else one derived from its service and system ids:
    the same in every answer, export and database, for as long as the ids stay."""
    declared = entry.system.uuid
    return declared or str(uuid.uuid5(UUID_NAMESPACE, f"{entry.service_id}/{entry.system.id}"))


def text_json(text: Text | None) -> dict[str, str] | None:
    return None if text is None else dict(text)


def system_summary(entry: Entry, totals: Totals | None = None) -> dict[str, Any]:
    """What a list of systems shows about each one."""
    system = entry.system
    summary: dict[str, Any] = {
        "service": entry.service_id,
        "system": system.id,
        "uuid": system_uuid(entry),
        "name": text_json(system.name),
        "interaction": system.interaction.value,
        "origin": system.origin.value,
        "status": system.status,
        "audience": system.audience,
        "human_review": {"reviewed": system.human_review.reviewed, "by": system.human_review.by},
        "provider": system.provider,
        "model": system.model,
        "url": entry.path,
        "api": f"/v1{entry.path}",
    }
    if totals is not None:
        summary["disclosures"] = totals.count
    return summary


def _routes(manifest: Manifest, system_id: str) -> list[str]:
    return [route.path for route in manifest.routes if system_id in route.systems]


def service_json(published: Published) -> dict[str, Any]:
    service = published.manifest.service
    return {
        "id": service.id,
        "name": service.name,
        "operator": service.operator,
        "contact": service.contact,
        "default_language": service.default_language,
        "languages": list(service.languages),
        "register_url": service.register_url,
        "description": text_json(service.description),
        "manifest_version": published.version,
        "updated_at": published.updated_at.isoformat(),
    }


def system_json(
    entry: Entry,
    *,
    totals: Totals,
    daily: Sequence[DayCount],
    changes: Sequence[Change],
) -> dict[str, Any]:
    """The full public entry: everything the manifest says, what it implies, and counts."""
    system = entry.system
    ethics = system.ethics_review
    audit = system.bias_audit
    entry_json = system_summary(entry)
    entry_json.update(
        {
            "purpose": text_json(system.purpose),
            "human_oversight": text_json(system.human_oversight),
            "legal_basis": text_json(system.legal_basis),
            "data_sources": [dict(source) for source in system.data_sources],
            "recourse": text_json(system.recourse),
            "register_url": entry.manifest.register_url_for(system)
            if system.register_url or entry.manifest.service.register_url
            else None,
            "ethics_review": None
            if ethics is None
            else {"status": ethics.status, "date": ethics.date, "reference": ethics.reference},
            "bias_audit": None
            if audit is None
            else {
                "date": audit.date,
                "reference": audit.reference,
                "summary": text_json(audit.summary),
            },
            "ai_act": None
            if (act := system.ai_act) is None
            else {
                "role": act.role,
                "risk": act.risk,
                "annex_iii_area": act.annex_iii_area,
                "public_interest_text": act.public_interest_text,
                "editorial_responsibility": act.editorial_responsibility,
                "review_exception": act.relies_on_review_exception,
            },
            "crpa": None
            if (crpa := system.crpa) is None
            else {"automation": crpa.level, "decisions_per_year": crpa.decisions_per_year},
            "publication_category": system.publication_category,
            "disclosure": {
                "ietf_mode": system.ietf_mode,
                "w3c_value": system.w3c_value.value,
                "iptc_digital_source_type": system.iptc_digital_source_type,
                "eu_icon": system.eu_icon.value,
            },
            "routes": _routes(entry.manifest, system.id),
            "service_info": service_json(entry.published),
            "history": history_json(changes),
            "counts": {
                "total": totals.count,
                "notice_shown": totals.notice_shown,
                "first_day": totals.first_day,
                "last_day": totals.last_day,
                "daily": [
                    {"date": d.day, "count": d.count, "notice_shown": d.notice_shown} for d in daily
                ],
            },
        }
    )
    return entry_json
