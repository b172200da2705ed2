"""The register in other publication formats: CSV for spreadsheets, and the field
layouts of two public-sector standards so that entries can be copied into the
Dutch Algoritmeregister or a UK ATRS record without retyping. Facts the manifest
does not hold are ``null``, never guessed.

``EXPORTS`` is the one table of formats: the API's routes, the OpenAPI document,
the links of the pages all iterate it, so a new format is one ``Export`` entry,
its link's words in the catalog (``export.<name>``) and its test. The render
functions are pure: the route reads what they need from the store and hands it
over as ``SystemData`` or ``RegisterData``.
"""

from __future__ import annotations

import csv
import importlib.util
import io
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .._model import Interaction, Origin, PublicationCategory, RiskCategory, System, Text
from .changes import ChangeKind, from_json
from .entries import Change, Entry, system_uuid
from .reads import Listed
from .store import Totals

__all__ = [
    "CSV_COLUMNS",
    "EXPORTS",
    "Export",
    "RegisterData",
    "RegisterExport",
    "SystemData",
    "SystemExport",
    "XlsxBook",
    "algoritmeregister",
    "atrs",
    "eurocities",
    "system_row",
    "systems_csv",
    "systems_ndjson",
    "xlsx_available",
]


@dataclass(frozen=True, slots=True)
class SystemData:
    """What an export of one system is made from."""

    entry: Entry
    #: The language of the texts: one of the manifest's, its default unless asked.
    language: str
    #: The system's register page, as an absolute URL.
    url: str
    totals: Totals
    changes: Sequence[Change]


@dataclass(frozen=True, slots=True)
class RegisterData:
    """One chunk of what an export of the register (the systems the filters chose,
    in register order) is made from. The export is streamed: its ``render`` is
    called once per chunk, at least once (with no system, for an empty register),
    and its texts are sent one after the other."""

    #: The chunk's systems as lists show them (``listing.card``), not parsed manifests.
    systems: Sequence[Listed]
    #: Disclosure totals of the chunk's systems.
    totals: Mapping[tuple[str, str], Totals]
    #: Where absolute links point (the configured public address, or the request's).
    base_url: str
    #: The first chunk: where a header goes.
    first: bool = True


@dataclass(frozen=True, slots=True, kw_only=True)
class Export:
    """One publication format: what its route, its OpenAPI operation and its link need.

    ``render`` returns a ``str`` (sent as UTF-8) or a JSON value; ``schema`` names
    the JSON Schema of a JSON answer (``schemas/<schema>.schema.json``), which the
    OpenAPI document refers to and the tests check the answers against.
    """

    #: The last segment of its address, such as ``atrs.json``; its link's words are
    #: the catalog's ``export.<name>``.
    name: str
    media_type: str
    summary: str
    operation_id: str
    description: str = "The entry."
    #: Offered as a download under this name (``Content-Disposition: attachment``).
    filename: str | None = None
    schema: str | None = None

    @property
    def path(self) -> str:
        """Its route, as OpenAPI writes it."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True, kw_only=True)
class SystemExport(Export):
    """A format of one system's entry: ``/v1/systems/{service}/{system}/{name}``,
    linked from the system's page; texts in the language ``?lang=`` asks for."""

    render: Callable[[SystemData], object]

    @property
    def path(self) -> str:
        return f"/v1/systems/{{service}}/{{system}}/{self.name}"

    def href(self, entry: Entry) -> str:
        return f"/v1{entry.path}/{self.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class RegisterExport(Export):
    """A format of the whole register: ``/v1/{name}``, with the list's filters,
    linked from every page's footer."""

    render: Callable[[RegisterData], str]

    @property
    def path(self) -> str:
        return f"/v1/{self.name}"

    def href(self) -> str:
        return self.path


_ISO_639_3 = {
    "fr": "fra", "en": "eng", "nl": "nld", "oc": "oci", "es": "spa", "ar": "ara",
    "de": "deu", "it": "ita", "ca": "cat", "pt": "por",
}  # fmt: skip

_NL_STATUS = {
    "in-use": "In gebruik",
    "in-development": "In ontwikkeling",
    "retired": "Buiten gebruik",
}
_NL_CATEGORY = {
    PublicationCategory.HIGH_RISK_AI: "Hoog-risico AI-systemen",
    PublicationCategory.IMPACTFUL: "Impactvolle algoritmes",
    PublicationCategory.OTHER: "Overige algoritmes",
}
_UK_PHASE = {"in-use": "Production", "in-development": "Pre-deployment", "retired": "Retired"}

_INTERACTION_EN = {
    Interaction.CHATBOT: "People converse with it (chatbot).",
    Interaction.CONTENT_GENERATION: "It generates content that people read, see or hear.",
    Interaction.DECISION_SUPPORT: "It supports decisions that people take.",
    Interaction.AUTOMATED_DECISION: "It takes or prepares decisions automatically.",
    Interaction.TRANSLATION: "It translates content.",
    Interaction.OTHER: "Other use.",
}
_ORIGIN_EN = {
    Origin.AI_ORIGINATED: "What people see is generated by AI.",
    Origin.AI_MODIFIED: "What people see is modified by AI.",
    Origin.MACHINE_GENERATED: "What people see is produced by an automated process.",
    Origin.NONE: "Its output is not shown to people directly.",
}

CSV_COLUMNS = (
    "service", "system", "uuid", "name", "service_name", "operator", "interaction", "origin",
    "status", "audience", "human_review", "reviewed_by", "provider", "model", "purpose",
    "legal_basis", "recourse", "ethics_review", "ethics_review_date", "bias_audit_date",
    "first_published", "last_changed", "versions", "disclosures", "register_page",
)  # fmt: skip


def _text(entry: Entry, text: Text | None, language: str) -> str | None:
    return entry.manifest.text(text, language)


def _cell(value: object) -> str:
    """A spreadsheet never evaluates a cell: texts starting with = + - @ are quoted."""
    if value is None:
        return ""
    text = str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


def _card_text(card: Mapping[str, Any], name: str) -> str | None:
    """A text of the card in its service's default language."""
    text: Mapping[str, str] | None = card["texts"][name]
    return None if text is None else text.get(card["default_language"])


def system_row(listed: Listed, totals: Totals, base_url: str) -> tuple[object, ...]:
    """One system as the CSV and spreadsheet downloads show it (``CSV_COLUMNS``),
    texts in its service's default language."""
    card = listed.card
    summary = card["summary"]
    ethics = card["ethics_review"]
    changes = from_json(card["history"])
    return (
        listed.service,
        listed.system,
        summary.get("uuid"),
        _card_text(card, "name"),
        card["service_name"],
        card["operator"],
        summary["interaction"],
        summary["origin"],
        summary["status"],
        summary["audience"],
        "yes" if summary["human_review"]["reviewed"] else "no",
        summary["human_review"]["by"],
        summary["provider"],
        summary["model"],
        _card_text(card, "purpose"),
        _card_text(card, "legal_basis"),
        _card_text(card, "recourse"),
        ethics["status"] if ethics else None,
        ethics["date"] if ethics else None,
        card["bias_audit_date"],
        _first_published(changes),
        _last_changed(changes),
        len(changes),
        totals.count,
        base_url + summary["url"],
    )


def systems_csv(data: RegisterData) -> str:
    """One row per system, texts in each service's default language (the header
    with the first chunk)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    if data.first:
        writer.writerow(CSV_COLUMNS)
    for listed in data.systems:
        row = system_row(listed, data.totals.get(listed.key, Totals()), data.base_url)
        writer.writerow([_cell(v) for v in row])
    return out.getvalue()


def xlsx_available() -> bool:
    """Whether the spreadsheet download can be made (``pip install 'ai-disclosure[xlsx]'``)."""
    return importlib.util.find_spec("openpyxl") is not None


class XlsxBook:
    """The CSV download's rows as an XLSX workbook, written row by row (openpyxl's
    write-only mode keeps the rows in a temporary file, not in memory); no cell is
    ever a formula. Its methods block: call them from a worker thread."""

    def __init__(self) -> None:
        from openpyxl import Workbook  # type: ignore[import-untyped]  # the xlsx extra

        self.workbook = Workbook(write_only=True)
        self.sheet = self.workbook.create_sheet("AI systems")
        self.sheet.append(list(CSV_COLUMNS))
        self.finished = False

    def append(self, rows: Iterable[Sequence[object]]) -> None:
        for row in rows:
            self.sheet.append(
                [None if v is None else v if isinstance(v, int) else _cell(v) for v in row]
            )

    def finish(self) -> bytes:
        out = io.BytesIO()
        self.workbook.save(out)
        self.finished = True
        return out.getvalue()

    def discard(self) -> None:
        """Let go of an unfinished book (a download cut short): its sheet's writer
        would otherwise fail when collected."""
        if not self.finished:
            self.sheet.close()
            self.finished = True


def systems_ndjson(data: RegisterData) -> str:
    """One JSON object a line per system (JSON Lines): its summary as the list API
    gives it, its texts in every language of its manifest, the service facts, its
    reviews, its history (the versions that added, changed or removed it) and its
    number of disclosures."""
    lines = []
    for listed in data.systems:
        card = listed.card
        record = {
            **card["summary"],
            "service_name": card["service_name"],
            "operator": card["operator"],
            "default_language": card["default_language"],
            "texts": card["texts"],
            "ethics_review": card["ethics_review"],
            "bias_audit_date": card["bias_audit_date"],
            "history": card["history"],
            "disclosures": data.totals.get(listed.key, Totals()).count,
            "register_page": data.base_url + card["summary"]["url"],
        }
        lines.append(json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n")
    return "".join(lines)


def _email(contact: str) -> str | None:
    return contact.removeprefix("mailto:").split("?")[0] if contact.startswith("mailto:") else None


def _sources(entry: Entry, language: str) -> list[str]:
    return [t for t in (_text(entry, s, language) for s in entry.system.data_sources) if t]


def _assessments(entry: Entry, language: str) -> list[dict[str, Any]]:
    system = entry.system
    found: list[dict[str, Any]] = []
    if system.ethics_review is not None:
        review = system.ethics_review
        found.append(
            {
                "title": "Ethics committee review",
                "status": review.status,
                "date": review.date,
                "reference": review.reference,
                "summary": None,
            }
        )
    if system.bias_audit is not None:
        audit = system.bias_audit
        found.append(
            {
                "title": "Bias audit",
                "status": "completed",
                "date": audit.date,
                "reference": audit.reference,
                "summary": _text(entry, audit.summary, language),
            }
        )
    return found


def _assessments_text(assessments: Sequence[Mapping[str, Any]]) -> str | None:
    parts = []
    for item in assessments:
        details = ", ".join(str(item[k]) for k in ("status", "date", "reference") if item[k])
        parts.append(f"{item['title']}: {details}" if details else str(item["title"]))
    return "; ".join(parts) or None


def _oversight(entry: Entry, language: str) -> str | None:
    system = entry.system
    review = system.human_review
    said = _text(entry, system.human_oversight, language)
    checked = (
        f"Output reviewed by a person before it reaches people ({review.by})."
        if review.reviewed and review.by
        else "Output reviewed by a person before it reaches people."
        if review.reviewed
        else "Output not reviewed by a person before it reaches people."
    )
    return f"{said} {checked}" if said else checked


def _first_published(changes: Sequence[Change]) -> str | None:
    return next((c.date for c in changes if c.change is ChangeKind.ADDED), None)


def _last_changed(changes: Sequence[Change]) -> str | None:
    return changes[-1].date if changes else None


def algoritmeregister(data: SystemData) -> dict[str, Any]:
    """The entry in the field layout of the Algoritmeregister publication standard 1.0."""
    entry, language, url, changes = data.entry, data.language, data.url, data.changes
    system = entry.system
    service = entry.manifest.service
    assessments = _assessments(entry, language)
    impactful = system.interaction in (Interaction.AUTOMATED_DECISION, Interaction.DECISION_SUPPORT)
    category = system.publication_category or (
        PublicationCategory.IMPACTFUL if impactful else PublicationCategory.OTHER
    )
    methods = " ".join(
        p
        for p in (
            f"Model: {system.model}." if system.model else None,
            _INTERACTION_EN[system.interaction],
            _ORIGIN_EN[system.origin],
        )
        if p
    )
    return {
        "name": _text(entry, system.name, language),
        "organization": service.operator,
        "description_short": _text(entry, system.purpose, language),
        "type": "AI-systeem",
        "category": None,
        "status": _NL_STATUS.get(system.status, system.status),
        "begin_date": _first_published(changes),
        "end_date": None,
        "contact_email": _email(service.contact),
        "website": url,
        "publication_category": _NL_CATEGORY[category],
        "url": url,
        "goal": _text(entry, system.purpose, language),
        "proportionality": None,
        "human_intervention": _oversight(entry, language),
        "risks": _text(entry, system.bias_audit.summary, language) if system.bias_audit else None,
        "lawful_basis": _text(entry, system.legal_basis, language),
        "lawful_basis_grouping": None,
        "process_index_url": None,
        "impacttoetsen": _assessments_text(assessments),
        "impacttoetsen_grouping": assessments or None,
        "source_data": "; ".join(_sources(entry, language)) or None,
        "source_data_grouping": None,
        "methods_and_models": methods,
        "provider": system.provider,
        "publiccode": None,
        "objection_procedure": _text(entry, system.recourse, language),
        "lang": _ISO_639_3.get(language.split("-")[0], language),
        "standard_version": "1.0",
        "source_id": f"{entry.service_id}/{system.id}",
        "tags": f"{system.interaction.value},{system.origin.value}",
    }


def atrs(data: SystemData) -> dict[str, Any]:
    """The entry in the field layout of the UK ATRS (tier 1 and tier 2)."""
    entry, language, url, totals, changes = (
        data.entry,
        data.language,
        data.url,
        data.totals,
        data.changes,
    )
    system: System = entry.system
    service = entry.manifest.service
    assessments = _assessments(entry, language)
    external = system.provider if system.provider and system.provider != service.operator else None
    return {
        "standard": "UK Algorithmic Transparency Recording Standard",
        "language": language,
        "tier_1": {
            "name": _text(entry, system.name, language),
            "description": _text(entry, system.purpose, language),
            "website": url,
            "contact_email": _email(service.contact),
            "contact": service.contact,
        },
        "tier_2": {
            "owner_and_responsibility": {
                "organisation_or_department": service.operator,
                "team": service.name,
                "senior_responsible_owner": None,
                "external_supplier": external,
                "third_party_company_registration_number": None,
                "third_party_role": None,
                "procurement_procedure_type": None,
                "third_party_data_access_terms": None,
            },
            "description_and_rationale": {
                "detailed_description": _text(entry, system.purpose, language),
                "scope": _INTERACTION_EN[system.interaction]
                + (" Used by staff only." if system.audience == "internal" else ""),
                "benefit": None,
                "previous_process": None,
                "alternatives_considered": None,
            },
            "decision_making_process": {
                "process_integration": _INTERACTION_EN[system.interaction],
                "provided_information": _ORIGIN_EN[system.origin],
                "frequency_and_scale_of_usage": (
                    f"{totals.count} disclosures recorded from {totals.first_day} "
                    f"to {totals.last_day}."
                    if totals.count
                    else None
                ),
                "human_decisions_and_review": _oversight(entry, language),
                "required_training": None,
                "appeals_and_review": _text(entry, system.recourse, language),
            },
            "tool_specification": {
                "system_architecture": None,
                "phase": _UK_PHASE.get(system.status, system.status),
                "maintenance": None,
                "first_published": _first_published(changes),
                "models": [
                    {
                        "model_name": system.model,
                        "model_version": None,
                        "model_task": _INTERACTION_EN[system.interaction],
                        "model_input": None,
                        "model_output": _ORIGIN_EN[system.origin],
                        "model_architecture": None,
                        "model_performance": None,
                        "datasets": _sources(entry, language),
                        "dataset_purposes": None,
                    }
                ]
                if system.model
                else [],
            },
            "data_specification": {
                "source_data_name": "; ".join(_sources(entry, language)) or None,
                "data_modality": None,
                "data_description": None,
                "data_quantity": None,
                "sensitive_attributes": None,
                "data_completeness_and_representativeness": None,
                "source_data_url": None,
                "data_collection": None,
                "data_cleaning": None,
                "data_sharing_agreements": None,
                "data_access_and_storage": None,
            },
            "risks_mitigations_and_impact_assessments": {
                "impact_assessments": [
                    {
                        "assessment_title": a["title"],
                        "assessment_description": a["summary"] or a["status"],
                        "assessment_date": a["date"],
                        "assessment_reference": a["reference"],
                    }
                    for a in assessments
                ],
                "risks": [],
            },
        },
    }


_ATS_STATUS = {"in-use": "operational", "in-development": "development", "retired": "retired"}
_ATS_RISK = {
    RiskCategory.MINIMAL: "minimal risk",
    RiskCategory.LIMITED: "limited risk",
    RiskCategory.HIGH_RISK: "high risk",
    RiskCategory.PROHIBITED: "unacceptable",
}
#: What the manifest's origin says of the algorithm: AI output is learnt; an
#: automated non-AI process follows rules; output people never see says nothing.
_ATS_ALGORITHM = {
    Origin.AI_ORIGINATED: "self-learning",
    Origin.AI_MODIFIED: "self-learning",
    Origin.MACHINE_GENERATED: "rule-based",
}


def _short(text: str | None, limit: int = 150) -> str | None:
    """At most ``limit`` characters, cut at a word (the standard's short description)."""
    if text is None or len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:") + "…"


def _phone(contact: str) -> str | None:
    return contact.removeprefix("tel:") if contact.startswith("tel:") else None


def eurocities(data: SystemData) -> dict[str, Any]:
    """The entry in the Eurocities Algorithmic Transparency Standard v0.3.1: every
    attribute of the standard, in its order; those the manifest does not hold are
    ``null`` (docs/registry.md names each field's source)."""
    entry, language, url, changes = data.entry, data.language, data.url, data.changes
    system = entry.system
    service = entry.manifest.service
    act = system.ai_act
    methods = ", ".join(p for p in (system.model, system.provider) if p) or None
    return {
        "standard_version": "0.3.1",
        "uuid": system_uuid(entry),
        "lang": language,
        "publication_date": _first_published(changes),
        "last_change_date": _last_changed(changes),
        "revision_date": None,
        "revision_note": None,
        "keywords": None,
        "name": _text(entry, system.name, language),
        "organization": service.operator,
        "department": service.name,
        "country": None,
        "contact_email": _email(service.contact),
        "contact_phone": _phone(service.contact),
        "contact_name": None,
        "description_short": _short(_text(entry, system.purpose, language)),
        "website": url,
        "status": _ATS_STATUS[system.status],
        "remark": None,
        "decision_making_process": None,
        "domain": None,
        "area": None,
        "goal": _text(entry, system.purpose, language),
        "impact": None,
        "risks": _text(entry, system.bias_audit.summary, language) if system.bias_audit else None,
        "risk_category": _ATS_RISK[act.risk] if act and act.risk else None,
        "proportionality": None,
        "lawful_basis": _text(entry, system.legal_basis, language),
        "documentation": None,
        "training_data": None,
        "source_data": "; ".join(_sources(entry, language)) or None,
        "data_bias": None,
        "connected_data_sources": None,
        "DPIA_description": None,
        "DPIA_url": None,
        "description": None,
        "algorithm_type": _ATS_ALGORITHM.get(system.origin),
        "methods_and_models": methods,
        "performance": None,
        "alternatives_considered": None,
        "product_information": None,
        "codebase_url": None,
        "product_page": None,
        "AIA_description": _assessments_text(_assessments(entry, language)),
        "AIA_url": None,
        "type": None,
        "monitoring": None,
        "human_intervention": _oversight(entry, language),
        "objection_procedure": _text(entry, system.recourse, language),
        "rollback": None,
    }


#: Every format of the register, in the order pages list them.
EXPORTS: tuple[Export, ...] = (
    RegisterExport(
        name="systems.csv",
        media_type="text/csv; charset=utf-8",
        render=systems_csv,
        summary="The AI systems of the register as CSV",
        operation_id="systemsCsv",
        description=(
            "One row per system (RFC 4180, UTF-8). `first_published` and `last_changed` are "
            "the days of the first version of the service's manifest that added the system "
            "and of the last one that touched it; `versions`, how many versions touched it."
        ),
        filename="ai-systems.csv",
    ),
    RegisterExport(
        name="systems.ndjson",
        media_type="application/x-ndjson; charset=utf-8",
        render=systems_ndjson,
        summary="The AI systems of the register as JSON lines",
        operation_id="systemsNdjson",
        description=(
            "One JSON object a line per system, texts in every language (JSON Lines). "
            "`history` lists the versions of the service's manifest that added, changed or "
            "removed the system (`version`, `date`, `change`), oldest first."
        ),
        filename="ai-systems.ndjson",
    ),
    SystemExport(
        name="algoritmeregister.json",
        media_type="application/json",
        render=algoritmeregister,
        summary="The entry in the Dutch Algoritmeregister publication layout",
        operation_id="getAlgoritmeregister",
        schema="export-algoritmeregister",
    ),
    SystemExport(
        name="atrs.json",
        media_type="application/json",
        render=atrs,
        summary="The entry in the UK ATRS layout (tiers 1 and 2)",
        operation_id="getAtrs",
        schema="export-atrs",
    ),
    SystemExport(
        name="eurocities.json",
        media_type="application/json",
        render=eurocities,
        summary="The entry in the Eurocities Algorithmic Transparency Standard v0.3.1",
        operation_id="getEurocities",
        schema="export-eurocities",
    ),
)
