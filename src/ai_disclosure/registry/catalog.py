"""The register as a DCAT-AP catalogue (JSON-LD) that open-data portals harvest. Pure.

National portals (data.gouv.fr, data.europa.eu) harvest DCAT-AP: a
``dcat:Catalog`` of ``dcat:Dataset``s, each offered as ``dcat:Distribution``s.
The register is one dataset, "the AI systems of the register", whose
distributions are its register-wide exports (``exports.EXPORTS``: the CSV, the
JSON lines); each system's entry is a dataset of its own, with a distribution
per system export (the Eurocities, Dutch and UK layouts, the JSON entry). The
mandatory properties of DCAT-AP 3.0 are all present: for the catalogue, its
title, description, publisher and datasets; for each dataset, its title and
description; for each distribution, its access URL; every agent has a name.
The systems' datasets name the catalogue with ``@reverse``, so the document is
streamed one chunk of systems after the other, whatever the register's size.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .._catalog import catalogs
from .exports import Export, RegisterExport, SystemExport
from .reads import Listed

__all__ = ["CONTEXT", "LICENCE", "CatalogData", "catalog_frame", "system_dataset"]

#: The JSON-LD context: DCAT, Dublin Core terms, FOAF, vCard.
CONTEXT: dict[str, Any] = {
    "dcat": "http://www.w3.org/ns/dcat#",
    "dct": "http://purl.org/dc/terms/",
    "foaf": "http://xmlns.com/foaf/0.1/",
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}
#: Etalab Open Licence 2.0, the licence French public bodies publish open data under.
LICENCE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence/"
_LANGUAGES = {
    "fr": "http://publications.europa.eu/resource/authority/language/FRA",
    "en": "http://publications.europa.eu/resource/authority/language/ENG",
}
_FORMATS = {
    "text/csv": "http://publications.europa.eu/resource/authority/file-type/CSV",
    "application/json": "http://publications.europa.eu/resource/authority/file-type/JSON",
    "application/x-ndjson": "http://publications.europa.eu/resource/authority/file-type/JSON",
}


def _title(export: Export) -> str:
    """A distribution's title: its link's words in English (``export.<name>``)."""
    return catalogs()["en"](f"export.{export.name}")


@dataclass(frozen=True, slots=True)
class CatalogData:
    """What the catalogue is made from, besides the systems."""

    #: Where absolute links point.
    base_url: str
    #: Who publishes the register (``Settings.operator``).
    operator: str
    exports: Sequence[Export]
    #: When the register last changed (a manifest published, a batch stored).
    modified: datetime | None

    @property
    def base(self) -> str:
        return self.base_url.rstrip("/")


def _date(value: datetime | None) -> dict[str, str] | None:
    if value is None:
        return None
    return {"@value": value.isoformat(), "@type": "xsd:dateTime"}


def _distribution(url: str, media_type: str, title: str, description: str) -> dict[str, Any]:
    media = media_type.split(";")[0].strip()
    return {
        "@id": url,
        "@type": "dcat:Distribution",
        "dct:title": title,
        "dct:description": description,
        "dcat:accessURL": {"@id": url},
        "dcat:downloadURL": {"@id": url},
        "dcat:mediaType": {"@id": f"https://www.iana.org/assignments/media-types/{media}"},
        "dct:format": {"@id": _FORMATS.get(media, _FORMATS["application/json"])},
        "dct:license": {"@id": LICENCE},
    }


def _common(data: CatalogData) -> dict[str, Any]:
    """What every dataset says: publisher, contact point, licence, languages, update."""
    modified = _date(data.modified)
    return {
        "dct:publisher": {"@id": f"{data.base}/#publisher"},
        "dcat:contactPoint": {
            "@type": "vcard:Organization",
            "vcard:fn": data.operator,
            "vcard:hasURL": {"@id": f"{data.base}/"},
        },
        "dct:license": {"@id": LICENCE},
        "dct:language": [{"@id": uri} for uri in _LANGUAGES.values()],
        **({"dct:modified": modified} if modified else {}),
    }


_TITLE = "Registre public des systèmes d’IA / Public register of AI systems"
_SYSTEMS = "\u0000systems\u0000"


def catalog_frame(data: CatalogData) -> tuple[str, str]:
    """The catalogue as JSON-LD text, cut where the systems' datasets go: the text
    before them and after them (each system's dataset, from :func:`system_dataset`,
    goes in between, each preceded by a comma). The catalogue, its publisher and
    the register's dataset with a distribution per register export come first."""
    base = data.base
    catalog_id, register_id = f"{base}/#catalog", f"{base}/#systems"
    modified = _date(data.modified)
    register = {
        "@id": register_id,
        "@type": "dcat:Dataset",
        "dct:title": _TITLE,
        "dct:description": (
            "Every AI system the services declare: purpose, human review, legal basis, "
            "recourse, AI Act and CRPA fields, and how often people were told it was in use."
        ),
        "dcat:keyword": ["intelligence artificielle", "artificial intelligence", "algorithmes"],
        "dcat:landingPage": {"@id": f"{base}/"},
        **_common(data),
        "dcat:distribution": [
            _distribution(f"{base}{e.path}", e.media_type, _title(e), e.summary)
            for e in data.exports
            if isinstance(e, RegisterExport)
        ],
        "@reverse": {"dcat:dataset": {"@id": catalog_id}},
    }
    document = {
        "@context": CONTEXT,
        "@graph": [
            {
                "@id": catalog_id,
                "@type": "dcat:Catalog",
                "dct:title": _TITLE,
                "dct:description": (
                    "The AI systems used by the digital services of "
                    f"{data.operator}, published under Article 50 of the EU AI Act."
                ),
                "dct:publisher": {"@id": f"{base}/#publisher"},
                "foaf:homepage": {"@id": f"{base}/"},
                "dct:license": {"@id": LICENCE},
                "dct:language": [{"@id": uri} for uri in _LANGUAGES.values()],
                **({"dct:modified": modified} if modified else {}),
            },
            {"@id": f"{base}/#publisher", "@type": "foaf:Agent", "foaf:name": data.operator},
            register,
            _SYSTEMS,
        ],
    }
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"))
    before, after = text.split("," + json.dumps(_SYSTEMS))
    return before, after


def system_dataset(data: CatalogData, listed: Listed) -> dict[str, Any]:
    """One system's entry as a dataset of the catalogue: a distribution for its JSON
    entry and one per system export."""
    base = data.base
    card = listed.card
    summary = card["summary"]
    names: dict[str, str] = summary["name"] or {}
    name = names.get(card["default_language"]) or listed.system
    purpose: dict[str, str] | None = card["texts"]["purpose"]
    page, api = base + summary["url"], base + summary["api"]
    return {
        "@id": f"{page}#dataset",
        "@type": "dcat:Dataset",
        "dct:identifier": summary["uuid"],
        "dct:title": f"{name} ({card['service_name']})",
        "dct:description": (purpose or {}).get(card["default_language"]) or name,
        "dcat:landingPage": {"@id": page},
        "dct:isPartOf": {"@id": f"{base}/#systems"},
        **_common(data),
        "dcat:distribution": [
            _distribution(api, "application/json", "JSON", "The system's public entry"),
            *(
                _distribution(f"{api}/{e.name}", e.media_type, _title(e), e.summary)
                for e in data.exports
                if isinstance(e, SystemExport)
            ),
        ],
        "@reverse": {"dcat:dataset": {"@id": f"{base}/#catalog"}},
    }
