"""The disclosure model: a service, its AI systems and the routes they serve.

Each system states three independent facts: how people meet it (*interaction*),
where what they see comes from (*origin*) and whether a human checked it
(*human review*). Every vocabulary published to the outside world - the IETF
``AI-Disclosure`` mode, the W3C ``ai-disclosure`` meta value, the IPTC digital
source type, the EU Code of Practice icon - is derived from these facts here,
in one table each, and nowhere else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType

__all__ = [
    "DISCLOSURE_VALUES",
    "MODES",
    "VOCABULARY",
    "AIAct",
    "AIActRole",
    "AnnexIIIArea",
    "Audience",
    "Automation",
    "AutomationLevel",
    "BiasAudit",
    "EthicsReview",
    "EthicsStatus",
    "HumanReview",
    "Interaction",
    "Involvement",
    "Manifest",
    "Origin",
    "PublicationCategory",
    "RiskCategory",
    "Route",
    "Service",
    "System",
    "SystemStatus",
    "Text",
    "Vocabulary",
    "involvement",
    "vocabulary",
]

#: Localised text: language tag -> text. Always holds the service's default language.
Text = Mapping[str, str]

IPTC_BASE = "http://cv.iptc.org/newscodes/digitalsourcetype/"


class Interaction(StrEnum):
    """How a person meets the AI system."""

    CHATBOT = "chatbot"
    CONTENT_GENERATION = "content-generation"
    DECISION_SUPPORT = "decision-support"
    AUTOMATED_DECISION = "automated-decision"
    TRANSLATION = "translation"
    OTHER = "other"


class Origin(StrEnum):
    """Where what the person sees comes from (the IETF draft's modes)."""

    NONE = "none"
    MACHINE_GENERATED = "machine-generated"
    AI_MODIFIED = "ai-modified"
    AI_ORIGINATED = "ai-originated"


#: The IETF ``AI-Disclosure`` modes, which are the origins' values: what a
#: disclosure batch's ``mode`` may be. Plain strings, for membership tests on
#: values read from the wire.
MODES: frozenset[str] = frozenset(o.value for o in Origin)


class SystemStatus(StrEnum):
    """Where a system is in its life; the register shows it and filters by it."""

    IN_USE = "in-use"
    IN_DEVELOPMENT = "in-development"
    RETIRED = "retired"


class Audience(StrEnum):
    """Who uses the system: the public, or staff only (citizens see its effects)."""

    PUBLIC = "public"
    INTERNAL = "internal"


class EthicsStatus(StrEnum):
    """An ethics committee's opinion on a system."""

    APPROVED = "approved"
    APPROVED_WITH_CONDITIONS = "approved-with-conditions"
    PENDING = "pending"
    REJECTED = "rejected"
    NOT_REVIEWED = "not-reviewed"


class AIActRole(StrEnum):
    """The public body's role for a system under AI Act Art. 50."""

    DEPLOYER = "deployer"
    PROVIDER = "provider"


class RiskCategory(StrEnum):
    """The AI Act risk category of a system."""

    PROHIBITED = "prohibited"
    HIGH_RISK = "high-risk"
    LIMITED = "limited"
    MINIMAL = "minimal"


class AnnexIIIArea(StrEnum):
    """The AI Act Annex III areas (points 1 to 8) that make a system high-risk."""

    BIOMETRICS = "biometrics"
    CRITICAL_INFRASTRUCTURE = "critical-infrastructure"
    EDUCATION = "education"
    EMPLOYMENT = "employment"
    ESSENTIAL_SERVICES = "essential-services"
    LAW_ENFORCEMENT = "law-enforcement"
    MIGRATION = "migration"
    JUSTICE_DEMOCRACY = "justice-democracy"


class AutomationLevel(StrEnum):
    """An algorithm's share in individual decisions (France, CRPA L311-3-1)."""

    DECISION_SUPPORT = "decision-support"
    FULLY_AUTOMATED = "fully-automated"


class PublicationCategory(StrEnum):
    """A register's publication category (Dutch algorithm register standard v1.0)."""

    HIGH_RISK_AI = "high-risk-ai"
    IMPACTFUL = "impactful"
    OTHER = "other"


class W3CValue(StrEnum):
    """Values of the W3C AI Content Disclosure ``ai-disclosure`` meta/attribute."""

    HUMAN_ONLY = "human-only"
    AI_ASSISTED = "ai-assisted"
    AI_AUTONOMOUS = "ai-autonomous"


class EUIcon(StrEnum):
    """Variants of the EU Code of Practice AI label."""

    AI = "ai"
    AI_GENERATED = "ai-generated"
    AI_MODIFIED = "ai-modified"


# --- The derivation table. Tests walk every row. ------------------------------

#: Strength of an origin when several systems shape one response: the strongest
#: claim wins, so a page is never described as less AI-made than it is.
ORIGIN_RANK: Mapping[Origin, int] = MappingProxyType(
    {
        Origin.NONE: 0,
        Origin.MACHINE_GENERATED: 1,
        Origin.AI_MODIFIED: 2,
        Origin.AI_ORIGINATED: 3,
    }
)


@dataclass(frozen=True, slots=True)
class Vocabulary:
    """One combination of the facts as each outside vocabulary says it: the W3C
    ``ai-disclosure`` value, the IETF ``AI-Disclosure`` mode, the IPTC digital
    source type (schema.org's ``digitalSourceType``) and the EU Code of Practice
    icon."""

    w3c: W3CValue
    ietf_mode: str
    iptc: str
    eu_icon: EUIcon


def _row(origin: Origin, w3c: W3CValue, iptc: str, icon: EUIcon) -> Vocabulary:
    return Vocabulary(w3c, origin.value, IPTC_BASE + iptc, icon)


_H, _A, _U = W3CValue.HUMAN_ONLY, W3CValue.AI_ASSISTED, W3CValue.AI_AUTONOMOUS

#: The one table: (origin, human-reviewed) -> every published vocabulary. The W3C
#: value asks two questions (AI involved? a person reviewed it before
#: publication?); the EU icon is generic where the output is not itself AI-made
#: (decision support, rule-based output), though AI is still involved.
VOCABULARY: Mapping[tuple[Origin, bool], Vocabulary] = MappingProxyType(
    {
        (Origin.NONE, False): _row(Origin.NONE, _H, "digitalCreation", EUIcon.AI),
        (Origin.NONE, True): _row(Origin.NONE, _H, "digitalCreation", EUIcon.AI),
        (Origin.MACHINE_GENERATED, False): _row(
            Origin.MACHINE_GENERATED, _U, "algorithmicMedia", EUIcon.AI
        ),
        (Origin.MACHINE_GENERATED, True): _row(
            Origin.MACHINE_GENERATED, _A, "algorithmicMedia", EUIcon.AI
        ),
        (Origin.AI_MODIFIED, False): _row(
            Origin.AI_MODIFIED, _U, "compositeWithTrainedAlgorithmicMedia", EUIcon.AI_MODIFIED
        ),
        (Origin.AI_MODIFIED, True): _row(
            Origin.AI_MODIFIED, _A, "compositeWithTrainedAlgorithmicMedia", EUIcon.AI_MODIFIED
        ),
        (Origin.AI_ORIGINATED, False): _row(
            Origin.AI_ORIGINATED, _U, "trainedAlgorithmicMedia", EUIcon.AI_GENERATED
        ),
        (Origin.AI_ORIGINATED, True): _row(
            Origin.AI_ORIGINATED, _A, "trainedAlgorithmicMedia", EUIcon.AI_GENERATED
        ),
    }
)

#: Every ``ai-disclosure`` value read in pages (meta content or element
#: attribute) -> whether it says AI is involved: the W3C report's values; those
#: of the earlier AI Content Disclosure explainer (``none``, ``ai-generated``,
#: ``autonomous``, ``mixed``); and the IETF modes, which scripts of the time
#: wrote on elements. ``check`` and ``ai-notice.js`` accept exactly
#: these. Compared in lower case.
DISCLOSURE_VALUES: Mapping[str, bool] = MappingProxyType(
    {
        **{value.value: value is not W3CValue.HUMAN_ONLY for value in W3CValue},
        "none": False,
        "ai-generated": True,
        "autonomous": True,
        "mixed": True,
        **{origin.value: origin is not Origin.NONE for origin in Origin},
    }
)


def vocabulary(origin: Origin, reviewed: bool) -> Vocabulary:
    """How ``origin`` with or without human review is said in every vocabulary."""
    return VOCABULARY[origin, reviewed]


@dataclass(frozen=True, slots=True)
class HumanReview:
    """Whether a human checks the system's output before it reaches people."""

    reviewed: bool
    by: str | None = None


@dataclass(frozen=True, slots=True)
class EthicsReview:
    """Opinion of an ethics committee on the system."""

    status: EthicsStatus
    date: str | None = None
    reference: str | None = None


@dataclass(frozen=True, slots=True)
class BiasAudit:
    """The latest audit of the system for bias or discrimination."""

    date: str
    reference: str | None = None
    summary: Text | None = None


@dataclass(frozen=True, slots=True)
class AIAct:
    """What the EU AI Act says of a system, as the service reads it."""

    role: AIActRole | None = None
    risk: RiskCategory | None = None
    annex_iii_area: AnnexIIIArea | None = None
    public_interest_text: bool = False
    editorial_responsibility: str | None = None

    @property
    def relies_on_review_exception(self) -> bool:
        """Public-interest text reviewed under someone's editorial responsibility:
        the Art. 50(4) exception to labelling it."""
        return self.public_interest_text and self.editorial_responsibility is not None


@dataclass(frozen=True, slots=True)
class Automation:
    """What France's CRPA asks of an algorithm behind individual decisions."""

    level: AutomationLevel
    decisions_per_year: int | None = None


@dataclass(frozen=True, slots=True)
class System:
    """One AI system used by a service, with everything the public may know of it."""

    id: str
    name: Text
    interaction: Interaction
    origin: Origin
    human_review: HumanReview
    purpose: Text
    provider: str | None = None
    model: str | None = None
    human_oversight: Text | None = None
    legal_basis: Text | None = None
    data_sources: tuple[Text, ...] = ()
    recourse: Text | None = None
    register_url: str | None = None
    ethics_review: EthicsReview | None = None
    bias_audit: BiasAudit | None = None
    status: SystemStatus = SystemStatus.IN_USE
    audience: Audience = Audience.PUBLIC
    uuid: str | None = None
    ai_act: AIAct | None = None
    crpa: Automation | None = None
    publication_category: PublicationCategory | None = None

    @property
    def vocabulary(self) -> Vocabulary:
        return VOCABULARY[self.origin, self.human_review.reviewed]

    @property
    def ietf_mode(self) -> str:
        """The ``mode`` token of the IETF ``AI-Disclosure`` header."""
        return self.vocabulary.ietf_mode

    @property
    def w3c_value(self) -> W3CValue:
        return self.vocabulary.w3c

    @property
    def iptc_digital_source_type(self) -> str:
        return self.vocabulary.iptc

    @property
    def eu_icon(self) -> EUIcon:
        return self.vocabulary.eu_icon

    @property
    def is_chatbot(self) -> bool:
        """People talk to it: its notice is never dismissible (AI Act Art. 50(1))."""
        return self.interaction is Interaction.CHATBOT


@dataclass(frozen=True, slots=True)
class Route:
    """A path pattern and the systems involved in responses to it.

    ``*`` in ``path`` matches any run of characters, ``/`` included.
    """

    path: str
    systems: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Service:
    """The digital service that publishes the manifest."""

    id: str
    name: str
    operator: str
    contact: str
    default_language: str
    languages: tuple[str, ...] = ()
    register_url: str | None = None
    description: Text | None = None


@dataclass(frozen=True, slots=True)
class Manifest:
    """A service's declaration of the AI systems it uses and where."""

    service: Service
    systems: tuple[System, ...]
    routes: tuple[Route, ...] = ()
    source: str = "<manifest>"  # where it was read from, for messages
    raw: Mapping[str, object] = field(default_factory=dict, compare=False, repr=False)

    def system(self, system_id: str) -> System:
        """The system with this id; ``KeyError`` naming the known ids otherwise."""
        for system in self.systems:
            if system.id == system_id:
                return system
        known = ", ".join(s.id for s in self.systems) or "none"
        raise KeyError(f"no AI system {system_id!r} in {self.source} (known: {known})")

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language the manifest has text in, default language first."""
        return self.service.languages

    def text(self, text: Text | None, language: str) -> str | None:
        """``text`` in ``language``, else in the service's default language."""
        if text is None:
            return None
        return text.get(language) or text.get(self.service.default_language)

    def register_url_for(self, system: System) -> str:
        """Where people learn more about ``system``: its register entry.

        The system's own ``register_url`` wins; else the service's register base
        URL followed by ``/systems/{service}/{system}``; else the service's
        well-known manifest.
        """
        if system.register_url:
            return system.register_url
        if self.service.register_url:
            base = self.service.register_url.rstrip("/")
            return f"{base}/systems/{self.service.id}/{system.id}"
        return "/.well-known/ai-disclosure"


@dataclass(frozen=True, slots=True)
class Involvement:
    """What a response says about AI, combined over all the systems it involves."""

    systems: tuple[System, ...]
    origin: Origin
    reviewed: bool

    @property
    def involves_ai(self) -> bool:
        return bool(self.systems)

    @property
    def vocabulary(self) -> Vocabulary:
        return VOCABULARY[self.origin, self.reviewed]

    @property
    def ietf_mode(self) -> str:
        return self.vocabulary.ietf_mode

    @property
    def w3c_value(self) -> W3CValue:
        return self.vocabulary.w3c

    @property
    def iptc_digital_source_type(self) -> str:
        return self.vocabulary.iptc

    @property
    def shaping(self) -> tuple[System, ...]:
        """The systems whose output people see (origin other than ``none``)."""
        return tuple(s for s in self.systems if s.origin is not Origin.NONE)

    @property
    def model(self) -> str | None:
        """The model, when every system shaping the content names the same one: a
        response-wide statement names one only when there is just one."""
        return _shared(s.model for s in self.shaping)

    @property
    def provider(self) -> str | None:
        """The provider, on the same terms as :attr:`model`."""
        return _shared(s.provider for s in self.shaping)

    @property
    def reviewed_by(self) -> str | None:
        """Who reviewed, when the content is reviewed and all reviewers are one."""
        return _shared(s.human_review.by for s in self.shaping) if self.reviewed else None


def _shared(values: Iterable[str | None]) -> str | None:
    """The one value all agree on, else None."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def involvement(systems: Iterable[System]) -> Involvement:
    """Combine systems: the strongest origin wins; reviewed only if all AI content is.

    Systems whose origin is ``none`` (their output is not what people see) do not
    weaken the review claim of those whose output is.
    """
    chosen = tuple({s.id: s for s in systems}.values())
    origin = max((s.origin for s in chosen), key=ORIGIN_RANK.__getitem__, default=Origin.NONE)
    shaping = [s for s in chosen if s.origin is not Origin.NONE]
    reviewed = all(s.human_review.reviewed for s in shaping) if shaping else False
    return Involvement(systems=chosen, origin=origin, reviewed=reviewed)
