"""The three facts and every vocabulary derived from them, row by row."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Any

import pytest

from ai_disclosure import HumanReview, Interaction, Origin, System, involvement, load_manifest
from ai_disclosure._model import (
    DISCLOSURE_VALUES,
    IPTC_BASE,
    MODES,
    VOCABULARY,
    AIActRole,
    AnnexIIIArea,
    Audience,
    AutomationLevel,
    EthicsStatus,
    EUIcon,
    PublicationCategory,
    RiskCategory,
    SystemStatus,
    W3CValue,
)
from ai_disclosure._patterns import resolve
from ai_disclosure._receipts import ReceiptStatus
from ai_disclosure._schemas import SCHEMA_NAMES, load_schema
from ai_disclosure.registry.changes import ChangeKind
from ai_disclosure.registry.responses import load_response_schema, response_schemas

IPTC = IPTC_BASE

# origin, reviewed -> IETF mode, W3C value, IPTC digital source type, EU icon
TABLE = [
    (Origin.NONE, False, "none", W3CValue.HUMAN_ONLY, IPTC + "digitalCreation", EUIcon.AI),
    (Origin.NONE, True, "none", W3CValue.HUMAN_ONLY, IPTC + "digitalCreation", EUIcon.AI),
    (
        Origin.MACHINE_GENERATED,
        False,
        "machine-generated",
        W3CValue.AI_AUTONOMOUS,
        IPTC + "algorithmicMedia",
        EUIcon.AI,
    ),
    (
        Origin.MACHINE_GENERATED,
        True,
        "machine-generated",
        W3CValue.AI_ASSISTED,
        IPTC + "algorithmicMedia",
        EUIcon.AI,
    ),
    (
        Origin.AI_MODIFIED,
        False,
        "ai-modified",
        W3CValue.AI_AUTONOMOUS,
        IPTC + "compositeWithTrainedAlgorithmicMedia",
        EUIcon.AI_MODIFIED,
    ),
    (
        Origin.AI_MODIFIED,
        True,
        "ai-modified",
        W3CValue.AI_ASSISTED,
        IPTC + "compositeWithTrainedAlgorithmicMedia",
        EUIcon.AI_MODIFIED,
    ),
    (
        Origin.AI_ORIGINATED,
        False,
        "ai-originated",
        W3CValue.AI_AUTONOMOUS,
        IPTC + "trainedAlgorithmicMedia",
        EUIcon.AI_GENERATED,
    ),
    (
        Origin.AI_ORIGINATED,
        True,
        "ai-originated",
        W3CValue.AI_ASSISTED,
        IPTC + "trainedAlgorithmicMedia",
        EUIcon.AI_GENERATED,
    ),
]


def make(
    system_id: str = "s",
    origin: Origin = Origin.AI_ORIGINATED,
    reviewed: bool = False,
    interaction: Interaction = Interaction.CONTENT_GENERATION,
    by: str | None = None,
) -> System:
    return System(
        id=system_id,
        name={"fr": system_id},
        interaction=interaction,
        origin=origin,
        human_review=HumanReview(reviewed, by),
        purpose={"fr": "p"},
    )


def test_the_table_covers_every_origin_reviewed_or_not() -> None:
    assert {(row[0], row[1]) for row in TABLE} == {
        (origin, reviewed) for origin in Origin for reviewed in (False, True)
    }


def test_the_one_source_table_is_this_table() -> None:
    assert {
        (origin, reviewed): (v.ietf_mode, v.w3c, v.iptc, v.eu_icon)
        for (origin, reviewed), v in VOCABULARY.items()
    } == {(row[0], row[1]): row[2:] for row in TABLE}


def test_every_w3c_value_and_every_older_one_is_read() -> None:
    assert {value: DISCLOSURE_VALUES[value] for value in W3CValue} == {
        "human-only": False,
        "ai-assisted": True,
        "ai-autonomous": True,
    }
    older = {"none": False, "ai-generated": True, "autonomous": True, "mixed": True}
    assert {value: DISCLOSURE_VALUES[value] for value in older} == older
    assert {mode: DISCLOSURE_VALUES[mode] for mode in MODES} == {m: m != "none" for m in MODES}


def test_the_script_marks_exactly_the_ai_values() -> None:
    core = Path(__file__).parents[1] / "widgets" / "ai-notice-core.js"
    script = core.read_text(encoding="utf-8")
    block = re.search(r"const MARKS = \{(.*?)\n\};", script, re.S)
    assert block is not None
    keys = {key.strip('"') for key in re.findall(r'^\s*("[a-z-]+"|[a-z]+):', block[1], re.M)}
    assert keys == {value for value, ai in DISCLOSURE_VALUES.items() if ai}


@pytest.mark.parametrize(("origin", "reviewed", "mode", "w3c", "iptc", "icon"), TABLE)
@pytest.mark.parametrize("interaction", list(Interaction))
def test_vocabularies_derive_from_origin_and_review_only(
    origin: Origin,
    reviewed: bool,
    mode: str,
    w3c: W3CValue,
    iptc: str,
    icon: EUIcon,
    interaction: Interaction,
) -> None:
    system = make(origin=origin, reviewed=reviewed, interaction=interaction)
    assert system.ietf_mode == mode
    assert system.w3c_value is w3c
    assert system.iptc_digital_source_type == iptc
    assert system.eu_icon is icon
    combined = involvement([system])
    assert (combined.ietf_mode, combined.w3c_value, combined.iptc_digital_source_type) == (
        mode,
        w3c if origin is not Origin.NONE else W3CValue.HUMAN_ONLY,
        iptc,
    )


def test_only_chatbots_are_chatbots() -> None:
    assert [i for i in Interaction if make(interaction=i).is_chatbot] == [Interaction.CHATBOT]


def test_no_system_means_no_ai() -> None:
    combined = involvement([])
    assert not combined.involves_ai
    assert combined.ietf_mode == "none"
    assert combined.w3c_value is W3CValue.HUMAN_ONLY


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        ([Origin.NONE, Origin.MACHINE_GENERATED], Origin.MACHINE_GENERATED),
        ([Origin.MACHINE_GENERATED, Origin.AI_MODIFIED], Origin.AI_MODIFIED),
        ([Origin.AI_MODIFIED, Origin.AI_ORIGINATED, Origin.NONE], Origin.AI_ORIGINATED),
    ],
)
def test_the_strongest_origin_wins(origins: list[Origin], expected: Origin) -> None:
    systems = [make(f"s{i}", origin) for i, origin in enumerate(origins)]
    assert involvement(systems).origin is expected
    assert involvement(reversed(systems)).origin is expected


def test_reviewed_only_when_every_content_shaping_system_is() -> None:
    reviewed = make("a", Origin.AI_ORIGINATED, reviewed=True)
    unreviewed = make("b", Origin.AI_MODIFIED, reviewed=False)
    internal = make("c", Origin.NONE, reviewed=False, interaction=Interaction.DECISION_SUPPORT)
    assert involvement([reviewed]).w3c_value is W3CValue.AI_ASSISTED
    assert involvement([reviewed, unreviewed]).w3c_value is W3CValue.AI_AUTONOMOUS
    # A system whose output people do not see does not weaken the review claim.
    assert involvement([reviewed, internal]).w3c_value is W3CValue.AI_ASSISTED


def test_systems_are_counted_once() -> None:
    system = make("a")
    assert len(involvement([system, system]).systems) == 1


# --- Each closed vocabulary is the schema's ----------------------------------

_SYSTEM = "/$defs/system/properties"

#: Every ``enum`` of the schemas, and the StrEnum that holds its values in code.
VOCABULARIES: list[tuple[type[StrEnum], str, str]] = [
    (Interaction, "manifest", f"{_SYSTEM}/interaction"),
    (Origin, "manifest", f"{_SYSTEM}/origin"),
    (Origin, "disclosure-batch", "/$defs/count/properties/mode"),
    (SystemStatus, "manifest", f"{_SYSTEM}/status"),
    (Audience, "manifest", f"{_SYSTEM}/audience"),
    (EthicsStatus, "manifest", f"{_SYSTEM}/ethics_review/properties/status"),
    (AIActRole, "manifest", f"{_SYSTEM}/ai_act/properties/role"),
    (RiskCategory, "manifest", f"{_SYSTEM}/ai_act/properties/risk"),
    (AnnexIIIArea, "manifest", f"{_SYSTEM}/ai_act/properties/annex_iii_area"),
    (AutomationLevel, "manifest", f"{_SYSTEM}/crpa/properties/automation"),
    (PublicationCategory, "manifest", f"{_SYSTEM}/publication_category"),
]


#: The same for the registry's answers (``schemas/`` files no request uses).
ANSWER_VOCABULARIES: list[tuple[type[StrEnum], str, str]] = [
    (ReceiptStatus, "batch-receipt", "/properties/status"),
    (ChangeKind, "register-system", "/properties/history/items/properties/change"),
]


def _enums(node: Any, pointer: str = "") -> Iterator[str]:
    if isinstance(node, dict):
        if "enum" in node:
            yield pointer
        for key, value in node.items():
            yield from _enums(value, f"{pointer}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _enums(value, f"{pointer}/{index}")


def _drift(vocabulary: type[StrEnum], stated: list[str]) -> set[str]:
    """Values in the schema or in code but not in both."""
    return {v.value for v in vocabulary} ^ set(stated)


def test_every_schema_enum_has_its_vocabulary() -> None:
    """A new closed field in a schema fails here until _model has its StrEnum."""
    found = {(name, p) for name in SCHEMA_NAMES for p in _enums(load_schema(name))}
    assert found == {(schema, pointer) for _, schema, pointer in VOCABULARIES}


def test_every_answer_enum_has_its_vocabulary() -> None:
    """The exports state other registers' vocabularies, which their own tests hold
    them to (each export is validated against its schema); every other closed field
    of an answer is a StrEnum the registry writes."""
    found = {
        (name, p)
        for name in response_schemas()
        if not name.startswith("export-")
        for p in _enums(load_response_schema(name))
    }
    assert found == {(schema, pointer) for _, schema, pointer in ANSWER_VOCABULARIES}


@pytest.mark.parametrize(("vocabulary", "schema", "pointer"), ANSWER_VOCABULARIES)
def test_each_answer_vocabulary_is_the_schemas(
    vocabulary: type[StrEnum], schema: str, pointer: str
) -> None:
    stated = resolve(load_response_schema(schema), pointer)["enum"]
    assert [v.value for v in vocabulary] == stated


@pytest.mark.parametrize(("vocabulary", "schema", "pointer"), VOCABULARIES)
def test_each_vocabulary_is_the_schemas(
    vocabulary: type[StrEnum], schema: str, pointer: str
) -> None:
    stated = resolve(load_schema(schema), pointer)["enum"]
    assert _drift(vocabulary, stated) == set()
    assert len(stated) == len(set(stated)) == len(vocabulary)


def test_a_value_added_to_the_schema_alone_is_caught() -> None:
    """The "new manifest field" recipe: the enum and the schema are written in two
    places, and the equality above is what keeps them one."""
    schema = copy.deepcopy(load_schema("manifest"))
    schema["$defs"]["system"]["properties"]["status"]["enum"].append("suspended")
    stated = resolve(schema, f"{_SYSTEM}/status")["enum"]
    assert _drift(SystemStatus, stated) == {"suspended"}


def test_modes_are_the_origins() -> None:
    assert {"none", "ai-modified", "ai-originated", "machine-generated"} == MODES
    assert all(type(mode) is str for mode in MODES)


# Origin is declared weakest first, as ORIGIN_RANK ranks it, not in the schema's order.
@pytest.mark.parametrize(
    ("vocabulary", "schema", "pointer"), [v for v in VOCABULARIES if v[0] is not Origin]
)
def test_vocabularies_keep_the_schemas_order(
    vocabulary: type[StrEnum], schema: str, pointer: str
) -> None:
    """The register's filters and its OpenAPI document list values in this order."""
    assert [v.value for v in vocabulary] == resolve(load_schema(schema), pointer)["enum"]


def test_defaults_are_the_schemas() -> None:
    system = load_schema("manifest")["$defs"]["system"]["properties"]
    assert system["status"]["default"] == System.__dataclass_fields__["status"].default
    assert system["audience"]["default"] == System.__dataclass_fields__["audience"].default


def test_a_loaded_manifest_holds_members_that_serialise_as_their_values() -> None:
    manifest = load_manifest(
        {
            "service": {
                "id": "dechets",
                "name": "Déchets",
                "operator": "Montpellier Méditerranée Métropole",
                "contact": "mailto:ia@example.org",
                "default_language": "fr",
            },
            "systems": [
                {
                    "id": "tri",
                    "name": "Tri",
                    "interaction": "decision-support",
                    "origin": "none",
                    "human_review": True,
                    "purpose": "Trier le courrier",
                    "status": "retired",
                    "ethics_review": {"status": "approved-with-conditions"},
                }
            ],
        }
    )
    (system,) = manifest.systems
    assert system.status is SystemStatus.RETIRED
    assert system.audience is Audience.PUBLIC
    assert system.ethics_review is not None
    assert system.ethics_review.status is EthicsStatus.APPROVED_WITH_CONDITIONS
    as_json = json.dumps([system.status, system.audience, system.ethics_review.status])
    assert as_json == '["retired", "public", "approved-with-conditions"]'
    assert f"{system.status}" == "retired"
