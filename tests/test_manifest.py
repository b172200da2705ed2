"""Loading manifests: what loads, and a precise error for everything that does not."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from ai_disclosure import (
    Interaction,
    ManifestError,
    ManifestProblem,
    Origin,
    Problem,
    load_manifest,
)
from ai_disclosure._model import (
    AIAct,
    AIActRole,
    AnnexIIIArea,
    Automation,
    AutomationLevel,
    PublicationCategory,
    RiskCategory,
)

from .conftest import EXAMPLE_MANIFEST, MINIMAL_MANIFEST


def minimal() -> dict[str, Any]:
    data: dict[str, Any] = json.loads(MINIMAL_MANIFEST.read_text(encoding="utf-8"))
    return data


def test_the_minimal_manifest_loads_unchanged() -> None:
    manifest = load_manifest(MINIMAL_MANIFEST)
    assert manifest.service.id == "demarches"
    assert manifest.service.default_language == "fr"
    assert manifest.service.languages == ("fr", "en")
    system = manifest.system("assistant-dechets")
    assert system.interaction is Interaction.CHATBOT
    assert system.origin is Origin.AI_ORIGINATED
    assert system.human_review.reviewed is False
    assert system.name == {"fr": "Assistant tri des déchets"}
    assert system.purpose["en"] == "Answer questions about waste sorting."
    assert (system.provider, system.model) == ("Mistral AI", "mistral-small")
    assert manifest.routes[0].path == "/dechets/assistant*"
    assert manifest.routes[0].systems == ("assistant-dechets",)
    assert manifest.source == str(MINIMAL_MANIFEST)


def test_a_mapping_and_a_manifest_are_accepted_too() -> None:
    from_dict = load_manifest(minimal())
    assert from_dict.service.id == "demarches"
    assert load_manifest(from_dict) is from_dict


def test_toml_and_json_give_the_same_model(tmp_path: Path) -> None:
    toml = tmp_path / "m.toml"
    toml.write_text(
        """
[service]
id = "demarches"
name = "Démarches en ligne"
operator = "Montpellier Méditerranée Métropole"
contact = "mailto:ia@example.org"
default_language = "fr"

[[systems]]
id = "assistant-dechets"
name = "Assistant tri des déchets"
interaction = "chatbot"
origin = "ai-originated"
human_review = false
purpose.fr = "Répondre aux questions sur le tri des déchets."
purpose.en = "Answer questions about waste sorting."
provider = "Mistral AI"
model = "mistral-small"

[[routes]]
path = "/dechets/assistant*"
systems = ["assistant-dechets"]
""",
        encoding="utf-8",
    )
    from_toml = load_manifest(toml)
    from_json = load_manifest(MINIMAL_MANIFEST)
    assert from_toml.service == from_json.service
    assert from_toml.systems == from_json.systems
    assert from_toml.routes == from_json.routes


def test_the_montpellier_example_is_complete() -> None:
    manifest = load_manifest(EXAMPLE_MANIFEST)
    kinds = {s.id: s.interaction for s in manifest.systems}
    assert kinds == {
        "assistant-dechets": Interaction.CHATBOT,
        "detection-fuites": Interaction.AUTOMATED_DECISION,
        "tri-courrier": Interaction.DECISION_SUPPORT,
        "traduction-pages": Interaction.TRANSLATION,
    }
    assert manifest.system("detection-fuites").human_review.by == "Régie des eaux"
    assert manifest.system("tri-courrier").audience == "internal"
    assert {"fr", "en", "oc", "es", "ar"} <= set(manifest.service.languages)
    assert manifest.system("assistant-dechets").purpose["ar"]
    assert (
        manifest.text(manifest.system("tri-courrier").purpose, "oc")
        == (manifest.system("tri-courrier").purpose["fr"])
    )


def test_plain_strings_are_in_the_default_language() -> None:
    manifest = load_manifest(minimal())
    assert manifest.system("assistant-dechets").name == {"fr": "Assistant tri des déchets"}


def test_languages_default_to_those_the_texts_use_default_first() -> None:
    data = minimal()
    data["systems"][0]["purpose"]["ar"] = "..."
    assert load_manifest(data).service.languages == ("fr", "ar", "en")


def test_unknown_system_lookup_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known: assistant-dechets"):
        load_manifest(minimal()).system("nope")


# --- errors -----------------------------------------------------------------


def _mutated(change: Any) -> dict[str, Any]:
    data = copy.deepcopy(minimal())
    change(data)
    return data


def _add_second_system(data: dict[str, Any], **fields: Any) -> None:
    system = copy.deepcopy(data["systems"][0])
    system.update(fields)
    data["systems"].append(system)


BAD_MANIFESTS = [
    # (what, change, pointer, words the message must contain)
    ("no service", lambda d: d.pop("service"), "/service", "required field 'service'"),
    (
        "missing operator",
        lambda d: d["service"].pop("operator"),
        "/service/operator",
        "is missing; add it",
    ),
    (
        "upper-case id",
        lambda d: d["service"].update(id="Démarches"),
        "/service/id",
        "lower-case letters",
    ),
    (
        "contact without scheme",
        lambda d: d["service"].update(contact="ia@example.org"),
        "/service/contact",
        "mailto:",
    ),
    (
        "misspelt interaction",
        lambda d: d["systems"][0].update(interaction="chat-bot"),
        "/systems/0/interaction",
        "use one of 'chatbot'",
    ),
    (
        "unknown origin",
        lambda d: d["systems"][0].update(origin="ai-generated"),
        "/systems/0/origin",
        "'ai-originated'",
    ),
    (
        "human_review as text",
        lambda d: d["systems"][0].update(human_review="non"),
        "/systems/0/human_review",
        "true or false",
    ),
    (
        "misspelt field",
        lambda d: d["systems"][0].update(modle="x"),
        "/systems/0/modle",
        "unknown field 'modle'",
    ),
    (
        "duplicate system id",
        lambda d: _add_second_system(d),
        "/systems/1/id",
        "duplicate system id 'assistant-dechets'",
    ),
    (
        "route to unknown system",
        lambda d: d["routes"][0].update(systems=["assistant-dechet"]),
        "/routes/0/systems/0",
        "unknown system 'assistant-dechet'",
    ),
    (
        "no text in default language",
        lambda d: d["systems"][0].update(purpose={"en": "Answer questions."}),
        "/systems/0/purpose",
        "no text in the service's default language 'fr'",
    ),
    (
        "recourse without default language",
        lambda d: d["systems"][0].update(recourse={"en": "Call us."}),
        "/systems/0/recourse",
        "add a 'fr' entry",
    ),
    (
        "reviewer named but not reviewed",
        lambda d: d["systems"][0].update(human_review={"reviewed": False, "by": "X"}),
        "/systems/0/human_review/by",
        "'reviewed' is false",
    ),
    (
        "default language not listed",
        lambda d: d["service"].update(languages=["en"]),
        "/service/languages",
        "default language 'fr'",
    ),
    (
        "relative route",
        lambda d: d["routes"][0].update(path="dechets/*"),
        "/routes/0/path",
        "starting with '/'",
    ),
    (
        "duplicate route",
        lambda d: d["routes"].append(dict(d["routes"][0])),
        "/routes/1/path",
        "duplicate route",
    ),
    (
        "systems not a list",
        lambda d: d.update(systems={"id": "x"}),
        "/systems",
        "expected a list",
    ),
    ("empty name", lambda d: d["service"].update(name=""), "/service/name", "is empty"),
    (
        "uuid in upper case",
        lambda d: d["systems"][0].update(uuid="0F8FAD5B-D9CB-469F-A165-70867728950E"),
        "/systems/0/uuid",
        "a UUID in lower case",
    ),
    (
        "duplicate uuid",
        lambda d: (d["systems"][0].update(uuid=UUID), _add_second_system(d, id="autre")),
        "/systems/1/uuid",
        "duplicate uuid (already /systems/0/uuid)",
    ),
    (
        "misspelt risk",
        lambda d: d["systems"][0].update(ai_act={"risk": "high"}),
        "/systems/0/ai_act/risk",
        "use one of 'prohibited', 'high-risk', 'limited', 'minimal'",
    ),
    (
        "high risk without its area",
        lambda d: d["systems"][0].update(ai_act={"risk": "high-risk"}),
        "/systems/0/ai_act/annex_iii_area",
        "is required for a high-risk system; name its Annex III area: one of 'biometrics'",
    ),
    (
        "an area without high risk",
        lambda d: d["systems"][0].update(ai_act={"risk": "limited", "annex_iii_area": "education"}),
        "/systems/0/ai_act/annex_iii_area",
        "applies to high-risk systems only (risk is 'limited')",
    ),
    (
        "a prohibited practice in use",
        lambda d: d["systems"][0].update(ai_act={"risk": "prohibited"}),
        "/systems/0/ai_act/risk",
        "may not be used; set the system's status = 'retired'",
    ),
    (
        "the review exception without review",
        lambda d: d["systems"][0].update(
            ai_act={"public_interest_text": True, "editorial_responsibility": "La rédaction"}
        ),
        "/systems/0/ai_act/editorial_responsibility",
        "needs a person to review the text first; set human_review = true",
    ),
    (
        "the review exception for text that is not public-interest",
        lambda d: d["systems"][0].update(
            human_review=True, ai_act={"editorial_responsibility": "La rédaction"}
        ),
        "/systems/0/ai_act/editorial_responsibility",
        "set public_interest_text = true or remove editorial_responsibility",
    ),
    (
        "crpa without its automation level",
        lambda d: d["systems"][0].update(crpa={"decisions_per_year": 10}),
        "/systems/0/crpa/automation",
        "required field 'automation' is missing",
    ),
    (
        "negative decisions per year",
        lambda d: d["systems"][0].update(
            crpa={"automation": "decision-support", "decisions_per_year": -1}
        ),
        "/systems/0/crpa/decisions_per_year",
        "minimum",
    ),
    (
        "unknown publication category",
        lambda d: d["systems"][0].update(publication_category="impact"),
        "/systems/0/publication_category",
        "use one of 'high-risk-ai', 'impactful', 'other'",
    ),
]

UUID = "0f8fad5b-d9cb-469f-a165-70867728950e"


def test_the_texts_in_force_load_into_the_model() -> None:
    data = minimal()
    data["systems"][0].update(
        uuid=UUID,
        human_review={"reviewed": True, "by": "La rédaction"},
        ai_act={
            "role": "deployer",
            "risk": "high-risk",
            "annex_iii_area": "essential-services",
            "public_interest_text": True,
            "editorial_responsibility": "Direction de la communication",
        },
        crpa={"automation": "decision-support", "decisions_per_year": 12000},
        publication_category="high-risk-ai",
    )
    system = load_manifest(data).systems[0]
    assert system.uuid == UUID
    assert system.ai_act == AIAct(
        AIActRole.DEPLOYER,
        RiskCategory.HIGH_RISK,
        AnnexIIIArea.ESSENTIAL_SERVICES,
        public_interest_text=True,
        editorial_responsibility="Direction de la communication",
    )
    assert system.ai_act.relies_on_review_exception
    assert system.crpa == Automation(AutomationLevel.DECISION_SUPPORT, 12000)
    assert system.publication_category is PublicationCategory.HIGH_RISK_AI
    bare = load_manifest(minimal()).systems[0]
    assert (bare.uuid, bare.ai_act, bare.crpa, bare.publication_category) == (None,) * 4


@pytest.mark.parametrize(
    ("change", "pointer", "words"),
    [case[1:] for case in BAD_MANIFESTS],
    ids=[case[0] for case in BAD_MANIFESTS],
)
def test_each_bad_manifest_names_file_field_and_fix(
    tmp_path: Path, change: Any, pointer: str, words: str
) -> None:
    path = tmp_path / "ai-disclosure.json"
    path.write_text(json.dumps(_mutated(change)), encoding="utf-8")
    with pytest.raises(ManifestError) as caught:
        load_manifest(path)
    error = caught.value
    assert error.source == str(path)
    matching = [p for p in error.problems if p.pointer == pointer]
    assert matching, f"no problem at {pointer}: {error}"
    assert any(words in p.message for p in matching), str(error)
    assert f"{path}#{pointer}: " in str(error)


def test_every_problem_is_reported_at_once() -> None:
    def break_everything(d: dict[str, Any]) -> None:
        d["service"]["id"] = "Bad Id"
        d["systems"][0]["interaction"] = "chat"
        d["systems"][0]["purpose"] = {"en": "x"}
        d["routes"][0]["systems"] = ["ghost"]

    with pytest.raises(ManifestError) as caught:
        load_manifest(_mutated(break_everything))
    pointers = {p.pointer for p in caught.value.problems}
    assert {
        "/service/id",
        "/systems/0/interaction",
        "/systems/0/purpose",
        "/routes/0/systems/0",
    } <= pointers
    assert str(caught.value).startswith("<manifest>: 4 problems")


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("m.json", "{ not json", "invalid JSON at line 1 column 3"),
        ("m.json", "[1, 2]", "must be a JSON object"),
        ("m.toml", "[service\nid = 1", "invalid TOML"),
        ("m.yaml", "service: {}", "name it .toml or .json"),
    ],
)
def test_unreadable_files_say_why(tmp_path: Path, name: str, content: str, words: str) -> None:
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ManifestError, match=words) as caught:
        load_manifest(path)
    assert str(path) in str(caught.value)


def test_missing_file_is_a_manifest_error(tmp_path: Path) -> None:
    with pytest.raises(ManifestError, match="cannot read the file"):
        load_manifest(tmp_path / "absent.toml")


def test_unquoted_toml_date_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "m.toml"
    source = EXAMPLE_MANIFEST.read_text(encoding="utf-8")
    path.write_text(source.replace('date = "2026-03-12"', "date = 2026-03-12"), encoding="utf-8")
    with pytest.raises(ManifestError, match="quote dates in TOML") as caught:
        load_manifest(path)
    assert caught.value.problems[0].pointer == "/systems/0/ethics_review/date"


def test_manifest_is_immutable() -> None:
    manifest = load_manifest(MINIMAL_MANIFEST)
    source = json.loads(MINIMAL_MANIFEST.read_text(encoding="utf-8"))
    assert manifest.system("assistant-dechets").purpose == source["systems"][0]["purpose"]
    with pytest.raises(AttributeError):
        manifest.service = manifest.service  # type: ignore[misc]
    with pytest.raises(TypeError):
        manifest.system("assistant-dechets").purpose["fr"] = "x"  # type: ignore[index]


def test_problem_stays_importable_under_its_former_name() -> None:
    assert Problem is ManifestProblem
    with pytest.raises(ManifestError) as caught:
        load_manifest({"service": {}, "systems": []})
    assert all(isinstance(p, ManifestProblem) for p in caught.value.problems)
