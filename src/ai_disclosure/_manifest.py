"""Load a manifest from TOML or JSON, check it, and build the model.

Checking runs in two passes - the JSON Schema, then cross-checks the schema
cannot express (unknown or duplicate ids, missing default-language text) - and
reports every problem found, each with the file, the JSON pointer of the field
and what to do about it, in one ``ManifestError``.
"""

from __future__ import annotations

import json
import os
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from jsonschema import ValidationError

from ._errors import AIDisclosureError
from ._model import (
    AIAct,
    AIActRole,
    AnnexIIIArea,
    Audience,
    Automation,
    AutomationLevel,
    BiasAudit,
    EthicsReview,
    EthicsStatus,
    HumanReview,
    Interaction,
    Manifest,
    Origin,
    PublicationCategory,
    RiskCategory,
    Route,
    Service,
    System,
    SystemStatus,
    Text,
)
from ._schemas import validator

__all__ = ["ManifestError", "ManifestProblem", "Problem", "load_manifest", "parse_manifest"]

ManifestSource = str | os.PathLike[str] | Mapping[str, Any] | Manifest

_TEXT_FIELDS = ("name", "purpose", "human_oversight", "legal_basis", "recourse")


@dataclass(frozen=True, slots=True)
class ManifestProblem:
    """One thing wrong with a manifest: where (a JSON pointer) and what."""

    pointer: str
    message: str

    def __str__(self) -> str:
        return f"{self.pointer or '/'}: {self.message}"


#: The former name of ``ManifestProblem``, kept because it is exported as
#: ``ai_disclosure.Problem``. The registry's RFC 9457 error
#: (``registry.problems.Problem``) is another thing.
Problem = ManifestProblem


class ManifestError(AIDisclosureError, ValueError):
    """A manifest could not be loaded; ``problems`` lists every reason found."""

    def __init__(self, source: str, problems: Sequence[ManifestProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        lines = [f"{source}: {count} problem{'s' if count != 1 else ''} in the AI manifest"]
        lines += [f"  {source}#{p}" for p in self.problems]
        super().__init__("\n".join(lines))


def load_manifest(source: ManifestSource) -> Manifest:
    """Read, check and build a manifest from a ``.toml``/``.json`` path or a mapping.

    A ``Manifest`` is returned as it is. Raises ``ManifestError`` listing every
    problem found, each naming the file, the field and the fix.
    """
    if isinstance(source, Manifest):
        return source
    if isinstance(source, Mapping):
        return parse_manifest(source, source="<manifest>")
    path = Path(source)
    return parse_manifest(_read(path), source=str(path))


def _read(path: Path) -> Mapping[str, Any]:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise ManifestError(
            str(path), [ManifestProblem("", f"cannot read the file: {reason}")]
        ) from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = ManifestProblem("", f"not UTF-8 text (byte {exc.start}); save the file as UTF-8")
        raise ManifestError(str(path), [problem]) from None
    suffix = path.suffix.lower()
    if suffix == ".toml":
        try:
            return tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ManifestError(str(path), [ManifestProblem("", f"invalid TOML: {exc}")]) from None
    if suffix == ".json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            problem = ManifestProblem(
                "", f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
            )
            raise ManifestError(str(path), [problem]) from None
        if not isinstance(data, Mapping):
            problem = ManifestProblem(
                "", "the manifest must be a JSON object with 'service' and 'systems'"
            )
            raise ManifestError(str(path), [problem])
        return data
    problem = ManifestProblem(
        "", f"unknown file type {suffix or '(none)'!r}; name it .toml or .json"
    )
    raise ManifestError(str(path), [problem])


def parse_manifest(data: Mapping[str, Any], *, source: str = "<manifest>") -> Manifest:
    """Check ``data`` (already parsed TOML/JSON) and build the ``Manifest``."""
    problems = [_schema_problem(e) for e in _schema_errors(data)]
    # Cross-checks run even on a schema-invalid manifest, so one run lists everything.
    problems += _cross_check(data)
    if problems:
        raise ManifestError(source, problems)
    return _build(data, source)


# --- schema errors, made readable ------------------------------------------


def _schema_errors(data: Mapping[str, Any]) -> list[ValidationError]:
    errors = validator("manifest").iter_errors(data)
    return sorted(errors, key=lambda e: [str(p) for p in e.absolute_path])


def _pointer(parts: Sequence[object]) -> str:
    return "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in parts)


def _schema_problem(error: ValidationError) -> ManifestProblem:
    where = list(error.absolute_path)
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    instance: Any = error.instance
    validator_value: Any = error.validator_value
    hint = schema.get("description")
    kind = error.validator
    if kind == "required":
        missing = str(error.message).split("'")[1]
        field = _pointer([*where, missing])
        return ManifestProblem(field, f"required field {missing!r} is missing; add it")
    if kind == "additionalProperties":
        allowed = ", ".join(sorted(schema.get("properties", {})))
        extra = sorted(set(instance) - set(schema.get("properties", {})))
        unknown = ", ".join(repr(e) for e in extra)
        at = _pointer([*where, extra[0]]) if len(extra) == 1 else _pointer(where)
        return ManifestProblem(
            at, f"unknown field {unknown}; check the spelling (allowed: {allowed})"
        )
    if kind == "enum":
        options = ", ".join(repr(o) for o in validator_value)
        return ManifestProblem(
            _pointer(where), f"{error.instance!r} is not allowed; use one of {options}"
        )
    if kind == "type":
        expected = error.validator_value
        got = type(error.instance).__name__
        fix = f"expected {_type_name(expected)}, found {got}"
        if got in ("date", "datetime"):
            fix += '; quote dates in TOML: date = "2026-03-14"'
        return ManifestProblem(_pointer(where), fix)
    if kind == "minLength":
        return ManifestProblem(_pointer(where), "is empty; write the text or remove the field")
    if kind in ("pattern", "oneOf", "format"):
        fix = hint or _ref_description(error) or f"text matching {schema.get('pattern', '')}"
        return ManifestProblem(
            _pointer(where), f"{error.instance!r} is not valid here; expected {fix}"
        )
    if kind == "uniqueItems":
        return ManifestProblem(_pointer(where), "list repeats an item; list each only once")
    return ManifestProblem(_pointer(where), str(error.message))


def _type_name(expected: object) -> str:
    names = {
        "string": "a string",
        "object": "a table/object",
        "array": "a list",
        "boolean": "true or false",
    }
    if isinstance(expected, str):
        return names.get(expected, expected)
    return " or ".join(names.get(str(e), str(e)) for e in expected)  # type: ignore[attr-defined]


def _ref_description(error: ValidationError) -> str | None:
    """Description of the ``$defs`` entry the failing value was checked against."""
    for parent in (error.parent, *(error.context or ())):
        if parent is not None and isinstance(parent.schema, Mapping):
            description = parent.schema.get("description")
            if description:
                return str(description)
    return None


# --- cross-checks -----------------------------------------------------------


def _objects(value: object) -> list[tuple[int, Mapping[str, Any]]]:
    """The mappings of a list, with their index; anything else yields nothing (the
    schema pass has already reported it)."""
    if not isinstance(value, list):
        return []
    return [(i, item) for i, item in enumerate(value) if isinstance(item, Mapping)]


def _missing_default(value: object, default: str) -> bool:
    return isinstance(value, Mapping) and default not in value


def _cross_check(data: Mapping[str, Any]) -> list[ManifestProblem]:
    problems: list[ManifestProblem] = []
    service = data.get("service")
    service = service if isinstance(service, Mapping) else {}
    default = service.get("default_language")
    languages = service.get("languages")
    if isinstance(default, str) and isinstance(languages, list) and default not in languages:
        problems.append(
            ManifestProblem(
                "/service/languages",
                f"does not list the default language {default!r}; add it to the list",
            )
        )
    no_default = (
        f"has no text in the service's default language {default!r}; add a {default!r} entry"
    )
    seen: dict[str, int] = {}
    uuids: dict[str, int] = {}
    for index, system in _objects(data.get("systems")):
        system_id = system.get("id")
        problems += _once(seen, system_id, index, "id", _DUPLICATE_ID)
        if isinstance(default, str):
            for name in _TEXT_FIELDS:
                if _missing_default(system.get(name), default):
                    problems.append(ManifestProblem(f"/systems/{index}/{name}", no_default))
            sources = system.get("data_sources")
            for position, value in enumerate(sources if isinstance(sources, list) else ()):
                if _missing_default(value, default):
                    problems.append(
                        ManifestProblem(f"/systems/{index}/data_sources/{position}", no_default)
                    )
        review = system.get("human_review")
        if isinstance(review, Mapping) and review.get("reviewed") is False and "by" in review:
            problems.append(
                ManifestProblem(
                    f"/systems/{index}/human_review/by",
                    "names a reviewer but 'reviewed' is false; set reviewed = true or remove 'by'",
                )
            )
        problems += _ai_act_problems(index, system)
        problems += _once(uuids, system.get("uuid"), index, "uuid", _DUPLICATE_UUID)
    known = ", ".join(sorted(seen)) or "none declared"
    paths: dict[str, int] = {}
    for index, route in _objects(data.get("routes")):
        path = route.get("path")
        if isinstance(path, str):
            if path in paths:
                problems.append(
                    ManifestProblem(
                        f"/routes/{index}/path",
                        f"duplicate route {path!r} (already /routes/{paths[path]}); "
                        "merge the two rules",
                    )
                )
            paths.setdefault(path, index)
        targets = route.get("systems")
        for position, system_id in enumerate(targets if isinstance(targets, list) else ()):
            if isinstance(system_id, str) and system_id not in seen:
                problems.append(
                    ManifestProblem(
                        f"/routes/{index}/systems/{position}",
                        f"unknown system {system_id!r}; declare it under [[systems]] "
                        f"or use one of: {known}",
                    )
                )
    return problems


_DUPLICATE_ID = (
    "duplicate system id {value!r} (already used by /systems/{first}); give each system its own id"
)
_DUPLICATE_UUID = (
    "duplicate uuid (already /systems/{first}/uuid); each system keeps its own: "
    "make a new one with python3 -c 'import uuid; print(uuid.uuid4())'"
)


def _once(
    seen: dict[str, int], value: object, index: int, field: str, message: str
) -> list[ManifestProblem]:
    """A problem if ``value`` was already given by an earlier system (``message``
    names the value and that system's index); else remembers it."""
    if not isinstance(value, str):
        return []
    if value in seen:
        return [
            ManifestProblem(
                f"/systems/{index}/{field}", message.format(value=value, first=seen[value])
            )
        ]
    seen[value] = index
    return []


def _ai_act_problems(index: int, system: Mapping[str, Any]) -> list[ManifestProblem]:
    """What the AI Act fields contradict: an Annex III area without high risk (or
    the reverse), the review exception without review, a prohibited system in use."""
    act = system.get("ai_act")
    if not isinstance(act, Mapping):
        return []
    at = f"/systems/{index}/ai_act"
    problems: list[ManifestProblem] = []
    risk, area = act.get("risk"), act.get("annex_iii_area")
    if risk == RiskCategory.HIGH_RISK and area is None:
        areas = ", ".join(repr(a.value) for a in AnnexIIIArea)
        problems.append(
            ManifestProblem(
                f"{at}/annex_iii_area",
                f"is required for a high-risk system; name its Annex III area: one of {areas}",
            )
        )
    elif area is not None and risk != RiskCategory.HIGH_RISK:
        problems.append(
            ManifestProblem(
                f"{at}/annex_iii_area",
                f"applies to high-risk systems only (risk is {risk!r}); "
                "set risk = 'high-risk' or remove annex_iii_area",
            )
        )
    if risk == RiskCategory.PROHIBITED and system.get("status", "in-use") != "retired":
        problems.append(
            ManifestProblem(
                f"{at}/risk",
                "a prohibited practice (AI Act Art. 5) may not be used; set the system's "
                "status = 'retired' once it is withdrawn, or correct the risk category",
            )
        )
    if "editorial_responsibility" in act:
        review = system.get("human_review")
        reviewed = review.get("reviewed") if isinstance(review, Mapping) else review
        if act.get("public_interest_text") is not True:
            problems.append(
                ManifestProblem(
                    f"{at}/editorial_responsibility",
                    "is the Art. 50(4) exception for text published to inform the public; "
                    "set public_interest_text = true or remove editorial_responsibility",
                )
            )
        if reviewed is False:
            problems.append(
                ManifestProblem(
                    f"{at}/editorial_responsibility",
                    "relies on the Art. 50(4) exception, which needs a person to review the "
                    "text first; set human_review = true (or a table with reviewed = true) or "
                    "remove editorial_responsibility and label the text",
                )
            )
    return problems


# --- building the model -----------------------------------------------------


def _text(value: object, default: str) -> Text:
    if isinstance(value, str):
        return MappingProxyType({default: value})
    assert isinstance(value, Mapping)
    return MappingProxyType(dict(value))


def _optional_text(value: object, default: str) -> Text | None:
    return None if value is None else _text(value, default)


def _build(data: Mapping[str, Any], source: str) -> Manifest:
    raw_service = data["service"]
    default = raw_service["default_language"]
    systems = tuple(_build_system(s, default) for s in data["systems"])
    routes = tuple(
        Route(path=r["path"], systems=tuple(r["systems"])) for r in data.get("routes", ())
    )
    languages = raw_service.get("languages") or _languages_used(systems, default)
    service = Service(
        id=raw_service["id"],
        name=raw_service["name"],
        operator=raw_service["operator"],
        contact=raw_service["contact"],
        default_language=default,
        languages=(default, *(lang for lang in languages if lang != default)),
        register_url=raw_service.get("register_url"),
        description=_optional_text(raw_service.get("description"), default),
    )
    frozen = MappingProxyType(json.loads(json.dumps(dict(data))))
    return Manifest(service=service, systems=systems, routes=routes, source=source, raw=frozen)


def _languages_used(systems: Sequence[System], default: str) -> list[str]:
    used: set[str] = set()
    for system in systems:
        for name in _TEXT_FIELDS:
            value = getattr(system, name)
            if value is not None:
                used.update(value)
    return [default, *sorted(used - {default})]


def _build_system(raw: Mapping[str, Any], default: str) -> System:
    review = raw["human_review"]
    if isinstance(review, bool):
        human_review = HumanReview(reviewed=review)
    else:
        human_review = HumanReview(reviewed=review["reviewed"], by=review.get("by"))
    ethics = raw.get("ethics_review")
    audit = raw.get("bias_audit")
    return System(
        id=raw["id"],
        name=_text(raw["name"], default),
        interaction=Interaction(raw["interaction"]),
        origin=Origin(raw["origin"]),
        human_review=human_review,
        purpose=_text(raw["purpose"], default),
        provider=raw.get("provider"),
        model=raw.get("model"),
        human_oversight=_optional_text(raw.get("human_oversight"), default),
        legal_basis=_optional_text(raw.get("legal_basis"), default),
        data_sources=tuple(_text(v, default) for v in raw.get("data_sources", ())),
        recourse=_optional_text(raw.get("recourse"), default),
        register_url=raw.get("register_url"),
        ethics_review=EthicsReview(
            status=EthicsStatus(ethics["status"]),
            date=ethics.get("date"),
            reference=ethics.get("reference"),
        )
        if ethics
        else None,
        bias_audit=BiasAudit(
            date=audit["date"],
            reference=audit.get("reference"),
            summary=_optional_text(audit.get("summary"), default),
        )
        if audit
        else None,
        status=SystemStatus(raw.get("status", SystemStatus.IN_USE)),
        audience=Audience(raw.get("audience", Audience.PUBLIC)),
        uuid=raw.get("uuid"),
        ai_act=_ai_act(raw.get("ai_act")),
        crpa=Automation(
            level=AutomationLevel(crpa["automation"]),
            decisions_per_year=crpa.get("decisions_per_year"),
        )
        if (crpa := raw.get("crpa"))
        else None,
        publication_category=PublicationCategory(raw["publication_category"])
        if "publication_category" in raw
        else None,
    )


def _ai_act(raw: Mapping[str, Any] | None) -> AIAct | None:
    if raw is None:
        return None
    role, risk, area = raw.get("role"), raw.get("risk"), raw.get("annex_iii_area")
    return AIAct(
        role=AIActRole(role) if role else None,
        risk=RiskCategory(risk) if risk else None,
        annex_iii_area=AnnexIIIArea(area) if area else None,
        public_interest_text=bool(raw.get("public_interest_text", False)),
        editorial_responsibility=raw.get("editorial_responsibility"),
    )
